#!/bin/sh
# Installs the Debian package on this machine, runs the installed service the way its systemd unit does (the
# unit's ExecStart as the unit's User, with the RuntimeDirectory created as systemd would: systemd itself need not
# run), drives one milter-test-server session through it, reloads it with SIGHUP, stops it with SIGTERM, then
# purges the package and removes what the test created. Root only; it refuses to touch a machine where the
# package is already installed.
#
# Usage: package-smoke-test.sh PATH/milter-manager_VERSION_all.deb
set -eu

deb=${1:?usage: $0 DEB}
wait_seconds=90
work=$(mktemp -d)
manager_pid=
child_pid=
created_user=

say() {
    echo "[package-smoke-test] $*"
}

fail() {
    say "FAILED: $*"
    for log in "$work"/*.log; do
        [ -f "$log" ] && { echo "----- $log"; cat "$log"; }
    done
    exit 1
}

cleanup() {
    status=$?
    set +e
    [ -n "$manager_pid" ] && kill -KILL "$manager_pid" 2>/dev/null
    [ -n "$child_pid" ] && kill -TERM "$child_pid" 2>/dev/null
    [ -n "$child_pid" ] && wait "$child_pid" 2>/dev/null
    rm -f /etc/milter-manager/milter-manager.local.conf
    if dpkg -s milter-manager >/dev/null 2>&1; then
        dpkg --purge milter-manager >"$work/purge-on-exit.log" 2>&1
    fi
    if [ -n "$created_user" ]; then
        getent passwd milter-manager >/dev/null && deluser --quiet --system milter-manager >/dev/null 2>&1
        getent group milter-manager >/dev/null && delgroup --quiet --system milter-manager >/dev/null 2>&1
    fi
    rm -rf "$work" /run/milter-manager
    exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Waits until FILE has a line matching the extended regular expression.
await_line() {
    file=$1
    pattern=$2
    i=0
    while ! grep -E -q -- "$pattern" "$file" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt $((wait_seconds * 5)) ] && fail "no line matching <$pattern> in $file"
        sleep 0.2
    done
    grep -E -m 1 -- "$pattern" "$file"
}

[ "$(id -u)" = 0 ] || fail "must run as root"
[ -f "$deb" ] || fail "no package at $deb"
command -v dpkg >/dev/null || fail "dpkg is missing"
if dpkg -s milter-manager >/dev/null 2>&1; then
    say "milter-manager is already installed here: not touching it"
    trap - EXIT
    exit 2
fi
getent passwd milter-manager >/dev/null || created_user=yes

say "installing $deb"
dpkg -i "$deb" >"$work/install.log" 2>&1 || fail "dpkg -i failed"
getent passwd milter-manager >/dev/null || fail "postinst did not create the milter-manager user"
getent group milter-manager >/dev/null || fail "postinst did not create the milter-manager group"
for file in /usr/bin/milter-manager /usr/bin/milter-manager-control /usr/bin/milter-test-server \
        /usr/bin/milter-test-client /etc/milter-manager/milter-manager.conf /etc/logrotate.d/milter-manager \
        /usr/share/man/man8/milter-manager.8.gz; do
    [ -e "$file" ] || fail "$file is not installed"
done
grep -q '^/etc/milter-manager/milter-manager.conf$' /var/lib/dpkg/info/milter-manager.conffiles \
    || fail "milter-manager.conf is not a conffile"

unit=/usr/lib/systemd/system/milter-manager.service
[ -f "$unit" ] || fail "no systemd unit"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
group=$(sed -n 's/^Group=//p' "$unit")
runtime=$(sed -n 's/^RuntimeDirectory=//p' "$unit")
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$unit" || fail "ExecReload does not send HUP"
[ -n "$exec_start" ] && [ -n "$user" ] && [ -n "$runtime" ] || fail "unit lacks ExecStart, User or RuntimeDirectory"
say "unit: User=$user ExecStart=$exec_start"

# A child milter for the session, on a free loopback port.
milter-test-client -s inet:0@127.0.0.1 --log-level=info --add-header "X-Package:installed" \
    >"$work/child.log" 2>&1 &
child_pid=$!
port=$(await_line "$work/child.log" '\[client\]\[listen\]\[start\] <inet:[0-9]+@' \
    | sed -E 's/.*<inet:([0-9]+)@.*/\1/')
say "child milter listens on port $port"

cat >/etc/milter-manager/milter-manager.local.conf <<EOF
manager.connection_spec = "unix:/run/$runtime/milter-manager.sock"
define_milter("package-child") do |milter|
  milter.connection_spec = "inet:$port@[127.0.0.1]"
end
EOF

# What systemd does before ExecStart: the runtime directory, owned by the service user.
install -d -o "$user" -g "$group" -m 0755 "/run/$runtime"
# shellcheck disable=SC2086 # ExecStart is a command line to split into words, as systemd does.
setpriv --reuid="$user" --regid="$group" --init-groups -- $exec_start --log-level='default|info' \
    >"$work/manager.log" 2>&1 &
manager_pid=$!
await_line "$work/manager.log" "\[client\]\[listen\]\[start\] <unix:/run/$runtime/milter-manager.sock>"
[ "$(stat -c %U "/run/$runtime/milter-manager.sock")" = "$user" ] || fail "the socket is not owned by $user"

milter-test-server -s "unix:/run/$runtime/milter-manager.sock" -f "<from@example.org>" -r "<to@example.com>" \
    -h "Subject:package" -b "body" --output-message >"$work/session.log" 2>&1 || fail "milter-test-server failed"
grep -q 'status: pass' "$work/session.log" || fail "the session did not pass"
grep -q '+ X-Package: installed' "$work/session.log" || fail "the child's header did not come through"
say "session: $(grep 'status:' "$work/session.log")"

kill -HUP "$manager_pid"
await_line "$work/manager.log" '\[manager\]\[reload\] configuration reloaded'

kill -TERM "$manager_pid"
status=0
wait "$manager_pid" || status=$?
manager_pid=
[ "$status" = 0 ] || fail "the daemon exited with $status after SIGTERM"
[ ! -e "/run/$runtime/milter-manager.sock" ] || fail "the socket was left behind"
say "stopped cleanly"

kill -TERM "$child_pid"
wait "$child_pid" 2>/dev/null || true
child_pid=

rm -f /etc/milter-manager/milter-manager.local.conf
dpkg --purge milter-manager >"$work/purge.log" 2>&1 || fail "dpkg --purge failed"
for file in /usr/bin/milter-manager /usr/share/milter-manager /etc/milter-manager /etc/logrotate.d/milter-manager \
        "$unit"; do
    [ ! -e "$file" ] || fail "$file is left after purge"
done
say "purged"
say "PASSED"

#!/bin/sh
# Soak run of the assembled distribution (not part of any test suite):
#   milter-test-server (load mode) -> milter-manager -> two milter-test-client children
# Rounds of --n-sessions N --concurrency C run back to back for DURATION seconds; every SAMPLE seconds the
# manager's resident memory, open descriptors and threads are sampled. At the end a table of sessions, errors,
# RSS, descriptors and threads over time is printed. Exit status 0 only if every session got the expected
# verdict and the manager is still alive.
#
# Build the distribution first:  mvn -q -pl milter-manager -am package -DskipTests
# Run:                           milter-manager/src/test/soak/soak.sh [DURATION_SECONDS]
# Settings (environment): DURATION (600), SAMPLE (30), N_SESSIONS (2000), CONCURRENCY (50),
#   DIST (milter-manager/target/dist next to this script), WORK (a new temporary directory),
#   MILTER_JAVA_OPTS (passed to every JVM, e.g. -Xmx256m).
# Everything listens on 127.0.0.1 only; every process started here is stopped on exit.
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
DURATION=${1:-${DURATION:-600}}
SAMPLE=${SAMPLE:-30}
N_SESSIONS=${N_SESSIONS:-2000}
CONCURRENCY=${CONCURRENCY:-50}
DIST=${DIST:-$here/../../../target/dist}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/milter-soak.XXXXXX")}

[ -x "$DIST/bin/milter-manager" ] || { echo "no distribution at $DIST (build it first)" >&2; exit 2; }
DIST=$(CDPATH= cd -- "$DIST" && pwd)
mkdir -p "$WORK"
pids=""

stop_all() {
  for pid in $pids; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $pids; do
    wait "$pid" 2>/dev/null || true
  done
  pids=""
}
trap 'stop_all' EXIT
trap 'exit 130' INT TERM

# Waits for "[client][listen][start] <inet:PORT@...>" in a log and prints PORT.
await_port() {
  log=$1
  i=0
  while [ $i -lt 240 ]; do
    port=$(sed -n 's/.*\[client\]\[listen\]\[start\] <inet:\([0-9]*\)@.*/\1/p' "$log" | head -n 1)
    if [ -n "$port" ]; then
      echo "$port"
      return 0
    fi
    sleep 0.5
    i=$((i + 1))
  done
  echo "no listening line in $log" >&2
  return 1
}

"$DIST/bin/milter-test-client" -s inet:0@127.0.0.1 --quiet --log-level="error|info" \
  --add-header X-Soak-A:seen > "$WORK/child-a.log" 2>&1 &
pids="$pids $!"
"$DIST/bin/milter-test-client" -s inet:0@127.0.0.1 --quiet --log-level="error|info" > "$WORK/child-b.log" 2>&1 &
pids="$pids $!"
port_a=$(await_port "$WORK/child-a.log")
port_b=$(await_port "$WORK/child-b.log")

mkdir -p "$WORK/conf"
cp -R "$DIST/conf/." "$WORK/conf/"
cat > "$WORK/conf/milter-manager.local.conf" <<EOF
manager.connection_spec = "inet:0@[127.0.0.1]"
define_milter("soak-a") do |milter|
  milter.connection_spec = "inet:$port_a@[127.0.0.1]"
end
define_milter("soak-b") do |milter|
  milter.connection_spec = "inet:$port_b@[127.0.0.1]"
end
EOF
# Only the two children: milters installed on this machine must not be detected and added.
MILTER_JAVA_OPTS="-Dmilter.manager.platform=unknown ${MILTER_JAVA_OPTS:-}" \
  "$DIST/bin/milter-manager" -c "$WORK/conf" --no-daemon --log-level="default|info" > "$WORK/manager.log" 2>&1 &
manager=$!
pids="$pids $manager"
manager_port=$(await_port "$WORK/manager.log")
spec="inet:$manager_port@127.0.0.1"

sessions=0
errors=0
rounds=0
echo "$sessions $errors $rounds" > "$WORK/state"

sample() {
  now=$1
  if [ -d "/proc/$manager" ]; then
    rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$manager/status")
    fds=$(ls "/proc/$manager/fd" | wc -l)
    threads=$(sed -n 's/^Threads:[[:space:]]*\([0-9]*\)/\1/p' "/proc/$manager/status")
  else
    rss=0; fds=0; threads=0
  fi
  read -r s e r < "$WORK/state"
  printf '%6d %6d %9d %7d %9d %5d %7d\n' "$now" "$r" "$s" "$e" $((rss / 1024)) "$fds" "$threads" \
    >> "$WORK/samples"
}

start=$(date +%s)
( # the sampler
  while [ -d "/proc/$manager" ]; do
    now=$(( $(date +%s) - start ))
    sample "$now"
    [ "$now" -ge "$DURATION" ] && break
    sleep "$SAMPLE"
  done
) &
sampler=$!
pids="$pids $sampler"

while [ $(( $(date +%s) - start )) -lt "$DURATION" ] && [ -d "/proc/$manager" ]; do
  rounds=$((rounds + 1))
  report="$WORK/round-$rounds.txt"
  if "$DIST/bin/milter-test-server" -s "$spec" --n-sessions "$N_SESSIONS" --concurrency "$CONCURRENCY" \
      -f '<sender@example.org>' -r '<rcpt@example.com>' -h Subject:soak -b 'soak body' \
      --expected-status pass > "$report" 2>&1; then
    :
  fi
  done_now=$(sed -n 's/^sessions: //p' "$report" | head -n 1)
  errors_now=$(sed -n 's/^errors: //p' "$report" | head -n 1)
  passed_now=$(sed -n 's/^status:.* pass=\([0-9]*\).*/\1/p' "$report" | head -n 1)
  if [ -z "$done_now" ] || [ -z "$errors_now" ]; then
    echo "round $rounds produced no report:" >&2
    cat "$report" >&2
    errors=$((errors + N_SESSIONS))
  else
    sessions=$((sessions + done_now))
    # A session that ended with another verdict than pass counts as an error too.
    errors=$((errors + errors_now + done_now - ${passed_now:-0}))
  fi
  echo "$sessions $errors $rounds" > "$WORK/state"
  printf 'round %d: %s\n' "$rounds" "$(grep -E '^(sessions/s|latency|status|errors):' "$report" | tr '\n' ' ')" \
    >> "$WORK/rounds"
done
now=$(( $(date +%s) - start ))
sample "$now"
alive=yes
[ -d "/proc/$manager" ] || alive=no

echo "soak: $DIST, $N_SESSIONS sessions per round, concurrency $CONCURRENCY, $DURATION s, work dir $WORK"
echo "    time rounds  sessions  errors    RSS-MB   fds threads"
echo "     (s)                                     "
cat "$WORK/samples"
echo
cat "$WORK/rounds"
manager_errors=$(grep -c '\]\[error\]' "$WORK/manager.log" || true)
echo
echo "total: $sessions sessions, $errors errors, $rounds rounds; manager alive: $alive;" \
  "error lines in the manager log: $manager_errors"
[ "$errors" -eq 0 ] && [ "$alive" = yes ]

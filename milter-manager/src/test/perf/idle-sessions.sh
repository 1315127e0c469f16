#!/bin/sh
# Idle sessions held through the manager (-Xmx512m) while active sessions run; see docs/performance.md.
# Builds the distribution, raises the open-file limit as far as allowed (10 000 idle sessions need about
# 30 000 descriptors in the manager, 10 000 in each child and 10 000 here), then runs
# milter.manager.perf.IdleSessionsBenchmark. Arguments go to it (--help lists them).
#
# Environment: SKIP_BUILD=1 uses the existing build; MVN_FLAGS adds Maven flags (for example -o).
set -e
root=$(CDPATH= cd -- "$(dirname -- "$0")/../../../.." && pwd)
cd "$root"
if [ -z "${SKIP_BUILD:-}" ]; then
  mvn -B -q ${MVN_FLAGS:-} -DskipTests package
fi
wanted=65536
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$wanted" ]; then
  echo "open-file hard limit is $hard (below $wanted): the number of idle sessions will be capped" >&2
  wanted=$hard
fi
ulimit -n "$wanted"
if [ -n "${JAVA_HOME:-}" ]; then
  java="$JAVA_HOME/bin/java"
else
  java=java
fi
exec "$java" ${PERF_JAVA_OPTS:-} \
  -cp "milter-manager/target/test-classes:milter-manager/target/dist/lib/*" \
  milter.manager.perf.IdleSessionsBenchmark "$@"

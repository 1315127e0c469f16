#!/bin/sh
# The end-to-end benchmark matrix (see docs/performance.md): builds the distribution, then runs
# milter.manager.perf.PerformanceMatrix, which starts the children and the manager from
# milter-manager/target/dist, drives them with milter-test-server's load mode and writes the table into
# docs/performance.md. Arguments go to the benchmark (--help lists them; --quick runs a subset).
#
# Environment: SKIP_BUILD=1 uses the existing build; MVN_FLAGS adds Maven flags (for example -o);
# PERF_JAVA_OPTS adds JVM options for the benchmark JVM (the load generator).
set -e
root=$(CDPATH= cd -- "$(dirname -- "$0")/../../../.." && pwd)
cd "$root"
if [ -z "${SKIP_BUILD:-}" ]; then
  # -DskipTests still compiles the test classes, where the benchmark lives.
  mvn -B -q ${MVN_FLAGS:-} -DskipTests package
fi
# Every session holds a socket in the load generator, the manager and each child: allow as many as we may.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ -n "${JAVA_HOME:-}" ]; then
  java="$JAVA_HOME/bin/java"
else
  java=java
fi
exec "$java" ${PERF_JAVA_OPTS:-} \
  -cp "milter-manager/target/test-classes:milter-manager/target/dist/lib/*" \
  milter.manager.perf.PerformanceMatrix "$@"

#!/bin/sh
# JMH benchmarks of the manager engine (milter-manager/src/test/java/milter/manager/bench): the header diff and
# whole sessions through Children with in-memory children. Arguments go to JMH (default: every engine benchmark,
# one fork, 3 warm-up and 5 measured iterations); see docs/performance.md.
#
# Environment: MVN_FLAGS adds Maven flags (for example -o).
set -e
root=$(CDPATH= cd -- "$(dirname -- "$0")/../../../.." && pwd)
cd "$root"
mvn -B -q ${MVN_FLAGS:-} -pl milter-manager -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/test.classpath
if [ -n "${JAVA_HOME:-}" ]; then
  java="$JAVA_HOME/bin/java"
else
  java=java
fi
classpath="milter-manager/target/test-classes:milter-manager/target/classes:$(cat milter-manager/target/test.classpath)"
if [ $# -eq 0 ]; then
  set -- "milter.manager.bench" -f 1 -wi 3 -i 5
fi
exec "$java" -cp "$classpath" org.openjdk.jmh.Main "$@"

# Sourced by the bench scripts: compiles sluice with the bench profile (benchmarks + test
# fixtures) and exports BENCH_CP, the classpath to run them with, and JAVA_HOME.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/find-jdk.sh
./mvnw -q -B -Pbench -DskipTests test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath >&2
BENCH_CP="target/test-classes:target/classes:$(cat target/bench.classpath)"
export BENCH_CP

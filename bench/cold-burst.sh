#!/usr/bin/env bash
# A cold burst of N concurrent GETs (default 200) of one federated product through sluice,
# against a test STS with 200 ms exchange latency, for three L1 modes side by side.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/classpath.sh"
echo "command: bench/cold-burst.sh ${1:-200}; $(date -u '+%Y-%m-%d %H:%M UTC'); nproc $(nproc); $("$JAVA_HOME/bin/java" -version 2>&1 | head -n1)"
exec "$JAVA_HOME/bin/java" -Dsluice.s3proxy.jar=target/s3proxy/s3proxy.jar -Dlogback.configurationFile=src/test/resources/logback-test.xml \
  -cp "$BENCH_CP" dev.sluice.bench.ColdBurstBench "${1:-200}"

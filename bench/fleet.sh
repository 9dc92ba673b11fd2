#!/usr/bin/env bash
# STS exchanges made by a fleet of N sluice JVMs (default 4) for one federated product: L1
# only, L1 + Redis, an exchange per request, and L1 + Redis with Redis paused at the cold start.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/classpath.sh"
echo "command: bench/fleet.sh ${1:-4}; $(date -u '+%Y-%m-%d %H:%M UTC'); nproc $(nproc); $("$JAVA_HOME/bin/java" -version 2>&1 | head -n1)"
exec "$JAVA_HOME/bin/java" -Dsluice.s3proxy.jar=target/s3proxy/s3proxy.jar -Dlogback.configurationFile=src/test/resources/logback-test.xml \
  -cp "$BENCH_CP" dev.sluice.bench.FleetBench "${1:-4}"

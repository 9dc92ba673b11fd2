#!/usr/bin/env bash
# Control-plane API calls per 10,000 resolutions spread over 100 products in steady state,
# against the test control plane, with a controlled clock spreading the requests over 10 s,
# 10 min and 1 h; one instance, and two without and with a shared Redis (needs redis-server).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/classpath.sh"
echo "command: bench/control-plane-load.sh; $(date -u '+%Y-%m-%d %H:%M UTC'); nproc $(nproc); $("$JAVA_HOME/bin/java" -version 2>&1 | head -n1)"
exec "$JAVA_HOME/bin/java" -Dlogback.configurationFile=src/test/resources/logback-test.xml \
  -cp "$BENCH_CP" dev.sluice.bench.ControlPlaneLoadBench

#!/usr/bin/env bash
# A warm GET whose backend credentials come from a web-identity role (held by the credential
# tier) vs the same GET with a static key, same object, same JVM, and an A/A pair of static ones.

set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/classpath.sh"
echo "command: bench/federated-get.sh; $(date -u '+%Y-%m-%d %H:%M UTC'); nproc $(nproc); $("$JAVA_HOME/bin/java" -version 2>&1 | head -n1)"
exec "$JAVA_HOME/bin/java" -Dsluice.s3proxy.jar=target/s3proxy/s3proxy.jar -Dlogback.configurationFile=src/test/resources/logback-test.xml \
  -cp "$BENCH_CP" dev.sluice.bench.FederatedGetBench

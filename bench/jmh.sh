#!/usr/bin/env bash
# JMH benchmarks of in-process costs: L1 hit (vs ConcurrentHashMap.get) and L2 hit on a real
# redis-server (vs the bare Redis GET). Extra arguments go to JMH (e.g. a benchmark regex).
#   bench/jmh.sh                 # everything
#   bench/jmh.sh L1HitBenchmark  # one class
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/classpath.sh"
exec "$JAVA_HOME/bin/java" -Dsluice.s3proxy.jar=target/s3proxy/s3proxy.jar -cp "$BENCH_CP" \
  org.openjdk.jmh.Main -rf text -rff target/jmh-result.txt "$@"

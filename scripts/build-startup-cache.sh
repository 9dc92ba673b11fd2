#!/usr/bin/env bash
# Builds the startup cache next to the jar (docs/operations.md, "Fast startup"): one training
# run of `sluice serve` on loopback with a file backend, a few hundred requests of the kinds
# sluice serves, then SIGTERM; the JVM writes what it loaded, linked and profiled on exit.
#   JDK >= 25: target/sluice.aot, an AOT cache (-XX:AOTCacheOutput, JEP 483/514/515);
#   JDK 21-24: target/sluice.jsa, a dynamic AppCDS archive (-XX:ArchiveClassesAtExit).
# The launcher (./sluice) passes it to the JVM with -XX:AOTCache or -XX:SharedArchiveFile.
# The cache is built with, and only valid for, the JDK given here: Maven passes the one it runs on.
# Never fails the build: anything that goes wrong prints why and leaves no cache behind.
#   scripts/build-startup-cache.sh JAVA_HOME JAR
set -uo pipefail
java_home="${1:?usage: build-startup-cache.sh JAVA_HOME JAR}"
jar="$(readlink -f "${2:?usage: build-startup-cache.sh JAVA_HOME JAR}")"
dir="$(dirname "$jar")"
aot="$dir/sluice.aot"
jsa="$dir/sluice.jsa"
skip() { echo "startup cache: not built ($*); sluice starts without it" >&2; rm -f "$aot" "$jsa" "$aot.config"; exit 0; }

rm -f "$aot" "$jsa" "$aot.config"
[ -n "${SKIP_STARTUP_CACHE:-}" ] && skip "SKIP_STARTUP_CACHE is set"
[ -x "$java_home/bin/java" ] || skip "no $java_home/bin/java"
command -v curl >/dev/null 2>&1 || skip "curl is missing"
major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$java_home/release" 2>/dev/null)
[ -n "$major" ] || skip "cannot read the JDK version from $java_home/release"
if [ "$major" -ge 25 ]; then
  out="$aot"; record=(-XX:AOTCacheOutput="$out")
elif [ "$major" -ge 19 ]; then
  out="$jsa"; record=(-XX:ArchiveClassesAtExit="$out")
else
  skip "JDK $major is older than 19"
fi

work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/data/dir"
head -c 4096 /dev/zero >"$work/data/small.bin"
echo '{"a":1}' >"$work/data/dir/doc.json"
# Ports 0: the kernel picks free ones and the banner names them. No grace: nothing balances here.
cat >"$work/train.yaml" <<EOF
server: { listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", shutdown_grace: 0s, shutdown_timeout: 5s }
registry:
  type: static
  products:
    - { account: train, product: open, visibility: public, backend: { type: file, path: "$work/data" } }
    - { account: train, product: closed, visibility: restricted, backend: { type: file, path: "$work/data" } }
inbound:
  access_keys:
    - access_key_id: AKIATRAININGKEY00001
      secret_access_key_env: SLUICE_TRAINING_SECRET
      name: training
      scopes: [ { product: train/closed, actions: [get_object, head_object, list_bucket] } ]
EOF

echo "startup cache: training run (JDK $major) -> $out" >&2
# stdout is the access log of the training requests: not kept.
SLUICE_TRAINING_SECRET=training-secret-not-used-anywhere-else \
  "$java_home/bin/java" "${record[@]}" -jar "$jar" serve --config "$work/train.yaml" >/dev/null 2>"$work/err" </dev/null &
pid=$!
s3="" admin=""
for _ in $(seq 1 600); do # 60 s at most
  kill -0 "$pid" 2>/dev/null || skip "the training run exited: $(tail -n 3 "$work/err")"
  s3=$(sed -n 's/^ *S3 endpoint: *\(http[^ ]*\).*/\1/p' "$work/err")
  admin=$(sed -n 's/^ *admin: *\(http[^ ]*\).*/\1/p' "$work/err")
  [ -n "$s3" ] && [ -n "$admin" ] && break
  sleep 0.1
done
[ -n "$s3" ] && [ -n "$admin" ] || skip "the training run did not start within 60 s"

# Bodies are dropped; each response's status goes to $work/statuses, summed up below.
fetch() { curl -s -w '%{stderr}%{http_code}\n' --max-time 30 "$@" >/dev/null 2>>"$work/statuses" || true; }
urls=()
for _ in $(seq 1 200); do urls+=("$s3/train/open/small.bin"); done
fetch "${urls[@]}"
fetch -I "$s3/train/open/small.bin"
fetch -r 0-99 "$s3/train/open/small.bin"
fetch -H 'If-None-Match: "x"' "$s3/train/open/dir/doc.json"
fetch "$s3/train?list-type=2&prefix=open/dir/" "$s3/train?delimiter=/&prefix=open/" "$s3/train/open/missing" "$s3/train/closed/small.bin" "$s3/"
fetch --aws-sigv4 "aws:amz:us-east-1:s3" --user AKIATRAININGKEY00001:training-secret-not-used-anywhere-else \
  "$s3/train/closed/small.bin" "$s3/train?list-type=2&prefix=closed/"
fetch "$admin/healthz" "$admin/readyz" "$admin/metrics"

echo "startup cache: training responses (count status): $(sort "$work/statuses" | uniq -c | tr -s ' \n' ' ')" >&2
kill -TERM "$pid"
# The JVM drains, exits and then writes the cache (JDK 25 assembles it in a second JVM).
for _ in $(seq 1 1800); do # 180 s at most
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then skip "the training run did not exit within 180 s"; fi
wait "$pid"
status=$?
pid=""
[ "$status" -eq 0 ] || skip "the training run exited with status $status: $(tail -n 3 "$work/err")"
[ -s "$out" ] || skip "the JVM wrote no $out: $(tail -n 3 "$work/err")"
rm -f "$aot.config"
echo "startup cache: $out ($(($(stat -c %s "$out") / 1048576)) MiB)" >&2

#!/usr/bin/env bash
# Memory under many large GETs: CONNECTIONS concurrent GETs of one OBJECT_MIB MiB object
# through sluice started with a small heap (SLUICE_JAVA_OPTS, -Xmx256m by default), from the
# file backend and, with S3Proxy as the S3 backend, from the s3 backend. For each backend (and
# each jar, with BASELINE_JAR): errors (every GET checked for 200 and the full size, the
# sha256 of the first CHECK_SHA bodies), the RSS idle, at its peak during the run and after it
# (split into anonymous memory and file-backed pages, which include mapped file regions), the
# most memory mappings seen, and the Java heap used after a full GC before and after the run.
#
#   bench/many-large-gets.sh
#   CONNECTIONS=100 OBJECT_MIB=64 BACKENDS="file s3" BASELINE_JAR=/path/to/old/sluice.jar bench/many-large-gets.sh
#
# Needs target/sluice.jar (this script never builds), a JDK >= 21 with jcmd, curl, and for the
# s3 backend the S3Proxy jar (target/s3proxy/s3proxy.jar or ~/.m2).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CMDLINE="$(printf '%q ' "bench/$(basename "$0")" "$@")"
for v in CONNECTIONS OBJECT_MIB BACKENDS CHECK_SHA SLUICE_JAVA_OPTS BASELINE_JAR; do
  if [[ -n "${!v:-}" ]]; then CMDLINE="$v=$(printf '%q' "${!v}") $CMDLINE"; fi
done
CONNECTIONS="${CONNECTIONS:-100}"
OBJECT_MIB="${OBJECT_MIB:-64}"
BACKENDS="${BACKENDS:-file s3}"
CHECK_SHA="${CHECK_SHA:-3}"
SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:--Xmx256m}"
BASELINE_JAR="${BASELINE_JAR:-}"
CURL_MAX_TIME=600
SAMPLE_EVERY_S=0.2
. "$ROOT/bench/lib.sh"

[[ "$CONNECTIONS" =~ ^[0-9]+$ ]] && ((CONNECTIONS >= 1 && CONNECTIONS <= 1000)) || die "CONNECTIONS must be 1..1000"
[[ "$OBJECT_MIB" =~ ^[0-9]+$ ]] && ((OBJECT_MIB >= 1 && OBJECT_MIB <= 4096)) || die "OBJECT_MIB must be 1..4096"
[[ "$CHECK_SHA" =~ ^[0-9]+$ ]] && ((CHECK_SHA <= CONNECTIONS)) || die "CHECK_SHA must be 0..CONNECTIONS"
for b in $BACKENDS; do [[ "$b" == file || "$b" == s3 ]] || die "BACKENDS lists file and/or s3, not $b"; done

find_java
JCMD="$(dirname "$JAVA")/jcmd"
[[ -x "$JCMD" ]] || die "jcmd not found next to $JAVA"
command -v curl >/dev/null || die "curl is required"
SLUICE_JAR="$ROOT/target/sluice.jar"
[[ -f "$SLUICE_JAR" ]] || die "$SLUICE_JAR is missing (build it first; this script does not build)"
JARS=(sluice)
if [[ -n "$BASELINE_JAR" ]]; then
  [[ -f "$BASELINE_JAR" ]] || die "BASELINE_JAR $BASELINE_JAR is missing"
  JARS=(baseline sluice)
fi
jar_of() { if [[ "$1" == baseline ]]; then echo "$BASELINE_JAR"; else echo "$SLUICE_JAR"; fi; }

OBJECT_BYTES=$((OBJECT_MIB * 1024 * 1024))
mkdir -p "$WORK/data"
head -c "$OBJECT_BYTES" /dev/urandom >"$WORK/data/big.bin"
OBJECT_SHA="$(sha256sum "$WORK/data/big.bin" | cut -d' ' -f1)"

# ---------------------------------------------------- S3Proxy, if asked ----
S3_PORT=""
BUCKET=sluice-bench
if [[ " $BACKENDS " == *" s3 "* ]]; then
  start_s3proxy "$BUCKET"
  code="$(curl -s -o "$WORK/put.out" -w '%{http_code}' --max-time 300 -T "$WORK/data/big.bin" "http://127.0.0.1:$S3_PORT/$BUCKET/big.bin")"
  [[ "$code" == 200 ]] || die "PUT big.bin to S3Proxy gave HTTP $code: $(head -c 500 "$WORK/put.out")"
fi

sluice_config() { # LISTEN ADMIN BACKEND
  local backend
  if [[ "$3" == file ]]; then
    backend="{ type: file, path: \"$WORK/data\" }"
  else
    backend="{ type: s3, endpoint: \"http://127.0.0.1:$S3_PORT\", region: us-east-1, bucket: $BUCKET, auth: { type: anonymous } }"
  fi
  cat <<EOF
server: { listen: "127.0.0.1:$1", admin_listen: "127.0.0.1:$2" }
registry:
  type: static
  products:
    - { account: bench, product: data, visibility: public, backend: $backend }
EOF
}

# mem PID: "rss anon file" in KiB, from /proc/PID/status.
mem() { awk '/^VmRSS:/ {r=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} END {print r+0, a+0, f+0}' "/proc/$1/status"; }
# heap_after_gc PID: a full GC, then the heap used in KiB.
heap_after_gc() {
  timeout 60 "$JCMD" "$1" GC.run >/dev/null || die "jcmd GC.run failed"
  timeout 60 "$JCMD" "$1" GC.heap_info | sed -n 's/.*used \([0-9]*\)K.*/\1/p' | head -n 1
}
# sample PID STOPFILE OUT: the largest rss, anon, file (KiB) and mapping count seen until STOPFILE exists.
sample() {
  local pid="$1" stopfile="$2" out="$3" i r a f maps mr=0 ma=0 mf=0 mm=0
  for ((i = 0; i < CURL_MAX_TIME * 5 + 100; i++)); do
    [[ -e "$stopfile" ]] && break
    read -r r a f < <(mem "$pid") || break
    maps="$(wc -l <"/proc/$pid/maps" 2>/dev/null || echo 0)"
    ((r > mr)) && mr=$r; ((a > ma)) && ma=$a; ((f > mf)) && mf=$f; ((maps > mm)) && mm=$maps
    sleep "$SAMPLE_EVERY_S"
  done
  echo "$mr $ma $mf $mm" >"$out"
}

: >"$WORK/results.tsv"
for backend in $BACKENDS; do
  for side in "${JARS[@]}"; do
    port="$(free_port)"; admin="$(free_port)"
    sluice_config "$port" "$admin" "$backend" >"$WORK/$side-$backend.yaml"
    # shellcheck disable=SC2086
    start "$side" "$WORK/$side-$backend.log" "$JAVA" $SLUICE_JAVA_OPTS -jar "$(jar_of "$side")" serve --config "$WORK/$side-$backend.yaml"
    pid="${PIDS[-1]}"
    wait_http "http://127.0.0.1:$admin/readyz" "$side" "$pid"
    url="http://127.0.0.1:$port/bench/data/big.bin"
    sha="$(curl -sf --max-time "$CURL_MAX_TIME" "$url" | sha256sum | cut -d' ' -f1)" || die "warm-up GET $url failed"
    [[ "$sha" == "$OBJECT_SHA" ]] || die "warm-up GET $url: sha256 $sha, expected $OBJECT_SHA"
    heap_before="$(heap_after_gc "$pid")"
    read -r rss_idle anon_idle file_idle < <(mem "$pid")

    log "$side, $backend backend: $CONNECTIONS concurrent GETs of $OBJECT_MIB MiB"
    rm -f "$WORK/stop" "$WORK"/get-*.out "$WORK"/get-*.sha
    sample "$pid" "$WORK/stop" "$WORK/peak" &
    sampler=$!
    t0="$(date +%s%N)"
    getters=()
    for i in $(seq 1 "$CONNECTIONS"); do
      if ((i <= CHECK_SHA)); then
        ( curl -s --max-time "$CURL_MAX_TIME" -w '%{http_code} %{size_download}' -o >(sha256sum | cut -d' ' -f1 >"$WORK/get-$i.sha") \
            "$url" >"$WORK/get-$i.out" 2>/dev/null || echo " curl-exit-$?" >>"$WORK/get-$i.out" ) &
      else
        ( curl -s --max-time "$CURL_MAX_TIME" -w '%{http_code} %{size_download}' -o /dev/null \
            "$url" >"$WORK/get-$i.out" 2>/dev/null || echo " curl-exit-$?" >>"$WORK/get-$i.out" ) &
      fi
      getters+=("$!")
    done
    for g in "${getters[@]}"; do wait "$g" || true; done
    t1="$(date +%s%N)"
    touch "$WORK/stop"
    wait "$sampler" || true
    read -r rss_peak anon_peak file_peak maps_peak <"$WORK/peak"
    errors=0
    for i in $(seq 1 "$CONNECTIONS"); do
      [[ "$(cat "$WORK/get-$i.out")" == "200 $OBJECT_BYTES" ]] || { errors=$((errors + 1)); log "GET $i: $(cat "$WORK/get-$i.out")"; }
    done
    for i in $(seq 1 "$CHECK_SHA"); do
      for w in $(seq 1 50); do [[ -s "$WORK/get-$i.sha" ]] && break; sleep 0.1; done
      [[ "$(cat "$WORK/get-$i.sha" 2>/dev/null)" == "$OBJECT_SHA" ]] || { errors=$((errors + 1)); log "GET $i: body sha256 differs"; }
    done
    read -r rss_after anon_after file_after < <(mem "$pid")
    heap_after="$(heap_after_gc "$pid")"
    read -r rss_gc anon_gc file_gc < <(mem "$pid")
    ms=$(( (t1 - t0) / 1000000 ))
    printf '%s\t' "$backend" "$side" "$errors" "$ms" "$rss_idle" "$anon_idle" "$file_idle" "$rss_peak" "$anon_peak" "$file_peak" \
      "$maps_peak" "$rss_after" "$rss_gc" "$anon_gc" "$file_gc" "$heap_before" >>"$WORK/results.tsv"
    printf '%s\n' "$heap_after" >>"$WORK/results.tsv"
    log "$side, $backend: errors $errors, ${ms} ms, RSS KiB idle $rss_idle peak $rss_peak after $rss_after / after GC $rss_gc, heap KiB $heap_before -> $heap_after"
    stop "$pid"
  done
done

# ---------------------------------------------------------------- report ----
mkdir -p "$ROOT/bench/results"
RESULT_FILE="$ROOT/bench/results/many-large-gets-$(date -u '+%Y%m%d-%H%M%S').md"
{
  echo "# $CONNECTIONS concurrent GETs of $OBJECT_MIB MiB"
  echo
  echo "- command: \`$CMDLINE\`"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- host: $(host_line); curl, sluice and S3Proxy share these cores"
  echo "- JDK: $JAVA_VERSION_LINE; sluice: target/sluice.jar, git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'); JVM options: \`$SLUICE_JAVA_OPTS\`"
  [[ -n "$BASELINE_JAR" ]] && echo "- baseline: \`$BASELINE_JAR\`, run the same way just before"
  echo "- every GET checked for 200 and $OBJECT_BYTES bytes, the first $CHECK_SHA by sha256; RSS sampled every ${SAMPLE_EVERY_S}s from /proc (anon: anonymous memory, the heap among it; file: file-backed pages, mapped file regions among them); heap: used after \`jcmd GC.run\`"
  echo
  echo "| backend | sluice | errors | wall s | RSS idle MiB (anon/file) | RSS peak MiB (anon/file) | mappings peak | RSS after MiB | RSS after GC MiB (anon/file) | heap after GC, before → after MiB |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' '{
    printf "| %s | %s | %d | %.1f | %.0f (%.0f/%.0f) | %.0f (%.0f/%.0f) | %d | %.0f | %.0f (%.0f/%.0f) | %.1f → %.1f |\n",
      $1, $2, $3, $4/1000, $5/1024, $6/1024, $7/1024, $8/1024, $9/1024, $10/1024, $11, $12/1024, $13/1024, $14/1024, $15/1024, $16/1024, $17/1024
  }' "$WORK/results.tsv"
} >"$WORK/report.md"
cat "$WORK/report.md"
cp "$WORK/report.md" "$RESULT_FILE"
log "written: ${RESULT_FILE#"$ROOT"/}"
errors_total="$(awk -F'\t' '{s+=$3} END {print s+0}' "$WORK/results.tsv")"
((errors_total == 0)) || die "$errors_total GETs failed"

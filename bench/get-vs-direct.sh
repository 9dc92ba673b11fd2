#!/usr/bin/env bash
# GET through sluice vs. GET direct from the S3 backend (S3Proxy), side by side
# in one run, on one machine:
#   (a) throughput of one large object (default 256 MiB of random bytes), curl,
#       BIG_WARMUPS downloads each to warm the JIT (default 10), then RUNS alternating
#       runs each; median MB/s and the ratio sluice/direct (target >= 0.9);
#   (b) latency of a 1 KiB object under bounded concurrent load, wrk
#       -t2 -c8 -d15s --latency, after a WARMUP_S (30 s) warm-up of each side, WRK_ROUNDS
#       alternating rounds each; p50/p99
#       and the added p99, sluice - direct (target <= 1 ms).
# With BASELINE_JAR=<path to another sluice.jar> (an earlier build), a second sluice
# serving the same product from that jar is measured in the same alternation, and the
# report gives sluice/baseline ratios: before/after figures from one run. BASELINE_JAVA_OPTS
# gives the baseline JVM options of its own (default: SLUICE_JAVA_OPTS), so that one jar can be
# measured against itself with a switch on and off.
# CPU time per request of each server process (utime+stime from /proc over each load
# round; S3Proxy for the direct side) is reported beside the latency, since every
# process shares the same cores.
# With NGINX_PROXY=1, nginx (2 workers, upstream keep-alive, unbuffered, reading the upstream in
# 64 KiB as sluice does) proxying the same product path to
# S3Proxy is measured too, in the same alternation: what any reverse proxy adds on this machine,
# the floor under sluice's added latency (its CPU is that of nginx's master and workers).
# The report (Markdown) goes to stdout and to bench/results/get-vs-direct-<date>.md;
# progress goes to stderr.
#
#   bench/get-vs-direct.sh
#   RUNS=5 BIG_MIB=256 BIG_WARMUPS=10 WARMUP_S=30 WRK_DURATION=15s WRK_ROUNDS=2 bench/get-vs-direct.sh   # the defaults
#
# Needs target/sluice.jar (built by the lead; this script never builds), a JDK
# >= 21, the S3Proxy fat jar, curl, python3; wrk is installed with apt-get if
# missing and possible, else a small bounded Python load client is used.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CMDLINE="$(printf '%q ' "bench/$(basename "$0")" "$@")"
for v in RUNS BIG_MIB BIG_WARMUPS WARMUP_S WRK_DURATION WRK_THREADS WRK_CONNECTIONS WRK_ROUNDS SLUICE_JAVA_OPTS BASELINE_JAVA_OPTS BASELINE_JAR NGINX_PROXY; do
  if [[ -n "${!v:-}" ]]; then CMDLINE="$v=$(printf '%q' "${!v}") $CMDLINE"; fi
done
if [[ -n "${BASELINE_JAVA_OPTS+set}" && -z "$BASELINE_JAVA_OPTS" ]]; then CMDLINE="BASELINE_JAVA_OPTS='' $CMDLINE"; fi

RUNS="${RUNS:-5}"
BIG_MIB="${BIG_MIB:-256}"
BIG_WARMUPS="${BIG_WARMUPS:-10}"
WRK_DURATION="${WRK_DURATION:-15s}"
WRK_THREADS="${WRK_THREADS:-2}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-8}"
WRK_ROUNDS="${WRK_ROUNDS:-2}"
SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-}"
BASELINE_JAVA_OPTS="${BASELINE_JAVA_OPTS-$SLUICE_JAVA_OPTS}" # the baseline's JVM options: SLUICE_JAVA_OPTS unless set (even empty)
. "$ROOT/bench/lib.sh"
CURL_MAX_TIME=300
BUCKET=sluice-bench

# Bound the loop counts whatever the environment says.
[[ "$RUNS" =~ ^[0-9]+$ ]] && ((RUNS >= 1 && RUNS <= 50)) || { echo "RUNS must be 1..50" >&2; exit 2; }
[[ "$WRK_ROUNDS" =~ ^[0-9]+$ ]] && ((WRK_ROUNDS >= 1 && WRK_ROUNDS <= 10)) || { echo "WRK_ROUNDS must be 1..10" >&2; exit 2; }
[[ "$BIG_MIB" =~ ^[0-9]+$ ]] && ((BIG_MIB >= 1 && BIG_MIB <= 4096)) || { echo "BIG_MIB must be 1..4096" >&2; exit 2; }
[[ "$BIG_WARMUPS" =~ ^[0-9]+$ ]] && ((BIG_WARMUPS >= 1 && BIG_WARMUPS <= 50)) || { echo "BIG_WARMUPS must be 1..50" >&2; exit 2; }
[[ "$WRK_DURATION" =~ ^([0-9]+)s$ ]] && ((${BASH_REMATCH[1]} >= 1 && ${BASH_REMATCH[1]} <= 600)) \
  || { echo "WRK_DURATION must be like 15s (1..600s)" >&2; exit 2; }
WRK_SECONDS="${WRK_DURATION%s}"
WARMUP_S="${WARMUP_S:-30}"
[[ "$WARMUP_S" =~ ^[0-9]+$ ]] && ((WARMUP_S >= 1 && WARMUP_S <= 600)) || { echo "WARMUP_S must be 1..600" >&2; exit 2; }

find_java

SLUICE_JAR="$ROOT/target/sluice.jar"
[[ -f "$SLUICE_JAR" ]] || die "$SLUICE_JAR is missing (build it first; this script does not build)"
BASELINE_JAR="${BASELINE_JAR:-}"
SIDES=(direct sluice)
if [[ -n "$BASELINE_JAR" ]]; then
  [[ -f "$BASELINE_JAR" ]] || die "BASELINE_JAR $BASELINE_JAR is missing"
  SIDES=(direct baseline sluice)
fi
NGINX_PROXY="${NGINX_PROXY:-0}"
if [[ "$NGINX_PROXY" == 1 ]]; then
  find_nginx
  SIDES+=(nginx-proxy)
fi
command -v curl >/dev/null || die "curl is required"

find_wrk
if [[ -n "$WRK" ]]; then
  LOAD_TOOL="wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION --latency"
else
  log "wrk not available: using bench/latency_client.py (Python, bounded)"
  LOAD_TOOL="bench/latency_client.py --connections $WRK_CONNECTIONS --duration $WRK_SECONDS"
fi

SLUICE_PORT="$(free_port)"
ADMIN_PORT="$(free_port)"
BASE_PORT="$(free_port)"
BASE_ADMIN_PORT="$(free_port)"

# --------------------------------------------------------------- S3Proxy ----
start_s3proxy "$BUCKET"
DIRECT="http://127.0.0.1:$S3_PORT/$BUCKET"

BIG_BYTES=$((BIG_MIB * 1024 * 1024))
log "writing a ${BIG_MIB} MiB random object and a 1 KiB object"
head -c "$BIG_BYTES" /dev/urandom >"$WORK/big.bin"
head -c 1024 /dev/urandom >"$WORK/small.bin"
BIG_SHA="$(sha256sum "$WORK/big.bin" | cut -d' ' -f1)"
for obj in big.bin small.bin; do
  code="$(curl -s -o "$WORK/put.out" -w '%{http_code}' --max-time "$CURL_MAX_TIME" -T "$WORK/$obj" "$DIRECT/$obj")"
  [[ "$code" == 200 ]] || die "PUT $DIRECT/$obj gave HTTP $code: $(head -c 500 "$WORK/put.out")"
done
rm -f "$WORK/big.bin" # the copy in the S3Proxy basedir is enough

# ---------------------------------------------------------------- sluice ----
# sluice.yaml for LISTEN ADMIN
sluice_config() {
  cat <<EOF
server: { listen: "127.0.0.1:$1", admin_listen: "127.0.0.1:$2" }
registry:
  type: static
  products:
    - account: bench
      product: data
      visibility: public
      backend: { type: s3, endpoint: "http://127.0.0.1:$S3_PORT", region: us-east-1, bucket: $BUCKET, auth: { type: anonymous } }
EOF
}
sluice_config "$SLUICE_PORT" "$ADMIN_PORT" >"$WORK/sluice.yaml"
# shellcheck disable=SC2086
start sluice "$WORK/sluice.log" "$JAVA" $SLUICE_JAVA_OPTS -jar "$SLUICE_JAR" serve --config "$WORK/sluice.yaml"
SLUICE_PID="${PIDS[-1]}"
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" sluice "$SLUICE_PID"
VIA="http://127.0.0.1:$SLUICE_PORT/bench/data"
BASE_VIA=""
BASE_PID=""
if [[ -n "$BASELINE_JAR" ]]; then
  sluice_config "$BASE_PORT" "$BASE_ADMIN_PORT" >"$WORK/baseline.yaml"
  # shellcheck disable=SC2086
  start baseline "$WORK/baseline.log" "$JAVA" $BASELINE_JAVA_OPTS -jar "$BASELINE_JAR" serve --config "$WORK/baseline.yaml"
  BASE_PID="${PIDS[-1]}"
  wait_http "http://127.0.0.1:$BASE_ADMIN_PORT/readyz" baseline "$BASE_PID"
  BASE_VIA="http://127.0.0.1:$BASE_PORT/bench/data"
fi
NGINX_VIA=""
NGINX_PID=""
if [[ "$NGINX_PROXY" == 1 ]]; then
  NGINX_PORT="$(free_port)"
  start_nginx "$NGINX_PORT" "  upstream s3proxy { server 127.0.0.1:$S3_PORT; keepalive 32; }" "    location /bench/data/ {
      proxy_pass http://s3proxy/$BUCKET/;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_buffering off;
      # Reads from S3Proxy in 64 KiB, as sluice's backend client does (the default is a page).
      proxy_buffer_size 64k;
      proxy_buffers 4 64k;
      proxy_busy_buffers_size 64k;
    }"
  NGINX_VIA="http://127.0.0.1:$NGINX_PORT/bench/data"
  wait_http "$NGINX_VIA/small.bin" nginx "$NGINX_PID"
fi
base_of() { # SIDE -> URL prefix
  case "$1" in direct) echo "$DIRECT" ;; sluice) echo "$VIA" ;; baseline) echo "$BASE_VIA" ;; nginx-proxy) echo "$NGINX_VIA" ;; esac
}
pid_of() { # SIDE -> the processes whose CPU the side costs (S3Proxy for direct; nginx's master and workers)
  case "$1" in
    direct) echo "$S3PROXY_PID" ;; sluice) echo "$SLUICE_PID" ;; baseline) echo "$BASE_PID" ;;
    nginx-proxy) echo "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true) ;;
  esac
}

# ------------------------------------------- correctness before timing ------
for side in "${SIDES[@]}"; do
  base="$(base_of "$side")"
  code="$(curl -s -o "$WORK/small.$side" -w '%{http_code}' --max-time 30 "$base/small.bin")"
  [[ "$code" == 200 ]] || die "GET $base/small.bin gave HTTP $code: $(head -c 500 "$WORK/small.$side")"
  cmp -s "$WORK/small.bin" "$WORK/small.$side" || die "GET $base/small.bin: body differs from the object"
done

# ------------------------------------------------------- (a) throughput -----
# BIG_WARMUPS full downloads each (the first checked by sha256), then RUNS alternating. One
# download of 256 MiB does not warm the JIT: sluice's CPU per such GET falls from ~1 s on the
# first to ~0.2 s by the tenth (BENCHMARKS.md, "Large S3 GET after a JIT warm-up").
for side in "${SIDES[@]}"; do
  base="$(base_of "$side")"
  log "warm-up ($BIG_WARMUPS downloads) + sha256 check: $side"
  sha="$(curl -sf --max-time "$CURL_MAX_TIME" "$base/big.bin" | sha256sum | cut -d' ' -f1)" || die "warm-up GET $base/big.bin failed"
  [[ "$sha" == "$BIG_SHA" ]] || die "GET $base/big.bin: sha256 $sha, expected $BIG_SHA"
  for _ in $(seq 2 "$BIG_WARMUPS"); do
    curl -sf -o /dev/null --max-time "$CURL_MAX_TIME" "$base/big.bin" || die "warm-up GET $base/big.bin failed"
  done
done

: >"$WORK/tput.tsv"
for i in $(seq 1 "$RUNS"); do
  for side in "${SIDES[@]}"; do
    base="$(base_of "$side")"
    pid="$(pid_of "$side")"
    # shellcheck disable=SC2086 # one or more pids
    ticks_before="$(cpu_ticks $pid)"
    out="$(curl -s -o /dev/null --max-time "$CURL_MAX_TIME" \
      -w '%{http_code} %{size_download} %{speed_download} %{time_total}' "$base/big.bin")" || die "GET $base/big.bin failed (run $i)"
    # shellcheck disable=SC2086
    ticks="$(( $(cpu_ticks $pid) - ticks_before ))"
    read -r code size speed ttotal <<<"$out"
    [[ "$code" == 200 && "$size" == "$BIG_BYTES" ]] || die "GET $base/big.bin run $i: HTTP $code, $size bytes (expected 200, $BIG_BYTES)"
    printf '%s\t%s\t%s\t%s\t%s\n' "$side" "$i" "$speed" "$ttotal" "$ticks" >>"$WORK/tput.tsv"
    log "throughput run $i $side: $(awk -v s="$speed" 'BEGIN{printf "%.1f MB/s", s/1e6}') in ${ttotal}s"
  done
done

# --------------------------------------------------------- (b) latency ------
run_load() { # URL OUTFILE [SECONDS, default WRK_SECONDS]
  local url="$1" outf="$2" secs="${3:-$WRK_SECONDS}"
  if [[ -n "$WRK" ]]; then
    timeout $((secs + 60)) "$WRK" -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${secs}s" --latency "$url" >"$outf" 2>&1
  else
    timeout $((secs + 60)) "$PY" "$ROOT/bench/latency_client.py" --connections "$WRK_CONNECTIONS" \
      --duration "$secs" "$url" >"$outf" 2>&1
  fi
}
# The JIT keeps compiling for tens of seconds of this load (BENCHMARKS.md, "The small S3 GET
# after a longer warm-up"): each side is warmed for WARMUP_S before its rounds.
log "latency warm-up (${WARMUP_S}s each, not reported)"
run_load "$DIRECT/small.bin" "$WORK/warm-direct.txt" "$WARMUP_S" || die "load warm-up (direct) failed: $(tail -5 "$WORK/warm-direct.txt")"
run_load "$VIA/small.bin" "$WORK/warm-sluice.txt" "$WARMUP_S" || die "load warm-up (sluice) failed: $(tail -5 "$WORK/warm-sluice.txt")"
if [[ -n "$BASE_VIA" ]]; then
  run_load "$BASE_VIA/small.bin" "$WORK/warm-baseline.txt" "$WARMUP_S" || die "load warm-up (baseline) failed: $(tail -5 "$WORK/warm-baseline.txt")"
fi
if [[ -n "$NGINX_VIA" ]]; then
  run_load "$NGINX_VIA/small.bin" "$WORK/warm-nginx.txt" "$WARMUP_S" || die "load warm-up (nginx-proxy) failed: $(tail -5 "$WORK/warm-nginx.txt")"
fi

: >"$WORK/lat.tsv"
for r in $(seq 1 "$WRK_ROUNDS"); do
  for side in $(rotated "$r" "${SIDES[@]}"); do
    base="$(base_of "$side")"
    pid="$(pid_of "$side")"
    # shellcheck disable=SC2086 # one or more pids
    ticks_before="$(cpu_ticks $pid)"
    log "latency round $r $side: $LOAD_TOOL $base/small.bin"
    run_load "$base/small.bin" "$WORK/load-$side-$r.txt" || die "load run failed: $(tail -5 "$WORK/load-$side-$r.txt")"
    parsed="$(parse_load "$WORK/load-$side-$r.txt")" || die "cannot parse load output for $side round $r"
    # shellcheck disable=SC2086
    ticks="$(( $(cpu_ticks $pid) - ticks_before ))"
    printf '%s\t%s\t%s\t%s\n' "$side" "$r" "${parsed// /$'\t'}" "$ticks" >>"$WORK/lat.tsv"
    log "  -> req/s p50ms p99ms non2xx errors: $parsed"
  done
done

# ---------------------------------------------------------------- report ----
DATE_HUMAN="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
DATE_FILE="$(date -u '+%Y%m%d-%H%M%S')"
GIT_REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit')"
if [[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -n 1)" ]]; then GIT_REV="$GIT_REV (dirty tree)"; fi
CURL_VERSION="$({ curl --version || true; } | head -n 1 | cut -d' ' -f1-2)"
WRK_VERSION="none (Python client)"
[[ -n "$WRK" ]] && WRK_VERSION="$({ "$WRK" -v 2>&1 || true; } | head -n 1 | cut -d' ' -f1-2)"
mkdir -p "$ROOT/bench/results"
RESULT_FILE="$ROOT/bench/results/get-vs-direct-$DATE_FILE.md"

HOST_LINE="$(host_line)"
JDK_LINE="$JAVA_VERSION_LINE (\`$JAVA\`)${SLUICE_JAVA_OPTS:+, sluice JVM options \`$SLUICE_JAVA_OPTS\`}${BASELINE_JAR:+${BASELINE_JAVA_OPTS:+, baseline JVM options \`$BASELINE_JAVA_OPTS\`}}"
S3PROXY_JAR_NAME="$(basename "$S3PROXY_JAR")"
NPROC="$(nproc)"
SIDES_LIST="${SIDES[*]}"
BASELINE_NAME="$BASELINE_JAR"
export SIDES_LIST BASELINE_NAME BASE_VIA CLK_TCK
export CMDLINE DATE_HUMAN HOST_LINE JDK_LINE GIT_REV CURL_VERSION WRK_VERSION LOAD_TOOL DIRECT VIA RUNS BIG_MIB BIG_WARMUPS \
  WRK_SECONDS WARMUP_S WRK_ROUNDS S3PROXY_JAR_NAME NPROC
"$PY" - "$WORK/tput.tsv" "$WORK/lat.tsv" >"$WORK/report.md" <<'EOF'
import os, statistics, sys
E = os.environ
tput = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
lat = [l.split("\t") for l in open(sys.argv[2]).read().split("\n") if l]
med = statistics.median
runs = int(E["RUNS"])
sides = E["SIDES_LIST"].split()
tck = float(E["CLK_TCK"])
print("# GET through sluice vs direct from S3Proxy")
print()
print(f"- command: `{E['CMDLINE'].strip()}`")
print(f"- date: {E['DATE_HUMAN']}")
print(f"- host: {E['HOST_LINE']}")
print(f"- JDK: {E['JDK_LINE']}")
print(f"- sluice: target/sluice.jar, git {E['GIT_REV']}")
if "baseline" in sides:
    print(f"- baseline: `{E['BASELINE_NAME']}`, a second sluice serving the same product, measured in the same alternation")
if "nginx-proxy" in sides:
    print("- nginx-proxy: nginx, 2 workers, `proxy_pass` to S3Proxy with upstream keep-alive, unbuffered with 64 KiB reads, access log on: what a reverse proxy adds here")
print(f"- backend: S3Proxy 3.0.0 (`{E['S3PROXY_JAR_NAME']}`), jclouds filesystem provider, authorization none, same host")
print(f"- clients: {E['CURL_VERSION']}; {E['WRK_VERSION']}")
print(f"- direct: `{E['DIRECT']}/<key>`; sluice: `{E['VIA']}/<key>` (account bench, product data, anonymous s3 backend)")
print(f"- the client, sluice and S3Proxy share the same {E['NPROC']} cores, so sluice's own CPU use competes with the backend and the client")
print()
print(f"## (a) Throughput: one {E['BIG_MIB']} MiB GET (random bytes)")
print()
print(f"`curl -s -o /dev/null -w '%{{speed_download}} %{{time_total}}' <url>`; {E['BIG_WARMUPS']} warm-up downloads each (the first sha256 checked), "
      f"then {runs} alternating runs each. MB/s = 10^6 bytes/s.")
print()
print("CPU ms per GET: utime+stime of the side's server process (S3Proxy for direct; nginx's master and workers "
      "for nginx-proxy) over each run; the proxies' sides also cost S3Proxy, not counted there.")
print()
print("| path | " + " | ".join(f"run {i}" for i in range(1, runs + 1)) + " | median MB/s | median time (s) | median CPU ms per GET |")
print("|---|" + "---:|" * runs + "---:|---:|---:|")
m = {}
for side in sides:
    rows = [r for r in tput if r[0] == side]
    speeds = [float(r[2]) / 1e6 for r in rows]
    times = [float(r[3]) for r in rows]
    cpu_ms = [int(r[4]) * 1000 / tck for r in rows]
    m[side] = med(speeds)
    print(f"| {side} | " + " | ".join(f"{s:.0f}" for s in speeds) + f" | **{med(speeds):.0f}** | {med(times):.3f} | {med(cpu_ms):.0f} |")
ratio = m["sluice"] / m["direct"]
print()
print(f"**Throughput ratio sluice/direct (medians): {ratio:.3f}** (target >= 0.9: {'met' if ratio >= 0.9 else 'NOT met'})")
if "nginx-proxy" in sides:
    print()
    print(f"**nginx as a reverse proxy, throughput/direct (medians): {m['nginx-proxy'] / m['direct']:.3f}**; "
          f"sluice/nginx-proxy {m['sluice'] / m['nginx-proxy']:.3f}")
if "baseline" in sides:
    print()
    print(f"**Throughput ratio sluice/baseline (medians): {m['sluice'] / m['baseline']:.3f}**; "
          f"baseline/direct {m['baseline'] / m['direct']:.3f}")
print()
print("## (b) Latency: 1 KiB GET under bounded concurrent load")
print()
print(f"`{E['LOAD_TOOL']} <url>`; one {E['WARMUP_S']}s warm-up each (not reported), then {E['WRK_ROUNDS']} alternating rounds each. "
      "CPU µs/req: the server process's utime+stime over the round (S3Proxy's for direct, sluice's own for the others) "
      "divided by the requests the round completed.")
print()
print("| path | round | req/s | p50 (ms) | p99 (ms) | CPU µs/req | non-2xx | socket errors |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
def cpu_us(r):
    reqs = float(r[2]) * float(E["WRK_SECONDS"])
    return float(r[7]) / tck * 1e6 / reqs if reqs > 0 else float("nan")
for r in lat:
    print(f"| {r[0]} | {r[1]} | {float(r[2]):.0f} | {float(r[3]):.3f} | {float(r[4]):.3f} | {cpu_us(r):.0f} | {r[5]} | {r[6]} |")
agg = {}
for side in sides:
    rows = [r for r in lat if r[0] == side]
    agg[side] = (med([float(r[2]) for r in rows]), med([float(r[3]) for r in rows]), med([float(r[4]) for r in rows]),
                 med([cpu_us(r) for r in rows]))
    print(f"| **{side}, median of rounds** | | **{agg[side][0]:.0f}** | **{agg[side][1]:.3f}** | **{agg[side][2]:.3f}** | **{agg[side][3]:.0f}** | | |")
added_p50 = agg["sluice"][1] - agg["direct"][1]
added_p99 = agg["sluice"][2] - agg["direct"][2]
print()
print(f"**Added latency (sluice - direct, medians of rounds): p50 {added_p50:+.3f} ms, p99 {added_p99:+.3f} ms** "
      f"(target added p99 <= 1 ms: {'met' if added_p99 <= 1.0 else 'NOT met'})")
if "nginx-proxy" in sides:
    n = agg["nginx-proxy"]
    print()
    print(f"**nginx as a reverse proxy, added over direct: p50 {n[1] - agg['direct'][1]:+.3f} ms, p99 {n[2] - agg['direct'][2]:+.3f} ms**; "
          f"sluice's added p50 over nginx-proxy's: {agg['sluice'][1] - n[1]:+.3f} ms; CPU per request, sluice/nginx {agg['sluice'][3] / n[3]:.2f}")
if "baseline" in sides:
    b, s = agg["baseline"], agg["sluice"]
    print()
    print(f"**sluice/baseline (medians of rounds): req/s {s[0] / b[0]:.3f}, p50 {s[1] / b[1]:.3f}, p99 {s[2] / b[2]:.3f}, "
          f"CPU per request {s[3] / b[3]:.3f}**")
if agg["sluice"][0] < 0.8 * agg["direct"][0] or agg["direct"][0] < 0.8 * agg["sluice"][0]:
    print()
    print(f"Note: the two paths ran at different request rates ({agg['direct'][0]:.0f} vs {agg['sluice'][0]:.0f} req/s). "
          "wrk is closed-loop, so at saturation latency is mostly queueing (connections / rate) on shared cores; "
          "read the added latency together with the req/s, not alone.")
bad = sum(int(r[5]) + int(r[6]) for r in lat)
if bad:
    print()
    print(f"WARNING: {bad} non-2xx responses or socket errors during the latency runs; the latency figures are suspect.")
EOF
cp "$WORK/report.md" "$RESULT_FILE"
cat "$WORK/report.md"
log "written: ${RESULT_FILE#"$ROOT"/}"

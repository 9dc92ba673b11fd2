#!/usr/bin/env bash
# The same files served by nginx and by sluice's file backend, side by side in one run on
# one machine:
#   cold start: for each sluice, milliseconds from launching the JVM to the first 200 on a
#               GET, the RSS then (idle), and the requests/s of the first COLD_SECONDS of
#               load on that cold JVM;
#   (a) small GET: a 1 KiB file under wrk -t$WRK_THREADS -c$CONNECTIONS, after a WARMUP_S
#       warm-up of each server, WRK_ROUNDS alternating rounds: req/s, p50, p99, and the CPU
#       time per request of each server (utime+stime from /proc over the round; nginx's
#       master and workers together), and each server's RSS after its rounds;
#   (b) large GET: one BIG_MIB MiB file with curl, a checked warm-up each, then RUNS
#       alternating runs: median MB/s, spread, and the ratio to nginx.
# With BASELINE_JAR=<another sluice.jar> (an earlier build) that sluice is measured in the
# same alternation, for before/after figures from one run. BASELINE_JAVA_OPTS (default:
# SLUICE_JAVA_OPTS) are the baseline's JVM options, so one jar can be compared under two.
# With BARE=1 the small GET also measures two bare Jetty servers configured as sluice's
# (bench/java/dev/sluice/bench/BareFileServer.java: read the file, write it, nothing else),
# one dispatching each request to a virtual thread as sluice does, one running it on the
# selector's thread: the floor Jetty and each thread model put under sluice's own work.
#
#   bench/file-vs-nginx.sh
#   RUNS=5 BIG_MIB=256 CONNECTIONS=16 WRK_DURATION=10s WRK_ROUNDS=3 WARMUP_S=8 COLD_SECONDS=5 bench/file-vs-nginx.sh
#
# nginx 1.22 (Debian's nginx-light) runs with sendfile on and 2 workers, access log on (to
# a file, as sluice's goes to its log). nginx is installed with apt-get when missing and
# possible. Needs target/sluice.jar (this script never builds), a JDK >= 21, curl, wrk.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CMDLINE="$(printf '%q ' "bench/$(basename "$0")" "$@")"
for v in RUNS BIG_MIB CONNECTIONS WRK_THREADS WRK_DURATION WRK_ROUNDS WARMUP_S COLD_SECONDS SLUICE_JAVA_OPTS BASELINE_JAR BASELINE_JAVA_OPTS BARE; do
  if [[ -n "${!v:-}" ]]; then CMDLINE="$v=$(printf '%q' "${!v}") $CMDLINE"; fi
done
RUNS="${RUNS:-5}"
BIG_MIB="${BIG_MIB:-256}"
CONNECTIONS="${CONNECTIONS:-16}"
WRK_THREADS="${WRK_THREADS:-2}"
WRK_DURATION="${WRK_DURATION:-10s}"
WRK_ROUNDS="${WRK_ROUNDS:-3}"
WARMUP_S="${WARMUP_S:-8}"
COLD_SECONDS="${COLD_SECONDS:-5}"
SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-}"
BASELINE_JAR="${BASELINE_JAR:-}"
BASELINE_JAVA_OPTS="${BASELINE_JAVA_OPTS-$SLUICE_JAVA_OPTS}"
BARE="${BARE:-0}"
CURL_MAX_TIME=300
. "$ROOT/bench/lib.sh"

[[ "$RUNS" =~ ^[0-9]+$ ]] && ((RUNS >= 1 && RUNS <= 50)) || die "RUNS must be 1..50"
[[ "$WRK_ROUNDS" =~ ^[0-9]+$ ]] && ((WRK_ROUNDS >= 1 && WRK_ROUNDS <= 10)) || die "WRK_ROUNDS must be 1..10"
[[ "$BIG_MIB" =~ ^[0-9]+$ ]] && ((BIG_MIB >= 1 && BIG_MIB <= 4096)) || die "BIG_MIB must be 1..4096"
[[ "$CONNECTIONS" =~ ^[0-9]+$ ]] && ((CONNECTIONS >= 1 && CONNECTIONS <= 1000)) || die "CONNECTIONS must be 1..1000"
[[ "$WARMUP_S" =~ ^[0-9]+$ ]] && ((WARMUP_S >= 1 && WARMUP_S <= 600)) || die "WARMUP_S must be 1..600"
[[ "$COLD_SECONDS" =~ ^[0-9]+$ ]] && ((COLD_SECONDS >= 1 && COLD_SECONDS <= 60)) || die "COLD_SECONDS must be 1..60"
[[ "$WRK_DURATION" =~ ^([0-9]+)s$ ]] && ((${BASH_REMATCH[1]} >= 1 && ${BASH_REMATCH[1]} <= 600)) || die "WRK_DURATION must be like 10s"
WRK_SECONDS="${WRK_DURATION%s}"

find_java
find_wrk
[[ -n "$WRK" ]] || die "wrk is required"
command -v curl >/dev/null || die "curl is required"
find_nginx
SLUICE_JAR="$ROOT/target/sluice.jar"
[[ -f "$SLUICE_JAR" ]] || die "$SLUICE_JAR is missing (build it first; this script does not build)"
SIDES=(nginx sluice)
if [[ -n "$BASELINE_JAR" ]]; then
  [[ -f "$BASELINE_JAR" ]] || die "BASELINE_JAR $BASELINE_JAR is missing"
  SIDES=(nginx baseline sluice)
fi
SMALL_SIDES=("${SIDES[@]}")
if [[ "$BARE" == 1 ]]; then
  . "$ROOT/bench/classpath.sh" # compiles the bench classes; sets BENCH_CP
  SMALL_SIDES+=(bare-blocking bare-nonblocking)
fi

# ------------------------------------------------------------------ data ----
mkdir -p "$WORK/data"
chmod 755 "$WORK" "$WORK/data" # nginx's workers run as another user when it is started by root
head -c 1024 /dev/urandom >"$WORK/data/small.bin"
head -c $((BIG_MIB * 1024 * 1024)) /dev/urandom >"$WORK/data/big.bin"
BIG_SHA="$(sha256sum "$WORK/data/big.bin" | cut -d' ' -f1)"
BIG_BYTES=$((BIG_MIB * 1024 * 1024))

# ----------------------------------------------------------------- nginx ----
NGINX_PORT="$(free_port)"
start_nginx "$NGINX_PORT" "  sendfile on;
  tcp_nopush on;
  default_type application/octet-stream;" "    location /bench/data/ { alias $WORK/data/; }"
wait_http "http://127.0.0.1:$NGINX_PORT/bench/data/small.bin" nginx "$NGINX_PID"
nginx_pids() { echo "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true); }

# ---------------------------------------------------------------- sluices ---
declare -A URL PID COLD_MS IDLE_RSS COLD_RPS
sluice_config() { # LISTEN ADMIN
  cat <<EOF
server: { listen: "127.0.0.1:$1", admin_listen: "127.0.0.1:$2" }
registry:
  type: static
  products:
    - { account: bench, product: data, visibility: public, backend: { type: file, path: "$WORK/data" } }
EOF
}
# launch_cold SIDE JAR: start a sluice, time its first 200 on a GET, then load the cold JVM.
launch_cold() {
  local side="$1" jar="$2" port admin t0 t1 code deadline
  port="$(free_port)"; admin="$(free_port)"
  sluice_config "$port" "$admin" >"$WORK/$side.yaml"
  URL[$side]="http://127.0.0.1:$port/bench/data"
  t0="$(date +%s%N)"
  # shellcheck disable=SC2086
  local opts="$SLUICE_JAVA_OPTS"
  [[ "$side" == baseline ]] && opts="$BASELINE_JAVA_OPTS"
  start "$side" "$WORK/$side.log" "$JAVA" $opts -jar "$jar" serve --config "$WORK/$side.yaml"
  PID[$side]="${PIDS[-1]}"
  deadline=$((SECONDS + READY_TIMEOUT_S))
  while :; do
    kill -0 "${PID[$side]}" 2>/dev/null || die "$side exited before its first 200"
    ((SECONDS < deadline)) || die "$side: no 200 within ${READY_TIMEOUT_S}s"
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "${URL[$side]}/small.bin" || true)"
    [[ "$code" == 200 ]] && break
    sleep 0.01
  done
  t1="$(date +%s%N)"
  COLD_MS[$side]=$(( (t1 - t0) / 1000000 ))
  IDLE_RSS[$side]="$(rss_kib "${PID[$side]}")"
  timeout $((COLD_SECONDS + 60)) "$WRK" -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${COLD_SECONDS}s" --latency "${URL[$side]}/small.bin" \
    >"$WORK/cold-$side.txt" 2>&1 || die "cold load on $side failed: $(tail -5 "$WORK/cold-$side.txt")"
  COLD_RPS[$side]="$(parse_load "$WORK/cold-$side.txt" | cut -d' ' -f1)"
  log "$side: first 200 after ${COLD_MS[$side]} ms, idle RSS ${IDLE_RSS[$side]} KiB, cold ${COLD_SECONDS}s: ${COLD_RPS[$side]} req/s"
}
URL[nginx]="http://127.0.0.1:$NGINX_PORT/bench/data"
[[ -n "$BASELINE_JAR" ]] && launch_cold baseline "$BASELINE_JAR"
launch_cold sluice "$SLUICE_JAR"
side_pids() { if [[ "$1" == nginx ]]; then nginx_pids; else echo "${PID[$1]}"; fi; }
if [[ "$BARE" == 1 ]]; then
  for mode in blocking nonblocking; do
    port="$(free_port)"
    start "bare-$mode" "$WORK/bare-$mode.log" "$JAVA" -cp "$BENCH_CP" dev.sluice.bench.BareFileServer "$mode" "$port" "$WORK/data"
    PID[bare-$mode]="${PIDS[-1]}"
    URL[bare-$mode]="http://127.0.0.1:$port/bench/data"
    wait_http "${URL[bare-$mode]}/small.bin" "bare-$mode" "${PID[bare-$mode]}"
  done
fi

# ------------------------------------------- correctness before timing ------
for side in "${SMALL_SIDES[@]}"; do
  code="$(curl -s -o "$WORK/small.$side" -w '%{http_code}' --max-time 30 "${URL[$side]}/small.bin")"
  [[ "$code" == 200 ]] || die "GET ${URL[$side]}/small.bin gave HTTP $code"
  cmp -s "$WORK/data/small.bin" "$WORK/small.$side" || die "GET ${URL[$side]}/small.bin: body differs from the file"
done
for side in "${SIDES[@]}"; do
  sha="$(curl -sf --max-time "$CURL_MAX_TIME" "${URL[$side]}/big.bin" | sha256sum | cut -d' ' -f1)" || die "GET ${URL[$side]}/big.bin failed"
  [[ "$sha" == "$BIG_SHA" ]] || die "GET ${URL[$side]}/big.bin: sha256 $sha, expected $BIG_SHA"
done

# ----------------------------------------------------- (a) small GET ---------
for side in "${SMALL_SIDES[@]}"; do
  log "warm-up ${WARMUP_S}s: $side"
  timeout $((WARMUP_S + 60)) "$WRK" -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${WARMUP_S}s" "${URL[$side]}/small.bin" >/dev/null 2>&1 \
    || die "warm-up of $side failed"
done
: >"$WORK/small.tsv"
for r in $(seq 1 "$WRK_ROUNDS"); do
  for side in $(rotated "$r" "${SMALL_SIDES[@]}"); do
    # shellcheck disable=SC2046
    before="$(cpu_ticks $(side_pids "$side"))"
    timeout $((WRK_SECONDS + 60)) "$WRK" -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WRK_DURATION" --latency "${URL[$side]}/small.bin" \
      >"$WORK/load-$side-$r.txt" 2>&1 || die "load on $side failed: $(tail -5 "$WORK/load-$side-$r.txt")"
    # shellcheck disable=SC2046
    ticks=$(( $(cpu_ticks $(side_pids "$side")) - before ))
    # shellcheck disable=SC2046
    rss="$(rss_kib $(side_pids "$side"))"
    parsed="$(parse_load "$WORK/load-$side-$r.txt")" || die "cannot parse load output for $side round $r"
    printf '%s\t%s\t%s\t%s\t%s\n' "$side" "$r" "${parsed// /$'\t'}" "$ticks" "$rss" >>"$WORK/small.tsv"
    log "small round $r $side: req/s p50 p99 non2xx errors = $parsed; cpu ticks $ticks; rss $rss KiB"
  done
done

# ----------------------------------------------------- (b) large GET ---------
: >"$WORK/big.tsv"
for i in $(seq 1 "$RUNS"); do
  for side in "${SIDES[@]}"; do
    out="$(curl -s -o /dev/null --max-time "$CURL_MAX_TIME" -w '%{http_code} %{size_download} %{speed_download} %{time_total}' \
      "${URL[$side]}/big.bin")" || die "GET ${URL[$side]}/big.bin failed (run $i)"
    read -r code size speed ttotal <<<"$out"
    [[ "$code" == 200 && "$size" == "$BIG_BYTES" ]] || die "GET ${URL[$side]}/big.bin run $i: HTTP $code, $size bytes"
    printf '%s\t%s\t%s\t%s\n' "$side" "$i" "$speed" "$ttotal" >>"$WORK/big.tsv"
    log "large run $i $side: $(awk -v s="$speed" 'BEGIN{printf "%.0f MB/s", s/1e6}')"
  done
done

# ---------------------------------------------------------------- report ----
: >"$WORK/cold.tsv"
for side in "${SIDES[@]}"; do
  [[ "$side" == nginx ]] && continue
  printf '%s\t%s\t%s\t%s\n' "$side" "${COLD_MS[$side]}" "${IDLE_RSS[$side]}" "${COLD_RPS[$side]}" >>"$WORK/cold.tsv"
done
GIT_REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit')"
[[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -n 1)" ]] && GIT_REV="$GIT_REV (dirty tree)"
export CMDLINE GIT_REV CLK_TCK WRK_SECONDS COLD_SECONDS BIG_MIB
export DATE_HUMAN="$(date -u '+%Y-%m-%d %H:%M:%S UTC')" HOST_LINE="$(host_line)" JDK_LINE="$JAVA_VERSION_LINE"
export NGINX_LINE="$("$NGINX" -v 2>&1)" WRK_LINE="wrk -t$WRK_THREADS -c$CONNECTIONS -d$WRK_DURATION --latency"
export SIDES_LIST="${SIDES[*]}" SMALL_SIDES_LIST="${SMALL_SIDES[*]}" BASELINE_NAME="$BASELINE_JAR"
mkdir -p "$ROOT/bench/results"
RESULT_FILE="$ROOT/bench/results/file-vs-nginx-$(date -u '+%Y%m%d-%H%M%S').md"
"$PY" - "$WORK/cold.tsv" "$WORK/small.tsv" "$WORK/big.tsv" >"$WORK/report.md" <<'EOF'
import os, statistics, sys
E = os.environ
rows = lambda f: [l.split("\t") for l in open(f).read().split("\n") if l]
cold, small, big = rows(sys.argv[1]), rows(sys.argv[2]), rows(sys.argv[3])
med = statistics.median
sides = E["SIDES_LIST"].split()
tck = float(E["CLK_TCK"])
print("# Files through sluice's file backend vs nginx")
print()
print(f"- command: `{E['CMDLINE'].strip()}`")
print(f"- date: {E['DATE_HUMAN']}")
print(f"- host: {E['HOST_LINE']}; the load generator and every server share these cores")
print(f"- JDK: {E['JDK_LINE']}; sluice: target/sluice.jar, git {E['GIT_REV']}")
if "baseline" in sides:
    print(f"- baseline: `{E['BASELINE_NAME']}`, measured in the same alternation")
print(f"- nginx: {E['NGINX_LINE']}, 2 workers, sendfile on, access log to a file")
if "bare-blocking" in E["SMALL_SIDES_LIST"].split():
    print("- bare-blocking / bare-nonblocking (small GET only): `BareFileServer`, Jetty configured as sluice's, "
          "reading the file and writing it and nothing else; its handler on a virtual thread per request, "
          "as sluice's, or on the selector's thread")
print()
print("## Cold start")
print()
print(f"| sluice | launch → first 200 (ms) | idle RSS (MiB) | req/s, first {E['COLD_SECONDS']} s of load |")
print("|---|---:|---:|---:|")
for r in cold:
    print(f"| {r[0]} | {r[1]} | {int(r[2]) / 1024:.0f} | {float(r[3]):.0f} |")
print()
print("## (a) Small GET, 1 KiB")
print()
print(f"`{E['WRK_LINE']}`, after a warm-up of each server; alternating rounds. CPU µs/req: the server's "
      "utime+stime over the round (nginx: master and workers) over the requests it completed.")
print()
print("| server | round | req/s | p50 ms | p99 ms | CPU µs/req | RSS MiB | non-2xx | socket errors |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
secs = float(E["WRK_SECONDS"])
cpu = lambda r: float(r[7]) / tck * 1e6 / (float(r[2]) * secs)
for r in small:
    print(f"| {r[0]} | {r[1]} | {float(r[2]):.0f} | {float(r[3]):.3f} | {float(r[4]):.3f} | {cpu(r):.0f} | {int(r[8]) / 1024:.0f} | {r[5]} | {r[6]} |")
agg = {}
for s in E["SMALL_SIDES_LIST"].split():
    rs = [r for r in small if r[0] == s]
    agg[s] = (med(float(r[2]) for r in rs), med(float(r[3]) for r in rs), med(float(r[4]) for r in rs), med(cpu(r) for r in rs))
    print(f"| **{s}, median** | | **{agg[s][0]:.0f}** | **{agg[s][1]:.3f}** | **{agg[s][2]:.3f}** | **{agg[s][3]:.0f}** | | | |")
print()
for s in E["SMALL_SIDES_LIST"].split():
    if s == "nginx":
        continue
    a, n = agg[s], agg["nginx"]
    print(f"- **{s}/nginx: req/s {a[0] / n[0]:.2f}, added p50 {a[1] - n[1]:+.3f} ms, added p99 {a[2] - n[2]:+.3f} ms, "
          f"CPU per request {a[3] / n[3]:.2f}×**")
for s in ("bare-blocking", "bare-nonblocking"):
    if s in agg:
        a, b = agg["sluice"], agg[s]
        print(f"- **sluice/{s}: req/s {a[0] / b[0]:.2f}, CPU per request {a[3] / b[3]:.2f}× "
              f"(sluice's own work: {a[3] - b[3]:.0f} µs a request over this floor)**")
if "baseline" in sides:
    a, b = agg["sluice"], agg["baseline"]
    print(f"- **sluice/baseline: req/s {a[0] / b[0]:.3f}, p99 {a[2] / b[2]:.3f}, CPU per request {a[3] / b[3]:.3f}**")
bad = sum(int(r[5]) + int(r[6]) for r in small)
if bad:
    print(f"\nWARNING: {bad} non-2xx responses or socket errors; the small-GET figures are suspect.")
print()
print(f"## (b) Large GET, {E['BIG_MIB']} MiB")
print()
runs = max(int(r[1]) for r in big)
print("| server | " + " | ".join(f"run {i}" for i in range(1, runs + 1)) + " | median MB/s | min–max |")
print("|---|" + "---:|" * runs + "---:|---:|")
m = {}
for s in sides:
    sp = [float(r[2]) / 1e6 for r in big if r[0] == s]
    m[s] = med(sp)
    print(f"| {s} | " + " | ".join(f"{x:.0f}" for x in sp) + f" | **{m[s]:.0f}** | {min(sp):.0f}–{max(sp):.0f} |")
print()
for s in sides:
    if s != "nginx":
        print(f"- **{s}/nginx (medians): {m[s] / m['nginx']:.3f}**")
if "baseline" in sides:
    print(f"- **sluice/baseline (medians): {m['sluice'] / m['baseline']:.3f}**")
EOF
cp "$WORK/report.md" "$RESULT_FILE"
cat "$WORK/report.md"
log "written: ${RESULT_FILE#"$ROOT"/}"

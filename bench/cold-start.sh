#!/usr/bin/env bash
# Cold start, repeated: RUNS launches of each side, in rotated order, each timed from launching
# to the first 200 on a GET of a 1 KiB file (polled every 10 ms), with the CPU the process had
# used by then (all its threads: the JIT compilers too), then COLD_SECONDS of wrk load on that
# cold JVM. Sides:
#   launcher  ./sluice serve: the JVM with the startup cache the build made (docs/operations.md)
#   jar       java -jar target/sluice.jar serve: the same jar without it
#   baseline  java -jar $BASELINE_JAR serve, when BASELINE_JAR is set
# Needs target/sluice.jar and its cache (./mvnw -DskipTests package), wrk and curl.
#
#   RUNS=5 COLD_SECONDS=5 [BASELINE_JAR=old.jar] bench/cold-start.sh
#
# Prints a markdown report (also written to bench/results/): median and range of each figure per side.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
CMDLINE="bench/cold-start.sh"
for v in RUNS COLD_SECONDS BASELINE_JAR; do
  if [[ -n "${!v:-}" ]]; then CMDLINE="$v=$(printf '%q' "${!v}") $CMDLINE"; fi
done
RUNS="${RUNS:-5}"
COLD_SECONDS="${COLD_SECONDS:-5}"
BASELINE_JAR="${BASELINE_JAR:-}"
WORK="$(mktemp -d /tmp/sluice-cold.XXXXXX)"
PIDS=()
. "$ROOT/bench/lib.sh"
[[ "$RUNS" =~ ^[0-9]+$ ]] && ((RUNS >= 1 && RUNS <= 50)) || die "RUNS must be 1..50"
[[ "$COLD_SECONDS" =~ ^[0-9]+$ ]] && ((COLD_SECONDS >= 1 && COLD_SECONDS <= 60)) || die "COLD_SECONDS must be 1..60"
[[ -f target/sluice.jar ]] || die "no target/sluice.jar: ./mvnw -DskipTests package"
[[ -z "$BASELINE_JAR" || -f "$BASELINE_JAR" ]] || die "no $BASELINE_JAR"
find_java
find_wrk
[[ -n "$WRK" ]] || die "wrk is needed"
. "$ROOT/scripts/find-jdk.sh"
[[ "$JAVA_HOME/bin/java" -ef "$JAVA" ]] || log "note: ./sluice runs $JAVA_HOME, the jar sides $JAVA"

mkdir -p "$WORK/data"
head -c 1024 /dev/urandom >"$WORK/data/small.bin"
SIDES=(launcher jar)
[[ -n "$BASELINE_JAR" ]] && SIDES+=(baseline)

# one SIDE: launch, time the first 200, load, stop; appends "side ms cpu_ms rps" to $WORK/runs.tsv.
one() {
  local side="$1" port admin t0 t1 code pid ticks rps
  port="$(free_port)"; admin="$(free_port)"
  cat >"$WORK/$side.yaml" <<EOF
server: { listen: "127.0.0.1:$port", admin_listen: "127.0.0.1:$admin", shutdown_grace: 0s }
registry:
  type: static
  products:
    - { account: bench, product: data, visibility: public, backend: { type: file, path: "$WORK/data" } }
EOF
  local url="http://127.0.0.1:$port/bench/data/small.bin"
  t0="$(date +%s%N)"
  case "$side" in
    launcher) start "$side" "$WORK/$side.log" ./sluice serve --config "$WORK/$side.yaml" ;;
    jar) start "$side" "$WORK/$side.log" "$JAVA" -jar target/sluice.jar serve --config "$WORK/$side.yaml" ;;
    baseline) start "$side" "$WORK/$side.log" "$JAVA" -jar "$BASELINE_JAR" serve --config "$WORK/$side.yaml" ;;
  esac
  pid="${PIDS[-1]}"
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  while :; do
    kill -0 "$pid" 2>/dev/null || die "$side exited before its first 200"
    ((SECONDS < deadline)) || die "$side: no 200 within ${READY_TIMEOUT_S}s"
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)"
    [[ "$code" == 200 ]] && break
    sleep 0.01
  done
  t1="$(date +%s%N)"
  ticks="$(cpu_ticks "$pid")"
  timeout $((COLD_SECONDS + 60)) "$WRK" -t2 -c16 -d"${COLD_SECONDS}s" --latency "$url" >"$WORK/wrk-$side.txt" 2>&1 ||
    die "load on $side failed: $(tail -5 "$WORK/wrk-$side.txt")"
  rps="$(parse_load "$WORK/wrk-$side.txt" | cut -d' ' -f1)"
  stop "$pid"
  printf '%s\t%s\t%s\t%s\n' "$side" $(((t1 - t0) / 1000000)) $((ticks * 1000 / CLK_TCK)) "$rps" >>"$WORK/runs.tsv"
  log "$side: first 200 after $(((t1 - t0) / 1000000)) ms, $((ticks * 1000 / CLK_TCK)) ms CPU by then, cold ${COLD_SECONDS}s: $rps req/s"
}

: >"$WORK/runs.tsv"
for r in $(seq 1 "$RUNS"); do
  for side in $(rotated "$r" "${SIDES[@]}"); do one "$side"; done
done

export CMDLINE COLD_SECONDS
export DATE_HUMAN="$(date -u '+%Y-%m-%d %H:%M:%S UTC')" HOST_LINE="$(host_line)" JDK_LINE="$JAVA_VERSION_LINE"
export GIT_REV="$(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')" LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$ROOT/bench/results"
REPORT="$ROOT/bench/results/cold-start-$(date -u +%Y%m%d-%H%M%S).md"
"$PY" - "$WORK/runs.tsv" >"$REPORT" <<'EOF'
import os, statistics, sys
E = os.environ
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
sides = list(dict.fromkeys(r[0] for r in rows))
def fig(vals, fmt="{:.0f}"):
    return f"{fmt.format(statistics.median(vals))} ({fmt.format(min(vals))}–{fmt.format(max(vals))})"
print("# Cold start: launch to first 200, repeated")
print()
print(f"- command: `{E['CMDLINE']}`")
print(f"- date: {E['DATE_HUMAN']}; load average before the report: {E['LOAD']}")
print(f"- host: {E['HOST_LINE']}; wrk and curl share these cores")
print(f"- JDK: {E['JDK_LINE']}; sluice: git {E['GIT_REV']}")
print()
print(f"| side | runs | launch → first 200, ms | CPU by then, ms | req/s, first {E['COLD_SECONDS']} s of load |")
print("|---|---:|---:|---:|---:|")
for s in sides:
    rs = [r for r in rows if r[0] == s]
    print(f"| {s} | {len(rs)} | {fig([int(r[1]) for r in rs])} | {fig([int(r[2]) for r in rs])} | {fig([float(r[3]) for r in rs])} |")
print()
print("Median (min–max).")
EOF
cat "$REPORT"
log "written: ${REPORT#"$ROOT/"}"

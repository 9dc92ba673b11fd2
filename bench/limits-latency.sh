#!/usr/bin/env bash
# What a limit decision adds to a GET (docs/protection.md; target: added p99 <= 0.2 ms on
# loopback): two sluice processes from target/sluice.jar on one redis-server (cache.shared),
# serving the same 1 KiB file, one without limits and one whose every anonymous GET takes a
# token from its address's bucket and from its product's, and passes the product's daily
# byte quota (rates and quota far above the load, so nothing is refused: only the decisions'
# cost is measured). wrk --latency at WRK_CONNECTIONS (2) for WRK_SECONDS (10) per round,
# after a WARMUP_S (8) warm-up of each, ROUNDS (3) rounds alternating; medians of the rounds'
# p50/p99 and req/s, and each process's CPU µs per request.
#
#   bench/limits-latency.sh
#   WRK_CONNECTIONS=16 bench/limits-latency.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-2}"
WRK_SECONDS="${WRK_SECONDS:-10}"
WARMUP_S="${WARMUP_S:-8}"
ROUNDS="${ROUNDS:-3}"
[[ "$ROUNDS" =~ ^[0-9]+$ ]] && ((ROUNDS >= 1 && ROUNDS <= 20)) || { echo "ROUNDS must be 1..20" >&2; exit 2; }
[[ "$WRK_SECONDS" =~ ^[0-9]+$ ]] && ((WRK_SECONDS >= 1 && WRK_SECONDS <= 300)) || { echo "WRK_SECONDS must be 1..300" >&2; exit 2; }

WORK="$(mktemp -d /tmp/sluice-limits-bench.XXXXXX)"
PIDS=()
. "$ROOT/bench/lib.sh"
find_java
find_wrk
[[ -n "$WRK" ]] || die "wrk is required"
command -v redis-server >/dev/null || die "redis-server is required"
SLUICE_JAR="$ROOT/target/sluice.jar"
[[ -f "$SLUICE_JAR" ]] || die "$SLUICE_JAR is missing (build it first; this script does not build)"

mkdir -p "$WORK/data"
head -c 1024 /dev/urandom >"$WORK/data/k.bin"
REDIS_PORT="$(free_port)"
start redis "$WORK/redis.log" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no
for i in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
export SLUICE_CACHE_KEY="$(head -c 32 /dev/urandom | base64)"

config() { # PORT ADMIN LIMITS_YAML
  cat <<YAML
server: { listen: "127.0.0.1:$1", admin_listen: "127.0.0.1:$2", shutdown_grace: 0 }
cache:
  shared: { type: redis, uri: "redis://127.0.0.1:$REDIS_PORT", seal_key_env: SLUICE_CACHE_KEY }
registry:
  products:
    - { account: bench, product: data, backend: { type: file, path: "$WORK/data" } }
$3
YAML
}
declare -A PORT ADMIN PID
for side in unlimited limited; do
  PORT[$side]="$(free_port)"; ADMIN[$side]="$(free_port)"
  limits=""
  [[ "$side" == limited ]] && limits='limits:
  anonymous: { requests_per_second: 1000000, burst: 1000000 }
  product: { requests_per_second: 1000000, burst: 1000000, bytes_per_day: 1000GiB }'
  config "${PORT[$side]}" "${ADMIN[$side]}" "$limits" >"$WORK/$side.yaml"
  start "sluice-$side" "$WORK/sluice-$side.log" "$JAVA" -jar "$SLUICE_JAR" serve --config "$WORK/$side.yaml"
  PID[$side]="${PIDS[-1]}"
  wait_http "http://127.0.0.1:${ADMIN[$side]}/readyz" "sluice-$side" "${PID[$side]}"
done

url() { echo "http://127.0.0.1:${PORT[$1]}/bench/data/k.bin"; }
for side in unlimited limited; do
  log "warm-up $side (${WARMUP_S}s)"
  "$WRK" -t1 -c"$WRK_CONNECTIONS" -d"${WARMUP_S}s" "$(url "$side")" >/dev/null
done
: >"$WORK/rounds.tsv"
for r in $(seq 1 "$ROUNDS"); do
  for side in $(rotated "$r" unlimited limited); do
    t0="$(cpu_ticks "${PID[$side]}")"
    "$WRK" -t1 -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency "$(url "$side")" >"$WORK/wrk.out"
    t1="$(cpu_ticks "${PID[$side]}")"
    read -r rps p50 p99 non2xx errors < <(parse_load "$WORK/wrk.out")
    [[ "$non2xx" == 0 && "$errors" == 0 ]] || die "$side round $r: $non2xx non-2xx, $errors socket errors"
    cpu_us="$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v rps="$rps" -v s="$WRK_SECONDS" 'BEGIN{printf "%.0f", t / hz * 1e6 / (rps * s)}')"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$side" "$r" "$rps" "$p50" "$p99" "$cpu_us" >>"$WORK/rounds.tsv"
    log "round $r $side: $rps req/s, p50 $p50 ms, p99 $p99 ms, $cpu_us CPU µs/request"
  done
done
decisions="$(curl -s "http://127.0.0.1:${ADMIN[limited]}/metrics" | awk '/^sluice_limit_decisions_total/ && /store="shared"/ {s += $NF} END {print s + 0}')"
fallbacks="$(curl -s "http://127.0.0.1:${ADMIN[limited]}/metrics" | awk '/^sluice_limit_fallbacks_total/ {s += $NF} END {print s + 0}')"
"$PY" - "$WORK/rounds.tsv" "$WRK_CONNECTIONS" "$WRK_SECONDS" "$ROUNDS" "$(host_line)" "$JAVA_VERSION_LINE" "$decisions" "$fallbacks" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
conn, secs, rounds, host, jdk, decisions, fallbacks = sys.argv[2:9]
med = lambda side, i: statistics.median(float(r[i]) for r in rows if r[0] == side)
print(f"### Limited vs unlimited GET: {conn} connections, {rounds} rounds of {secs} s\n")
print(f"{host}; {jdk}\n")
print("| sluice | req/s | p50 ms | p99 ms | CPU µs/request |")
print("|---|---:|---:|---:|---:|")
for side in ("unlimited", "limited"):
    print(f"| {side} | {med(side, 2):,.0f} | {med(side, 3):.3f} | {med(side, 4):.3f} | {med(side, 5):.0f} |")
print(f"\nadded by the limits: p50 {med('limited', 3) - med('unlimited', 3):+.3f} ms, "
      f"p99 {med('limited', 4) - med('unlimited', 4):+.3f} ms; "
      f"shared-store decisions {float(decisions):,.0f}, fallbacks {float(fallbacks):,.0f}")
PY

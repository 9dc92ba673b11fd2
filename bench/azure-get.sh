#!/usr/bin/env bash
# A large GET through sluice from an Azure Blob backend vs. the same GET straight from the
# backend (Azurite), side by side in one run, on one machine: Azurite over HTTPS as the tests
# run it, a private container holding one blob of BIG_MIB (256) MiB of random bytes, sluice
# (target/sluice.jar) with a public product on an `azure` backend (Shared Key, Azurite's
# certificate trusted through backend_tls.ca_file). After a warm-up (one sha256-checked GET per
# path, then WARMUP more through sluice for the JIT), RUNS alternating curl GETs per path, each
# checked for 200 and the full byte count: median MB/s of each, the ratio sluice/direct, the
# spread, and the CPU time Azurite and sluice spent per GET (utime+stime from /proc).
# The direct GETs are signed with an account SAS made from the development account key.
# The report (Markdown) goes to stdout and to bench/results/azure-get-<date>.md.
#
#   bench/azure-get.sh
#   RUNS=5 BIG_MIB=256 WARMUP=3 bench/azure-get.sh   # the defaults
#
# Needs target/sluice.jar (this script never builds it; it compiles the bench sources with
# bench/classpath.sh), Azurite under .tools/azurite (.ci/run installs it), node, openssl,
# curl, python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CMDLINE="$(printf '%q ' "bench/$(basename "$0")" "$@")"
for v in RUNS BIG_MIB WARMUP SLUICE_JAVA_OPTS; do
  if [[ -n "${!v:-}" ]]; then CMDLINE="$v=$(printf '%q' "${!v}") $CMDLINE"; fi
done
RUNS="${RUNS:-5}"
BIG_MIB="${BIG_MIB:-256}"
WARMUP="${WARMUP:-3}"
SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-}"
[[ "$RUNS" =~ ^[0-9]+$ ]] && ((RUNS >= 1 && RUNS <= 50)) || { echo "RUNS must be 1..50" >&2; exit 2; }
[[ "$BIG_MIB" =~ ^[0-9]+$ ]] && ((BIG_MIB >= 1 && BIG_MIB <= 4096)) || { echo "BIG_MIB must be 1..4096" >&2; exit 2; }
[[ "$WARMUP" =~ ^[0-9]+$ ]] && ((WARMUP >= 0 && WARMUP <= 20)) || { echo "WARMUP must be 0..20" >&2; exit 2; }

SLUICE_JAR="$ROOT/target/sluice.jar"
[[ -f "$SLUICE_JAR" ]] || { echo "$SLUICE_JAR is missing (build it first; this script does not build it)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }
. "$ROOT/bench/classpath.sh" # BENCH_CP, JAVA_HOME (and cd "$ROOT")
. "$ROOT/bench/lib.sh"
set -euo pipefail
find_java
CURL_MAX_TIME=300

# ---------------------------------------------------------------- Azurite ----
INFO="$WORK/azurite.info"
printf -- '-cp\n%s\n' "$BENCH_CP" >"$WORK/bench-cp.args" # an argument file keeps the long classpath out of the log
start azurite "$WORK/azurite-bench.log" "$JAVA_HOME/bin/java" "@$WORK/bench-cp.args" dev.sluice.bench.AzuriteBench "$BIG_MIB" "$INFO" 60
AZ_DRIVER_PID="${PIDS[-1]}"
deadline=$((SECONDS + 180))
until [[ -f "$INFO" ]]; do
  kill -0 "$AZ_DRIVER_PID" 2>/dev/null || die "the Azurite driver exited before it was ready"
  ((SECONDS < deadline)) || die "Azurite not started and seeded within 180 s"
  sleep 0.5
done
info() { sed -n "s/^$1=//p" "$INFO"; }
ENDPOINT="$(info endpoint)"; ACCOUNT="$(info account)"; CONTAINER="$(info container)"; BLOB="$(info blob)"
CERT="$(info cert)"; SAS="$(info sas)"; BIG_BYTES="$(info bytes)"; BIG_SHA="$(info sha256)"; AZURITE_PID="$(info azurite_pid)"
DIRECT="$ENDPOINT/$CONTAINER/$BLOB?$SAS"
AZURITE_VERSION="$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' .tools/azurite/node_modules/azurite/package.json | head -n 1)"
NODE_VERSION="$(node --version 2>/dev/null || echo '?')"

# ---------------------------------------------------------------- sluice -----
SLUICE_PORT="$(free_port)"
ADMIN_PORT="$(free_port)"
cat >"$WORK/sluice.yaml" <<EOF
server: { listen: "127.0.0.1:$SLUICE_PORT", admin_listen: "127.0.0.1:$ADMIN_PORT" }
backend_tls: { ca_file: "$CERT" }
registry:
  type: static
  products:
    - account: bench
      product: data
      visibility: public
      backend:
        type: azure
        endpoint: "$ENDPOINT"
        account: $ACCOUNT
        container: $CONTAINER
        timeout: 60s
        auth: { type: shared_key, account_key_env: AZURITE_KEY }
EOF
# Azurite's published development key (not a secret).
export AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# shellcheck disable=SC2086
start sluice "$WORK/sluice.log" "$JAVA" $SLUICE_JAVA_OPTS -jar "$SLUICE_JAR" serve --config "$WORK/sluice.yaml"
SLUICE_PID="${PIDS[-1]}"
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" sluice "$SLUICE_PID"
VIA="http://127.0.0.1:$SLUICE_PORT/bench/data/$BLOB"

url_of() { case "$1" in direct) echo "$DIRECT" ;; sluice) echo "$VIA" ;; esac; }

# ------------------------------------------------------------- warm-up -------
for side in direct sluice; do
  log "warm-up + sha256 check: $side"
  sha="$(curl -sf --cacert "$CERT" --max-time "$CURL_MAX_TIME" "$(url_of "$side")" | sha256sum | cut -d' ' -f1)" \
    || die "warm-up GET ($side) failed"
  [[ "$sha" == "$BIG_SHA" ]] || die "GET ($side): sha256 $sha, expected $BIG_SHA"
done
for i in $(seq 1 "$WARMUP"); do
  log "JIT warm-up $i/$WARMUP through sluice"
  curl -sf -o /dev/null --max-time "$CURL_MAX_TIME" "$VIA" || die "warm-up GET $i through sluice failed"
done

# ------------------------------------------------------------- measured ------
# Each run: curl's speed and time, and the CPU ticks Azurite and sluice used during it.
: >"$WORK/tput.tsv"
for i in $(seq 1 "$RUNS"); do
  for side in direct sluice; do
    az0="$(cpu_ticks "$AZURITE_PID")"; sl0="$(cpu_ticks "$SLUICE_PID")"
    out="$(curl -s -o /dev/null --cacert "$CERT" --max-time "$CURL_MAX_TIME" \
      -w '%{http_code} %{size_download} %{speed_download} %{time_total}' "$(url_of "$side")")" || die "GET ($side) failed (run $i)"
    az="$(( $(cpu_ticks "$AZURITE_PID") - az0 ))"; sl="$(( $(cpu_ticks "$SLUICE_PID") - sl0 ))"
    read -r code size speed ttotal <<<"$out"
    [[ "$code" == 200 && "$size" == "$BIG_BYTES" ]] || die "GET ($side) run $i: HTTP $code, $size bytes (expected 200, $BIG_BYTES)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$side" "$i" "$speed" "$ttotal" "$az" "$sl" >>"$WORK/tput.tsv"
    log "run $i $side: $(awk -v s="$speed" 'BEGIN{printf "%.1f MB/s", s/1e6}') in ${ttotal}s (CPU ticks: Azurite $az, sluice $sl)"
  done
done

# ---------------------------------------------------------------- report -----
DATE_HUMAN="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
DATE_FILE="$(date -u '+%Y%m%d-%H%M%S')"
GIT_REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit')"
if [[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -n 1)" ]]; then GIT_REV="$GIT_REV (dirty tree)"; fi
CURL_VERSION="$({ curl --version || true; } | head -n 1 | cut -d' ' -f1-2)"
LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$ROOT/bench/results"
RESULT_FILE="$ROOT/bench/results/azure-get-$DATE_FILE.md"
HOST_LINE="$(host_line)"
JDK_LINE="$JAVA_VERSION_LINE (\`$JAVA\`)${SLUICE_JAVA_OPTS:+, sluice JVM options \`$SLUICE_JAVA_OPTS\`}"
NPROC="$(nproc)"
export CMDLINE DATE_HUMAN HOST_LINE JDK_LINE GIT_REV CURL_VERSION RUNS BIG_MIB WARMUP NPROC CLK_TCK LOAD AZURITE_VERSION NODE_VERSION
"$PY" - "$WORK/tput.tsv" >"$WORK/report.md" <<'EOF'
import os, statistics, sys
E = os.environ
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
med = statistics.median
tck = float(E["CLK_TCK"])
runs = int(E["RUNS"])
print("# 256 MiB GET from Azure Blob (Azurite): through sluice vs direct" if E["BIG_MIB"] == "256" else
      f"# {E['BIG_MIB']} MiB GET from Azure Blob (Azurite): through sluice vs direct")
print()
print(f"- command: `{E['CMDLINE'].strip()}`")
print(f"- date: {E['DATE_HUMAN']}; load average at the end (1/5/15 min): {E['LOAD']}")
print(f"- host: {E['HOST_LINE']}")
print(f"- JDK: {E['JDK_LINE']}")
print(f"- sluice: target/sluice.jar, git {E['GIT_REV']}; azure backend, Shared Key, HTTPS to Azurite (backend_tls.ca_file)")
print(f"- backend: Azurite {E['AZURITE_VERSION']} (node {E['NODE_VERSION']}), in-memory, HTTPS, --oauth basic, same host")
print(f"- client: {E['CURL_VERSION']}; direct = HTTPS GET signed with an account SAS; sluice = plain HTTP to sluice on loopback")
print(f"- warm-up: one sha256-checked GET per path, then {E['WARMUP']} GETs through sluice; then {runs} alternating runs per path, "
      "each checked for 200 and the full byte count. MB/s = 10^6 bytes/s. CPU: utime+stime of the process during the GET.")
print()
print("| path | " + " | ".join(f"run {i}" for i in range(1, runs + 1)) + " | median MB/s | min–max | median s | Azurite CPU s/GET | sluice CPU s/GET |")
print("|---|" + "---:|" * runs + "---:|---:|---:|---:|---:|")
m = {}
for side in ("direct", "sluice"):
    rs = [r for r in rows if r[0] == side]
    sp = [float(r[2]) / 1e6 for r in rs]
    tt = [float(r[3]) for r in rs]
    az = [int(r[4]) / tck for r in rs]
    sl = [int(r[5]) / tck for r in rs]
    m[side] = (med(sp), min(sp), max(sp), med(tt), med(az), med(sl))
    print(f"| {side} | " + " | ".join(f"{s:.0f}" for s in sp)
          + f" | **{med(sp):.0f}** | {min(sp):.0f}–{max(sp):.0f} | {med(tt):.2f} | {med(az):.2f} | {med(sl):.2f} |")
ratio = m["sluice"][0] / m["direct"][0]
print()
print(f"**Throughput ratio sluice/direct (medians): {ratio:.3f}**; spread (max/min) direct {m['direct'][2] / m['direct'][1]:.2f}, "
      f"sluice {m['sluice'][2] / m['sluice'][1]:.2f}")
print()
for side in ("direct", "sluice"):
    print(f"- {side}: Azurite busy {m[side][4] / m[side][3] * 100:.0f} % of the GET's wall time (of one core), "
          f"sluice {m[side][5] / m[side][3] * 100:.0f} %")
EOF
cp "$WORK/report.md" "$RESULT_FILE"
cat "$WORK/report.md"
log "written: ${RESULT_FILE#"$ROOT"/}"

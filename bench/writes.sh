#!/usr/bin/env bash
# Uploads through sluice vs. the same uploads without it, side by side in one run, on one
# machine (docs/writes.md; target: >= 0.9 of the direct figure):
#   (a) S3 backend: a SIZE_MIB (1024) PutObject and a multipart upload of the same file in
#       PART_MIB (64) parts, through sluice into S3Proxy vs. straight to S3Proxy, twice: as an
#       anonymous client (a plain body: no signing work on either end) and signed with the key
#       the client uses for sluice ("signed": the SDK signs every 64 KiB chunk, as it does
#       toward sluice, and S3Proxy, which checks no signature here, decodes the chunks); and
#       "presigned" both ways: the SDK presigns the PutObject and each UploadPart
#       (UNSIGNED-PAYLOAD) and the client sends the body plain, as SDKs send it over HTTPS, so
#       the client does the same light work toward either and S3Proxy gets a plain body from both;
#   (b) file backend: the same two uploads (chunk-signed, and presigned) through sluice into a directory vs. `dd` writing
#       the same bytes to the same disk (`bs=1M conv=fsync`: sluice fsyncs too);
#   one warm-up each, then RUNS (3) rounds, the order of the sides rotating each round;
#   median seconds, MB/s (10^6 bytes/s) and ratios, and the CPU seconds per GiB (utime+stime
#   from /proc over each upload) of the sluice serving the side, of S3Proxy and of the client
#   (its own process CPU time, printed by it), and how many of the machine's cores those three
#   kept busy together (their CPU seconds over the upload's seconds);
#   (c) memory and CPU: a second sluice with -Xmx256m (MEM_JAVA_OPTS) takes a MEM_MIB (2048)
#       PutObject and multipart upload into a directory, while its RSS is sampled every
#       0.2 s; peak RSS and CPU seconds (utime+stime from /proc) per upload.
# Every upload is made by one client, bench/java/dev/sluice/bench/UploadClient.java (AWS SDK
# for Java v2, one connection, checksums only where required), timed inside the client, so
# both sides pay the same client costs. Every first upload of a side is read back and
# compared by sha256. The report (Markdown) goes to stdout and to
# bench/results/writes-<date>.md; progress goes to stderr.
#
#   bench/writes.sh
#   SIZE_MIB=1024 PART_MIB=64 RUNS=3 MEM_MIB=2048 bench/writes.sh    # the defaults
#   SIZE_MIB=16 PART_MIB=5 RUNS=1 MEM_MIB=16 bench/writes.sh          # a quick check that it works
#   BACKENDS=file bench/writes.sh                                      # only (b) and (c); BACKENDS=s3: (a) and (c)
#   BASELINE_JAR=<another sluice.jar> bench/writes.sh                  # that build too, in the same rotation
#   ONLY_SIDES="direct-presigned sluice-s3-presigned" bench/writes.sh  # only those sides (names as in upload())
#   S3PROXY_DATA=tmpfs bench/writes.sh                                 # S3Proxy stores in /dev/shm: (a) without
#                                                                      # the disk's writeback stalls, which land
#                                                                      # on either side at random
#
# Needs target/sluice.jar (this script never builds it), a JDK >= 21, the S3Proxy fat jar,
# curl, python3; compiles the bench profile for the upload client (bench/classpath.sh).
# Disk: about 4 x SIZE_MIB + 2 x MEM_MIB in a temporary directory (S3Proxy's share in /dev/shm with
# S3PROXY_DATA=tmpfs), removed on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CMDLINE="$(printf '%q ' "bench/$(basename "$0")" "$@")"
for v in SIZE_MIB PART_MIB RUNS MEM_MIB BACKENDS SLUICE_JAVA_OPTS MEM_JAVA_OPTS BASELINE_JAR S3PROXY_DATA ONLY_SIDES; do
  if [[ -n "${!v:-}" ]]; then CMDLINE="$v=$(printf '%q' "${!v}") $CMDLINE"; fi
done
SIZE_MIB="${SIZE_MIB:-1024}"
PART_MIB="${PART_MIB:-64}"
RUNS="${RUNS:-3}"
MEM_MIB="${MEM_MIB:-2048}"
SLUICE_JAVA_OPTS="${SLUICE_JAVA_OPTS:-}"
MEM_JAVA_OPTS="${MEM_JAVA_OPTS:--Xmx256m}"
BACKENDS="${BACKENDS:-s3 file}"
BASELINE_JAR="${BASELINE_JAR:-}"
[[ -z "$BASELINE_JAR" || -f "$BASELINE_JAR" ]] || { echo "BASELINE_JAR $BASELINE_JAR is missing" >&2; exit 2; }

[[ "$RUNS" =~ ^[0-9]+$ ]] && ((RUNS >= 1 && RUNS <= 20)) || { echo "RUNS must be 1..20" >&2; exit 2; }
[[ "$SIZE_MIB" =~ ^[0-9]+$ ]] && ((SIZE_MIB >= 1 && SIZE_MIB <= 8192)) || { echo "SIZE_MIB must be 1..8192" >&2; exit 2; }
[[ "$MEM_MIB" =~ ^[0-9]+$ ]] && ((MEM_MIB >= 1 && MEM_MIB <= 8192)) || { echo "MEM_MIB must be 1..8192" >&2; exit 2; }
for b in $BACKENDS; do [[ "$b" == s3 || "$b" == file ]] || { echo "BACKENDS: s3 and/or file, not $b" >&2; exit 2; }; done
[[ -n "${BACKENDS// }" ]] || { echo "BACKENDS is empty" >&2; exit 2; }
[[ "$PART_MIB" =~ ^[0-9]+$ ]] && ((PART_MIB >= 5 && PART_MIB <= 5120)) || { echo "PART_MIB must be 5..5120 (S3's part limits)" >&2; exit 2; }

. "$ROOT/bench/lib.sh"
find_java
SLUICE_JAR="$ROOT/target/sluice.jar"
[[ -f "$SLUICE_JAR" ]] || die "$SLUICE_JAR is missing (build it first; this script does not build)"
command -v curl >/dev/null || die "curl is required"
command -v dd >/dev/null || die "dd is required"

log "compiling the upload client (bench profile)"
. "$ROOT/bench/classpath.sh"
CLIENT=("$JAVA" -cp "$BENCH_CP" dev.sluice.bench.UploadClient)
cd "$ROOT"

WRITER_ID=AKIASLUICEBENCHW01
WRITER_SECRET="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export WRITER_SECRET
BUCKET=sluice-bench
start_s3proxy "$BUCKET"
DIRECT="http://127.0.0.1:$S3_PORT"

mkdir -p "$WORK/files" "$WORK/bfiles" "$WORK/dd" "$WORK/memfiles"
SIZE_BYTES=$((SIZE_MIB * 1024 * 1024))
log "writing a ${SIZE_MIB} MiB random source file"
head -c "$SIZE_BYTES" /dev/urandom >"$WORK/src.bin"
SRC_SHA="$(sha256sum "$WORK/src.bin" | cut -d' ' -f1)"

sluice_config() { # S3PORT ADMINPORT FILES_DIR [S3_PREFIX]
  cat <<EOF
server: { listen: "127.0.0.1:$1", admin_listen: "127.0.0.1:$2", shutdown_grace: 0 }
registry:
  type: static
  products:
    - account: bench
      product: s3
      visibility: public
      writable: true
      backend: { type: s3, endpoint: "$DIRECT", region: us-east-1, bucket: $BUCKET, prefix: ${4:-via-sluice/}, auth: { type: anonymous } }
    - account: bench
      product: files
      visibility: public
      writable: true
      backend: { type: file, path: "$3" }
inbound:
  access_keys:
    - access_key_id: $WRITER_ID
      secret_access_key_env: WRITER_SECRET
      scopes: [ { product: "bench/*", actions: [get_object, head_object, list_bucket, put_object, delete_object,
                                                 abort_multipart_upload, list_multipart_uploads] } ]
EOF
}
SLUICE_PORT="$(free_port)"; ADMIN_PORT="$(free_port)"
sluice_config "$SLUICE_PORT" "$ADMIN_PORT" "$WORK/files" >"$WORK/sluice.yaml"
start sluice "$WORK/sluice.log" "$JAVA" $SLUICE_JAVA_OPTS -jar "$SLUICE_JAR" serve --config "$WORK/sluice.yaml"
SLUICE_PID="${PIDS[-1]}"
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" sluice "$SLUICE_PID"
VIA="http://127.0.0.1:$SLUICE_PORT"
if [[ -n "$BASELINE_JAR" ]]; then
  B_PORT="$(free_port)"; B_ADMIN="$(free_port)"
  sluice_config "$B_PORT" "$B_ADMIN" "$WORK/bfiles" via-baseline/ >"$WORK/baseline.yaml"
  start baseline "$WORK/baseline.log" "$JAVA" $SLUICE_JAVA_OPTS -jar "$BASELINE_JAR" serve --config "$WORK/baseline.yaml"
  BASELINE_PID="${PIDS[-1]}"
  wait_http "http://127.0.0.1:$B_ADMIN/readyz" baseline "$BASELINE_PID"
  B_VIA="http://127.0.0.1:$B_PORT"
fi

# The JVMs whose CPU each upload is charged: the sluice serving the side, and S3Proxy.
jvm_of() { pgrep -P "$1" java || echo "$1"; } # started with setsid: the JVM may be the process itself
SLUICE_JVM="$(jvm_of "$SLUICE_PID")"
S3PROXY_JVM="$(jvm_of "$S3PROXY_PID")"
[[ -n "$BASELINE_JAR" ]] && BASELINE_JVM="$(jvm_of "$BASELINE_PID")"
serving_jvm() {
  case "$1" in
    sluice-s3 | sluice-file | sluice-s3-presigned | sluice-file-presigned) echo "$SLUICE_JVM" ;;
    baseline-s3 | baseline-file | baseline-s3-presigned | baseline-file-presigned) echo "$BASELINE_JVM" ;;
    *) echo "" ;;
  esac
}

# upload SIDE MODE FILE KEY: one upload; prints the seconds it took and the client's CPU seconds
# over them ("-" for dd, which is not measured).
upload() {
  local side="$1" mode="$2" file="$3" key="$4" out
  case "$side" in
    direct) out="$(timeout 3600 "${CLIENT[@]}" "$mode" "$DIRECT" "$BUCKET" "direct/$key" "$file" "$PART_MIB")" ;;
    direct-signed) out="$(timeout 3600 "${CLIENT[@]}" "$mode" "$DIRECT" "$BUCKET" "signed/$key" "$file" "$PART_MIB" "$WRITER_ID" "$WRITER_SECRET")" ;;
    direct-presigned) out="$(timeout 3600 "${CLIENT[@]}" "$mode-presigned" "$DIRECT" "$BUCKET" "presigned/$key" "$file" "$PART_MIB" "$WRITER_ID" "$WRITER_SECRET")" ;;
    sluice-s3-presigned) out="$(timeout 3600 "${CLIENT[@]}" "$mode-presigned" "$VIA" bench "s3/presigned-$key" "$file" "$PART_MIB" "$WRITER_ID" "$WRITER_SECRET")" ;;
    sluice-file-presigned) out="$(timeout 3600 "${CLIENT[@]}" "$mode-presigned" "$VIA" bench "files/presigned-$key" "$file" "$PART_MIB" "$WRITER_ID" "$WRITER_SECRET")" ;;
    baseline-s3-presigned) out="$(timeout 3600 "${CLIENT[@]}" "$mode-presigned" "$B_VIA" bench "s3/presigned-$key" "$file" "$PART_MIB" "$WRITER_ID" "$WRITER_SECRET")" ;;
    baseline-file-presigned) out="$(timeout 3600 "${CLIENT[@]}" "$mode-presigned" "$B_VIA" bench "files/presigned-$key" "$file" "$PART_MIB" "$WRITER_ID" "$WRITER_SECRET")" ;;
    sluice-s3) out="$(timeout 3600 "${CLIENT[@]}" "$mode" "$VIA" bench "s3/$key" "$file" "$PART_MIB" "$WRITER_ID" "$WRITER_SECRET")" ;;
    sluice-file) out="$(timeout 3600 "${CLIENT[@]}" "$mode" "$VIA" bench "files/$key" "$file" "$PART_MIB" "$WRITER_ID" "$WRITER_SECRET")" ;;
    baseline-s3) out="$(timeout 3600 "${CLIENT[@]}" "$mode" "$B_VIA" bench "s3/$key" "$file" "$PART_MIB" "$WRITER_ID" "$WRITER_SECRET")" ;;
    baseline-file) out="$(timeout 3600 "${CLIENT[@]}" "$mode" "$B_VIA" bench "files/$key" "$file" "$PART_MIB" "$WRITER_ID" "$WRITER_SECRET")" ;;
    mem) out="$(timeout 3600 "${CLIENT[@]}" "$mode" "$MEM_VIA" bench "files/$key" "$file" "$PART_MIB" "$WRITER_ID" "$WRITER_SECRET")" ;;
    dd)
      local t0 t1
      rm -f "$WORK/dd/$key"
      t0="$(date +%s.%N)"
      dd if="$file" of="$WORK/dd/$key" bs=1M conv=fsync status=none
      t1="$(date +%s.%N)"
      out="$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f -", b - a}')"
      ;;
  esac
  [[ "$out" =~ ^[0-9]+\.[0-9]+\ ([0-9]+\.[0-9]+|-)$ ]] || die "upload $side $mode $key: unexpected client output: $out"
  echo "$out"
}
# stored_sha SIDE KEY: sha256 of what the side stored, read back outside the upload path.
stored_sha() {
  case "$1" in
    direct) curl -sf --max-time 600 "$DIRECT/$BUCKET/direct/$2" | sha256sum | cut -d' ' -f1 ;;
    direct-signed) curl -sf --max-time 600 "$DIRECT/$BUCKET/signed/$2" | sha256sum | cut -d' ' -f1 ;;
    direct-presigned) curl -sf --max-time 600 "$DIRECT/$BUCKET/presigned/$2" | sha256sum | cut -d' ' -f1 ;;
    sluice-s3-presigned) curl -sf --max-time 600 "$DIRECT/$BUCKET/via-sluice/presigned-$2" | sha256sum | cut -d' ' -f1 ;;
    sluice-file-presigned) sha256sum "$WORK/files/presigned-$2" | cut -d' ' -f1 ;;
    baseline-s3-presigned) curl -sf --max-time 600 "$DIRECT/$BUCKET/via-baseline/presigned-$2" | sha256sum | cut -d' ' -f1 ;;
    sluice-s3) curl -sf --max-time 600 "$DIRECT/$BUCKET/via-sluice/$2" | sha256sum | cut -d' ' -f1 ;;
    sluice-file) sha256sum "$WORK/files/$2" | cut -d' ' -f1 ;;
    baseline-s3) curl -sf --max-time 600 "$DIRECT/$BUCKET/via-baseline/$2" | sha256sum | cut -d' ' -f1 ;;
    baseline-file) sha256sum "$WORK/bfiles/$2" | cut -d' ' -f1 ;;
    baseline-file-presigned) sha256sum "$WORK/bfiles/presigned-$2" | cut -d' ' -f1 ;;
    dd) sha256sum "$WORK/dd/$2" | cut -d' ' -f1 ;;
  esac
}

SIDES=()
if [[ -n "${ONLY_SIDES:-}" ]]; then read -r -a SIDES <<<"$ONLY_SIDES"; fi
[[ -z "${ONLY_SIDES:-}" && " $BACKENDS " == *" s3 "* ]] && SIDES+=(direct direct-signed sluice-s3 direct-presigned sluice-s3-presigned)
[[ -z "${ONLY_SIDES:-}" && " $BACKENDS " == *" s3 "* && -n "$BASELINE_JAR" ]] && SIDES+=(baseline-s3 baseline-s3-presigned)
[[ -z "${ONLY_SIDES:-}" && " $BACKENDS " == *" file "* ]] && SIDES+=(dd sluice-file sluice-file-presigned)
[[ -z "${ONLY_SIDES:-}" && " $BACKENDS " == *" file "* && -n "$BASELINE_JAR" ]] && SIDES+=(baseline-file baseline-file-presigned)
modes_of() { if [[ "$1" == dd ]]; then echo put; else echo "put multipart"; fi; }

for side in "${SIDES[@]}"; do
  for mode in $(modes_of "$side"); do
    log "warm-up + sha256 check: $side $mode"
    upload "$side" "$mode" "$WORK/src.bin" "$mode.bin" >/dev/null
    sha="$(stored_sha "$side" "$mode.bin")"
    [[ "$sha" == "$SRC_SHA" ]] || die "$side $mode: stored sha256 $sha, expected $SRC_SHA"
  done
done

: >"$WORK/runs.tsv"
for r in $(seq 1 "$RUNS"); do
  for side in $(rotated "$r" "${SIDES[@]}"); do
    for mode in $(modes_of "$side"); do
      jvm="$(serving_jvm "$side")"
      # shellcheck disable=SC2086
      sluice_before="$(cpu_ticks $jvm)"; s3proxy_before="$(cpu_ticks "$S3PROXY_JVM")"
      out="$(upload "$side" "$mode" "$WORK/src.bin" "$mode.bin")"
      read -r s client_cpu <<<"$out"
      # shellcheck disable=SC2086
      sluice_ticks=$(( $(cpu_ticks $jvm) - sluice_before )); s3proxy_ticks=$(( $(cpu_ticks "$S3PROXY_JVM") - s3proxy_before ))
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$side" "$mode" "$r" "$s" "$sluice_ticks" "$s3proxy_ticks" "$client_cpu" >>"$WORK/runs.tsv"
      log "round $r $side $mode: ${s}s ($(awk -v b="$SIZE_BYTES" -v s="$s" 'BEGIN{printf "%.1f MB/s", b/s/1e6}'))"
    done
  done
done
# The measured copies are no longer needed; the memory test needs the room.
rm -f "$WORK/dd/"*.bin "$WORK/files/"*.bin "$WORK/bfiles/"*.bin

# ------------------------------------------------------- memory and CPU ----
stop "$SLUICE_PID"
[[ -n "$BASELINE_JAR" ]] && stop "$BASELINE_PID"
MEM_PORT="$(free_port)"; MEM_ADMIN="$(free_port)"
sluice_config "$MEM_PORT" "$MEM_ADMIN" "$WORK/memfiles" >"$WORK/sluice-mem.yaml"
start sluice-mem "$WORK/sluice-mem.log" "$JAVA" $MEM_JAVA_OPTS -jar "$SLUICE_JAR" serve --config "$WORK/sluice-mem.yaml"
MEM_PID="${PIDS[-1]}"
wait_http "http://127.0.0.1:$MEM_ADMIN/readyz" sluice-mem "$MEM_PID"
MEM_VIA="http://127.0.0.1:$MEM_PORT"
JVM_PID="$(pgrep -P "$MEM_PID" java || echo "$MEM_PID")" # setsid java: the JVM is the process itself
MEM_BYTES=$((MEM_MIB * 1024 * 1024))
log "writing a ${MEM_MIB} MiB random source file"
head -c "$MEM_BYTES" /dev/urandom >"$WORK/mem.bin"
MEM_SHA="$(sha256sum "$WORK/mem.bin" | cut -d' ' -f1)"
rm -f "$WORK/src.bin"
: >"$WORK/mem.tsv"
for mode in put multipart; do
  rss_before="$(rss_kib "$JVM_PID")"
  echo 0 >"$WORK/peak"
  ( # RSS sampler: until the upload's marker file goes, bounded by the upload timeout
    peak=0
    for _ in $(seq 1 18000); do
      [[ -f "$WORK/uploading" ]] || break
      r="$(rss_kib "$JVM_PID")"; ((r > peak)) && peak=$r && echo "$peak" >"$WORK/peak"
      sleep 0.2
    done
  ) &
  SAMPLER=$!
  touch "$WORK/uploading"
  ticks_before="$(cpu_ticks "$JVM_PID")"
  out="$(upload mem "$mode" "$WORK/mem.bin" "mem-$mode.bin")"
  read -r s _ <<<"$out"
  ticks="$(( $(cpu_ticks "$JVM_PID") - ticks_before ))"
  rm -f "$WORK/uploading"
  wait "$SAMPLER" || true
  kill -0 "$JVM_PID" 2>/dev/null || die "sluice (-Xmx256m) died during the $MEM_MIB MiB $mode upload"
  sha="$(sha256sum "$WORK/memfiles/mem-$mode.bin" | cut -d' ' -f1)"
  [[ "$sha" == "$MEM_SHA" ]] || die "memory test $mode: stored sha256 $sha, expected $MEM_SHA"
  rm -f "$WORK/memfiles/mem-$mode.bin"
  printf '%s\t%s\t%s\t%s\t%s\n' "$mode" "$s" "$rss_before" "$(cat "$WORK/peak")" "$ticks" >>"$WORK/mem.tsv"
  log "memory $mode: ${s}s, RSS before $((rss_before / 1024)) MiB, peak $(( $(cat "$WORK/peak") / 1024 )) MiB, CPU $ticks ticks"
done
rm -f "$WORK/mem.bin"

# ------------------------------------------------------------- report -------
DATE_HUMAN="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
DATE_FILE="$(date -u '+%Y%m%d-%H%M%S')"
GIT_REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit')"
if [[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -n 1)" ]]; then GIT_REV="$GIT_REV (dirty tree)"; fi
mkdir -p "$ROOT/bench/results"
RESULT_FILE="$ROOT/bench/results/writes-$DATE_FILE.md"
HOST_LINE="$(host_line)"
JDK_LINE="$JAVA_VERSION_LINE (\`$JAVA\`)${SLUICE_JAVA_OPTS:+, sluice JVM options \`$SLUICE_JAVA_OPTS\`}"
FS_LINE="$(df -T "$WORK" | awk 'NR==2 {print $2 " on " $1}')"
if [[ -n "${S3PROXY_DATA_DIR:-}" ]]; then
  FS_LINE="$FS_LINE; S3Proxy's store: $(df -T "$S3PROXY_DATA_DIR" | awk 'NR==2 {print $2 " on " $1}')"
fi
export BASELINE_JAR CMDLINE DATE_HUMAN HOST_LINE JDK_LINE GIT_REV SIZE_MIB PART_MIB RUNS MEM_MIB MEM_JAVA_OPTS CLK_TCK FS_LINE SIZE_BYTES MEM_BYTES
"$PY" - "$WORK/runs.tsv" "$WORK/mem.tsv" >"$WORK/report.md" <<'EOF'
import os, statistics, sys
E = os.environ
runs = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
mem = [l.split("\t") for l in open(sys.argv[2]).read().split("\n") if l]
size = int(E["SIZE_BYTES"])
tck = int(E["CLK_TCK"])
gib = size / 2**30
med, cpu = {}, {}
busy = {}
for side, mode, _, s, sluice_ticks, s3proxy_ticks, client_cpu in runs:
    med.setdefault((side, mode), []).append(float(s))
    own, store = int(sluice_ticks) / tck, int(s3proxy_ticks) / tck
    client = float(client_cpu) if client_cpu != "-" else None
    cpu.setdefault((side, mode), []).append((own / gib, store / gib, client / gib if client is not None else None))
    if client is not None:
        busy.setdefault((side, mode), []).append((own + store + client) / float(s))
med = {k: statistics.median(v) for k, v in med.items()}
cpu = {k: tuple(statistics.median(x[i] for x in v) if v[0][i] is not None else None for i in range(3))
       for k, v in cpu.items()}
busy = {k: statistics.median(v) for k, v in busy.items()}
mbs = lambda s: size / s / 1e6
print(f"## Writes through sluice vs. without it ({E['DATE_HUMAN']})\n")
print(f"- command: `{E['CMDLINE'].strip()}` at {E['GIT_REV']}")
print(f"- host: {E['HOST_LINE']}; JDK: {E['JDK_LINE']}; work directory: {E['FS_LINE']}")
print(f"- {E['SIZE_MIB']} MiB of random bytes; multipart in {E['PART_MIB']} MiB parts sent one after another; "
      f"{E['RUNS']} rounds after a warm-up, side order rotating; one client for every side "
      f"(bench/java/dev/sluice/bench/UploadClient.java, AWS SDK for Java v2, timed inside the client)\n")
print("CPU s per GiB: utime+stime over each upload of the sluice serving the side and of S3Proxy, and the "
      "client's own process CPU time over the upload (medians). Cores busy: the three together, CPU seconds over "
      f"the upload's seconds (median), of the machine's {os.cpu_count()}.\n")
print("| upload | side | runs (s) | median (s) | MB/s | ratio | sluice CPU s/GiB | S3Proxy CPU s/GiB | client CPU s/GiB | cores busy |")
print("|---|---|---|---|---|---|---:|---:|---:|---:|")
for mode in ("put", "multipart"):
    for side, bases in (("direct", ()), ("direct-signed", ()), ("sluice-s3", ("direct", "direct-signed")),
                        ("baseline-s3", ("direct", "direct-signed")), ("direct-presigned", ()),
                        ("sluice-s3-presigned", ("direct-presigned",)), ("baseline-s3-presigned", ("direct-presigned",)), ("dd", ()),
                        ("sluice-file", ("dd",)), ("sluice-file-presigned", ("dd",)), ("baseline-file", ("dd",)),
                        ("baseline-file-presigned", ("dd",))):
        if (side, mode) not in med:
            continue
        each = ", ".join(f"{float(s):.2f}" for sd, md, _, s, *_ in runs if sd == side and md == mode)
        ratios = []
        for base in bases:
            ref = med.get((base, mode)) or med.get((base, "put"))
            if ref:
                ratios.append(f"{ref / med[(side, mode)]:.2f} of {base}")
        ratio = "; ".join(ratios)
        label = {"direct": "S3Proxy directly", "direct-signed": "S3Proxy directly, signed",
                 "sluice-s3": "sluice → S3Proxy", "dd": "dd bs=1M conv=fsync",
                 "sluice-file": "sluice → directory", "baseline-s3": "baseline → S3Proxy",
                 "baseline-file": "baseline → directory", "direct-presigned": "S3Proxy directly, presigned",
                 "sluice-s3-presigned": "sluice → S3Proxy, presigned",
                 "baseline-s3-presigned": "baseline → S3Proxy, presigned",
                 "sluice-file-presigned": "sluice → directory, presigned",
                 "baseline-file-presigned": "baseline → directory, presigned"}[side]
        own, store, client = cpu[(side, mode)]
        own_text = f"{own:.2f}" if side.startswith(("sluice", "baseline")) else ""
        store_text = f"{store:.2f}" if "-s3" in side or side.startswith("direct") else ""
        client_text = f"{client:.2f}" if client is not None else ""
        busy_text = f"{busy[(side, mode)]:.2f}" if (side, mode) in busy else ""
        print(f"| {mode} | {label} | {each} | {med[(side, mode)]:.2f} | {mbs(med[(side, mode)]):.1f} | {ratio} | "
              f"{own_text} | {store_text} | {client_text} | {busy_text} |")
print(f"\n### Memory and CPU of sluice ({E['MEM_JAVA_OPTS']}) during one {E['MEM_MIB']} MiB upload into a directory\n")
print("| upload | seconds | MB/s | RSS before (MiB) | peak RSS (MiB) | CPU (s) | CPU s per GiB |")
print("|---|---|---|---|---|---|---|")
mb = int(E["MEM_BYTES"])
for mode, s, before, peak, ticks in mem:
    cpu = int(ticks) / tck
    print(f"| {mode} | {float(s):.2f} | {mb / float(s) / 1e6:.1f} | {int(before) / 1024:.0f} | {int(peak) / 1024:.0f} | "
          f"{cpu:.2f} | {cpu / (mb / 2**30):.2f} |")
EOF
cp "$WORK/report.md" "$RESULT_FILE"
cat "$WORK/report.md"
log "report written to $RESULT_FILE"

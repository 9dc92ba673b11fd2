#!/usr/bin/env bash
# The real-client matrix: the README's commands, word for word, and the everyday operations
# (list, get whole, get a range, head, copy a product down) with every client a user is
# likely to point at sluice -- aws-cli v2, aws-cli v1, boto3, rclone, s3cmd, GDAL -- first
# on the quickstart's public products, then signed on the restricted product of
# examples/restricted.yaml.
#
# The README's fenced blocks marked <!-- e2e:NAME --> are extracted and run as they are
# (only the endpoint is moved to a free port), so the README cannot drift from what works.
# Every check compares bytes or listings with examples/data; a client that exits 0 but
# lists or copies fewer files than exist fails ("silence" is a failure).
#
#   e2e/clients.sh                         # every tool must be present
#   E2E_ALLOW_MISSING=1 e2e/clients.sh     # skip (loudly) a missing tool; ignored when CI=true
#
# Prints one line per check and ends with "N passed, M failed"; exits 1 if any check
# failed. Work files and server logs go to e2e/.work/clients/ (gitignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/e2e/.work/clients"
DATA="$ROOT/examples/data"
README="$ROOT/README.md"

. "$ROOT/e2e/lib.sh"

# --------------------------------------------------------------- tools ------
require_tools find sort diff
HAVE_AWS1=0 HAVE_S3CMD=0 HAVE_GDAL=0
if find_aws_v1; then HAVE_AWS1=1; else missing_tool aws-cli-v1 "no aws-cli v1 (looked at \$AWS_V1, ~/.pyenv/versions/*/bin/aws, PATH)"; fi
if command -v s3cmd >/dev/null; then HAVE_S3CMD=1; else missing_tool s3cmd "s3cmd is missing (Debian package s3cmd)"; fi
if command -v gdalinfo >/dev/null && command -v ogrinfo >/dev/null; then HAVE_GDAL=1; else missing_tool gdal "gdalinfo/ogrinfo missing (Debian package gdal-bin)"; fi

isolate_aws_clients

# ------------------------------------------------------------ expected ------
# "SIZE product/relpath" for every file of a product, sorted.
expected_sizes() { (cd "$DATA/$1" && find . -type f -printf "%s $1/%P\n") | LC_ALL=C sort; }
file_count() { find "$DATA/$1" -type f | wc -l; }
# same_tree PRODUCT DIR: DIR holds exactly the product's files, byte-equal (counted, then diffed).
same_tree() {
  local want got
  want="$(file_count "$1")"; got="$(find "$2" -type f | wc -l)"
  [[ "$got" == "$want" ]] || { echo "copied $got of $want files"; find "$2" -type f; return 1; }
  diff -r "$DATA/$1" "$2"
}

# ------------------------------------------------------- README blocks ------
# readme_block NAME: the lines of the fenced block after <!-- e2e:NAME ... -->.
readme_block() {
  awk -v m="<!-- e2e:$1 " '
    index($0, m) == 1 { armed = 1; next }
    armed && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' "$README"
}

# run_readme_line LABEL LINE: runs one README line (the endpoint moved to $ENDPOINT) and
# checks what it printed against examples/data. A line this script has no check for fails.
run_readme_line() {
  local label="$1" line="${2//http:\/\/127.0.0.1:8080/$ENDPOINT}" out="$WORK/readme.out" rc=0
  if [[ "$line" =~ ^export\  ]]; then eval "$line"; return 0; fi
  eval "$line" >"$out" 2>"$WORK/readme.err" || rc=$?
  if [[ $rc -ne 0 ]]; then echo "exit $rc: $line"; cat "$WORK/readme.err"; return 1; fi
  local re_ls_account='^aws s3 ls s3://demo/ ' re_ls_rec='^aws s3 ls s3://demo/([a-z]+)/ --recursive '
  local re_cp_stdout='^aws s3 cp s3://demo/([^ ]+) - ' re_cp_rec='^aws s3 cp s3://demo/([a-z]+)/ ([^ ]+) --recursive '
  local re_presign='^curl -sf "\$\(aws s3 presign s3://demo/([^ ]+) '
  if [[ "$line" =~ $re_ls_account ]]; then
    grep -Eq '^ *PRE hello/$' "$out" && grep -Eq '^ *PRE census/$' "$out" || { echo "no PRE hello/ and PRE census/:"; cat "$out"; return 1; }
    if grep -q 'internal' "$out" && [[ "$line" == *--no-sign-request* ]]; then echo "a restricted product is listed to anonymous"; return 1; fi
  elif [[ "$line" =~ $re_ls_rec ]]; then
    local p="${BASH_REMATCH[1]}" got
    got="$(sed -E 's/^[0-9-]+ [0-9:]+ +([0-9]+) (.*)$/\1 \2/' "$out" | LC_ALL=C sort)"
    [[ "$got" == "$(expected_sizes "$p")" ]] || { echo "listed $(grep -c . "$out") of $(file_count "$p") files:"; diff <(expected_sizes "$p") <(echo "$got"); return 1; }
  elif [[ "$line" =~ $re_cp_stdout ]]; then
    cmp "$DATA/${BASH_REMATCH[1]}" "$out"
  elif [[ "$line" =~ $re_cp_rec ]]; then
    same_tree "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
  elif [[ "$line" =~ $re_presign ]]; then
    cmp "$DATA/${BASH_REMATCH[1]}" "$out"
  else
    echo "README line has no check in e2e/clients.sh: $line"; return 1
  fi
}

# readme_walk BLOCK LABEL AWS_BINARY: every line of a README block as one check each, with
# `aws` meaning AWS_BINARY, in a fresh directory.
readme_walk() {
  local block="$1" label="$2" bin="$3" line n=0 dir="$WORK/readme-$1-$2"
  local lines=()
  mapfile -t lines < <(readme_block "$block")
  if [[ ${#lines[@]} -eq 0 ]]; then bad "README: block e2e:$block found"; return; fi
  eval "aws() { timeout \"\$T\" \"$bin\" \"\$@\"; }"
  rm -rf "$dir"; mkdir -p "$dir"; pushd "$dir" >/dev/null
  for line in "${lines[@]}"; do
    [[ -n "${line// }" ]] || continue
    n=$((n + 1))
    check "$label README $block line $n: $line" run_readme_line "$label" "$line"
  done
  popd >/dev/null
  unset -f aws
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY || true
}

# ------------------------------------------------------------ clients -------
# aws_ops LABEL BIN PRODUCT KEY [--no-sign-request]: what the README does not show: a range,
# a head, and a listing through s3api.
aws_ops() {
  local label="$1" bin="$2" p="$3" key="$4"; shift 4
  local a=(timeout "$T" "$bin" --endpoint-url "$ENDPOINT" --region us-east-1 "$@")
  aws_range() {
    "${a[@]}" s3api get-object --bucket demo --key "$p/$key" --range bytes=3-10 "$WORK/aws-range.bin" >/dev/null || return 1
    cmp <(dd if="$DATA/$p/$key" bs=1 skip=3 count=8 status=none) "$WORK/aws-range.bin"
  }
  aws_head() {
    local len
    len="$("${a[@]}" s3api head-object --bucket demo --key "$p/$key" --query ContentLength --output text)" || return 1
    [[ "$len" == "$(stat -c %s "$DATA/$p/$key")" ]] || { echo "ContentLength $len"; return 1; }
  }
  aws_list_api() {
    local got
    got="$("${a[@]}" s3api list-objects-v2 --bucket demo --prefix "$p/" --page-size 2 --query 'Contents[].[Size,Key]' --output text | tr '\t' ' ' | LC_ALL=C sort)" || return 1
    [[ "$got" == "$(expected_sizes "$p")" ]] || { diff <(expected_sizes "$p") <(echo "$got"); return 1; }
  }
  check "$label: s3api get-object $p/$key --range bytes=3-10 equals the slice" aws_range
  check "$label: s3api head-object $p/$key has the file's size" aws_head
  check "$label: s3api list-objects-v2 $p/ (pages of 2) lists every file with its size" aws_list_api
}

boto3_ops() { # LABEL PRODUCT KEY (signs when AWS_ACCESS_KEY_ID is set)
  local rc=0 line
  (cd "$ROOT/e2e" && timeout 180 "$PY" boto3_clients.py "$ENDPOINT" "$DATA" "$2" "$3" "$1") >"$WORK/boto3.out" 2>&1 || rc=$?
  while IFS= read -r line; do
    case "$line" in
      "ok  "*) ok "${line#ok  }" ;;
      "FAIL "*) bad "${line#FAIL }" ;;
      *) printf '     | %s\n' "$line" ;;
    esac
  done <"$WORK/boto3.out"
  [[ $rc -le 1 ]] || bad "boto3 $1: e2e/boto3_clients.py ran to completion (exit $rc)"
}

rclone_ops() { # LABEL PRODUCT KEY (signs when AWS_ACCESS_KEY_ID is set)
  local label="$1" p="$2" key="$3"
  : >"$WORK/rclone.conf"
  local r=(env RCLONE_CONFIG="$WORK/rclone.conf" RCLONE_CONFIG_S_TYPE=s3 RCLONE_CONFIG_S_PROVIDER=Other
           RCLONE_CONFIG_S_ENDPOINT="$ENDPOINT" RCLONE_CONFIG_S_REGION=us-east-1 RCLONE_CONFIG_S_FORCE_PATH_STYLE=true
           RCLONE_CONFIG_S_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-}" RCLONE_CONFIG_S_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-}"
           timeout "$T" "$RCLONE" --retries 1 --low-level-retries 1)
  rc_ls() {
    local got
    got="$("${r[@]}" ls "s:demo/$p" | sed -E "s/^ *([0-9]+) (.*)$/\1 $p\/\2/" | LC_ALL=C sort)" || return 1
    [[ "$got" == "$(expected_sizes "$p")" ]] || { diff <(expected_sizes "$p") <(echo "$got"); return 1; }
  }
  rc_cat() { cmp "$DATA/$p/$key" <("${r[@]}" cat "s:demo/$p/$key"); }
  rc_range() { cmp <(dd if="$DATA/$p/$key" bs=1 skip=3 count=8 status=none) <("${r[@]}" cat --offset 3 --count 8 "s:demo/$p/$key"); }
  rc_head() {
    local size
    size="$("${r[@]}" lsjson --stat "s:demo/$p/$key" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["Size"])')" || return 1
    [[ "$size" == "$(stat -c %s "$DATA/$p/$key")" ]] || { echo "Size $size"; return 1; }
  }
  rc_copy() { rm -rf "$WORK/rclone-$p"; "${r[@]}" copy "s:demo/$p" "$WORK/rclone-$p" && same_tree "$p" "$WORK/rclone-$p"; }
  check "$label: ls demo/$p lists every file with its size" rc_ls
  check "$label: cat $p/$key equals the file" rc_cat
  check "$label: cat --offset 3 --count 8 $p/$key equals the slice" rc_range
  check "$label: lsjson --stat $p/$key has the file's size" rc_head
  check "$label: copy demo/$p down: every file, byte-equal" rc_copy
}

s3cmd_ops() { # LABEL PRODUCT KEY (s3cmd always signs; without a key sluice serves its unknown key as anonymous)
  local label="$1" p="$2" key="$3" hp="${ENDPOINT#http://}"
  local s=(timeout "$T" s3cmd --config=/dev/null --no-ssl --host="$hp" --host-bucket="$hp" --region=us-east-1
           --access_key="${AWS_ACCESS_KEY_ID:-AKIAUNKNOWNTOSLUICE}" --secret_key="${AWS_SECRET_ACCESS_KEY:-unknown}")
  s3c_ls() {
    local got
    got="$("${s[@]}" ls -r "s3://demo/$p/" | sed -E 's|^[0-9-]+ [0-9:]+ +([0-9]+) +s3://demo/(.*)$|\1 \2|' | LC_ALL=C sort)" || return 1
    [[ "$got" == "$(expected_sizes "$p")" ]] || { diff <(expected_sizes "$p") <(echo "$got"); return 1; }
  }
  s3c_get() { "${s[@]}" get "s3://demo/$p/$key" - >"$WORK/s3cmd-get.out" && cmp "$DATA/$p/$key" "$WORK/s3cmd-get.out"; }
  s3c_info() {
    local size
    size="$("${s[@]}" info "s3://demo/$p/$key" | sed -nE 's/^ *File size: *([0-9]+)$/\1/p')" || return 1
    [[ "$size" == "$(stat -c %s "$DATA/$p/$key")" ]] || { echo "File size '$size'"; return 1; }
  }
  s3c_copy() {
    rm -rf "$WORK/s3cmd-$p"; mkdir -p "$WORK/s3cmd-$p"
    "${s[@]}" get --recursive "s3://demo/$p/" "$WORK/s3cmd-$p/" >"$WORK/s3cmd-copy.out" 2>"$WORK/s3cmd-copy.err" || { cat "$WORK/s3cmd-copy.err"; return 1; }
    same_tree "$p" "$WORK/s3cmd-$p"
  }
  s3c_md5() { # s3cmd takes a 32-hex ETag for the MD5 of the body and warns when it is not
    "${s[@]}" get --force "s3://demo/$p/$key" "$WORK/s3cmd-md5.out" 2>"$WORK/s3cmd-md5.err" >/dev/null || return 1
    if grep -q 'MD5 signatures do not match' "$WORK/s3cmd-md5.err"; then cat "$WORK/s3cmd-md5.err"; return 1; fi
  }
  check "$label: ls -r demo/$p/ lists every file with its size" s3c_ls
  check "$label: get $p/$key to stdout equals the file" s3c_get
  check "$label: info $p/$key has the file's size" s3c_info
  check "$label: get --recursive demo/$p/: every file, byte-equal" s3c_copy
  check "$label: get $p/$key without an MD5 mismatch warning" s3c_md5
}

gdal_ops() { # public reads through GDAL's /vsis3/
  local g=(env AWS_S3_ENDPOINT="${ENDPOINT#http://}" AWS_HTTPS=NO AWS_VIRTUAL_HOSTING=FALSE AWS_NO_SIGN_REQUEST=YES
           CPL_VSIL_CURL_ALLOWED_EXTENSIONS=.tif,.geojson GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR timeout "$T")
  gd_raster() {
    local want got
    want="$(gdalinfo -checksum "$DATA/hello/geo/tiny.tif" | grep -E 'Size is|Checksum=')"
    got="$("${g[@]}" gdalinfo -checksum /vsis3/demo/hello/geo/tiny.tif | grep -E 'Size is|Checksum=')" || return 1
    [[ -n "$want" && "$got" == "$want" ]] || { echo "want: $want"; echo "got:  $got"; return 1; }
  }
  gd_vector() {
    local want got
    want="$(ogrinfo -ro -al -so "$DATA/hello/geo/points.geojson" | grep -E 'Feature Count|Extent')"
    got="$("${g[@]}" ogrinfo -ro -al -so /vsis3/demo/hello/geo/points.geojson | grep -E 'Feature Count|Extent')" || return 1
    [[ -n "$want" && "$got" == "$want" ]] || { echo "want: $want"; echo "got:  $got"; return 1; }
  }
  check "gdal: gdalinfo -checksum /vsis3/demo/hello/geo/tiny.tif matches the local file" gd_raster
  check "gdal: ogrinfo /vsis3/demo/hello/geo/points.geojson has the local features and extent" gd_vector
}

# ---------------------------------------------------- the quickstart --------
start_sluice "./sluice serve (the quickstart)" --

list_buckets() { # aws s3 ls with no bucket: the accounts as buckets
  local out
  out="$(timeout "$T" "$1" s3 ls --endpoint-url "$ENDPOINT" --no-sign-request --region us-east-1)" || return 1
  grep -Eq ' demo$' <<<"$out" || { echo "no 'demo' bucket in:"; echo "$out"; return 1; }
}

if [[ $HAVE_AWS -eq 1 ]]; then
  readme_walk quickstart-client "aws-cli-v2" "$AWS"
  aws_ops "aws-cli-v2 anonymous" "$AWS" hello greeting.txt --no-sign-request
  check "aws-cli-v2: s3 ls (no bucket) lists demo" list_buckets "$AWS"
fi
if [[ $HAVE_AWS1 -eq 1 ]]; then
  readme_walk quickstart-client "aws-cli-v1" "$AWS1"
  aws_ops "aws-cli-v1 anonymous" "$AWS1" hello greeting.txt --no-sign-request
  check "aws-cli-v1: s3 ls (no bucket) lists demo" list_buckets "$AWS1"
fi
[[ $HAVE_BOTO3 -eq 1 ]] && boto3_ops "anonymous" hello greeting.txt
[[ $HAVE_RCLONE -eq 1 ]] && rclone_ops "rclone anonymous" hello greeting.txt
[[ $HAVE_S3CMD -eq 1 ]] && s3cmd_ops "s3cmd unknown key" hello greeting.txt
[[ $HAVE_GDAL -eq 1 ]] && gdal_ops

stop_group "$SERVER_PID"; SERVER_PID=""

# ------------------------------------------------ the restricted product ----
# The server block of the README, as written: its exports set the server's environment and
# its one `./sluice serve` line is what start_sluice runs (on free ports).
server_lines=()
mapfile -t server_lines < <(readme_block restricted-server)
serve_args=() server_env=()
for line in "${server_lines[@]}"; do
  if [[ "$line" =~ ^export\ ([A-Z_]+)=(.*)$ ]]; then
    server_env+=("${BASH_REMATCH[1]}=${BASH_REMATCH[2]}")
  elif [[ "$line" =~ ^\./sluice\ serve\ (.*)$ ]]; then
    read -ra serve_args <<<"${BASH_REMATCH[1]}"
  elif [[ -n "${line// }" ]]; then
    bad "README restricted-server: line with no meaning to e2e/clients.sh: $line"
  fi
done
if [[ ${#serve_args[@]} -eq 0 || ${#server_env[@]} -eq 0 ]]; then
  bad "README: block e2e:restricted-server has an export and a ./sluice serve line"
  summary_and_exit
fi
SERVER_LOG="$WORK/server-restricted.log"
start_sluice "./sluice serve ${serve_args[*]} (the README's restricted walkthrough)" "${server_env[@]}" -- "${serve_args[@]}"

anonymous_refused() { # restricted: a read without a signature is NoSuchBucket, a listing shows nothing
  local rc=0 out
  timeout "$T" "$AWS" s3api get-object --bucket demo --key internal/summary.txt "$WORK/anon.out" --endpoint-url "$ENDPOINT" \
    --no-sign-request --region us-east-1 2>"$WORK/anon.err" >/dev/null || rc=$?
  [[ $rc -ne 0 ]] || { echo "an unsigned read of demo/internal/summary.txt succeeded"; return 1; }
  grep -q NoSuchBucket "$WORK/anon.err" || { cat "$WORK/anon.err"; return 1; }
  out="$(timeout "$T" "$AWS" s3api list-objects-v2 --bucket demo --prefix internal/ --endpoint-url "$ENDPOINT" --no-sign-request \
    --region us-east-1 --query 'length(Contents || `[]`)' --output text)" || return 1
  [[ "$out" == 0 ]] || { echo "an unsigned listing of internal/ shows $out keys"; return 1; }
}
[[ $HAVE_AWS -eq 1 ]] && check "aws-cli-v2: unsigned, demo/internal reads are NoSuchBucket and lists are empty" anonymous_refused

# The client's credentials, from the README's client block.
client_env="$(readme_block restricted-client | grep -E '^export AWS_ACCESS_KEY_ID=' | head -n1)"
if [[ -z "$client_env" ]]; then bad "README: block e2e:restricted-client exports AWS_ACCESS_KEY_ID"; summary_and_exit; fi
signed() { eval "$client_env"; "$@"; unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; }

if [[ $HAVE_AWS -eq 1 ]]; then
  readme_walk restricted-client "aws-cli-v2" "$AWS"
  signed aws_ops "aws-cli-v2 signed" "$AWS" internal summary.txt
fi
if [[ $HAVE_AWS1 -eq 1 ]]; then
  readme_walk restricted-client "aws-cli-v1" "$AWS1"
  signed aws_ops "aws-cli-v1 signed" "$AWS1" internal summary.txt
fi
[[ $HAVE_BOTO3 -eq 1 ]] && signed boto3_ops "signed" internal summary.txt
[[ $HAVE_RCLONE -eq 1 ]] && signed rclone_ops "rclone signed" internal summary.txt
[[ $HAVE_S3CMD -eq 1 ]] && signed s3cmd_ops "s3cmd signed" internal summary.txt

summary_and_exit

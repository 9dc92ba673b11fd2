#!/usr/bin/env bash
# Writes with the tools publishers use (docs/writes.md): the README's "Write to a product"
# blocks word for word, then aws-cli v2 and v1 (`cp` of a 100 MB file, which goes multipart;
# `sync` up; `mv`; `rm --recursive`), boto3 (upload_file with a small multipart threshold,
# put_object(IfNoneMatch='*') twice, a wrong Content-MD5, copy, delete_objects, a presigned
# PUT; with Debian's boto3 and with a current one, which sends CRC32 trailers by default),
# rclone `copy` and `check`, s3cmd `put` (multipart), and curl with a presigned PUT; and the
# refusals (unsigned, a read-only product, a presigned URL moved to another key), each with
# its S3 error code.
#
# Silence is a failure: after every write a client reports as done, the bytes are compared
# (sha256) twice, once read back through sluice and once in the directory the product's file
# backend writes to. A client that exits 0 without having stored the bytes fails here.
#
# The server runs examples/writes.yaml as the README starts it; only the endpoint is moved to
# a free port and UPLOADS_DIR to this script's work directory.
#
#   e2e/writes.sh                          # every tool must be present
#   E2E_ALLOW_MISSING=1 e2e/writes.sh      # skip (loudly) a missing tool; ignored when CI=true
#
# Prints one line per check and ends with "N passed, M failed"; exits 1 if any check
# failed. Work files and server logs go to e2e/.work/writes/ (gitignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/e2e/.work/writes"
README="$ROOT/README.md"

. "$ROOT/e2e/lib.sh"

# --------------------------------------------------------------- tools ------
require_tools find sort diff head stat
# A python with a current boto3 (1.36+, CRC32 trailers by default) besides Debian's: $PY_CURRENT,
# else pyenv's.
PY_CURRENT=""
for c in "${PY_CURRENT_BOTO3:-}" /root/.pyenv/versions/*/bin/python3 "${HOME:-/root}"/.pyenv/versions/*/bin/python3; do
  [[ -n "$c" && -x "$c" ]] || continue
  if timeout 30 "$c" -c 'import boto3' >/dev/null 2>&1; then PY_CURRENT="$c"; break; fi
done
HAVE_AWS1=0 HAVE_S3CMD=0 HAVE_PY_CURRENT=0
if find_aws_v1; then HAVE_AWS1=1; else missing_tool aws-cli-v1 "no aws-cli v1 (looked at \$AWS_V1, ~/.pyenv/versions/*/bin/aws, PATH)"; fi
if command -v s3cmd >/dev/null; then HAVE_S3CMD=1; else missing_tool s3cmd "s3cmd is missing (Debian package s3cmd)"; fi
if [[ -n "$PY_CURRENT" ]]; then HAVE_PY_CURRENT=1; else missing_tool boto3-current "no python with boto3 under ~/.pyenv/versions (or \$PY_CURRENT_BOTO3)"; fi

isolate_aws_clients

TW=300 # per write call timeout (seconds): a 100 MB upload on a busy machine
UPLOADS="$WORK/uploads"

# ------------------------------------------------------- README blocks ------
readme_block() {
  awk -v m="<!-- e2e:$1 " '
    index($0, m) == 1 { armed = 1; next }
    armed && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' "$README"
}

# ------------------------------------------------------------ checking ------
sha() { sha256sum "$1" | cut -d' ' -f1; }
# stored KEY FILE: the object at demo/uploads/KEY is FILE's bytes, read through sluice
# (unsigned: the product is public) and on disk in the product's directory.
stored() {
  local key="$1" file="$2"
  curl -sf --max-time "$TW" -o "$WORK/readback" "$ENDPOINT/demo/uploads/$key" || { echo "GET demo/uploads/$key failed"; return 1; }
  [[ "$(sha "$WORK/readback")" == "$(sha "$file")" ]] || { echo "demo/uploads/$key through sluice differs from $file ($(stat -c %s "$WORK/readback") vs $(stat -c %s "$file") bytes)"; return 1; }
  [[ -f "$UPLOADS/$key" ]] || { echo "$UPLOADS/$key is not on disk"; return 1; }
  [[ "$(sha "$UPLOADS/$key")" == "$(sha "$file")" ]] || { echo "$UPLOADS/$key on disk differs from $file"; return 1; }
}
# absent KEY: no object at demo/uploads/KEY through sluice, and no file on disk.
absent() {
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$ENDPOINT/demo/uploads/$1")"
  [[ "$code" == 404 ]] || { echo "GET demo/uploads/$1 is $code, not 404"; return 1; }
  [[ ! -e "$UPLOADS/$1" ]] || { echo "$UPLOADS/$1 is on disk"; return 1; }
}
# same_dir LOCAL KEYPREFIX: every file under LOCAL is stored at KEYPREFIX/<relative path>, and
# sluice lists exactly those keys (no more, no fewer) under KEYPREFIX/.
same_dir() {
  local local_dir="$1" prefix="$2" f rel want got
  while IFS= read -r f; do
    rel="${f#"$local_dir"/}"
    stored "$prefix/$rel" "$f" || return 1
  done < <(find "$local_dir" -type f)
  want="$(cd "$local_dir" && find . -type f -printf "uploads/$prefix/%P\n" | LC_ALL=C sort)"
  got="$(listed "$prefix/")" || return 1
  [[ "$got" == "$want" ]] || { echo "listing of uploads/$prefix/:"; diff <(echo "$want") <(echo "$got"); return 1; }
}
# listed PREFIX: the keys sluice lists under demo/uploads/PREFIX, sorted (boto3, unsigned).
listed() {
  "$PY" - "$ENDPOINT" "uploads/$1" <<'EOF'
import sys, boto3
from botocore import UNSIGNED
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="demo", Prefix=sys.argv[2]) for o in p.get("Contents", [])]
print("\n".join(sorted(keys)))
EOF
}
# refused CODE CMD...: CMD fails (non-zero exit) and what it printed names the S3 error CODE.
refused() {
  local code="$1" rc=0; shift
  "$@" >"$WORK/refused.out" 2>&1 || rc=$?
  [[ $rc -ne 0 ]] || { echo "exit 0 (expected a refusal with $code):"; cat "$WORK/refused.out"; return 1; }
  grep -q "$code" "$WORK/refused.out" || { echo "exit $rc without $code:"; cat "$WORK/refused.out"; return 1; }
}

# ------------------------------------------------------------ the data ------
mkdir -p "$WORK/src/sync/nested"
head -c 100000000 /dev/urandom >"$WORK/src/big.bin"        # 100 MB: aws-cli goes multipart above 8 MB
head -c 20000000 /dev/urandom >"$WORK/src/medium.bin"      # 20 MB: s3cmd multipart with 5 MB chunks
head -c 70000 /dev/urandom >"$WORK/src/small.bin"
cp -r "$ROOT/examples/data/census/." "$WORK/src/sync/"
head -c 9000000 /dev/urandom >"$WORK/src/sync/nested/nine-mb.bin"   # multipart inside a sync
head -c 1 /dev/urandom >"$WORK/src/sync/nested/one-byte.bin"
: >"$WORK/src/sync/nested/empty.bin"

# ---------------------------------------------------------- the server ------
# The README's server block, as written: its exports set the server's environment (UPLOADS_DIR
# moved to the work directory), its mkdir makes the directory, its `./sluice serve` line is
# what start_sluice runs (on free ports).
server_lines=()
mapfile -t server_lines < <(readme_block writes-server)
serve_args=() server_env=()
for line in "${server_lines[@]}"; do
  if [[ "$line" =~ ^export\ (.*)$ ]]; then
    for assignment in ${BASH_REMATCH[1]}; do
      if [[ "$assignment" == UPLOADS_DIR=* ]]; then assignment="UPLOADS_DIR=$UPLOADS"; fi
      server_env+=("$assignment")
    done
  elif [[ "$line" == 'mkdir -p "$UPLOADS_DIR"' ]]; then
    mkdir -p "$UPLOADS"
  elif [[ "$line" =~ ^\./sluice\ serve\ (.*)$ ]]; then
    read -ra serve_args <<<"${BASH_REMATCH[1]}"
  elif [[ -n "${line// }" ]]; then
    bad "README writes-server: line with no meaning to e2e/writes.sh: $line"
  fi
done
if [[ ${#serve_args[@]} -eq 0 || ${#server_env[@]} -eq 0 || ! -d "$UPLOADS" ]]; then
  bad "README: block e2e:writes-server has an export, a mkdir and a ./sluice serve line"
  summary_and_exit
fi
start_sluice "./sluice serve ${serve_args[*]} (the README's writes walkthrough)" "${server_env[@]}" -- "${serve_args[@]}"

client_env="$(readme_block writes-client | grep -E '^export AWS_ACCESS_KEY_ID=' | head -n1)"
if [[ -z "$client_env" ]]; then bad "README: block e2e:writes-client exports AWS_ACCESS_KEY_ID"; summary_and_exit; fi
signed() { eval "$client_env"; "$@"; local rc=$?; unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; return $rc; }

# run_readme_line LINE: runs one line of the writes-client block (endpoint moved) and checks
# what it did against the local files and the product's directory. A line with no check fails.
LAST_CP_SOURCE=""
run_readme_line() {
  local line="${1//http:\/\/127.0.0.1:8080/$ENDPOINT}" out="$WORK/readme.out" rc=0
  if [[ "$line" =~ ^export\  ]]; then eval "$line"; return 0; fi
  eval "$line" >"$out" 2>"$WORK/readme.err" || rc=$?
  if [[ $rc -ne 0 ]]; then echo "exit $rc: $line"; cat "$WORK/readme.err"; return 1; fi
  local re_up='^aws s3 cp ([^ ]+) s3://demo/uploads/([^ ]+) ' re_down='^aws s3 cp s3://demo/uploads/([^ ]+) - '
  local re_sync='^aws s3 sync ([^ ]+) s3://demo/uploads/([^ ]+) ' re_ls='^aws s3 ls s3://demo/uploads/ --recursive '
  local re_rm='^aws s3 rm s3://demo/uploads/([^ ]+) --recursive '
  if [[ "$line" =~ $re_up ]]; then
    LAST_CP_SOURCE="${BASH_REMATCH[1]}"
    stored "${BASH_REMATCH[2]}" "${BASH_REMATCH[1]}"
  elif [[ "$line" =~ $re_down ]]; then
    [[ -n "$LAST_CP_SOURCE" ]] && cmp "$LAST_CP_SOURCE" "$out"
  elif [[ "$line" =~ $re_sync ]]; then
    same_dir "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
  elif [[ "$line" =~ $re_ls ]]; then
    local want got
    want="$(listed "")"
    got="$(sed -E 's/^[0-9-]+ [0-9:]+ +[0-9]+ (.*)$/\1/' "$out" | LC_ALL=C sort)"
    [[ -n "$want" && "$got" == "$want" ]] || { echo "aws s3 ls shows:"; diff <(echo "$want") <(echo "$got"); return 1; }
  elif [[ "$line" =~ $re_rm ]]; then
    local left
    left="$(listed "${BASH_REMATCH[1]}/")"
    [[ -z "$left" ]] || { echo "still listed after rm: $left"; return 1; }
    left="$(find "$UPLOADS/${BASH_REMATCH[1]}" -type f ! -name '.*' 2>/dev/null || true)"
    [[ -z "$left" ]] || { echo "still on disk after rm: $left"; return 1; }
  else
    echo "README line has no check in e2e/writes.sh: $line"; return 1
  fi
}

readme_walk() { # LABEL AWS_BINARY: each line of the writes-client block, `aws` meaning AWS_BINARY, from the repository root
  local label="$1" bin="$2" line n=0 lines=()
  mapfile -t lines < <(readme_block writes-client)
  if [[ ${#lines[@]} -eq 0 ]]; then bad "README: block e2e:writes-client found"; return; fi
  eval "aws() { timeout \"\$TW\" \"$bin\" \"\$@\"; }"
  for line in "${lines[@]}"; do
    [[ -n "${line// }" ]] || continue
    n=$((n + 1))
    check "$label README writes-client line $n: $line" run_readme_line "$line"
  done
  unset -f aws
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY || true
}

# ------------------------------------------------------------ aws-cli -------
# aws_writes LABEL BIN: cp (multipart), sync, mv, rm --recursive, and the refusals.
aws_writes() {
  local label="$1" bin="$2" p="$1"
  local a=(timeout "$TW" "$bin" --endpoint-url "$ENDPOINT" --region us-east-1)
  aws_cp_big() {
    signed "${a[@]}" s3 cp "$WORK/src/big.bin" "s3://demo/uploads/$p/big.bin" --only-show-errors || return 1
    stored "$p/big.bin" "$WORK/src/big.bin" || return 1
    local etag uploads
    etag="$(signed "${a[@]}" s3api head-object --bucket demo --key "uploads/$p/big.bin" --query ETag --output text)" || return 1
    [[ "$etag" =~ -[0-9]+\"?$ ]] || { echo "ETag $etag: not a multipart upload"; return 1; }
    # A CLI that starts the upload with a CRC32 (botocore 1.36+) gets the composite kept: the CRC32
    # of the 8 MiB parts' CRC32s, "-<parts>", answered with --checksum-mode ENABLED.
    local sum want
    sum="$(signed "${a[@]}" s3api head-object --bucket demo --key "uploads/$p/big.bin" --checksum-mode ENABLED \
      --query ChecksumCRC32 --output text)" || return 1
    if [[ "$sum" != None ]]; then
      want="$("$PY" -c 'import base64, struct, sys, zlib
d = open(sys.argv[1], "rb").read(); n = 8 * 1024 * 1024
parts = [d[i:i + n] for i in range(0, len(d), n)]
raw = b"".join(struct.pack(">I", zlib.crc32(x)) for x in parts)
print(base64.b64encode(struct.pack(">I", zlib.crc32(raw))).decode() + "-" + str(len(parts)))' "$WORK/src/big.bin")"
      [[ "$sum" == "$want" ]] || { echo "ChecksumCRC32 $sum, expected the composite $want"; return 1; }
      echo "composite CRC32 kept: $sum" >&2
    fi
    uploads="$(signed "${a[@]}" s3api list-multipart-uploads --bucket demo --prefix "uploads/$p/" --query 'length(Uploads || `[]`)' --output text)" || return 1
    [[ "$uploads" == 0 ]] || { echo "$uploads multipart uploads left in progress"; return 1; }
  }
  aws_sync() {
    signed "${a[@]}" s3 sync "$WORK/src/sync" "s3://demo/uploads/$p/sync" --only-show-errors || return 1
    same_dir "$WORK/src/sync" "$p/sync" || return 1
    # A second sync finds every file already there: it uploads nothing.
    local again
    again="$(signed "${a[@]}" s3 sync "$WORK/src/sync" "s3://demo/uploads/$p/sync")" || return 1
    [[ -z "$again" ]] || { echo "a second sync uploaded again:"; echo "$again"; return 1; }
  }
  aws_mv() {
    cp "$WORK/src/small.bin" "$WORK/mv-$p.bin"
    signed "${a[@]}" s3 mv "$WORK/mv-$p.bin" "s3://demo/uploads/$p/moved.bin" --only-show-errors || return 1
    [[ ! -e "$WORK/mv-$p.bin" ]] || { echo "the local file is still there after mv"; return 1; }
    stored "$p/moved.bin" "$WORK/src/small.bin" || return 1
    # Between two keys: CopyObject, then DeleteObject of the source.
    signed "${a[@]}" s3 mv "s3://demo/uploads/$p/moved.bin" "s3://demo/uploads/$p/moved-again.bin" --only-show-errors || return 1
    absent "$p/moved.bin" && stored "$p/moved-again.bin" "$WORK/src/small.bin"
  }
  aws_rm() {
    signed "${a[@]}" s3 rm "s3://demo/uploads/$p/sync" --recursive --only-show-errors || return 1
    local left
    left="$(listed "$p/sync/")"
    [[ -z "$left" ]] || { echo "still listed: $left"; return 1; }
    left="$(find "$UPLOADS/$p/sync" -type f ! -name '.*' 2>/dev/null || true)"
    [[ -z "$left" ]] || { echo "still on disk: $left"; return 1; }
  }
  aws_anonymous() {
    refused AccessDenied "${a[@]}" s3 cp "$WORK/src/small.bin" "s3://demo/uploads/$p/anonymous.bin" --no-sign-request || return 1
    absent "$p/anonymous.bin"
  }
  aws_read_only() {
    signed refused AccessDenied "${a[@]}" s3 cp "$WORK/src/small.bin" "s3://demo/hello/planted-$p.bin" || return 1
    [[ ! -e "$ROOT/examples/data/hello/planted-$p.bin" ]] || { echo "planted in examples/data/hello"; return 1; }
  }
  check "$label: s3 cp of a 100 MB file goes multipart and is stored byte-identical, with its composite CRC32 if it sent one" aws_cp_big
  check "$label: s3 sync up stores every file byte-identical; a second sync uploads nothing" aws_sync
  check "$label: s3 mv up, then between keys: moved whole, source gone" aws_mv
  check "$label: s3 rm --recursive removes every key and file" aws_rm
  check "$label: an unsigned cp is AccessDenied and stores nothing" aws_anonymous
  check "$label: cp to a read-only product (demo/hello) is AccessDenied" aws_read_only
}

# -------------------------------------------------------------- boto3 -------
boto3_writes() { # LABEL PYTHON
  local label="$1" py="$2" rc=0 line
  (cd "$ROOT/e2e" && eval "$client_env" && timeout 600 "$py" boto3_writes.py "$ENDPOINT" "$UPLOADS" uploads "$label" "$label") \
    >"$WORK/boto3-$label.out" 2>&1 || rc=$?
  while IFS= read -r line; do
    case "$line" in
      "ok  "*) ok "${line#ok  }" ;;
      "FAIL "*) bad "${line#FAIL }" ;;
      *) printf '     | %s\n' "$line" ;;
    esac
  done <"$WORK/boto3-$label.out"
  [[ $rc -le 1 ]] || bad "boto3 $label: e2e/boto3_writes.py ran to completion (exit $rc)"
}

# ------------------------------------------------------------- rclone -------
rclone_writes() {
  eval "$client_env"
  : >"$WORK/rclone.conf"
  local r=(env RCLONE_CONFIG="$WORK/rclone.conf" RCLONE_CONFIG_S_TYPE=s3 RCLONE_CONFIG_S_PROVIDER=Other
           RCLONE_CONFIG_S_ENDPOINT="$ENDPOINT" RCLONE_CONFIG_S_REGION=us-east-1 RCLONE_CONFIG_S_FORCE_PATH_STYLE=true
           RCLONE_CONFIG_S_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" RCLONE_CONFIG_S_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
           timeout "$TW" "$RCLONE" --retries 1 --low-level-retries 1 --s3-upload-cutoff 5M --s3-chunk-size 5M)
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  rc_copy() {
    "${r[@]}" copy "$WORK/src/sync" s:demo/uploads/rclone/sync || return 1
    same_dir "$WORK/src/sync" rclone/sync
  }
  rc_check() { "${r[@]}" check "$WORK/src/sync" s:demo/uploads/rclone/sync; }
  rc_copyto_big() {
    "${r[@]}" copyto "$WORK/src/medium.bin" s:demo/uploads/rclone/medium.bin || return 1
    stored rclone/medium.bin "$WORK/src/medium.bin" && "${r[@]}" check "$WORK/src" s:demo/uploads/rclone --include medium.bin
  }
  # rclone makes the bucket before a single-file upload (CreateBucket) unless told it exists;
  # S3 answers that for a bucket one owns, and rclone goes on. The same upload with the check
  # off tells an answer to CreateBucket apart from a failing upload.
  rc_copyto_no_check() {
    "${r[@]}" --s3-no-check-bucket copyto "$WORK/src/medium.bin" s:demo/uploads/rclone/medium-no-check.bin || return 1
    stored rclone/medium-no-check.bin "$WORK/src/medium.bin"
  }
  rc_read_only() {
    refused AccessDenied "${r[@]}" --s3-no-check-bucket copyto "$WORK/src/small.bin" s:demo/hello/planted-rclone.bin || return 1
    [[ ! -e "$ROOT/examples/data/hello/planted-rclone.bin" ]]
  }
  check "rclone: copy a directory up: every file stored byte-identical" rc_copy
  check "rclone: check finds the uploaded directory identical (sizes and hashes)" rc_check
  check "rclone: copyto of 20 MB (multipart, 5M chunks) is stored byte-identical and passes check" rc_copyto_big
  check "rclone: copyto of 20 MB with --s3-no-check-bucket is stored byte-identical" rc_copyto_no_check
  check "rclone: copyto to a read-only product is AccessDenied" rc_read_only
}

# ------------------------------------------------------------- s3cmd --------
s3cmd_writes() {
  eval "$client_env"
  local hp="${ENDPOINT#http://}"
  local s=(timeout "$TW" s3cmd --config=/dev/null --no-ssl --host="$hp" --host-bucket="$hp" --region=us-east-1
           --access_key="$AWS_ACCESS_KEY_ID" --secret_key="$AWS_SECRET_ACCESS_KEY")
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  s3c_put() {
    "${s[@]}" put --multipart-chunk-size-mb=5 "$WORK/src/medium.bin" s3://demo/uploads/s3cmd/medium.bin >"$WORK/s3cmd-put.out" 2>&1 \
      || { cat "$WORK/s3cmd-put.out"; return 1; }
    stored s3cmd/medium.bin "$WORK/src/medium.bin"
  }
  s3c_put_small() {
    "${s[@]}" put "$WORK/src/small.bin" s3://demo/uploads/s3cmd/small.bin >"$WORK/s3cmd-put.out" 2>&1 || { cat "$WORK/s3cmd-put.out"; return 1; }
    stored s3cmd/small.bin "$WORK/src/small.bin"
  }
  s3c_get() {
    "${s[@]}" get --force s3://demo/uploads/s3cmd/small.bin "$WORK/s3cmd-get.out" >/dev/null 2>"$WORK/s3cmd-get.err" || { cat "$WORK/s3cmd-get.err"; return 1; }
    cmp "$WORK/src/small.bin" "$WORK/s3cmd-get.out"
  }
  check "s3cmd: put of 20 MB (multipart, 5 MB chunks) is stored byte-identical" s3c_put
  check "s3cmd: put of a small file is stored byte-identical" s3c_put_small
  check "s3cmd: get of what it put is byte-identical" s3c_get
}

# -------------------------------------------------------------- curl --------
curl_presigned() {
  presign() { # KEY: a presigned PUT URL for demo/uploads/KEY, made by boto3 with the README's key
    (eval "$client_env" && "$PY" -c '
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
print(s3.generate_presigned_url("put_object", Params={"Bucket": "demo", "Key": sys.argv[2]}, ExpiresIn=300))
' "$ENDPOINT" "uploads/$1")
  }
  curl_put() {
    local url
    url="$(presign curl/presigned.bin)" || return 1
    curl -sf --max-time "$TW" -T "$WORK/src/small.bin" "$url" >/dev/null || { echo "curl -T exited $?"; return 1; }
    stored curl/presigned.bin "$WORK/src/small.bin"
  }
  curl_moved() {
    local url code
    url="$(presign curl/intended.bin)" || return 1
    url="${url/\/intended.bin\?/\/elsewhere.bin?}"
    code="$(curl -s -o "$WORK/curl-moved.out" -w '%{http_code}' --max-time 30 -T "$WORK/src/small.bin" "$url")"
    [[ "$code" == 403 ]] && grep -q SignatureDoesNotMatch "$WORK/curl-moved.out" || { echo "HTTP $code:"; cat "$WORK/curl-moved.out"; return 1; }
    absent curl/elsewhere.bin && absent curl/intended.bin
  }
  check "curl: a presigned PUT (made by boto3) stores the file byte-identical" curl_put
  check "curl: the presigned URL moved to another key is 403 SignatureDoesNotMatch and stores nothing" curl_moved
}

# ------------------------------------------------------------ the run -------
if [[ $HAVE_AWS -eq 1 ]]; then
  readme_walk "aws-cli-v2" "$AWS"
  aws_writes "aws-cli-v2" "$AWS"
fi
if [[ $HAVE_AWS1 -eq 1 ]]; then
  readme_walk "aws-cli-v1" "$AWS1"
  aws_writes "aws-cli-v1" "$AWS1"
fi
[[ $HAVE_BOTO3 -eq 1 ]] && boto3_writes "boto3-debian" "$PY"
[[ $HAVE_PY_CURRENT -eq 1 ]] && boto3_writes "boto3-current" "$PY_CURRENT"
[[ $HAVE_RCLONE -eq 1 ]] && rclone_writes
[[ $HAVE_S3CMD -eq 1 ]] && s3cmd_writes
[[ $HAVE_BOTO3 -eq 1 ]] && curl_presigned

# Whatever was written, nothing half-written is left in the product's directory: no file
# besides those of a completed write (hidden sidecars and staging excepted) is of a key sluice
# does not list.
leftovers() {
  local on_disk listed_keys
  on_disk="$(cd "$UPLOADS" && find . -type f ! -path '*/.*' -printf 'uploads/%P\n' | LC_ALL=C sort)"
  listed_keys="$(listed "")"
  [[ "$on_disk" == "$listed_keys" ]] || { echo "on disk vs listed:"; diff <(echo "$on_disk") <(echo "$listed_keys"); return 1; }
}
check "the uploads directory holds exactly the keys sluice lists" leftovers

# Some 400 MB of generated files and uploads: kept only when a check failed, to look at.
if [[ $FAILED -eq 0 ]]; then rm -rf "$WORK/src" "$UPLOADS" "$WORK/readback"; fi
summary_and_exit

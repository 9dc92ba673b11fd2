#!/usr/bin/env bash
# End-to-end test of the quickstart: start `./sluice serve` exactly as a README
# user would (on free loopback ports), then read the demo products with
# unmodified S3 clients -- aws-cli v2, boto3, rclone and s3cmd, plus curl and
# python's urllib for what they send differently -- and compare every byte,
# listing and content hash with examples/data.
#
#   e2e/quickstart.sh                    # all tools must be present
#   E2E_ALLOW_MISSING=1 e2e/quickstart.sh  # skip (loudly) a missing tool; ignored when CI=true
#
# Prints one line per check and ends with "N passed, M failed"; exits 1 if any
# check failed. Work files and the server log go to e2e/.work/ (gitignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/e2e/.work"
DATA="$ROOT/examples/data"
# The products examples/quickstart.yaml serves from examples/data (internal/ is restricted.yaml's).
PRODUCTS=(census hello)
T_BIG=180   # for full downloads of the ~3 MiB file (generous on a loaded CI box)

. "$ROOT/e2e/lib.sh"
require_tools
S3CMD=/usr/bin/s3cmd
HAVE_S3CMD=0
if [[ -x "$S3CMD" ]] && timeout 30 "$S3CMD" --version >/dev/null 2>&1; then
  HAVE_S3CMD=1
else
  missing_tool s3cmd "$S3CMD is missing (Debian package s3cmd)"
fi

# --------------------------------------------------------------- server ------
start_sluice "./sluice serve (the quickstart)" --

check_banner() {
  # The startup output names the endpoint and shows an `aws s3 ls` line.
  grep -q "127.0.0.1:$PORT" "$SERVER_LOG" || { echo "endpoint 127.0.0.1:$PORT not in startup output"; return 1; }
  grep -q "aws s3 ls" "$SERVER_LOG" || { echo "no 'aws s3 ls' line in startup output"; return 1; }
}
check "server: startup output shows endpoint and an aws s3 ls line" check_banner

check_admin() {
  local c
  c="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$ADMIN/healthz")"
  [[ "$c" == 200 ]] || { echo "GET /healthz: expected 200, got $c"; return 1; }
  c="$(curl -s -o "$WORK/metrics.txt" -w '%{http_code}' --max-time 10 "$ADMIN/metrics")"
  [[ "$c" == 200 ]] || { echo "GET /metrics: expected 200, got $c"; return 1; }
}
check "server: admin /healthz and /metrics are 200" check_admin

# A file's ETag is its content MD5 (docs/behaviour.md, "File backend ETags"). Small files
# have it on their first request; households.csv (3 MiB) is hashed in the background and
# listed with its provisional ETag until then, so this polls, for at most 30 s.
check_md5_etags() {
  "$PY" - "$ENDPOINT" "$DATA" "${PRODUCTS[@]}" <<'PYEOF'
import hashlib, os, sys, time, urllib.request, xml.etree.ElementTree as ET
endpoint, data, products = sys.argv[1], sys.argv[2], sys.argv[3:]
want = {}
for d, _, files in (w for p in products for w in os.walk(os.path.join(data, p))):
    for f in files:
        with open(os.path.join(d, f), "rb") as fh:
            want[os.path.relpath(os.path.join(d, f), data)] = '"%s"' % hashlib.md5(fh.read()).hexdigest()
ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
deadline = time.monotonic() + 30
for attempt in range(120):
    with urllib.request.urlopen(endpoint + "/demo?list-type=2", timeout=10) as r:
        root = ET.fromstring(r.read())
    got = {c.find(ns + "Key").text: c.find(ns + "ETag").text for c in root.iter(ns + "Contents")}
    if got == want:
        print("every ETag is the file's MD5 after %d listing(s)" % (attempt + 1))
        sys.exit(0)
    if time.monotonic() > deadline:
        break
    time.sleep(0.5)
print("ETags that are not the file's MD5:")
for key in sorted(set(got) | set(want)):
    if got.get(key) != want.get(key):
        print("  %s: listed %s, md5 %s" % (key, got.get(key), want.get(key)))
sys.exit(1)
PYEOF
}
check "server: every listed ETag becomes the file's MD5 (bounded poll, 30s)" check_md5_etags

# Expected listings, from the directory walk.
expected_sizes() { # $1 = product -> "SIZE product/relpath" sorted
  (cd "$DATA/$1" && find . -type f -printf "%s $1/%P\n") | LC_ALL=C sort
}

# -------------------------------------------------------------- aws-cli ------
if [[ $HAVE_AWS -eq 1 ]]; then
  # Isolate from any user config/credentials on the machine.
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
  unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE || true
  awsa() { timeout "$T" "$AWS" --endpoint-url "$ENDPOINT" --no-sign-request --region us-east-1 "$@"; }
  awsd() { # signed, with credentials the server does not know
    AWS_ACCESS_KEY_ID=dummy AWS_SECRET_ACCESS_KEY=dummy \
      timeout "$T" "$AWS" --endpoint-url "$ENDPOINT" --region us-east-1 "$@"
  }

  aws_ls_account() {
    local runner="$1" out
    out="$("$runner" s3 ls s3://demo/)" || { echo "aws s3 ls s3://demo/ failed"; return 1; }
    echo "$out" >&2
    grep -Eq '^ *PRE hello/$' <<<"$out" || { echo "missing 'PRE hello/'"; return 1; }
    grep -Eq '^ *PRE census/$' <<<"$out" || { echo "missing 'PRE census/'"; return 1; }
  }
  check "aws-cli: ls account shows PRE hello/ and PRE census/" aws_ls_account awsa
  check "aws-cli: ls account with unknown (dummy) credentials" aws_ls_account awsd

  aws_ls_recursive() {
    local out got want
    out="$(awsa s3 ls s3://demo/hello/ --recursive)" || { echo "aws s3 ls --recursive failed"; return 1; }
    # "2025-01-01 12:00:00         78 hello/greeting.txt" -> "78 hello/greeting.txt"
    got="$(sed -E 's/^[0-9-]+ [0-9:]+ +([0-9]+) (.*)$/\1 \2/' <<<"$out" | LC_ALL=C sort)"
    want="$(expected_sizes hello)"
    [[ "$got" == "$want" ]] || { echo "listing mismatch"; diff <(echo "$want") <(echo "$got"); echo "raw:"; echo "$out"; return 1; }
  }
  check "aws-cli: ls hello/ --recursive lists every file with its size" aws_ls_recursive

  aws_cp_stdout() {
    awsa s3 cp s3://demo/hello/greeting.txt - >"$WORK/aws-greeting.txt" || { echo "aws s3 cp failed"; return 1; }
    cmp "$DATA/hello/greeting.txt" "$WORK/aws-greeting.txt"
  }
  check "aws-cli: cp greeting.txt to stdout equals the file" aws_cp_stdout

  aws_cp_dummy() {
    awsd s3 cp s3://demo/hello/greeting.txt - >"$WORK/aws-greeting-dummy.txt" || { echo "aws s3 cp (dummy creds) failed"; return 1; }
    cmp "$DATA/hello/greeting.txt" "$WORK/aws-greeting-dummy.txt"
  }
  check "aws-cli: cp greeting.txt with unknown (dummy) credentials" aws_cp_dummy

  aws_cp_big() {
    timeout "$T_BIG" "$AWS" --endpoint-url "$ENDPOINT" --no-sign-request --region us-east-1 \
      s3 cp --only-show-errors s3://demo/census/households.csv "$WORK/aws-households.csv" || { echo "aws s3 cp failed"; return 1; }
    cmp "$DATA/census/households.csv" "$WORK/aws-households.csv"
  }
  check "aws-cli: cp census/households.csv to a file is byte-equal" aws_cp_big

  aws_cp_space() {
    awsa s3 cp "s3://demo/hello/a b.txt" - >"$WORK/aws-space.txt" || { echo "aws s3 cp 'a b.txt' failed"; return 1; }
    cmp "$DATA/hello/a b.txt" "$WORK/aws-space.txt"
  }
  check "aws-cli: cp a key with a space ('hello/a b.txt')" aws_cp_space

  aws_head() {
    local out len etag want
    out="$(awsa s3api head-object --bucket demo --key hello/greeting.txt --output json)" || { echo "head-object failed"; return 1; }
    echo "$out" >&2
    len="$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["ContentLength"])' <<<"$out")" || return 1
    etag="$("$PY" -c 'import json,sys; print(json.load(sys.stdin).get("ETag",""))' <<<"$out")" || return 1
    want="$(stat -c %s "$DATA/hello/greeting.txt")"
    [[ "$len" == "$want" ]] || { echo "ContentLength: expected $want, got $len"; return 1; }
    [[ -n "$etag" ]] || { echo "no ETag"; return 1; }
  }
  check "aws-cli: s3api head-object has ContentLength and ETag" aws_head

  aws_range() {
    local out cr total
    out="$(awsa s3api get-object --bucket demo --key census/households.csv --range bytes=5-20 "$WORK/aws-range.bin" --output json)" \
      || { echo "get-object --range failed"; return 1; }
    dd if="$DATA/census/households.csv" of="$WORK/aws-range.want" bs=1 skip=5 count=16 status=none
    cmp "$WORK/aws-range.want" "$WORK/aws-range.bin" || { echo "range body differs"; return 1; }
    cr="$("$PY" -c 'import json,sys; print(json.load(sys.stdin).get("ContentRange",""))' <<<"$out")"
    total="$(stat -c %s "$DATA/census/households.csv")"
    [[ "$cr" == "bytes 5-20/$total" ]] || { echo "ContentRange: expected 'bytes 5-20/$total', got '$cr'"; return 1; }
  }
  check "aws-cli: s3api get-object --range bytes=5-20 equals the slice" aws_range

  aws_missing_api() {
    local rc=0
    awsa s3api get-object --bucket demo --key hello/no-such-file.txt "$WORK/aws-missing.out" >/dev/null 2>"$WORK/aws-missing.err" || rc=$?
    cat "$WORK/aws-missing.err" >&2
    [[ $rc -ne 0 ]] || { echo "expected a non-zero exit for a missing key, got 0"; return 1; }
    grep -q 'NoSuchKey' "$WORK/aws-missing.err" || { echo "expected NoSuchKey in the error"; return 1; }
  }
  check "aws-cli: s3api get-object of a missing key fails with NoSuchKey" aws_missing_api

  aws_missing_cp() {
    local rc=0
    awsa s3 cp s3://demo/hello/no-such-file.txt - >/dev/null 2>"$WORK/aws-missing-cp.err" || rc=$?
    cat "$WORK/aws-missing-cp.err" >&2
    [[ $rc -ne 0 ]] || { echo "expected a non-zero exit for a missing key, got 0"; return 1; }
    grep -Eq '404|Not Found|NoSuchKey' "$WORK/aws-missing-cp.err" || { echo "expected a 404 in the error"; return 1; }
  }
  check "aws-cli: s3 cp of a missing key fails with 404" aws_missing_cp

  aws_ls_buckets() {
    local out
    out="$(awsa s3 ls)" || { echo "aws s3 ls (ListBuckets) failed"; return 1; }
    echo "$out" >&2
    # "1970-01-01 00:00:00 demo": the accounts as buckets, with their fixed creation date.
    grep -Eq '^1970-01-01 [0-9:]+ demo$' <<<"$out" || { echo "expected a line for the account demo"; return 1; }
  }
  check "aws-cli: s3 ls without a bucket lists the account demo" aws_ls_buckets

  aws_ls_space_dir() {
    local out
    out="$(awsa s3 ls "s3://demo/hello/field notes/")" || { echo "aws s3 ls of a prefix with a space failed"; return 1; }
    echo "$out" >&2
    grep -Eq ' day one\.txt$' <<<"$out" || { echo "expected 'day one.txt'"; return 1; }
  }
  check "aws-cli: s3 ls of a directory with a space in its name" aws_ls_space_dir

  aws_content_type() {
    local out type
    out="$(awsa s3api head-object --bucket demo --key hello/places.geojson --output json)" || { echo "head-object failed"; return 1; }
    type="$("$PY" -c 'import json,sys; print(json.load(sys.stdin).get("ContentType",""))' <<<"$out")"
    [[ "$type" == "application/geo+json" ]] || { echo "ContentType: expected application/geo+json, got '$type'"; return 1; }
  }
  check "aws-cli: head-object of a .geojson has Content-Type application/geo+json" aws_content_type

  aws_part_number() {
    local out rc=0
    out="$(awsa s3api get-object --bucket demo --key hello/greeting.txt --part-number 1 "$WORK/aws-part1.txt" --output json)" \
      || { echo "get-object --part-number 1 failed"; return 1; }
    cmp "$DATA/hello/greeting.txt" "$WORK/aws-part1.txt" || { echo "part 1 is not the whole object"; return 1; }
    awsa s3api head-object --bucket demo --key hello/greeting.txt --part-number 2 >/dev/null 2>"$WORK/aws-part2.err" || rc=$?
    cat "$WORK/aws-part2.err" >&2
    [[ $rc -ne 0 ]] || { echo "part 2 of a one-part object: expected a failure"; return 1; }
    grep -Eq '416|InvalidPartNumber|Range Not Satisfiable' "$WORK/aws-part2.err" || { echo "expected 416 for part 2"; return 1; }
  }
  check "aws-cli: get-object --part-number 1 is the whole object, part 2 is 416" aws_part_number

  aws_version_null() {
    awsa s3api get-object --bucket demo --key hello/greeting.txt --version-id null "$WORK/aws-vnull.txt" >/dev/null \
      || { echo "get-object --version-id null failed"; return 1; }
    cmp "$DATA/hello/greeting.txt" "$WORK/aws-vnull.txt"
  }
  check "aws-cli: get-object --version-id null reads the current object" aws_version_null
fi

# ------------------------------------------- '+' in a query (curl, urllib) ------
# Clients that build query strings as HTML forms do (curl by hand, python's
# urlencode, browsers) send a space as '+'; S3 reads it as a space.
plus_curl() {
  local out
  out="$(curl -s --max-time "$T" "$ENDPOINT/demo?list-type=2&prefix=hello/field+notes/")" || { echo "curl failed"; return 1; }
  echo "$out" >&2
  grep -q '<Key>hello/field notes/day one.txt</Key>' <<<"$out" || { echo "expected the key under 'field notes/'"; return 1; }
}
check "curl: list-type=2&prefix=hello/field+notes/ lists 'field notes/' (+ is a space)" plus_curl

plus_urllib() {
  timeout "$T" "$PY" - "$ENDPOINT" <<'PYEOF'
import sys, urllib.parse, urllib.request
query = urllib.parse.urlencode({"list-type": "2", "prefix": "hello/field notes/"})
assert "+" in query, query
with urllib.request.urlopen(sys.argv[1] + "/demo?" + query, timeout=30) as r:
    body = r.read().decode()
assert "<Key>hello/field notes/day one.txt</Key>" in body, body
PYEOF
}
check "python urllib: urlencode()d prefix with a space lists 'field notes/'" plus_urllib

# ------------------------------------------------ virtual-hosted style (curl) ------
# The quickstart sets virtual_host_domain: localhost; --resolve keeps this off DNS.
vhost_curl() {
  local got
  got="$(curl -s --max-time "$T" --resolve "demo.localhost:$PORT:127.0.0.1" "http://demo.localhost:$PORT/hello/greeting.txt")" \
    || { echo "curl failed"; return 1; }
  [[ "$got" == "$(cat "$DATA/hello/greeting.txt")" ]] || { echo "body differs: $got"; return 1; }
  got="$(curl -s --max-time "$T" --resolve "demo.localhost:$PORT:127.0.0.1" "http://demo.localhost:$PORT/?list-type=2&delimiter=/")"
  grep -q '<Prefix>hello/</Prefix>' <<<"$got" || { echo "listing lacks hello/: $got"; return 1; }
}
check "curl: http://demo.localhost/hello/greeting.txt (virtual-hosted) is the file" vhost_curl

# ---------------------------------------------------------------- boto3 ------
if [[ $HAVE_BOTO3 -eq 1 ]]; then
  rc=0
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    timeout "$T_BIG" "$PY" "$ROOT/e2e/boto3_check.py" "$ENDPOINT" "$DATA" >"$WORK/boto3.out" 2>"$WORK/boto3.err" || rc=$?
  nfail=0
  while IFS= read -r line; do
    case "$line" in
      "ok  "*) ok "${line#ok  }" ;;
      "FAIL "*) bad "${line#FAIL }"; nfail=$((nfail + 1)) ;;
      *) printf '     | %s\n' "$line" ;;
    esac
  done <"$WORK/boto3.out"
  # Exit 1 with FAIL lines is an ordinary failure; anything else (a crash, a
  # timeout) is reported as its own failed check.
  if [[ $rc -ne 0 ]] && { [[ $rc -ne 1 ]] || [[ $nfail -eq 0 ]]; }; then
    bad "boto3: e2e/boto3_check.py ran to completion (exit $rc)"
  fi
  if [[ -s "$WORK/boto3.err" && $rc -ne 0 ]]; then sed -e 's/^/     | /' "$WORK/boto3.err" | tail -40; fi
fi

# --------------------------------------------------------------- rclone ------
if [[ $HAVE_RCLONE -eq 1 ]]; then
  # The remote is configured by environment variables only; no keys -> anonymous.
  : >"$WORK/rclone.conf"
  export RCLONE_CONFIG="$WORK/rclone.conf"
  export RCLONE_CONFIG_SLUICE_TYPE=s3
  export RCLONE_CONFIG_SLUICE_PROVIDER=Other
  export RCLONE_CONFIG_SLUICE_ENDPOINT="$ENDPOINT"
  export RCLONE_CONFIG_SLUICE_ENV_AUTH=false
  export RCLONE_CONFIG_SLUICE_REGION=us-east-1
  export RCLONE_CONFIG_SLUICE_FORCE_PATH_STYLE=true
  export RCLONE_CONFIG_SLUICE_LIST_VERSION=2
  # A CA bundle from the environment breaks rclone's HTTP transport (and TLS is not used here).
  unset AWS_CA_BUNDLE || true
  rcl() { timeout "$T" "$RCLONE" --retries 1 --low-level-retries 1 --s3-force-path-style=true --s3-list-version 2 "$@"; }

  rclone_ls() {
    local out got want
    out="$(rcl ls sluice:demo/hello)" || { echo "rclone ls failed"; return 1; }
    # "       78 greeting.txt" -> "78 hello/greeting.txt"
    got="$(sed -E 's/^ *([0-9]+) (.*)$/\1 hello\/\2/' <<<"$out" | LC_ALL=C sort)"
    want="$(expected_sizes hello)"
    [[ "$got" == "$want" ]] || { echo "listing mismatch"; diff <(echo "$want") <(echo "$got"); echo "raw:"; echo "$out"; return 1; }
  }
  check "rclone: ls demo/hello lists every file with its size" rclone_ls

  rclone_cat() {
    rcl cat sluice:demo/hello/greeting.txt >"$WORK/rclone-greeting.txt" || { echo "rclone cat failed"; return 1; }
    cmp "$DATA/hello/greeting.txt" "$WORK/rclone-greeting.txt"
  }
  check "rclone: cat greeting.txt equals the file" rclone_cat

  rclone_copy() {
    rm -rf "$WORK/rclone-census"
    timeout "$T_BIG" "$RCLONE" --retries 1 --low-level-retries 1 --s3-force-path-style=true --s3-list-version 2 \
      copy sluice:demo/census "$WORK/rclone-census" || { echo "rclone copy failed"; return 1; }
    diff -r "$DATA/census" "$WORK/rclone-census"
  }
  check "rclone: copy demo/census to a dir, diff -r is clean" rclone_copy

  rclone_lsf() {
    local out
    out="$(rcl lsf sluice:demo)" || { echo "rclone lsf failed"; return 1; }
    echo "$out" >&2
    grep -qx 'hello/' <<<"$out" || { echo "missing hello/"; return 1; }
    grep -qx 'census/' <<<"$out" || { echo "missing census/"; return 1; }
  }
  check "rclone: lsf demo shows the product directories" rclone_lsf

  rclone_check_hashes() {
    local out nfiles
    local only=() p
    for p in "${PRODUCTS[@]}"; do only+=(--include "/$p/**"); done
    out="$(rcl check "$DATA" sluice:demo "${only[@]}" 2>&1)" || { echo "$out"; echo "rclone check failed"; return 1; }
    echo "$out" >&2
    if grep -q 'hashes could not be checked' <<<"$out"; then echo "rclone compared sizes only"; return 1; fi
    nfiles="$(for p in "${PRODUCTS[@]}"; do find "$DATA/$p" -type f; done | wc -l)"
    grep -q " $nfiles matching files" <<<"$out" || { echo "expected '$nfiles matching files'"; return 1; }
    grep -q ' 0 differences found' <<<"$out" || { echo "expected '0 differences found'"; return 1; }
  }
  check "rclone: check examples/data against demo compares MD5 hashes and finds no difference" rclone_check_hashes

  rclone_lsd_root() {
    local out
    out="$(rcl lsd sluice:)" || { echo "rclone lsd sluice: failed"; return 1; }
    echo "$out" >&2
    grep -Eq ' demo$' <<<"$out" || { echo "missing the account demo"; return 1; }
  }
  check "rclone: lsd of the remote's root shows the account demo" rclone_lsd_root
fi

# ---------------------------------------------------------------- s3cmd ------
if [[ $HAVE_S3CMD -eq 1 ]]; then
  # An empty config file and keys sluice does not know: served as anonymous (docs/identity.md).
  : >"$WORK/s3cmd.cfg"
  s3c() {
    timeout "$T" "$S3CMD" -c "$WORK/s3cmd.cfg" --access_key=unknown --secret_key=unknown --no-ssl --no-check-certificate \
      --host="127.0.0.1:$PORT" --host-bucket="127.0.0.1:$PORT" --region=us-east-1 "$@"
  }

  s3cmd_sync_twice() {
    rm -rf "$WORK/s3cmd-sync"
    mkdir -p "$WORK/s3cmd-sync"
    s3c sync s3://demo/ "$WORK/s3cmd-sync/" >"$WORK/s3cmd-sync-1.out" 2>&1 || { cat "$WORK/s3cmd-sync-1.out"; echo "first sync failed"; return 1; }
    cat "$WORK/s3cmd-sync-1.out" >&2
    [[ "$(ls "$WORK/s3cmd-sync" | tr '\n' ' ')" == "${PRODUCTS[*]} " ]] || { echo "synced other products than ${PRODUCTS[*]}"; return 1; }
    local p
    for p in "${PRODUCTS[@]}"; do
      diff -r "$DATA/$p" "$WORK/s3cmd-sync/$p" || { echo "first sync differs from examples/data/$p"; return 1; }
    done
    if grep -q 'MD5 signatures do not match' "$WORK/s3cmd-sync-1.out"; then echo "s3cmd saw ETags that are not MD5s"; return 1; fi
    s3c -v sync s3://demo/ "$WORK/s3cmd-sync/" >"$WORK/s3cmd-sync-2.out" 2>&1 || { cat "$WORK/s3cmd-sync-2.out"; echo "second sync failed"; return 1; }
    cat "$WORK/s3cmd-sync-2.out" >&2
    if grep -q '^download:' "$WORK/s3cmd-sync-2.out"; then echo "the second sync downloaded again"; return 1; fi
    grep -q ' 0 remote files to download' "$WORK/s3cmd-sync-2.out" || { echo "expected '0 remote files to download'"; return 1; }
  }
  check "s3cmd: sync demo to a dir is byte-equal, and a second sync downloads nothing" s3cmd_sync_twice

  s3cmd_ls() {
    local out
    out="$(s3c ls)" || { echo "s3cmd ls failed"; return 1; }
    echo "$out" >&2
    grep -Eq ' s3://demo$' <<<"$out" || { echo "missing s3://demo"; return 1; }
  }
  check "s3cmd: ls lists the account demo" s3cmd_ls

  s3cmd_get() {
    rm -f "$WORK/s3cmd-greeting.txt"
    s3c get s3://demo/hello/greeting.txt "$WORK/s3cmd-greeting.txt" >/dev/null || { echo "s3cmd get failed"; return 1; }
    cmp "$DATA/hello/greeting.txt" "$WORK/s3cmd-greeting.txt"
  }
  check "s3cmd: get greeting.txt equals the file" s3cmd_get
fi

summary_and_exit

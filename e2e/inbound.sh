#!/usr/bin/env bash
# End-to-end test of inbound identity: start `./sluice serve --config e2e/inbound.yaml`
# (on free loopback ports) with a restricted product, an access key and an STS role
# trusting a test OIDC issuer (e2e/oidc_issuer.py, served on another free port), then
# read with unmodified clients -- aws-cli v2, boto3, rclone, curl on presigned URLs --
# signed by the key and by sessions from sluice's /.sts, with SigV4 and with SigV2
# (rclone v2_auth, s3cmd signature_v2, boto3 signature_version='s3', aws-cli v1's
# s3 presign when E2E_AWS_V1 or ~/.pyenv/shims/aws is one), and check that the wrong
# callers get the S3/STS error codes AWS would give.
#
#   e2e/inbound.sh                         # all tools must be present
#   E2E_ALLOW_MISSING=1 e2e/inbound.sh     # skip (loudly) a missing tool; ignored when CI=true
#
# Prints one line per check and ends with "N passed, M failed"; exits 1 if any
# check failed. Work files, the restricted product's data and the server log go to
# e2e/.work/inbound/ (gitignored; e2e/quickstart.sh owns the rest of e2e/.work).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/e2e/.work/inbound"
PUBLIC_DATA="$ROOT/examples/data"
PRIV="$WORK/private"            # the restricted product demo/private (e2e/inbound.yaml)
ISSUER_DIR="$WORK/issuer"
CONFIG="$ROOT/e2e/inbound.yaml"

KEY_ID=AKIASLUICEE2E00001
ROLE_ARN="arn:aws:iam::123456789012:role/e2e-reader"
BIG=blob.bin                                  # 1 MiB of random bytes
ODD="reports/year=2024/q1 total=42.csv"       # a space and '=', nested
NESTED=nested/deeper/leaf.txt

. "$ROOT/e2e/lib.sh"
ISSUER_LOG="$WORK/issuer.log"
EXTRA_LOGS+=("$ISSUER_LOG")
require_tools openssl base64
# The issuer (python3 + openssl) needs these; without them nothing runs.
command -v openssl >/dev/null || summary_and_exit

# ------------------------------------------------------ restricted data ------
mkdir -p "$PRIV/reports/year=2024" "$PRIV/nested/deeper"
head -c 1048576 /dev/urandom >"$PRIV/$BIG"
printf 'region,total\nnorth,40\nsouth,2\n' >"$PRIV/$ODD"
printf 'a leaf of the restricted product\n' >"$PRIV/$NESTED"
printf 'restricted: readable with the e2e key or an e2e-reader session\n' >"$PRIV/readme.txt"

# Expected listing of the restricted product: "SIZE private/relpath" sorted.
expected_private() {
  (cd "$PRIV" && find . -type f -printf "%s private/%P\n") | LC_ALL=C sort
}

# ---------------------------------------------------------- OIDC issuer ------
ISSUER_PORT="$(free_port)"
ISSUER="http://127.0.0.1:$ISSUER_PORT"
mint() { timeout "$T" "$PY" "$ROOT/e2e/oidc_issuer.py" mint "$ISSUER_DIR" "$@"; }

issuer_up() {
  timeout "$T" "$PY" "$ROOT/e2e/oidc_issuer.py" init "$ISSUER_DIR" "$ISSUER" || { echo "issuer init failed"; return 1; }
  setsid "$PY" "$ROOT/e2e/oidc_issuer.py" serve "$ISSUER_DIR" "$ISSUER_PORT" >"$ISSUER_LOG" 2>&1 </dev/null &
  EXTRA_PIDS+=("$!")
  local deadline=$((SECONDS + 20)) doc
  while ((SECONDS < deadline)); do
    if doc="$(curl -fsS --max-time 2 "$ISSUER/.well-known/openid-configuration" 2>/dev/null)"; then
      grep -q "\"issuer\": \"$ISSUER\"" <<<"$doc" || { echo "discovery issuer is not $ISSUER: $doc"; return 1; }
      curl -fsS --max-time 5 "$ISSUER/jwks.json" | grep -q '"kid": "e2e-1"' || { echo "no kid e2e-1 in the JWKS"; return 1; }
      return 0
    fi
    sleep 0.2
  done
  echo "issuer not answering on $ISSUER"; return 1
}
# The issuer is the root of every STS check: it is started in the main shell (not a
# check's subshell) so that its pid reaches EXTRA_PIDS, which the exit trap stops.
if issuer_up >"$WORK/check.log" 2>&1; then
  ok "issuer: test OIDC issuer serves its discovery document and JWKS on $ISSUER"
else
  bad "issuer: test OIDC issuer serves its discovery document and JWKS on $ISSUER"
  sed -e 's/^/     | /' "$WORK/check.log" | head -40
fi

check_minted() {
  # The minted JWT verifies against the issuer's public key (what sluice will do via the JWKS).
  local tok h p s
  tok="$(mint --sub repo:example/app --aud sluice)" || return 1
  IFS=. read -r h p s <<<"$tok"
  b64d() { local x="$1"; while (( ${#x} % 4 )); do x="$x="; done; tr '_-' '/+' <<<"$x" | base64 -d; }
  printf '%s' "$h.$p" >"$WORK/jwt.in"
  b64d "$s" >"$WORK/jwt.sig"
  openssl dgst -sha256 -verify "$ISSUER_DIR/pub.pem" -signature "$WORK/jwt.sig" "$WORK/jwt.in"
  b64d "$h" | grep -q '"alg":"RS256"' || { echo "header is not RS256"; return 1; }
  b64d "$p" | grep -q "\"iss\":\"$ISSUER\"" || { echo "iss is not $ISSUER"; return 1; }
}
check "issuer: a minted RS256 token verifies with openssl against the issuer's key" check_minted

# --------------------------------------------------------------- server ------
E2E_SECRET="$(head -c 30 /dev/urandom | base64)"       # has '+' and '/' most runs: fine for SigV4
SLUICE_SESSION_KEY="$(head -c 32 /dev/urandom | base64)"
AVOID_PORTS=("$ISSUER_PORT")
start_sluice "./sluice serve --config e2e/inbound.yaml (issuer $ISSUER)" \
  E2E_ISSUER="$ISSUER" E2E_SECRET="$E2E_SECRET" SLUICE_SESSION_KEY="$SLUICE_SESSION_KEY" -- --config "$CONFIG"

# expect_error CODE COMMAND...: the command fails and its stderr names CODE.
expect_error() {
  local code="$1" rc=0; shift
  "$@" >"$WORK/expect.out" 2>"$WORK/expect.err" || rc=$?
  cat "$WORK/expect.err" >&2
  [[ $rc -ne 0 ]] || { echo "expected a failure with $code, got exit 0"; head -c 300 "$WORK/expect.out"; return 1; }
  grep -q "$code" "$WORK/expect.err" || { echo "expected $code in the error (exit $rc)"; return 1; }
}

# -------------------------------------------------------------- aws-cli ------
if [[ $HAVE_AWS -eq 1 ]]; then
  # Isolate from any user config/credentials on the machine; one attempt per call.
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  export AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard
  unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE || true
  awsk() { # signed with the configured access key
    AWS_ACCESS_KEY_ID="$KEY_ID" AWS_SECRET_ACCESS_KEY="$E2E_SECRET" \
      timeout "$T" "$AWS" --endpoint-url "$ENDPOINT" --region us-east-1 "$@"
  }
  awsa() { timeout "$T" "$AWS" --endpoint-url "$ENDPOINT" --no-sign-request --region us-east-1 "$@"; }
  awsw() { # the right key id, the wrong secret
    AWS_ACCESS_KEY_ID="$KEY_ID" AWS_SECRET_ACCESS_KEY="wrong${E2E_SECRET}" \
      timeout "$T" "$AWS" --endpoint-url "$ENDPOINT" --region us-east-1 "$@"
  }
  awsu() { # a key sluice does not know
    AWS_ACCESS_KEY_ID=AKIAUNKNOWNE2E00009 AWS_SECRET_ACCESS_KEY=unknown-secret \
      timeout "$T" "$AWS" --endpoint-url "$ENDPOINT" --region us-east-1 "$@"
  }

  aws_ls_private() {
    local out got want
    out="$(awsk s3 ls s3://demo/private/ --recursive)" || { echo "aws s3 ls s3://demo/private/ --recursive failed"; return 1; }
    got="$(sed -E 's/^[0-9-]+ [0-9:]+ +([0-9]+) (.*)$/\1 \2/' <<<"$out" | LC_ALL=C sort)"
    want="$(expected_private)"
    [[ "$got" == "$want" ]] || { echo "listing mismatch"; diff <(echo "$want") <(echo "$got"); echo "raw:"; echo "$out"; return 1; }
  }
  check "aws-cli key: s3 ls s3://demo/private/ --recursive lists every file with its size" aws_ls_private

  aws_ls_account() { # $1 runner, $2 "shows" or "hides"
    local out
    out="$("$1" s3 ls s3://demo/)" || { echo "aws s3 ls s3://demo/ failed"; return 1; }
    echo "$out" >&2
    grep -Eq '^ *PRE hello/$' <<<"$out" || { echo "missing 'PRE hello/'"; return 1; }
    if [[ "$2" == shows ]]; then
      grep -Eq '^ *PRE private/$' <<<"$out" || { echo "missing 'PRE private/'"; return 1; }
    else
      ! grep -q 'private' <<<"$out" || { echo "'private' listed to an anonymous caller"; return 1; }
    fi
  }
  check "aws-cli key: s3 ls s3://demo/ shows PRE private/ next to the public products" aws_ls_account awsk shows
  check "aws-cli anonymous: s3 ls s3://demo/ shows the public products, not private/" aws_ls_account awsa hides

  aws_cp_big() {
    awsk s3 cp --only-show-errors "s3://demo/private/$BIG" "$WORK/aws-blob.bin" || { echo "aws s3 cp failed"; return 1; }
    cmp "$PRIV/$BIG" "$WORK/aws-blob.bin"
  }
  check "aws-cli key: s3 cp of the 1 MiB restricted file is byte-exact" aws_cp_big

  aws_cp_odd() {
    awsk s3 cp "s3://demo/private/$ODD" - >"$WORK/aws-odd.csv" || { echo "aws s3 cp failed"; return 1; }
    cmp "$PRIV/$ODD" "$WORK/aws-odd.csv"
  }
  check "aws-cli key: s3 cp of '$ODD' (space, '=') is byte-exact" aws_cp_odd

  aws_head() {
    local out len want
    out="$(awsk s3api head-object --bucket demo --key "private/$NESTED" --output json)" || { echo "head-object failed"; return 1; }
    echo "$out" >&2
    len="$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["ContentLength"])' <<<"$out")" || return 1
    want="$(stat -c %s "$PRIV/$NESTED")"
    [[ "$len" == "$want" ]] || { echo "ContentLength: expected $want, got $len"; return 1; }
  }
  check "aws-cli key: s3api head-object of a nested restricted key has its ContentLength" aws_head

  check "aws-cli anonymous: get-object of a restricted key fails with NoSuchBucket" \
    expect_error NoSuchBucket awsa s3api get-object --bucket demo --key "private/$BIG" "$WORK/anon.out"
  check "aws-cli wrong secret: get-object of a restricted key fails with SignatureDoesNotMatch" \
    expect_error SignatureDoesNotMatch awsw s3api get-object --bucket demo --key "private/$BIG" "$WORK/wrong.out"
  check "aws-cli wrong secret: s3 ls s3://demo/private/ fails with SignatureDoesNotMatch" \
    expect_error SignatureDoesNotMatch awsw s3 ls s3://demo/private/
  # An S3 API sluice does not serve is refused only once the signature holds (docs/behaviour.md).
  check "aws-cli wrong secret: get-object-acl (not served) fails with SignatureDoesNotMatch, not NotImplemented" \
    expect_error SignatureDoesNotMatch awsw s3api get-object-acl --bucket demo --key "private/$BIG"
  check "aws-cli: get-object-acl (not served) signed with the key fails with NotImplemented" \
    expect_error NotImplemented awsk s3api get-object-acl --bucket demo --key "private/$BIG"

  aws_unknown_public() {
    awsu s3 cp s3://demo/hello/greeting.txt - >"$WORK/aws-unknown-greeting.txt" || { echo "aws s3 cp (unknown key) failed"; return 1; }
    cmp "$PUBLIC_DATA/hello/greeting.txt" "$WORK/aws-unknown-greeting.txt"
  }
  check "aws-cli unknown key: s3 cp of a public object succeeds (served as anonymous)" aws_unknown_public
  check "aws-cli unknown key: get-object of a restricted key fails with InvalidAccessKeyId" \
    expect_error InvalidAccessKeyId awsu s3api get-object --bucket demo --key "private/$BIG" "$WORK/unknown.out"
fi

# ---------------------------------------------------------------- boto3 ------
if [[ $HAVE_BOTO3 -eq 1 ]]; then
  rc=0
  if TOKEN_BOTO3="$(mint --sub repo:example/boto3 --aud sluice 2>"$WORK/mint.err")"; then
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
      E2E_KEY_ID="$KEY_ID" E2E_SECRET="$E2E_SECRET" E2E_TOKEN="$TOKEN_BOTO3" \
      timeout 120 "$PY" "$ROOT/e2e/boto3_inbound.py" "$ENDPOINT" "$PRIV" >"$WORK/boto3.out" 2>"$WORK/boto3.err" || rc=$?
  else
    rc=2; echo "minting the boto3 token failed: $(cat "$WORK/mint.err")" >"$WORK/boto3.err"; : >"$WORK/boto3.out"
  fi
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
    bad "boto3: e2e/boto3_inbound.py ran to completion (exit $rc)"
  fi
  if [[ -s "$WORK/boto3.err" && $rc -ne 0 ]]; then sed -e 's/^/     | /' "$WORK/boto3.err" | tail -40; fi
fi

# --------------------------------------------------------------- rclone ------
if [[ $HAVE_RCLONE -eq 1 ]]; then
  # The remote is configured by environment variables only, with the access key.
  : >"$WORK/rclone.conf"
  export RCLONE_CONFIG="$WORK/rclone.conf"
  export RCLONE_CONFIG_PRIV_TYPE=s3
  export RCLONE_CONFIG_PRIV_PROVIDER=Other
  export RCLONE_CONFIG_PRIV_ENDPOINT="$ENDPOINT"
  export RCLONE_CONFIG_PRIV_ENV_AUTH=false
  export RCLONE_CONFIG_PRIV_ACCESS_KEY_ID="$KEY_ID"
  export RCLONE_CONFIG_PRIV_SECRET_ACCESS_KEY="$E2E_SECRET"
  export RCLONE_CONFIG_PRIV_REGION=us-east-1
  export RCLONE_CONFIG_PRIV_FORCE_PATH_STYLE=true
  export RCLONE_CONFIG_PRIV_LIST_VERSION=2
  # A CA bundle from the environment breaks rclone's HTTP transport (and TLS is not used here).
  unset AWS_CA_BUNDLE || true
  rcl() { timeout "$T" "$RCLONE" --retries 1 --low-level-retries 1 --s3-force-path-style=true --s3-list-version 2 "$@"; }

  rclone_lsf() {
    local out want
    out="$(rcl lsf -R --files-only priv:demo/private | LC_ALL=C sort)" || { echo "rclone lsf failed"; return 1; }
    want="$( (cd "$PRIV" && find . -type f -printf '%P\n') | LC_ALL=C sort)"
    [[ "$out" == "$want" ]] || { echo "listing mismatch"; diff <(echo "$want") <(echo "$out"); return 1; }
  }
  check "rclone key: lsf -R demo/private lists every restricted file" rclone_lsf

  rclone_cat() {
    rcl cat "priv:demo/private/$ODD" >"$WORK/rclone-odd.csv" || { echo "rclone cat failed"; return 1; }
    cmp "$PRIV/$ODD" "$WORK/rclone-odd.csv"
  }
  check "rclone key: cat of '$ODD' is byte-exact" rclone_cat

  rclone_copy() {
    rm -rf "$WORK/rclone-private"
    rcl copy priv:demo/private "$WORK/rclone-private" || { echo "rclone copy failed"; return 1; }
    diff -r "$PRIV" "$WORK/rclone-private"
  }
  check "rclone key: copy demo/private to a dir, diff -r is clean" rclone_copy
fi

# ------------------------------------------------------ presigned URLs ------
# fetch_exact URL FILE: curl -fsS the URL, compare with FILE.
fetch_exact() {
  local url="$1" want="$2"
  [[ "$url" == http://127.0.0.1:"$PORT"/* ]] || { echo "unexpected URL: $url"; return 1; }
  timeout "$T" curl -fsS --max-time "$T" -o "$WORK/presigned.out" "$url" || { echo "curl failed for $url"; return 1; }
  cmp "$want" "$WORK/presigned.out"
}

# tampered URL: change the last hex digit of X-Amz-Signature.
tamper_signature() {
  "$PY" -c '
import re, sys
u = sys.argv[1]
m = re.search(r"X-Amz-Signature=([0-9a-f]+)", u)
if not m: sys.exit("no X-Amz-Signature in " + u)
c = m.group(1)[-1]
print(u[:m.end(1) - 1] + ("0" if c != "0" else "1") + u[m.end(1):])' "$1"
}

expect_signature_mismatch() {
  local url code
  url="$(tamper_signature "$1")" || return 1
  code="$(timeout "$T" curl -sS --max-time "$T" -o "$WORK/tampered.out" -w '%{http_code}' "$url")" || { echo "curl failed"; return 1; }
  cat "$WORK/tampered.out" >&2; echo >&2
  [[ "$code" == 403 ]] || { echo "HTTP status: expected 403, got $code"; return 1; }
  grep -q SignatureDoesNotMatch "$WORK/tampered.out" || { echo "body does not name SignatureDoesNotMatch"; return 1; }
}

if [[ $HAVE_AWS -eq 1 ]]; then
  AWS_PRESIGNED=""
  aws_presign() {
    AWS_PRESIGNED="$(awsk s3 presign "s3://demo/private/$ODD" --expires-in 300)" || { echo "aws s3 presign failed"; return 1; }
    echo "$AWS_PRESIGNED" >&2
    fetch_exact "$AWS_PRESIGNED" "$PRIV/$ODD"
  }
  # Not through check(): AWS_PRESIGNED is reused by the tamper check.
  if aws_presign >"$WORK/check.log" 2>&1; then
    ok "presign: aws s3 presign of '$ODD' fetched with curl -fsS is byte-exact"
  else
    bad "presign: aws s3 presign of '$ODD' fetched with curl -fsS is byte-exact"
    sed -e 's/^/     | /' "$WORK/check.log" | head -40
  fi
  if [[ -n "$AWS_PRESIGNED" ]]; then
    check "presign: the aws URL with one X-Amz-Signature digit changed is 403 SignatureDoesNotMatch" \
      expect_signature_mismatch "$AWS_PRESIGNED"
  else
    bad "presign: the aws URL with one X-Amz-Signature digit changed is 403 SignatureDoesNotMatch (no URL)"
  fi
fi

if [[ $HAVE_BOTO3 -eq 1 ]]; then
  boto3_presign() {
    local url
    url="$(AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
      E2E_KEY_ID="$KEY_ID" E2E_SECRET="$E2E_SECRET" timeout "$T" "$PY" -c '
import os, sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id=os.environ["E2E_KEY_ID"], aws_secret_access_key=os.environ["E2E_SECRET"],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
print(s3.generate_presigned_url("get_object", Params={"Bucket": "demo", "Key": sys.argv[2]}, ExpiresIn=300))
' "$ENDPOINT" "private/$1")" || { echo "generate_presigned_url failed"; return 1; }
    echo "$url" >&2
    fetch_exact "$url" "$PRIV/$1"
  }
  check "presign: boto3 generate_presigned_url of the 1 MiB file fetched with curl -fsS is byte-exact" boto3_presign "$BIG"
  check "presign: boto3 generate_presigned_url of '$ODD' fetched with curl -fsS is byte-exact" boto3_presign "$ODD"
fi

# ------------------------------------------------------------------ STS ------
if [[ $HAVE_AWS -eq 1 ]]; then
  awssts() { timeout "$T" "$AWS" --endpoint-url "$ENDPOINT/.sts" --region us-east-1 sts assume-role-with-web-identity \
    --role-arn "$ROLE_ARN" --role-session-name e2e "$@"; }
  # aws sts signs nothing for this call; run it with no credentials at all.
  S_ID="" S_SECRET="" S_TOKEN=""
  sts_assume() {
    local tok out
    tok="$(mint --sub repo:example/app --aud sluice)" || { echo "minting failed"; return 1; }
    out="$(awssts --web-identity-token "$tok" --query Credentials --output json)" || { echo "aws sts assume-role-with-web-identity failed"; return 1; }
    read -r S_ID S_SECRET S_TOKEN < <("$PY" -c '
import json, sys
c = json.load(sys.stdin)
print(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])' <<<"$out") || { echo "no credentials in: ${out:0:300}"; return 1; }
    [[ -n "$S_ID" && -n "$S_SECRET" && -n "$S_TOKEN" ]] || { echo "empty credentials"; return 1; }
  }
  # Not through check(): the session is used by the checks after it.
  if sts_assume >"$WORK/check.log" 2>&1; then
    ok "sts: aws sts assume-role-with-web-identity (sub repo:example/app) returns credentials"
  else
    bad "sts: aws sts assume-role-with-web-identity (sub repo:example/app) returns credentials"
    sed -e 's/^/     | /' "$WORK/check.log" | head -40
  fi
  awss() { # signed with the STS session ($1 = the session token to send)
    local token="$1"; shift
    AWS_ACCESS_KEY_ID="$S_ID" AWS_SECRET_ACCESS_KEY="$S_SECRET" AWS_SESSION_TOKEN="$token" \
      timeout "$T" "$AWS" --endpoint-url "$ENDPOINT" --region us-east-1 "$@"
  }

  sts_cp() {
    [[ -n "$S_TOKEN" ]] || { echo "no session (the assume check failed)"; return 1; }
    awss "$S_TOKEN" s3 cp --only-show-errors "s3://demo/private/$BIG" "$WORK/sts-blob.bin" || { echo "aws s3 cp with the session failed"; return 1; }
    cmp "$PRIV/$BIG" "$WORK/sts-blob.bin"
  }
  check "sts: aws-cli s3 cp of the 1 MiB restricted file with the session is byte-exact" sts_cp

  sts_tampered_token() {
    [[ -n "$S_TOKEN" ]] || { echo "no session (the assume check failed)"; return 1; }
    local bent
    bent="$("$PY" -c '
import sys
t = sys.argv[1]; i = len(t) // 2
print(t[:i] + ("A" if t[i] != "A" else "B") + t[i + 1:])' "$S_TOKEN")"
    expect_error InvalidToken awss "$bent" s3api get-object --bucket demo --key "private/$NESTED" "$WORK/bent.out"
  }
  check "sts: a session token with one character changed is refused with InvalidToken" sts_tampered_token

  sts_wrong_sub() {
    local tok
    tok="$(mint --sub repo:other/app --aud sluice)" || { echo "minting failed"; return 1; }
    expect_error AccessDenied awssts --web-identity-token "$tok"
  }
  check "sts: a token with sub repo:other/app is refused with AccessDenied" sts_wrong_sub

  sts_expired() {
    local tok
    tok="$(mint --sub repo:example/app --aud sluice --exp-in -3600)" || { echo "minting failed"; return 1; }
    expect_error ExpiredTokenException awssts --web-identity-token "$tok"
  }
  check "sts: an expired token is refused with ExpiredTokenException" sts_expired

  sts_get_form() {
    # The GET form with the bare role id: the same XML answer AWS STS gives.
    local tok code
    tok="$(mint --sub repo:example/curl --aud sluice)" || { echo "minting failed"; return 1; }
    code="$(timeout "$T" curl -sS --max-time "$T" -o "$WORK/sts-get.xml" -w '%{http_code}' -G "$ENDPOINT/.sts" \
      --data-urlencode Action=AssumeRoleWithWebIdentity --data-urlencode Version=2011-06-15 \
      --data-urlencode RoleArn=e2e-reader --data-urlencode RoleSessionName=e2e-curl \
      --data-urlencode "WebIdentityToken=$tok")" || { echo "curl failed"; return 1; }
    [[ "$code" == 200 ]] || { echo "HTTP status: expected 200, got $code"; cat "$WORK/sts-get.xml"; return 1; }
    # Parsed as AWS's namespaced XML; the credentials themselves are never printed.
    "$PY" - "$WORK/sts-get.xml" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET
NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == NS + "AssumeRoleWithWebIdentityResponse", f"root element is {root.tag}"
creds = root.find(f"{NS}AssumeRoleWithWebIdentityResult/{NS}Credentials")
assert creds is not None, "no AssumeRoleWithWebIdentityResult/Credentials"
for tag in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
    el = creds.find(NS + tag)
    assert el is not None and (el.text or "").strip(), f"Credentials/{tag} is missing or empty"
PYEOF
  }
  check "sts: GET /.sts?Action=AssumeRoleWithWebIdentity&RoleArn=e2e-reader answers the STS XML with credentials" sts_get_form
fi

# ---------------------------------------------------- Signature Version 2 ------
# SigV2 as S3 still accepts it, from signers other than sluice's own tests: rclone
# (v2_auth), s3cmd (signature_v2), boto3 and aws-cli v1 presigned URLs. A SigV2 request
# sluice does not accept must be refused, never served as anonymous (which for the
# restricted product would be 404 NoSuchBucket).
S3CMD=/usr/bin/s3cmd
# aws-cli v1 is not packaged by Debian; checked when present (boto3's signature_version='s3'
# below is the same botocore signer, so nothing is left unchecked without it).
AWS1="${E2E_AWS_V1:-$HOME/.pyenv/shims/aws}"
HAVE_S3CMD=0 HAVE_AWS1=0
if [[ -x "$S3CMD" ]] && timeout 30 "$S3CMD" --version >/dev/null 2>&1; then
  HAVE_S3CMD=1
else
  missing_tool s3cmd "$S3CMD is missing (Debian package s3cmd)"
fi
if [[ -x "$AWS1" ]] && [[ "$(timeout 30 "$AWS1" --version 2>&1)" == aws-cli/1.* ]]; then
  HAVE_AWS1=1
else
  echo "note: no aws-cli v1 at $AWS1 (set E2E_AWS_V1); its s3 presign check is not run"
fi

# tamper_v2 URL: change the first character of the (decoded) SigV2 Signature.
tamper_v2() {
  "$PY" -c '
import re, sys
from urllib.parse import quote, unquote
u = sys.argv[1]
m = re.search(r"([?&]Signature=)([^&]+)", u)
if not m: sys.exit("no Signature in " + u)
sig = unquote(m.group(2))
sig = ("A" if sig[0] != "A" else "B") + sig[1:]
print(u[:m.start(2)] + quote(sig, safe="") + u[m.end(2):])' "$1"
}

# expect_http STATUS CODE URL: curl answers STATUS with an S3 error naming CODE.
expect_http() {
  local want="$1" code_name="$2" url="$3" code
  code="$(timeout "$T" curl -sS --max-time "$T" -o "$WORK/v2-error.out" -w '%{http_code}' "$url")" || { echo "curl failed"; return 1; }
  cat "$WORK/v2-error.out" >&2; echo >&2
  [[ "$code" == "$want" ]] || { echo "HTTP status: expected $want, got $code"; return 1; }
  grep -q "<Code>$code_name</Code>" "$WORK/v2-error.out" || { echo "body does not name $code_name"; return 1; }
}

# v2_presign ID SECRET KEY [TOKEN]: a SigV2 presigned GET URL made by boto3 (signature_version='s3').
v2_presign() {
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    V2_ID="$1" V2_SECRET="$2" V2_TOKEN="${4:-}" timeout "$T" "$PY" -c '
import os, sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id=os.environ["V2_ID"], aws_secret_access_key=os.environ["V2_SECRET"],
                  aws_session_token=os.environ["V2_TOKEN"] or None,
                  config=Config(signature_version="s3", s3={"addressing_style": "path"}))
url = s3.generate_presigned_url("get_object", Params={"Bucket": "demo", "Key": sys.argv[2]}, ExpiresIn=300)
assert "AWSAccessKeyId=" in url and "X-Amz-" not in url, "not a SigV2 URL: " + url
print(url)
' "$ENDPOINT" "$3"
}

if [[ $HAVE_RCLONE -eq 1 ]]; then
  export RCLONE_CONFIG_PRIVV2_TYPE=s3
  export RCLONE_CONFIG_PRIVV2_PROVIDER=Other
  export RCLONE_CONFIG_PRIVV2_ENDPOINT="$ENDPOINT"
  export RCLONE_CONFIG_PRIVV2_ENV_AUTH=false
  export RCLONE_CONFIG_PRIVV2_ACCESS_KEY_ID="$KEY_ID"
  export RCLONE_CONFIG_PRIVV2_SECRET_ACCESS_KEY="$E2E_SECRET"
  export RCLONE_CONFIG_PRIVV2_REGION=us-east-1
  export RCLONE_CONFIG_PRIVV2_FORCE_PATH_STYLE=true
  export RCLONE_CONFIG_PRIVV2_LIST_VERSION=2
  export RCLONE_CONFIG_PRIVV2_V2_AUTH=true
  rclone_v2_lsf() {
    local out want
    out="$(rcl lsf -R --files-only privv2:demo/private | LC_ALL=C sort)" || { echo "rclone lsf (v2_auth) failed"; return 1; }
    want="$( (cd "$PRIV" && find . -type f -printf '%P\n') | LC_ALL=C sort)"
    [[ "$out" == "$want" ]] || { echo "listing mismatch"; diff <(echo "$want") <(echo "$out"); return 1; }
  }
  check "sigv2 rclone v2_auth key: lsf -R demo/private lists every restricted file" rclone_v2_lsf
  rclone_v2_cat() {
    rcl cat "privv2:demo/private/$ODD" >"$WORK/rclone-v2-odd.csv" || { echo "rclone cat (v2_auth) failed"; return 1; }
    cmp "$PRIV/$ODD" "$WORK/rclone-v2-odd.csv"
  }
  check "sigv2 rclone v2_auth key: cat of '$ODD' is byte-exact" rclone_v2_cat
  rclone_v2_wrong() {
    RCLONE_CONFIG_PRIVV2_SECRET_ACCESS_KEY="wrong$E2E_SECRET" rcl cat "privv2:demo/private/$NESTED" >/dev/null 2>"$WORK/rclone-v2.err" \
      && { echo "rclone with a wrong secret succeeded"; return 1; }
    cat "$WORK/rclone-v2.err" >&2
    grep -q SignatureDoesNotMatch "$WORK/rclone-v2.err" || { echo "no SignatureDoesNotMatch in rclone's error"; return 1; }
  }
  check "sigv2 rclone v2_auth wrong secret: cat fails with SignatureDoesNotMatch" rclone_v2_wrong
fi

if [[ $HAVE_S3CMD -eq 1 ]]; then
  # s3cmd_cfg FILE ID SECRET [TOKEN]: path-style (host_bucket without %(bucket)s), plain HTTP, SigV2.
  s3cmd_cfg() {
    printf '[default]\naccess_key = %s\nsecret_key = %s\naccess_token = %s\nhost_base = 127.0.0.1:%s\nhost_bucket = 127.0.0.1:%s\nuse_https = False\nsignature_v2 = True\nbucket_location = us-east-1\n' \
      "$2" "$3" "${4:-}" "$PORT" "$PORT" >"$1"
  }
  s3c() { local cfg="$1"; shift; timeout "$T" "$S3CMD" -c "$cfg" --no-check-certificate "$@"; }
  s3cmd_cfg "$WORK/s3cmd-key.cfg" "$KEY_ID" "$E2E_SECRET"
  s3cmd_cfg "$WORK/s3cmd-wrong.cfg" "$KEY_ID" "wrong$E2E_SECRET"

  s3cmd_v2_ls() {
    local out f n=0
    out="$(s3c "$WORK/s3cmd-key.cfg" ls -r s3://demo/private/)" || { echo "s3cmd ls failed"; return 1; }
    echo "$out" >&2
    while IFS= read -r -d '' f; do
      n=$((n + 1))
      grep -qF " s3://demo/private/${f#./}" <<<"$out" || { echo "missing private/${f#./}"; return 1; }
    done < <(cd "$PRIV" && find . -type f -print0)
    [[ "$(grep -c 's3://demo/private/' <<<"$out")" == "$n" ]] || { echo "expected $n objects"; return 1; }
  }
  check "sigv2 s3cmd signature_v2 key: ls -r s3://demo/private/ lists every restricted file" s3cmd_v2_ls
  s3cmd_v2_get() {
    s3c "$WORK/s3cmd-key.cfg" get --force "s3://demo/private/$ODD" "$WORK/s3cmd-odd.csv" || { echo "s3cmd get failed"; return 1; }
    cmp "$PRIV/$ODD" "$WORK/s3cmd-odd.csv"
    s3c "$WORK/s3cmd-key.cfg" get --force "s3://demo/private/$BIG" "$WORK/s3cmd-blob.bin" || { echo "s3cmd get failed"; return 1; }
    cmp "$PRIV/$BIG" "$WORK/s3cmd-blob.bin"
  }
  check "sigv2 s3cmd signature_v2 key: get of '$ODD' and of the 1 MiB file is byte-exact" s3cmd_v2_get
  # ls, not get: s3cmd's get starts with a HEAD, whose error has no body to name the code.
  check "sigv2 s3cmd signature_v2 wrong secret: ls s3://demo/private/ fails with SignatureDoesNotMatch" \
    expect_error SignatureDoesNotMatch s3c "$WORK/s3cmd-wrong.cfg" ls s3://demo/private/
fi

if [[ $HAVE_BOTO3 -eq 1 ]]; then
  V2_URL=""
  boto3_v2_presign() {
    V2_URL="$(v2_presign "$KEY_ID" "$E2E_SECRET" "private/$ODD")" || { echo "generate_presigned_url failed"; return 1; }
    echo "$V2_URL" >&2
    fetch_exact "$V2_URL" "$PRIV/$ODD"
  }
  if boto3_v2_presign >"$WORK/check.log" 2>&1; then
    ok "sigv2 presign: boto3 (signature_version='s3') URL of '$ODD' fetched with curl -fsS is byte-exact"
  else
    bad "sigv2 presign: boto3 (signature_version='s3') URL of '$ODD' fetched with curl -fsS is byte-exact"
    sed -e 's/^/     | /' "$WORK/check.log" | head -40
  fi
  boto3_v2_tampered() {
    [[ -n "$V2_URL" ]] || { echo "no URL (the presign check failed)"; return 1; }
    expect_http 403 SignatureDoesNotMatch "$(tamper_v2 "$V2_URL")"
  }
  check "sigv2 presign: the boto3 URL with its Signature changed is 403 SignatureDoesNotMatch" boto3_v2_tampered
  boto3_v2_wrong_secret() {
    local url
    url="$(v2_presign "$KEY_ID" "wrong$E2E_SECRET" "private/$NESTED")" || { echo "generate_presigned_url failed"; return 1; }
    expect_http 403 SignatureDoesNotMatch "$url"
  }
  check "sigv2 presign: a URL for the restricted product made with a wrong secret is 403, not 404" boto3_v2_wrong_secret
  boto3_v2_unknown() {
    local url
    url="$(v2_presign AKIAUNKNOWNE2E00009 unknown-secret hello/greeting.txt)" || { echo "generate_presigned_url failed"; return 1; }
    fetch_exact "$url" "$PUBLIC_DATA/hello/greeting.txt" || return 1
    url="$(v2_presign AKIAUNKNOWNE2E00009 unknown-secret "private/$NESTED")" || { echo "generate_presigned_url failed"; return 1; }
    expect_http 403 InvalidAccessKeyId "$url"
  }
  check "sigv2 presign: an unknown key's URL reads a public object and is 403 InvalidAccessKeyId on the restricted one" boto3_v2_unknown
fi

if [[ $HAVE_AWS1 -eq 1 ]]; then
  aws1_presign() {
    local url
    url="$(AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
      AWS_ACCESS_KEY_ID="$KEY_ID" AWS_SECRET_ACCESS_KEY="$E2E_SECRET" \
      timeout "$T" "$AWS1" --endpoint-url "$ENDPOINT" --region us-east-1 s3 presign "s3://demo/private/$BIG" --expires-in 300)" \
      || { echo "aws (v1) s3 presign failed"; return 1; }
    echo "$url" >&2
    [[ "$url" == *AWSAccessKeyId=* ]] || { echo "aws-cli v1 did not make a SigV2 URL"; return 1; }
    fetch_exact "$url" "$PRIV/$BIG" || return 1
    expect_http 403 SignatureDoesNotMatch "$(tamper_v2 "$url")"
  }
  check "sigv2 presign: aws-cli v1 s3 presign of the 1 MiB file fetched with curl is byte-exact; tampered is 403" aws1_presign
fi

# Sessions from /.sts (the STS checks above): the token in the header and in the query.
if [[ -n "${S_TOKEN:-}" ]]; then
  if [[ $HAVE_S3CMD -eq 1 ]]; then
    s3cmd_cfg "$WORK/s3cmd-session.cfg" "$S_ID" "$S_SECRET" "$S_TOKEN"
    s3cmd_v2_session() {
      s3c "$WORK/s3cmd-session.cfg" get --force "s3://demo/private/$NESTED" "$WORK/s3cmd-session.txt" || { echo "s3cmd get (session) failed"; return 1; }
      cmp "$PRIV/$NESTED" "$WORK/s3cmd-session.txt"
    }
    check "sigv2 s3cmd session: get of a restricted file with x-amz-security-token is byte-exact" s3cmd_v2_session
  fi
  if [[ $HAVE_BOTO3 -eq 1 ]]; then
    boto3_v2_session() {
      local url
      url="$(v2_presign "$S_ID" "$S_SECRET" "private/$NESTED" "$S_TOKEN")" || { echo "generate_presigned_url failed"; return 1; }
      [[ "$url" == *x-amz-security-token=* ]] || { echo "no x-amz-security-token in $url"; return 1; }
      fetch_exact "$url" "$PRIV/$NESTED"
    }
    check "sigv2 presign: a boto3 URL with the session's x-amz-security-token fetched with curl is byte-exact" boto3_v2_session
  fi
else
  bad "sigv2 sessions: no session from /.sts to sign with (the STS checks failed or did not run)"
fi

summary_and_exit

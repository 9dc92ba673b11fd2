#!/usr/bin/env bash
# Azure Blob and GCS products read with real clients: sluice in front of Azurite (HTTPS,
# bearer tokens checked) and of the GCS JSON API test server, with test Entra ID and
# Google STS/IAM endpoints that verify sluice's own OIDC tokens (the servers of the JUnit
# tests, run by dev.sluice.testing.CloudFixtures). Four products in account "clouds":
#   azure-hello   Azure, azure_workload_identity (Entra ID token exchange)
#   azure-census  Azure, shared_key
#   gcs-hello     GCS, gcp_workload_identity with service-account impersonation
#   gcs-census    GCS, a public bucket read anonymously
# Each is listed, read whole and by range, and copied down with aws-cli v2 and rclone, and
# compared byte for byte and file for file with examples/data ("silence" is a failure).
#
#   e2e/clouds.sh          # after ./mvnw -B package (needs target/sluice.jar and the test classes)
#
# Needs Azurite under .tools/azurite (.ci/run installs it) and openssl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/e2e/.work/clouds"
DATA="$ROOT/examples/data"

. "$ROOT/e2e/lib.sh"

require_tools find sort diff openssl
. "$ROOT/scripts/find-jdk.sh" || { bad "a JDK >= 21 (scripts/find-jdk.sh)"; summary_and_exit; }
[[ -x .tools/azurite/node_modules/.bin/azurite-blob ]] || bad "tool available: Azurite (.tools/azurite; .ci/run installs it)"
[[ -f target/e2e.classpath && -d target/test-classes ]] || bad "the test classes and target/e2e.classpath exist (./mvnw -B package)"
[[ $FAILED -eq 0 ]] || summary_and_exit

isolate_aws_clients

# ------------------------------------------------------------- fixtures ------
# sluice's issuer must be known to the identity endpoints before sluice starts: pick its port.
SLUICE_PORT="$(free_port)"
AVOID_PORTS+=("$SLUICE_PORT")
./sluice keygen --out "$WORK/oidc.pem" >/dev/null 2>&1 || { bad "sluice keygen"; summary_and_exit; }
FIXTURES_LOG="$WORK/fixtures.log"
EXTRA_LOGS+=("$FIXTURES_LOG")
setsid "$JAVA_HOME/bin/java" -cp "target/test-classes:target/classes:$(cat target/e2e.classpath)" dev.sluice.testing.CloudFixtures \
  "$WORK" "$DATA" "http://127.0.0.1:$SLUICE_PORT" >"$FIXTURES_LOG" 2>&1 </dev/null &
EXTRA_PIDS+=($!)
deadline=$((SECONDS + 120))
while [[ ! -f "$WORK/fixtures.ready" ]] && ((SECONDS < deadline)) && kill -0 "${EXTRA_PIDS[-1]}" 2>/dev/null; do sleep 0.5; done
if [[ -f "$WORK/fixtures.ready" ]]; then ok "fixtures: Azurite, the GCS server and the identity endpoints are up and seeded"
else bad "fixtures: Azurite, the GCS server and the identity endpoints are up and seeded"; cat "$FIXTURES_LOG"; summary_and_exit; fi

WANT_PORT="$SLUICE_PORT" start_sluice "./sluice serve --config $WORK/clouds.yaml" \
  AZURITE_ACCOUNT_KEY="$(cat "$WORK/azurite-account-key")" -- --config "$WORK/clouds.yaml"

# ------------------------------------------------------------- checks -------
expected_sizes() { (cd "$DATA/$1" && find . -type f -printf "%s %P\n") | LC_ALL=C sort; }
same_tree() { # DATA_PRODUCT DIR: every file, byte-equal, and no other
  local want got
  want="$(find "$DATA/$1" -type f | wc -l)"; got="$(find "$2" -type f | wc -l)"
  [[ "$got" == "$want" ]] || { echo "copied $got of $want files"; return 1; }
  diff -r "$DATA/$1" "$2"
}

aws_ops() { # PRODUCT DATA_PRODUCT KEY
  local p="$1" d="$2" key="$3" a=(timeout "$T" "$AWS" --endpoint-url "$ENDPOINT" --region us-east-1 --no-sign-request)
  aws_ls() {
    local got
    got="$("${a[@]}" s3 ls --recursive "s3://clouds/$p/" | awk '{ $1=""; $2=""; sub(/^  /, ""); print }' \
      | sed -E "s|^([0-9]+) $p/|\1 |" | LC_ALL=C sort)" || return 1
    [[ "$got" == "$(expected_sizes "$d")" ]] || { diff <(expected_sizes "$d") <(echo "$got"); return 1; }
  }
  aws_range() {
    "${a[@]}" s3api get-object --bucket clouds --key "$p/$key" --range bytes=2-9 "$WORK/range.out" >/dev/null || return 1
    cmp <(dd if="$DATA/$d/$key" bs=1 skip=2 count=8 status=none) "$WORK/range.out"
  }
  aws_copy() { rm -rf "$WORK/aws-$p"; "${a[@]}" s3 cp --recursive --only-show-errors "s3://clouds/$p/" "$WORK/aws-$p/" && same_tree "$d" "$WORK/aws-$p"; }
  aws_missing() {
    local out
    if out="$("${a[@]}" s3api head-object --bucket clouds --key "$p/no/such/key" 2>&1)"; then echo "a missing key was found"; return 1; fi
    grep -q "404" <<<"$out" || { echo "$out"; return 1; }
  }
  check "aws-cli: ls --recursive clouds/$p lists every file with its size" aws_ls
  check "aws-cli: get-object --range bytes=2-9 $p/$key equals the slice" aws_range
  check "aws-cli: cp --recursive clouds/$p down: every file, byte-equal" aws_copy
  check "aws-cli: head-object of a missing key in $p is 404" aws_missing
}

rclone_ops() { # PRODUCT DATA_PRODUCT KEY
  local p="$1" d="$2" key="$3"
  : >"$WORK/rclone.conf"
  local r=(env RCLONE_CONFIG="$WORK/rclone.conf" RCLONE_CONFIG_S_TYPE=s3 RCLONE_CONFIG_S_PROVIDER=Other
           RCLONE_CONFIG_S_ENDPOINT="$ENDPOINT" RCLONE_CONFIG_S_REGION=us-east-1 RCLONE_CONFIG_S_FORCE_PATH_STYLE=true
           timeout "$T" "$RCLONE" --retries 1 --low-level-retries 1)
  rc_ls() {
    local got
    got="$("${r[@]}" ls "s:clouds/$p" | sed -E 's/^ *([0-9]+) (.*)$/\1 \2/' | LC_ALL=C sort)" || return 1
    [[ "$got" == "$(expected_sizes "$d")" ]] || { diff <(expected_sizes "$d") <(echo "$got"); return 1; }
  }
  rc_range() { cmp <(dd if="$DATA/$d/$key" bs=1 skip=3 count=8 status=none) <("${r[@]}" cat --offset 3 --count 8 "s:clouds/$p/$key"); }
  rc_copy() { rm -rf "$WORK/rclone-$p"; "${r[@]}" copy "s:clouds/$p" "$WORK/rclone-$p" && same_tree "$d" "$WORK/rclone-$p"; }
  check "rclone: ls clouds/$p lists every file with its size" rc_ls
  check "rclone: cat --offset 3 --count 8 $p/$key equals the slice" rc_range
  check "rclone: copy clouds/$p down: every file, byte-equal" rc_copy
}

for p in azure-hello gcs-hello; do
  [[ $HAVE_AWS -eq 1 ]] && aws_ops "$p" hello "field notes/day one.txt"
  [[ $HAVE_RCLONE -eq 1 ]] && rclone_ops "$p" hello greeting.txt
done
for p in azure-census gcs-census; do
  [[ $HAVE_AWS -eq 1 ]] && aws_ops "$p" census households.csv
  [[ $HAVE_RCLONE -eq 1 ]] && rclone_ops "$p" census "country_iso=KEN/part-0.csv"
done

tokens_cached() { # every read above was served with one token per federated product: one exchange at each step
  local m provider n
  m="$(curl -s --max-time 5 "$ADMIN/metrics")" || return 1
  for provider in entra google_sts google_iam; do
    n="$(grep -E "^sluice_token_exchanges_total\{.*provider=\"$provider\"" <<<"$m" | grep 'outcome="success"' \
      | awk '{ s += $NF } END { print s + 0 }')"
    [[ "$n" == "1" ]] || { echo "$provider: $n successful exchanges"; grep '^sluice_token_exchanges_total' <<<"$m"; return 1; }
  done
}
check "metrics: one Entra ID exchange, one Google STS and one IAM exchange for all the reads" tokens_cached
no_secret_in_logs() {
  ! grep -E "AccountKey|$(cut -c1-20 "$WORK/azurite-account-key")|eyJ[A-Za-z0-9_-]{20,}\.eyJ" "$SERVER_LOG"
}
check "server log: no account key and no token" no_secret_in_logs

summary_and_exit

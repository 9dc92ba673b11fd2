# Shared by the end-to-end scripts (sourced, not run). Before sourcing, a script sets
#   ROOT  the repository, WORK  its own work directory (emptied here),
# and may append to EXTRA_PIDS (process groups to stop on exit) and EXTRA_LOGS (files
# shown, last 40 lines, after the server log when something failed).
#
# It provides: the clients' paths, the check/ok/bad bookkeeping, free_port,
# summary_and_exit, missing_tool with HAVE_AWS/HAVE_BOTO3/HAVE_RCLONE, find_aws_v1,
# isolate_aws_clients, start_sluice and an exit trap that stops everything started, even
# on failure.

AWS=/usr/bin/aws          # aws-cli v2 from the Debian package, not a v1 shim on PATH
PY=/usr/bin/python3
RCLONE=/usr/bin/rclone
READY_TIMEOUT_S="${E2E_READY_TIMEOUT_S:-60}"
T=60                      # per tool call timeout (seconds)

rm -rf "$WORK"
mkdir -p "$WORK"
# Everything here is loopback: never route it through a proxy from the environment.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
SERVER_LOG="$WORK/server.log"
SERVER_PID=""
EXTRA_PIDS=()
EXTRA_LOGS=()

PASSED=0
FAILED=0
FAILED_NAMES=()

ok()   { PASSED=$((PASSED + 1)); printf 'ok  %s\n' "$1"; }
bad()  { FAILED=$((FAILED + 1)); FAILED_NAMES+=("$1"); printf 'FAIL %s\n' "$1"; }

# check "NAME" FUNCTION [ARGS...]: run one check; everything it prints goes to
# $WORK/check.log and is shown under the FAIL line if it fails.
check() {
  local name="$1"; shift
  if "$@" >"$WORK/check.log" 2>&1; then
    ok "$name"
  else
    bad "$name"
    sed -e 's/^/     | /' "$WORK/check.log" | head -40
  fi
}

LOG_PRINTED=0
print_server_log() {
  if [[ $LOG_PRINTED -eq 0 && -f "$SERVER_LOG" ]]; then
    LOG_PRINTED=1
    echo "----- server log ($SERVER_LOG, last 200 lines) -----"
    tail -n 200 "$SERVER_LOG" || true
    echo "----- end of server log -----"
    local f
    for f in "${EXTRA_LOGS[@]}"; do
      [[ -f "$f" ]] || continue
      echo "----- $f (last 40 lines) -----"
      tail -n 40 "$f" || true
      echo "----- end of $f -----"
    done
  fi
}

# stop_group PID: servers run in their own session/process group (setsid): signal the
# whole group so a launcher and what it started both go.
stop_group() {
  local pid="$1" i
  [[ -n "$pid" ]] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

on_exit() {
  local rc=$? pid
  stop_group "$SERVER_PID"; SERVER_PID=""
  for pid in "${EXTRA_PIDS[@]}"; do stop_group "$pid"; done
  EXTRA_PIDS=()
  if [[ $rc -ne 0 ]]; then print_server_log; fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

summary_and_exit() {
  echo
  if [[ $FAILED -gt 0 ]]; then
    echo "failed checks:"
    printf '  - %s\n' "${FAILED_NAMES[@]}"
    print_server_log
  fi
  echo "$PASSED passed, $FAILED failed"
  if [[ $FAILED -gt 0 ]]; then exit 1; fi
  exit 0
}

# ---------------------------------------------------------------- tools ------
# A missing tool fails the run, unless E2E_ALLOW_MISSING=1 outside CI, in which
# case its checks are skipped with a loud warning.
missing_tool() {
  local tool="$1" why="$2"
  if [[ "${CI:-}" != "true" && "${E2E_ALLOW_MISSING:-}" == "1" ]]; then
    echo "SKIP $tool: $why -- SKIPPING ALL $tool CHECKS (E2E_ALLOW_MISSING=1)"
  else
    bad "tool available: $tool ($why)"
  fi
}

# require_tools EXTRA...: the three clients (HAVE_AWS/HAVE_BOTO3/HAVE_RCLONE), the
# coreutils every check uses, python3 (free ports), and EXTRA commands.
require_tools() {
  HAVE_AWS=0 HAVE_BOTO3=0 HAVE_RCLONE=0
  local ver t
  if [[ -x "$AWS" ]] && ver="$(timeout 30 "$AWS" --version 2>&1)" && [[ "$ver" == aws-cli/2* ]]; then
    HAVE_AWS=1
  else
    missing_tool aws-cli "$AWS is missing or is not aws-cli v2 (got: ${ver:-nothing})"
  fi
  if [[ -x "$PY" ]] && timeout 30 "$PY" -c 'import boto3, botocore' >/dev/null 2>&1; then
    HAVE_BOTO3=1
  else
    missing_tool boto3 "$PY cannot import boto3 (Debian package python3-boto3)"
  fi
  if [[ -x "$RCLONE" ]] && timeout 30 "$RCLONE" version >/dev/null 2>&1; then
    HAVE_RCLONE=1
  else
    missing_tool rclone "$RCLONE is missing"
  fi
  for t in curl cmp diff sha256sum timeout setsid "$@"; do
    command -v "$t" >/dev/null || { bad "tool available: $t"; }
  done
  [[ -x "$PY" ]] || { bad "tool available: $PY (needed to pick free ports)"; summary_and_exit; }
}

# --------------------------------------------------------------- server ------
# start_sluice DESCRIPTION [ENV=VALUE...] -- SERVE_ARGS...: picks PORT (WANT_PORT when set:
# a script that had to name sluice's URL before starting it) and ADMIN_PORT
# (distinct from any port in AVOID_PORTS), sets ENDPOINT and ADMIN, starts
# `./sluice serve SERVE_ARGS` with the listeners and the given environment, and waits
# for /readyz. Not ready within READY_TIMEOUT_S: fails the run.
AVOID_PORTS=()
start_sluice() {
  local description="$1"; shift
  local env=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do env+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  PORT="${WANT_PORT:-$(free_port)}"
  while [[ -z "${WANT_PORT:-}" && " ${AVOID_PORTS[*]} " == *" $PORT "* ]]; do PORT="$(free_port)"; done
  ADMIN_PORT="$(free_port)"
  while [[ "$ADMIN_PORT" == "$PORT" || " ${AVOID_PORTS[*]} " == *" $ADMIN_PORT "* ]]; do ADMIN_PORT="$(free_port)"; done
  ENDPOINT="http://127.0.0.1:$PORT"
  ADMIN="http://127.0.0.1:$ADMIN_PORT"

  echo "starting: $description on 127.0.0.1:$PORT (admin $ADMIN_PORT)  (log: $SERVER_LOG)"
  env SLUICE_LISTEN="127.0.0.1:$PORT" SLUICE_ADMIN_LISTEN="127.0.0.1:$ADMIN_PORT" "${env[@]}" \
    setsid ./sluice serve "$@" >"$SERVER_LOG" 2>&1 </dev/null &
  SERVER_PID=$!

  local ready=0 code deadline=$((SECONDS + READY_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "server exited before becoming ready"
      break
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$ADMIN/readyz" || true)"
    if [[ "$code" == "200" ]]; then ready=1; break; fi
    sleep 0.5
  done
  if [[ $ready -eq 1 ]]; then
    ok "server: GET /readyz is 200 within ${READY_TIMEOUT_S}s"
  else
    bad "server: GET /readyz is 200 within ${READY_TIMEOUT_S}s"
    summary_and_exit
  fi
}

AWS1=""
find_aws_v1() { # aws-cli v1 into AWS1: $AWS_V1, else any pyenv install, else an `aws` on PATH that is v1
  local c ver
  for c in "${AWS_V1:-}" /root/.pyenv/versions/*/bin/aws "${HOME:-/root}"/.pyenv/versions/*/bin/aws $(type -ap aws || true); do
    [[ -n "$c" && -x "$c" ]] || continue
    ver="$(timeout 30 "$c" --version 2>&1)" || continue
    if [[ "$ver" == aws-cli/1.* ]]; then AWS1="$c"; return 0; fi
  done
  return 1
}

# Isolates every AWS client from the configuration and credentials of the machine it runs on.
isolate_aws_clients() {
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_REGION || true
  unset AWS_CA_BUNDLE || true
}

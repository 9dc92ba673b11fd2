# Shared by the bench scripts (sourced, never run): tools, process start/stop with cleanup
# on any exit, readiness polling, load-generator output parsing, and per-process CPU and
# memory readings from /proc. Every wait here is bounded.

PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=python3
READY_TIMEOUT_S="${READY_TIMEOUT_S:-60}"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"

# JAVA, JAVA_VERSION_LINE: a JDK >= 21 (Temurin 25 where installed).
find_java() {
  JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
  if [[ ! -x "$JAVA" ]]; then
    JAVA="$(command -v java || true)"
    [[ -n "$JAVA" ]] || die "no java found"
  fi
  JAVA_VERSION_LINE="$("$JAVA" -version 2>&1 | head -n 1)"
  local major
  major="$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n 1)"
  [[ "${major:-0}" =~ ^[0-9]+$ ]] && ((major >= 21)) || die "need a JDK >= 21, $JAVA is $JAVA_VERSION_LINE"
}

# WRK: wrk, installed with apt-get when missing and possible; empty when it is not available.
find_wrk() {
  WRK="$(command -v wrk || true)"
  if [[ -z "$WRK" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    log "wrk missing: apt-get install -y wrk"
    timeout 300 apt-get install -y wrk >/dev/null 2>&1 || log "apt-get install wrk failed"
    WRK="$(command -v wrk || true)"
  fi
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench.XXXXXX")"
PIDS=()
EXTRA_DIRS=() # directories outside $WORK that on_exit removes too
stop_all() {
  local pid i
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for i in $(seq 1 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
# stop PID: stops one process started with start() (and its process group).
stop() {
  local pid="$1" i keep=()
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for i in "${PIDS[@]}"; do [[ "$i" != "$pid" ]] && keep+=("$i"); done
  PIDS=("${keep[@]}")
}
on_exit() {
  local rc=$? f
  stop_all
  if [[ $rc -ne 0 ]]; then
    for f in "$WORK"/*.log; do
      [[ -f "$f" ]] && { echo "----- $(basename "$f") (last 60 lines) -----" >&2; tail -n 60 "$f" >&2; }
    done
  fi
  rm -rf "$WORK" "${EXTRA_DIRS[@]}"
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME LOGFILE CMD...: run in its own process group so the trap can stop it and its children.
start() {
  local name="$1" logf="$2"; shift 2
  setsid "$@" >"$logf" 2>&1 </dev/null &
  PIDS+=("$!")
  log "started $name (pid $!): $*"
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() { # URL NAME PID: wait until URL answers 200
  local url="$1" name="$2" pid="$3" deadline=$((SECONDS + READY_TIMEOUT_S)) code
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || die "$name exited before it was ready"
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)"
    [[ "$code" == 200 ]] && return 0
    sleep 0.5
  done
  die "$name not ready within ${READY_TIMEOUT_S}s ($url)"
}

# cpu_ticks PID...: utime+stime of the processes, in clock ticks (CLK_TCK a second).
cpu_ticks() {
  local total=0 pid t
  for pid in "$@"; do
    t="$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)"
    total=$((total + t))
  done
  echo "$total"
}
CLK_TCK="$(getconf CLK_TCK)"

# rss_kib PID...: resident set size of the processes, KiB.
rss_kib() {
  local total=0 pid r
  for pid in "$@"; do
    r="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)"
    total=$((total + ${r:-0}))
  done
  echo "$total"
}

# parse_load FILE: wrk (or latency_client.py, which prints the same lines) as "rps p50ms p99ms non2xx errors".
parse_load() {
  "$PY" - "$1" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
def ms(v, unit):
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]
pct = {}
in_dist = False
for line in text.splitlines():
    if "Latency Distribution" in line:
        in_dist = True
        continue
    m = re.match(r"\s+(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m)\s*$", line)
    if in_dist and m:
        pct[m.group(1)] = ms(m.group(2), m.group(3))
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
if "50" not in pct or "99" not in pct or not rps:
    sys.exit("cannot parse load output:\n" + text)
print(rps.group(1), pct["50"], pct["99"], non2xx.group(1) if non2xx else 0,
      sum(int(x) for x in errs.groups()) if errs else 0)
EOF
}

# host_line: the machine, for the report.
host_line() {
  local cpu mem
  cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  mem="$(awk '/^MemTotal:/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "nproc $(nproc), memory $mem, CPU $cpu, $(uname -sr)"
}

# rotated R SIDE...: the sides in the order round R runs them, rotated by one each round, so
# no side always runs right after the same other one (a server measured straight after a
# busy one starts with colder caches and a backlog of the other's garbage collection).
rotated() {
  local r="$1"; shift
  local n=$# i
  local sides=("$@")
  for ((i = 0; i < n; i++)); do printf '%s\n' "${sides[$(( (i + r - 1) % n ))]}"; done
}

# start_s3proxy BUCKET: S3Proxy 3.0.0 (target/s3proxy/s3proxy.jar, else the copy in ~/.m2) on a
# free loopback port, authorization none, jclouds filesystem provider under S3PROXY_DATA
# (default $WORK/s3data; S3PROXY_DATA=tmpfs: a new directory in /dev/shm, removed on exit), with
# BUCKET created. Sets S3PROXY_JAR, S3_PORT and S3PROXY_PID. Needs find_java first.
start_s3proxy() {
  local bucket="$1" code data="${S3PROXY_DATA:-$WORK/s3data}"
  if [[ "$data" == tmpfs ]]; then
    [[ -d /dev/shm && -w /dev/shm ]] || die "S3PROXY_DATA=tmpfs: /dev/shm is not a writable directory"
    data="$(mktemp -d /dev/shm/sluice-bench-s3.XXXXXX)"
    EXTRA_DIRS+=("$data")
  fi
  S3PROXY_DATA_DIR="$data"
  S3PROXY_JAR="$ROOT/target/s3proxy/s3proxy.jar"
  [[ -f "$S3PROXY_JAR" ]] || S3PROXY_JAR="$HOME/.m2/repository/org/gaul/s3proxy/3.0.0/s3proxy-3.0.0-jar-with-dependencies.jar"
  [[ -f "$S3PROXY_JAR" ]] || die "S3Proxy jar not found (target/s3proxy/s3proxy.jar or ~/.m2)"
  S3_PORT="$(free_port)"
  mkdir -p "$data"
  cat >"$WORK/s3proxy-logback.xml" <<'EOF'
<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="STDERR"/></root>
</configuration>
EOF
  cat >"$WORK/s3proxy.properties" <<EOF
s3proxy.endpoint=http://127.0.0.1:$S3_PORT
s3proxy.authorization=none
jclouds.provider=filesystem
jclouds.filesystem.basedir=$data
s3proxy.ignore-unknown-headers=true
EOF
  start s3proxy "$WORK/s3proxy.log" "$JAVA" "-Dlogback.configurationFile=$WORK/s3proxy-logback.xml" \
    -cp "$S3PROXY_JAR" org.gaul.s3proxy.Main --properties "$WORK/s3proxy.properties"
  S3PROXY_PID="${PIDS[-1]}"
  wait_http "http://127.0.0.1:$S3_PORT/" s3proxy "$S3PROXY_PID"
  code="$(curl -s -o "$WORK/mb.out" -w '%{http_code}' --max-time 30 -X PUT "http://127.0.0.1:$S3_PORT/$bucket")"
  [[ "$code" == 200 ]] || die "create bucket: PUT http://127.0.0.1:$S3_PORT/$bucket gave HTTP $code: $(head -c 500 "$WORK/mb.out")"
}

# find_nginx: NGINX, the nginx binary; installed with apt-get (nginx-light) when missing and
# this runs as root, else the script dies.
find_nginx() {
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
  if [[ ! -x "$NGINX" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    log "nginx missing: apt-get install -y nginx-light"
    timeout 300 apt-get install -y nginx-light >/dev/null 2>&1 || log "apt-get install nginx-light failed"
  fi
  [[ -x "$NGINX" ]] || die "nginx is required (apt-get install nginx-light)"
}

# start_nginx PORT HTTP SERVER: nginx (2 workers, access log on, keep-alive without a request
# limit, every path under $WORK/nginx) listening on 127.0.0.1:PORT, with the directives HTTP in
# its http block and SERVER in its server block; sets NGINX_PID. Both comparisons against nginx
# start it so, so that they differ only in what they ask of it.
start_nginx() {
  local port="$1" http="$2" server="$3"
  mkdir -p "$WORK/nginx"
  chmod 755 "$WORK" # nginx's workers run as another user when it is started by root
  cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log $WORK/nginx/access.log;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
$http
  server {
    listen 127.0.0.1:$port;
$server
  }
}
EOF
  start nginx "$WORK/nginx.log" "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
  NGINX_PID="${PIDS[-1]}"
}

#!/usr/bin/env bash
# bench/run.sh: one benchmark run of understudy against nginx serving the same bytes.
#
# Loopback only (127.0.0.1), bounded (about a minute, well under 3), as root on Debian 12.
# Not a test and not run by CI: it measures, prints a table and writes bench/results.md.
#
#   bench/run.sh                      # uses build/understudy if it was compiled with -O,
#                                     # else builds a Release copy in build-bench/
#   UNDERSTUDY=path bench/run.sh      # any other binary
#
# Environment (all optional):
#   UNDERSTUDY       binary to measure
#   UNDERSTUDY_ARGS  extra arguments for it (word-split), e.g. "--threads 64"
#   NGINX_WORKERS    nginx worker_processes (default auto = one per core, 2 here: both
#                    servers may then use every core, as understudy's threads can)
#   BENCH_DURATION   seconds of each measured wrk run (default 10)
#   READY_RUNS       start-up timings to take the median of (default 10)
#   BENCH_LOG        --log format of the measured server (default text; its stdout is a file)
#
# What it does: (a) binary; (b) median ms from exec to the first 200 of
# GET /__admin/health; (c) idle RSS; (d) fetch GET /contacts/statuses once, serve those
# exact bytes from nginx (own prefix and config, access_log off, keep-alive);
# (e) wrk -t2 -c50 -d10s --latency against both with the same Lua script, while the
# kernel's per-socket counters of wrk's 50 connections are sampled (ss) to count the
# connections that got answers; then a 50-connection keep-alive client (bench.py
# conncheck) as a second count; (f) RSS after load; (g) table + PASS/MISS, results.md.
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
API_KEY=gua_demo0002_key
ENDPOINT=/contacts/statuses
CONNS=50
WRK_THREADS=2
DURATION=${BENCH_DURATION:-10}
READY_RUNS=${READY_RUNS:-10}
NGINX_WORKERS=${NGINX_WORKERS:-auto}
PY=python3
BENCHPY="$HERE/bench.py"
LUA="$HERE/wrk.lua"

say() { printf '== %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
on_err() { printf 'bench: failed (exit %s) at line %s: %s\n' "$1" "$2" "$3" >&2; }
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

[ "$(id -u)" = 0 ] || die "run as root (it installs wrk/nginx/curl with apt-get when missing)"

# ---- cleanup of everything started here --------------------------------------------
TMP=$(mktemp -d /tmp/understudy-bench.XXXXXX)
chmod 755 "$TMP"   # nginx workers run as nobody and read the body file below it
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tools ---------------------------------------------------------------------------
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v curl >/dev/null || need+=(curl)
command -v ss >/dev/null || need+=(iproute2)
command -v "$PY" >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends "${need[@]}" >/dev/null
fi

LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD_BEFORE" 'BEGIN{exit !(l > 1.0)}'; then
  say "warning: 1-minute load average is $LOAD_BEFORE before the run: other work shares the cores, figures will be low and noisy"
fi

# ---- (a) the binary ------------------------------------------------------------------
# Optimised = the C flags that build/ really compiles with have -O1/2/3/s (the project
# defaults an empty CMAKE_BUILD_TYPE to RelWithDebInfo, which the cache does not show).
opt_flags() {
  grep -hs '^C_FLAGS' "$1/CMakeFiles/emulator_core.dir/flags.make" | grep -o -- '-O[123s]' | head -1 || true
}
if [ -n "${UNDERSTUDY:-}" ]; then
  BIN=$UNDERSTUDY
  BUILD_NOTE="given by UNDERSTUDY"
else
  OPT=$(opt_flags "$ROOT/build")
  if [ -x "$ROOT/build/understudy" ] && [ -n "$OPT" ]; then
    BIN=$ROOT/build/understudy
    BUILD_NOTE="build/, compiled with $OPT"
  else
    say "build/understudy is missing or not built with -O: building Release in build-bench/"
    cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release -DEMU_BUILD_TESTS=OFF \
      >"$TMP/cmake.log" 2>&1 || { tail -30 "$TMP/cmake.log"; die "cmake configure failed"; }
    cmake --build "$ROOT/build-bench" -j2 >>"$TMP/cmake.log" 2>&1 \
      || { tail -30 "$TMP/cmake.log"; die "cmake build failed"; }
    BIN=$ROOT/build-bench/understudy
    BUILD_NOTE="build-bench/, CMAKE_BUILD_TYPE=Release"
  fi
fi
[ -x "$BIN" ] || die "no executable at $BIN"
BIN=$(readlink -f "$BIN")
# shellcheck disable=SC2206
EXTRA=(${UNDERSTUDY_ARGS:-})
export TMPDIR=$TMP   # understudy's private LMDB environment (no --data-dir) lands here
say "binary: $BIN ($BUILD_NOTE)"

# The defaults: the request log on (text, or BENCH_LOG=json|off), written to a file; journal on.
LOGARGS=(--log "${BENCH_LOG:-text}")
LOG_NOTE="--log ${BENCH_LOG:-text} to a file, journal on"

# ---- (b) exec to first 200 of /__admin/health -------------------------------------------
say "start-up: $READY_RUNS runs, exec to first 200 of GET /__admin/health"
"$PY" "$BENCHPY" ready --runs "$READY_RUNS" --errdir "$TMP" -- "$BIN" "${LOGARGS[@]}" "${EXTRA[@]}" \
  | tee "$TMP/ready.txt"
kv() { grep -o "\b$2=[^ ]*" "$1" | head -1 | cut -d= -f2; }
READY_MS=$(kv "$TMP/ready.txt" median_ms)
READY_MAX=$(kv "$TMP/ready.txt" max_ms)
STOP_MS=$(kv "$TMP/ready.txt" stop_median_ms)
EXIT_CODES=$(kv "$TMP/ready.txt" exit_codes)
[ -n "$READY_MS" ] || die "no start-up figure"

# ---- start both servers ------------------------------------------------------------------
port() { "$PY" "$BENCHPY" freeport; }
wait_200() { # url pid [header]
  local code
  for _ in $(seq 200); do
    kill -0 "$2" 2>/dev/null || return 1
    code=$(curl -s -o /dev/null -w '%{http_code}' ${3:+-H "$3"} "$1" || true)
    [ "$code" = 200 ] && return 0
    sleep 0.05
  done
  return 1
}
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }

US_PORT=$(port)
US_URL=http://127.0.0.1:$US_PORT
"$BIN" "${LOGARGS[@]}" "${EXTRA[@]}" --listen "127.0.0.1:$US_PORT" >"$TMP/understudy.log" 2>"$TMP/understudy.err" &
US_PID=$!
PIDS+=("$US_PID")
wait_200 "$US_URL/__admin/health" "$US_PID" \
  || { tail -20 "$TMP/understudy.err" >&2; die "understudy did not become healthy on $US_URL"; }
sleep 1
IDLE_KB=$(rss_kb "$US_PID")
US_THREADS=$(awk '/^Threads:/{print $2}' "/proc/$US_PID/status")
say "understudy pid $US_PID on $US_URL: idle VmRSS $(mib "$IDLE_KB") MiB, $US_THREADS threads"

# ---- (d) the exact bytes, served by nginx ---------------------------------------------------
mkdir -p "$TMP/www/contacts" "$TMP/nginx/logs"
code=$(curl -sS -D "$TMP/us.headers" -o "$TMP/www/contacts/statuses" -w '%{http_code}' \
  -H "X-API-Key: $API_KEY" "$US_URL$ENDPOINT")
[ "$code" = 200 ] || { cat "$TMP/us.headers" "$TMP/www/contacts/statuses" >&2; die "GET $ENDPOINT answered $code"; }
BODY_BYTES=$(stat -c %s "$TMP/www/contacts/statuses")
US_CT=$(awk -F': *' 'tolower($1)=="content-type"{sub(/\r$/,"",$2); print $2}' "$TMP/us.headers")
say "GET $ENDPOINT: 200, $BODY_BYTES bytes, Content-Type: ${US_CT:-none}"
chmod -R a+rX "$TMP/www"

NG_PORT=$(port)
NG_URL=http://127.0.0.1:$NG_PORT
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 100000000;
    open_file_cache max=16 inactive=60s;
    types { }
    default_type application/json;
    client_body_temp_path $TMP/nginx/client_body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    server {
        listen 127.0.0.1:$NG_PORT;
        root $TMP/www;
    }
}
EOF
nginx -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" -g 'daemon off;' \
  2>"$TMP/nginx/stderr" &
NG_PID=$!
PIDS+=("$NG_PID")
wait_200 "$NG_URL$ENDPOINT" "$NG_PID" \
  || { cat "$TMP/nginx/stderr" "$TMP/nginx/logs/error.log" >&2 2>/dev/null; die "nginx did not serve $NG_URL$ENDPOINT"; }
curl -s "$NG_URL$ENDPOINT" | cmp -s - "$TMP/www/contacts/statuses" || die "nginx serves different bytes"
NG_CT=$(curl -s -o /dev/null -w '%{content_type}' "$NG_URL$ENDPOINT")
say "nginx pid $NG_PID on $NG_URL: worker_processes $NGINX_WORKERS, same $BODY_BYTES bytes, Content-Type: $NG_CT"

# ---- (e) load -------------------------------------------------------------------------------
run_load() { # name port
  local name=$1 p=$2 url="http://127.0.0.1:$2$ENDPOINT" wpid
  say "$name: wrk warm-up 2s"
  BENCH_API_KEY=$API_KEY wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s "$LUA" "$url" >/dev/null
  say "$name: wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s --latency (sockets sampled at 3s and $((DURATION - 2))s)"
  "$PY" "$BENCHPY" watch "$p" --at 3 --at $((DURATION - 2)) >"$TMP/$name.sockets" &
  wpid=$!
  PIDS+=("$wpid")
  BENCH_API_KEY=$API_KEY wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$LUA" "$url" \
    | tee "$TMP/$name.wrk"
  wait "$wpid" || die "$name: socket sampling failed"
  cat "$TMP/$name.sockets"
  grep -q '^WRK ' "$TMP/$name.wrk" || die "$name: wrk printed no summary line"
}
run_check() { # name port
  say "$1: $CONNS keep-alive connections, 3s, each counted"
  "$PY" "$BENCHPY" conncheck "$2" "$ENDPOINT" --conns "$CONNS" --seconds 3 \
    --header "X-API-Key: $API_KEY" | tee "$TMP/$1.check"
}

[ "$DURATION" -ge 6 ] || die "BENCH_DURATION must be >= 6"
run_load nginx "$NG_PORT"
run_load understudy "$US_PORT"
# ---- (f) RSS after load -----------------------------------------------------------------------
LOAD_KB=$(rss_kb "$US_PID")
HWM_KB=$(hwm_kb "$US_PID")
run_check nginx "$NG_PORT"
run_check understudy "$US_PORT"
kill -0 "$US_PID" 2>/dev/null || die "understudy died during the run"
US_ERRLINES=$(wc -l <"$TMP/understudy.err")

# ---- (g) results -------------------------------------------------------------------------------
f1() { awk -v v="$1" 'BEGIN{printf "%.0f", v}'; }
ms() { awk -v v="$1" 'BEGIN{printf "%.2f", v/1000}'; }
declare -A R
for n in nginx understudy; do
  R[$n.rps]=$(kv "$TMP/$n.wrk" rps)
  R[$n.p50]=$(kv "$TMP/$n.wrk" p50_us)
  R[$n.p99]=$(kv "$TMP/$n.wrk" p99_us)
  R[$n.max]=$(kv "$TMP/$n.wrk" max_us)
  R[$n.err]=$(( $(kv "$TMP/$n.wrk" err_connect) + $(kv "$TMP/$n.wrk" err_read) + \
                $(kv "$TMP/$n.wrk" err_write) + $(kv "$TMP/$n.wrk" err_timeout) ))
  R[$n.non2xx]=$(kv "$TMP/$n.wrk" non2xx)
  R[$n.served]=$(kv "$TMP/$n.sockets" served)
  R[$n.sockets]=$(kv "$TMP/$n.sockets" total)
  R[$n.progress]=$(kv "$TMP/$n.sockets" progressing)
  R[$n.cserved]=$(kv "$TMP/$n.check" served)
  R[$n.cmin]=$(kv "$TMP/$n.check" min)
  R[$n.cmax]=$(kv "$TMP/$n.check" max)
  R[$n.cerr]=$(kv "$TMP/$n.check" errors)
done
RATIO=$(awk -v a="${R[understudy.rps]}" -v b="${R[nginx.rps]}" 'BEGIN{printf "%.2f", a/b}')
pf() { if awk "BEGIN{exit !($1)}"; then echo PASS; else echo MISS; fi; }
P_RATIO=$(pf "$RATIO >= 0.6")
P_CONNS=$(pf "${R[understudy.served]} == $CONNS && ${R[understudy.cserved]} == $CONNS")
P_P99=$(pf "${R[understudy.p99]} < 5000")
P_READY=$(pf "$READY_MS < 50")
P_RSS=$(pf "$IDLE_KB < 10240")

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)
DIRTY=""
if [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null || true)" ]; then DIRTY=" (work tree modified)"; fi
CPU=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)

{
  echo "# understudy benchmark"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), commit $COMMIT$DIRTY, $(nproc) cores ($CPU), $(uname -r), load average $LOAD_BEFORE before the run."
  echo "Binary: \`$BIN\` ($BUILD_NOTE), $LOG_NOTE${EXTRA[*]:+, args: ${EXTRA[*]}}; $US_THREADS threads when idle."
  echo "Load: \`wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s --latency -s bench/wrk.lua\` on 127.0.0.1, after a 2 s warm-up,"
  echo "\`GET $ENDPOINT\` with \`X-API-Key: $API_KEY\` ($BODY_BYTES-byte JSON body)."
  echo "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') serves the same bytes as a static file: worker_processes $NGINX_WORKERS,"
  echo "access_log off, keep-alive, sendfile, Content-Type application/json. Client and servers share the $(nproc) cores."
  echo
  echo "| | understudy | nginx |"
  echo "|---|---:|---:|"
  echo "| requests/s | $(f1 "${R[understudy.rps]}") | $(f1 "${R[nginx.rps]}") |"
  echo "| p50 latency (ms) | $(ms "${R[understudy.p50]}") | $(ms "${R[nginx.p50]}") |"
  echo "| p99 latency (ms) | $(ms "${R[understudy.p99]}") | $(ms "${R[nginx.p99]}") |"
  echo "| max latency (ms) | $(ms "${R[understudy.max]}") | $(ms "${R[nginx.max]}") |"
  echo "| connections served of $CONNS during wrk (ss) | ${R[understudy.served]} | ${R[nginx.served]} |"
  echo "| connections still answered between 3 s and $((DURATION - 2)) s | ${R[understudy.progress]} | ${R[nginx.progress]} |"
  echo "| connections served of $CONNS, keep-alive check (3 s) | ${R[understudy.cserved]} | ${R[nginx.cserved]} |"
  echo "| answers per connection in the check (min-max) | ${R[understudy.cmin]}-${R[understudy.cmax]} | ${R[nginx.cmin]}-${R[nginx.cmax]} |"
  echo "| wrk socket errors / non-2xx | ${R[understudy.err]} / ${R[understudy.non2xx]} | ${R[nginx.err]} / ${R[nginx.non2xx]} |"
  echo
  echo "| understudy | value |"
  echo "|---|---:|"
  echo "| requests/s ratio understudy/nginx | $RATIO |"
  echo "| exec to first 200 of /__admin/health, median of $READY_RUNS (ms) | $READY_MS (max $READY_MAX) |"
  echo "| SIGTERM to exit, median (ms); exit codes | $STOP_MS; $EXIT_CODES |"
  echo "| RSS idle (MiB) | $(mib "$IDLE_KB") |"
  echo "| RSS after load (MiB); peak | $(mib "$LOAD_KB"); $(mib "$HWM_KB") |"
  echo
  echo "| target | measured | |"
  echo "|---|---:|---|"
  echo "| requests/s ratio >= 0.6 | $RATIO | $P_RATIO |"
  echo "| $CONNS/$CONNS keep-alive connections served | ${R[understudy.served]} (wrk), ${R[understudy.cserved]} (check) | $P_CONNS |"
  echo "| p99 < 5 ms | $(ms "${R[understudy.p99]}") ms | $P_P99 |"
  echo "| ready < 50 ms | $READY_MS ms | $P_READY |"
  echo "| idle RSS < 10 MB | $(mib "$IDLE_KB") MiB | $P_RSS |"
} >"$HERE/results.md"

echo
cat "$HERE/results.md"
[ "$US_ERRLINES" -eq 0 ] || { echo; echo "understudy stderr ($US_ERRLINES lines, last 5):"; tail -5 "$TMP/understudy.err"; }
echo
echo "written: $HERE/results.md"

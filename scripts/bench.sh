#!/usr/bin/env bash
# scripts/bench.sh: benchmark libhttpx against libcurl and ureq 3 (and wrk as the floor)
# on a local nginx, and write a markdown report. See bench/README.md.
#
#   bash scripts/bench.sh                 # full run: ~2.5 min of runs (+ release builds)
#   bash scripts/bench.sh --quick         # smoke run (~20 s; CI), debug build by default,
#                                         # no ureq (building it costs ~70 s of CPU)
#   options: --reps N  --only ID,ID  --out FILE  --no-wrk  --profile release|debug
#            --ureq / --no-ureq (default: on, off with --quick)
#            --lib DIR (use DIR/libhttpx.so as it is: no cargo build; for before/after runs)
#            --keep (keep the temp dir)  --serve [SECONDS] (only start nginx and wait; for
#            profiling by hand: prints the URLs and the runner commands)
#
# Needs: cargo, gcc, openssl, nginx (+ echo module for the upload workloads: Debian
# libnginx-mod-http-echo), libcurl development files; wrk is optional.
# The report goes to --out (default: $CARGO_TARGET_DIR or target/, bench/results.md) and
# to stdout; progress goes to stderr. Everything listens on 127.0.0.1 only; nginx is
# killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CMDLINE="bash scripts/bench.sh${*:+ $*}"

QUICK=0 REPS="" ONLY="" OUT="" USE_WRK=1 PROFILE="" KEEP=0 SERVE="" USE_UREQ="" LIB_DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --reps) REPS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --out) OUT=$2; shift ;;
    --no-wrk) USE_WRK=0 ;;
    --ureq) USE_UREQ=1 ;;
    --no-ureq) USE_UREQ=0 ;;
    --lib) LIB_DIR=$2; shift ;;
    --profile) PROFILE=$2; shift ;;
    --keep) KEEP=1 ;;
    --serve) SERVE=600; if [ $# -gt 1 ] && [[ $2 =~ ^[0-9]+$ ]]; then SERVE=$2; shift; fi ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
# --quick is the CI smoke run: it reuses the debug library that scripts/test.sh has just
# built (a release build takes ~80 s on 2 cores). Its numbers only show the benchmark works.
PROFILE=${PROFILE:-${BENCH_PROFILE:-$([ "$QUICK" = 1 ] && echo debug || echo release)}}
# ureq's runner (bench/ureq, its own Cargo workspace) is a release build of ureq + rustls
# + ring: ~70 s of CPU from scratch, too much for the CI smoke, so --quick leaves it out.
USE_UREQ=${USE_UREQ:-${BENCH_UREQ:-$([ "$QUICK" = 1 ] && echo 0 || echo 1)}}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-$TARGET_DIR/bench/results.md}
log() { echo "[bench.sh] $*" >&2; }

for tool in cargo gcc openssl nginx; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench.sh: $tool not found" >&2; exit 1; }
done
[ -f /usr/include/curl/curl.h ] || [ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] \
  || { echo "bench.sh: libcurl headers missing (apt-get install libcurl4-openssl-dev)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/httpx-bench.XXXXXX")
chmod 755 "$WORK"
NGINX_PID="" SLEEP_PID="" SERVER_PIDS=""
cleanup() {
  set +e
  [ -n "$SLEEP_PID" ] && kill "$SLEEP_PID" 2>/dev/null
  if [ -n "$NGINX_PID" ]; then
    kill "$NGINX_PID" 2>/dev/null   # fast shutdown: the master stops its workers
    for _ in $(seq 1 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$NGINX_PID" 2>/dev/null; then
      kill -9 "$NGINX_PID" ${SERVER_PIDS//,/ } 2>/dev/null
    fi
  fi
  if [ "$KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ----------------------------------------------------------------------------- build
T_BUILD=$(date +%s)
if [ -n "$LIB_DIR" ]; then
  log "using $LIB_DIR/libhttpx.so as it is (--lib: no cargo build)"
  LIBDIR=$(cd "$LIB_DIR" && pwd)
elif [ "$PROFILE" = release ]; then
  log "cargo build --release (target dir $TARGET_DIR)"
  cargo build --release --locked -p httpx >&2
  LIBDIR=$TARGET_DIR/release
else
  log "cargo build (debug profile, target dir $TARGET_DIR)"
  cargo build --locked -p httpx >&2
  LIBDIR=$TARGET_DIR/debug
fi
[ -f "$LIBDIR/libhttpx.so" ] || { echo "bench.sh: $LIBDIR/libhttpx.so missing" >&2; exit 1; }
CFLAGS=(-O2 -g -Wall -Wextra -std=gnu11)
gcc "${CFLAGS[@]}" -DBENCH_HTTPX -I"$ROOT/include" bench/runner.c -o "$WORK/bench_httpx" \
  -L"$LIBDIR" -lhttpx -Wl,-rpath,"$LIBDIR" -lpthread
gcc "${CFLAGS[@]}" -DBENCH_CURL bench/runner.c -o "$WORK/bench_curl" -lcurl -lpthread
gcc "${CFLAGS[@]}" -Wno-missing-field-initializers bench/driver.c -o "$WORK/bench_driver" -lm
LIBS_ARG=httpx,curl
if [ "$USE_UREQ" = 1 ]; then
  log "cargo build --release of the ureq runner (bench/ureq, target dir $TARGET_DIR/bench-ureq)"
  cargo build --release --locked --manifest-path bench/ureq/Cargo.toml --target-dir "$TARGET_DIR/bench-ureq" >&2
  cp "$TARGET_DIR/bench-ureq/release/bench_ureq" "$WORK/bench_ureq"
  LIBS_ARG=httpx,curl,ureq
fi
log "built in $(( $(date +%s) - T_BUILD )) s"

# ----------------------------------------------------------------------------- TLS
mkdir -p "$WORK/certs" "$WORK/root/files" "$WORK/data" "$WORK/tmp"
(
  cd "$WORK/certs"
  cat > req.cnf <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_srv ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1
EOF
  key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
  key ca.key
  openssl req -new -x509 -config req.cnf -key ca.key -subj "/CN=libhttpx bench CA" -days 30 \
    -sha256 -extensions v3_ca -out ca.pem
  key server.key
  openssl req -new -config req.cnf -key server.key -subj "/CN=localhost" -out server.csr
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -days 30 -sha256 \
    -set_serial "0x$(openssl rand -hex 8)" -extfile req.cnf -extensions v3_srv -out server.pem 2>/dev/null
  openssl verify -CAfile ca.pem server.pem >/dev/null
)

# ----------------------------------------------------------------------------- data
head -c 65536 /dev/urandom > "$WORK/root/files/64k.bin"
truncate -s 100M "$WORK/root/files/100m.bin"   # sparse: served with sendfile, no disk I/O
truncate -s 1G "$WORK/root/files/1g.bin"
truncate -s 100M "$WORK/data/up_100m.bin"      # upload sources, read by the clients
truncate -s 1G "$WORK/data/up_1g.bin"
# Fill the page cache now, so that the first run of a workload does not pay for it.
cat "$WORK/root/files/"*.bin "$WORK/data/"*.bin > /dev/null

# ----------------------------------------------------------------------------- nginx
NGINX=$(command -v nginx)
LOAD_MODULES=""
for m in /usr/lib/nginx/modules/ngx_http_echo_module.so /usr/share/nginx/modules/ngx_http_echo_module.so; do
  [ -f "$m" ] && { LOAD_MODULES="load_module $m;"; break; }
done
if [ -z "$LOAD_MODULES" ] && ! "$NGINX" -V 2>&1 | grep -q echo; then
  echo "bench.sh: nginx echo module missing (apt-get install libnginx-mod-http-echo)" >&2; exit 1
fi
USER_LINE=""
[ "$(id -u)" = 0 ] && USER_LINE="user root;"
mkdir -p "$WORK/tmp/body" "$WORK/tmp/proxy" "$WORK/tmp/fastcgi" "$WORK/tmp/uwsgi" "$WORK/tmp/scgi"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start_nginx() {
  local try
  for try in 1 2 3 4 5 6 7 8; do
    HTTP_PORT=$((20000 + RANDOM % 20000)); HTTPS_PORT=$((HTTP_PORT + 1)); H2_PORT=$((HTTP_PORT + 2))
    port_free "$HTTP_PORT" && port_free "$HTTPS_PORT" && port_free "$H2_PORT" || continue
    sed -e "s|{{DIR}}|$WORK|g" "$ROOT/bench/locations.conf" > "$WORK/locations.conf"
    sed -e "s|{{DIR}}|$WORK|g" -e "s|{{HTTP_PORT}}|$HTTP_PORT|g" -e "s|{{HTTPS_PORT}}|$HTTPS_PORT|g" -e "s|{{H2_PORT}}|$H2_PORT|g" \
        -e "s|{{USER_LINE}}|$USER_LINE|g" -e "s|{{LOAD_MODULES}}|$LOAD_MODULES|g" \
        "$ROOT/bench/nginx.conf.template" > "$WORK/nginx.conf"
    "$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log" 2>>"$WORK/nginx.stderr" &
    NGINX_PID=$!
    local i
    for i in $(seq 1 100); do
      if ! kill -0 "$NGINX_PID" 2>/dev/null; then NGINX_PID=""; break; fi
      if ! port_free "$HTTP_PORT" && ! port_free "$HTTPS_PORT" && ! port_free "$H2_PORT"; then return 0; fi
      sleep 0.05
    done
    [ -n "$NGINX_PID" ] && { kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""; }
    log "nginx did not start on $HTTP_PORT/$HTTPS_PORT (try $try): $(tail -n 2 "$WORK/error.log" "$WORK/nginx.stderr" 2>/dev/null | tr '\n' ' ')"
  done
  echo "bench.sh: could not start nginx" >&2
  return 1
}
start_nginx
HTTP_URL="http://127.0.0.1:$HTTP_PORT"
HTTPS_URL="https://127.0.0.1:$HTTPS_PORT"
H2_URL="https://127.0.0.1:$H2_PORT"
log "nginx pid $NGINX_PID on $HTTP_URL and $HTTPS_URL"

if [ -n "$SERVE" ]; then
  cat >&2 <<EOF
[bench.sh] serving for $SERVE s (Ctrl-C to stop). Examples:
  $WORK/bench_httpx --mode get --url $HTTP_URL/ --n 20000 --expect 13
  $WORK/bench_curl  --mode get --url $HTTPS_URL/ --n 20000 --expect 13 --ca $WORK/certs/ca.pem
  $WORK/bench_ureq  --mode newconn --url $HTTP_URL/newconn?lib=ureq --n 3000 --expect 13   (with --ureq)
  $WORK/bench_httpx --mode stream --url $HTTP_URL/files/100m.bin --n 3 --expect 104857600
  $WORK/bench_httpx --mode upload --url $HTTP_URL/upload --n 1 --file $WORK/data/up_100m.bin
EOF
  echo "HTTP_URL=$HTTP_URL HTTPS_URL=$HTTPS_URL CA=$WORK/certs/ca.pem BIN=$WORK DATA=$WORK/data"
  sleep "$SERVE" & SLEEP_PID=$!
  wait "$SLEEP_PID" || true
  exit 0
fi

# ----------------------------------------------------------------------------- run
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain -- src Cargo.toml 2>/dev/null | head -n1)
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
WRK_BIN=""
if [ "$USE_WRK" = 1 ]; then WRK_BIN=$(command -v wrk || true); [ -n "$WRK_BIN" ] || log "wrk not found: no floor rows"; fi
# nginx master and its workers (the driver pins them with the client; see bench/README.md)
SERVER_PIDS=$NGINX_PID
for f in /proc/[0-9]*/stat; do
  read -r pid _ _ ppid _ < "$f" 2>/dev/null || continue
  [ "$ppid" = "$NGINX_PID" ] && SERVER_PIDS="$SERVER_PIDS,$pid"
done
ARGS=(--bin "$WORK" --server-pids "$SERVER_PIDS" --http "$HTTP_URL" --https "$HTTPS_URL" --h2 "$H2_URL" --ca "$WORK/certs/ca.pem" --data "$WORK/data"
      --resume-log "$WORK/resume.log" --out "$WORK/results.md"
      --meta "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs ($CPU_MODEL); Linux $(uname -r)"
      --libs "$LIBS_ARG"
      --meta "libhttpx $("$WORK/bench_httpx" --version) (git $GIT_REV${DIRTY:+, modified src}${LIB_DIR:+, library from $LIB_DIR}), $PROFILE build; $("$WORK/bench_curl" --version | cut -d' ' -f1-2)$([ "$USE_UREQ" = 1 ] && echo "; $("$WORK/bench_ureq" --version) (rustls, ring)"); $("$NGINX" -v 2>&1 | sed 's/.*: //') (2 workers)"
      --meta "Command: \`$CMDLINE\`")
[ "$QUICK" = 1 ] && ARGS+=(--quick)
[ -n "$REPS" ] && ARGS+=(--reps "$REPS")
[ -n "$ONLY" ] && ARGS+=(--only "$ONLY")
[ -n "$WRK_BIN" ] && ARGS+=(--wrk "$WRK_BIN")
if [ "$PROFILE" != release ]; then
  # A debug build says nothing about the goals: the driver prints "debug build: no verdicts".
  ARGS+=(--no-verdicts "$PROFILE build")
  ARGS+=(--meta "**$PROFILE build of libhttpx: a smoke run, not a measurement.**")
fi

status=0
# The newclient row uses each library's default configuration (libhttpx: trust_env on):
# give it SSL_CERT_FILE (the bench CA, as a user with a custom bundle would have: read at
# client creation), a HOME without .netrc, and no proxy variables (every row goes direct).
env -u http_proxy -u https_proxy -u all_proxy -u HTTP_PROXY -u HTTPS_PROXY -u ALL_PROXY -u NETRC \
  HOME="$WORK" SSL_CERT_FILE="$WORK/certs/ca.pem" \
  "$WORK/bench_driver" "${ARGS[@]}" >/dev/null || status=$?
if [ -f "$WORK/results.md" ]; then
  mkdir -p "$(dirname "$OUT")"
  cp "$WORK/results.md" "$OUT"
  cat "$OUT"
  log "report written to $OUT"
fi
if [ -s "$WORK/error.log" ] && grep -q '\[\(error\|crit\|alert\|emerg\)\]' "$WORK/error.log"; then
  log "nginx errors:"; grep '\[\(error\|crit\|alert\|emerg\)\]' "$WORK/error.log" | tail -n 5 >&2
fi
exit "$status"

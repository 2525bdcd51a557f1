#!/usr/bin/env bash
# Regenerates link/hot.ld (the hot-function order of libhttpx.so, issue 16: peak RSS) from
# callgrind profiles of the bench runner on the common workloads. Run after a toolchain or
# dependency update, or when the hot path changed much; then rebuild and compare peak RSS
# (bench/RESULTS.md "Issue 16: where the RSS goes" has the method).
#
#   bash scripts/gen-hot-text.sh          # needs nginx (bench.sh's), valgrind, python3, gcc
#
# It builds the release library twice with HTTPX_HOT_TEXT=0 (the default layout): as
# bench.sh builds it (`-p httpx`) and as CMakeLists.txt / a plain `cargo build --release`
# build it (the workspace: the cli's dependencies unify some dependency features, so every
# legacy symbol hash differs, and a list of one build's names is half stale for the other).
# It starts bench.sh --serve, profiles both on keep-alive HTTP, new connection, new
# client, 64 KiB, upload, multi, HTTPS keep-alive and new connection, HTTP/2, and writes
# link/hot.ld in that order (hottest first; each workload's functions of both builds).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
for t in valgrind python3 gcc nm; do command -v "$t" >/dev/null || { echo "gen-hot-text: $t missing" >&2; exit 1; }; done
TMP=$(mktemp -d); LIB=$TMP/lib; LIBW=$TMP/libw; mkdir "$LIB" "$LIBW"
HTTPX_HOT_TEXT=0 cargo build --release --locked -p httpx >&2
cp "$TARGET_DIR/release/libhttpx.so" "$LIB/"
HTTPX_HOT_TEXT=0 cargo build --release --locked --lib >&2
cp "$TARGET_DIR/release/libhttpx.so" "$LIBW/"
SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
bash scripts/bench.sh --serve 600 --lib "$LIB" --no-ureq --no-wrk >"$TMP/serve.log" 2>&1 & SERVE_PID=$!
for _ in $(seq 1 120); do grep -q '^HTTP_URL=' "$TMP/serve.log" && break; sleep 1; done
eval "$(grep '^HTTP_URL=' "$TMP/serve.log")" || { cat "$TMP/serve.log" >&2; exit 1; }
H2_URL="https://127.0.0.1:$(( ${HTTP_URL##*:} + 2 ))"
gcc -O2 -g -std=gnu11 -DBENCH_HTTPX -I"$ROOT/include" bench/runner.c -o "$TMP/runner" -L"$LIB" -lhttpx -lpthread
n=0; PROFILES=""; PROFILES_W=""
cg() {
  n=$((n + 1))
  local lib out
  for lib in "$LIB" "$LIBW"; do
    out="$lib.cg.$n"
    LD_LIBRARY_PATH=$lib timeout 600 valgrind --tool=callgrind --demangle=no --compress-strings=no \
      --compress-pos=no --callgrind-out-file="$out" "$TMP/runner" "$@" >/dev/null 2>"$out.log" \
      || { echo "gen-hot-text: runner $* failed" >&2; tail -5 "$out.log" >&2; exit 1; }
  done
  PROFILES+="${PROFILES:+,}$LIB.cg.$n"; PROFILES_W+="${PROFILES_W:+,}$LIBW.cg.$n"
}
cg --mode get --url "$HTTP_URL/" --n 300 --expect 13
cg --mode newconn --url "$HTTP_URL/newconn?lib=x" --n 50 --expect 13
cg --mode newclient --url "$HTTP_URL/newconn?lib=x" --n 30 --expect 13
cg --mode get --url "$HTTP_URL/files/64k.bin" --n 50 --expect 65536
cg --mode upload --url "$HTTP_URL/upload" --n 1 --file "$DATA/up_100m.bin"
cg --mode multi --url "$HTTP_URL/" --n 300 --conc 10 --expect 13
cg --mode get --url "$HTTPS_URL/" --n 100 --expect 13 --ca "$CA"
cg --mode newconn --url "$HTTPS_URL/newconn?lib=x" --n 30 --expect 13 --ca "$CA"
cg --mode get --url "$H2_URL/" --n 100 --expect 13 --ca "$CA" --http2
python3 scripts/hot-text.py link/hot.ld "$LIB/libhttpx.so=$PROFILES" "$LIBW/libhttpx.so=$PROFILES_W"

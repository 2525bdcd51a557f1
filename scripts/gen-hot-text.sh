#!/usr/bin/env bash
# Regenerates link/hot.ld (the hot-function order of libhttpx.so, issue 16: peak RSS) from
# callgrind profiles of the bench runner on the common workloads. Run after a toolchain or
# dependency update, or when the hot path changed much; then rebuild and compare peak RSS
# (bench/RESULTS.md "Issue 16: where the RSS goes" has the method).
#
#   bash scripts/gen-hot-text.sh          # needs nginx (bench.sh's), valgrind, python3, gcc
#
# It builds the release library with HTTPX_HOT_TEXT=0 (the default layout: the profile
# names every function whatever the old list said), starts bench.sh --serve, profiles
# keep-alive HTTP, new connection, new client, 64 KiB, upload, multi, HTTPS keep-alive and
# new connection, HTTP/2, and writes link/hot.ld in that order (hottest first).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
for t in valgrind python3 gcc nm; do command -v "$t" >/dev/null || { echo "gen-hot-text: $t missing" >&2; exit 1; }; done
HTTPX_HOT_TEXT=0 cargo build --release --locked -p httpx >&2
TMP=$(mktemp -d); LIB=$TMP/lib; mkdir "$LIB"; cp "$TARGET_DIR/release/libhttpx.so" "$LIB/"
SERVE_PID=""
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
bash scripts/bench.sh --serve 600 --lib "$LIB" --no-ureq --no-wrk >"$TMP/serve.log" 2>&1 & SERVE_PID=$!
for _ in $(seq 1 120); do grep -q '^HTTP_URL=' "$TMP/serve.log" && break; sleep 1; done
eval "$(grep '^HTTP_URL=' "$TMP/serve.log")" || { cat "$TMP/serve.log" >&2; exit 1; }
H2_URL="https://127.0.0.1:$(( ${HTTP_URL##*:} + 2 ))"
gcc -O2 -g -std=gnu11 -DBENCH_HTTPX -I"$ROOT/include" bench/runner.c -o "$TMP/runner" -L"$LIB" -lhttpx -lpthread
n=0; PROFILES=()
cg() {
  n=$((n + 1)); local out="$TMP/cg.$n"
  LD_LIBRARY_PATH=$LIB timeout 600 valgrind --tool=callgrind --demangle=no --compress-strings=no \
    --compress-pos=no --callgrind-out-file="$out" "$TMP/runner" "$@" >/dev/null 2>"$out.log" \
    || { echo "gen-hot-text: runner $* failed" >&2; tail -5 "$out.log" >&2; exit 1; }
  PROFILES+=("$out")
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
python3 scripts/hot-text.py "$LIB/libhttpx.so" link/hot.ld "${PROFILES[@]}"

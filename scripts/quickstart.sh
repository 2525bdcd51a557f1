#!/usr/bin/env bash
# Quickstart, from a fresh clone:
#   1. builds libhttpx (cargo build --release),
#   2. builds the C examples in examples_c/ with CMake (into examples_c/build),
#   3. starts a throwaway HTTP server on a free 127.0.0.1 port (python3 -m http.server,
#      serving a temp dir; stopped on exit),
#   4. runs examples_c/build/quickstart against it and prints its output.
# Exits 0 on success. Only 127.0.0.1 is contacted. The build itself is offline when the
# crates are already in cargo's cache; otherwise cargo fetches them once from crates.io
# (set CARGO_NET_OFFLINE=true to forbid that).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
LIB_DIR="$TARGET_DIR/release"
BUILD_DIR="$ROOT/examples_c/build"

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

for tool in cargo cmake cc python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian: apt-get install cmake gcc python3; Rust: rustup.rs)"
done

# ------------------------------------------------------------------ 1. the library
say "cargo build --release"
if ! cargo build --release --locked --offline; then
  if [ "${CARGO_NET_OFFLINE:-}" = "true" ]; then
    die "offline build failed and CARGO_NET_OFFLINE=true: run 'cargo fetch' once with network access"
  fi
  say "offline build failed (crates not cached yet?): retrying with crates.io access"
  cargo build --release --locked
fi
[ -f "$LIB_DIR/libhttpx.so" ] || die "$LIB_DIR/libhttpx.so was not built"

# ------------------------------------------------------------------ 2. the examples
say "cmake examples_c -> $BUILD_DIR"
cmake -S "$ROOT/examples_c" -B "$BUILD_DIR" -DHTTPX_LIB_DIR="$LIB_DIR" -DHTTPX_INCLUDE_DIR="$ROOT/include" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc 2>/dev/null || echo 2)"
[ -x "$BUILD_DIR/quickstart" ] || die "examples_c/build/quickstart was not built"

# ------------------------------------------------------------------ 3. a loopback server
WORK="$(mktemp -d "${TMPDIR:-/tmp}/httpx-quickstart.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK/www"
printf 'Hello from libhttpx quickstart!\n' > "$WORK/www/index.txt"

say "starting python3 -m http.server on 127.0.0.1 (free port)"
# Port 0: the kernel picks a free port; the server prints it.
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 100); do # up to 10 s
  PORT="$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$WORK/server.log" | head -n 1)"
  [ -n "$PORT" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the HTTP server exited"; }
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$WORK/server.log" >&2; die "the HTTP server did not start within 10 s"; }
URL="http://127.0.0.1:$PORT/index.txt"

# ------------------------------------------------------------------ 4. run the example
say "examples_c/build/quickstart $URL"
set +e
timeout 60 "$BUILD_DIR/quickstart" "$URL"
status=$?
set -e
if [ "$status" -ne 0 ]; then
  printf '\n--- server log\n' >&2
  cat "$WORK/server.log" >&2
  die "quickstart exited with status $status"
fi
say "OK: libhttpx built, examples built, quickstart fetched $URL"
say "next: more examples in $BUILD_DIR (pooled, download, https_custom_ca, auth_*, mock_transport_test)"

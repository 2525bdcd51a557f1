#!/usr/bin/env bash
# Quickstart, from a fresh clone:
#   1. builds libhttpx (cargo build --release),
#   2. builds the C examples in examples_c/ with CMake (into examples_c/build),
#   3. starts a throwaway HTTP server on a free 127.0.0.1 port (python3 -m http.server,
#      serving a temp dir; stopped on exit),
#   4. runs examples_c/build/quickstart against it and prints its output,
#   5. runs the `httpx` command-line tool (target/release/httpx) against it and prints
#      what to try next with it.
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
HTTPX_BIN="$LIB_DIR/httpx"
[ -x "$HTTPX_BIN" ] || die "$HTTPX_BIN (the command-line tool, cli/) was not built"

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

# ------------------------------------------------------------------ 5. the command line
say "target/release/httpx $URL"
set +e
timeout 60 "$HTTPX_BIN" "$URL"
status=$?
set -e
[ "$status" -eq 0 ] || die "httpx exited with status $status"

say "OK: libhttpx built, examples built, quickstart and httpx fetched $URL"
say "next: more examples in $BUILD_DIR (pooled, download, https_custom_ca, auth_*, mock_transport_test)"
cat <<NEXT

==> next, with the command-line tool (HTTPX's CLI options; 'httpx --help' lists them all):
    H=$HTTPX_BIN
    \$H https://www.example.org/ -v             # request and response heads as sent/received
    \$H https://httpbin.org/post -j '{"name": "value"}'  # JSON body (POST when a body is given)
    \$H https://httpbin.org/post -d a 1 -f up README.md  # form field and a file: multipart
    \$H https://httpbin.org/get -p q 'two words' -h X-Api-Key secret --cookies session abc
    \$H https://httpbin.org/redirect/2 --follow-redirects
    \$H https://httpbin.org/digest-auth/auth/u/p --auth u p --digest
    \$H https://httpbin.org/bytes/100000 --download out.bin   # progress bar on a terminal
    \$H http://localhost/ --unix-socket /run/app.sock --total-timeout 10
    \$H https://internal.example/ --cacert ca.pem --cert client.pem client.key --proxy socks5h://127.0.0.1:1080
  exit status: 0 for a 2xx response, 1 for another status or a transport error, 2 for bad arguments.
NEXT

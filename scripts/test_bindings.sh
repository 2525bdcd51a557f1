#!/usr/bin/env bash
# Tests of the language bindings (bindings/go, bindings/ruby, bindings/cpp) against
# the release build of libhttpx. Each binding's tests start their own server on
# 127.0.0.1 and use mock transports; nothing outside this machine is contacted.
#
# Needs: a Rust toolchain, Go >= 1.21 with cgo (gcc), g++ (C++17), and the Debian
# packages ruby + ruby-ffi (Ruby's bundled minitest is used). valgrind, when
# present, also checks the C++ tests for memory errors.
#
# Environment:
#   CARGO_TARGET_DIR      where cargo builds (default: <repo>/target)
#   HTTPX_SKIP_BUILD=1    use the existing target/release/libhttpx.so as is
#   HTTPX_VALGRIND=0      run the C++ tests without valgrind
#   HTTPX_BINDINGS="go ruby cpp"  which bindings to test
# Prints one summary line per binding and "bindings: N passed, M failed"; exits
# non-zero if any binding failed (a missing toolchain is a failure).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
LIBDIR=$TARGET_DIR/release
LIB=$LIBDIR/libhttpx.so
BINDINGS=${HTTPX_BINDINGS:-go ruby cpp}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/httpx-bindings.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# Bound each suite (their own tests are bounded too).
with_timeout() {
  if command -v timeout >/dev/null 2>&1; then timeout --kill-after=10 "$@"; else shift; "$@"; fi
}

if [ "${HTTPX_SKIP_BUILD:-0}" != 1 ]; then
  echo "=== [bindings] cargo build --release (libhttpx.so)"
  if ! cargo build --release --locked --manifest-path "$ROOT/Cargo.toml"; then
    echo "=== [bindings] cargo build --release FAILED"
    echo "bindings: 0 passed, 1 failed"
    exit 1
  fi
fi
if [ ! -f "$LIB" ]; then
  echo "=== [bindings] $LIB not found"
  echo "bindings: 0 passed, 1 failed"
  exit 1
fi
export LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The tests talk to 127.0.0.1 only; keep proxies from the environment out of it.
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY

# ------------------------------------------------------------------ Go (cgo)
# The binding (module libhttpx.org/go/httpx) builds against an installed
# libhttpx through pkg-config ("#cgo pkg-config: httpx"). When the repository
# has scripts/install.sh, this installs libhttpx into a DESTDIR under $TMP (with
# its CMake commands) and builds through pkg-config against that copy, as a
# user would; otherwise (or
# with HTTPX_GO_MODE=dev) it uses the in-repo development build (-tags
# httpx_dev: <repo>/include and the library in $LIBDIR). The dev build is
# always vetted too. Runs go vet, go test -race, the benchmarks against
# net/http (short -benchtime) and the separate consumer module
# (bindings/go/example-consumer: requires the binding by module path, with a
# replace directive).
#   HTTPX_GO_MODE        pkgconfig | dev (default: pkgconfig when scripts/install.sh exists)
#   HTTPX_GO_BENCHTIME   -benchtime of the benchmark run (default 200x)
test_go() {
  local go=go
  command -v go >/dev/null 2>&1 || go=/usr/local/go/bin/go
  if ! command -v "$go" >/dev/null 2>&1; then
    echo "Go toolchain not found (need go >= 1.21 on PATH or in /usr/local/go)"
    return 1
  fi
  local mode=${HTTPX_GO_MODE:-}
  if [ -z "$mode" ]; then
    if [ -f "$ROOT/scripts/install.sh" ] && command -v pkg-config >/dev/null 2>&1 && command -v cmake >/dev/null 2>&1; then
      mode=pkgconfig
    else
      mode=dev
    fi
  fi
  # A fresh CI environment may lack HOME: give Go its caches; never download.
  local gocache=${GOCACHE:-}
  if [ -z "$gocache" ] && [ -z "${HOME:-}" ] && [ -z "${XDG_CACHE_HOME:-}" ]; then gocache=$TMP/gocache; fi
  # (set -e does not hold in a function called from an if: every step says || exit 1.)
  (
    cd "$ROOT/bindings/go" || exit 1
    [ -n "$gocache" ] && export GOCACHE=$gocache
    [ -z "${GOPATH:-}" ] && [ -z "${HOME:-}" ] && export GOPATH=$TMP/gopath
    export CGO_ENABLED=1 GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod
    "$go" version || exit 1
    echo "--- go vet -tags httpx_dev (in-repo development build)"
    CGO_LDFLAGS="-L$LIBDIR${CGO_LDFLAGS:+ $CGO_LDFLAGS}" "$go" vet -tags=httpx_dev ./... || exit 1
    local tags=""
    if [ "$mode" = pkgconfig ]; then
      local stage=$TMP/go-stage prefix=/opt/libhttpx
      echo "--- DESTDIR install for the pkg-config build ($stage$prefix)"
      # scripts/install.sh's three CMake commands, without the command-line tool
      # (HTTPX_CLI=OFF: the binding needs only the library, header and httpx.pc).
      { cmake -S "$ROOT" -B "$TMP/go-cmake" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DHTTPX_CLI=OFF \
          && cmake --build "$TMP/go-cmake" && DESTDIR=$stage cmake --install "$TMP/go-cmake"; } >"$TMP/go-install.log" 2>&1 \
        || { tail -40 "$TMP/go-install.log"; exit 1; }
      local pc
      pc=$(find "$stage$prefix" -name httpx.pc | head -1)
      [ -n "$pc" ] || { echo "no httpx.pc installed"; exit 1; }
      export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_LIBDIR=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$stage
      export LD_LIBRARY_PATH="$(dirname "$(dirname "$pc")")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      echo "pkg-config --cflags --libs httpx: $(pkg-config --cflags --libs httpx)"
    else
      export CGO_LDFLAGS="-L$LIBDIR${CGO_LDFLAGS:+ $CGO_LDFLAGS}"
      tags="-tags=httpx_dev"
    fi
    echo "--- mode: $mode"
    echo "--- go vet"
    "$go" vet $tags ./... || exit 1
    echo "--- go test -race"
    with_timeout 900 "$go" test $tags -race -count=1 -v ./... || exit 1
    echo "--- go test -bench (vs net/http, -benchtime ${HTTPX_GO_BENCHTIME:-200x})"
    with_timeout 300 "$go" test $tags -run '^$' -bench . -benchmem -benchtime "${HTTPX_GO_BENCHTIME:-200x}" . || exit 1
    echo "--- example-consumer (module path + replace)"
    cd example-consumer || exit 1
    "$go" vet $tags ./... || exit 1
    with_timeout 300 "$go" test $tags -race -count=1 -v ./... || exit 1
  )
}

# ------------------------------------------------------------------ Ruby (ffi)
test_ruby() {
  if ! command -v ruby >/dev/null 2>&1; then
    echo "ruby not found (apt-get install ruby ruby-ffi)"
    return 1
  fi
  if ! ruby -e 'require "ffi"; require "minitest"' >/dev/null 2>&1; then
    echo "the ffi gem or minitest is missing (apt-get install ruby-ffi)"
    return 1
  fi
  (
    cd "$ROOT/bindings/ruby" || exit 1
    export HTTPX_LIB=$LIB
    ruby --version && with_timeout 600 ruby -Ilib -Itest test/test_httpx.rb
  )
}

# ------------------------------------------------------------------ C++
test_cpp() {
  local cxx=${CXX:-g++}
  if ! command -v "$cxx" >/dev/null 2>&1; then
    echo "C++ compiler $cxx not found (apt-get install g++)"
    return 1
  fi
  local bin=$TMP/test_httpx_cpp
  "$cxx" -std=c++17 -O1 -g -Wall -Wextra -Werror -pthread \
    -I"$ROOT/include" -I"$ROOT/bindings/cpp/include" \
    "$ROOT/bindings/cpp/test/test_httpx.cpp" -L"$LIBDIR" -lhttpx -o "$bin" || return 1
  if [ "${HTTPX_VALGRIND:-1}" != 0 ] && command -v valgrind >/dev/null 2>&1; then
    echo "(under valgrind)"
    with_timeout 600 valgrind -q --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite "$bin"
  else
    with_timeout 300 "$bin"
  fi
}

declare -A RESULT TIME
passed=0
failed=0
for b in $BINDINGS; do
  case "$b" in go | ruby | cpp) ;; *) echo "unknown binding $b"; exit 2 ;; esac
  echo "=== [bindings] $b"
  t0=$(date +%s)
  if "test_$b"; then RESULT[$b]=PASS; passed=$((passed + 1)); else RESULT[$b]=FAIL; failed=$((failed + 1)); fi
  TIME[$b]=$(($(date +%s) - t0))
  echo "=== [bindings] $b: ${RESULT[$b]} (${TIME[$b]}s)"
done

echo "=== [bindings] summary"
for b in $BINDINGS; do
  printf '    %-5s %s (%ss)\n' "$b" "${RESULT[$b]}" "${TIME[$b]}"
done
echo "bindings: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

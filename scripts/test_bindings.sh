#!/usr/bin/env bash
# Tests of the language bindings (bindings/go, bindings/ruby, bindings/cpp) against
# the release build of libhttpx. Each binding's tests start their own server on
# 127.0.0.1 and use mock transports; nothing outside this machine is contacted.
#
# Needs: a Rust toolchain, Go >= 1.21 with cgo (gcc), g++ (C++17), and the Debian
# packages ruby + ruby-ffi + ruby-faraday (Ruby's bundled minitest is used). valgrind, when
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
      # A fixed stage path: go caches a cgo package with the -L of the `pkg-config --libs`
      # it saw (only --cflags is in its cache key), so a per-run temporary path would
      # leave a later run linking against a deleted directory.
      local stage=$TARGET_DIR/go-stage prefix=/opt/libhttpx
      rm -rf "$stage"
      # ... and its own build cache, so no entry from another stage path is reused.
      export GOCACHE=$TARGET_DIR/go-cache
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
# Builds the gem, installs it into a temporary GEM_HOME (offline: ffi and faraday
# are Debian's ruby-ffi / ruby-faraday) and runs the tests and the Faraday example
# against the INSTALLED gem, with libhttpx found outside the repository: a copy in
# a temporary directory, through LIBHTTPX_PATH and through the system loader.
test_ruby() {
  local rb=$ROOT/bindings/ruby
  if ! command -v ruby >/dev/null 2>&1 || ! command -v gem >/dev/null 2>&1; then
    echo "ruby/gem not found (apt-get install ruby ruby-ffi ruby-faraday)"
    return 1
  fi
  if ! ruby -e 'require "ffi"; require "minitest"; require "faraday"' >/dev/null 2>&1; then
    echo "the ffi, minitest or faraday gem is missing (apt-get install ruby-ffi ruby-faraday)"
    return 1
  fi
  local gemhome=$TMP/ruby-gems libdir=$TMP/ruby-lib gemfile=$TMP/libhttpx.gem stage=$TMP/ruby-stage
  mkdir -p "$libdir" "$gemhome"
  cp "$LIB" "$libdir/libhttpx.so"
  (
    set -e
    # Nothing of the repository on the search paths: no target/release, no lib/.
    ldp=${LD_LIBRARY_PATH#"$LIBDIR"}
    ldp=${ldp#:}
    if [ -n "$ldp" ]; then export LD_LIBRARY_PATH=$ldp; else unset LD_LIBRARY_PATH; fi
    unset LIBHTTPX_PATH HTTPX_LIB RUBYLIB RUBYOPT GEM_PATH
    ruby --version
    echo "--- gem build + install into $gemhome"
    (cd "$rb" && gem build libhttpx.gemspec --output "$gemfile" 2>&1 | grep -v 'homepage\|specification-reference')
    GEM_HOME=$gemhome gem install --local --no-document "$gemfile"
    export GEM_HOME=$gemhome
    cd "$TMP"
    probe='require "libhttpx"
      gem_dir = Gem.loaded_specs.fetch("libhttpx").full_gem_path
      t = LibHTTPX::MockTransport.new { LibHTTPX::MockResponse.new(200, text: "ok") }
      body = LibHTTPX::Client.open(transport: t) { |c| c.get("http://mock/").text }
      abort "got #{body.inspect}" unless body == "ok"
      puts "gem #{LibHTTPX::VERSION} from #{gem_dir}; libhttpx #{LibHTTPX.lib_version} loaded as #{LibHTTPX::Native::LOADED_FROM} (#{LibHTTPX.library_path})"
      [gem_dir, LibHTTPX.library_path].each { |p| abort "#{p} is inside the repository" if File.expand_path(p).start_with?(ARGV[0] + "/") }
      abort "expected #{ARGV[1]}" unless ARGV[1].nil? || LibHTTPX::Native::LOADED_FROM == ARGV[1]'
    testlib=$libdir/libhttpx.so
    echo "--- installed gem, library copied to $libdir: LIBHTTPX_PATH and the system loader"
    LIBHTTPX_PATH=$testlib ruby -e "$probe" "$ROOT" "$testlib"
    LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ruby -e "$probe" "$ROOT" libhttpx.so
    if [ -f "$ROOT/scripts/install.sh" ] && command -v cmake >/dev/null 2>&1; then
      echo "--- DESTDIR install (scripts/install.sh's cmake steps, without the CLI) into $stage: system loader and pkg-config"
      if ! { cmake -S "$ROOT" -B "$TMP/ruby-cmake" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr/local -DHTTPX_CLI=OFF \
        && cmake --build "$TMP/ruby-cmake" && DESTDIR=$stage cmake --install "$TMP/ruby-cmake"; } >"$TMP/ruby-install.log" 2>&1; then
        tail -n 40 "$TMP/ruby-install.log"
        exit 1
      fi
      so=$(find "$stage" -name libhttpx.so.0 | head -n 1)
      pc=$(find "$stage" -name httpx.pc | head -n 1)
      [ -n "$so" ] && [ -n "$pc" ] || { echo "no libhttpx.so.0 / httpx.pc under $stage"; exit 1; }
      LD_LIBRARY_PATH=$(dirname "$so")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ruby -e "$probe" "$ROOT" libhttpx.so.0
      if ruby -rffi -e 'begin; FFI::DynamicLibrary.open("libhttpx.so.0", 1); rescue LoadError; FFI::DynamicLibrary.open("libhttpx.so", 1); end' 2>/dev/null; then
        echo "(a system-wide libhttpx answers the system loader: the pkg-config step is not reached, not checked)"
      else
        PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_LIBDIR=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$stage \
          ruby -e "$probe" "$ROOT" "$(dirname "$so")/libhttpx.so.0"
      fi
      testlib=$so
    fi
    echo "--- tests against the installed gem (LIBHTTPX_PATH=$testlib)"
    LIBHTTPX_PATH=$testlib with_timeout 600 ruby -I "$rb/test" "$rb/test/run.rb"
    echo "--- Faraday example against the installed gem"
    portfile=$TMP/ruby-server.port
    ruby "$rb/test/serve.rb" "$portfile" &
    server=$!
    trap 'kill "$server" 2>/dev/null' EXIT
    for _ in $(seq 1 100); do [ -s "$portfile" ] && break; sleep 0.1; done
    [ -s "$portfile" ] || { echo "test server did not start"; exit 1; }
    LIBHTTPX_PATH=$testlib with_timeout 60 ruby "$gemhome/gems/libhttpx-"*/examples/faraday_example.rb \
      "http://127.0.0.1:$(cat "$portfile")"
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

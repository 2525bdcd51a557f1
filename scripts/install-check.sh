#!/usr/bin/env bash
# Proves the installed libhttpx works, from a DESTDIR install (a step of scripts/test.sh):
#   1. build the package (cmake; `cargo build --release` inside is a no-op when the release
#      library is already built) and install it into a DESTDIR with prefix /opt/libhttpx,
#      plus the opt-in debug component;
#   2. check the installed files, the SONAME (readelf -d), the version node and that every
#      export is versioned and listed in abi/libhttpx.sym (readelf -V, --dyn-syms), that
#      nothing but httpx_* is exported, stripped vs unstripped sizes, the debug link;
#   3. build examples_c/ out of tree with find_package(httpx), shared and static, and a
#      C++ consumer of httpx::httpx_cpp, and run the examples that need no server;
#   4. build them with pkg-config, shared and static, and run them, and run the C ABI tests
#      that need no server (tests/c/basics.c, null_safety.c, callbacks.c) against it;
#   5. open a man page with `man -l`, check every export has its man and HTML page.
# Prints the time of each step. Needs cmake, cc, c++, pkg-config, python3, binutils, man (man-db).
#   HTTPX_INSTALL_CHECK_DIR=DIR   work dir to keep (default: a temp dir, removed at exit)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
if [ -n "${HTTPX_INSTALL_CHECK_DIR:-}" ]; then
  W=$HTTPX_INSTALL_CHECK_DIR; rm -rf "$W"; mkdir -p "$W"
else
  W=$(mktemp -d "${TMPDIR:-/tmp}/httpx-install.XXXXXX")
  trap 'rm -rf "$W"' EXIT
fi
PREFIX=/opt/libhttpx
DEST=$W/stage
P=$DEST$PREFIX
VERSION=$(sed -n 's/^version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml | head -1)
NODE=$(python3 scripts/abi.py node)
TIMES=()
STEP=""; STEP_T=0
step() {
  local now; now=$(date +%s.%N)
  if [ -n "$STEP" ]; then TIMES+=("$(awk -v a="$STEP_T" -v b="$now" -v n="$STEP" 'BEGIN {printf "%-58s %6.1fs", n, b - a}')"); fi
  STEP=$1; STEP_T=$now
  [ -n "$1" ] && echo "=== [install-check] $1"
  return 0
}
fail() { echo "!!! [install-check] $*" >&2; exit 1; }
check() { "$@" || fail "check failed: $*"; }

# ----------------------------------------------------------------------- 1. build, install
step "cmake configure + build (cargo release, link, strip, man)"
B=$W/build; EXTRA_CMAKE=${HTTPX_INSTALL_CHECK_CMAKE_ARGS:-}
cmake -S "$ROOT" -B "$B" $EXTRA_CMAKE -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" >"$W/configure.log" \
  || { cat "$W/configure.log"; fail "cmake configure"; }
cmake --build "$B" >"$W/build.log" 2>&1 || { tail -50 "$W/build.log"; fail "cmake --build"; }
step "DESTDIR install (+ debug component)"
DESTDIR=$DEST cmake --install "$B" >"$W/install.log" || { cat "$W/install.log"; fail "cmake --install"; }
DESTDIR=$DEST cmake --install "$B" --component debug >>"$W/install.log" || fail "install debug component"
# --prefix at install time relocates everything, httpx.pc included.
cmake --install "$B" --prefix "$W/relocated" >>"$W/install.log" || fail "cmake --install --prefix"
grep -qx "prefix=$W/relocated" "$W"/relocated/lib*/pkgconfig/httpx.pc || fail "httpx.pc ignores --prefix"
ls -d "$W"/relocated/lib*/.debug >/dev/null 2>&1 && fail "debug info installed without --component debug"
rm -rf "$W/relocated"

# ----------------------------------------------------------------------- 2. files, ELF
step "installed files, SONAME, version nodes, exports"
LIBDIR=$(cd "$P" && ls -d lib*/libhttpx.so.0 | head -1 | xargs dirname)
L=$P/$LIBDIR
for f in "$L/libhttpx.so.$VERSION" "$L/libhttpx.so.0" "$L/libhttpx.so" "$L/libhttpx.a" \
         "$P/include/httpx.h" "$P/include/httpx.hpp" "$L/pkgconfig/httpx.pc" \
         "$L/cmake/httpx/httpxConfig.cmake" "$L/cmake/httpx/httpxConfigVersion.cmake" \
         "$P/share/man/man3/httpx_client_new.3" "$P/share/man/man3/httpx-errors.3" \
         "$P/share/man/man3/libhttpx.3" "$P/share/doc/httpx/html/index.html" \
         "$L/.debug/libhttpx.so.$VERSION.debug"; do
  [ -e "$f" ] || fail "not installed: ${f#$DEST}"
done
check test "$(readlink "$L/libhttpx.so.0")" = "libhttpx.so.$VERSION"
check test "$(readlink "$L/libhttpx.so")" = "libhttpx.so.0"
SO=$L/libhttpx.so.$VERSION
echo "--- readelf -d (SONAME, NEEDED)"
readelf -d "$SO" | grep -E 'SONAME|NEEDED'
readelf -d "$SO" | grep 'Library soname: \[libhttpx.so.0\]' >/dev/null || fail "SONAME is not libhttpx.so.0"
echo "--- readelf -V (version definitions)"
readelf -V "$SO" | sed -n '/Version definition/,/^$/p'
readelf -V "$SO" | grep "Name: $NODE" >/dev/null || fail "no version node $NODE"
# Every defined dynamic symbol: httpx_* at a HTTPX_ node (plus the node's own ABS symbol).
readelf --dyn-syms -W "$SO" | awk '$7 != "UND" && $8 != "" && NR > 3 {print $8}' | sort >"$W/dynsyms"
grep -v '^httpx_.*@@HTTPX_[0-9.]*$' "$W/dynsyms" | grep -Ev '^HTTPX_[0-9.]+(@@HTTPX_[0-9.]+)?$' >"$W/stray" || true
[ ! -s "$W/stray" ] || { cat "$W/stray"; fail "exports that are not httpx_* at an HTTPX_ node"; }
sed -n 's/^\(httpx_[a-z0-9_]*\)@@\(HTTPX_[0-9.]*\)$/\1 \2/p' "$W/dynsyms" | sort >"$W/exported"
grep -v '^#' abi/libhttpx.sym | awk 'NF == 2 {print $1, $2}' | sort >"$W/listed"
diff "$W/listed" "$W/exported" >"$W/abi.diff" \
  || { cat "$W/abi.diff"; fail "exports differ from abi/libhttpx.sym (< listed, > exported)"; }
echo "exports: $(wc -l <"$W/exported") httpx_* symbols, all at their node in abi/libhttpx.sym"
UNSTRIPPED=$B/out/unstripped/libhttpx.so.$VERSION
size_of() { stat -L -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
echo "--- sizes: cargo cdylib target/release/libhttpx.so $(mib "$(size_of "${CARGO_TARGET_DIR:-target}/release/libhttpx.so" 2>/dev/null || echo 0)") MiB;" \
     "relinked unstripped $(mib "$(size_of "$UNSTRIPPED")") MiB; installed stripped $(mib "$(size_of "$SO")") MiB;" \
     "debug file $(mib "$(size_of "$L/.debug/libhttpx.so.$VERSION.debug")") MiB;" \
     "libhttpx.a $(mib "$(size_of "${CARGO_TARGET_DIR:-target}/release/libhttpx.a")") MiB -> installed $(mib "$(size_of "$L/libhttpx.a")") MiB"
# Peak RSS (issue 16, build.rs link_flags / CMakeLists.txt): the hot functions packed into
# .text.hot by link/hot.ld, and DT_RELR when the build machine's glibc is >= 2.36. A
# .text.hot much smaller than today's 1.1 MB means link/hot.ld names symbols of another
# toolchain or dependency versions (nothing breaks; the library only touches ~1.7 MiB more
# code pages): a warning, regenerate with scripts/gen-hot-text.sh.
HOT=$(readelf -S -W "$SO" | sed -n 's/.* \.text\.hot  *PROGBITS  *[0-9a-f]*  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1/p')
[ -n "$HOT" ] && HOT=$((16#$HOT))
echo "--- link layout: .text.hot ${HOT:-0} bytes; $(readelf -d "$SO" | grep '(RELR)' >/dev/null && echo "DT_RELR on" || echo "DT_RELR off")"
[ -n "$HOT" ] || fail "no .text.hot section: link/hot.ld was not used (CMakeLists.txt)"
[ "$HOT" -ge 524288 ] || echo "!!! [install-check] WARNING: .text.hot is only $HOT bytes: link/hot.ld looks stale for this toolchain (bash scripts/gen-hot-text.sh)" >&2
if [ "$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{split($2, v, "."); print (v[1] > 2 || (v[1] == 2 && v[2] >= 36))}')" = 1 ] \
   && [ "${HTTPX_RELR:-}" != 0 ]; then
  readelf -d "$SO" | grep '(RELR)' >/dev/null || fail "glibc >= 2.36 but the library has no DT_RELR (CMakeLists.txt HTTPX_RELR)"
fi
readelf -S -W "$SO" | grep '\.debug_info' >/dev/null && fail "installed library still has .debug_info"
readelf -S -W "$SO" | grep '\.symtab' >/dev/null && fail "installed library still has .symtab"
readelf -S -W "$L/.debug/libhttpx.so.$VERSION.debug" | grep '\.debug_info' >/dev/null || fail "debug file has no .debug_info"
readelf -p .gnu_debuglink "$SO" | grep "libhttpx.so.$VERSION.debug" >/dev/null || fail "no .gnu_debuglink"
# The build ids match, so gdb and debuginfod pair them.
bid() { readelf -n "$1" | sed -n 's/.*Build ID: //p'; }
check test -n "$(bid "$SO")"
check test "$(bid "$SO")" = "$(bid "$L/.debug/libhttpx.so.$VERSION.debug")"

# Examples that run without a server (callback transports, custom auth flows).
NO_SERVER=(mock_transport_test auth_token auth_retry_401 auth_refresh)
run_examples() { # run_examples DIR LABEL
  local d=$1 label=$2 e
  for e in "${NO_SERVER[@]}"; do
    timeout 60 "$d/$e" >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "$label: $e failed"; }
  done
  echo "$label: ran ${NO_SERVER[*]}"
}
needs_so() { readelf -d "$1" | grep 'NEEDED.*\[libhttpx.so.0\]' >/dev/null; }
needs_node() { readelf -V "$1" | grep -A3 'File: libhttpx.so.0' | grep "Name: $NODE" >/dev/null; }

# ----------------------------------------------------------------------- 3. CMake consumers
cp -r "$ROOT/examples_c" "$W/examples_src"   # out of tree: nothing refers back to the repo
rm -rf "$W/examples_src/build"
step "CMake consumer, find_package(httpx), shared"
cmake -S "$W/examples_src" -B "$W/ex_shared" -DHTTPX_USE_PACKAGE=ON -DCMAKE_PREFIX_PATH="$P" \
  -DCMAKE_C_FLAGS=-Werror >"$W/ex.log" || { cat "$W/ex.log"; fail "examples configure (shared)"; }
grep -- "-- libhttpx" "$W/ex.log"
cmake --build "$W/ex_shared" -j2 >"$W/ex.log" 2>&1 || { cat "$W/ex.log"; fail "examples build (shared)"; }
needs_so "$W/ex_shared/mock_transport_test" || fail "shared example does not record NEEDED libhttpx.so.0"
needs_node "$W/ex_shared/mock_transport_test" || fail "shared example does not require $NODE"
echo "--- readelf -d / -V of examples (shared):"
readelf -d "$W/ex_shared/mock_transport_test" | grep 'libhttpx'
readelf -V "$W/ex_shared/mock_transport_test" | grep -A2 'File: libhttpx.so.0'
run_examples "$W/ex_shared" "cmake shared"

step "CMake consumer, find_package(httpx), static"
cmake -S "$W/examples_src" -B "$W/ex_static" -DHTTPX_USE_PACKAGE=ON -DHTTPX_STATIC=ON \
  -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_FLAGS=-Werror >"$W/ex.log" || { cat "$W/ex.log"; fail "configure (static)"; }
cmake --build "$W/ex_static" -j2 >"$W/ex.log" 2>&1 || { cat "$W/ex.log"; fail "examples build (static)"; }
needs_so "$W/ex_static/mock_transport_test" && fail "static example still needs libhttpx.so.0"
run_examples "$W/ex_static" "cmake static"

step "CMake consumer of httpx::httpx_cpp (C++17 wrapper)"
mkdir -p "$W/cpp_src"
cat >"$W/cpp_src/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.13)
project(httpx_cpp_consumer CXX)
find_package(httpx 0.1 CONFIG REQUIRED)
add_executable(cpp_mock main.cpp)
target_link_libraries(cpp_mock PRIVATE httpx::httpx_cpp)
CM
cat >"$W/cpp_src/main.cpp" <<'CPP'
#include <iostream>
#include "httpx.hpp"
int main() {
    auto mock = httpx::Transport::mock([](const httpx::RequestView &r) {
        return httpx::MockResponse::text(200, "hello " + r.url());
    });
    httpx::Client client(httpx::ClientOptions().transport(mock));
    std::string text = client.get("http://testserver/x").text();
    std::cout << text << "\n";
    return text == "hello http://testserver/x" ? 0 : 1;
}
CPP
cmake -S "$W/cpp_src" -B "$W/cpp_build" -DCMAKE_PREFIX_PATH="$P" >"$W/cpp.log" || { cat "$W/cpp.log"; fail "C++ configure"; }
cmake --build "$W/cpp_build" >"$W/cpp.log" 2>&1 || { cat "$W/cpp.log"; fail "C++ build"; }
timeout 60 "$W/cpp_build/cpp_mock" || fail "C++ consumer failed"

# ----------------------------------------------------------------------- 4. pkg-config consumers
# The .pc file says prefix=/opt/libhttpx; PKG_CONFIG_SYSROOT_DIR maps it into the DESTDIR.
export PKG_CONFIG_PATH=$L/pkgconfig PKG_CONFIG_SYSROOT_DIR=$DEST PKG_CONFIG_LIBDIR=$L/pkgconfig
check test "$(pkg-config --modversion httpx)" = "$VERSION"
echo "pkg-config --cflags --libs httpx: $(pkg-config --cflags --libs httpx)"
echo "pkg-config --static --libs httpx: $(pkg-config --static --libs httpx)"
step "pkg-config consumer, shared (+ tests/c without a server)"
mkdir -p "$W/pc_shared" "$W/pc_static"
for e in "${NO_SERVER[@]}"; do
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Wextra -Werror -o "$W/pc_shared/$e" "$ROOT/examples_c/$e.c" \
    $(pkg-config --cflags --libs httpx) || fail "pkg-config shared build of $e"
done
needs_so "$W/pc_shared/mock_transport_test" || fail "pkg-config shared example lacks NEEDED libhttpx.so.0"
LD_LIBRARY_PATH=$L run_examples "$W/pc_shared" "pkg-config shared"
# The C ABI tests that need no server, against the installed (relinked) library:
# null_safety.c calls every export with NULLs, basics.c every code, callbacks.c the hooks.
for t in basics null_safety callbacks; do
  [ -f "$ROOT/tests/c/$t.c" ] || continue
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Wextra -Werror -pedantic -O1 -I"$ROOT/tests/c" -o "$W/pc_shared/c_$t" "$ROOT/tests/c/$t.c" \
    $(pkg-config --cflags --libs httpx) -lpthread || fail "build tests/c/$t.c against the installed library"
  LD_LIBRARY_PATH=$L timeout 120 "$W/pc_shared/c_$t" >"$W/run.log" 2>&1 \
    || { tail -30 "$W/run.log"; fail "tests/c/$t.c against the installed library"; }
  echo "pkg-config shared: tests/c/$t.c passed against the installed library"
done
step "pkg-config consumer, static (Libs.private)"
for e in "${NO_SERVER[@]}"; do
  # -Bstatic picks libhttpx.a; Libs.private brings what it needs (libm's pow, pthread, ...).
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Wextra -Werror -o "$W/pc_static/$e" "$ROOT/examples_c/$e.c" $(pkg-config --cflags httpx) \
    -Wl,-Bstatic -lhttpx -Wl,-Bdynamic -Wl,--as-needed $(pkg-config --static --libs httpx) \
    || fail "pkg-config static build of $e"
done
needs_so "$W/pc_static/mock_transport_test" && fail "pkg-config static example still needs libhttpx.so.0"
run_examples "$W/pc_static" "pkg-config static"
# The plain form the issue quotes: the archive itself plus Libs.private.
# shellcheck disable=SC2046
cc -o "$W/pc_static/plain" "$ROOT/examples_c/mock_transport_test.c" $(pkg-config --cflags httpx) "$L/libhttpx.a" \
  $(pkg-config --static --libs-only-l httpx | sed 's/-lhttpx//') || fail "cc app.c libhttpx.a \$(Libs.private)"
timeout 60 "$W/pc_static/plain" >/dev/null || fail "plain static example failed"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR

# ----------------------------------------------------------------------- 5. man pages
step "man pages and HTML"
MAN3=$P/share/man/man3
HTML=$P/share/doc/httpx/html
missing=0
while read -r sym _; do
  [ -f "$MAN3/$sym.3" ] || { echo "no man page: $sym"; missing=1; }
  [ -f "$HTML/$sym.html" ] || { echo "no HTML page: $sym"; missing=1; }
done < <(grep -v '^#' abi/libhttpx.sym)
[ "$missing" = 0 ] || fail "exports without a page"
if command -v man >/dev/null; then
  MANWIDTH=80 man -l "$MAN3/httpx_client_new.3" 2>"$W/man.err" >"$W/man.txt" || true
  grep -q 'httpx_client_new' "$W/man.txt" && grep -q 'SYNOPSIS' "$W/man.txt" \
    || { cat "$W/man.err"; fail "man -l httpx_client_new.3 did not render"; }
  echo "--- man -l $(basename "$MAN3")/httpx_client_new.3 (first lines):"
  head -8 "$W/man.txt"
  MANWIDTH=80 man -l "$MAN3/httpx-errors.3" 2>/dev/null | grep 'HTTPX_E_READ_TIMEOUT' >/dev/null \
    || fail "man -l httpx-errors.3 lacks the codes"
else
  [ -z "${CI:-}" ] || fail "CI is set but man is not installed (apt-get install man-db)"
  echo "WARNING: man not installed: pages not rendered"
fi
echo "man pages: $(ls "$MAN3" | wc -l) in share/man/man3, HTML: $(ls "$HTML" | wc -l) files"
step ""

echo "=== [install-check] step times:"
for t in "${TIMES[@]}"; do echo "    $t"; done
echo "=== [install-check] ok"

#!/usr/bin/env bash
# Builds and installs libhttpx (shared + static library, headers, httpx.pc, CMake package,
# man pages, HTML reference) with GNU install directories.
#
#   bash scripts/install.sh [PREFIX]             # default PREFIX: /usr/local
#   DESTDIR=/tmp/stage bash scripts/install.sh /usr
#
#   HTTPX_INSTALL_DEBUG=1   also install the separate debug info (lib/.debug/, found by gdb
#                           through the library's .gnu_debuglink)
#   HTTPX_BUILD_DIR=DIR     CMake build directory (default: build/pkg)
#   CARGO_TARGET_DIR        honoured as by cargo
# It is the three CMake commands of README.md "Install"; CMake honours DESTDIR itself.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${1:-/usr/local}
B=${HTTPX_BUILD_DIR:-build/pkg}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" >/dev/null
cmake --build "$B"
cmake --install "$B"
if [ "${HTTPX_INSTALL_DEBUG:-0}" = 1 ]; then
  cmake --install "$B" --component debug
fi
echo "installed libhttpx into ${DESTDIR:-}$PREFIX"

#!/usr/bin/env bash
# Runs every test of libhttpx: Rust unit and integration tests (real nginx, httpbin,
# tinyproxy, microsocks and fault servers on 127.0.0.1), the C ABI tests under
# valgrind and AddressSanitizer, the CMake examples, the header drift check and ABI
# checks (tests/abi.rs), the language bindings, a bounded fuzzing run (scripts/fuzz.sh),
# and the install check (a DESTDIR install used by CMake and pkg-config consumers,
# shared and static: scripts/install-check.sh).
# Needs the packages that .ci/run installs (on a fresh machine run `bash .ci/run`, which
# installs them and then runs this). Prints the time of each suite at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=1
# Tests run threads in parallel on a 2-core machine; keep it sane.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-4}"

failed=0
passed=0
TIMES=()
run() { # run NAME CMD...
  local name=$1 t0 t; shift
  echo "=== [test] $name"
  t0=$(date +%s)
  if "$@"; then
    passed=$((passed + 1)); echo "=== [test] $name: ok"
  else
    failed=$((failed + 1)); echo "=== [test] $name: FAILED"
  fi
  t=$(( $(date +%s) - t0 ))
  TIMES+=("$(printf '%-40s %5ss' "$name" "$t")")
}

run "cargo build (lib, cdylib)" cargo build --locked
run "cargo check (features http2/capi on and off)" bash scripts/check-features.sh
run "cargo test" cargo test --locked --no-fail-fast
if [ -f scripts/test_bindings.sh ]; then
  run "bindings (Go, Ruby, C++)" bash scripts/test_bindings.sh
fi
if [ -f scripts/fuzz.sh ]; then
  # Response parser / framing / decoders, bounded (FUZZ_SECONDS, default 60).
  run "fuzz (${FUZZ_SECONDS:-60} s)" bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
fi
# After the bindings: their release build makes the cargo step of the install a no-op.
if [ -f scripts/install-check.sh ]; then
  run "install (DESTDIR) + consumers" bash scripts/install-check.sh
fi
if [ -f scripts/bench.sh ]; then
  run "benchmark smoke (--quick)" bash scripts/bench.sh --quick
fi

echo "=== [test] suite times:"
for t in "${TIMES[@]}"; do echo "    $t"; done
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

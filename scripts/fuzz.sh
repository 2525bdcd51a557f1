#!/usr/bin/env bash
# Coverage-guided fuzzing of libhttpx's response parser, body framing and decoders
# (fuzz/fuzz_targets/response.rs), on STABLE Rust: libfuzzer-sys with
# SanitizerCoverage enabled through RUSTFLAGS (the flags cargo-fuzz uses), no nightly
# and no cargo-fuzz needed. Needs a C++ compiler (g++) to build libFuzzer.
#
#   bash scripts/fuzz.sh            # bounded run, 60 s (what CI and scripts/test.sh do)
#   bash scripts/fuzz.sh 3600       # an hour
#   FUZZ_JOBS=2 bash scripts/fuzz.sh 3600   # an hour on 2 cores
#   FUZZ_TARGET=codec bash scripts/fuzz.sh  # the sans-IO codec alone (fuzz_targets/codec.rs)
#
# The committed seed corpus is fuzz/corpus/response (read-only here); new inputs go to
# fuzz/target/corpus (kept between runs). A crash or property failure writes the input
# to fuzz/artifacts/ and exits non-zero; reproduce it with
#   fuzz/target/<triple>/release/response fuzz/artifacts/<file>
# Prints executions per second and the total at the end ("stat::" lines).
set -euo pipefail

secs="${1:-60}"
jobs="${FUZZ_JOBS:-1}"
target="${FUZZ_TARGET:-response}"
root="$(cd "$(dirname "$0")/.." && pwd)"
fuzz="$root/fuzz"
triple="$(rustc -vV | sed -n 's/^host: //p')"

export CARGO_TARGET_DIR="$fuzz/target"
# The library's build.rs must not rewrite the committed header from here.
export CI="${CI:-1}"
export RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 --cfg fuzzing -Cdebug-assertions -Coverflow-checks"

# --target keeps the instrumentation off build scripts and proc macros.
(cd "$fuzz" && cargo build --release --locked --target "$triple" --bin "$target")

bin="$fuzz/target/$triple/release/$target"
work="$fuzz/target/corpus"
if [ "$target" != response ]; then work="$fuzz/target/corpus-$target"; fi
mkdir -p "$work" "$fuzz/artifacts"

parallel=()
if [ "$jobs" != 1 ]; then parallel=(-jobs="$jobs" -workers="$jobs"); fi

# Bounded twice: libFuzzer's own -max_total_time, and `timeout` as a backstop.
# Runs in fuzz/target so libFuzzer's own files (fuzz-N.log with -jobs) land there.
set +e
(cd "$fuzz/target" && timeout --kill-after=30 $((secs + 120)) "$bin" \
  -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  "${parallel[@]}" \
  -print_final_stats=1 -artifact_prefix="$fuzz/artifacts/" \
  "$work" "$fuzz/corpus/response") 2>&1 | tee "$fuzz/target/fuzz.log" \
  | grep -E "^(#[0-9]+ +(INITED|DONE)|stat::|==[0-9]+== ERROR|SUMMARY|panicked|Test unit written)" | tail -n 40
rc=${PIPESTATUS[0]}
set -e
if [ "$jobs" != 1 ]; then cat "$fuzz"/target/fuzz-*.log 2>/dev/null | grep -E "stat::|DONE" | tail -n 20 || true; fi
if [ "$rc" != 0 ]; then
  echo "fuzz.sh: the fuzzer failed (exit $rc); see $fuzz/target/fuzz.log and $fuzz/artifacts/" >&2
  exit "$rc"
fi
echo "fuzz.sh: ${secs}s without a failure"

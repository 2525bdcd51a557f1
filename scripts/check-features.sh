#!/usr/bin/env bash
# `cargo check` of the library for every combination of the cargo features `http2`
# and `capi` (both default-on), failing on any error or warning from libhttpx itself.
# Fast: type-checking only, dependencies cached after the first run.
#   bash scripts/check-features.sh
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for features in "" "--no-default-features" "--no-default-features --features http2" \
    "--no-default-features --features capi"; do
    label=${features:-default}
    # shellcheck disable=SC2086
    if ! out=$(cargo check --locked -p httpx --lib $features --message-format short 2>&1); then
        echo "FAIL cargo check $label"
        echo "$out" | grep -E '^(error|warning)|: (error|warning)' | head -40
        status=1
        continue
    fi
    if echo "$out" | grep -E '^(src|build\.rs)[^ ]*: warning' >/dev/null; then
        echo "FAIL cargo check $label: warnings"
        echo "$out" | grep -E '^(src|build\.rs)[^ ]*: warning' | head -40
        status=1
        continue
    fi
    echo "ok   cargo check $label"
done
# Without http2 nothing of tokio/h2 is linked in; without capi no cbindgen is built.
if cargo tree --locked -p httpx --no-default-features -e normal,build 2>/dev/null | grep -E '^[│├└ ]*[^ ]* ?(tokio|h2|cbindgen) v' >/dev/null; then
    echo "FAIL --no-default-features still depends on tokio, h2 or cbindgen"
    status=1
else
    echo "ok   --no-default-features pulls in no tokio, h2 or cbindgen"
fi
exit $status

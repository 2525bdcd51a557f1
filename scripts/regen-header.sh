#!/usr/bin/env bash
# Regenerates the two checked-in products of src/ffi/: include/httpx.h and
# abi/libhttpx.sym (the exported-symbol list with version nodes). Run it after changing
# src/ffi/ (or after a rebase) and commit both files.
#
# build.rs writes the header into cargo's OUT_DIR only; this copies it out. It runs the
# debug `cargo build --lib` you need for the tests anyway (a no-op when up to date) and
# takes the header from the build script's OUT_DIR, so no extra compile happens.
#   CARGO_TARGET_DIR  honoured as by cargo
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || { echo "regen-header: python3 is needed" >&2; exit 1; }

msgs=$(mktemp "${TMPDIR:-/tmp}/httpx-regen.XXXXXX")
trap 'rm -f "$msgs"' EXIT
status=0
cargo build --lib --locked --message-format=json-render-diagnostics >"$msgs" || status=$?
out_dir=$(python3 - "$msgs" <<'PY'
import json, sys
out = ""
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") != "build-script-executed":
        continue
    pid = m.get("package_id", "")
    if "#" in pid:  # path+file:///dir#name@1.2.3 (or #1.2.3 when dir is named like the package)
        url, frag = pid.split("#", 1)
        name = frag.split("@")[0] if "@" in frag else url.rstrip("/").rsplit("/", 1)[-1]
    else:           # old format: "name 1.2.3 (path+file:///dir)"
        name = pid.split(" ")[0]
    if name == "httpx":
        out = m.get("out_dir", out)
print(out)
PY
)
if [ -z "$out_dir" ] || [ ! -f "$out_dir/httpx.h" ]; then
  echo "regen-header: the build script did not run (cargo exit $status); nothing regenerated" >&2
  exit 1
fi
if cmp -s "$out_dir/httpx.h" include/httpx.h; then
  echo "regen-header: include/httpx.h up to date"
else
  cp "$out_dir/httpx.h" include/httpx.h
  echo "regen-header: include/httpx.h rewritten from $out_dir/httpx.h"
fi
python3 scripts/abi.py update include/httpx.h abi/libhttpx.sym
if [ "$status" -ne 0 ]; then
  echo "regen-header: header regenerated, but cargo build failed (exit $status)" >&2
fi
exit "$status"

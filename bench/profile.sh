#!/usr/bin/env bash
# bench/profile.sh: where libhttpx's time goes on the keep-alive small GET, next to
# libcurl. Starts the benchmark nginx (scripts/bench.sh --serve), then measures, per
# request (the difference between an N1- and an N2-request run, so set-up cancels out):
#   - syscalls (strace -c -f), HTTP and HTTPS, 13 B and 64 KiB bodies
#   - user-space instructions (valgrind --tool=callgrind) and the top functions
#   - heap allocations and bytes (valgrind --tool=dhat) and the top allocation sites
#   - page faults (perf stat, software event) on the 64 KiB HTTPS GET
#   - a perf sample profile (cpu-clock) of libhttpx, when perf works here
# Writes a markdown report to $OUT (default target/bench/profile.md) and stdout.
# Needs: strace, valgrind, python3 (allocation sites), perf (optional).
#   usage: bash bench/profile.sh [--profile release|debug]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PROFILE=release
[ "${1:-}" = --profile ] && PROFILE=$2
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-$TARGET_DIR/bench/profile.md}
N1=${N1:-1000} N2=${N2:-3000}
for t in strace valgrind callgrind_annotate; do
  command -v $t >/dev/null || { echo "profile.sh: $t missing (apt-get install strace valgrind)" >&2; exit 1; }
done

W=$(mktemp -d "${TMPDIR:-/tmp}/httpx-profile.XXXXXX")
SERVE_PID=""
cleanup() {
  set +e
  if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; fi
  rm -rf "$W"
}
trap cleanup EXIT
bash scripts/bench.sh --serve 1800 --profile "$PROFILE" > "$W/env" 2> "$W/serve.log" &
SERVE_PID=$!
for _ in $(seq 1 600); do [ -s "$W/env" ] && break; kill -0 $SERVE_PID 2>/dev/null || break; sleep 0.5; done
[ -s "$W/env" ] || { cat "$W/serve.log" >&2; echo "profile.sh: nginx did not come up" >&2; exit 1; }
# shellcheck disable=SC2046
export $(cat "$W/env")
H=$BIN/bench_httpx C=$BIN/bench_curl
# Pin client and nginx together, as the benchmark does (see bench/README.md).
MASTER=$(pgrep -f "nginx: master.*$(basename "$BIN")" | head -n1 || true)
SERVER_PIDS="$MASTER $( [ -n "$MASTER" ] && pgrep -P "$MASTER" || true)"
for p in $SERVER_PIDS; do taskset -pc 0 "$p" >/dev/null 2>&1 || true; done
PIN=(taskset -c 0)
command -v taskset >/dev/null || PIN=()

report() {
set +o pipefail # `... | head` ends its writer with SIGPIPE
echo "## libhttpx profile: keep-alive GET (per request, $N1 vs $N2 requests)"
echo
echo "libhttpx git $(git rev-parse --short HEAD 2>/dev/null)$(git status --porcelain -- src 2>/dev/null | grep -q . && echo ' + local changes'), $PROFILE build; $($C --version | cut -d' ' -f1-2)."
echo

# --------------------------------------------------------------------------- syscalls
per_req_syscalls() { # LIB URL EXPECT -> "name=x.xx ..." (>= 0.05 per request)
  local bin=$1 url=$2 exp=$3 n=2000
  strace -f -c -o "$W/st" "${PIN[@]}" "$bin" --mode get --url "$url" --n $n --warmup 0 --expect "$exp" --ca "$CA" >/dev/null
  awk -v n=$n 'NR>2 && $0 !~ /----/ && $NF!="total" { c=($4 ~ /^[0-9]+$/)?$4:0; if (c/n >= 0.05) { printf "%s %.2f, ", $NF, c/n; t+=c/n } } END { printf "**total %.2f**", t }' "$W/st"
}
echo "### Syscalls per request (strace -c -f; >= 0.05 per request shown)"
echo
echo "| workload | libhttpx | libcurl |"
echo "|---|---|---|"
for spec in "HTTP 13 B|$HTTP_URL/|13" "HTTPS 13 B|$HTTPS_URL/|13" "HTTP 64 KiB|$HTTP_URL/files/64k.bin|65536" "HTTPS 64 KiB|$HTTPS_URL/files/64k.bin|65536"; do
  IFS='|' read -r name url exp <<<"$spec"
  echo "| $name | $(per_req_syscalls "$H" "$url" "$exp") | $(per_req_syscalls "$C" "$url" "$exp") |"
done
echo

# --------------------------------------------------------------------------- callgrind
cg() { # BIN URL N -> total Ir
  valgrind --tool=callgrind --callgrind-out-file="$W/cg.$(basename "$1").$3" "$1" --mode get --url "$2" \
    --n "$3" --warmup 10 --expect 13 --ca "$CA" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'
}
echo "### User-space instructions per request (callgrind, 13 B GET)"
echo
echo "| | libhttpx | libcurl |"
echo "|---|---:|---:|"
for u in "HTTP|$HTTP_URL/" "HTTPS|$HTTPS_URL/"; do
  IFS='|' read -r name url <<<"$u"
  row="| $name |"
  for b in "$H" "$C"; do
    a=$(cg "$b" "$url" $N1); z=$(cg "$b" "$url" $N2)
    row="$row $(( (z - a) / (N2 - N1) )) |"
    [ "$name" = HTTP ] && cp "$W/cg.$(basename "$b").$N2" "$W/cg_http_$(basename "$b")"
  done
  echo "$row"
done
echo
echo "Top libhttpx functions, HTTP, exclusive instructions over $N2 requests (callgrind_annotate):"
echo
echo '```'
callgrind_annotate "$W/cg_http_bench_httpx" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n '3,28p' \
  | sed -E 's#/rustc/[0-9a-f]+/library/#std:#; s#/root/.cargo/registry/src/[^/]+/##; s#\[/[^]]*/#[#' | cut -c1-170
echo '```'
echo

# --------------------------------------------------------------------------- dhat
dh() { # BIN URL N -> "blocks bytes"
  valgrind --tool=dhat --num-callers=40 --dhat-out-file="$W/dh.$(basename "$1").$3.json" "$1" --mode get --url "$2" \
    --n "$3" --warmup 10 --expect 13 --ca "$CA" 2>&1 >/dev/null | sed -n 's/.*Total: *\([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\2 \1/p' | tr -d ,
}
echo "### Heap allocations per request (dhat, 13 B GET)"
echo
echo "| | libhttpx allocs | libhttpx bytes | libcurl allocs | libcurl bytes |"
echo "|---|---:|---:|---:|---:|"
for u in "HTTP|$HTTP_URL/" "HTTPS|$HTTPS_URL/"; do
  IFS='|' read -r name url <<<"$u"
  row="| $name |"
  for b in "$H" "$C"; do
    read -r ba ya <<<"$(dh "$b" "$url" $N1)"; read -r bz yz <<<"$(dh "$b" "$url" $N2)"
    row="$row $(awk -v a="$ba" -v z="$bz" -v n=$((N2 - N1)) 'BEGIN{printf "%.1f", (z-a)/n}') | $(( (yz - ya) / (N2 - N1) )) |"
    [ "$name" = HTTP ] && cp "$W/dh.$(basename "$b").$N2.json" "$W/dh_http_$(basename "$b").json"
  done
  echo "$row"
done
echo
if command -v python3 >/dev/null; then
  echo "libhttpx allocation sites, HTTP 13 B GET (allocations per request; first frame in libhttpx):"
  echo
  echo '```'
  python3 - "$W/dh_http_bench_httpx.json" "$N2" <<'PY'
import json, re, sys, collections
d = json.load(open(sys.argv[1])); n = float(sys.argv[2]); ftbl = d["ftbl"]
fr = re.compile(r"0x[0-9A-Fa-f]+: (.*) \((.*?)\)$")
ours = re.compile(r"^(src/|/work/|.*/src/(client|request|headers|urls|http1|response|pool|cookies|routing|config|connection|hooks|observe|tls|decoding)\.rs)")
std = re.compile(r"^(alloc|allocate|try_allocate|with_capacity|__rdl|__rust|do_reserve|reserve|grow|finish_grow|to_vec|to_owned|to_string|clone|extend|spec_extend|push|from_elem|append_elements|new|from|format|collect|realloc|malloc|calloc|UnknownInlinedFun)")
agg = collections.Counter(); byt = collections.Counter()
for pp in d["pps"]:
    fs = [m.groups() for m in (fr.match(ftbl[i]) for i in pp["fs"]) if m]
    pick = next(((f, l) for f, l in fs if ("httpx::" in f or "httpx_" in f) and not std.match(f)), None) \
        or next(((f, l) for f, l in fs if not std.match(f) and "rust" not in l), ("?", "?"))
    key = f"{pick[0][:80]} ({pick[1]})"
    agg[key] += pp["tbk"]; byt[key] += pp["tb"]
for k, v in agg.most_common(18):
    if v / n < 0.5: break
    print(f"{v/n:6.2f}/req {byt[k]/n:7.0f} B/req  {k}")
PY
  echo '```'
  echo
fi

# --------------------------------------------------------------------------- faults + perf
if command -v perf >/dev/null && perf stat -e page-faults true >/dev/null 2>&1; then
  echo "### Page faults and context switches per request (perf stat, 4000 requests)"
  echo
  echo "| workload | libhttpx | libcurl |"
  echo "|---|---|---|"
  for spec in "HTTP 64 KiB|$HTTP_URL/files/64k.bin" "HTTPS 64 KiB|$HTTPS_URL/files/64k.bin" "HTTPS 13 B|$HTTPS_URL/"; do
    IFS='|' read -r name url <<<"$spec"
    exp=13; [[ $url == *64k* ]] && exp=65536
    row="| $name |"
    for b in "$H" "$C"; do
      row="$row $(perf stat -x, -e page-faults,context-switches "${PIN[@]}" "$b" --mode get --url "$url" --n 4000 --expect $exp --ca "$CA" 2>&1 >/dev/null \
        | awk -F, '{ printf "%s %.2f ", $3, $1/4000 }') |"
    done
    echo "$row"
  done
  echo
  if perf record -e cpu-clock -o "$W/perf.data" true >/dev/null 2>&1; then
    perf record -e cpu-clock -F 10000 -g -o "$W/perf.data" "${PIN[@]}" "$H" --mode get --url "$HTTP_URL/" --n 100000 --expect 13 >/dev/null 2>&1
    echo "perf (cpu-clock) of libhttpx, HTTP 13 B GET, share of samples by object and top user-space symbols:"
    echo
    echo '```'
    perf report -i "$W/perf.data" --no-children --sort dso -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -6
    perf report -i "$W/perf.data" --no-children --sort sym -g none --dsos libhttpx.so,libc.so.6 2>/dev/null \
      | grep -v '^#' | grep -v '^$' | head -25 | cut -c1-150
    echo '```'
  fi
fi
}
mkdir -p "$(dirname "$OUT")"
report | tee "$OUT"
echo "[profile.sh] report written to $OUT" >&2

#!/usr/bin/env bash
# Flow-log attribution benchmark: natcost vs DuckDB's best plan on the same generated files,
# natcost on one large file (byte ranges on every core), and natcost on gzip vs decompression
# alone. Needs ~(2×SIZE_MB + BIG_MB) of disk in $WORK and about 5 minutes.
#   SIZE_MB=1034 FILES=14 BIG_MB=2048 bash scripts/bench_flows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB="${SIZE_MB:-1034}"
FILES="${FILES:-14}"
BIG_MB="${BIG_MB:-2048}"
WORK="${WORK:-/tmp/natcost-bench}"
# AWS's ip-ranges.json (not committed): downloaded once to natcost's own cache unless given.
RANGES="${RANGES:-$HOME/.cache/natcost/ip-ranges.json}"
if [ ! -f "$RANGES" ] && ! curl -fsSL --create-dirs -o "$RANGES" https://ip-ranges.amazonaws.com/ip-ranges.json; then
  # Offline: the committed synthetic file in the same format (fewer prefixes than AWS's).
  echo "cannot download ip-ranges.json: using tests/data/ip-ranges-fixture.json" >&2
  RANGES=tests/data/ip-ranges-fixture.json
fi
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -c 'import duckdb' 2>/dev/null || .venv/bin/pip install --quiet --disable-pip-version-check duckdb

TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --features synth --bin natcost --example gen_flows
BIN="$TARGET/release/natcost"
GEN="$TARGET/release/examples/gen_flows"
STAMP="$SIZE_MB $FILES $BIG_MB"
if [ "$(cat "$WORK/stamp" 2>/dev/null)" != "$STAMP" ]; then
  rm -rf "$WORK"; mkdir -p "$WORK"
  echo "generating $SIZE_MB MB of flow logs in $FILES files (plain and gzip), and one $BIG_MB MB file..." >&2
  "$GEN" "$WORK/plain" "$SIZE_MB" --files "$FILES" --ip-ranges "$RANGES"
  "$GEN" "$WORK/gzip" "$SIZE_MB" --files "$FILES" --gzip --ip-ranges "$RANGES"
  "$GEN" "$WORK/big" "$BIG_MB" --files 1 --ip-ranges "$RANGES"
  echo "$STAMP" > "$WORK/stamp"
fi
PLAIN_MB=$(du -sm "$WORK/plain/AWSLogs" | cut -f1)
GZ_MB=$(du -sm "$WORK/gzip/AWSLogs" | cut -f1)
BIG_REAL_MB=$(du -sm "$WORK/big/AWSLogs" | cut -f1)

run() { # prints "seconds max_rss_kb user_seconds"
  /usr/bin/time -f "%e %M %U" "$@" 2>&1 >/dev/null | tail -1
}
flows() { run "$BIN" flows --sample --flow-logs "$1" --ip-ranges "$RANGES" --format json; }
# Warm the page cache, then measure.
find "$WORK" -type f -exec cat {} + > /dev/null
read -r NP_S NP_KB _ < <(flows "$WORK/plain/AWSLogs")
read -r NP_S NP_KB _ < <(flows "$WORK/plain/AWSLogs")
read -r NB_S NB_KB NB_U < <(flows "$WORK/big/AWSLogs")
read -r NG_S NG_KB _ < <(flows "$WORK/gzip/AWSLogs")
# Decompression alone: one gzip -dc over every file, and as many in parallel as natcost uses.
START=$(date +%s.%N)
find "$WORK/gzip/AWSLogs" -name '*.gz' -print0 | sort -z | xargs -0 cat | gzip -dc > /dev/null
D1_S=$(printf "%.2f" "$(echo "$(date +%s.%N) - $START" | bc)")
START=$(date +%s.%N)
find "$WORK/gzip/AWSLogs" -name '*.gz' -print0 | xargs -0 -P "$(nproc)" -n 1 sh -c 'gzip -dc "$0" > /dev/null'
DZ_S=$(printf "%.2f" "$(echo "$(date +%s.%N) - $START" | bc)")

# The NAT interfaces of the sample, for DuckDB; then DuckDB on the plain files.
.venv/bin/python - data/samples/seoul.json "$WORK/enis.json" <<'PY'
import json, sys
snap = json.load(open(sys.argv[1]))
out = {}
# Snapshots keep their regions under each account (older ones at the top).
regions = snap.get("regions") or [r for a in snap["accounts"] for r in a["regions"]]
for r in regions:
    cidrs = {v["vpc_id"]: v["cidr_blocks"] for v in r["vpcs"]}
    for n in r["nat_gateways"]:
        for a in n["addresses"]:
            out[a["network_interface_id"]] = {"nat": n["nat_gateway_id"], "ip": a["private_ip"], "cidrs": cidrs[n["vpc_id"]]}
json.dump(out, open(sys.argv[2], "w"))
PY
DUCK_OUT=$(/usr/bin/time -f "%M" -o "$WORK/duck.rss" .venv/bin/python tests/support/bench_duckdb.py "$WORK/plain" "$RANGES" "$WORK/enis.json")
DK_S=$(echo "$DUCK_OUT" | .venv/bin/python -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["seconds"])')
DK_KB=$(tail -1 "$WORK/duck.rss")

echo "plain ${PLAIN_MB} MB in $FILES files, gzip ${GZ_MB} MB, one file of ${BIG_REAL_MB} MB; $(nproc) cores; duckdb $(.venv/bin/python -c 'import duckdb; print(duckdb.__version__)')"
echo "natcost plain:    ${NP_S} s, $(echo "$PLAIN_MB / $NP_S" | bc) MB/s, peak RSS $((NP_KB / 1024)) MB"
echo "duckdb best plan: ${DK_S} s, $(echo "$PLAIN_MB / $DK_S" | bc) MB/s, peak RSS $((DK_KB / 1024)) MB (whole process)"
echo "natcost is $(echo "scale=2; $DK_S / $NP_S" | bc)x DuckDB's throughput"
echo "natcost one file: ${NB_S} s, $(echo "$BIG_REAL_MB / $NB_S" | bc) MB/s, $(echo "scale=2; $NB_U / $NB_S" | bc) cores busy, peak RSS $((NB_KB / 1024)) MB"
echo "natcost gzip:     ${NG_S} s (${PLAIN_MB} MB of text), peak RSS $((NG_KB / 1024)) MB"
echo "gzip -dc, one process: ${D1_S} s (natcost gzip takes $(echo "scale=2; $NG_S / $D1_S" | bc)x its time)"
echo "gzip -dc, $(nproc) processes: ${DZ_S} s (natcost gzip takes $(echo "scale=2; $NG_S / $DZ_S" | bc)x its time)"

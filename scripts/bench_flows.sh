#!/usr/bin/env bash
# Flow-log attribution benchmark: natcost vs DuckDB on the same generated files, and natcost
# on gzip vs plain decompression. Needs ~2×SIZE_MB of disk in $WORK and about 10 minutes.
#   SIZE_MB=2048 bash scripts/bench_flows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB="${SIZE_MB:-2048}"
WORK="${WORK:-/tmp/natcost-bench}"
# AWS's ip-ranges.json (not committed): downloaded once to natcost's own cache unless given.
RANGES="${RANGES:-$HOME/.cache/natcost/ip-ranges.json}"
if [ ! -f "$RANGES" ]; then
  curl -fsSL --create-dirs -o "$RANGES" https://ip-ranges.amazonaws.com/ip-ranges.json
fi
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -c 'import duckdb' 2>/dev/null || .venv/bin/pip install --quiet --disable-pip-version-check duckdb

cargo build --release --quiet --bin natcost --example gen_flows
BIN=target/release/natcost
GEN=target/release/examples/gen_flows
if [ ! -f "$WORK/plain/truth.json" ]; then
  rm -rf "$WORK"; mkdir -p "$WORK"
  echo "generating $SIZE_MB MB of flow logs (plain and gzip)..." >&2
  "$GEN" "$WORK/plain" "$SIZE_MB" --files 16 --ip-ranges "$RANGES"
  "$GEN" "$WORK/gzip" "$SIZE_MB" --files 16 --gzip --ip-ranges "$RANGES"
fi
PLAIN_MB=$(du -sm "$WORK/plain/AWSLogs" | cut -f1)
GZ_MB=$(du -sm "$WORK/gzip/AWSLogs" | cut -f1)

run() { # prints "seconds max_rss_kb"
  /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1
}
sync
read -r NP_S NP_KB < <(run "$BIN" flows --sample --flow-logs "$WORK/plain/AWSLogs" --ip-ranges "$RANGES" --format json)
read -r NP_S NP_KB < <(run "$BIN" flows --sample --flow-logs "$WORK/plain/AWSLogs" --ip-ranges "$RANGES" --format json)
read -r NG_S NG_KB < <(run "$BIN" flows --sample --flow-logs "$WORK/gzip/AWSLogs" --ip-ranges "$RANGES" --format json)
# Decompression alone, on as many cores as natcost uses.
START=$(date +%s.%N)
find "$WORK/gzip/AWSLogs" -name '*.gz' -print0 | xargs -0 -P "$(nproc)" -n 1 sh -c 'gzip -dc "$0" > /dev/null'
DZ_S=$(echo "$(date +%s.%N) - $START" | bc)

# The NAT interfaces of the sample, for DuckDB; then DuckDB on the plain files.
.venv/bin/python - data/samples/seoul.json "$WORK/enis.json" <<'PY'
import json, sys
snap = json.load(open(sys.argv[1]))
out = {}
for r in snap["regions"]:
    cidrs = {v["vpc_id"]: v["cidr_blocks"] for v in r["vpcs"]}
    for n in r["nat_gateways"]:
        for a in n["addresses"]:
            out[a["network_interface_id"]] = {"nat": n["nat_gateway_id"], "ip": a["private_ip"], "cidrs": cidrs[n["vpc_id"]]}
json.dump(out, open(sys.argv[2], "w"))
PY
DUCK=$(.venv/bin/python tests/support/bench_duckdb.py "$WORK/plain" "$RANGES" "$WORK/enis.json")
DK_S=$(echo "$DUCK" | .venv/bin/python -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["seconds"])')

echo "plain ${PLAIN_MB} MB, gzip ${GZ_MB} MB"
echo "natcost plain: ${NP_S} s, $(echo "$PLAIN_MB / $NP_S" | bc) MB/s, peak RSS $((NP_KB / 1024)) MB"
echo "duckdb plain:  ${DK_S} s, $(echo "$PLAIN_MB / $DK_S" | bc) MB/s; natcost is $(echo "scale=2; $DK_S / $NP_S" | bc)x DuckDB's throughput"
echo "natcost gzip:  ${NG_S} s (${PLAIN_MB} MB of text), peak RSS $((NG_KB / 1024)) MB"
echo "gzip -dc alone (xargs -P $(nproc)): ${DZ_S} s; natcost gzip / decompress = $(echo "scale=2; $NG_S / $DZ_S" | bc)"

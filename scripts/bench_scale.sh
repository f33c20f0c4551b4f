#!/usr/bin/env bash
# Scale benchmark: a report on generated snapshots of 300, 1,000 and 3,000 NAT gateways (three
# per VPC, 30 Lambda functions per VPC, 30 days of hourly metrics), release build, no files.
#   bash scripts/bench_scale.sh            # or SIZES="300 1000" bash scripts/bench_scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="${SIZES:-300 1000 3000}"
WORK="${WORK:-/tmp/natcost-scale}"
mkdir -p "$WORK"
cargo build --release --quiet --bin natcost --example gen_scale
BIN="${CARGO_TARGET_DIR:-target}/release/natcost"
GEN="${CARGO_TARGET_DIR:-target}/release/examples/gen_scale"
echo "| NAT gateways / Lambda functions | snapshot | time | peak memory |"
echo "|---|---:|---:|---:|"
for n in $SIZES; do
  f="$WORK/scale-$n.json"
  [ -f "$f" ] || "$GEN" "$n" "$f" 2>/dev/null
  mb=$(( $(stat -c %s "$f") / 1048576 ))
  read -r s kb < <( /usr/bin/time -f "%e %M" "$BIN" report --snapshot "$f" --no-files --prices bundled --quiet 2>&1 >/dev/null | tail -1 )
  echo "| $n / $(( (n + 2) / 3 * 30 )) | ${mb} MB | ${s} s | $(( kb / 1024 )) MB |"
done

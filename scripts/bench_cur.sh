#!/usr/bin/env bash
# Reading Cost and Usage Report files: ROWS line items (one in 20 NAT-related, the rest EC2
# instances and volumes, over 300 accounts), written once by DuckDB as a CUR 2.0 Parquet file
# (Snappy), a CUR 2.0 gzip CSV file and a folder of four Parquet parts, then reconciled against the sample with a release
# build; prints seconds, peak memory and rows per second for each.
#   ROWS=2000000 bash scripts/bench_cur.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-2000000}"
WORK="${WORK:-/tmp/natcost-bench-cur}"
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -c 'import duckdb' 2>/dev/null || .venv/bin/pip install --quiet --disable-pip-version-check 'duckdb==2.0.1'

TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --bin natcost
BIN="$TARGET/release/natcost"
if [ "$(cat "$WORK/stamp" 2>/dev/null)" != "$ROWS" ]; then
  rm -rf "$WORK"; mkdir -p "$WORK"
  echo "generating $ROWS CUR rows..." >&2
  .venv/bin/python - "$WORK" "$ROWS" <<'PY'
import sys, duckdb
work, rows = sys.argv[1], int(sys.argv[2])
con = duckdb.connect()
con.execute(f"""CREATE TABLE t AS SELECT
  'li-' || i AS identity_line_item_id,
  TIMESTAMP '2026-10-01' AS bill_billing_period_start_date,
  TIMESTAMP '2026-10-01' + INTERVAL (i % 744) HOUR AS line_item_usage_start_date,
  CASE WHEN i % 20 = 0 THEN '123456789012' ELSE lpad(CAST(100000000000 + i % 300 AS VARCHAR), 12, '0') END AS line_item_usage_account_id,
  'Usage' AS line_item_line_item_type,
  'AmazonEC2' AS line_item_product_code,
  CASE WHEN i % 20 = 0 THEN (CASE WHEN i % 40 = 0 THEN 'APN2-NatGateway-Hours' ELSE 'APN2-NatGateway-Bytes' END)
       WHEN i % 2 = 0 THEN 'APN2-BoxUsage:m5.large' ELSE 'APN2-EBS:VolumeUsage.gp3' END AS line_item_usage_type,
  CASE WHEN i % 20 = 0 THEN 'arn:aws:ec2:ap-northeast-2:123456789012:natgateway/nat-' || lpad(CAST(i % 97 AS VARCHAR), 17, '0')
       ELSE 'i-' || lpad(CAST(i % 5000 AS VARCHAR), 17, '0') END AS line_item_resource_id,
  1.0 AS line_item_usage_amount,
  0.059 AS line_item_unblended_cost,
  'ap-northeast-2' AS product_region_code
  FROM range({rows}) r(i)""")
con.execute(f"COPY t TO '{work}/cur.snappy.parquet' (FORMAT PARQUET, COMPRESSION SNAPPY)")
con.execute(f"COPY t TO '{work}/cur.csv.gz' (HEADER, COMPRESSION GZIP)")
# The same rows as an export split in four files (read on as many threads as there are cores).
import os
os.makedirs(f"{work}/parts/data/BILLING_PERIOD=2026-10")
for k in range(4):
    con.execute(f"COPY (SELECT * FROM t WHERE CAST(substr(identity_line_item_id, 4) AS BIGINT) % 4 = {k}) TO '{work}/parts/data/BILLING_PERIOD=2026-10/nat-0000{k + 1}.snappy.parquet' (FORMAT PARQUET, COMPRESSION SNAPPY)")
PY
  echo "$ROWS" > "$WORK/stamp"
fi
for f in cur.snappy.parquet cur.csv.gz parts; do
  MB=$(du -sm "$WORK/$f" | cut -f1)
  read -r SECS RSS < <(/usr/bin/time -f "%e %M" "$BIN" reconcile --sample --bill "cur:$WORK/$f" --format csv 2>&1 >/dev/null | tail -1)
  echo "$f: $ROWS rows, $MB MB: ${SECS}s, peak RSS $((RSS / 1024)) MB, $(awk "BEGIN{printf \"%.0f\", $ROWS/$SECS}") rows/s"
done

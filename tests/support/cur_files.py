"""Writes Cost and Usage Report files from a ground truth, as AWS lays them out in S3, for the
bill tests. Test fixtures only.

    python cur_files.py OUT_DIR TRUTH_JSON

TRUTH_JSON: {"lines": [{"month": "YYYY-MM", "account": "...", "region": "..." (may be empty),
"usage_type": "...", "resource_id": "...", "type": "Usage|Credit|...", "amount": "DECIMAL",
"cost": "DECIMAL"}]}. Each line becomes two rows of half its amount and cost (natcost must sum
them), among rows of other usage types and another account that natcost must leave out.

Written under OUT_DIR:
  cur2-parquet/data/BILLING_PERIOD=YYYY-MM/nat-00001.snappy.parquet   CUR 2.0, Parquet (DuckDB),
      with 70,000 EC2 rows before the truth: a batch skipped, then one read in the same row group
  cur2-csv/data/BILLING_PERIOD=YYYY-MM/nat-00001.csv.gz              CUR 2.0, gzip CSV
  legacy/nat-cur/YYYYMMDD-YYYYMMDD/<assembly>/nat-cur-1.csv.gz       legacy CUR, gzip CSV; each
      period also has an older version (every cost doubled) that natcost must not read
  bad/missing-column.csv.gz   no line_item_unblended_cost
  bad/wrong-type.csv          line_item_usage_amount "lots" on a NAT row
  bad/wrong-type.parquet      line_item_unblended_cost as BOOLEAN
  bad/truncated.parquet       the first half of a good Parquet file
  bad/corrupt-pages.parquet   a good Parquet file with garbage over its data pages (footer kept)
  cur2-csv/data/notes.csv     a CSV file that is not a report (skipped, said in a note)
"""
import csv
import gzip
import json
import os
import sys
from datetime import date
from decimal import Decimal

import duckdb

out, truth = sys.argv[1], json.load(open(sys.argv[2]))
OTHER = "210987654321"

CUR2 = [
    "identity_line_item_id",
    "bill_billing_period_start_date",
    "line_item_usage_start_date",
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_resource_id",
    "line_item_usage_amount",
    "line_item_unblended_cost",
    "product_region_code",
]
LEGACY = [
    "identity/LineItemId",
    "bill/BillingPeriodStartDate",
    "lineItem/UsageStartDate",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/ResourceId",
    "lineItem/UsageAmount",
    "lineItem/UnblendedCost",
    "product/region",
]


def rows_of(month, scale=Decimal(1)):
    """Rows (in CUR2 column order) of one month: the truth in halves, then noise."""
    period = f"{month}-01T00:00:00Z"
    rows = []
    n = 0
    for line in truth["lines"]:
        if line["month"] != month:
            continue
        for half in range(2):
            n += 1
            rows.append(
                [
                    f"li-{month}-{n}",
                    period,
                    f"{month}-0{half + 1}T00:00:00Z",
                    line["account"],
                    line["type"],
                    "AmazonEC2",
                    line["usage_type"],
                    line["resource_id"],
                    str(Decimal(line["amount"]) / 2),
                    str(Decimal(line["cost"]) * scale / 2),
                    line["region"],
                ]
            )
    noise = [
        (line_account, usage, resource)
        for line_account, usage, resource in [
            ("123456789012", "APN2-BoxUsage:t3.micro", "i-0123456789abcdef0"),
            ("123456789012", "APN2-EBS:VolumeUsage.gp3", "vol-0123456789abcdef0"),
            (OTHER, "APN2-NatGateway-Hours", f"arn:aws:ec2:ap-northeast-2:{OTHER}:natgateway/nat-0other00000000001"),
        ]
    ]
    for account, usage, resource in noise:
        n += 1
        rows.append(
            [f"li-{month}-{n}", period, f"{month}-01T00:00:00Z", account, "Usage", "AmazonEC2",
             usage, resource, "100", "1.25", "ap-northeast-2"]
        )
    return rows


def months():
    return sorted({line["month"] for line in truth["lines"]})


def next_month(month):
    y, m = map(int, month.split("-"))
    return date(y + m // 12, m % 12 + 1, 1)


def write_csv(path, header, rows, gz=True):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def write_parquet(path, rows, cost_type="DOUBLE", noise=0):
    """noise: that many EC2 rows first (natcost decodes 65,536 rows at a time and skips a batch
    with no NAT-related row: with 70,000 the truth is in the second batch of the first row group,
    read after a skip in the middle of its pages)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    con = duckdb.connect()
    con.execute(
        f"""CREATE TABLE t (
            identity_line_item_id VARCHAR,
            bill_billing_period_start_date TIMESTAMP,
            line_item_usage_start_date TIMESTAMP,
            line_item_usage_account_id VARCHAR,
            line_item_line_item_type VARCHAR,
            line_item_product_code VARCHAR,
            line_item_usage_type VARCHAR,
            line_item_resource_id VARCHAR,
            line_item_usage_amount DOUBLE,
            line_item_unblended_cost {cost_type},
            product_region_code VARCHAR)"""
    )
    if noise:
        con.execute(
            f"""INSERT INTO t SELECT 'noise-' || i, CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ),
                '123456789012', 'Usage', 'AmazonEC2', 'APN2-BoxUsage:m5.large',
                'i-0123456789abcdef0', 1.0, 0.118, 'ap-northeast-2' FROM range({noise}) r(i)""",
            [rows[0][1], rows[0][2]],
        )
    fix = (lambda r: r[:9] + [float(r[9]) > 0] + r[10:]) if cost_type == "BOOLEAN" else (lambda r: r)
    con.executemany(
        "INSERT INTO t VALUES (?, CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ), ?, ?, ?, ?, ?, ?, ?, ?)",
        [fix(r) for r in rows],
    )
    con.execute(f"COPY t TO '{path}' (FORMAT PARQUET, COMPRESSION SNAPPY)")


for month in months():
    rows = rows_of(month)
    write_parquet(f"{out}/cur2-parquet/data/BILLING_PERIOD={month}/nat-00001.snappy.parquet", rows, noise=70_000)
    write_csv(f"{out}/cur2-csv/data/BILLING_PERIOD={month}/nat-00001.csv.gz", CUR2, rows)
    period = f"{month.replace('-', '')}01-{next_month(month).strftime('%Y%m%d')}"
    old = f"{out}/legacy/nat-cur/{period}/0a1d-old-assembly/nat-cur-1.csv.gz"
    write_csv(old, LEGACY, rows_of(month, Decimal(2)))
    os.utime(old, (1_600_000_000, 1_600_000_000))
    write_csv(f"{out}/legacy/nat-cur/{period}/7f3e-new-assembly/nat-cur-1.csv.gz", LEGACY, rows)

first = rows_of(months()[0])
write_csv(f"{out}/bad/missing-column.csv.gz", [c for c in CUR2 if c != "line_item_unblended_cost"],
          [r[:9] + r[10:] for r in first])
wrong = [list(r) for r in first]
wrong[0][8] = "lots"
write_csv(f"{out}/bad/wrong-type.csv", CUR2, wrong, gz=False)
write_parquet(f"{out}/bad/wrong-type.parquet", first, cost_type="BOOLEAN")
write_parquet(f"{out}/bad/whole.parquet", first)
whole = open(f"{out}/bad/whole.parquet", "rb").read()
open(f"{out}/bad/truncated.parquet", "wb").write(whole[: len(whole) // 2])
corrupt = bytearray(whole)
corrupt[8:len(whole) // 2] = b"\xff" * (len(whole) // 2 - 8)
open(f"{out}/bad/corrupt-pages.parquet", "wb").write(bytes(corrupt))
os.remove(f"{out}/bad/whole.parquet")
write_csv(f"{out}/cur2-csv/data/notes.csv", ["owner", "note"], [["finance", "exported monthly"]], gz=False)
print(json.dumps({"months": months()}))

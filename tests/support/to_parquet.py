"""Rewrites every plain flow-log file under SRC as Parquet under DST (same relative path,
.parquet instead of .log), with the columns and types of AWS's Parquet delivery (the Athena
documentation's table) and Gzip compression, as AWS delivers them. Uses DuckDB.

usage: to_parquet.py SRC DST
"""
import os
import sys

import duckdb

src, dst = sys.argv[1:3]
names = ["version", "account_id", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport",
         "protocol", "packets", "bytes", "start", "end", "action", "log_status"]
types = {n: "VARCHAR" for n in names}
types.update({"version": "INTEGER", "srcport": "INTEGER", "dstport": "INTEGER"})
types.update({n: "BIGINT" for n in ["protocol", "packets", "bytes", "start", "end"]})
con = duckdb.connect()
n = 0
for folder, _, files in os.walk(src):
    for name in files:
        if not name.endswith(".log"):
            continue
        path = os.path.join(folder, name)
        out = os.path.join(dst, os.path.relpath(path, src))[: -len(".log")] + ".parquet"
        os.makedirs(os.path.dirname(out), exist_ok=True)
        con.execute(f"""
            COPY (SELECT * FROM read_csv('{path}', delim=' ', header=true, names={names},
                                         types={types}, nullstr='-', quote='', escape=''))
            TO '{out}' (FORMAT parquet, COMPRESSION gzip)""")
        n += 1
print(n)

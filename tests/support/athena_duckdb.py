"""Runs the SQL natcost sent to (moto's) Athena in DuckDB over the same flow-log files, and
queues DuckDB's answer as the query's result in moto, in Athena's result shape (a header row,
then the rows, every value a string). moto records the SQL but does not run it: this checks
the SQL's meaning on the real files.

usage: athena_duckdb.py MOTO_URL REGION FILES_DIR
prints {"sql", "workgroup", "output", "rows": [[...], ...]}.

The table is the flow-log table of Athena's documentation, with partition projection
(accid, region, day = yyyy/MM/dd), over files delivered as AWSLogs/<account>/vpcflowlogs/
<region>/YYYY/MM/DD/: the partitions come from each file's folder, as in Athena.
"""
import json
import sys
import urllib.request

import boto3
import duckdb

url, region, files = sys.argv[1:4]
athena = boto3.client(
    "athena", endpoint_url=url, region_name=region,
    aws_access_key_id="test", aws_secret_access_key="test",
)
ids = athena.list_query_executions()["QueryExecutionIds"]
execs = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]
natcost = [e for e in execs if 'GROUP BY "interface_id"' in e["Query"]]
if len(natcost) != 1:
    sys.exit(f"expected one natcost query in moto, found {len(natcost)}")
e = natcost[0]
sql = e["Query"]

con = duckdb.connect()
con.execute("CREATE SCHEMA flowdb")
names = ["version", "account_id", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport",
         "protocol", "packets", "bytes", "start", "end", "action", "log_status"]
types = {n: "VARCHAR" for n in names}
types.update({n: "BIGINT" for n in ["srcport", "dstport", "protocol", "packets", "bytes", "start", "end"]})
con.execute(f"""
CREATE VIEW flowdb.vpc_flow_logs AS
SELECT * EXCLUDE (filename),
  regexp_extract(filename, 'AWSLogs/([0-9]+)/', 1) AS accid,
  regexp_extract(filename, 'vpcflowlogs/([^/]+)/', 1) AS region,
  regexp_extract(filename, 'vpcflowlogs/[^/]+/([0-9]{{4}}/[0-9]{{2}}/[0-9]{{2}})/', 1) AS day
FROM read_csv('{files}/**/*.log', delim=' ', header=true, names={names}, types={types},
              nullstr='-', quote='', escape='', filename=true)
""")
cur = con.execute(sql)
header = [d[0] for d in cur.description]
rows = [[None if v is None else str(v) for v in r] for r in cur.fetchall()]

def result_row(values):
    return {"Data": [{"VarCharValue": v} if v is not None else {} for v in values]}

body = {
    "account_id": "123456789012",
    "region": region,
    "results": [{
        "rows": [result_row(header)] + [result_row(r) for r in rows],
        "column_info": [{"Name": h, "Label": h, "Type": "varchar", "CatalogName": "hive",
                         "SchemaName": "", "TableName": "", "Precision": 0, "Scale": 0,
                         "Nullable": "UNKNOWN", "CaseSensitive": True} for h in header],
    }],
}
req = urllib.request.Request(f"{url}/moto-api/static/athena/query-results",
                             data=json.dumps(body).encode(), method="POST",
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req).read()
print(json.dumps({
    "sql": sql,
    "workgroup": e.get("WorkGroup"),
    "output": e.get("ResultConfiguration", {}).get("OutputLocation"),
    "header": header,
    "rows": rows,
}))

"""The same NAT attribution natcost does, in DuckDB, over the same plain flow-log files, with
DuckDB's best plan: read_csv with quoting and escaping off and '-' as NULL, GROUP BY
interface-id, srcaddr and dstaddr on the raw strings first (NAT interfaces, ACCEPT/OK only),
then the longest-prefix match on ip-ranges.json only over the few thousand distinct remote
addresses. Prints seconds, MB/s and the result.

    python bench_duckdb.py FLOW_DIR IP_RANGES_JSON NAT_ENIS_JSON
NAT_ENIS_JSON: {"eni-…": {"nat": "nat-…", "ip": "10.0.0.10", "cidrs": ["10.0.0.0/16"]}, …}
"""
import glob
import ipaddress
import json
import os
import sys
import time

import duckdb

flow_dir, ranges_path, enis_path = sys.argv[1:4]
files = sorted(glob.glob(os.path.join(flow_dir, "**", "*.log"), recursive=True))
size = sum(os.path.getsize(f) for f in files)
enis = json.load(open(enis_path))
ranges = json.load(open(ranges_path))

con = duckdb.connect()
con.execute("PRAGMA threads=%d" % (os.cpu_count() or 2))
con.execute("CREATE TABLE nat_eni (eni VARCHAR, nat VARCHAR, ip VARCHAR, net UBIGINT, mask UBIGINT)")
for eni, n in enis.items():
    for c in n["cidrs"]:
        net = ipaddress.ip_network(c)
        con.execute("INSERT INTO nat_eni VALUES (?, ?, ?, ?, ?)", [eni, n["nat"], n["ip"], int(net.network_address), int(net.netmask)])
con.execute("CREATE TABLE ranges (len INTEGER, key UBIGINT, service VARCHAR, region VARCHAR)")
rows = []
for p in ranges["prefixes"]:
    net = ipaddress.ip_network(p["ip_prefix"])
    rows.append((net.prefixlen, int(net.network_address) >> (32 - net.prefixlen), p["service"], p["region"]))
con.executemany("INSERT INTO ranges VALUES (?, ?, ?, ?)", rows)

start = time.perf_counter()
# 1. One pass over the text: raw strings grouped, nothing converted per row but bytes.
con.execute(f"""
CREATE TEMP TABLE grouped AS
SELECT "interface-id" AS eni, srcaddr, dstaddr, sum(bytes) AS bytes
FROM read_csv({files!r}, delim=' ', header=true, quote='', escape='', nullstr='-', columns={{
  'version': 'VARCHAR', 'account-id': 'VARCHAR', 'interface-id': 'VARCHAR', 'srcaddr': 'VARCHAR',
  'dstaddr': 'VARCHAR', 'srcport': 'VARCHAR', 'dstport': 'VARCHAR', 'protocol': 'VARCHAR',
  'packets': 'VARCHAR', 'bytes': 'UBIGINT', 'start': 'VARCHAR', 'end': 'VARCHAR',
  'action': 'VARCHAR', 'log-status': 'VARCHAR'}}, ignore_errors=true)
WHERE action = 'ACCEPT' AND "log-status" = 'OK'
  AND "interface-id" IN (SELECT eni FROM nat_eni)
GROUP BY ALL
""")
# 2. The other end of each NAT leg, as a number, on the grouped rows only.
con.execute("""
CREATE TEMP TABLE legs AS
WITH l AS (
  SELECT n.nat, CASE WHEN g.srcaddr = n.ip THEN g.dstaddr ELSE g.srcaddr END AS other, g.bytes, n.net, n.mask
  FROM grouped g JOIN nat_eni n ON g.eni = n.eni
  WHERE g.srcaddr = n.ip OR g.dstaddr = n.ip
)
SELECT nat, other, sum(bytes) AS bytes, any_value(net) AS net, any_value(mask) AS mask,
       (CAST(split_part(other, '.', 1) AS UBIGINT) << 24) + (CAST(split_part(other, '.', 2) AS UBIGINT) << 16)
     + (CAST(split_part(other, '.', 3) AS UBIGINT) << 8) + CAST(split_part(other, '.', 4) AS UBIGINT) AS ip
FROM l GROUP BY nat, other
""")
# 3. Longest-prefix match over the distinct outside addresses only.
dest = con.execute("""
WITH outside AS (SELECT nat, ip, bytes AS b FROM legs WHERE (ip & mask) <> net),
addrs AS (SELECT DISTINCT ip FROM outside),
lens AS (SELECT DISTINCT len FROM ranges),
cand AS (
  SELECT a.ip, r.len, r.service, r.region
  FROM addrs a CROSS JOIN lens l
  JOIN ranges r ON r.len = l.len AND r.key = (a.ip >> (32 - l.len))
),
best AS (
  SELECT ip, arg_max(region, len * 4 + CASE WHEN service IN ('S3', 'DYNAMODB') THEN 2 WHEN service <> 'AMAZON' THEN 1 ELSE 0 END) AS region,
         arg_max(service, len * 4 + CASE WHEN service IN ('S3', 'DYNAMODB') THEN 2 WHEN service <> 'AMAZON' THEN 1 ELSE 0 END) AS service
  FROM cand GROUP BY ip
)
SELECT o.nat, coalesce(b.service, 'internet') AS service, coalesce(b.region, '') AS region, sum(o.b)
FROM outside o LEFT JOIN best b ON o.ip = b.ip
GROUP BY ALL ORDER BY 1, 4 DESC
""").fetchall()
sources = con.execute("SELECT nat, other, bytes FROM legs WHERE (ip & mask) = net").fetchall()
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "mb": size / 2**20, "mb_per_s": size / 2**20 / elapsed,
                  "destinations": [list(map(str, r)) for r in dest][:12], "sources": len(sources)}))

"""The same NAT attribution natcost does, in DuckDB, over the same plain flow-log files:
records on the NAT gateways' interfaces, outside leg grouped by remote address and classified
by longest-prefix match on ip-ranges.json (a join per prefix length), inside leg grouped by
client. Prints seconds and MB/s.

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
con.execute(f"""
CREATE TEMP TABLE recs AS
SELECT r."interface-id" AS eni, r.srcaddr, r.dstaddr, r.bytes, n.nat, n.ip AS nat_ip, n.net, n.mask
FROM read_csv({files!r}, delim=' ', header=true, columns={{
  'version': 'VARCHAR', 'account-id': 'VARCHAR', 'interface-id': 'VARCHAR', 'srcaddr': 'VARCHAR',
  'dstaddr': 'VARCHAR', 'srcport': 'VARCHAR', 'dstport': 'VARCHAR', 'protocol': 'VARCHAR',
  'packets': 'VARCHAR', 'bytes': 'VARCHAR', 'start': 'VARCHAR', 'end': 'VARCHAR',
  'action': 'VARCHAR', 'log-status': 'VARCHAR'}}, ignore_errors=true) r
JOIN nat_eni n ON r."interface-id" = n.eni
WHERE r.action = 'ACCEPT' AND r."log-status" = 'OK'
""")
con.execute("""
CREATE TEMP TABLE legs AS
SELECT nat, CASE WHEN srcaddr = nat_ip THEN dstaddr ELSE srcaddr END AS other,
       CAST(bytes AS UBIGINT) AS bytes,
       (CAST(split_part(CASE WHEN srcaddr = nat_ip THEN dstaddr ELSE srcaddr END, '.', 1) AS UBIGINT) << 24)
     + (CAST(split_part(CASE WHEN srcaddr = nat_ip THEN dstaddr ELSE srcaddr END, '.', 2) AS UBIGINT) << 16)
     + (CAST(split_part(CASE WHEN srcaddr = nat_ip THEN dstaddr ELSE srcaddr END, '.', 3) AS UBIGINT) << 8)
     +  CAST(split_part(CASE WHEN srcaddr = nat_ip THEN dstaddr ELSE srcaddr END, '.', 4) AS UBIGINT) AS ip,
       net, mask
FROM recs WHERE srcaddr = nat_ip OR dstaddr = nat_ip
""")
dest = con.execute("""
WITH outside AS (SELECT nat, ip, sum(bytes) AS b FROM legs WHERE (ip & mask) <> net GROUP BY nat, ip),
lens AS (SELECT DISTINCT len FROM ranges),
cand AS (
  SELECT o.nat, o.ip, o.b, r.len, r.service, r.region
  FROM outside o CROSS JOIN lens l
  JOIN ranges r ON r.len = l.len AND r.key = (o.ip >> (32 - l.len))
),
best AS (
  SELECT nat, ip, b, arg_max(region, len * 2 + (service <> 'AMAZON')::INT) AS region,
         arg_max(service, len * 2 + (service <> 'AMAZON')::INT) AS service
  FROM cand GROUP BY nat, ip, b
)
SELECT o.nat, coalesce(b.service, 'internet') AS service, coalesce(b.region, '') AS region, sum(o.b)
FROM outside o LEFT JOIN best b ON o.nat = b.nat AND o.ip = b.ip
GROUP BY ALL ORDER BY 1, 4 DESC
""").fetchall()
sources = con.execute("""
SELECT nat, other, sum(bytes) FROM legs WHERE (ip & mask) = net GROUP BY nat, other
""").fetchall()
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "mb": size / 2**20, "mb_per_s": size / 2**20 / elapsed,
                  "destinations": [list(map(str, r)) for r in dest][:12], "sources": len(sources)}))

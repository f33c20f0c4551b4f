//! Flow logs at organisation scale: Athena runs the aggregation over the flow-log table (GROUP
//! BY interface, source and destination, on the NAT interfaces and the window's partitions)
//! and natcost fetches only the aggregated rows.
//!
//! The one path that writes in the account: Athena stores every query's results in the
//! workgroup's output location (or `--athena-output`). It runs only when asked.

use anyhow::{anyhow, bail, Result};
use aws_config::Region;
use aws_sdk_athena::types::{QueryExecutionState, ResultConfiguration};
use aws_sdk_athena::Client;
use chrono::Duration as Days;
use rust_decimal::Decimal;

use super::Row;
use crate::aws::calls;
use crate::aws::poll::Poll;
use crate::aws::session::Remote;
use crate::snapshot::Snapshot;

/// Athena's list price per TB scanned (USD; most regions, us-east-1 and Seoul included), with
/// a 10 MB minimum per query.
pub const USD_PER_TB: Decimal = rust_decimal_macros::dec!(5);
const MIN_BYTES: u64 = 10_000_000;

/// How the table is partitioned, as in AWS's own flow-log tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Partitions {
    /// Partition projection from Athena's documentation: `accid`, `region`, `day` (yyyy/MM/dd).
    #[default]
    Day,
    /// One `date` partition of type date (Athena's documentation, ALTER TABLE ADD PARTITION).
    Date,
    /// Partition projection of Athena's Parquet example: `region`, `date` (yyyy/MM/dd), `hour`.
    RegionDate,
    /// Hive-compatible S3 prefixes (the console's Athena integration): `aws-account-id`,
    /// `aws-region`, `year`, `month`, `day`.
    Hive,
    /// Not partitioned: only the `start` column limits the scan.
    None,
}

/// A query to run.
#[derive(Debug, Clone)]
pub struct Table {
    /// `DB.TABLE`.
    pub name: String,
    pub workgroup: String,
    pub output: Option<String>,
    pub partitions: Partitions,
}

/// Whether the NAT gateways' flow logs carry the packet's own addresses (`pkt-srcaddr`,
/// `pkt-dstaddr`): their configurations in the snapshot say so, and the table then has those
/// columns (as in Athena's documented tables).
pub fn has_packet_addresses(snapshot: &Snapshot) -> bool {
    let configs = super::configs::covering_nats(snapshot);
    !configs.is_empty()
        && configs.iter().all(|c| {
            c.format
                .as_deref()
                .is_some_and(|f| f.contains("${pkt-srcaddr}") && f.contains("${pkt-dstaddr}"))
        })
}

/// `"db"."table"`, refusing names that would need escaping.
fn quoted(name: &str) -> Result<String> {
    let (db, table) = name
        .split_once('.')
        .ok_or_else(|| anyhow!("--athena-table {name}: give DATABASE.TABLE"))?;
    for part in [db, table] {
        if part.is_empty()
            || !part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            bail!("--athena-table {name}: names are letters, digits, _ and -");
        }
    }
    Ok(format!("\"{db}\".\"{table}\""))
}

/// The SQL: the NAT interfaces' accepted records in the window, summed by interface, source and
/// destination, with the partitions of the window's days (and the day after, as for S3) and of
/// the snapshot's accounts and regions.
pub fn sql(snapshot: &Snapshot, table: &Table) -> Result<String> {
    let from = snapshot.window.start;
    let to = snapshot.window.end;
    let first = from.date_naive();
    let last = (to - Days::seconds(1)).date_naive() + Days::days(1);
    // Values come from the snapshot: keep only what an id, account or region can hold.
    let list = |v: Vec<String>| {
        let mut v: Vec<String> = v
            .into_iter()
            .filter(|s| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            .collect();
        v.sort();
        v.dedup();
        v.iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let with_nats: Vec<_> = snapshot
        .regions
        .iter()
        .filter(|r| !r.nat_gateways.is_empty())
        .collect();
    let regions = list(with_nats.iter().map(|r| r.region.clone()).collect());
    let accounts = list(with_nats.iter().map(|r| r.account_id.clone()).collect());
    let enis = list(
        with_nats
            .iter()
            .flat_map(|r| &r.nat_gateways)
            .flat_map(|n| &n.addresses)
            .filter_map(|a| a.network_interface_id.clone())
            .collect(),
    );
    if enis.is_empty() {
        bail!("the snapshot names no NAT gateway network interface: nothing to query");
    }
    let mut filters = Vec::new();
    match table.partitions {
        Partitions::Day => {
            filters.push(format!(
                "\"day\" BETWEEN '{}' AND '{}'",
                first.format("%Y/%m/%d"),
                last.format("%Y/%m/%d")
            ));
            filters.push(format!("\"accid\" IN ({accounts})"));
            filters.push(format!("\"region\" IN ({regions})"));
        }
        Partitions::Date => filters.push(format!(
            "\"date\" BETWEEN DATE '{}' AND DATE '{}'",
            first.format("%Y-%m-%d"),
            last.format("%Y-%m-%d")
        )),
        Partitions::RegionDate => {
            filters.push(format!(
                "\"date\" BETWEEN '{}' AND '{}'",
                first.format("%Y/%m/%d"),
                last.format("%Y/%m/%d")
            ));
            filters.push(format!("\"region\" IN ({regions})"));
        }
        Partitions::Hive => {
            filters.push(format!(
                "concat(\"year\", '/', \"month\", '/', \"day\") BETWEEN '{}' AND '{}'",
                first.format("%Y/%m/%d"),
                last.format("%Y/%m/%d")
            ));
            filters.push(format!("\"aws-account-id\" IN ({accounts})"));
            filters.push(format!("\"aws-region\" IN ({regions})"));
        }
        Partitions::None => {}
    }
    filters.push(format!("\"interface_id\" IN ({enis})"));
    filters.push("\"action\" = 'ACCEPT'".into());
    filters.push(format!(
        "\"start\" >= {} AND \"start\" < {}",
        from.timestamp(),
        to.timestamp()
    ));
    let by = if has_packet_addresses(snapshot) {
        "\"interface_id\", \"srcaddr\", \"dstaddr\", \"pkt_srcaddr\", \"pkt_dstaddr\""
    } else {
        "\"interface_id\", \"srcaddr\", \"dstaddr\""
    };
    // By UTC day too, so that each row's bytes have a day (a day's or a month's sources).
    Ok(format!(
        "SELECT {by}, SUM(\"bytes\") AS \"bytes\", COUNT(*) AS \"records\", MIN(\"start\") AS \"first\", MAX(\"start\") AS \"last\"\nFROM {}\nWHERE {}\nGROUP BY {by}, floor(\"start\" / 86400)",
        quoted(&table.name)?,
        filters.join("\n  AND ")
    ))
}

/// What the query found and cost.
#[derive(Debug, Default)]
pub struct Outcome {
    pub rows: Vec<Row>,
    /// "Athena query … scanned X GB × 5 USD/TB = Y USD".
    pub summary: String,
}

/// Calls made, by IAM action.
pub type Calls = Vec<(&'static str, u64)>;

/// Runs the query in the snapshot's first region with NAT gateways, waits for it, and reads
/// every page of its result; the calls made, whether it worked or not.
pub fn run(remote: &Remote, snapshot: &Snapshot, table: &Table) -> (Calls, Result<Outcome>) {
    let sql = match sql(snapshot, table) {
        Ok(s) => s,
        Err(e) => return (Vec::new(), Err(e)),
    };
    let conf = aws_sdk_athena::config::Builder::from(&remote.base)
        .region(Region::new(remote.region()))
        .build();
    let client = Client::from_conf(conf);
    let host = calls::host("athena", &remote.region());
    let (mut starts, mut polls, mut pages) = (0, 0, 0);
    let result = remote.runtime.block_on(async {
        let mut start = client
            .start_query_execution()
            .query_string(&sql)
            .work_group(&table.workgroup);
        if let Some(o) = &table.output {
            start = start
                .result_configuration(ResultConfiguration::builder().output_location(o).build());
        }
        starts += 1;
        let id = start
            .send()
            .await
            .map_err(|e| anyhow!(calls::one_line(&e, &host)))?
            .query_execution_id()
            .ok_or_else(|| anyhow!("StartQueryExecution gave no query id"))?
            .to_string();
        let mut poll = Poll::start();
        let scanned = loop {
            poll.check(&id)?;
            polls += 1;
            let e = client
                .get_query_execution()
                .query_execution_id(&id)
                .send()
                .await
                .map_err(|e| anyhow!(calls::one_line(&e, &host)))?;
            let e = e
                .query_execution()
                .ok_or_else(|| anyhow!("GetQueryExecution gave no execution"))?;
            let status = e.status();
            match status.and_then(|s| s.state()) {
                Some(QueryExecutionState::Succeeded) => {
                    break e
                        .statistics()
                        .and_then(|s| s.data_scanned_in_bytes())
                        .unwrap_or(0)
                        .max(0) as u64
                }
                Some(QueryExecutionState::Queued) | Some(QueryExecutionState::Running) | None => {
                    poll.pause().await;
                }
                Some(other) => bail!(
                    "query {id} {}: {}",
                    other.as_str(),
                    status
                        .and_then(|s| s.state_change_reason())
                        .unwrap_or("no reason given")
                ),
            }
        };
        let mut rows = Vec::new();
        let mut token = None;
        let mut header: Option<Vec<String>> = None;
        loop {
            pages += 1;
            let page = client
                .get_query_results()
                .query_execution_id(&id)
                .set_next_token(token)
                .max_results(1000)
                .send()
                .await
                .map_err(|e| anyhow!(calls::one_line(&e, &host)))?;
            for r in page.result_set().map(|s| s.rows()).unwrap_or_default() {
                let values: Vec<Option<&str>> =
                    r.data().iter().map(|d| d.var_char_value()).collect();
                match &header {
                    // Athena's first row of a SELECT names the columns.
                    None => {
                        header = Some(values.iter().map(|v| v.unwrap_or("").to_string()).collect())
                    }
                    Some(h) => rows.push(row(h, &values)?),
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok::<_, anyhow::Error>((id, scanned, rows))
    });
    let calls = vec![
        ("athena:StartQueryExecution", starts),
        ("athena:GetQueryExecution", polls),
        ("athena:GetQueryResults", pages),
    ];
    let outcome = result.map(|(id, scanned, rows)| {
        let billed = Decimal::from(scanned.max(MIN_BYTES));
        let tb = Decimal::from(1_000_000_000_000u64);
        let usd = (billed / tb * USD_PER_TB).round_dp(6);
        Outcome {
            summary: format!(
                "Athena query {id} on {}: {} row(s); {:.3} GB scanned (billed as at least 0.01 GB) × {USD_PER_TB} USD/TB = {usd} USD",
                table.name,
                rows.len(),
                scanned as f64 / 1e9
            ),
            rows,
        }
    });
    (calls, outcome)
}

fn row(header: &[String], values: &[Option<&str>]) -> Result<Row> {
    let get = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .and_then(|i| values.get(i).copied().flatten())
            .filter(|v| !v.is_empty() && *v != "-")
    };
    let need = |name: &str| get(name).ok_or_else(|| anyhow!("a result row without {name}"));
    let number = |name: &str| -> Result<Option<i64>> {
        get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| anyhow!("{name}: {v} is not a number"))
            })
            .transpose()
    };
    let ip = |name: &str| -> Result<std::net::IpAddr> {
        let v = need(name)?;
        v.parse()
            .map_err(|_| anyhow!("{name}: {v} is not an address"))
    };
    Ok(Row {
        interface_id: need("interface_id")?.to_string(),
        src: ip("srcaddr")?,
        dst: ip("dstaddr")?,
        pkt_src: get("pkt_srcaddr").and_then(|v| v.parse().ok()),
        pkt_dst: get("pkt_dstaddr").and_then(|v| v.parse().ok()),
        bytes: number("bytes")?.unwrap_or(0).max(0) as u64,
        records: number("records")?.unwrap_or(0).max(0) as u64,
        first: number("first")?,
        last: number("last")?,
        // The query groups by floor("start" / 86400).
        by_day: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(partitions: Partitions) -> Table {
        Table {
            name: "flowdb.vpc_flow_logs".into(),
            workgroup: "primary".into(),
            output: None,
            partitions,
        }
    }

    #[test]
    fn the_query_keeps_to_the_window_partitions_and_nat_interfaces() {
        let s = Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
        let q = sql(&s, &table(Partitions::Day)).unwrap();
        assert!(q.contains("FROM \"flowdb\".\"vpc_flow_logs\""), "{q}");
        assert!(
            q.contains("\"day\" BETWEEN '2026/09/26' AND '2026/11/01'"),
            "{q}"
        );
        assert!(q.contains("\"accid\" IN ('123456789012')"), "{q}");
        assert!(q.contains("\"region\" IN ('ap-northeast-2')"), "{q}");
        assert!(
            q.contains("\"start\" >= 1790380800 AND \"start\" < 1793491200"),
            "{q}"
        );
        assert_eq!(q.matches("'eni-").count(), 7, "{q}");
        let mut odd = s.clone();
        odd.regions[0].nat_gateways[0].addresses[0].network_interface_id =
            Some("eni-1') OR (1=1".into());
        assert_eq!(
            sql(&odd, &table(Partitions::Day))
                .unwrap()
                .matches("'eni-")
                .count(),
            6
        );
        let q = sql(&s, &table(Partitions::Date)).unwrap();
        assert!(q.contains("\"date\" BETWEEN DATE '2026-09-26' AND DATE '2026-11-01'"));
        let q = sql(&s, &table(Partitions::RegionDate)).unwrap();
        assert!(q.contains("\"date\" BETWEEN '2026/09/26' AND '2026/11/01'"));
        let q = sql(&s, &table(Partitions::Hive)).unwrap();
        assert!(q.contains("\"aws-region\" IN ('ap-northeast-2')"));
        assert!(!sql(&s, &table(Partitions::None)).unwrap().contains("day"));
        assert!(
            !q.contains("pkt_srcaddr"),
            "the sample's flow log has no packet addresses"
        );
        let mut pkt = s.clone();
        for f in pkt.regions.iter_mut().flat_map(|r| r.flow_logs.iter_mut()) {
            f.log_format = Some(
                "${version} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} ${bytes} ${start} ${action}".into(),
            );
        }
        let q = sql(&pkt, &table(Partitions::Day)).unwrap();
        assert!(
            q.contains("GROUP BY \"interface_id\", \"srcaddr\", \"dstaddr\", \"pkt_srcaddr\", \"pkt_dstaddr\", floor(\"start\" / 86400)"),
            "{q}"
        );
        assert!(q.starts_with("SELECT \"interface_id\", \"srcaddr\", \"dstaddr\", \"pkt_srcaddr\", \"pkt_dstaddr\", SUM"));
        let mut bad = table(Partitions::Day);
        bad.name = "flowdb.x\"; DROP TABLE y".into();
        assert!(sql(&s, &bad).is_err());
        bad.name = "no_database".into();
        assert!(sql(&s, &bad).is_err());
    }
}

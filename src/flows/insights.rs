//! Flow logs in CloudWatch Logs: a Logs Insights query per log group and month aggregates the
//! bytes by interface, source, destination and day in AWS, and natcost fetches only those rows
//! (StartQuery, GetQueryResults: read-only).

use std::net::IpAddr;

use anyhow::{anyhow, bail, Result};
use aws_config::Region;
use aws_sdk_cloudwatchlogs::types::QueryStatus;
use aws_sdk_cloudwatchlogs::Client;

use super::Row;
use crate::aws::calls;
use crate::aws::poll::Poll;
use crate::aws::session::Remote;
use crate::price::model::months;
use crate::snapshot::Snapshot;

/// Events are stamped when captured; the query's time range reaches this far past the end.
pub const LATE_SECONDS: i64 = 3600;
/// Queries per log group at most (each split asks again, and each query bills its scan).
pub const MAX_QUERIES: u64 = 64;

/// Rows one GetQueryResults answer holds: an answer this long may be cut, so its time range
/// is split in two and each half asked again.
pub const ROW_LIMIT: usize = 10_000;

/// A log group to query, in the account × region of the NAT gateways it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub account_id: String,
    pub region: String,
    pub name: String,
    /// The flow log's format (`${version} ${account-id} …`); None for the default.
    pub format: Option<String>,
    /// The NAT gateways' interfaces in that region.
    pub enis: Vec<String>,
}

/// Field names in a query: Insights' discovered names for the default format, the format's own
/// (with `_` for `-`) when natcost parses a custom one.
struct Names {
    eni: &'static str,
    src: &'static str,
    dst: &'static str,
    start: &'static str,
    action: Option<&'static str>,
    pkt: bool,
}

const DEFAULT_FIELDS: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

/// The query for a group. The default format uses the fields Insights discovers in flow logs
/// (`interfaceId`, `srcAddr`, `dstAddr`, `bytes`, `startTime`, `action`); a custom format is
/// parsed from `@message` with its own field list. `by_day`: summed by the UTC day the records
/// start on (`start_day`, days since the epoch), so that each row dates its bytes (what a day's
/// anomaly and a month's allocation and change are explained by); else over the range.
pub fn query_text(group: &Group, from: i64, to: i64, by_day: bool) -> String {
    let (parse, names) = parse_clause(group.format.as_deref());
    // Interface ids come from the snapshot: keep only what an id can hold.
    let enis: Vec<String> = group
        .enis
        .iter()
        .filter(|e| e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(|e| format!("\"{e}\""))
        .collect();
    // Records by their own start, so that each is in exactly one query however the window is
    // split (the query's time range, on @timestamp, reaches past the end for late ones).
    let mut filter = format!(
        "{s} >= {from} and {s} < {to} and {} in [{}]",
        names.eni,
        enis.join(", "),
        s = names.start
    );
    if let Some(a) = names.action {
        filter = format!("{a} = \"ACCEPT\" and {filter}");
    }
    let by = if names.pkt {
        format!(
            "{}, {}, {}, pkt_srcaddr, pkt_dstaddr",
            names.eni, names.src, names.dst
        )
    } else {
        format!("{}, {}, {}", names.eni, names.src, names.dst)
    };
    let (day, by) = if by_day {
        (
            format!("\n| fields floor({} / {DAY}) as start_day", names.start),
            format!("{by}, start_day"),
        )
    } else {
        (String::new(), by)
    };
    format!(
        "{parse}filter {filter}{day}\n| stats sum(bytes) as bytes, count(*) as records, min({s}) as first, max({s}) as last by {by}",
        s = names.start
    )
}

fn parse_clause(format: Option<&str>) -> (String, Names) {
    let fields: Vec<String> = format
        .map(|f| {
            f.split_whitespace()
                .map(|t| t.trim_start_matches("${").trim_end_matches('}').to_string())
                .collect()
        })
        .unwrap_or_default();
    if fields.is_empty() || fields.join(" ") == DEFAULT_FIELDS {
        return (
            String::new(),
            Names {
                eni: "interfaceId",
                src: "srcAddr",
                dst: "dstAddr",
                start: "startTime",
                action: Some("action"),
                pkt: false,
            },
        );
    }
    let has = |f: &str| fields.iter().any(|x| x == f);
    let stars = vec!["*"; fields.len()].join(" ");
    let names: Vec<String> = fields.iter().map(|f| f.replace('-', "_")).collect();
    (
        format!("parse @message \"{stars}\" as {}\n| ", names.join(", ")),
        Names {
            eni: "interface_id",
            src: "srcaddr",
            dst: "dstaddr",
            start: "start",
            action: has("action").then_some("action"),
            pkt: has("pkt-srcaddr") && has("pkt-dstaddr"),
        },
    )
}

/// What the queries found and cost.
#[derive(Debug, Default)]
pub struct Outcome {
    pub rows: Vec<Row>,
    pub start_queries: u64,
    pub get_results: u64,
    pub bytes_scanned: f64,
    pub records_scanned: f64,
    /// Queries run, per group: "region log group: N row(s), X MB scanned, K queries".
    pub read: Vec<String>,
    /// Groups that could not be read, with why.
    pub unread: Vec<String>,
    /// The query texts, for -v.
    pub texts: Vec<String>,
}

/// How asking one group ended.
enum Ended {
    Done,
    /// Answers stayed cut at [`ROW_LIMIT`] rows within the query budget.
    TooManyRows(String),
    Failed(String),
}

const DAY: i64 = 86_400;

/// Runs each group's query by day over each month of the snapshot's window (split where an
/// answer hits [`ROW_LIMIT`]). A group with too many rows by day for [`MAX_QUERIES`] is asked
/// again summed over the window: its bytes all counted, none dated.
pub fn run(remote: &Remote, snapshot: &Snapshot, groups: &[Group]) -> Outcome {
    let mut out = Outcome::default();
    let window = (
        snapshot.window.start.timestamp(),
        snapshot.window.end.timestamp(),
    );
    // A query per UTC month, so that a long window's days do not all land in one answer.
    let by_month: Vec<(i64, i64)> = months(snapshot.window)
        .iter()
        .map(|(from, to)| (from.timestamp(), to.timestamp()))
        .collect();
    for g in groups {
        let conf = aws_sdk_cloudwatchlogs::config::Builder::from(&remote.base)
            .region(Region::new(g.region.clone()))
            .build();
        let client = Client::from_conf(conf);
        out.texts.push(format!(
            "{} {} (asked month by month):\n{}",
            g.region,
            g.name,
            query_text(g, window.0, window.1, true)
        ));
        let before = (out.rows.len(), out.bytes_scanned, out.start_queries);
        let mut undated = None;
        let ended = match ask(remote, &client, g, &by_month, true, &mut out) {
            Ended::TooManyRows(why) => {
                out.rows.truncate(before.0);
                out.texts.push(format!(
                    "{} {} (summed over the window instead):\n{}",
                    g.region,
                    g.name,
                    query_text(g, window.0, window.1, false)
                ));
                undated = Some(why);
                ask(remote, &client, g, &[window], false, &mut out)
            }
            ended => ended,
        };
        let place = format!("{} log group {}", g.region, g.name);
        match ended {
            Ended::TooManyRows(why) => {
                out.rows.truncate(before.0);
                out.unread.push(format!(
                    "{place}: not read: {why}: too many sources and destinations for Insights; read the logs from S3 or Athena"
                ));
            }
            Ended::Failed(why) => {
                out.rows.truncate(before.0);
                out.unread.push(format!("{place}: not read: {why}"));
            }
            Ended::Done => out.read.push(format!(
                "{place} (Logs Insights): {} row(s), {:.1} MB scanned, {} query(ies){}",
                out.rows.len() - before.0,
                (out.bytes_scanned - before.1) / 1e6,
                out.start_queries - before.2,
                undated
                    .map(|why| format!(
                        "; summed over the window, not by day ({why}): no day or month is explained by its records"
                    ))
                    .unwrap_or_default()
            )),
        }
    }
    out
}

/// Asks `ranges` in turn (by day when `dated`), splitting a range whose answer is cut: at a day
/// boundary while it spans days (so that no day's rows are in both halves), else in halves.
fn ask(
    remote: &Remote,
    client: &Client,
    g: &Group,
    ranges: &[(i64, i64)],
    dated: bool,
    out: &mut Outcome,
) -> Ended {
    let first = out.start_queries;
    let mut ranges: Vec<(i64, i64)> = ranges.iter().rev().copied().collect();
    while let Some((from, to)) = ranges.pop() {
        if out.start_queries - first >= MAX_QUERIES {
            return Ended::TooManyRows(format!(
                "still more than {ROW_LIMIT} rows after {MAX_QUERIES} queries"
            ));
        }
        let text = query_text(g, from, to, dated);
        match remote
            .runtime
            .block_on(query(client, g, (&text, dated), from, to, out))
        {
            Ok((raw, _)) if raw >= ROW_LIMIT && to - from > 60 => {
                let day = ((from + to) / 2).div_euclid(DAY) * DAY;
                let mid = if day > from && day < to {
                    day
                } else {
                    from + (to - from) / 2
                };
                ranges.push((mid, to));
                ranges.push((from, mid));
            }
            // Summed over the window, that minute would be cut too: no use asking again.
            Ok((raw, _)) if raw >= ROW_LIMIT => {
                return Ended::Failed(format!(
                    "more than {ROW_LIMIT} rows in one minute: too many sources and destinations for Insights; read the logs from S3 or Athena"
                ));
            }
            Ok((_, rows)) => out.rows.extend(rows),
            Err(e) => return Ended::Failed(format!("{e:#}")),
        }
    }
    Ended::Done
}

/// One query for the records starting in `from..to` (epoch seconds, end exclusive), polled
/// until it ends: the rows Insights answered, and those natcost can count.
async fn query(
    client: &Client,
    group: &Group,
    (text, by_day): (&str, bool),
    from: i64,
    to: i64,
    out: &mut Outcome,
) -> Result<(usize, Vec<Row>)> {
    let host = calls::host("logs", &group.region);
    out.start_queries += 1;
    let started = client
        .start_query()
        .log_group_name(&group.name)
        .start_time(from)
        // Insights' end time is inclusive.
        .end_time(to + LATE_SECONDS - 1)
        .query_string(text)
        .limit(ROW_LIMIT as i32)
        .send()
        .await
        .map_err(|e| anyhow!(calls::one_line(&e, &host)))?;
    let id = started
        .query_id()
        .ok_or_else(|| anyhow!("StartQuery gave no query id"))?;
    let mut poll = Poll::start();
    loop {
        poll.check(id)?;
        out.get_results += 1;
        let r = client
            .get_query_results()
            .query_id(id)
            .send()
            .await
            .map_err(|e| anyhow!(calls::one_line(&e, &host)))?;
        match r.status() {
            Some(QueryStatus::Complete) => {
                if let Some(s) = r.statistics() {
                    out.bytes_scanned += s.bytes_scanned();
                    out.records_scanned += s.records_scanned();
                }
                let rows: Vec<Row> = r
                    .results()
                    .iter()
                    .map(|row| parse_row(row, by_day))
                    .collect::<Result<Vec<_>>>()?
                    .into_iter()
                    .flatten()
                    .collect();
                return Ok((r.results().len(), rows));
            }
            Some(QueryStatus::Scheduled) | Some(QueryStatus::Running) | None => {
                poll.pause().await;
            }
            Some(other) => bail!("the query ended {}", other.as_str()),
        }
    }
}

/// A row to count; None for one without addresses (a NODATA or SKIPDATA record).
fn parse_row(
    fields: &[aws_sdk_cloudwatchlogs::types::ResultField],
    by_day: bool,
) -> Result<Option<Row>> {
    let get = |names: &[&str]| {
        fields
            .iter()
            .find(|f| f.field().is_some_and(|n| names.contains(&n)))
            .and_then(|f| f.value())
            .filter(|v| *v != "-")
    };
    let ip = |names: &[&str]| -> Result<Option<IpAddr>> {
        get(names)
            .map(|v| {
                v.parse()
                    .map_err(|_| anyhow!("{names:?}: {v} is not an address"))
            })
            .transpose()
    };
    let number = |name: &str| -> Result<Option<f64>> {
        get(&[name])
            .map(|v| {
                v.parse()
                    .map_err(|_| anyhow!("{name}: {v} is not a number"))
            })
            .transpose()
    };
    let (Some(src), Some(dst)) = (ip(&["srcAddr", "srcaddr"])?, ip(&["dstAddr", "dstaddr"])?)
    else {
        return Ok(None);
    };
    Ok(Some(Row {
        interface_id: get(&["interfaceId", "interface_id"])
            .ok_or_else(|| anyhow!("a result row without an interface id"))?
            .to_string(),
        src,
        dst,
        pkt_src: ip(&["pkt_srcaddr"])?,
        pkt_dst: ip(&["pkt_dstaddr"])?,
        bytes: number("bytes")?.unwrap_or(0.0) as u64,
        records: number("records")?.unwrap_or(0.0) as u64,
        // Insights' startTime is a timestamp in milliseconds or seconds, depending on the field.
        first: number("first")?.map(to_seconds),
        last: number("last")?.map(to_seconds),
        by_day,
    }))
}

fn to_seconds(t: f64) -> i64 {
    if t > 1e11 {
        (t / 1000.0) as i64
    } else {
        t as i64
    }
}

/// The log groups to query: those of `--flow-logs auto` configurations with a CloudWatch Logs
/// destination (for the NAT interfaces each captures), and those named with `log-group:` (in
/// every account × region with NAT gateways, for all of them); one query per account, region
/// and group, so that a group named twice is read once.
pub fn groups(
    snapshot: &Snapshot,
    configs: &[super::configs::Configured],
    named: &[String],
) -> Vec<Group> {
    use super::configs::Destination;
    let mut out: Vec<Group> = Vec::new();
    let mut add =
        |account: &str, region: &str, name: &str, format: Option<&String>, enis: &[String]| {
            match out
                .iter_mut()
                .find(|g| g.account_id == account && g.region == region && g.name == name)
            {
                Some(g) => {
                    g.enis.extend(enis.iter().cloned());
                    g.enis.sort();
                    g.enis.dedup();
                }
                None => out.push(Group {
                    account_id: account.to_string(),
                    region: region.to_string(),
                    name: name.to_string(),
                    format: format.cloned(),
                    enis: enis.to_vec(),
                }),
            }
        };
    for c in configs {
        if let Destination::LogGroup(name) = &c.destination {
            add(&c.account_id, &c.region, name, c.format.as_ref(), &c.enis);
        }
    }
    for name in named {
        for r in snapshot
            .regions
            .iter()
            .filter(|r| !r.nat_gateways.is_empty())
        {
            // The format of a configuration that delivers there, else the default.
            let format = configs
                .iter()
                .find(|c| {
                    c.region == r.region
                        && c.account_id == r.account_id
                        && matches!(&c.destination, Destination::LogGroup(g) if g == name)
                })
                .and_then(|c| c.format.as_ref());
            let enis: Vec<String> = r
                .nat_gateways
                .iter()
                .flat_map(|n| &n.addresses)
                .filter_map(|a| a.network_interface_id.clone())
                .collect();
            add(&r.account_id, &r.region, name, format, &enis);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(format: Option<&str>) -> Group {
        Group {
            account_id: "123456789012".into(),
            region: "ap-northeast-2".into(),
            name: "/vpc/flow".into(),
            format: format.map(str::to_string),
            enis: vec!["eni-a".into(), "eni-b".into()],
        }
    }

    #[test]
    fn default_format_queries_discovered_fields() {
        assert_eq!(
            query_text(&group(None), 100, 200, true),
            "filter action = \"ACCEPT\" and startTime >= 100 and startTime < 200 and interfaceId in [\"eni-a\", \"eni-b\"]\n| fields floor(startTime / 86400) as start_day\n| stats sum(bytes) as bytes, count(*) as records, min(startTime) as first, max(startTime) as last by interfaceId, srcAddr, dstAddr, start_day"
        );
        assert_eq!(
            query_text(&group(None), 100, 200, false),
            "filter action = \"ACCEPT\" and startTime >= 100 and startTime < 200 and interfaceId in [\"eni-a\", \"eni-b\"]\n| stats sum(bytes) as bytes, count(*) as records, min(startTime) as first, max(startTime) as last by interfaceId, srcAddr, dstAddr"
        );
        let spelled = DEFAULT_FIELDS
            .split(' ')
            .map(|f| format!("${{{f}}}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            query_text(&group(Some(&spelled)), 1, 2, true),
            query_text(&group(None), 1, 2, true)
        );
    }

    #[test]
    fn custom_format_is_parsed_with_its_packet_addresses() {
        let q = query_text(&group(Some(
            "${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} ${bytes} ${start}",
        )), 100, 200, true);
        assert_eq!(
            q,
            "parse @message \"* * * * * * *\" as interface_id, srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr, bytes, start\n| filter start >= 100 and start < 200 and interface_id in [\"eni-a\", \"eni-b\"]\n| fields floor(start / 86400) as start_day\n| stats sum(bytes) as bytes, count(*) as records, min(start) as first, max(start) as last by interface_id, srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr, start_day"
        );
    }
}

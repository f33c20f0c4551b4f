//! The NAT gateways' bytes attributed: the entry points (read, count, attribute), and the
//! tallies turned into an `Attribution`: destinations by the gateway prefix lists, then
//! ip-ranges.json; sources by the functions behind each client address, a shared Lambda ENI's
//! bytes split by Duration; sources by subnet.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use anyhow::{bail, Result};
use chrono::{DateTime, NaiveDate};

use super::files::Source;
use super::ipranges::IpRanges;
use super::owners::Owners;
use super::read::{self, RANGE_BYTES};
use super::scan::{cidr, NatSide, Partial, Row, Scan};
use super::{s3, Attribution, Destination, NatTraffic, SharedSplit, SplitShare};
use crate::snapshot::Snapshot;
use crate::traffic::{SourceBytes, SourceRef};

/// Reads local files and S3 objects (through `store`), adds rows aggregated by Logs Insights,
/// and attributes the NAT gateways' bytes.
pub fn attribute_sources(
    snapshot: &Snapshot,
    sources: &[Source],
    store: Option<&s3::Store<'_>>,
    rows: &[Row],
    ranges: &IpRanges,
    progress: bool,
) -> Result<Attribution> {
    attribute_in_ranges(
        snapshot,
        sources,
        store,
        rows,
        ranges,
        progress,
        RANGE_BYTES,
    )
}

pub(super) fn attribute_in_ranges(
    snapshot: &Snapshot,
    files: &[Source],
    store: Option<&s3::Store<'_>>,
    rows: &[Row],
    ranges: &IpRanges,
    progress: bool,
    range_bytes: u64,
) -> Result<Attribution> {
    let scan = Scan::new(snapshot)?;
    let mut part = read::read_all(&scan, files, store, progress, range_bytes);
    scan.rows(rows, &mut part);
    if part.counted.is_none() {
        bail!(
            "flow logs: the bytes counted pass 2^64 (18 EB), far more than NAT gateways carry: the records are corrupt"
        );
    }
    Ok(finish(snapshot, scan.sides, part, ranges))
}

impl Destination {
    pub(super) fn classify(ranges: &IpRanges, region: &str, ip: IpAddr) -> Destination {
        match ranges.lookup(ip) {
            None => Destination::Internet,
            Some(r) if r.region != region => Destination::AwsElsewhere,
            Some(r) => match r.service.as_str() {
                "S3" => Destination::S3,
                "DYNAMODB" => Destination::DynamoDb,
                // Many services share AMAZON's prefixes: the name looked up tells which.
                "AMAZON" => match ranges.named(region, ip) {
                    Some(service) => Destination::AwsService(service.to_ascii_uppercase()),
                    None => Destination::AwsService("AMAZON".into()),
                },
                other => Destination::AwsService(other.to_string()),
            },
        }
    }
}

/// What a shared ENI's bytes are split by.
pub const SPLIT_METHOD: &str =
    "estimated: each function's share of the functions' summed AWS/Lambda Duration over the window";

/// `bytes` split in proportion to `weights`, in whole bytes that add up to `bytes` exactly (the
/// remainder goes to the largest weight).
fn split(bytes: u64, weights: &[f64]) -> Vec<u64> {
    let total: f64 = weights.iter().sum();
    let mut out: Vec<u64> = weights
        .iter()
        .map(|w| (bytes as f64 * w / total).floor() as u64)
        .collect();
    let rest = bytes - out.iter().sum::<u64>().min(bytes);
    // max_by keeps the last of equals: reversed, that is the first.
    if let Some(i) = (0..weights.len())
        .rev()
        .max_by(|a, b| weights[*a].total_cmp(&weights[*b]))
    {
        out[i] += rest;
    }
    out
}

/// A shared Lambda ENI's bytes split between its functions by their Duration: each
/// function's name, Duration (ms) and bytes.
fn split_shared(fns: &[(String, f64)], bytes: u64) -> impl Iterator<Item = (&String, f64, u64)> {
    let weights: Vec<f64> = fns.iter().map(|(_, ms)| *ms).collect();
    fns.iter()
        .zip(split(bytes, &weights))
        .map(|((name, ms), b)| (name, *ms, b))
}

/// The sources a client address's bytes (of the window, or of one `day`) belong to: its
/// owner, or the functions sharing its Lambda ENI, split by their Duration (that day's where
/// known).
fn owned(
    owner: &Owners,
    at: (&str, IpAddr),
    subnet: Option<&str>,
    bytes: u64,
    day: Option<NaiveDate>,
) -> Vec<(SourceRef, u64)> {
    match owner.shared.get(&at) {
        Some(shared) => {
            let on_day = day.and_then(|d| shared.on(d));
            split_shared(on_day.as_deref().unwrap_or(&shared.fns), bytes)
                .filter_map(|(name, _, b)| Some((owner.functions.get(name)?.clone(), b)))
                .collect()
        }
        None => vec![(owner.source(at, subnet), bytes)],
    }
}

/// Per region, the S3 and DynamoDB prefix lists the snapshot holds, as (network, mask,
/// destination): what a gateway endpoint would take, so they win over ip-ranges.json.
fn prefix_list_nets(snapshot: &Snapshot) -> Vec<Vec<(u32, u32, Destination)>> {
    snapshot
        .regions
        .iter()
        .map(|r| {
            r.prefix_lists
                .iter()
                .filter_map(|pl| {
                    let d = match pl.service() {
                        "s3" => Destination::S3,
                        "dynamodb" => Destination::DynamoDb,
                        _ => return None,
                    };
                    Some(
                        pl.cidrs
                            .iter()
                            .filter_map(move |c| cidr(c).map(|(net, mask)| (net, mask, d.clone()))),
                    )
                })
                .flatten()
                .collect()
        })
        .collect()
}

fn in_prefix_list(nets: &[(u32, u32, Destination)], ip: IpAddr) -> Option<Destination> {
    let IpAddr::V4(a) = ip else { return None };
    let a = u32::from(a);
    nets.iter()
        .find(|(net, mask, _)| a & mask == *net)
        .map(|(_, _, d)| d.clone())
}

fn finish(
    snapshot: &Snapshot,
    sides: Vec<NatSide>,
    part: Partial,
    ranges: &IpRanges,
) -> Attribution {
    let owners: Vec<Owners> = snapshot.regions.iter().map(Owners::new).collect();
    let mut nats: Vec<NatTraffic> = sides
        .iter()
        .map(|s| NatTraffic {
            region: snapshot.regions[s.region].region.clone(),
            nat_gateway_id: s.nat_gateway_id.clone(),
            destination_bytes: 0,
            destinations: BTreeMap::new(),
            source_bytes: 0,
            sources: Vec::new(),
            pairs: Vec::new(),
            first_seen: None,
            last_seen: None,
            source_subnets: BTreeMap::new(),
            shared_splits: Vec::new(),
            by_source: Vec::new(),
            daily_sources: BTreeMap::new(),
        })
        .collect();
    for (n, (a, b)) in &part.span {
        nats[*n].first_seen = DateTime::from_timestamp(*a, 0);
        nats[*n].last_seen = DateTime::from_timestamp(*b, 0);
    }
    let gateway_lists = prefix_list_nets(snapshot);
    let mut class_cache: HashMap<(usize, IpAddr), Destination> = HashMap::new();
    let mut classify = |n: usize, ip: IpAddr| {
        let ri = sides[n].region;
        let region = &snapshot.regions[ri].region;
        class_cache
            .entry((ri, ip))
            .or_insert_with(|| {
                in_prefix_list(&gateway_lists[ri], ip)
                    .unwrap_or_else(|| Destination::classify(ranges, region, ip))
            })
            .clone()
    };
    for ((n, ip), bytes) in part.dest {
        let d = classify(n, ip);
        nats[n].destination_bytes += bytes;
        *nats[n].destinations.entry(d).or_default() += bytes;
    }
    let mut sources: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); nats.len()];
    type BySource = BTreeMap<(SourceRef, Option<String>), u64>;
    let mut by_source: Vec<BySource> = vec![BTreeMap::new(); nats.len()];
    // Only the shared ENIs that actually sent traffic are worth a note.
    let mut ambiguous: Vec<String> = Vec::new();
    for ((n, ip), bytes) in part.src {
        nats[n].source_bytes += bytes;
        let subnet = sides[n].subnet_of(ip);
        if let Some(subnet) = subnet {
            *nats[n]
                .source_subnets
                .entry(subnet.to_string())
                .or_default() += bytes;
        }
        let owner = &owners[sides[n].region];
        let at = (sides[n].vpc_id.as_str(), ip);
        for (source, b) in owned(owner, at, subnet, bytes, None) {
            *by_source[n]
                .entry((source, subnet.map(str::to_string)))
                .or_default() += b;
        }
        ambiguous.extend(owner.ambiguous.get(&at).cloned());
        match owner.shared.get(&at) {
            Some(shared) => {
                let total: f64 = shared.fns.iter().map(|(_, ms)| ms).sum();
                let mut shares = Vec::new();
                for (name, ms, b) in split_shared(&shared.fns, bytes) {
                    *sources[n]
                        .entry(format!("{name} (est., shared ENI)"))
                        .or_default() += b;
                    shares.push(SplitShare {
                        function_name: name.clone(),
                        duration_ms: ms,
                        share: ms / total,
                        bytes: b,
                    });
                }
                nats[n].shared_splits.push(SharedSplit {
                    network_interface_id: shared.eni.clone(),
                    bytes,
                    method: SPLIT_METHOD,
                    functions: shares,
                });
            }
            None => *sources[n].entry(owner.name(at)).or_default() += bytes,
        }
    }
    type Daily = BTreeMap<(NaiveDate, SourceRef, Option<String>), u64>;
    let mut daily: Vec<Daily> = vec![BTreeMap::new(); nats.len()];
    for ((n, ip, day), bytes) in part.src_days {
        let Some(date) = DateTime::from_timestamp(day * 86_400, 0).map(|t| t.date_naive()) else {
            continue;
        };
        let subnet = sides[n].subnet_of(ip);
        let at = (sides[n].vpc_id.as_str(), ip);
        for (source, b) in owned(&owners[sides[n].region], at, subnet, bytes, Some(date)) {
            *daily[n]
                .entry((date, source, subnet.map(str::to_string)))
                .or_default() += b;
        }
    }
    let mut pairs: Vec<BTreeMap<(String, Destination), u64>> = vec![BTreeMap::new(); nats.len()];
    for ((n, client, remote), bytes) in part.pairs {
        let at = (sides[n].vpc_id.as_str(), client);
        let key = (owners[sides[n].region].name(at), classify(n, remote));
        *pairs[n].entry(key).or_default() += bytes;
    }
    for (i, nat) in nats.iter_mut().enumerate() {
        let mut s: Vec<(String, u64)> = std::mem::take(&mut sources[i]).into_iter().collect();
        s.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        nat.sources = s;
        let mut p: Vec<(String, Destination, u64)> = std::mem::take(&mut pairs[i])
            .into_iter()
            .map(|((s, d), b)| (s, d, b))
            .collect();
        p.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        nat.pairs = p;
        let mut b: Vec<SourceBytes> = std::mem::take(&mut by_source[i])
            .into_iter()
            .map(|((source, subnet), bytes)| SourceBytes {
                source,
                subnet,
                bytes,
            })
            .collect();
        b.sort_by(|x, y| y.bytes.cmp(&x.bytes).then_with(|| x.source.cmp(&y.source)));
        nat.by_source = b;
        for ((date, source, subnet), bytes) in std::mem::take(&mut daily[i]) {
            nat.daily_sources
                .entry(date)
                .or_default()
                .push(SourceBytes {
                    source,
                    subnet,
                    bytes,
                });
        }
    }
    nats.retain(|n| n.destination_bytes > 0 || n.source_bytes > 0);
    ambiguous.sort();
    ambiguous.dedup();
    let mut stats = part.stats;
    stats.corrupt_examples.sort();
    stats.corrupt_examples.truncate(5);
    stats.failed_files.sort();
    stats.failed_gets.sort();
    Attribution {
        nats,
        stats,
        ambiguous,
        ip_ranges: format!(
            "ip-ranges.json of {} (syncToken {})",
            ranges.create_date, ranges.sync_token
        ),
        read_from: Vec::new(),
        api_calls: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two VPCs reuse 10.0.0.0/16: the same client address is fn-a's in vpc-1 and an ECS
    /// task's in vpc-2. Bytes through vpc-2's NAT gateway are the task's.
    #[test]
    fn a_client_address_is_looked_up_in_its_nat_gateways_vpc() {
        use crate::fixture::Fixture;
        use crate::snapshot::NetworkInterface;
        use crate::traffic::SourceKind;
        let mut f = Fixture::new();
        f.vpc("vpc-1")
            .vpc("vpc-2")
            .subnet("s-1", "vpc-1", "ap-northeast-2a")
            .subnet("s-2", "vpc-2", "ap-northeast-2a")
            .nat("nat-1", "vpc-1", "ap-northeast-2a", 1.0)
            .nat("nat-2", "vpc-2", "ap-northeast-2a", 1.0)
            .lambda("fn-a", &["s-1"]);
        for s in &mut f.r.subnets {
            s.cidr_block = Some("10.0.1.0/24".into());
        }
        for (i, n) in f.r.nat_gateways.iter_mut().enumerate() {
            n.addresses[0].private_ip = Some(format!("10.0.0.{}", i + 10));
            n.addresses[0].network_interface_id = Some(format!("eni-nat-{}", i + 1));
        }
        let client = |id: &str, kind: &str, subnet: &str, vpc: &str, desc: &str| NetworkInterface {
            network_interface_id: id.into(),
            interface_type: kind.into(),
            description: Some(desc.into()),
            subnet_id: subnet.into(),
            vpc_id: vpc.into(),
            private_ip_address: Some("10.0.1.5".into()),
            ..Default::default()
        };
        // vpc-1's interface comes last: keyed by address alone, it would win.
        f.r.network_interfaces.extend([
            client("eni-task", "interface", "s-2", "vpc-2", "ecs task"),
            client(
                "eni-fn",
                "lambda",
                "s-1",
                "vpc-1",
                "AWS Lambda VPC ENI-fn-a",
            ),
        ]);
        let snapshot = f.snapshot();
        let row = Row {
            interface_id: "eni-nat-2".into(),
            src: "10.0.1.5".parse().unwrap(),
            dst: "10.0.0.11".parse().unwrap(),
            pkt_src: None,
            pkt_dst: None,
            bytes: 1000,
            records: 1,
            first: None,
            last: None,
            by_day: true,
        };
        let ranges =
            IpRanges::parse(r#"{"syncToken":"1","createDate":"x","prefixes":[]}"#).unwrap();
        // Dated rows: records all starting on 2026-10-02, and some spanning two days (undated).
        let day2 = crate::fixture::start().timestamp() + 86_400;
        let dated = |bytes, first: i64, last: i64| Row {
            bytes,
            first: Some(first),
            last: Some(last),
            ..row.clone()
        };
        let rows = [
            row.clone(),
            dated(200, day2 + 60, day2 + 86_399),
            dated(30, day2 - 60, day2 + 60),
        ];
        let a = attribute_sources(&snapshot, &[], None, &rows, &ranges, false).unwrap();
        let t = a.nat("nat-2").expect("nat-2's bytes");
        assert_eq!(t.by_source.len(), 1);
        assert_eq!(t.by_source[0].source.kind, SourceKind::Eni);
        assert_eq!(t.by_source[0].source.id, "eni-task");
        assert_eq!(t.by_source[0].bytes, 1230);
        assert_eq!(t.sources[0].0, "other ENIs in s-2");
        let days: Vec<(String, &str, u64)> = t
            .daily_sources
            .iter()
            .flat_map(|(d, l)| {
                l.iter()
                    .map(move |b| (d.to_string(), b.source.id.as_str(), b.bytes))
            })
            .collect();
        assert_eq!(days, [("2026-10-02".to_string(), "eni-task", 200)]);
    }

    /// fn-a, fn-b and fn-c share a Lambda ENI: the window's bytes split by their window
    /// Durations (50/50/0), a day's by that day's (90/10 on the first day; fn-b alone on the
    /// second).
    #[test]
    fn a_shared_lambda_enis_day_is_split_by_that_days_duration() {
        use crate::fixture::Fixture;
        use crate::snapshot::NetworkInterface;
        let mut f = Fixture::new();
        f.vpc("vpc-1")
            .subnet("s-1", "vpc-1", "ap-northeast-2a")
            .nat("nat-1", "vpc-1", "ap-northeast-2a", 1.0)
            .lambda("fn-a", &["s-1"])
            .lambda("fn-b", &["s-1"])
            .lambda("fn-c", &["s-1"]);
        f.r.subnets[0].cidr_block = Some("10.0.1.0/24".into());
        f.r.nat_gateways[0].addresses[0].private_ip = Some("10.0.0.10".into());
        f.r.nat_gateways[0].addresses[0].network_interface_id = Some("eni-nat".into());
        let (day1, day2) = (
            crate::fixture::start().date_naive(),
            crate::fixture::start().date_naive() + chrono::Duration::days(1),
        );
        for (fun, days) in
            f.r.lambda_functions
                .iter_mut()
                .zip([vec![(day1, 90.0)], vec![(day1, 10.0), (day2, 80.0)]])
        {
            fun.duration_ms = Some(100.0);
            fun.duration_ms_by_day = days.into_iter().collect();
        }
        // fn-c never ran: no day of it, which is no reason to split the others' days by the
        // window.
        f.r.lambda_functions[2].duration_ms = Some(0.0);
        f.r.network_interfaces.push(NetworkInterface {
            network_interface_id: "eni-fn".into(),
            interface_type: "lambda".into(),
            subnet_id: "s-1".into(),
            vpc_id: "vpc-1".into(),
            private_ip_address: Some("10.0.1.5".into()),
            ..Default::default()
        });
        let snapshot = f.snapshot();
        let start = crate::fixture::start().timestamp();
        let row = |bytes, at: i64| Row {
            interface_id: "eni-nat".into(),
            src: "10.0.1.5".parse().unwrap(),
            dst: "10.0.0.10".parse().unwrap(),
            pkt_src: None,
            pkt_dst: None,
            bytes,
            records: 1,
            first: Some(at),
            last: Some(at),
            by_day: true,
        };
        let rows = [row(1000, start + 60), row(400, start + 86_400 + 60)];
        let ranges =
            IpRanges::parse(r#"{"syncToken":"1","createDate":"x","prefixes":[]}"#).unwrap();
        let a = attribute_sources(&snapshot, &[], None, &rows, &ranges, false).unwrap();
        let t = a.nat("nat-1").expect("nat-1's bytes");
        let window: Vec<(&str, u64)> = t
            .by_source
            .iter()
            .map(|b| (b.source.name.as_str(), b.bytes))
            .filter(|(_, b)| *b > 0)
            .collect();
        assert_eq!(window, [("fn-a", 700), ("fn-b", 700)]);
        let days: Vec<(NaiveDate, &str, u64)> = t
            .daily_sources
            .iter()
            .flat_map(|(d, l)| l.iter().map(move |b| (*d, b.source.name.as_str(), b.bytes)))
            .filter(|(_, _, b)| *b > 0)
            .collect();
        assert_eq!(
            days,
            [
                (day1, "fn-a", 900),
                (day1, "fn-b", 100),
                (day2, "fn-b", 400)
            ]
        );
    }

    #[test]
    fn a_split_adds_up_to_the_byte() {
        assert_eq!(split(100, &[3.0, 1.0]), [75, 25]);
        assert_eq!(split(10, &[1.0, 1.0, 1.0]), [4, 3, 3]);
        assert_eq!(split(7, &[0.0, 2.0]), [0, 7]);
    }
}

//! Synthetic VPC Flow Logs with known ground truth, for tests and the benchmark: for every
//! function behind a NAT gateway of a snapshot, connections to S3, DynamoDB, another AWS
//! service, AWS elsewhere and the internet, written as AWS writes them (the client's ENI, the
//! NAT ENI's inside and outside legs, replies), plus NODATA, REJECT and foreign-ENI lines.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::ipranges::IpRanges;
use super::Destination;
use crate::snapshot::Snapshot;

#[derive(Debug, Clone)]
pub struct Options {
    /// A custom format with a header and pkt-srcaddr/pkt-dstaddr (else the default v2 format).
    pub custom_format: bool,
    /// Stop after about this many bytes of text.
    pub target_bytes: u64,
    pub files: usize,
    pub gzip: bool,
    /// Corrupt lines to slip in (counted in the truth).
    pub corrupt_lines: u64,
    pub seed: u64,
}

/// What natcost must find.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Truth {
    /// NAT gateway → destination → bytes (outside leg, both directions).
    pub destinations: BTreeMap<String, BTreeMap<Destination, u64>>,
    /// NAT gateway → source label → bytes (inside leg, both directions).
    pub sources: BTreeMap<String, BTreeMap<String, u64>>,
    /// `sources` by the UTC day of the records' start: (NAT gateway, day) → source label → bytes.
    pub daily_sources: BTreeMap<(String, chrono::NaiveDate), BTreeMap<String, u64>>,
    pub corrupt_lines: u64,
    pub text_bytes: u64,
    pub files: Vec<PathBuf>,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 17
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// An address inside some prefix of `service` in `region` that ip-ranges resolves to exactly that.
fn address_of(ranges: &IpRanges, text: &str, want: &Destination, region: &str) -> Result<IpAddr> {
    let file: serde_json::Value = serde_json::from_str(text)?;
    for p in file["prefixes"].as_array().context("no prefixes")? {
        let prefix = p["ip_prefix"].as_str().unwrap_or_default();
        let Some((base, _)) = prefix.split_once('/') else {
            continue;
        };
        let Ok(base) = base.parse::<Ipv4Addr>() else {
            continue;
        };
        let ip = IpAddr::V4(Ipv4Addr::from(u32::from(base) + 7));
        if &Destination::classify(ranges, region, ip) == want {
            return Ok(ip);
        }
    }
    anyhow::bail!("no address of {want:?} for {region} in ip-ranges")
}

struct Client {
    nat: usize,
    ip: IpAddr,
    label: String,
    eni: String,
}

/// Writes flow-log files under `dir` (AWSLogs/<account>/vpcflowlogs/<region>/...) and returns
/// the truth.
pub fn generate(
    snapshot: &Snapshot,
    ranges: &IpRanges,
    ranges_text: &str,
    dir: &Path,
    opts: &Options,
) -> Result<Truth> {
    let region = snapshot.regions.first().context("no region")?;
    let r = region.region.as_str();
    let topo = crate::topology::Topology::new(region);
    let mut dests: Vec<(Destination, IpAddr, u64)> = Vec::new();
    for (d, weight) in [
        (Destination::S3, 50),
        (Destination::DynamoDb, 10),
        (Destination::AwsService("AMAZON".into()), 10),
        (Destination::AwsElsewhere, 5),
    ] {
        let ip = address_of(ranges, ranges_text, &d, r)?;
        dests.push((d, ip, weight));
    }
    let internet: IpAddr = "203.0.113.9".parse().unwrap();
    anyhow::ensure!(
        ranges.lookup(internet).is_none(),
        "203.0.113.9 is in ip-ranges"
    );
    dests.push((Destination::Internet, internet, 25));

    // NAT gateways (ENI, private IP) and the clients behind them.
    let mut nats: Vec<(String, String, IpAddr)> = Vec::new();
    let mut clients: Vec<Client> = Vec::new();
    for nat in region
        .nat_gateways
        .iter()
        .filter(|n| n.delete_time.is_none())
    {
        let Some(a) = nat.addresses.first() else {
            continue;
        };
        let (Some(eni), Some(ip)) = (
            a.network_interface_id.clone(),
            a.private_ip.as_deref().and_then(|i| i.parse().ok()),
        ) else {
            continue;
        };
        let n = nats.len();
        nats.push((nat.nat_gateway_id.clone(), eni, ip));
        for e in &region.network_interfaces {
            if topo.nat_for_subnet(&e.subnet_id) != Some(nat.nat_gateway_id.as_str()) {
                continue;
            }
            let Some(ip) = e.private_ip_address.as_deref().and_then(|i| i.parse().ok()) else {
                continue;
            };
            let label = if e.interface_type == "lambda" {
                let desc = e.description.as_deref().unwrap_or_default();
                region
                    .lambda_functions
                    .iter()
                    .filter(|f| {
                        desc.starts_with(&format!("AWS Lambda VPC ENI-{}-", f.function_name))
                    })
                    .max_by_key(|f| f.function_name.len())
                    .map(|f| f.function_name.clone())
                    .unwrap_or_else(|| e.network_interface_id.clone())
            } else {
                let subnet = region
                    .subnets
                    .iter()
                    .find(|s| s.subnet_id == e.subnet_id)
                    .and_then(|s| s.tags.get("Name"))
                    .cloned()
                    .unwrap_or_else(|| e.subnet_id.clone());
                format!("other ENIs in {subnet}")
            };
            clients.push(Client {
                nat: n,
                ip,
                label,
                eni: e.network_interface_id.clone(),
            });
        }
    }
    anyhow::ensure!(
        !clients.is_empty(),
        "no client behind a NAT gateway in the snapshot"
    );

    let account = &region.account_id;
    let day = snapshot.window.start + chrono::Duration::days(3);
    let folder = dir.join(format!(
        "AWSLogs/{account}/vpcflowlogs/{r}/{}",
        day.format("%Y/%m/%d")
    ));
    std::fs::create_dir_all(&folder)?;
    let header = if opts.custom_format {
        "version account-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction traffic-path pkt-src-aws-service pkt-dst-aws-service\n"
    } else {
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
    };
    let mut truth = Truth::default();
    let mut rng = Rng(opts.seed);
    let span = (snapshot.window.end - snapshot.window.start)
        .num_seconds()
        .max(120) as u64;
    let start0 = snapshot.window.start.timestamp() as u64;
    let per_file = opts.target_bytes / opts.files.max(1) as u64;
    let mut corrupt_left = opts.corrupt_lines;
    let mut line = String::with_capacity(256);
    let total_weight: u64 = dests.iter().map(|d| d.2).sum();
    let eni_of: HashMap<usize, &str> = nats
        .iter()
        .enumerate()
        .map(|(i, n)| (i, n.1.as_str()))
        .collect();
    // Named for the region's flow log, as AWS names delivered files.
    let flow_log = region
        .flow_logs
        .first()
        .map(|f| f.flow_log_id.as_str())
        .unwrap_or("fl-0a1b2c3d4e5f60789");
    for f in 0..opts.files.max(1) {
        let name = format!(
            "{account}_vpcflowlogs_{r}_{flow_log}_{}_{f:04x}.log{}",
            day.format("%Y%m%dT%H%MZ"),
            if opts.gzip { ".gz" } else { "" }
        );
        let path = folder.join(name);
        let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
        let mut out: Box<dyn Write> = if opts.gzip {
            Box::new(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::default(),
            ))
        } else {
            Box::new(file)
        };
        out.write_all(header.as_bytes())?;
        let mut written = header.len() as u64;
        while written < per_file {
            let c = &clients[rng.below(clients.len() as u64) as usize];
            let mut pick = rng.below(total_weight);
            let (dest, remote, _) = dests
                .iter()
                .find(|d| {
                    if pick < d.2 {
                        true
                    } else {
                        pick -= d.2;
                        false
                    }
                })
                .unwrap();
            let (nat_id, nat_eni, nat_ip) = &nats[c.nat];
            let req = 200 + rng.below(4000);
            let resp = 500 + rng.below(200_000);
            let start = start0 + rng.below(span - 60);
            let port = 32768 + rng.below(28000);
            let mut emit = |eni: &str,
                            src: IpAddr,
                            dst: IpAddr,
                            psrc: IpAddr,
                            pdst: IpAddr,
                            bytes: u64,
                            out: &mut Box<dyn Write>|
             -> Result<u64> {
                line.clear();
                use std::fmt::Write as _;
                let packets = bytes / 1000 + 1;
                if opts.custom_format {
                    let _ = writeln!(
                        line,
                        "5 {account} {eni} {src} {dst} {psrc} {pdst} {port} 443 6 {packets} {bytes} {start} {} ACCEPT OK ingress 1 - -",
                        start + 60
                    );
                } else {
                    let _ = writeln!(line, "2 {account} {eni} {src} {dst} {port} 443 6 {packets} {bytes} {start} {} ACCEPT OK", start + 60);
                }
                out.write_all(line.as_bytes())?;
                Ok(line.len() as u64)
            };
            // The client's own ENI sees the original destination; natcost must not count it.
            written += emit(&c.eni, c.ip, *remote, c.ip, *remote, req, &mut out)?;
            written += emit(&c.eni, *remote, c.ip, *remote, c.ip, resp, &mut out)?;
            // The NAT ENI, inside leg (packet addresses name the real ends)...
            written += emit(nat_eni, c.ip, *nat_ip, c.ip, *remote, req, &mut out)?;
            written += emit(nat_eni, *nat_ip, c.ip, *remote, c.ip, resp, &mut out)?;
            // ...and outside leg.
            written += emit(nat_eni, *nat_ip, *remote, *nat_ip, *remote, req, &mut out)?;
            written += emit(nat_eni, *remote, *nat_ip, *remote, *nat_ip, resp, &mut out)?;
            *truth
                .destinations
                .entry(nat_id.clone())
                .or_default()
                .entry(dest.clone())
                .or_default() += req + resp;
            *truth
                .sources
                .entry(nat_id.clone())
                .or_default()
                .entry(c.label.clone())
                .or_default() += req + resp;
            let day = chrono::DateTime::from_timestamp(start as i64, 0)
                .expect("a start in the window")
                .date_naive();
            *truth
                .daily_sources
                .entry((nat_id.clone(), day))
                .or_default()
                .entry(c.label.clone())
                .or_default() += req + resp;
            // Noise natcost must skip: NODATA, REJECT, and sometimes a corrupt line.
            if rng.below(8) == 0 {
                let eni = eni_of[&c.nat];
                let nodata = if opts.custom_format {
                    format!(
                        "5 {account} {eni} - - - - - - - - - {start} {} - NODATA - - - -\n",
                        start + 60
                    )
                } else {
                    format!(
                        "2 {account} {eni} - - - - - - - {start} {} - NODATA\n",
                        start + 60
                    )
                };
                out.write_all(nodata.as_bytes())?;
                written += nodata.len() as u64;
                let reject = if opts.custom_format {
                    format!("5 {account} {eni} {remote} {nat_ip} {remote} {nat_ip} 443 {port} 6 1 40 {start} {} REJECT OK ingress 1 - -\n", start + 60)
                } else {
                    format!("2 {account} {eni} {remote} {nat_ip} 443 {port} 6 1 40 {start} {} REJECT OK\n", start + 60)
                };
                out.write_all(reject.as_bytes())?;
                written += reject.len() as u64;
                if corrupt_left > 0 && rng.below(4) == 0 {
                    let bad = format!("2 {account} {eni} 10.0.0.1 garbage\n");
                    out.write_all(bad.as_bytes())?;
                    written += bad.len() as u64;
                    corrupt_left -= 1;
                    truth.corrupt_lines += 1;
                }
            }
        }
        out.flush()?;
        drop(out);
        truth.text_bytes += written;
        truth.files.push(path);
    }
    Ok(truth)
}

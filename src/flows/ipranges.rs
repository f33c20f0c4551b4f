//! AWS's published ip-ranges.json, matched by longest prefix.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

/// Where an address belongs: an AWS service in a region (`GLOBAL` for global services).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsRange {
    pub region: String,
    /// The most specific service name listed for the prefix (`S3` over `AMAZON`).
    pub service: String,
}

#[derive(Deserialize)]
struct File {
    #[serde(rename = "syncToken")]
    sync_token: String,
    #[serde(rename = "createDate")]
    create_date: String,
    prefixes: Vec<V4>,
    #[serde(default)]
    ipv6_prefixes: Vec<V6>,
}

#[derive(Deserialize)]
struct V4 {
    ip_prefix: String,
    region: String,
    service: String,
}

#[derive(Deserialize)]
struct V6 {
    ipv6_prefix: String,
    region: String,
    service: String,
}

pub struct IpRanges {
    pub create_date: String,
    pub sync_token: String,
    /// (prefix length, masked address) → range, for lengths present, longest first.
    v4: Vec<(u8, HashMap<u32, AwsRange>)>,
    v6: Vec<(u8, HashMap<u128, AwsRange>)>,
    /// The services Route 53 Resolver query logs name for addresses listed only as AMAZON.
    names: super::resolver::DnsNames,
}

/// Which name a prefix listed under several services is counted as: S3 or DYNAMODB first (a
/// gateway endpoint takes every prefix of its service's prefix list, whatever else lists it),
/// then any specific service, and `AMAZON`, the superset of them all, last.
fn rank(service: &str) -> u8 {
    match service {
        "S3" | "DYNAMODB" => 2,
        "AMAZON" => 0,
        _ => 1,
    }
}

fn better(new: &str, old: &str) -> bool {
    rank(new) > rank(old)
}

fn insert<K: std::hash::Hash + Eq>(
    tables: &mut Vec<(u8, HashMap<K, AwsRange>)>,
    len: u8,
    key: K,
    range: AwsRange,
) {
    let table = match tables.iter_mut().position(|(l, _)| *l == len) {
        Some(i) => &mut tables[i].1,
        None => {
            tables.push((len, HashMap::new()));
            &mut tables.last_mut().unwrap().1
        }
    };
    match table.get(&key) {
        Some(old) if !better(&range.service, &old.service) => {}
        _ => {
            table.insert(key, range);
        }
    }
}

fn mask32(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len as u32)
    }
}

fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - len as u32)
    }
}

/// Where AWS publishes the file.
pub const URL: &str = "https://ip-ranges.amazonaws.com/ip-ranges.json";

/// The cached copy at `cache`, downloaded from AWS (or `$NATCOST_IP_RANGES_URL`) the first time.
pub fn cached_or_download(cache: &Path) -> Result<IpRanges> {
    if cache.exists() {
        return IpRanges::load(cache);
    }
    let url = std::env::var("NATCOST_IP_RANGES_URL").unwrap_or_else(|_| URL.to_string());
    eprintln!(
        "natcost: downloading {url} (once; cached as {})",
        cache.display()
    );
    let text = ureq::get(&url)
        .call()
        .and_then(|mut r| r.body_mut().with_config().limit(64 << 20).read_to_string())
        .with_context(|| {
            format!(
                "cannot download {url}: pass --ip-ranges FILE, or save it as {}",
                cache.display()
            )
        })?;
    let ranges =
        IpRanges::parse(&text).with_context(|| format!("{url} is not AWS's ip-ranges.json"))?;
    if let Some(dir) = cache.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::output::write_file(cache, text.as_bytes())?;
    Ok(ranges)
}

impl IpRanges {
    pub fn load(path: &Path) -> Result<IpRanges> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read ip-ranges {}", path.display()))?;
        IpRanges::parse(&text).with_context(|| format!("ip-ranges {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<IpRanges> {
        let file: File = serde_json::from_str(text).context("not AWS's ip-ranges.json format")?;
        let mut v4 = Vec::new();
        for p in &file.prefixes {
            let (addr, len) = p
                .ip_prefix
                .split_once('/')
                .with_context(|| format!("bad prefix {}", p.ip_prefix))?;
            let addr: Ipv4Addr = addr
                .parse()
                .with_context(|| format!("bad prefix {}", p.ip_prefix))?;
            let len: u8 = len
                .parse()
                .ok()
                .filter(|l| *l <= 32)
                .with_context(|| format!("bad prefix {}", p.ip_prefix))?;
            let range = AwsRange {
                region: p.region.clone(),
                service: p.service.clone(),
            };
            insert(&mut v4, len, u32::from(addr) & mask32(len), range);
        }
        let mut v6 = Vec::new();
        for p in &file.ipv6_prefixes {
            let (addr, len) = p
                .ipv6_prefix
                .split_once('/')
                .with_context(|| format!("bad prefix {}", p.ipv6_prefix))?;
            let addr: Ipv6Addr = addr
                .parse()
                .with_context(|| format!("bad prefix {}", p.ipv6_prefix))?;
            let len: u8 = len
                .parse()
                .ok()
                .filter(|l| *l <= 128)
                .with_context(|| format!("bad prefix {}", p.ipv6_prefix))?;
            let range = AwsRange {
                region: p.region.clone(),
                service: p.service.clone(),
            };
            insert(&mut v6, len, u128::from(addr) & mask128(len), range);
        }
        v4.sort_by_key(|(l, _)| std::cmp::Reverse(*l));
        v6.sort_by_key(|(l, _)| std::cmp::Reverse(*l));
        Ok(IpRanges {
            create_date: file.create_date,
            sync_token: file.sync_token,
            v4,
            v6,
            names: Default::default(),
        })
    }

    /// With the services the query logs name for AMAZON addresses.
    pub fn with_names(self, names: super::resolver::DnsNames) -> IpRanges {
        IpRanges { names, ..self }
    }

    /// The one service the query logs name for an address in a region.
    pub fn named(&self, region: &str, ip: std::net::IpAddr) -> Option<&str> {
        self.names.service(region, ip)
    }

    /// The longest AWS prefix holding this address, if any.
    pub fn lookup(&self, ip: IpAddr) -> Option<&AwsRange> {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4
                    .iter()
                    .find_map(|(len, t)| t.get(&(a & mask32(*len))))
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6
                    .iter()
                    .find_map(|(len, t)| t.get(&(a & mask128(*len))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"{"syncToken": "1", "createDate": "2026-08-22-15-17-05", "prefixes": [
        {"ip_prefix": "52.92.0.0/16", "region": "ap-northeast-2", "service": "AMAZON", "network_border_group": "ap-northeast-2"},
        {"ip_prefix": "52.92.0.0/20", "region": "ap-northeast-2", "service": "AMAZON", "network_border_group": "ap-northeast-2"},
        {"ip_prefix": "52.92.0.0/20", "region": "ap-northeast-2", "service": "S3", "network_border_group": "ap-northeast-2"},
        {"ip_prefix": "13.248.0.0/24", "region": "GLOBAL", "service": "AMAZON", "network_border_group": "GLOBAL"}],
        "ipv6_prefixes": [{"ipv6_prefix": "2406:da00::/24", "region": "ap-northeast-2", "service": "EC2", "network_border_group": "ap-northeast-2"}]}"#;

    #[test]
    fn longest_prefix_and_most_specific_service_win() {
        let r = IpRanges::parse(SMALL).unwrap();
        let at = |s: &str| r.lookup(s.parse().unwrap()).cloned();
        assert_eq!(at("52.92.1.2").unwrap().service, "S3");
        assert_eq!(at("52.92.200.2").unwrap().service, "AMAZON");
        assert_eq!(at("13.248.0.9").unwrap().region, "GLOBAL");
        assert_eq!(at("2406:da00::1").unwrap().service, "EC2");
        assert_eq!(at("8.8.8.8"), None);
    }

    /// A prefix listed as AMAZON, EC2 and DYNAMODB (as AWS lists 35.71.109.0/24 in Seoul) is
    /// DynamoDB's, in whatever order the file lists the three.
    #[test]
    fn a_multi_service_prefix_belongs_to_its_gateway_endpoint_service() {
        for order in [
            ["AMAZON", "EC2", "DYNAMODB"],
            ["DYNAMODB", "EC2", "AMAZON"],
            ["EC2", "DYNAMODB", "AMAZON"],
        ] {
            let entries: Vec<String> = order
                .iter()
                .map(|svc| {
                    format!(r#"{{"ip_prefix": "198.51.100.0/24", "region": "ap-northeast-2", "service": "{svc}"}}"#)
                })
                .collect();
            let file = format!(
                r#"{{"syncToken": "1", "createDate": "x", "prefixes": [{}]}}"#,
                entries.join(",")
            );
            let r = IpRanges::parse(&file).unwrap();
            let hit = r.lookup("198.51.100.7".parse().unwrap()).unwrap();
            assert_eq!(hit.service, "DYNAMODB", "{order:?}");
        }
    }

    /// How many S3 prefixes in Seoul a file has.
    fn seoul_s3(r: &IpRanges) -> usize {
        r.v4.iter()
            .flat_map(|(_, t)| t.values())
            .filter(|x| x.service == "S3" && x.region == "ap-northeast-2")
            .count()
    }

    #[test]
    fn the_committed_fixture_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ip-ranges-fixture.json");
        let r = IpRanges::load(&path).unwrap();
        assert_eq!(r.sync_token, "1767225600");
        assert_eq!(r.create_date, "2026-01-01-00-00-00");
        assert_eq!(seoul_s3(&r), 1);
        let at = |s: &str| r.lookup(s.parse().unwrap()).cloned().unwrap();
        // Longest prefix wins over the region of a shorter one, and S3 over AMAZON.
        assert_eq!(at("198.18.64.9").region, "us-east-1");
        assert_eq!(at("198.18.0.9").service, "S3");
        assert_eq!(at("198.18.200.9").service, "AMAZON");
        assert_eq!(at("2001:db8:100::9").service, "DYNAMODB");
    }

    /// AWS's published file, when given: `NATCOST_TEST_IP_RANGES=ip-ranges.json cargo test
    /// -- --ignored` (it is not committed).
    #[test]
    #[ignore = "needs NATCOST_TEST_IP_RANGES=path to AWS's ip-ranges.json"]
    fn the_published_file_loads() {
        let path = std::env::var("NATCOST_TEST_IP_RANGES")
            .expect("NATCOST_TEST_IP_RANGES=path to AWS's ip-ranges.json");
        let r = IpRanges::load(Path::new(&path)).unwrap();
        assert!(!r.sync_token.is_empty());
        assert!(seoul_s3(&r) > 0, "no S3 prefix in Seoul");
    }
}

//! The tallies: bytes per NAT gateway ENI by remote address (destinations) and by client
//! address (sources). One connection through a NAT shows up on several ENIs; each byte is
//! counted once, from the NAT ENI's outside leg or its inside leg.

use std::net::IpAddr;

use anyhow::{bail, Result};
use rustc_hash::FxHashMap;

use super::{parse, FlowStats};
use crate::snapshot::Snapshot;

pub(super) fn cidr(s: &str) -> Option<(u32, u32)> {
    let (a, l) = s.split_once('/')?;
    let a: std::net::Ipv4Addr = a.parse().ok()?;
    let l: u32 = l.parse().ok().filter(|l| *l <= 32)?;
    let mask = if l == 0 { 0 } else { u32::MAX << (32 - l) };
    Some((u32::from(a) & mask, mask))
}

const DAY: i64 = 86_400;

/// A NAT gateway's ENI as flow logs see it.
pub(super) struct NatSide {
    pub(super) region: usize,
    pub(super) nat_gateway_id: String,
    /// Client addresses are looked up in this VPC (VPCs may reuse ranges).
    pub(super) vpc_id: String,
    ips: Vec<IpAddr>,
    vpc_cidrs: Vec<(u32, u32)>,
    /// The VPC's subnets: (network, mask, subnet id), to place a client.
    subnets: Vec<(u32, u32, String)>,
}

impl NatSide {
    pub(super) fn subnet_of(&self, ip: IpAddr) -> Option<&str> {
        let IpAddr::V4(a) = ip else { return None };
        let a = u32::from(a);
        self.subnets
            .iter()
            .filter(|(net, mask, _)| a & mask == *net)
            .max_by_key(|(_, mask, _)| *mask)
            .map(|(_, _, id)| id.as_str())
    }

    fn in_vpc(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.vpc_cidrs.iter().any(|(net, mask)| a & mask == *net)
            }
            IpAddr::V6(_) => false,
        }
    }
}

pub(super) struct Partial {
    pub(super) dest: FxHashMap<(usize, IpAddr), u64>,
    pub(super) src: FxHashMap<(usize, IpAddr), u64>,
    pub(super) pairs: FxHashMap<(usize, IpAddr, IpAddr), u64>,
    /// Inside-leg bytes by client and UTC day (days since 1970-01-01) of the records that have
    /// one: a record's own start, or a row whose records all start on one day.
    pub(super) src_days: FxHashMap<(usize, IpAddr, i64), u64>,
    /// Per NAT side: the first and last record start (epoch seconds).
    pub(super) span: FxHashMap<usize, (i64, i64)>,
    pub(super) stats: FlowStats,
    /// Every byte counted above, each once: each tally is a part of it, so while it fits in a
    /// u64 none of them can wrap. None once it has overflowed.
    pub(super) counted: Option<u64>,
}

impl Default for Partial {
    fn default() -> Partial {
        Partial {
            dest: FxHashMap::default(),
            src: FxHashMap::default(),
            pairs: FxHashMap::default(),
            src_days: FxHashMap::default(),
            span: FxHashMap::default(),
            stats: FlowStats::default(),
            counted: Some(0),
        }
    }
}

fn widen(span: &mut FxHashMap<usize, (i64, i64)>, n: usize, from: i64, to: i64) {
    let e = span.entry(n).or_insert((from, to));
    e.0 = e.0.min(from);
    e.1 = e.1.max(to);
}

impl Partial {
    pub(super) fn merge(&mut self, o: Partial) {
        // Saturating: past u64 `counted` is None and the whole result is refused.
        for (k, v) in o.dest {
            let e = self.dest.entry(k).or_default();
            *e = e.saturating_add(v);
        }
        for (k, v) in o.src {
            let e = self.src.entry(k).or_default();
            *e = e.saturating_add(v);
        }
        for (k, v) in o.pairs {
            let e = self.pairs.entry(k).or_default();
            *e = e.saturating_add(v);
        }
        for (k, v) in o.src_days {
            let e = self.src_days.entry(k).or_default();
            *e = e.saturating_add(v);
        }
        for (n, (a, b)) in o.span {
            widen(&mut self.span, n, a, b);
        }
        self.counted = self
            .counted
            .zip(o.counted)
            .and_then(|(a, b)| a.checked_add(b));
        let s = &mut self.stats;
        s.files += o.stats.files;
        s.bytes_read += o.stats.bytes_read;
        s.lines += o.stats.lines;
        s.records += o.stats.records;
        s.skipped += o.stats.skipped;
        s.outside_window += o.stats.outside_window;
        s.corrupt_lines += o.stats.corrupt_lines;
        s.corrupt_examples.extend(o.stats.corrupt_examples);
        s.failed_files.extend(o.stats.failed_files);
        s.failed_gets.extend(o.stats.failed_gets);
    }
}

/// One row aggregated in AWS (Logs Insights, Athena): the bytes of one interface, source and
/// destination (and the packet's own addresses when the format has them) over a day, or over
/// a longer range.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub interface_id: String,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub pkt_src: Option<IpAddr>,
    pub pkt_dst: Option<IpAddr>,
    pub bytes: u64,
    pub records: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// Summed by day in AWS, so a row whose records start on one day dates its bytes to it;
    /// false for a row summed over a longer range (its span counts toward coverage, not toward
    /// any day: the records seen on one day may be the few of a pair that show up rarely).
    pub by_day: bool,
}

/// What every unit needs to count a record.
pub(super) struct Scan {
    by_eni: FxHashMap<Vec<u8>, usize>,
    pub(super) sides: Vec<NatSide>,
    window: (i64, i64),
}

impl Scan {
    /// The snapshot's NAT gateway ENIs (by ENI id) and its window.
    pub(super) fn new(snapshot: &Snapshot) -> Result<Scan> {
        let mut sides = Vec::new();
        let mut by_eni: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
        for (ri, r) in snapshot.regions.iter().enumerate() {
            for nat in &r.nat_gateways {
                let vpc_cidrs = r
                    .vpcs
                    .iter()
                    .filter(|v| v.vpc_id == nat.vpc_id)
                    .flat_map(|v| v.cidr_blocks.iter().filter_map(|c| cidr(c)))
                    .collect();
                let ips = nat
                    .addresses
                    .iter()
                    .filter_map(|a| a.private_ip.as_deref()?.parse().ok())
                    .collect();
                for eni in nat
                    .addresses
                    .iter()
                    .filter_map(|a| a.network_interface_id.as_deref())
                {
                    by_eni.insert(eni.as_bytes().to_vec(), sides.len());
                }
                let subnets = r
                    .subnets
                    .iter()
                    .filter(|s| s.vpc_id == nat.vpc_id)
                    .filter_map(|s| {
                        let (net, mask) = cidr(s.cidr_block.as_deref()?)?;
                        Some((net, mask, s.subnet_id.clone()))
                    })
                    .collect();
                sides.push(NatSide {
                    region: ri,
                    nat_gateway_id: nat.nat_gateway_id.clone(),
                    vpc_id: nat.vpc_id.clone(),
                    ips,
                    vpc_cidrs,
                    subnets,
                });
            }
        }
        if by_eni.is_empty() {
            bail!("the snapshot names no NAT gateway network interface: nothing to attribute");
        }
        let window = (
            snapshot.window.start.timestamp(),
            snapshot.window.end.timestamp(),
        );
        Ok(Scan {
            by_eni,
            sides,
            window,
        })
    }

    /// Counts the rows aggregated in AWS (Logs Insights, Athena).
    pub(super) fn rows(&self, rows: &[Row], part: &mut Partial) {
        for row in rows {
            let records = row.records.max(1);
            part.stats.lines += records;
            let rec = parse::Record {
                interface_id: row.interface_id.as_bytes(),
                src: row.src,
                dst: row.dst,
                pkt_src: row.pkt_src,
                pkt_dst: row.pkt_dst,
                bytes: row.bytes,
                start: None,
            };
            let span = row.first.map(|a| (a, row.last.unwrap_or(a)));
            self.count(&rec, records, span, row.by_day, part);
        }
    }

    /// Counts one record, or `records` aggregated ones (already inside the window) whose starts
    /// span `span`, dated to a day when `datable` and they all start on it.
    pub(super) fn count(
        &self,
        rec: &parse::Record,
        records: u64,
        span: Option<(i64, i64)>,
        datable: bool,
        part: &mut Partial,
    ) {
        let Some(&n) = self.by_eni.get(rec.interface_id) else {
            part.stats.skipped += records;
            return;
        };
        if rec
            .start
            .is_some_and(|s| s < self.window.0 || s >= self.window.1)
        {
            part.stats.outside_window += records;
            part.stats.skipped += records;
            return;
        }
        let Some(counted) = part.counted.and_then(|c| c.checked_add(rec.bytes)) else {
            part.counted = None;
            return;
        };
        let side = &self.sides[n];
        let src_is_nat = side.ips.contains(&rec.src);
        let dst_is_nat = side.ips.contains(&rec.dst);
        part.stats.records += records;
        let span = span.or(rec.start.map(|t| (t, t)));
        if let Some((a, b)) = span {
            widen(&mut part.span, n, a, b);
        }
        let day = span
            .filter(|_| datable)
            .map(|(a, b)| (a.div_euclid(DAY), b.div_euclid(DAY)))
            .filter(|(a, b)| a == b)
            .map(|(a, _)| a);
        let mut inside = |client: IpAddr| {
            *part.src.entry((n, client)).or_default() += rec.bytes;
            if let Some(day) = day {
                *part.src_days.entry((n, client, day)).or_default() += rec.bytes;
            }
        };
        match (src_is_nat, dst_is_nat) {
            // Outside leg: the remote end is outside the VPC.
            (true, false) if !side.in_vpc(rec.dst) => {
                part.counted = Some(counted);
                *part.dest.entry((n, rec.dst)).or_default() += rec.bytes
            }
            (false, true) if !side.in_vpc(rec.src) => {
                part.counted = Some(counted);
                *part.dest.entry((n, rec.src)).or_default() += rec.bytes
            }
            // Inside leg: the client is in the VPC.
            (false, true) => {
                inside(rec.src);
                part.counted = Some(counted);
                if let Some(remote) = rec.pkt_dst.filter(|d| !side.ips.contains(d)) {
                    *part.pairs.entry((n, rec.src, remote)).or_default() += rec.bytes;
                }
            }
            (true, false) => {
                inside(rec.dst);
                part.counted = Some(counted);
                if let Some(remote) = rec.pkt_src.filter(|d| !side.ips.contains(d)) {
                    *part.pairs.entry((n, rec.dst, remote)).or_default() += rec.bytes;
                }
            }
            _ => {
                part.stats.records -= records;
                part.stats.skipped += records;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Snapshot;

    #[test]
    fn byte_sums_cannot_wrap() {
        let snapshot = Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
        let scan = Scan::new(&snapshot).unwrap();
        let (eni, &n) = scan.by_eni.iter().next().unwrap();
        let row = |bytes: u64| Row {
            interface_id: String::from_utf8(eni.clone()).unwrap(),
            src: scan.sides[n].ips[0],
            dst: "52.95.1.1".parse().unwrap(),
            pkt_src: None,
            pkt_dst: None,
            bytes,
            records: 1,
            first: None,
            last: None,
            by_day: true,
        };
        let half = u64::MAX / 2 + 1;
        let mut part = Partial::default();
        scan.rows(&[row(half)], &mut part);
        assert_eq!(part.counted, Some(half));
        scan.rows(&[row(half)], &mut part);
        assert_eq!(part.counted, None, "the total passed 2^64");
        // Across parts (files read in parallel) too.
        let (mut a, mut b) = (Partial::default(), Partial::default());
        scan.rows(&[row(half)], &mut a);
        scan.rows(&[row(half)], &mut b);
        a.merge(b);
        assert_eq!(a.counted, None);
    }
}

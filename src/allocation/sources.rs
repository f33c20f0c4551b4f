//! Who is behind one NAT gateway, with weights: the sources flow logs measured when they cover
//! its traffic; else Lambda Insights' bytes for the functions that have it, the rest by head
//! count; else an estimate from who sits in each subnet routed to it.

use std::collections::BTreeMap;

use rust_decimal::prelude::ToPrimitive;

use super::Basis;
use crate::price::model::{NatCost, Placement};
use crate::topology::Topology;
use crate::traffic::{NatTraffic, SourceBytes, SourceRef};

/// A source's weight in a NAT gateway's bytes, and the part of it from subnets in another AZ
/// (what inter-AZ transfer is split by).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Weighted {
    pub source: SourceRef,
    pub weight: f64,
    pub cross_az: f64,
    /// How this source's weight is known (within one NAT gateway, Insights for some functions
    /// and head count for the rest).
    pub basis: Basis,
}

pub(super) struct Sources {
    pub basis: Basis,
    /// One entry per source, largest first; empty when nobody is known behind the NAT gateway.
    pub list: Vec<Weighted>,
}

/// The sources behind `nat`: measured by flow logs that cover its traffic (the rule the cost
/// model's inter-AZ line uses), else by head count.
pub(super) fn of(topo: &Topology, nat: &NatCost, traffic: Option<&NatTraffic>) -> Sources {
    let gb = nat.processed_gb.and_then(|g| g.to_f64());
    // The cost model's inter-AZ line is measured on the same condition (price/model/cross_az.rs).
    match traffic.filter(|t| t.source_bytes > 0 && t.subnet_shares().is_some() && t.covers(gb)) {
        Some(t) => measured(topo, nat, t),
        None => insights(topo, nat).unwrap_or_else(|| headcount(topo, nat)),
    }
}

/// With Lambda Insights on some functions behind `nat`: each of them weighs its bytes (rx +
/// tx over the window, split evenly over its subnets, counting those routed here) as a share
/// of the NAT gateway's processed bytes, scaled down when together they moved more than the NAT
/// gateway processed (Insights counts every byte, through a NAT gateway or not); the rest of
/// the NAT gateway's bytes go to the other sources by head count, or to `unattributed`.
fn insights(topo: &Topology, nat: &NatCost) -> Option<Sources> {
    let processed =
        nat.processed_gb.and_then(|g| g.to_f64())? * crate::traffic::BYTES_PER_GB as f64;
    if processed <= 0.0 {
        return None;
    }
    let mut by: BTreeMap<SourceRef, (f64, f64)> = BTreeMap::new();
    for f in topo.lambdas_behind(&nat.nat_gateway_id) {
        let Some(bytes) = f.insights_bytes else {
            continue;
        };
        let subnets = f.subnet_ids();
        let per_subnet = bytes / subnets.len() as f64;
        let e = by.entry(SourceRef::lambda(f)).or_default();
        for s in subnets
            .iter()
            .filter(|s| topo.nat_for_subnet(s) == Some(nat.nat_gateway_id.as_str()))
        {
            e.0 += per_subnet;
            if crosses(topo, nat, Some(s)) {
                e.1 += per_subnet;
            }
        }
    }
    if by.is_empty() {
        return None;
    }
    let with_insights: std::collections::BTreeSet<SourceRef> = by.keys().cloned().collect();
    let known: f64 = by.values().map(|(w, _)| w).sum();
    let scale = if known > processed {
        processed / known
    } else {
        1.0
    };
    for (w, c) in by.values_mut() {
        *w *= scale / processed;
        *c *= scale / processed;
    }
    // Scaled down, the functions explain every byte; else what is left (rounding aside).
    let rest = if scale < 1.0 {
        0.0
    } else {
        1.0 - known / processed
    };
    let others: Vec<Weighted> = headcount(topo, nat)
        .list
        .into_iter()
        .filter(|w| !by.contains_key(&w.source))
        .collect();
    let total: f64 = others.iter().map(|w| w.weight).sum();
    if rest > 1e-9 {
        if total > 0.0 {
            for w in others {
                let e = by.entry(w.source).or_default();
                e.0 += rest * w.weight / total;
                e.1 += rest * w.cross_az / total;
            }
        } else {
            by.entry(SourceRef::unattributed(
                "bytes the functions with Lambda Insights do not explain",
            ))
            .or_default()
            .0 += rest;
        }
    }
    Some(Sources {
        basis: Basis::EstimatedInsights,
        list: ranked(by, |s| {
            if with_insights.contains(s) || s.kind == crate::traffic::SourceKind::Unattributed {
                Basis::EstimatedInsights
            } else {
                Basis::EstimatedHeadcount
            }
        }),
    })
}

fn crosses(topo: &Topology, nat: &NatCost, subnet: Option<&str>) -> bool {
    nat.availability_mode == Placement::Zonal
        && subnet
            .and_then(|s| topo.az_of(s))
            .is_some_and(|az| az != nat.availability_zone)
}

fn measured(topo: &Topology, nat: &NatCost, t: &NatTraffic) -> Sources {
    measured_by(topo, nat, &t.by_source)
}

/// The sources of `bytes` (flow logs' tallies, of the window or of a month), weighted by them.
pub(super) fn measured_by(topo: &Topology, nat: &NatCost, bytes: &[SourceBytes]) -> Sources {
    let mut by: BTreeMap<SourceRef, (f64, f64)> = BTreeMap::new();
    for b in bytes {
        let e = by.entry(b.source.clone()).or_default();
        e.0 += b.bytes as f64;
        if crosses(topo, nat, b.subnet.as_deref()) {
            e.1 += b.bytes as f64;
        }
    }
    Sources {
        basis: Basis::Measured,
        list: ranked(by, |_| Basis::Measured),
    }
}

/// Each subnet's estimated share (Topology::subnet_shares), split between who sits there:
/// each function 1 over its subnets, each other interface 1; a subnet with nobody known keeps
/// its share as a `subnet` source.
fn headcount(topo: &Topology, nat: &NatCost) -> Sources {
    let mut by: BTreeMap<SourceRef, (f64, f64)> = BTreeMap::new();
    for (subnet, share) in topo.subnet_shares(&nat.nat_gateway_id) {
        let id = subnet.subnet_id.as_str();
        let cross = crosses(topo, nat, Some(id));
        let functions = topo.lambdas_in_subnet(id);
        let others = topo.other_clients(id);
        let members: Vec<(SourceRef, f64)> = functions
            .iter()
            .map(|f| (SourceRef::lambda(f), 1.0 / f.subnet_ids().len() as f64))
            .chain(others.iter().map(|e| (SourceRef::eni(e), 1.0)))
            .collect();
        let total: f64 = members.iter().map(|(_, w)| w).sum();
        let members = if total > 0.0 {
            members
                .into_iter()
                .map(|(s, w)| (s, share * w / total))
                .collect()
        } else {
            vec![(SourceRef::subnet(id), share)]
        };
        for (source, w) in members {
            let e = by.entry(source).or_default();
            e.0 += w;
            if cross {
                e.1 += w;
            }
        }
    }
    Sources {
        basis: Basis::EstimatedHeadcount,
        list: ranked(by, |_| Basis::EstimatedHeadcount),
    }
}

fn ranked(
    by: BTreeMap<SourceRef, (f64, f64)>,
    basis: impl Fn(&SourceRef) -> Basis,
) -> Vec<Weighted> {
    let mut list: Vec<Weighted> = by
        .into_iter()
        .map(|(source, (weight, cross_az))| Weighted {
            basis: basis(&source),
            source,
            weight,
            cross_az,
        })
        .collect();
    list.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    list
}

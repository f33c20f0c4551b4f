//! The share of a NAT gateway's traffic that crosses AZs to reach it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;

use super::lifetime::Month;
use super::series::Series;
use super::{gb, Basis, Region, BYTES_PER_GB};
use crate::snapshot::{NatGateway, Window};
use crate::traffic::{NatTraffic, MEASURED_MIN_DAYS, MEASURED_MIN_SHARE};

/// The share of a NAT gateway's traffic from client subnets in another AZ.
pub(super) struct CrossAz {
    pub share: f64,
    /// `measured` when flow logs saw enough of the NAT's clients, else `estimated`.
    pub basis: Basis,
    /// The share in each month (by its start) whose own flow-log records measure it, by the
    /// rule cost allocation splits a month by its own records; the other months take `share`.
    by_month: BTreeMap<DateTime<Utc>, f64>,
}

impl CrossAz {
    /// The cross-AZ share of `nat`, over the window and in its `months`; warned when there is
    /// one but its bytes are not measured, and when a flow-log sample too thin to measure it
    /// says otherwise.
    pub(super) fn of(
        view: &Region,
        nat: &NatGateway,
        series: &Series,
        months: (&[Month], Window),
        warnings: &mut Vec<String>,
    ) -> CrossAz {
        let cross = CrossAz::share(view, nat, series, months, warnings);
        if cross.share > 0.0 && series.crossing.is_none() {
            warnings.push(format!(
                "{} ({}): subnets in another AZ route to it but BytesInFromSource/BytesOutToSource are missing: inter-AZ cost unknown",
                nat.nat_gateway_id, view.snapshot.region
            ));
        }
        cross
    }

    /// The share in the month starting at `start`: its own where its records measure it.
    pub(super) fn in_month(&self, start: DateTime<Utc>) -> f64 {
        self.by_month.get(&start).copied().unwrap_or(self.share)
    }

    /// Who crosses AZs: measured per client subnet when flow logs cover the NAT's traffic
    /// (7 days or 25% of its bytes), over the window and in each month they measure, else
    /// estimated from who sits in each subnet; a thinner sample is shown beside the estimate,
    /// never in its place. A regional NAT gateway has no other AZ.
    fn share(
        view: &Region,
        nat: &NatGateway,
        series: &Series,
        months: (&[Month], Window),
        warnings: &mut Vec<String>,
    ) -> CrossAz {
        let id = nat.nat_gateway_id.as_str();
        let estimate = CrossAz {
            share: view.topo.cross_az_share(id),
            basis: Basis::Estimated,
            by_month: BTreeMap::new(),
        };
        let Some((t, shares)) = view
            .flows
            .get(id)
            .and_then(|t| t.subnet_shares().map(|shares| (*t, shares)))
        else {
            return estimate;
        };
        if nat.is_regional() {
            return estimate;
        }
        let sampled = other_az(view, nat, shares);
        let processed = series.processed.as_deref();
        let gb = processed.map(|p| p.iter().sum::<f64>() / BYTES_PER_GB as f64);
        if t.covers(gb) {
            return CrossAz {
                share: sampled,
                basis: Basis::Measured,
                by_month: by_month(view, nat, t, processed, months),
            };
        }
        warnings.push(format!(
            "{id} ({}): flow logs cover {} of its bytes, a sample (measured needs {MEASURED_MIN_DAYS} days or {:.0}%): its inter-AZ share stays estimated from who sits in each subnet ({:.1}%); the sample's is {:.1}%",
            view.snapshot.region,
            t.coverage(gb),
            100.0 * MEASURED_MIN_SHARE,
            100.0 * estimate.share,
            100.0 * sampled
        ));
        estimate
    }
}

/// The part of `shares` (client subnet, share of the bytes) from subnets in another AZ than
/// the NAT gateway's.
fn other_az<'s>(
    view: &Region,
    nat: &NatGateway,
    shares: impl IntoIterator<Item = (&'s str, f64)>,
) -> f64 {
    shares
        .into_iter()
        .filter(|(s, _)| {
            view.topo
                .az_of(s)
                .is_some_and(|az| az != nat.availability_zone)
        })
        .map(|(_, v)| v)
        .sum()
}

/// The cross-AZ share of each month whose own records measure it (the rule allocation splits
/// a month by), as the window's is measured: over the bytes of the clients whose subnet is
/// known.
fn by_month(
    view: &Region,
    nat: &NatGateway,
    t: &NatTraffic,
    processed: Option<&[f64]>,
    (months, window): (&[Month], Window),
) -> BTreeMap<DateTime<Utc>, f64> {
    let mut out = BTreeMap::new();
    for m in months {
        // The month's processed GB as its data processing line counts them.
        let month_gb = processed.and_then(|p| gb(p[m.hours(window)].iter().sum()).to_f64());
        let dated = t.sources_between(m.start, m.end);
        if !dated.measures_period(month_gb) {
            continue;
        }
        let placed: Vec<(&str, u64)> = dated
            .sources
            .iter()
            .filter_map(|b| Some((b.subnet.as_deref()?, b.bytes)))
            .collect();
        let total: u64 = placed.iter().map(|(_, b)| b).sum();
        if total > 0 {
            let shares = placed
                .into_iter()
                .map(|(s, b)| (s, b as f64 / total as f64));
            out.insert(m.start, other_az(view, nat, shares));
        }
    }
    out
}

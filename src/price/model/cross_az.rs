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
    pub by_month: BTreeMap<DateTime<Utc>, f64>,
}

impl CrossAz {
    /// The cross-AZ share of `nat`, over the window and in its `months`; warned when there is
    /// one but its bytes are not measured, and when a flow-log sample too thin to measure it
    /// says otherwise.
    pub(super) fn of(
        view: &Region,
        nat: &NatGateway,
        series: &Series,
        (months, window): (&[Month], Window),
        warnings: &mut Vec<String>,
    ) -> CrossAz {
        let mut cross = CrossAz::share(view, nat, series.processed.as_deref(), warnings);
        if cross.basis == Basis::Measured {
            if let Some(t) = view.flows.get(nat.nat_gateway_id.as_str()) {
                cross.by_month = by_month(view, nat, t, series, (months, window));
            }
        }
        if cross.share > 0.0 && series.crossing.is_none() {
            warnings.push(format!(
                "{} ({}): subnets in another AZ route to it but BytesInFromSource/BytesOutToSource are missing: inter-AZ cost unknown",
                nat.nat_gateway_id, view.snapshot.region
            ));
        }
        cross
    }

    /// Who crosses AZs: measured per client subnet when flow logs cover the NAT's traffic
    /// (7 days or 25% of its bytes), else estimated from who sits in each subnet; a thinner
    /// sample is shown beside the estimate, never in its place. A regional NAT gateway has no
    /// other AZ.
    fn share(
        view: &Region,
        nat: &NatGateway,
        processed: Option<&[f64]>,
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
        let sampled: f64 = shares
            .iter()
            .filter(|(s, _)| {
                view.topo
                    .az_of(s)
                    .is_some_and(|az| az != nat.availability_zone)
            })
            .map(|(_, v)| v)
            .sum();
        let gb = processed.map(|p| p.iter().sum::<f64>() / BYTES_PER_GB as f64);
        if t.covers(gb) {
            return CrossAz {
                share: sampled,
                basis: Basis::Measured,
                by_month: BTreeMap::new(),
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

/// The cross-AZ share of each month whose own records measure it, as the window's is measured:
/// the bytes of clients in subnets of another AZ than the NAT gateway's, over the bytes of all
/// clients whose subnet is known.
fn by_month(
    view: &Region,
    nat: &NatGateway,
    t: &NatTraffic,
    series: &Series,
    (months, window): (&[Month], Window),
) -> BTreeMap<DateTime<Utc>, f64> {
    let mut out = BTreeMap::new();
    for m in months {
        // The month's processed GB as its data processing line counts them.
        let month_gb = series
            .processed
            .as_deref()
            .and_then(|p| gb(p[m.hours(window)].iter().sum()).to_f64());
        let dated = t.sources_between(m.start, m.end);
        if !dated.measures_period(month_gb) {
            continue;
        }
        let (mut placed, mut crossing) = (0u64, 0u64);
        for b in &dated.sources {
            let Some(subnet) = b.subnet.as_deref() else {
                continue;
            };
            placed += b.bytes;
            if view
                .topo
                .az_of(subnet)
                .is_some_and(|az| az != nat.availability_zone)
            {
                crossing += b.bytes;
            }
        }
        if placed > 0 {
            out.insert(m.start, crossing as f64 / placed as f64);
        }
    }
    out
}

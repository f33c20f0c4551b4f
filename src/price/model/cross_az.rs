//! The share of a NAT gateway's traffic that crosses AZs to reach it.

use super::series::Series;
use super::{Basis, Region, BYTES_PER_GB};
use crate::snapshot::NatGateway;
use crate::traffic::{MEASURED_MIN_DAYS, MEASURED_MIN_SHARE};

/// The share of a NAT gateway's traffic from client subnets in another AZ.
pub(super) struct CrossAz {
    pub share: f64,
    /// `measured` when flow logs saw enough of the NAT's clients, else `estimated`.
    pub basis: Basis,
}

impl CrossAz {
    /// The cross-AZ share of `nat`; warned when there is one but its bytes are not measured,
    /// and when a flow-log sample too thin to measure it says otherwise.
    pub(super) fn of(
        view: &Region,
        nat: &NatGateway,
        series: &Series,
        warnings: &mut Vec<String>,
    ) -> CrossAz {
        let cross = CrossAz::share(view, nat, series.processed.as_deref(), warnings);
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

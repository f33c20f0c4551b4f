//! The share of a NAT gateway's traffic that crosses AZs to reach it.

use super::series::Series;
use super::{Basis, Region, BYTES_PER_GB};
use crate::snapshot::NatGateway;
use crate::traffic::NatTraffic;

/// The share of a NAT gateway's traffic from client subnets in another AZ.
pub(super) struct CrossAz {
    pub share: f64,
    /// `measured` when flow logs saw enough of the NAT's clients, else `estimated`.
    pub basis: Basis,
}

impl CrossAz {
    /// The cross-AZ share of `nat`; warned when there is one but its bytes are not measured.
    pub(super) fn of(
        view: &Region,
        nat: &NatGateway,
        series: &Series,
        warnings: &mut Vec<String>,
    ) -> CrossAz {
        let cross = CrossAz::share(view, nat, series.processed.as_deref());
        if cross.share > 0.0 && series.crossing.is_none() {
            warnings.push(format!(
                "{} ({}): subnets in another AZ route to it but BytesInFromSource/BytesOutToSource are missing: inter-AZ cost unknown",
                nat.nat_gateway_id, view.snapshot.region
            ));
        }
        cross
    }

    /// Who crosses AZs: measured per client subnet when flow logs saw the NAT's clients, else
    /// estimated from who sits in each subnet. A regional NAT gateway has no other AZ.
    fn share(view: &Region, nat: &NatGateway, processed: Option<&[f64]>) -> CrossAz {
        let id = nat.nat_gateway_id.as_str();
        let measured = view
            .flows
            .get(id)
            .and_then(|t| t.subnet_shares().map(|shares| (*t, shares)));
        match measured {
            Some((t, shares)) if !nat.is_regional() => {
                CrossAz::measured(view, nat, t, &shares, processed)
            }
            _ => CrossAz {
                share: view.topo.cross_az_share(id),
                basis: Basis::Estimated,
            },
        }
    }

    /// The flow logs' share of bytes from subnets in another AZ than the NAT gateway's; the
    /// basis is `measured` when the logs cover enough of the window.
    fn measured(
        view: &Region,
        nat: &NatGateway,
        traffic: &NatTraffic,
        shares: &[(&str, f64)],
        processed: Option<&[f64]>,
    ) -> CrossAz {
        let share: f64 = shares
            .iter()
            .filter(|(s, _)| {
                view.topo
                    .az_of(s)
                    .is_some_and(|az| az != nat.availability_zone)
            })
            .map(|(_, v)| v)
            .sum();
        let gb = processed.map(|p| p.iter().sum::<f64>() / BYTES_PER_GB as f64);
        CrossAz {
            share,
            basis: if traffic.covers(gb) {
                Basis::Measured
            } else {
                Basis::Estimated
            },
        }
    }
}

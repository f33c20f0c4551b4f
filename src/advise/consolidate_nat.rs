//! `consolidate-nat`: several NAT gateways in one VPC → one, paying inter-AZ transfer for
//! the subnets of the other AZs instead of their NAT hours.

use anyhow::Result;
use rust_decimal::Decimal;

use super::plan::{Baseline, Key};
use super::{
    measure_first, num, recollect, reroute, sum, usd, Alternative, Confidence, Context, Effect,
    RiskLevel, Scenario,
};
use crate::price::model::{gb, per_month, Connectivity, NatCost, Placement};
use crate::price::Item;
use crate::snapshot::RegionSnapshot;
use crate::topology::Topology;

pub struct ConsolidateNat;

impl Alternative for ConsolidateNat {
    fn id(&self) -> &'static str {
        "consolidate-nat"
    }

    fn scope(&self) -> &'static str {
        "the VPC's NATs"
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for v in ctx.vpcs_with_nats() {
            // Public and private NAT gateways do different jobs: only like ones merge.
            for kind in [Connectivity::Public, Connectivity::Private] {
                let nats: Vec<&NatCost> = v
                    .nats
                    .iter()
                    .copied()
                    .filter(|n| n.connectivity_type == kind)
                    .filter(|n| n.availability_mode == Placement::Zonal)
                    // A NAT no route sends to has no clients to move: delete-idle-nat's.
                    .filter(|n| v.topo.is_route_target(&n.nat_gateway_id))
                    .collect();
                if nats.len() >= 2 {
                    out.push(self.scenario(ctx, v.region, v.topo, v.vpc, &nats)?);
                }
            }
        }
        Ok(out)
    }
}

impl ConsolidateNat {
    fn scenario(
        &self,
        ctx: &Context,
        region: &RegionSnapshot,
        topo: &Topology,
        vpc: &str,
        nats: &[&NatCost],
    ) -> Result<Scenario> {
        let r = region.region.as_str();
        let keep = *nats
            .iter()
            .max_by_key(|n| (n.monthly_gb(), std::cmp::Reverse(n.nat_gateway_id.clone())))
            .expect("at least two NAT gateways");
        let removed: Vec<&NatCost> = nats
            .iter()
            .copied()
            .filter(|n| n.nat_gateway_id != keep.nat_gateway_id)
            .collect();
        let inter_az = ctx.price(r, Item::InterAzBytes)?;
        // GB that would newly cross to the kept NAT's AZ (requests and replies).
        let mut crossing = Decimal::ZERO;
        let mut missing = Vec::new();
        for n in &removed {
            let share: f64 = topo
                .subnet_shares(&n.nat_gateway_id)
                .iter()
                .filter(|(s, _)| s.availability_zone != keep.availability_zone)
                .map(|(_, w)| w)
                .sum();
            match n.crossing_bytes {
                Some(b) => crossing += per_month(gb(b * share), n.billed_hours),
                None => missing.push(format!(
                    "BytesInFromSource/BytesOutToSource of {}",
                    n.nat_gateway_id
                )),
            }
        }
        let added = crossing * Decimal::TWO * inter_az;
        let mut action: Vec<String> = Vec::new();
        let mut removals = Vec::new();
        let mut effects = Vec::new();
        let mut changes = super::Changes {
            relies_on: vec![Key::Nat(keep.nat_gateway_id.clone())],
            ..Default::default()
        };
        let target = format!("--nat-gateway-id {}", keep.nat_gateway_id);
        for n in &removed {
            action.extend(reroute(topo, &n.nat_gateway_id, &target, &mut changes));
            ctx.removal(n)
                .append_to(&mut removals, &mut changes, &mut effects);
        }
        // Routes first, then the deletions (each waits for its NAT to go before releasing).
        action.extend(removals);
        if !added.is_zero() {
            effects.push(Effect::add(format!("inter-az:consolidate:{vpc}"), added));
        }
        let before = sum(nats.iter().copied(), NatCost::monthly);
        let after = Baseline::of(nats.iter().copied()).after(&effects);
        let removed_fixed = before - after + added;
        let ids: Vec<&str> = removed.iter().map(|n| n.nat_gateway_id.as_str()).collect();
        let evidence = vec![
            format!(
                "{} {} NAT gateways in {vpc}; keep {} ({}, most traffic)",
                nats.len(),
                keep.connectivity_type,
                keep.nat_gateway_id,
                keep.availability_zone
            ),
            format!(
                "removing {} and releasing their addresses saves {}/month of hours and public IPv4",
                ids.join(", "),
                usd(removed_fixed)
            ),
            format!(
                "their clients' {} GB/month would cross AZs: × 2 directions × {inter_az} = {}/month",
                num(crossing),
                usd(added)
            ),
            "data processing per GB is the same on one NAT".into(),
        ];
        let mut s = Scenario {
            monthly_before: before,
            monthly_after: after,
            risk: format!(
                "an outage of {} stops internet egress for every AZ; the removed NATs' public addresses, which partners may allowlist, are released and their clients leave from the kept NAT's",
                keep.availability_zone
            ),
            action: action.join(" && "),
            evidence,
            changes,
            effects,
            missing_data: missing.clone(),
            ..Scenario::new(
                self,
                r,
                vpc,
                ids.join(";"),
                Confidence::Estimated,
                RiskLevel::High,
            )
        };
        if !missing.is_empty() {
            let worth = removed_fixed;
            measure_first(
                &mut s,
                format!(
                    "hours and addresses, less the inter-AZ transfer that {} would tell",
                    missing.join(", ")
                ),
                worth,
                recollect(r),
            );
        }
        Ok(s)
    }
}

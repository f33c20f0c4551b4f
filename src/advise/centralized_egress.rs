//! `centralized-egress-tgw`: several VPCs with their own NAT gateways → one egress VPC
//! reached through a Transit Gateway.

use std::collections::BTreeMap;

use anyhow::Result;
use rust_decimal::Decimal;

use super::plan::{Baseline, Key};
use super::{
    measure_first, num, recollect, usd, Alternative, Changes, Confidence, Context, Effect,
    RiskLevel, Scenario,
};
use crate::price::model::{gb, per_month, NatCost, HOURS_PER_MONTH};
use crate::price::Item;

pub struct CentralizedEgress;

impl Alternative for CentralizedEgress {
    fn id(&self) -> &'static str {
        "centralized-egress-tgw"
    }

    fn scope(&self) -> &'static str {
        "the region's NATs"
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        let vpcs: Vec<_> = ctx.vpcs_with_nats().collect();
        for in_region in vpcs.chunk_by(|a, b| std::ptr::eq(a.region, b.region)) {
            let region = in_region[0].region;
            let r = region.region.as_str();
            let by_vpc: BTreeMap<&str, &[&NatCost]> =
                in_region.iter().map(|v| (v.vpc, &v.nats[..])).collect();
            if by_vpc.len() < 2 {
                continue;
            }
            let vpc_gb = |nats: &[&NatCost]| nats.iter().map(|n| n.monthly_gb()).sum::<Decimal>();
            let (&hub, _) = by_vpc
                .iter()
                .max_by_key(|(v, nats)| (vpc_gb(nats), std::cmp::Reverse(v.to_string())))
                .unwrap();
            let attached: Vec<&str> = region
                .transit_gateway_attachments
                .iter()
                .filter(|a| a.resource_type == "vpc" && a.state != "deleted")
                .map(|a| a.resource_id.as_str())
                .collect();
            let new_attachments = by_vpc.keys().filter(|v| !attached.contains(v)).count();
            let tgw_hour = ctx.price(r, Item::TransitGatewayHours)?;
            let tgw_gb = ctx.price(r, Item::TransitGatewayBytes)?;
            let spokes: Vec<&NatCost> = by_vpc
                .iter()
                .filter(|(v, _)| **v != hub)
                .flat_map(|(_, n)| n.iter().copied())
                .collect();
            let missing: Vec<String> = spokes
                .iter()
                .filter(|n| n.crossing_bytes.is_none())
                .map(|n| format!("BytesInFromSource/BytesOutToSource of {}", n.nat_gateway_id))
                .collect();
            let spoke_crossing: Decimal = spokes
                .iter()
                .filter_map(|n| n.crossing_bytes.map(|b| per_month(gb(b), n.billed_hours)))
                .sum();
            let before: Decimal = by_vpc
                .values()
                .copied()
                .flatten()
                .map(|n| n.monthly())
                .sum();
            let attach_cost =
                Decimal::from(new_attachments as u64) * Decimal::from(HOURS_PER_MONTH) * tgw_hour;
            let tgw_data = spoke_crossing * tgw_gb;
            let mut effects = Vec::new();
            let mut changes = Changes {
                relies_on: by_vpc[hub]
                    .iter()
                    .map(|n| Key::Nat(n.nat_gateway_id.clone()))
                    .collect(),
                ..Default::default()
            };
            let mut releases = Vec::new();
            for n in &spokes {
                ctx.removal(n)
                    .append_to(&mut releases, &mut changes, &mut effects);
            }
            effects.push(Effect::add(format!("tgw-attachments:{r}"), attach_cost));
            effects.push(Effect::add(format!("tgw-data:{r}"), tgw_data));
            let after = Baseline::of(by_vpc.values().copied().flatten().copied()).after(&effects);
            let removed_fixed = before - after + attach_cost + tgw_data;
            let spoke_vpcs: Vec<&str> = by_vpc.keys().copied().filter(|v| *v != hub).collect();
            let evidence = vec![
                format!("{} VPCs run their own NAT gateways; egress VPC: {hub} (most traffic)", by_vpc.len()),
                format!(
                    "removing {} NAT gateway(s) in {} saves {}/month of hours and public IPv4",
                    spokes.len(),
                    spoke_vpcs.join(", "),
                    usd(removed_fixed)
                ),
                format!(
                    "adds {new_attachments} Transit Gateway attachment(s) × 730 h × {tgw_hour} = {}/month",
                    usd(attach_cost)
                ),
                format!(
                    "and {} GB/month through the Transit Gateway × {tgw_gb} = {}/month (inter-AZ not counted)",
                    num(spoke_crossing),
                    usd(tgw_data)
                ),
            ];
            let notes = vec![format!(
                "first, from a template (it is a network design, not a command list): a Transit Gateway in {r} with attachments for {} and the egress VPC {hub}, each spoke's 0.0.0.0/0 routed to it, and the egress VPC's routes back to the spokes; only then run the action, which removes the spokes' NAT gateways",
                spoke_vpcs.join(", ")
            )];
            let action = releases;
            let mut s = Scenario {
                monthly_before: before,
                monthly_after: after,
                risk: "one egress VPC for all: its NAT gateways and the Transit Gateway become shared failure points; the spokes' public addresses, which partners may allowlist, are released and egress leaves from the egress VPC's".into(),
                action: action.join(" && "),
                notes,
                evidence,
                changes,
                effects,
                missing_data: missing.clone(),
                ..Scenario::new(
                    self,
                    r,
                    hub,
                    spoke_vpcs.join(";"),
                    Confidence::Estimated,
                    RiskLevel::Medium,
                )
            };
            if !missing.is_empty() {
                let worth = removed_fixed - attach_cost;
                measure_first(
                    &mut s,
                    format!(
                        "hours and addresses less attachments, before the Transit Gateway data that {} would tell",
                        missing.join(", ")
                    ),
                    worth,
                    recollect(r),
                );
            }
            out.push(s);
        }
        Ok(out)
    }
}

//! `regional-nat`: one regional NAT gateway per VPC instead of its zonal ones. It serves
//! each AZ from that AZ, so no client crosses an AZ, and it takes away the per-AZ NAT versus
//! cross-AZ trade-off behind consolidate-nat and fix-cross-az-route.
//!
//! AWS bills it for each hour it is configured in each AZ; in automatic mode (the default, the
//! one proposed) that is every AZ where the VPC has subnets, with at least one address in each.

use std::collections::BTreeSet;

use anyhow::Result;
use rust_decimal::Decimal;

use super::plan::Baseline;
use super::{
    measure_first, num, reroute, sum, usd, Alternative, Changes, Confidence, Context, Effect,
    RiskLevel, Scenario,
};
use crate::price::model::{
    Component, Connectivity, CostModel, NatCost, Placement, HOURS_PER_MONTH,
};
use crate::price::Item;
use crate::snapshot::RegionSnapshot;
use crate::topology::Topology;

pub struct RegionalNat;

impl Alternative for RegionalNat {
    fn id(&self) -> &'static str {
        "regional-nat"
    }

    fn scope(&self) -> &'static str {
        "the VPC's NATs"
    }

    fn assumptions(&self, model: &CostModel) -> Vec<String> {
        vec![format!(
            "Regional NAT gateways ({} in this snapshot) are priced with <PREFIX>-RegionalNatGateway-Hours/-Bytes for each hour in each AZ they are configured in (AWS's pricing text: three AZs for an hour are three NAT gateway-hours): in automatic mode every AZ where the VPC has subnets, in manual mode the AZs configured; with at least one public IPv4 address per AZ. No client of one is cross-AZ. Bundled regional prices equal the zonal ones (as in eu-west-1, 0.048) and are marked unconfirmed.",
            model.nats.iter().filter(|n| n.availability_mode == Placement::Regional).count()
        )]
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for v in ctx.vpcs_with_nats() {
            // Regional NAT gateways are public only; a VPC that has one is done.
            if v.nats
                .iter()
                .any(|n| n.availability_mode == Placement::Regional)
            {
                continue;
            }
            let zonal: Vec<&NatCost> = v
                .nats
                .into_iter()
                .filter(|n| n.connectivity_type == Connectivity::Public)
                .collect();
            if !zonal.is_empty() {
                out.push(self.scenario(ctx, v.region, v.topo, v.vpc, &zonal)?);
            }
        }
        Ok(out)
    }
}

impl RegionalNat {
    fn scenario(
        &self,
        ctx: &Context,
        region: &RegionSnapshot,
        topo: &Topology,
        vpc: &str,
        nats: &[&NatCost],
    ) -> Result<Scenario> {
        let r = region.region.as_str();
        let month = Decimal::from(HOURS_PER_MONTH);
        // Automatic mode: configured in every AZ where the VPC has subnets.
        let azs: BTreeSet<&str> = topo.vpc_azs(vpc);
        let active = Decimal::from(azs.len().max(1));
        let (Ok(hour), Ok(per_gb)) = (
            ctx.price(r, Item::RegionalNatHours),
            ctx.price(r, Item::RegionalNatBytes),
        ) else {
            return Ok(unpriced(r, vpc, nats));
        };
        let ipv4 = ctx.price(r, Item::PublicIpv4Hours)?;
        let gb: Decimal = sum(nats.iter().copied(), NatCost::monthly_gb);
        let bytes = gb * per_gb;
        let addresses = active * month * ipv4;
        let hours = active * month * hour;

        let mut changes = Changes {
            nats_added: vec![format!("regional {vpc}")],
            ..Default::default()
        };
        let mut action = vec![
            format!("NAT=$(aws ec2 create-nat-gateway --region {r} --vpc-id {vpc} --availability-mode regional --query NatGateway.NatGatewayId --output text)"),
            format!("aws ec2 wait nat-gateway-available --region {r} --nat-gateway-ids \"$NAT\""),
        ];
        let mut effects = vec![Effect::add(
            format!("regional-nat:{vpc}"),
            hours + bytes + addresses,
        )];
        for n in nats {
            action.extend(reroute(
                topo,
                &n.nat_gateway_id,
                "--nat-gateway-id \"$NAT\"",
                &mut changes,
            ));
        }
        for n in nats {
            ctx.removal(n)
                .append_to(&mut action, &mut changes, &mut effects);
            effects.push(Effect::drop(&n.nat_gateway_id, Component::NatBytes));
            effects.push(Effect::drop(&n.nat_gateway_id, Component::InterAz));
        }
        let base = Baseline::of(nats.iter().copied());
        let before = sum(nats.iter().copied(), NatCost::monthly);
        let after = base.after(&effects);
        let inter_az = sum(nats.iter().copied(), |n| n.monthly_of(Component::InterAz));
        let ids: Vec<&str> = nats.iter().map(|n| n.nat_gateway_id.as_str()).collect();
        let az_list: Vec<&str> = azs.iter().copied().collect();
        let mut evidence = vec![
            format!(
                "{} zonal NAT gateway(s) ({}) cost {}/month; one regional NAT gateway serves each AZ from that AZ, so no client crosses an AZ and the {} of inter-AZ transfer a month is no longer paid",
                nats.len(),
                ids.join(", "),
                usd(before),
                usd(inter_az)
            ),
            format!(
                "billed for each hour in each AZ it is configured in; in automatic mode that is every AZ where {vpc} has subnets: {} AZ(s) ({}) × 730 h × {hour} = {}",
                active,
                az_list.join(", "),
                usd(hours)
            ),
            format!(
                "{} GB/month × {per_gb} = {} of data processing (as today), and at least one address per AZ: {} × 730 h × {ipv4} = {} (more when it adds addresses for ports)",
                num(gb),
                usd(bytes),
                active,
                usd(addresses)
            ),
        ];
        let fixed_today = sum(nats.iter().copied(), |n| {
            n.monthly_of(Component::NatHours) + n.monthly_of(Component::PublicIpv4)
        });
        if (hours + addresses).round_dp(2) == fixed_today.round_dp(2) && inter_az > Decimal::ZERO {
            evidence.push(format!(
                "as many AZ-hours and addresses as today: its saving is the {} of inter-AZ transfer it removes, which re-routing the cross-AZ subnets (fix-cross-az-route) also removes; the two conflict",
                usd(inter_az)
            ));
        }
        Ok(Scenario {
            monthly_before: before,
            monthly_after: after,
            risk: "egress leaves from new addresses, which partners who allowlist today's must add (manual mode, --availability-zone-addresses with today's allocation ids, keeps them but only after the zonal NAT gateways are deleted: an outage); an AZ new to the gateway takes some minutes to expand into, with its traffic crossing AZs meanwhile; private connectivity needs zonal NAT gateways".into(),
            action: action.join(" && "),
            evidence,
            changes,
            effects,
            ..Scenario::new(
                self,
                r,
                vpc,
                vpc.to_string(),
                Confidence::Estimated,
                RiskLevel::Medium,
            )
        })
    }
}

/// No regional NAT gateway price for the region: said as missing data, never priced as 0.
fn unpriced(r: &str, vpc: &str, nats: &[&NatCost]) -> Scenario {
    let before = sum(nats.iter().copied(), NatCost::monthly);
    let usage = Item::RegionalNatHours
        .usage_type(r)
        .unwrap_or_else(|_| "RegionalNatGateway-Hours".into());
    let mut s = Scenario {
        monthly_before: before,
        monthly_after: before,
        risk: "unpriced".into(),
        evidence: vec![format!("no {usage} price for {r}")],
        missing_data: vec![format!("the {usage} price (and -Bytes)")],
        ..Scenario::new(
            &RegionalNat,
            r,
            vpc,
            vpc.to_string(),
            Confidence::NeedsData,
            RiskLevel::Medium,
        )
    };
    measure_first(
        &mut s,
        "one regional NAT gateway".into(),
        Decimal::ZERO,
        format!(
            "price it: natcost report --region {r} --prices live, or a --prices file with {usage}"
        ),
    );
    s
}

//! `regional-nat`: one regional NAT gateway per VPC instead of its zonal ones. It serves
//! each AZ from that AZ, so no client crosses an AZ, and it takes away the per-AZ NAT versus
//! cross-AZ trade-off behind consolidate-nat and fix-cross-az-route.
//!
//! Whether AWS bills its hours per active AZ or per gateway is not confirmed from AWS's own
//! pages here, so the scenario is measure-first and shows its saving under both readings.

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
            "Regional NAT gateways ({} in this snapshot) are priced with <PREFIX>-RegionalNatGateway-Hours/-Bytes, per active AZ-hour (the AZs it has addresses or clients in), and no client of one is cross-AZ. The per-AZ billing rule is AWS's VPC pricing page as a third-party source quotes it: AWS's own pages could not be read here to confirm it, so the regional-nat alternative is measure-first and shows its saving under both readings (per active AZ-hour and per gateway-hour). Bundled regional prices equal the zonal ones and are marked unconfirmed.",
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
        // The AZs it would be active in: where the clients of today's NAT gateways are.
        let azs: BTreeSet<&str> = nats
            .iter()
            .flat_map(|n| n.routed_subnets.iter())
            .filter_map(|s| topo.az_of(s))
            .collect();
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
        let per_az_hours = active * month * hour;
        let per_gateway_hours = month * hour;

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
            per_az_hours + bytes + addresses,
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
        let after_per_az = base.after(&effects);
        let saving_per_az = before - after_per_az;
        let saving_per_gateway = saving_per_az + per_az_hours - per_gateway_hours;
        let ids: Vec<&str> = nats.iter().map(|n| n.nat_gateway_id.as_str()).collect();
        let az_list: Vec<&str> = azs.iter().copied().collect();
        let evidence = vec![
            format!(
                "{} zonal NAT gateway(s) ({}) cost {}/month; one regional NAT gateway serves each AZ from that AZ, so no client crosses an AZ and the {} of inter-AZ transfer a month is no longer paid",
                nats.len(),
                ids.join(", "),
                usd(before),
                usd(sum(nats.iter().copied(), |n| n.monthly_of(Component::InterAz)))
            ),
            format!(
                "billed per active AZ-hour (AWS's VPC pricing page, as a third-party source quotes it): {} AZ(s) ({}) × 730 h × {hour} = {}; saving {}/month",
                active,
                az_list.join(", "),
                usd(per_az_hours),
                usd(saving_per_az)
            ),
            format!(
                "billed per gateway-hour: 730 h × {hour} = {}; saving {}/month",
                usd(per_gateway_hours),
                usd(saving_per_gateway)
            ),
            format!(
                "either way: {} GB/month × {per_gb} = {} of data processing (as today), and one address per AZ: {} × 730 h × {ipv4} = {}",
                num(gb),
                usd(bytes),
                active,
                usd(addresses)
            ),
        ];
        let mut s = Scenario {
            monthly_before: before,
            monthly_after: after_per_az,
            risk: "egress leaves from new addresses, which partners who allowlist today's must add (manual mode, --availability-zone-addresses with today's allocation ids, keeps them but only after the zonal NAT gateways are deleted: an outage); an AZ new to the gateway takes some minutes to expand into, with its traffic crossing AZs meanwhile; private connectivity needs zonal NAT gateways".into(),
            action: action.join(" && "),
            evidence,
            changes,
            effects,
            missing_data: vec![
                "whether AWS bills a regional NAT gateway's hours per active AZ or per gateway".into(),
            ],
            ..Scenario::new(
                self,
                r,
                vpc,
                vpc.to_string(),
                Confidence::Estimated,
                RiskLevel::Medium,
            )
        };
        measure_first(
            &mut s,
            format!(
                "one regional NAT gateway billed per active AZ-hour (per gateway-hour: {}/month)",
                usd(saving_per_gateway)
            ),
            saving_per_az,
            format!("confirm the billing rule: aws pricing get-products --region us-east-1 --service-code AmazonEC2 --filters Type=TERM_MATCH,Field=usagetype,Value={} and the VPC pricing page", Item::RegionalNatHours.usage_type(r)?),
        );
        Ok(s)
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

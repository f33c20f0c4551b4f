//! `nat-instance`: a NAT instance (fck-nat on t4g.nano) instead of a NAT gateway: a cheap
//! hour, no per-GB processing fee, but you operate it.

use anyhow::Result;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::plan::Baseline;
use super::{
    measure_first, recollect, reroute, usd, Alternative, Changes, Confidence, Context, Effect,
    RiskLevel, Scenario,
};
use crate::price::model::{Component, NatCost, HOURS_PER_MONTH};
use crate::price::Item;
use crate::snapshot::RegionSnapshot;

pub struct NatInstance;

/// fck-nat's root volume.
const ROOT_VOLUME_GB: Decimal = dec!(8);
/// t4g.nano's baseline network bandwidth; it bursts to 5 Gbit/s on credits.
const BASELINE_MBITS: f64 = 32.0;

impl Alternative for NatInstance {
    fn id(&self) -> &'static str {
        "nat-instance"
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for (region, _) in ctx.regions() {
            for nat in ctx.model.nats.iter().filter(|n| {
                n.region == region.region && n.active_at_end && n.connectivity_type == "public"
            }) {
                out.push(self.scenario(ctx, region, nat)?);
            }
        }
        Ok(out)
    }
}

impl NatInstance {
    fn scenario(&self, ctx: &Context, region: &RegionSnapshot, nat: &NatCost) -> Result<Scenario> {
        let r = nat.region.as_str();
        let id = &nat.nat_gateway_id;
        let month = Decimal::from(HOURS_PER_MONTH);
        let hour = ctx.price(r, Item::NatInstanceHours)?;
        let ebs = ctx.price(r, Item::EbsGbMonth)?;
        let instance = month * hour;
        let volume = ROOT_VOLUME_GB * ebs;
        let effects = vec![
            Effect::drop(id, Component::NatHours),
            Effect::drop(id, Component::NatBytes),
            Effect::add(format!("nat-instance:{id}"), instance + volume),
        ];
        let before = nat.monthly();
        let after = Baseline::of([nat]).after(&effects);
        let peak_mbits = nat.peak_hour_bytes.map(|b| b * 8.0 / 3600.0 / 1e6);
        let busy = peak_mbits.is_none_or(|p| p > BASELINE_MBITS);
        let mut evidence = vec![
            format!(
                "no per-GB processing fee: the NAT gateway's {} of data processing a month is not paid",
                usd(nat.monthly_of(Component::NatBytes))
            ),
            format!(
                "t4g.nano 730 h × {hour} = {}; 8 GB gp3 × {ebs} = {}; the NAT's Elastic IP moves to the instance, so its public IPv4 cost ({}/month) and the egress address stay",
                usd(instance),
                usd(volume),
                usd(nat.monthly_of(Component::PublicIpv4))
            ),
            "t4g instances run on CPU credits: sustained load can add credit charges (unlimited mode) or throttle (standard mode)".into(),
        ];
        let mut missing = Vec::new();
        match peak_mbits {
            Some(p) => evidence.push(format!(
                "busiest hour averaged {p:.1} Mbit/s (t4g.nano: {BASELINE_MBITS} Mbit/s baseline, 5 Gbit/s burst); a busy minute can be far above its hour's average"
            )),
            None => {
                missing.push(format!("BytesInFromSource/BytesInFromDestination of {id}"));
                evidence.push("no byte metrics: the instance cannot be sized".into());
            }
        }
        let mut changes = Changes {
            nats_deleted: vec![id.clone()],
            nats_added: vec![format!(
                "nat-instance {} {}",
                nat.vpc_id, nat.availability_zone
            )],
            ..Default::default()
        };
        let mut action = vec![format!(
            "launch fck-nat (t4g.nano, source/destination check off) in {}'s subnet and keep its instance id in $INSTANCE",
            nat.label()
        )];
        action.extend(reroute(
            region,
            id,
            "--instance-id \"$INSTANCE\"",
            &mut changes,
        ));
        action.push(format!(
            "aws ec2 delete-nat-gateway --region {r} --nat-gateway-id {id}"
        ));
        action.push(format!(
            "aws ec2 wait nat-gateway-deleted --region {r} --nat-gateway-ids {id}"
        ));
        for a in ctx.allocations(nat).iter().take(1) {
            action.push(format!(
                "aws ec2 associate-address --region {r} --allocation-id {a} --instance-id \"$INSTANCE\""
            ));
        }
        let mut s = Scenario {
            alternative: self.id(),
            region: r.to_string(),
            vpc_id: nat.vpc_id.clone(),
            resource_id: id.clone(),
            monthly_before: before,
            monthly_after: after,
            confidence: Confidence::Estimated,
            risk_level: if busy {
                RiskLevel::High
            } else {
                RiskLevel::Medium
            },
            risk: if busy {
                "traffic may exceed a t4g.nano's baseline: size up, and you patch and fail over the instance yourself".into()
            } else {
                "you patch, monitor and fail over the instance yourself".into()
            },
            action: action.join(" && "),
            evidence,
            changes,
            effects,
            missing_data: missing.clone(),
            ..Default::default()
        };
        if !missing.is_empty() {
            let worth = s.saving();
            measure_first(
                &mut s,
                "if the byte metrics show a t4g.nano can carry the traffic".into(),
                worth,
                recollect(r),
            );
            s.risk_level = RiskLevel::High;
        }
        Ok(s)
    }
}

//! `nat-instance`: a NAT instance (fck-nat on t4g.nano) instead of a NAT gateway: a cheap
//! hour, no per-GB processing fee, but you operate it.

use anyhow::Result;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::{usd, Alternative, Confidence, Context, RiskLevel, Scenario};
use crate::price::model::{Component, HOURS_PER_MONTH};
use crate::price::Item;

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
        for nat in ctx
            .model
            .nats
            .iter()
            .filter(|n| n.active_at_end && n.connectivity_type == "public")
        {
            let r = nat.region.as_str();
            let month = Decimal::from(HOURS_PER_MONTH);
            let hour = ctx.price(r, Item::NatInstanceHours)?;
            let ip = ctx.price(r, Item::PublicIpv4Hours)?;
            let ebs = ctx.price(r, Item::EbsGbMonth)?;
            let instance = month * hour;
            let volume = ROOT_VOLUME_GB * ebs;
            let address = month * ip;
            let after = instance + volume + address + nat.monthly_of(Component::InterAz);
            let peak_mbits = nat.peak_hour_bytes * 8.0 / 3600.0 / 1e6;
            let busy = peak_mbits > BASELINE_MBITS;
            let evidence = vec![
                format!(
                    "no per-GB processing fee: the NAT gateway's {} of data processing goes",
                    usd(nat.monthly_of(Component::NatBytes))
                ),
                format!(
                    "t4g.nano 730 h × {hour} = {}; 8 GB gp3 × {ebs} = {}; public IPv4 730 h × {ip} = {}",
                    usd(instance),
                    usd(volume),
                    usd(address)
                ),
                format!(
                    "busiest hour averaged {peak_mbits:.1} Mbit/s (t4g.nano: {BASELINE_MBITS} Mbit/s baseline, 5 Gbit/s burst)"
                ),
            ];
            out.push(Scenario {
                alternative: self.id(),
                region: r.to_string(),
                vpc_id: nat.vpc_id.clone(),
                resource_id: nat.nat_gateway_id.clone(),
                monthly_before: nat.monthly(),
                monthly_after: after,
                confidence: Confidence::Estimated,
                risk_level: if busy { RiskLevel::High } else { RiskLevel::Medium },
                risk: if busy {
                    "traffic exceeds a t4g.nano's baseline: size up, and you patch and fail over the instance yourself".into()
                } else {
                    "you patch, monitor and fail over the instance yourself".into()
                },
                action: format!(
                    "launch fck-nat (t4g.nano) in {}'s subnet, point the routes that use {} at its network interface, then delete the NAT gateway",
                    nat.availability_zone, nat.nat_gateway_id
                ),
                evidence,
            });
        }
        Ok(out)
    }
}

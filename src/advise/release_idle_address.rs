//! `release-idle-address`: Elastic IPs associated with nothing (a deleted NAT gateway keeps its
//! address), billed by the hour like any public IPv4 address until released.

use std::collections::BTreeMap;

use anyhow::Result;
use rust_decimal::Decimal;

use super::{usd, Alternative, Changes, Confidence, Context, Effect, RiskLevel, Scenario};
use crate::price::model::{Component, IdleAddress};

pub struct ReleaseIdleAddress;

impl Alternative for ReleaseIdleAddress {
    fn id(&self) -> &'static str {
        "release-idle-address"
    }

    fn scope(&self) -> &'static str {
        "the region's idle addresses"
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut by_region: BTreeMap<(&str, &str), Vec<&IdleAddress>> = BTreeMap::new();
        for a in &ctx.model.idle_addresses {
            by_region
                .entry((a.account_id.as_str(), a.region.as_str()))
                .or_default()
                .push(a);
        }
        Ok(by_region
            .into_iter()
            .map(|((account, region), addresses)| self.scenario(ctx, account, region, &addresses))
            .collect())
    }
}

impl ReleaseIdleAddress {
    fn scenario(
        &self,
        ctx: &Context,
        account: &str,
        r: &str,
        addresses: &[&IdleAddress],
    ) -> Scenario {
        let before: Decimal = addresses.iter().map(|a| a.monthly()).sum();
        let mut commands = Vec::new();
        let mut changes = Changes::default();
        let mut effects = Vec::new();
        let mut named = Vec::new();
        for a in addresses {
            commands.push(format!(
                "aws ec2 release-address --region {r} --allocation-id {}",
                a.allocation_id
            ));
            changes.addresses_released.push(a.allocation_id.clone());
            effects.push(Effect::drop(&a.allocation_id, Component::PublicIpv4));
            let mut about = vec![a.public_ip.clone()];
            about.extend(a.name.clone());
            if let Some(nat) = a.left_by.as_deref().and_then(|n| ctx.nat_gateway(n)) {
                let gone = nat
                    .delete_time
                    .map(|t| format!(", deleted {}", t.format("%Y-%m-%d")))
                    .unwrap_or_default();
                about.push(format!(
                    "the address of {} ({}{gone})",
                    nat.label(),
                    nat.nat_gateway_id
                ));
            }
            named.push(format!("{} ({})", a.allocation_id, about.join(", ")));
        }
        let first = &addresses[0].run_rate;
        let evidence = vec![
            format!(
                "{} Elastic IP(s) associated with nothing at collection: {}",
                addresses.len(),
                named.join("; ")
            ),
            format!(
                "{} × {} h × {} USD/h ({}) = {}/month: an idle public IPv4 address costs what an in-use one does",
                addresses.len(),
                first.quantity.unwrap_or_default().normalize(),
                first.unit_price,
                first.usage_type,
                usd(before)
            ),
            "release-address refuses an address that is associated again (InvalidIPAddress.InUse): nothing in use can be released by these commands".into(),
        ];
        let ids: Vec<&str> = addresses.iter().map(|a| a.allocation_id.as_str()).collect();
        let mut s = Scenario {
            monthly_before: before,
            monthly_after: Decimal::ZERO,
            risk: "a released address goes back to AWS and cannot be recovered: if partners allowlist it (it was a NAT gateway's egress address), or a NAT gateway is to be recreated with it, keep it and pay its hourly charge".into(),
            action: commands.join(" && "),
            evidence,
            changes,
            effects,
            ..Scenario::new(
                self,
                r,
                "",
                ids.join(";"),
                Confidence::Measured,
                RiskLevel::Medium,
            )
        };
        s.account_id = account.to_string();
        s
    }
}

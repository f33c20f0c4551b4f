//! `delete-idle-nat`: a NAT gateway nothing uses, still billed by the hour; and a near-idle one
//! whose few clients another NAT gateway of the VPC can serve.

use anyhow::Result;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::plan::{Baseline, Key, Phase};
use super::{
    measure_first, num, recollect, reroute, usd, Alternative, Confidence, Context, Effect,
    RiskLevel, Scenario, REMOVAL_ASSUMPTION,
};
use crate::price::model::{
    gb, per_month, Component, CostModel, NatCost, Placement, IDLE_RULE_DAYS,
};
use crate::price::Item;
use crate::topology::Topology;

pub struct DeleteIdleNat;

/// Near-idle: on average less than this a day over the window...
const NEAR_IDLE_GB_PER_DAY: Decimal = dec!(1);
/// ...and fewer connection attempts a day than this.
const NEAR_IDLE_CONNECTIONS_PER_DAY: f64 = 100.0;

impl Alternative for DeleteIdleNat {
    fn id(&self) -> &'static str {
        "delete-idle-nat"
    }

    fn phase(&self) -> Phase {
        Phase::DeleteIdle
    }

    fn scope(&self) -> &'static str {
        "one NAT"
    }

    fn assumptions(&self, _model: &CostModel) -> Vec<String> {
        vec![
            format!(
                "Near-idle NAT gateway: under {NEAR_IDLE_GB_PER_DAY} GB and {NEAR_IDLE_CONNECTIONS_PER_DAY} connection attempts a day on average over the window. Idle by AWS's rule: {IDLE_RULE_DAYS} days with no active connection and no packet in, and no route."
            ),
            // Every alternative that deletes NAT gateways does it by a Removal: said once, with
            // the first of them.
            REMOVAL_ASSUMPTION.to_string(),
        ]
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for (region, topo) in ctx.regions() {
            for nat in ctx
                .model
                .nats
                .iter()
                .filter(|n| n.is_in(region) && n.active_at_end)
            {
                if let Some(s) = self.idle(ctx, topo, nat) {
                    out.push(s);
                } else if let Some(s) = self.near_idle(ctx, topo, nat)? {
                    out.push(s);
                }
            }
        }
        Ok(out)
    }
}

impl DeleteIdleNat {
    fn idle(&self, ctx: &Context, topo: &Topology, nat: &NatCost) -> Option<Scenario> {
        let id = &nat.nat_gateway_id;
        let routed = topo.is_route_target(id);
        let mut evidence = Vec::new();
        let mut missing = Vec::new();
        let risk;
        if !routed {
            evidence.push("no route table sends traffic to it".to_string());
            risk = "check infrastructure code first: it may be recreated, or be a standby kept for failover";
        } else if nat.lambdas.is_empty() {
            match (nat.processed_gb, nat.connection_attempts) {
                (Some(g), Some(c)) if g.is_zero() && c == 0.0 => evidence.push(format!(
                    "0 bytes and 0 connection attempts over {}",
                    ctx.window_text()
                )),
                (Some(g), Some(c)) if !g.is_zero() || c > 0.0 => return None,
                _ => {
                    if nat.processed_gb.is_none() {
                        missing.push("BytesInFromSource/BytesInFromDestination");
                    }
                    if nat.connection_attempts.is_none() {
                        missing.push("ConnectionAttemptCount");
                    }
                }
            }
            risk = "routes still point at it: a standby NAT, or traffic rarer than the window, would lose egress";
        } else {
            // Lambda functions can be silent for weeks and still need egress when invoked.
            return None;
        }
        if nat.idle_by_aws_rule == Some(true) && !routed {
            evidence.push(format!(
                "AWS Compute Optimizer would flag it too: {IDLE_RULE_DAYS} days with no active connection, no packet in, and no route"
            ));
        }
        let removal = ctx.removal(nat);
        let mut effects = removal.effects;
        effects.push(Effect::drop(id, Component::NatBytes));
        effects.push(Effect::drop(id, Component::InterAz));
        evidence.push(format!("monthly run-rate {}", usd(nat.monthly())));
        let after = Baseline::of([nat]).after(&effects);
        if removal.kept_addresses > 0 {
            evidence.push(format!(
                "{} public address(es) without a known allocation stay billed ({}/month) until released",
                removal.kept_addresses,
                usd(after)
            ));
        }
        let risk_level = if routed {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        };
        let mut s = Scenario {
            monthly_before: nat.monthly(),
            monthly_after: after,
            risk: risk.to_string(),
            action: removal.commands.join(" && "),
            evidence,
            changes: removal.changes,
            effects,
            missing_data: missing.iter().map(|m| format!("{m} of {id}")).collect(),
            ..Scenario::new(
                self,
                &nat.region,
                &nat.vpc_id,
                id.clone(),
                Confidence::Measured,
                risk_level,
            )
        };
        if !missing.is_empty() {
            let worth = s.saving();
            measure_first(
                &mut s,
                format!("if {} confirm(s) it idle", missing.join(" and ")),
                worth,
                recollect(&nat.region),
            );
        }
        Some(s)
    }

    /// A NAT that moves almost nothing: its subnets can route to another NAT gateway of the VPC.
    fn near_idle(&self, ctx: &Context, topo: &Topology, nat: &NatCost) -> Result<Option<Scenario>> {
        let (Some(gb_window), Some(attempts)) = (nat.processed_gb, nat.connection_attempts) else {
            return Ok(None);
        };
        let days = Decimal::from(nat.billed_hours.min(ctx.snapshot.window.hours()).max(1))
            / Decimal::from(24);
        let gb_per_day = gb_window / days;
        let conn_per_day =
            attempts / rust_decimal::prelude::ToPrimitive::to_f64(&days).unwrap_or(1.0);
        if gb_per_day >= NEAR_IDLE_GB_PER_DAY || conn_per_day >= NEAR_IDLE_CONNECTIONS_PER_DAY {
            return Ok(None);
        }
        let r = nat.region.as_str();
        // The busiest other NAT of the same kind in the VPC takes its traffic.
        let Some(to) = ctx
            .active_nats(r, &nat.vpc_id)
            .into_iter()
            .filter(|n| {
                n.nat_gateway_id != nat.nat_gateway_id
                    && n.connectivity_type == nat.connectivity_type
            })
            .max_by_key(|n| (n.monthly_gb(), std::cmp::Reverse(n.nat_gateway_id.clone())))
        else {
            return Ok(None);
        };
        let id = &nat.nat_gateway_id;
        let inter_az = ctx.price(r, Item::InterAzBytes)?;
        // A regional NAT gateway serves every AZ from that AZ: nothing crosses.
        let crossing = match nat.crossing_bytes {
            Some(_) if to.availability_mode == Placement::Regional => Decimal::ZERO,
            Some(b) if to.availability_zone != nat.availability_zone => {
                per_month(gb(b), nat.billed_hours)
            }
            Some(_) => Decimal::ZERO,
            None => return Ok(None),
        };
        let added = crossing * Decimal::TWO * inter_az;
        let removal = ctx.removal(nat);
        let mut changes = removal.changes;
        let target = format!("--nat-gateway-id {}", to.nat_gateway_id);
        let mut commands = reroute(topo, id, &target, &mut changes);
        if topo.is_route_target(id) && commands.is_empty() {
            // Routes other than the default one point at it: not something to move blindly.
            return Ok(None);
        }
        commands.extend(removal.commands);
        changes.relies_on.push(Key::Nat(to.nat_gateway_id.clone()));
        let mut effects = removal.effects;
        if !added.is_zero() {
            effects.push(Effect::add(format!("inter-az:{id}"), added));
        }
        let before = nat.monthly();
        let after = Baseline::of([nat]).after(&effects);
        let evidence = vec![
            format!(
                "near-idle: {} GB and {:.0} connection attempts a day on average over {} (thresholds: {NEAR_IDLE_GB_PER_DAY} GB and {NEAR_IDLE_CONNECTIONS_PER_DAY} connection attempts a day)",
                num(gb_per_day),
                conn_per_day,
                ctx.window_text()
            ),
            format!(
                "{} ({}) takes its traffic{}",
                to.label(),
                to.availability_zone,
                if added.is_zero() {
                    String::new()
                } else {
                    format!(
                        ": {} GB/month crosses AZs × 2 directions × {inter_az} = {}/month",
                        num(crossing),
                        usd(added)
                    )
                }
            ),
            format!("monthly run-rate {}", usd(before)),
        ];
        Ok(Some(Scenario {
            monthly_before: before,
            monthly_after: after,
            risk: if to.availability_mode == Placement::Regional {
                format!("its clients move to the regional {}; their egress address changes, which partners may allowlist", to.label())
            } else {
                format!(
                    "its clients move to {}: an outage of {} then cuts their egress too; their egress address changes, which partners may allowlist",
                    to.label(),
                    to.availability_zone
                )
            },
            action: commands.join(" && "),
            evidence,
            changes,
            effects,
            ..Scenario::new(
                self,
                r,
                &nat.vpc_id,
                id.clone(),
                Confidence::Measured,
                RiskLevel::Medium,
            )
        }))
    }
}

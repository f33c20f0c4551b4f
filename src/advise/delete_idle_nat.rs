//! `delete-idle-nat`: a NAT gateway nothing uses, still billed by the hour.

use anyhow::Result;
use rust_decimal::Decimal;

use super::{usd, Alternative, Confidence, Context, RiskLevel, Scenario};

pub struct DeleteIdleNat;

impl Alternative for DeleteIdleNat {
    fn id(&self) -> &'static str {
        "delete-idle-nat"
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for (region, topo) in ctx.regions() {
            for nat in ctx
                .model
                .nats
                .iter()
                .filter(|n| n.region == region.region && n.active_at_end)
            {
                let id = &nat.nat_gateway_id;
                let routed = topo.is_route_target(id);
                let silent =
                    nat.processed_gb == Some(Decimal::ZERO) && nat.connection_attempts == 0.0;
                let mut evidence = Vec::new();
                let risk;
                if !routed {
                    evidence.push("no route table sends traffic to it".to_string());
                    risk = "check infrastructure code first: it may be recreated, or be a standby kept for failover";
                } else if silent && nat.lambdas.is_empty() {
                    evidence.push(format!(
                        "0 bytes and 0 connection attempts over {}",
                        ctx.window_text()
                    ));
                    risk = "routes still point at it: a standby NAT, or traffic rarer than the window, would lose egress";
                } else {
                    // Lambda functions can be silent for weeks and still need egress when invoked.
                    continue;
                }
                evidence.push(format!("monthly run-rate {}", usd(nat.monthly())));
                let mut action = format!(
                    "aws ec2 delete-nat-gateway --region {} --nat-gateway-id {id}",
                    region.region
                );
                let nat_gw = topo.nat(id);
                for alloc in nat_gw
                    .iter()
                    .flat_map(|n| &n.addresses)
                    .filter_map(|a| a.allocation_id.as_deref())
                {
                    action.push_str(&format!(
                        " && aws ec2 release-address --region {} --allocation-id {alloc}",
                        region.region
                    ));
                }
                out.push(Scenario {
                    alternative: self.id(),
                    region: region.region.clone(),
                    vpc_id: nat.vpc_id.clone(),
                    resource_id: id.clone(),
                    monthly_before: nat.monthly(),
                    monthly_after: Decimal::ZERO,
                    confidence: Confidence::Measured,
                    risk_level: if routed {
                        RiskLevel::Medium
                    } else {
                        RiskLevel::Low
                    },
                    risk: risk.to_string(),
                    action,
                    evidence,
                });
            }
        }
        Ok(out)
    }
}

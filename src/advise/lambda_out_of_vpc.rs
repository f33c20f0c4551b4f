//! `lambda-out-of-vpc`: when only Lambda functions sit behind a VPC's NAT gateways, taking
//! them out of the VPC (if they reach nothing private) lets the NAT gateways go.

use anyhow::Result;

use super::plan::Baseline;
use super::{sum, usd, Alternative, Changes, Confidence, Context, Effect, RiskLevel, Scenario};
use crate::price::model::{Component, NatCost};

pub struct LambdaOutOfVpc;

impl Alternative for LambdaOutOfVpc {
    fn id(&self) -> &'static str {
        "lambda-out-of-vpc"
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for (region, topo) in ctx.regions() {
            let r = region.region.as_str();
            for vpc in topo.vpcs_with_nats() {
                let nats = ctx.active_nats(r, vpc);
                let serving: Vec<&NatCost> = nats
                    .iter()
                    .copied()
                    .filter(|n| !n.lambdas.is_empty())
                    .collect();
                if serving.is_empty() || nats.iter().any(|n| n.other_enis > 0) {
                    continue;
                }
                let mut functions: Vec<&str> = serving
                    .iter()
                    .flat_map(|n| n.lambdas.iter().map(String::as_str))
                    .collect();
                functions.sort_unstable();
                functions.dedup();
                let before = sum(nats.iter().copied(), NatCost::monthly);
                let ids: Vec<&str> = nats.iter().map(|n| n.nat_gateway_id.as_str()).collect();
                let mut action: Vec<String> = functions
                    .iter()
                    .map(|f| {
                        format!(
                            "aws lambda update-function-configuration --region {r} --function-name {f} --vpc-config SubnetIds=[],SecurityGroupIds=[]"
                        )
                    })
                    .collect();
                let mut changes = Changes {
                    functions_moved: functions.iter().map(|f| format!("{r} {f}")).collect(),
                    ..Default::default()
                };
                let mut effects = Vec::new();
                for n in &nats {
                    ctx.removal(n)
                        .append_to(&mut action, &mut changes, &mut effects);
                    effects.push(Effect::drop(&n.nat_gateway_id, Component::NatBytes));
                    effects.push(Effect::drop(&n.nat_gateway_id, Component::InterAz));
                }
                let after = Baseline::of(nats.iter().copied()).after(&effects);
                let evidence = vec![
                    format!(
                        "only Lambda functions use {} ({}): no other network interface sits in the subnets routed to them",
                        ids.join(", "),
                        functions.join(", ")
                    ),
                    format!("these NAT gateways cost {}/month at the window's rate; deleting them and releasing their addresses saves it", usd(before)),
                    "outside a VPC a function reaches the internet and AWS APIs without a NAT gateway".into(),
                ];
                out.push(Scenario {
                    alternative: self.id(),
                    region: r.to_string(),
                    vpc_id: vpc.to_string(),
                    resource_id: ids.join(";"),
                    monthly_before: before,
                    monthly_after: after,
                    confidence: Confidence::Estimated,
                    risk_level: RiskLevel::Medium,
                    risk: "functions that reach private resources (RDS, ElastiCache, internal APIs) must stay in the VPC; calls leave from AWS's addresses instead of the NAT's fixed public IP, which partners may allowlist".into(),
                    action: action.join(" && "),
                    evidence,
                    changes,
                    effects,
                    ..Default::default()
                });
            }
        }
        Ok(out)
    }
}

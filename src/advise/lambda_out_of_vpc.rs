//! `lambda-out-of-vpc`: when only Lambda functions sit behind a VPC's NAT gateways, taking
//! them out of the VPC (if they reach nothing private) lets the NAT gateways go.

use anyhow::Result;
use rust_decimal::Decimal;

use super::{sum, usd, Alternative, Confidence, Context, RiskLevel, Scenario};
use crate::price::model::NatCost;

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
                let evidence = vec![
                    format!(
                        "only Lambda functions use {} ({}): no other network interface sits in the subnets routed to them",
                        ids.join(", "),
                        functions.join(", ")
                    ),
                    format!("these NAT gateways cost {}/month at the window's rate", usd(before)),
                    "outside a VPC a function reaches the internet and AWS APIs without a NAT gateway".into(),
                ];
                let mut action: Vec<String> = functions
                    .iter()
                    .map(|f| {
                        format!(
                            "aws lambda update-function-configuration --region {r} --function-name {f} --vpc-config SubnetIds=[],SecurityGroupIds=[]"
                        )
                    })
                    .collect();
                action.extend(ids.iter().map(|id| {
                    format!("aws ec2 delete-nat-gateway --region {r} --nat-gateway-id {id}")
                }));
                out.push(Scenario {
                    alternative: self.id(),
                    region: r.to_string(),
                    vpc_id: vpc.to_string(),
                    resource_id: ids.join(";"),
                    monthly_before: before,
                    monthly_after: Decimal::ZERO,
                    confidence: Confidence::Estimated,
                    risk_level: RiskLevel::Medium,
                    risk: "functions that reach private resources (RDS, ElastiCache, internal APIs) must stay in the VPC".into(),
                    action: action.join(" && "),
                    evidence,
                });
            }
        }
        Ok(out)
    }
}

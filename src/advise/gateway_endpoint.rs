//! `s3-gateway-endpoint` / `dynamodb-gateway-endpoint`: free gateway endpoints take that
//! traffic off the NAT gateway.

use anyhow::Result;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::{num, sum, usd, Alternative, Confidence, Context, RiskLevel, Scenario};
use crate::price::model::{Component, NatCost};

pub struct GatewayEndpoint {
    id: &'static str,
    service: &'static str,
    label: &'static str,
}

impl GatewayEndpoint {
    pub const S3: GatewayEndpoint = GatewayEndpoint {
        id: "s3-gateway-endpoint",
        service: "s3",
        label: "S3",
    };
    pub const DYNAMODB: GatewayEndpoint = GatewayEndpoint {
        id: "dynamodb-gateway-endpoint",
        service: "dynamodb",
        label: "DynamoDB",
    };
}

/// Without traffic attribution the saving is stated per tenth of the NAT traffic.
const SHARE: Decimal = dec!(0.1);

impl Alternative for GatewayEndpoint {
    fn id(&self) -> &'static str {
        self.id
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for (region, topo) in ctx.regions() {
            let r = region.region.as_str();
            for vpc in topo.vpcs_with_nats() {
                let nats = ctx.active_nats(r, vpc);
                if nats.iter().all(|n| n.lambdas.is_empty()) {
                    continue;
                }
                let nat_tables: Vec<&str> = topo
                    .nat_route_tables(vpc)
                    .iter()
                    .map(|rt| rt.route_table_id.as_str())
                    .collect();
                let endpoint = topo.gateway_endpoint(vpc, self.service);
                let missing: Vec<&str> = match endpoint {
                    None => nat_tables.clone(),
                    Some(e) => nat_tables
                        .iter()
                        .copied()
                        .filter(|t| !e.route_table_ids.iter().any(|x| x == t))
                        .collect(),
                };
                if missing.is_empty() {
                    continue;
                }
                let bytes_cost = sum(nats.iter().copied(), |n| n.monthly_of(Component::NatBytes));
                let gb = sum(nats.iter().copied(), NatCost::monthly_gb);
                let before = sum(nats.iter().copied(), NatCost::monthly);
                let saving = (bytes_cost * SHARE).round_dp(9);
                let lambdas: usize = count_lambdas(&nats);
                let mut evidence = vec![match endpoint {
                    None => format!("no {} gateway endpoint in {vpc}", self.label),
                    Some(e) => format!(
                        "{} is not associated with route tables {}",
                        e.vpc_endpoint_id,
                        missing.join(", ")
                    ),
                }];
                evidence.push(format!(
                    "{lambdas} Lambda functions reach the internet through {} NAT gateway(s) here",
                    nats.len()
                ));
                evidence.push(format!(
                    "NAT data processing {} GB/month = {}; each 10% of it that is {} traffic saves {}",
                    num(gb),
                    usd(bytes_cost),
                    self.label,
                    usd(saving)
                ));
                evidence.push(
                    "traffic by destination unknown: add VPC flow logs to measure the share".into(),
                );
                let action = match endpoint {
                    None => format!(
                        "aws ec2 create-vpc-endpoint --region {r} --vpc-id {vpc} --vpc-endpoint-type Gateway --service-name com.amazonaws.{r}.{} --route-table-ids {}",
                        self.service,
                        missing.join(" ")
                    ),
                    Some(e) => format!(
                        "aws ec2 modify-vpc-endpoint --region {r} --vpc-endpoint-id {} --add-route-table-ids {}",
                        e.vpc_endpoint_id,
                        missing.join(" ")
                    ),
                };
                out.push(Scenario {
                    alternative: self.id,
                    region: r.to_string(),
                    vpc_id: vpc.to_string(),
                    resource_id: endpoint
                        .map(|e| e.vpc_endpoint_id.clone())
                        .unwrap_or_else(|| vpc.to_string()),
                    monthly_before: before,
                    monthly_after: before - saving,
                    confidence: Confidence::NeedsData,
                    risk_level: RiskLevel::Low,
                    risk: format!(
                        "{} policies that match on aws:SourceIp stop matching (use aws:SourceVpce)",
                        if self.service == "s3" {
                            "bucket"
                        } else {
                            "table"
                        }
                    ),
                    action,
                    evidence,
                });
            }
        }
        Ok(out)
    }
}

pub(super) fn count_lambdas(nats: &[&NatCost]) -> usize {
    let mut names: Vec<&str> = nats
        .iter()
        .flat_map(|n| n.lambdas.iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

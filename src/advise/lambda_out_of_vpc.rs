//! `lambda-out-of-vpc`: when only Lambda functions sit behind a VPC's NAT gateways, taking
//! them out of the VPC (if they reach nothing private) lets the NAT gateways go.

use anyhow::Result;

use std::collections::BTreeSet;

use super::plan::Baseline;
use super::{
    measure_first, recollect, sum, usd, Alternative, Changes, Confidence, Context, Effect,
    RiskLevel, Scenario, VpcNats,
};
use crate::price::model::{Component, NatCost};
use crate::snapshot::NetworkInterface;
use crate::topology::Topology;

/// How many other resources evidence and risk name before "and N more".
const LISTED: usize = 10;

/// Interface types that are no private resource a function could be calling.
const INFRASTRUCTURE: [&str; 3] = ["lambda", "nat_gateway", "vpc_endpoint"];

/// The network interfaces of the NAT gateways (moto types them as plain interfaces).
fn nat_enis<'a>(nats: &[&'a NatCost], ctx: &Context<'a>) -> BTreeSet<&'a str> {
    nats.iter()
        .filter_map(|n| ctx.nat_gateway(&n.nat_gateway_id))
        .flat_map(|n| &n.addresses)
        .filter_map(|a| a.network_interface_id.as_deref())
        .collect()
}

/// Everything in the VPC but Lambda, NAT gateway and endpoint interfaces: RDS, ElastiCache,
/// EFS, EC2, load balancers...
fn private_resources<'a>(
    topo: &Topology<'a>,
    vpc: &str,
    nat_enis: &BTreeSet<&str>,
) -> Vec<&'a NetworkInterface> {
    topo.interfaces_in_vpc(vpc)
        .iter()
        .copied()
        .filter(|e| !INFRASTRUCTURE.contains(&e.interface_type.as_str()))
        .filter(|e| !nat_enis.contains(e.network_interface_id.as_str()))
        .collect()
}

/// `eni-1 (RDSNetworkInterface, 10.0.3.4)`.
fn describe(e: &NetworkInterface) -> String {
    let what: Vec<&str> = [e.description.as_deref(), e.private_ip_address.as_deref()]
        .into_iter()
        .flatten()
        .filter(|t| !t.is_empty())
        .collect();
    if what.is_empty() {
        e.network_interface_id.clone()
    } else {
        format!("{} ({})", e.network_interface_id, what.join(", "))
    }
}

pub struct LambdaOutOfVpc;

impl Alternative for LambdaOutOfVpc {
    fn id(&self) -> &'static str {
        "lambda-out-of-vpc"
    }

    fn scope(&self) -> &'static str {
        "the VPC's NATs"
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for VpcNats {
            region,
            topo,
            vpc,
            nats,
        } in ctx.vpcs_with_nats()
        {
            let r = region.region.as_str();
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
            // Each function's update finishes before the NAT gateways go: until then it still
            // runs in the VPC.
            let mut action: Vec<String> = functions
                .iter()
                .flat_map(|f| {
                    [
                        format!(
                            "aws lambda update-function-configuration --region {r} --function-name={f} --vpc-config SubnetIds=[],SecurityGroupIds=[]"
                        ),
                        format!(
                            "aws lambda wait function-updated-v2 --region {r} --function-name={f}"
                        ),
                    ]
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
            let private = private_resources(topo, vpc, &nat_enis(&nats, ctx));
            let mut evidence = vec![
                format!(
                    "only Lambda functions use {} ({}): no other network interface sits in the subnets routed to them",
                    ids.join(", "),
                    functions.join(", ")
                ),
                format!("these NAT gateways cost {}/month at the window's rate; deleting them and releasing their addresses saves it", usd(before)),
                "outside a VPC a function reaches the internet and AWS APIs without a NAT gateway".into(),
            ];
            let mut risk = vec!["calls leave from AWS's addresses instead of the NAT gateways' fixed public IPs, which partners may allowlist".to_string()];
            let gateway_endpoints: Vec<&str> = topo
                .endpoints_in(vpc)
                .iter()
                .filter(|e| e.is_gateway())
                .map(|e| e.vpc_endpoint_id.as_str())
                .collect();
            if !gateway_endpoints.is_empty() {
                risk.push(format!(
                    "bucket or table policies that match aws:SourceVpce ({}) stop matching once the functions leave the VPC",
                    gateway_endpoints.join(", ")
                ));
            }
            let whole_vpc = region.has_every_interface();
            if !whole_vpc {
                evidence.push(format!(
                    "this snapshot does not hold every network interface of {vpc} (collected before natcost kept them all, or DescribeNetworkInterfaces was denied): what else lives there is unknown"
                ));
                risk.insert(0, "the functions may reach private resources in the VPC that this snapshot does not show".into());
            } else if private.is_empty() {
                evidence.push(format!(
                    "nothing but Lambda, NAT gateway and VPC endpoint interfaces lives anywhere in {vpc}: the functions have nothing private to reach there"
                ));
                risk.insert(0, "functions that reach private resources elsewhere (peered VPCs, on-premises, internal APIs) must stay in a VPC".into());
            } else {
                let mut names: Vec<String> =
                    private.iter().take(LISTED).map(|e| describe(e)).collect();
                if private.len() > LISTED {
                    names.push(format!("and {} more", private.len() - LISTED));
                }
                evidence.push(format!(
                    "{} other resource(s) live in {vpc}, which the functions may reach: {}",
                    private.len(),
                    names.join(", ")
                ));
                risk.insert(
                    0,
                    format!(
                        "outside the VPC the functions cannot reach {}",
                        names.join(", ")
                    ),
                );
            }
            // High when the functions may reach something private in the VPC, or nobody knows
            // (both measure first, below).
            let risk_level = if whole_vpc && private.is_empty() {
                RiskLevel::Medium
            } else {
                RiskLevel::High
            };
            let mut s = Scenario {
                monthly_before: before,
                monthly_after: after,
                risk: risk.join("; "),
                action: action.join(" && "),
                evidence,
                changes,
                effects,
                ..Scenario::new(
                    self,
                    r,
                    vpc,
                    ids.join(";"),
                    Confidence::Estimated,
                    risk_level,
                )
            };
            if !whole_vpc {
                s.missing_data = vec![format!("every network interface of {vpc}")];
                let worth = s.saving();
                measure_first(
                    &mut s,
                    "if nothing private lives in the VPC".into(),
                    worth,
                    recollect(r),
                );
            } else if !private.is_empty() {
                s.missing_data = vec![format!(
                    "whether the functions talk to the other resources in {vpc}"
                )];
                let worth = s.saving();
                let ips: Vec<&str> = private
                    .iter()
                    .take(LISTED)
                    .filter_map(|e| e.private_ip_address.as_deref())
                    .collect();
                measure_first(
                    &mut s,
                    "if none of the functions reaches the VPC's other resources".into(),
                    worth,
                    format!(
                        "look for the resources' private addresses ({}{}) in flow logs of the functions' Lambda interfaces, or in the functions' configuration and code",
                        ips.join(", "),
                        if private.len() > LISTED { ", ..." } else { "" }
                    ),
                );
            }
            out.push(s);
        }
        Ok(out)
    }
}

//! `ipv6-egress-only`: dual-stack Lambda functions reach IPv6 destinations through a free
//! egress-only internet gateway instead of the NAT gateway.

use anyhow::Result;
use rust_decimal_macros::dec;

use super::gateway_endpoint::vpc_label;
use super::plan::{RouteChange, RouteTo};
use super::{
    how_to_measure, measure_first, sum, usd, Alternative, Changes, Confidence, Context, Effect,
    RiskLevel, Scenario, VpcNats,
};
use crate::price::model::{Component, NatCost};

pub struct Ipv6EgressOnly;

impl Alternative for Ipv6EgressOnly {
    fn id(&self) -> &'static str {
        "ipv6-egress-only"
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
            if nats.iter().all(|n| n.lambdas.is_empty()) {
                continue;
            }
            let functions: Vec<_> = topo.lambdas_in_vpc(vpc).to_vec();
            let dual = functions
                .iter()
                .filter(|f| {
                    f.vpc_config
                        .as_ref()
                        .is_some_and(|c| c.ipv6_allowed_for_dual_stack)
                })
                .count();
            let has_ipv6 = region
                .vpcs
                .iter()
                .any(|v| v.vpc_id == vpc && !v.ipv6_cidr_blocks.is_empty());
            let eigw = region
                .egress_only_internet_gateways
                .iter()
                .find(|g| g.vpc_ids.iter().any(|v| v == vpc));
            let bytes_cost = sum(nats.iter().copied(), |n| n.monthly_of(Component::NatBytes));
            let before = sum(nats.iter().copied(), NatCost::monthly);
            let saving = (bytes_cost * dec!(0.1)).round_dp(9);
            let evidence = vec![
                format!(
                    "VPC IPv6 CIDR: {}; egress-only internet gateway: {}",
                    if has_ipv6 { "yes" } else { "no" },
                    eigw.map(|g| g.id.as_str()).unwrap_or("none")
                ),
                format!("{dual} of {} functions allow IPv6 for dual-stack", functions.len()),
                format!(
                    "NAT data processing costs {}/month here; each 10% of it that goes to dual-stack destinations saves {}",
                    usd(bytes_cost),
                    usd(saving)
                ),
                "share of IPv6-capable destinations unknown: add VPC flow logs to measure it".into(),
            ];
            let mut steps = Vec::new();
            let mut notes = Vec::new();
            if !has_ipv6 {
                steps.push(format!("aws ec2 associate-vpc-cidr-block --region {r} --vpc-id {vpc} --amazon-provided-ipv6-cidr-block"));
            }
            let mut v4_only: Vec<&str> = functions
                .iter()
                .flat_map(|f| f.subnet_ids())
                .filter_map(|s| topo.subnet(s))
                .filter(|s| s.ipv6_cidr_blocks.is_empty())
                .map(|s| s.subnet_id.as_str())
                .collect();
            v4_only.sort_unstable();
            v4_only.dedup();
            if !v4_only.is_empty() {
                notes.push(format!(
                    "then give {} an IPv6 /64 each from the VPC's IPv6 block (aws ec2 associate-subnet-cidr-block --region {r} --subnet-id SUBNET --ipv6-cidr-block CIDR): which /64 goes where is your addressing plan",
                    v4_only.join(", ")
                ));
            }
            let eigw_id = match eigw {
                Some(g) => g.id.clone(),
                None => {
                    steps.push(format!(
                        "EIGW=$(aws ec2 create-egress-only-internet-gateway --region {r} --vpc-id {vpc} --query EgressOnlyInternetGateway.EgressOnlyInternetGatewayId --output text)"
                    ));
                    "\"$EIGW\"".to_string()
                }
            };
            for t in topo.nat_route_tables(vpc) {
                // A table that already sends ::/0 somewhere keeps its route (create-route
                // would fail on it): said in a note.
                match t.routes.iter().find(|x| x.destination == "::/0") {
                    Some(x) => notes.push(format!(
                        "{} already routes ::/0 to {}: check it is the egress-only gateway",
                        t.route_table_id, x.target_id
                    )),
                    None => steps.push(format!(
                        "aws ec2 create-route --region {r} --route-table-id {} --destination-ipv6-cidr-block ::/0 --egress-only-internet-gateway-id {eigw_id}",
                        t.route_table_id
                    )),
                }
            }
            // Lambda refuses dual-stack until every subnet of the function has IPv6: while
            // some lack it, the updates come after that note, not in the action.
            let updates: Vec<String> = functions
                .iter()
                .filter_map(|f| f.vpc_config.as_ref().map(|c| (f, c)))
                .filter(|(_, c)| !c.ipv6_allowed_for_dual_stack)
                .map(|(f, c)| {
                    format!(
                        "aws lambda update-function-configuration --region {r} --function-name={} --vpc-config SubnetIds={},SecurityGroupIds={},Ipv6AllowedForDualStack=true",
                        f.function_name,
                        c.subnet_ids.join(","),
                        c.security_group_ids.join(",")
                    )
                })
                .collect();
            if v4_only.is_empty() {
                steps.extend(updates);
            } else if !updates.is_empty() {
                notes.push(format!(
                    "and only then allow IPv6 for the functions: {}",
                    updates.join(" && ")
                ));
            }
            let effects = nats
                .iter()
                .map(|n| {
                    let cut = (n.monthly_of(Component::NatBytes) * dec!(0.1)).round_dp(9);
                    Effect::cut(&n.nat_gateway_id, Component::NatBytes, cut)
                })
                .collect();
            let changes = Changes {
                routes_changed: topo
                    .nat_route_tables(vpc)
                    .iter()
                    .map(|t| RouteChange::route(&t.route_table_id, RouteTo::DefaultIpv6))
                    .collect(),
                functions_moved: functions
                    .iter()
                    .map(|f| format!("{r} {}", f.function_name))
                    .collect(),
                ..Default::default()
            };
            let mut s = Scenario {
                monthly_before: before,
                monthly_after: before - saving,
                risk:
                    "only destinations with IPv6 addresses move; the NAT gateway stays for IPv4; those calls leave from the functions' own IPv6 addresses, not the NAT's fixed IPv4 address that partners may allowlist"
                        .into(),
                action: steps.join(" && "),
                notes,
                evidence,
                changes,
                effects,
                ..Scenario::new(
                    self,
                    r,
                    vpc,
                    vpc.to_string(),
                    Confidence::NeedsData,
                    RiskLevel::Low,
                )
            };
            measure_first(
                &mut s,
                format!(
                    "each 10% of {}'s NAT bytes that goes to dual-stack destinations",
                    vpc_label(region, vpc)
                ),
                saving,
                how_to_measure(ctx, region, &nats),
            );
            out.push(s);
        }
        Ok(out)
    }
}

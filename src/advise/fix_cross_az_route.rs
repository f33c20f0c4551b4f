//! `fix-cross-az-route`: a subnet whose default route goes to a NAT gateway in another AZ
//! pays inter-AZ transfer on every byte, and loses egress when that AZ fails.

use anyhow::Result;
use rust_decimal::Decimal;

use super::{num, usd, Alternative, Confidence, Context, RiskLevel, Scenario};
use crate::price::model::{gb, per_month, HOURS_PER_MONTH};
use crate::price::Item;
use crate::topology::route_table_of;

pub struct FixCrossAzRoute;

impl Alternative for FixCrossAzRoute {
    fn id(&self) -> &'static str {
        "fix-cross-az-route"
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for (region, topo) in ctx.regions() {
            let r = region.region.as_str();
            let inter_az = ctx.price(r, Item::InterAzBytes)?;
            for nat in ctx
                .model
                .nats
                .iter()
                .filter(|n| n.region == r && n.active_at_end)
            {
                for (subnet, share) in topo.subnet_shares(&nat.nat_gateway_id) {
                    if subnet.availability_zone == nat.availability_zone {
                        continue;
                    }
                    let crossing = per_month(gb(nat.crossing_bytes * share), nat.billed_hours);
                    let cost = crossing * Decimal::TWO * inter_az;
                    let local = ctx
                        .active_nats(r, &nat.vpc_id)
                        .into_iter()
                        .find(|n| n.availability_zone == subnet.availability_zone);
                    let rt = route_table_of(region, subnet);
                    let rt_id = rt.map(|t| t.route_table_id.as_str()).unwrap_or("(main)");
                    let shared_table = rt.is_some_and(|t| {
                        t.main
                            || t.subnet_ids.iter().any(|s| {
                                topo.az_of(s)
                                    .is_some_and(|az| az != subnet.availability_zone)
                            })
                    });
                    let mut evidence = vec![
                        format!(
                            "{} ({}) routes 0.0.0.0/0 via {rt_id} to {} in {}",
                            subnet.subnet_id, subnet.availability_zone, nat.nat_gateway_id, nat.availability_zone
                        ),
                        format!(
                            "estimated {:.0}% of the NAT's client traffic comes from it: {} GB/month × 2 directions × {inter_az} = {}/month",
                            share * 100.0,
                            num(crossing),
                            usd(cost)
                        ),
                    ];
                    let (after, action, confidence) = match local {
                        Some(local) => {
                            evidence.push(format!(
                                "{} already serves {}",
                                local.nat_gateway_id, local.availability_zone
                            ));
                            let action = if shared_table {
                                format!(
                                    "aws ec2 create-route-table --region {r} --vpc-id {vpc}, add 0.0.0.0/0 → {local_nat}, then aws ec2 replace-route-table-association for {subnet_id}",
                                    vpc = nat.vpc_id,
                                    local_nat = local.nat_gateway_id,
                                    subnet_id = subnet.subnet_id
                                )
                            } else {
                                format!(
                                    "aws ec2 replace-route --region {r} --route-table-id {rt_id} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id {}",
                                    local.nat_gateway_id
                                )
                            };
                            (Decimal::ZERO, action, Confidence::Estimated)
                        }
                        None => {
                            let month = Decimal::from(HOURS_PER_MONTH);
                            let new_nat = month * ctx.price(r, Item::NatHours)?
                                + month * ctx.price(r, Item::PublicIpv4Hours)?;
                            evidence.push(format!(
                                "no NAT gateway in {}: a new one costs {}/month (hours and public IPv4)",
                                subnet.availability_zone,
                                usd(new_nat)
                            ));
                            let action = format!(
                                "aws ec2 create-nat-gateway --region {r} --subnet-id PUBLIC-SUBNET-IN-{} --allocation-id EIP, then route {} to it",
                                subnet.availability_zone, subnet.subnet_id
                            );
                            (new_nat, action, Confidence::Estimated)
                        }
                    };
                    out.push(Scenario {
                        alternative: self.id(),
                        region: r.to_string(),
                        vpc_id: nat.vpc_id.clone(),
                        resource_id: subnet.subnet_id.clone(),
                        monthly_before: cost,
                        monthly_after: after,
                        confidence,
                        risk_level: RiskLevel::Low,
                        risk: format!(
                            "none added: today an outage of {} also cuts {}'s egress",
                            nat.availability_zone, subnet.availability_zone
                        ),
                        action,
                        evidence,
                    });
                }
            }
        }
        Ok(out)
    }
}

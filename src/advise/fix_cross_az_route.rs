//! `fix-cross-az-route`: a subnet whose default route goes to a NAT gateway in another AZ
//! pays inter-AZ transfer on every byte, and loses egress when that AZ fails.

use anyhow::Result;
use rust_decimal::Decimal;

use super::plan::{Key, Phase, RouteChange, RouteTo};
use super::{
    az_suffix, measure_first, num, recollect, usd, Alternative, Changes, Confidence, Context,
    Effect, RiskLevel, Scenario,
};
use crate::price::model::{
    gb, per_month, Component, Connectivity, NatCost, Placement, HOURS_PER_MONTH,
};
use crate::price::Item;
use crate::snapshot::{RegionSnapshot, RouteTable, Subnet, TargetType};
use crate::topology::Topology;

pub struct FixCrossAzRoute;

impl Alternative for FixCrossAzRoute {
    fn id(&self) -> &'static str {
        "fix-cross-az-route"
    }

    fn phase(&self) -> Phase {
        Phase::FixRoutes
    }

    fn scope(&self) -> &'static str {
        "one subnet's inter-AZ"
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for (region, topo) in ctx.regions() {
            let r = region.region.as_str();
            let inter_az = ctx.price(r, Item::InterAzBytes)?;
            for nat in ctx.model.nats.iter().filter(|n| {
                n.is_in(region) && n.active_at_end && n.availability_mode == Placement::Zonal
            }) {
                for (subnet, share) in ctx.subnet_shares(topo, &nat.nat_gateway_id) {
                    if subnet.availability_zone == nat.availability_zone {
                        continue;
                    }
                    let crossing = nat
                        .crossing_bytes
                        .map(|b| per_month(gb(b * share), nat.billed_hours));
                    let cost = crossing.unwrap_or_default() * Decimal::TWO * inter_az;
                    // Only a public NAT gateway may take a subnet's default route.
                    // A regional NAT gateway is local to every AZ.
                    let local = ctx.active_nats(r, &nat.vpc_id).into_iter().find(|n| {
                        (n.availability_zone == subnet.availability_zone
                            || n.availability_mode == Placement::Regional)
                            && n.connectivity_type == Connectivity::Public
                    });
                    let rt = topo.route_table_of(subnet);
                    let rt_id = rt.map(|t| t.route_table_id.as_str()).unwrap_or("(main)");
                    let shared_table = rt.is_some_and(|t| {
                        t.main
                            || t.subnet_ids.iter().any(|s| {
                                topo.az_of(s)
                                    .is_some_and(|az| az != subnet.availability_zone)
                            })
                    });
                    let mut evidence = vec![format!(
                        "{} ({}) routes 0.0.0.0/0 via {rt_id} to {} in {}",
                        subnet.subnet_id,
                        subnet.availability_zone,
                        nat.nat_gateway_id,
                        nat.availability_zone
                    )];
                    if let Some(c) = crossing {
                        evidence.push(format!(
                            "an estimated {:.0}% of the NAT's client traffic comes from it: {} GB/month × 2 directions × {inter_az} = {}/month",
                            share * 100.0,
                            num(c),
                            usd(cost)
                        ));
                    }
                    let mut changes = Changes::default();
                    let mut effects =
                        vec![Effect::cut(&nat.nat_gateway_id, Component::InterAz, cost)];
                    let target = match local {
                        Some(local) => {
                            evidence.push(format!(
                                "{} already serves {}",
                                local.label(),
                                local.availability_zone
                            ));
                            changes
                                .relies_on
                                .push(Key::Nat(local.nat_gateway_id.clone()));
                            local.nat_gateway_id.clone()
                        }
                        None => {
                            let month = Decimal::from(HOURS_PER_MONTH);
                            let new_nat = month * ctx.price(r, Item::NatHours)?
                                + month * ctx.price(r, Item::PublicIpv4Hours)?;
                            evidence.push(format!(
                                "no public NAT gateway in {}: a new one costs {}/month (hours and public IPv4)",
                                subnet.availability_zone,
                                usd(new_nat)
                            ));
                            let key = format!("{} {}", nat.vpc_id, subnet.availability_zone);
                            effects.push(Effect::add(format!("new-nat:{key}"), new_nat));
                            changes.nats_added.push(key);
                            "\"$NAT\"".to_string()
                        }
                    };
                    let local_label = local.map_or("the new NAT gateway", |l| l.label());
                    let mut commands = Vec::new();
                    let mut notes = Vec::new();
                    if local.is_none() {
                        commands.extend(new_nat_commands(topo, subnet));
                        let az = &subnet.availability_zone;
                        if topo.public_subnet_in(&nat.vpc_id, az).is_none() {
                            notes.push(format!(
                                "{} has no public subnet in {az}: create one (its route table sending 0.0.0.0/0 to the internet gateway) and set PUBLIC_SUBNET_{} to its id first",
                                nat.vpc_id,
                                az_suffix(r, az)
                            ));
                        }
                    }
                    match (rt, shared_table) {
                        (Some(t), false) => {
                            commands.push(format!(
                                "aws ec2 replace-route --region {r} --route-table-id {} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id {target}",
                                t.route_table_id
                            ));
                            changes
                                .routes_changed
                                .push(RouteChange::route(&t.route_table_id, RouteTo::DefaultIpv4));
                        }
                        _ => {
                            commands.extend(new_table_commands(region, subnet, rt, &target));
                            // The new table copies the old one's routes, and joins the gateway
                            // endpoints the old one has when it runs: after the plan's
                            // endpoint steps (an order, not a conflict).
                            changes
                                .routes_changed
                                .push(RouteChange::association(&subnet.subnet_id));
                        }
                    }
                    let mut s = Scenario {
                        monthly_before: cost,
                        monthly_after: cost - super::plan::Baseline::of([nat]).saving(&effects),
                        risk: format!(
                            "none added: today an outage of {} also cuts {}'s egress; the subnet's traffic leaves from {}'s public address instead of {}'s, so a partner that allowlists one must have both",
                            nat.availability_zone, subnet.availability_zone, local_label, nat.label()
                        ),
                        action: commands.join(" && "),
                        notes,
                        evidence,
                        changes,
                        effects,
                        ..Scenario::new(
                            self,
                            r,
                            &nat.vpc_id,
                            subnet.subnet_id.clone(),
                            Confidence::Estimated,
                            RiskLevel::Low,
                        )
                    };
                    if crossing.is_none() {
                        missing_crossing(&mut s, nat, subnet, inter_az);
                    }
                    out.push(s);
                }
            }
        }
        Ok(out)
    }
}

/// Without the client-side byte metrics the inter-AZ cost is unknown: worth stated per GB.
fn missing_crossing(s: &mut Scenario, nat: &NatCost, subnet: &Subnet, inter_az: Decimal) {
    let metric = "BytesInFromSource/BytesOutToSource";
    s.missing_data
        .push(format!("{metric} of {}", nat.nat_gateway_id));
    s.evidence.push(format!(
        "{metric} of {} is missing: the inter-AZ cost of {} is unknown",
        nat.nat_gateway_id, subnet.subnet_id
    ));
    measure_first(
        s,
        format!("each GB a month that {} sends through it", subnet.subnet_id),
        Decimal::TWO * inter_az,
        recollect(&nat.region),
    );
}

/// A new public NAT gateway in the subnet's AZ, its id kept in `$NAT` for the route commands.
fn new_nat_commands(topo: &Topology, subnet: &Subnet) -> Vec<String> {
    let region = topo.region;
    let r = &region.region;
    let az = &subnet.availability_zone;
    let subnet_arg = topo
        .public_subnet_in(&subnet.vpc_id, az)
        .map(|s| s.subnet_id.clone())
        .unwrap_or_else(|| format!("\"$PUBLIC_SUBNET_{}\"", az_suffix(r, az)));
    vec![
        format!("EIP=$(aws ec2 allocate-address --region {r} --domain vpc --query AllocationId --output text)"),
        format!("NAT=$(aws ec2 create-nat-gateway --region {r} --subnet-id {subnet_arg} --allocation-id \"$EIP\" --query NatGateway.NatGatewayId --output text)"),
        format!("aws ec2 wait nat-gateway-available --region {r} --nat-gateway-ids \"$NAT\""),
    ]
}

/// A route table of the subnet's own: the old table's routes with the default route to
/// `target`, and the old table's gateway endpoints, then the subnet moved to it.
fn new_table_commands(
    region: &RegionSnapshot,
    subnet: &Subnet,
    old: Option<&RouteTable>,
    target: &str,
) -> Vec<String> {
    let r = &region.region;
    let mut out = vec![
        format!(
            "RTB=$(aws ec2 create-route-table --region {r} --vpc-id {} --query RouteTable.RouteTableId --output text)",
            subnet.vpc_id
        ),
        format!(
            "aws ec2 create-route --region {r} --route-table-id \"$RTB\" --destination-cidr-block 0.0.0.0/0 --nat-gateway-id {target}"
        ),
    ];
    if let Some(old) = old {
        for route in &old.routes {
            if route.is_default_ipv4() {
                continue;
            }
            if let Some(cmd) = copy_route(r, route) {
                out.push(cmd);
            }
        }
        // The gateway endpoints of the old table as they are when this runs, so that those
        // the plan's endpoint steps add (done before this one) are joined too.
        let old_id = &old.route_table_id;
        out.push(format!(
            "for E in $(aws ec2 describe-vpc-endpoints --region {r} --filters Name=vpc-id,Values={} Name=vpc-endpoint-type,Values=Gateway --query \"VpcEndpoints[?contains(RouteTableIds, '{old_id}')].VpcEndpointId\" --output text); do aws ec2 modify-vpc-endpoint --region {r} --vpc-endpoint-id \"$E\" --add-route-table-ids \"$RTB\"; done",
            subnet.vpc_id
        ));
    }
    let s = &subnet.subnet_id;
    match old {
        Some(t) if !t.main || t.subnet_ids.contains(s) => {
            out.push(format!(
                "ASSOC=$(aws ec2 describe-route-tables --region {r} --filters Name=association.subnet-id,Values={s} --query \"RouteTables[0].Associations[?SubnetId=='{s}'].RouteTableAssociationId\" --output text)"
            ));
            out.push(format!(
                "aws ec2 replace-route-table-association --region {r} --association-id \"$ASSOC\" --route-table-id \"$RTB\""
            ));
        }
        // A subnet on the main route table has no association to replace.
        _ => out.push(format!(
            "aws ec2 associate-route-table --region {r} --route-table-id \"$RTB\" --subnet-id {s}"
        )),
    }
    out
}

/// The create-route command that copies a route, or None for what a new table already has
/// (the local route) or gets otherwise (gateway endpoint prefix-list routes).
fn copy_route(region: &str, route: &crate::snapshot::Route) -> Option<String> {
    let target = match route.target_type {
        TargetType::Local => return None,
        TargetType::VpcEndpoint if route.destination.starts_with("pl-") => return None,
        TargetType::InternetGateway => "--gateway-id",
        TargetType::NatGateway => "--nat-gateway-id",
        TargetType::TransitGateway => "--transit-gateway-id",
        TargetType::VpcPeering => "--vpc-peering-connection-id",
        TargetType::EgressOnlyInternetGateway => "--egress-only-internet-gateway-id",
        TargetType::NetworkInterface => "--network-interface-id",
        TargetType::Instance => "--instance-id",
        TargetType::VpcEndpoint => "--vpc-endpoint-id",
        TargetType::Other => "--gateway-id",
    };
    let destination = if route.destination.starts_with("pl-") {
        "--destination-prefix-list-id"
    } else if route.destination.contains(':') {
        "--destination-ipv6-cidr-block"
    } else {
        "--destination-cidr-block"
    };
    Some(format!(
        "aws ec2 create-route --region {region} --route-table-id \"$RTB\" {destination} {} {target} {}",
        route.destination, route.target_id
    ))
}

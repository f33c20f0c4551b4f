//! EC2 SDK types → snapshot types, one resource at a time.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::operation::get_managed_prefix_list_entries::GetManagedPrefixListEntriesOutput;
use aws_sdk_ec2::types as ec2;
use chrono::{DateTime, Utc};

use crate::collect::smithy_time;
use crate::snapshot::*;

fn tags(t: &[ec2::Tag]) -> BTreeMap<String, String> {
    t.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn s(o: Option<&str>) -> String {
    o.unwrap_or_default().to_string()
}

pub(super) fn vpc(v: &ec2::Vpc) -> Vpc {
    let mut cidrs: Vec<String> = v
        .cidr_block_association_set()
        .iter()
        .filter_map(|a| a.cidr_block().map(str::to_string))
        .collect();
    if cidrs.is_empty() {
        cidrs.extend(v.cidr_block().map(str::to_string));
    }
    Vpc {
        vpc_id: s(v.vpc_id()),
        cidr_blocks: cidrs,
        ipv6_cidr_blocks: v
            .ipv6_cidr_block_association_set()
            .iter()
            .filter_map(|a| a.ipv6_cidr_block().map(str::to_string))
            .collect(),
        is_default: v.is_default().unwrap_or(false),
        tags: tags(v.tags()),
    }
}

pub(super) fn subnet(x: &ec2::Subnet) -> Subnet {
    Subnet {
        subnet_id: s(x.subnet_id()),
        vpc_id: s(x.vpc_id()),
        availability_zone: s(x.availability_zone()),
        availability_zone_id: x.availability_zone_id().map(str::to_string),
        cidr_block: x.cidr_block().map(str::to_string),
        ipv6_cidr_blocks: x
            .ipv6_cidr_block_association_set()
            .iter()
            .filter_map(|a| a.ipv6_cidr_block().map(str::to_string))
            .collect(),
        tags: tags(x.tags()),
    }
}

pub(super) fn route_table(t: &ec2::RouteTable) -> RouteTable {
    RouteTable {
        route_table_id: s(t.route_table_id()),
        vpc_id: s(t.vpc_id()),
        main: t.associations().iter().any(|a| a.main().unwrap_or(false)),
        subnet_ids: t
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id().map(str::to_string))
            .collect(),
        routes: t.routes().iter().map(route).collect(),
        tags: tags(t.tags()),
    }
}

fn route(x: &ec2::Route) -> Route {
    let destination = x
        .destination_cidr_block()
        .or(x.destination_ipv6_cidr_block())
        .or(x.destination_prefix_list_id())
        .unwrap_or_default()
        .to_string();
    let (target_type, target_id) = if let Some(id) = x.nat_gateway_id() {
        (TargetType::NatGateway, id)
    } else if let Some(id) = x.transit_gateway_id() {
        (TargetType::TransitGateway, id)
    } else if let Some(id) = x.vpc_peering_connection_id() {
        (TargetType::VpcPeering, id)
    } else if let Some(id) = x.egress_only_internet_gateway_id() {
        (TargetType::EgressOnlyInternetGateway, id)
    } else if let Some(id) = x.gateway_id() {
        let kind = match id {
            "local" => TargetType::Local,
            g if g.starts_with("igw-") => TargetType::InternetGateway,
            g if g.starts_with("vpce-") => TargetType::VpcEndpoint,
            _ => TargetType::Other,
        };
        (kind, id)
    } else if let Some(id) = x.instance_id() {
        (TargetType::Instance, id)
    } else if let Some(id) = x.network_interface_id() {
        (TargetType::NetworkInterface, id)
    } else {
        (TargetType::Other, "")
    };
    Route {
        destination,
        target_type,
        target_id: target_id.to_string(),
        state: x.state().map(|s| s.as_str().to_string()),
    }
}

/// Whether `n` was deleted before `window_start`: long gone, nothing to bill.
pub(super) fn gone_before(n: &ec2::NatGateway, window_start: DateTime<Utc>) -> bool {
    n.delete_time()
        .and_then(smithy_time)
        .is_some_and(|d| d <= window_start)
}

/// `az_of` maps a subnet to its availability zone, which the NAT gateway takes;
/// `window_start` stands in for a missing create time.
pub(super) fn nat_gateway(
    n: &ec2::NatGateway,
    az_of: &BTreeMap<String, String>,
    window_start: DateTime<Utc>,
) -> NatGateway {
    let subnet_id = s(n.subnet_id());
    NatGateway {
        nat_gateway_id: s(n.nat_gateway_id()),
        vpc_id: s(n.vpc_id()),
        availability_zone: az_of.get(&subnet_id).cloned().unwrap_or_default(),
        subnet_id,
        state: n
            .state()
            .map(|x| x.as_str().to_lowercase())
            .unwrap_or_default(),
        connectivity_type: n
            .connectivity_type()
            .map(|c| c.as_str().to_lowercase())
            .unwrap_or_else(|| "public".into()),
        create_time: n
            .create_time()
            .and_then(smithy_time)
            .unwrap_or(window_start),
        delete_time: n.delete_time().and_then(smithy_time),
        addresses: n.nat_gateway_addresses().iter().map(nat_address).collect(),
        tags: tags(n.tags()),
        availability_mode: n.availability_mode().map(|m| m.as_str().to_lowercase()),
        auto_provision_zones: n.auto_provision_zones().map(|m| m.as_str().to_lowercase()),
        found_by: None,
    }
}

fn nat_address(a: &ec2::NatGatewayAddress) -> NatAddress {
    NatAddress {
        allocation_id: a.allocation_id().map(str::to_string),
        public_ip: a.public_ip().map(str::to_string),
        private_ip: a.private_ip().map(str::to_string),
        network_interface_id: a.network_interface_id().map(str::to_string),
        is_primary: a.is_primary(),
        availability_zone: a.availability_zone().map(str::to_string),
    }
}

/// A present, non-empty string.
fn some(v: Option<&str>) -> Option<String> {
    v.filter(|v| !v.is_empty()).map(str::to_string)
}

pub(super) fn elastic_ip(a: &ec2::Address) -> ElasticIp {
    ElasticIp {
        allocation_id: s(a.allocation_id()),
        public_ip: s(a.public_ip()),
        // An empty string is no association (moto answers NetworkInterfaceId "" where AWS
        // leaves the field out).
        association_id: some(a.association_id()),
        network_interface_id: some(a.network_interface_id()),
        private_ip: some(a.private_ip_address()),
        tags: tags(a.tags()),
    }
}

pub(super) fn endpoint(e: &ec2::VpcEndpoint) -> VpcEndpoint {
    VpcEndpoint {
        vpc_endpoint_id: s(e.vpc_endpoint_id()),
        vpc_id: s(e.vpc_id()),
        vpc_endpoint_type: e
            .vpc_endpoint_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        service_name: s(e.service_name()),
        state: e
            .state()
            .map(|x| x.as_str().to_lowercase())
            .unwrap_or_default(),
        route_table_ids: e.route_table_ids().to_vec(),
        subnet_ids: e.subnet_ids().to_vec(),
    }
}

pub(super) fn internet_gateway(g: &ec2::InternetGateway) -> Gateway {
    gateway(g.internet_gateway_id(), g.attachments())
}

pub(super) fn egress_only_gateway(g: &ec2::EgressOnlyInternetGateway) -> Gateway {
    gateway(g.egress_only_internet_gateway_id(), g.attachments())
}

fn gateway(id: Option<&str>, attachments: &[ec2::InternetGatewayAttachment]) -> Gateway {
    Gateway {
        id: s(id),
        vpc_ids: attachments
            .iter()
            .filter_map(|a| a.vpc_id().map(str::to_string))
            .collect(),
    }
}

pub(super) fn flow_log(f: &ec2::FlowLog) -> FlowLog {
    FlowLog {
        flow_log_id: s(f.flow_log_id()),
        resource_id: s(f.resource_id()),
        traffic_type: f.traffic_type().map(|t| t.as_str().to_string()),
        log_destination_type: f.log_destination_type().map(|t| t.as_str().to_string()),
        log_destination: f.log_destination().map(str::to_string),
        log_group_name: f.log_group_name().map(str::to_string),
        log_format: f.log_format().map(str::to_string),
    }
}

pub(super) fn tgw_attachment(a: &ec2::TransitGatewayAttachment) -> TransitGatewayAttachment {
    TransitGatewayAttachment {
        transit_gateway_attachment_id: s(a.transit_gateway_attachment_id()),
        transit_gateway_id: s(a.transit_gateway_id()),
        resource_type: a
            .resource_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        resource_id: s(a.resource_id()),
        state: a
            .state()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
    }
}

/// `nat_enis`: the interfaces of the region's NAT gateways.
pub(super) fn interface(
    e: &ec2::NetworkInterface,
    nat_enis: &BTreeSet<String>,
) -> NetworkInterface {
    let id = s(e.network_interface_id());
    let kind = e
        .interface_type()
        .map(|t| t.as_str().to_string())
        .unwrap_or_default();
    let is_nat = nat_enis.contains(&id);
    NetworkInterface {
        network_interface_id: id,
        // moto reports NAT gateway ENIs as plain interfaces; AWS says nat_gateway.
        interface_type: if is_nat && kind == "interface" {
            "nat_gateway".into()
        } else {
            kind
        },
        description: e.description().map(str::to_string),
        subnet_id: s(e.subnet_id()),
        vpc_id: s(e.vpc_id()),
        availability_zone: e.availability_zone().map(str::to_string),
        private_ip_address: e.private_ip_address().map(str::to_string),
        security_group_ids: e
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        requester_id: e.requester_id().map(str::to_string),
        instance_id: e
            .attachment()
            .and_then(|a| a.instance_id())
            .map(str::to_string),
        ecs_task_arn: None,
        ecs_group: None,
    }
}

/// `entries`: every page of GetManagedPrefixListEntries for `list`.
pub(super) fn prefix_list(
    list: &ec2::ManagedPrefixList,
    entries: &[GetManagedPrefixListEntriesOutput],
) -> PrefixList {
    PrefixList {
        prefix_list_id: s(list.prefix_list_id()),
        prefix_list_name: s(list.prefix_list_name()),
        cidrs: entries
            .iter()
            .flat_map(|p| p.entries())
            .filter_map(|e| e.cidr().map(str::to_string))
            .collect(),
    }
}

//! EC2 Describe calls: VPC topology, NAT gateways, addresses, endpoints, ENIs, flow logs.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_sdk_ec2::types as ec2;
use aws_sdk_ec2::Client;
use chrono::{DateTime, Utc};

use super::calls::{all_pages, classify, Calls, Failure};
use super::{smithy_time, Tolerate};
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

/// Regions enabled for the account (`--all-regions`).
pub async fn regions(client: &Client, calls: &Calls) -> Result<Vec<String>> {
    calls.add("ec2:DescribeRegions");
    let home = client
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let out = client.describe_regions().send().await.map_err(|e| {
        match classify("ec2:DescribeRegions", &home, e) {
            Failure::Denied(why) => {
                anyhow::anyhow!("cannot list regions (ec2:DescribeRegions): {why}")
            }
            Failure::Fatal(e) => e,
        }
    })?;
    let mut r: Vec<String> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    r.sort();
    Ok(r)
}

pub type NatPages = Vec<aws_sdk_ec2::operation::describe_nat_gateways::DescribeNatGatewaysOutput>;
pub type SubnetPages = Vec<aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput>;

/// Every page of DescribeNatGateways and DescribeSubnets, at once: asked first, as a region
/// without NAT gateways or subnets shared by another account needs nothing else read.
pub async fn first_look(
    client: &Client,
    calls: &Calls,
    region: &str,
) -> (Result<NatPages, Failure>, Result<SubnetPages, Failure>) {
    tokio::join!(
        all_pages(
            calls,
            region,
            "ec2:DescribeNatGateways",
            client.describe_nat_gateways().into_paginator().send(),
        ),
        all_pages(
            calls,
            region,
            "ec2:DescribeSubnets",
            client.describe_subnets().into_paginator().send(),
        )
    )
}

/// Fills the EC2 part of a region snapshot from `nats` and `subnets` ([`first_look`]) and the
/// rest of the topology. Denied calls are recorded in `r.not_collected`.
pub async fn collect(
    client: &Client,
    calls: &Calls,
    r: &mut RegionSnapshot,
    (nats, subnets): (Result<NatPages, Failure>, Result<SubnetPages, Failure>),
    window_start: DateTime<Utc>,
) -> Result<()> {
    let region = r.region.clone();
    let nc = &mut r.not_collected;
    let (vpcs, tables, endpoints, igws, eigws, enis, flow_logs, tgw) = tokio::join!(
        all_pages(
            calls,
            &region,
            "ec2:DescribeVpcs",
            client.describe_vpcs().into_paginator().send()
        ),
        all_pages(
            calls,
            &region,
            "ec2:DescribeRouteTables",
            client.describe_route_tables().into_paginator().send()
        ),
        all_pages(
            calls,
            &region,
            "ec2:DescribeVpcEndpoints",
            client.describe_vpc_endpoints().into_paginator().send()
        ),
        all_pages(
            calls,
            &region,
            "ec2:DescribeInternetGateways",
            client.describe_internet_gateways().into_paginator().send()
        ),
        all_pages(
            calls,
            &region,
            "ec2:DescribeEgressOnlyInternetGateways",
            client
                .describe_egress_only_internet_gateways()
                .into_paginator()
                .send()
        ),
        all_pages(
            calls,
            &region,
            "ec2:DescribeNetworkInterfaces",
            client.describe_network_interfaces().into_paginator().send()
        ),
        all_pages(
            calls,
            &region,
            "ec2:DescribeFlowLogs",
            client.describe_flow_logs().into_paginator().send()
        ),
        all_pages(
            calls,
            &region,
            "ec2:DescribeTransitGatewayAttachments",
            client
                .describe_transit_gateway_attachments()
                .into_paginator()
                .send()
        ),
    );
    calls.add("ec2:DescribeAddresses");
    let addresses = client
        .describe_addresses()
        .send()
        .await
        .map(|o| vec![o])
        .map_err(|e| classify("ec2:DescribeAddresses", &region, e));

    for page in vpcs.tolerate("ec2:DescribeVpcs", nc)? {
        for v in page.vpcs() {
            let mut cidrs: Vec<String> = v
                .cidr_block_association_set()
                .iter()
                .filter_map(|a| a.cidr_block().map(str::to_string))
                .collect();
            if cidrs.is_empty() {
                cidrs.extend(v.cidr_block().map(str::to_string));
            }
            r.vpcs.push(Vpc {
                vpc_id: s(v.vpc_id()),
                cidr_blocks: cidrs,
                ipv6_cidr_blocks: v
                    .ipv6_cidr_block_association_set()
                    .iter()
                    .filter_map(|a| a.ipv6_cidr_block().map(str::to_string))
                    .collect(),
                is_default: v.is_default().unwrap_or(false),
                tags: tags(v.tags()),
            });
        }
    }
    for page in subnets.tolerate("ec2:DescribeSubnets", nc)? {
        for x in page.subnets() {
            r.subnets.push(Subnet {
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
            });
        }
    }
    for page in tables.tolerate("ec2:DescribeRouteTables", nc)? {
        for t in page.route_tables() {
            r.route_tables.push(RouteTable {
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
            });
        }
    }
    let az_of: BTreeMap<String, String> = r
        .subnets
        .iter()
        .map(|x| (x.subnet_id.clone(), x.availability_zone.clone()))
        .collect();
    for page in nats.tolerate("ec2:DescribeNatGateways", nc)? {
        for n in page.nat_gateways() {
            let delete_time = n.delete_time().and_then(smithy_time);
            // Long gone before the window: nothing to bill.
            if delete_time.is_some_and(|d| d <= window_start) {
                continue;
            }
            let subnet_id = s(n.subnet_id());
            r.nat_gateways.push(NatGateway {
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
                delete_time,
                addresses: n
                    .nat_gateway_addresses()
                    .iter()
                    .map(|a| NatAddress {
                        allocation_id: a.allocation_id().map(str::to_string),
                        public_ip: a.public_ip().map(str::to_string),
                        private_ip: a.private_ip().map(str::to_string),
                        network_interface_id: a.network_interface_id().map(str::to_string),
                        is_primary: a.is_primary(),
                        availability_zone: a.availability_zone().map(str::to_string),
                    })
                    .collect(),
                tags: tags(n.tags()),
                availability_mode: n.availability_mode().map(|m| m.as_str().to_lowercase()),
                found_by: None,
            });
        }
    }
    for page in addresses.tolerate("ec2:DescribeAddresses", nc)? {
        for a in page.addresses() {
            r.elastic_ips.push(ElasticIp {
                allocation_id: s(a.allocation_id()),
                public_ip: s(a.public_ip()),
                association_id: a.association_id().map(str::to_string),
                network_interface_id: a.network_interface_id().map(str::to_string),
                private_ip: a.private_ip_address().map(str::to_string),
                tags: tags(a.tags()),
            });
        }
    }
    for page in endpoints.tolerate("ec2:DescribeVpcEndpoints", nc)? {
        for e in page.vpc_endpoints() {
            r.vpc_endpoints.push(VpcEndpoint {
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
            });
        }
    }
    for page in igws.tolerate("ec2:DescribeInternetGateways", nc)? {
        for g in page.internet_gateways() {
            r.internet_gateways.push(Gateway {
                id: s(g.internet_gateway_id()),
                vpc_ids: g
                    .attachments()
                    .iter()
                    .filter_map(|a| a.vpc_id().map(str::to_string))
                    .collect(),
            });
        }
    }
    for page in eigws.tolerate("ec2:DescribeEgressOnlyInternetGateways", nc)? {
        for g in page.egress_only_internet_gateways() {
            r.egress_only_internet_gateways.push(Gateway {
                id: s(g.egress_only_internet_gateway_id()),
                vpc_ids: g
                    .attachments()
                    .iter()
                    .filter_map(|a| a.vpc_id().map(str::to_string))
                    .collect(),
            });
        }
    }
    for page in flow_logs.tolerate("ec2:DescribeFlowLogs", nc)? {
        for f in page.flow_logs() {
            r.flow_logs.push(FlowLog {
                flow_log_id: s(f.flow_log_id()),
                resource_id: s(f.resource_id()),
                traffic_type: f.traffic_type().map(|t| t.as_str().to_string()),
                log_destination_type: f.log_destination_type().map(|t| t.as_str().to_string()),
                log_destination: f.log_destination().map(str::to_string),
                log_group_name: f.log_group_name().map(str::to_string),
                log_format: f.log_format().map(str::to_string),
            });
        }
    }
    for page in tgw.tolerate("ec2:DescribeTransitGatewayAttachments", nc)? {
        for a in page.transit_gateway_attachments() {
            r.transit_gateway_attachments
                .push(TransitGatewayAttachment {
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
                });
        }
    }
    // Keep every interface of a VPC with NAT gateways or Lambda functions (RDS, ElastiCache,
    // EFS, endpoints, ...): whether Lambda can leave a VPC depends on what else lives in it.
    let nat_enis: BTreeSet<String> = r
        .nat_gateways
        .iter()
        .flat_map(|n| {
            n.addresses
                .iter()
                .filter_map(|a| a.network_interface_id.clone())
        })
        .collect();
    let pages = enis.tolerate("ec2:DescribeNetworkInterfaces", &mut r.not_collected)?;
    let keep_vpcs: BTreeSet<String> = r
        .nat_gateways
        .iter()
        .map(|n| n.vpc_id.clone())
        .chain(
            pages
                .iter()
                .flat_map(|p| p.network_interfaces())
                .filter(|e| e.interface_type().is_some_and(|t| t.as_str() == "lambda"))
                .map(|e| s(e.vpc_id())),
        )
        .collect();
    r.network_interfaces_scope = Some(crate::snapshot::WHOLE_VPC.into());
    for page in pages {
        for e in page.network_interfaces() {
            let id = s(e.network_interface_id());
            let kind = e
                .interface_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default();
            let subnet_id = s(e.subnet_id());
            let is_nat = nat_enis.contains(&id);
            if !keep_vpcs.contains(s(e.vpc_id()).as_str()) {
                continue;
            }
            r.network_interfaces.push(NetworkInterface {
                network_interface_id: id,
                // moto reports NAT gateway ENIs as plain interfaces; AWS says nat_gateway.
                interface_type: if is_nat && kind == "interface" {
                    "nat_gateway".into()
                } else {
                    kind
                },
                description: e.description().map(str::to_string),
                subnet_id,
                vpc_id: s(e.vpc_id()),
                availability_zone: e.availability_zone().map(str::to_string),
                private_ip_address: e.private_ip_address().map(str::to_string),
                security_group_ids: e
                    .groups()
                    .iter()
                    .filter_map(|g| g.group_id().map(str::to_string))
                    .collect(),
                requester_id: e.requester_id().map(str::to_string),
            });
        }
    }
    prefix_lists(client, calls, r).await
}

/// The AWS-managed prefix lists of the region's S3 and DynamoDB: every address a gateway
/// endpoint takes, whatever else ip-ranges.json lists them under.
async fn prefix_lists(client: &Client, calls: &Calls, r: &mut RegionSnapshot) -> Result<()> {
    let region = r.region.clone();
    let names: Vec<String> = GATEWAY_SERVICES
        .iter()
        .map(|svc| format!("com.amazonaws.{region}.{svc}"))
        .collect();
    let lists = all_pages(
        calls,
        &region,
        "ec2:DescribeManagedPrefixLists",
        client
            .describe_managed_prefix_lists()
            .filters(
                ec2::Filter::builder()
                    .name("prefix-list-name")
                    .set_values(Some(names))
                    .build(),
            )
            .into_paginator()
            .send(),
    )
    .await
    .tolerate("ec2:DescribeManagedPrefixLists", &mut r.not_collected)?;
    for list in lists.iter().flat_map(|p| p.prefix_lists()) {
        let id = s(list.prefix_list_id());
        let entries = all_pages(
            calls,
            &region,
            "ec2:GetManagedPrefixListEntries",
            client
                .get_managed_prefix_list_entries()
                .prefix_list_id(&id)
                .into_paginator()
                .send(),
        )
        .await
        .tolerate("ec2:GetManagedPrefixListEntries", &mut r.not_collected)?;
        r.prefix_lists.push(PrefixList {
            prefix_list_id: id,
            prefix_list_name: s(list.prefix_list_name()),
            cidrs: entries
                .iter()
                .flat_map(|p| p.entries())
                .filter_map(|e| e.cidr().map(str::to_string))
                .collect(),
        });
    }
    Ok(())
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

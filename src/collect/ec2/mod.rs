//! EC2 Describe calls: VPC topology, NAT gateways, addresses, endpoints, ENIs, flow logs.

mod convert;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_sdk_ec2::types as ec2;
use aws_sdk_ec2::Client;
use chrono::{DateTime, Utc};

use super::Tolerate;
use crate::aws::calls::{all_pages, classify, Calls, Failure};
use crate::snapshot::*;

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

    r.vpcs.extend(
        vpcs.tolerate("ec2:DescribeVpcs", nc)?
            .iter()
            .flat_map(|p| p.vpcs())
            .map(convert::vpc),
    );
    r.subnets.extend(
        subnets
            .tolerate("ec2:DescribeSubnets", nc)?
            .iter()
            .flat_map(|p| p.subnets())
            .map(convert::subnet),
    );
    r.route_tables.extend(
        tables
            .tolerate("ec2:DescribeRouteTables", nc)?
            .iter()
            .flat_map(|p| p.route_tables())
            .map(convert::route_table),
    );
    let az_of: BTreeMap<String, String> = r
        .subnets
        .iter()
        .map(|x| (x.subnet_id.clone(), x.availability_zone.clone()))
        .collect();
    r.nat_gateways.extend(
        nats.tolerate("ec2:DescribeNatGateways", nc)?
            .iter()
            .flat_map(|p| p.nat_gateways())
            .filter(|n| !convert::gone_before(n, window_start))
            .map(|n| convert::nat_gateway(n, &az_of, window_start)),
    );
    r.elastic_ips.extend(
        addresses
            .tolerate("ec2:DescribeAddresses", nc)?
            .iter()
            .flat_map(|p| p.addresses())
            .map(convert::elastic_ip),
    );
    r.vpc_endpoints.extend(
        endpoints
            .tolerate("ec2:DescribeVpcEndpoints", nc)?
            .iter()
            .flat_map(|p| p.vpc_endpoints())
            .map(convert::endpoint),
    );
    r.internet_gateways.extend(
        igws.tolerate("ec2:DescribeInternetGateways", nc)?
            .iter()
            .flat_map(|p| p.internet_gateways())
            .map(convert::internet_gateway),
    );
    r.egress_only_internet_gateways.extend(
        eigws
            .tolerate("ec2:DescribeEgressOnlyInternetGateways", nc)?
            .iter()
            .flat_map(|p| p.egress_only_internet_gateways())
            .map(convert::egress_only_gateway),
    );
    r.flow_logs.extend(
        flow_logs
            .tolerate("ec2:DescribeFlowLogs", nc)?
            .iter()
            .flat_map(|p| p.flow_logs())
            .map(convert::flow_log),
    );
    r.transit_gateway_attachments.extend(
        tgw.tolerate("ec2:DescribeTransitGatewayAttachments", nc)?
            .iter()
            .flat_map(|p| p.transit_gateway_attachments())
            .map(convert::tgw_attachment),
    );
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
    let enis = || pages.iter().flat_map(|p| p.network_interfaces());
    let keep_vpcs: BTreeSet<String> = r
        .nat_gateways
        .iter()
        .map(|n| n.vpc_id.clone())
        .chain(
            enis()
                .filter(|e| e.interface_type().is_some_and(|t| t.as_str() == "lambda"))
                .map(|e| e.vpc_id().unwrap_or_default().to_string()),
        )
        .collect();
    r.network_interfaces_scope = Some(crate::snapshot::WHOLE_VPC.into());
    r.network_interfaces.extend(
        enis()
            .filter(|e| keep_vpcs.contains(e.vpc_id().unwrap_or_default()))
            .map(|e| convert::interface(e, &nat_enis)),
    );
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
        let entries = all_pages(
            calls,
            &region,
            "ec2:GetManagedPrefixListEntries",
            client
                .get_managed_prefix_list_entries()
                .prefix_list_id(list.prefix_list_id().unwrap_or_default())
                .into_paginator()
                .send(),
        )
        .await
        .tolerate("ec2:GetManagedPrefixListEntries", &mut r.not_collected)?;
        r.prefix_lists.push(convert::prefix_list(list, &entries));
    }
    Ok(())
}

//! tag:GetResources: the tags of the region's Lambda functions, network interfaces, EC2
//! instances and load balancers, in one paginated call (not one per resource), for cost
//! allocation by team.

use anyhow::Result;
use aws_sdk_resourcegroupstagging::Client;

use super::Tolerate;
use crate::aws::calls::{all_pages, Calls};
use crate::snapshot::RegionSnapshot;

/// The resource types whose tags name a source's team.
pub const TAGGED_TYPES: [&str; 4] = [
    "lambda:function",
    "ec2:network-interface",
    "ec2:instance",
    "elasticloadbalancing:loadbalancer",
];

pub async fn collect(client: &Client, calls: &Calls, r: &mut RegionSnapshot) -> Result<()> {
    if r.lambda_functions.is_empty() && r.network_interfaces.is_empty() {
        return Ok(());
    }
    let pages = all_pages(
        calls,
        &r.region,
        "tag:GetResources",
        client
            .get_resources()
            .set_resource_type_filters(Some(TAGGED_TYPES.map(String::from).to_vec()))
            .into_paginator()
            .send(),
    )
    .await
    .tolerate("tag:GetResources", &mut r.not_collected)?;
    // Only what a source can be: the region's functions, its interfaces, their instances and
    // load balancers (a large fleet's other instances would swell the snapshot for nothing).
    let mut wanted: std::collections::HashSet<String> = r
        .lambda_functions
        .iter()
        .map(|f| f.function_arn.clone())
        .collect();
    for e in &r.network_interfaces {
        wanted.insert(e.network_interface_id.clone());
        wanted.extend(e.instance_id.clone());
        wanted.extend(e.load_balancer());
    }
    let mut kept = Vec::new();
    for page in &pages {
        for m in page.resource_tag_mapping_list() {
            let Some(arn) = m.resource_arn() else {
                continue;
            };
            let id = arn.rsplit_once('/').map_or(arn, |(_, id)| id);
            let resource = crate::snapshot::arn_resource(arn).unwrap_or(arn);
            if ![arn, id, resource].iter().any(|k| wanted.contains(*k)) {
                continue;
            }
            let tags = m
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            kept.push((arn.to_string(), tags));
        }
    }
    r.resource_tags.extend(kept);
    Ok(())
}

//! ECS: the task behind an awsvpc interface (its description names only an attachment), and
//! that task's tags, for cost allocation by team. ListClusters, ListTasks per cluster, and
//! DescribeTasks by 100 with their tags.

use std::collections::HashMap;

use anyhow::Result;
use aws_sdk_ecs::types::TaskField;
use aws_sdk_ecs::Client;

use super::Tolerate;
use crate::aws::calls::{all_pages, classify, Calls};
use crate::snapshot::{NetworkInterface, RegionSnapshot};

/// DescribeTasks takes at most 100 tasks.
const DESCRIBE_MAX: usize = 100;

/// An interface a task may own: a plain interface that is not a load balancer's. (One an
/// instance holds may be an awsvpc task's on the EC2 launch type.)
fn may_be_a_task(e: &NetworkInterface) -> bool {
    e.interface_type == "interface" && e.load_balancer().is_none()
}

pub async fn collect(client: &Client, calls: &Calls, r: &mut RegionSnapshot) -> Result<()> {
    if !r.network_interfaces.iter().any(may_be_a_task) {
        return Ok(());
    }
    let region = r.region.clone();
    let clusters: Vec<String> = all_pages(
        calls,
        &region,
        "ecs:ListClusters",
        client.list_clusters().into_paginator().send(),
    )
    .await
    .tolerate("ecs:ListClusters", &mut r.not_collected)?
    .iter()
    .flat_map(|p| p.cluster_arns().to_vec())
    .collect();
    let by_id: HashMap<String, usize> = r
        .network_interfaces
        .iter()
        .enumerate()
        .map(|(i, e)| (e.network_interface_id.clone(), i))
        .collect();
    for cluster in clusters {
        let tasks: Vec<String> = all_pages(
            calls,
            &region,
            "ecs:ListTasks",
            client
                .list_tasks()
                .cluster(&cluster)
                .into_paginator()
                .send(),
        )
        .await
        .tolerate("ecs:ListTasks", &mut r.not_collected)?
        .iter()
        .flat_map(|p| p.task_arns().to_vec())
        .collect();
        for chunk in tasks.chunks(DESCRIBE_MAX) {
            calls.add("ecs:DescribeTasks");
            let described = client
                .describe_tasks()
                .cluster(&cluster)
                .set_tasks(Some(chunk.to_vec()))
                .include(TaskField::Tags)
                .send()
                .await
                .map(|o| vec![o])
                .map_err(|e| classify("ecs:DescribeTasks", &region, e))
                .tolerate("ecs:DescribeTasks", &mut r.not_collected)?;
            for task in described.iter().flat_map(|o| o.tasks()) {
                let Some(arn) = task.task_arn() else {
                    continue;
                };
                let enis = task
                    .attachments()
                    .iter()
                    .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
                    .flat_map(|a| a.details())
                    .filter(|d| d.name() == Some("networkInterfaceId"))
                    .filter_map(|d| d.value());
                let mut owns_one = false;
                for eni in enis {
                    if let Some(&i) = by_id.get(eni) {
                        let e = &mut r.network_interfaces[i];
                        e.ecs_task_arn = Some(arn.to_string());
                        e.ecs_group = task.group().map(str::to_string);
                        owns_one = true;
                    }
                }
                if owns_one && !task.tags().is_empty() {
                    let tags = task
                        .tags()
                        .iter()
                        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                        .collect();
                    r.resource_tags.insert(arn.to_string(), tags);
                }
            }
        }
    }
    Ok(())
}

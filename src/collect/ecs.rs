//! ECS: the task behind an awsvpc interface (its description names only an attachment), and
//! that task's tags, for cost allocation by team. ListClusters, ListTasks per cluster, and
//! DescribeTasks by 100 with their tags.
//!
//! Teams are an extra: any ECS failure is named as not collected and the costs go on.

use std::collections::HashMap;

use aws_sdk_ecs::types::TaskField;
use aws_sdk_ecs::Client;

use super::record_not_collected;
use crate::aws::calls::{all_pages, classify, Calls, Failure};
use crate::snapshot::{NetworkInterface, NotCollected, RegionSnapshot};

/// DescribeTasks takes at most 100 tasks.
const DESCRIBE_MAX: usize = 100;

/// An interface a task may own: a plain interface that is not a load balancer's. (One an
/// instance holds may be an awsvpc task's on the EC2 launch type.)
fn may_be_a_task(e: &NetworkInterface) -> bool {
    e.interface_type == "interface" && e.load_balancer().is_none()
}

/// What an ECS call gave; on any failure, nothing, and the failure named as not collected.
fn or_not_collected<T>(
    result: Result<Vec<T>, Failure>,
    action: &str,
    not_collected: &mut Vec<NotCollected>,
) -> Vec<T> {
    let reason = match result {
        Ok(v) => return v,
        Err(Failure::Denied(reason)) => reason,
        Err(Failure::Fatal(e)) => format!("{e:#}"),
    };
    tracing::debug!("{action} failed: {reason}");
    record_not_collected(not_collected, action, reason);
    Vec::new()
}

pub async fn collect(client: &Client, calls: &Calls, r: &mut RegionSnapshot) {
    if !r.network_interfaces.iter().any(may_be_a_task) {
        return;
    }
    let region = r.region.clone();
    let listed = all_pages(
        calls,
        &region,
        "ecs:ListClusters",
        client.list_clusters().into_paginator().send(),
    )
    .await;
    let clusters: Vec<String> = or_not_collected(listed, "ecs:ListClusters", &mut r.not_collected)
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
        let listed = all_pages(
            calls,
            &region,
            "ecs:ListTasks",
            client
                .list_tasks()
                .cluster(&cluster)
                .into_paginator()
                .send(),
        )
        .await;
        // A cluster deleted since ListClusters has no task left to find.
        if matches!(&listed, Err(Failure::Fatal(e)) if format!("{e:#}").contains("ClusterNotFoundException"))
        {
            continue;
        }
        let tasks: Vec<String> = or_not_collected(listed, "ecs:ListTasks", &mut r.not_collected)
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
                .map_err(|e| classify("ecs:DescribeTasks", &region, e));
            let described = or_not_collected(described, "ecs:DescribeTasks", &mut r.not_collected);
            for out in &described {
                // MISSING: the task stopped since ListTasks (its interface is gone too).
                for f in out.failures() {
                    tracing::debug!(
                        "ecs:DescribeTasks: {}: {}",
                        f.arn().unwrap_or_default(),
                        f.reason().unwrap_or_default()
                    );
                }
            }
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
}

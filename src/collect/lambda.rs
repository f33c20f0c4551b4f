//! Lambda ListFunctions: the functions and their VPC configuration.

use anyhow::Result;
use aws_sdk_lambda::Client;

use super::Tolerate;
use crate::aws::calls::{all_pages, Calls};
use crate::snapshot::{LambdaFunction, LambdaVpcConfig, RegionSnapshot};

pub async fn collect(client: &Client, calls: &Calls, r: &mut RegionSnapshot) -> Result<()> {
    let pages = all_pages(
        calls,
        &r.region,
        "lambda:ListFunctions",
        client.list_functions().into_paginator().send(),
    )
    .await
    .tolerate("lambda:ListFunctions", &mut r.not_collected)?;
    for page in pages {
        for f in page.functions() {
            // VpcId is not trusted (emulators return a fixed one): the VPC comes from the subnets.
            let vpc_config = f
                .vpc_config()
                .filter(|c| !c.subnet_ids().is_empty())
                .map(|c| LambdaVpcConfig {
                    subnet_ids: c.subnet_ids().to_vec(),
                    security_group_ids: c.security_group_ids().to_vec(),
                    ipv6_allowed_for_dual_stack: c.ipv6_allowed_for_dual_stack().unwrap_or(false),
                });
            r.lambda_functions.push(LambdaFunction {
                function_name: f.function_name().unwrap_or_default().to_string(),
                function_arn: f.function_arn().unwrap_or_default().to_string(),
                runtime: f.runtime().map(|x| x.as_str().to_string()),
                memory_size: f.memory_size(),
                architectures: f
                    .architectures()
                    .iter()
                    .map(|a| a.as_str().to_string())
                    .collect(),
                vpc_config,
                // Filled from CloudWatch with the metrics.
                duration_ms: None,
                duration_ms_by_day: Default::default(),
                invocations: None,
                insights_bytes: None,
            });
        }
    }
    Ok(())
}

//! Live collection from AWS, read-only: the only part of natcost that talks to AWS.
//! Produces a [`Snapshot`]; everything after it runs offline.

pub mod calls;
mod cloudwatch;
mod ec2;
mod lambda;
pub mod window;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::{anyhow, bail, Context, Result};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::ProvideCredentials;
use chrono::{DateTime, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::snapshot::{NotCollected, RegionSnapshot, Snapshot, Window, SCHEMA_VERSION};
use calls::{Calls, Failure, NO_CREDENTIALS};

pub use cloudwatch::queries_per_call;

#[derive(Debug, Clone)]
pub struct Options {
    /// Regions to collect; empty with `all_regions` means every enabled region.
    pub regions: Vec<String>,
    pub all_regions: bool,
    pub window: Window,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// Show progress on stderr (only when it is a terminal).
    pub progress: bool,
}

/// A denied call is recorded as not collected; anything else stops the collection.
pub(crate) trait Tolerate<T> {
    fn tolerate(self, action: &str, not_collected: &mut Vec<NotCollected>) -> Result<Vec<T>>;
}

impl<T> Tolerate<T> for Result<Vec<T>, Failure> {
    fn tolerate(self, action: &str, not_collected: &mut Vec<NotCollected>) -> Result<Vec<T>> {
        match self {
            Ok(v) => Ok(v),
            Err(Failure::Denied(reason)) => {
                tracing::warn!("{action} denied: {reason}");
                not_collected.push(NotCollected {
                    what: action.to_string(),
                    reason,
                });
                Ok(Vec::new())
            }
            Err(Failure::Fatal(e)) => Err(e),
        }
    }
}

pub(crate) fn smithy_time(t: &aws_sdk_ec2::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

async fn load_config(opts: &Options, region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
        RetryConfig::standard()
            .with_max_attempts(6)
            .with_initial_backoff(StdDuration::from_millis(200)),
    );
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(u) = &opts.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    loader.load().await
}

pub async fn collect(opts: &Options) -> Result<Snapshot> {
    let calls = Arc::new(Calls::default());
    let home = opts
        .regions
        .first()
        .cloned()
        .unwrap_or_else(|| "us-east-1".to_string());
    let base = load_config(opts, Some(&home)).await;
    let provider = base
        .credentials_provider()
        .ok_or_else(|| anyhow!(NO_CREDENTIALS))?;
    provider
        .provide_credentials()
        .await
        .map_err(|e| anyhow!("{NO_CREDENTIALS} ({e})"))?;

    let sts = aws_sdk_sts::Client::new(&base);
    calls.add("sts:GetCallerIdentity");
    let identity = sts.get_caller_identity().send().await.map_err(|e| {
        match calls::classify("sts:GetCallerIdentity", &home, e) {
            Failure::Denied(why) => {
                anyhow!("AWS refused the credentials (sts:GetCallerIdentity): {why}")
            }
            Failure::Fatal(e) => e,
        }
    })?;
    let account_id = identity.account().unwrap_or_default().to_string();

    let regions = if opts.all_regions {
        ec2::regions(&aws_sdk_ec2::Client::new(&base), &calls).await?
    } else {
        opts.regions.clone()
    };
    if regions.is_empty() {
        bail!("no region to collect: pass --region REGION (repeatable) or --all-regions");
    }
    for r in &regions {
        if crate::price::book::region_prefix(r).is_none() {
            tracing::warn!("{r}: no billing prefix known; pricing it will fail");
        }
    }

    let bars = MultiProgress::with_draw_target(
        if opts.progress && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    let style =
        ProgressStyle::with_template("{spinner} {prefix:>16} {msg}").expect("valid template");
    let mut tasks = tokio::task::JoinSet::new();
    for (i, region) in regions.iter().enumerate() {
        let bar = bars.add(
            ProgressBar::new_spinner()
                .with_style(style.clone())
                .with_prefix(region.clone()),
        );
        bar.enable_steady_tick(StdDuration::from_millis(120));
        let config = load_config(opts, Some(region)).await;
        let calls = calls.clone();
        let window = opts.window;
        let region = region.clone();
        tasks.spawn(async move {
            let result = collect_region(&config, &calls, &region, window, &bar).await;
            bar.finish_with_message(match &result {
                Ok(r) if r.not_collected.is_empty() => "done".to_string(),
                Ok(r) => format!("partial: {} call(s) denied", r.not_collected.len()),
                Err(_) => "failed".to_string(),
            });
            (i, result.with_context(|| format!("collecting {region}")))
        });
    }
    let mut collected: Vec<Option<RegionSnapshot>> = vec![None; regions.len()];
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.context("a collection task panicked")?;
        collected[i] = Some(result?);
    }
    Ok(Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at: Utc::now(),
        account_id,
        window: opts.window,
        regions: collected.into_iter().flatten().collect(),
        api_calls: calls.snapshot(),
        not_collected: Vec::new(),
    })
}

async fn collect_region(
    config: &SdkConfig,
    calls: &Calls,
    region: &str,
    window: Window,
    bar: &ProgressBar,
) -> Result<RegionSnapshot> {
    let mut r = RegionSnapshot {
        region: region.to_string(),
        ..Default::default()
    };
    bar.set_message("EC2: VPCs, subnets, route tables, NAT gateways, endpoints, ENIs…");
    ec2::collect(
        &aws_sdk_ec2::Client::new(config),
        calls,
        &mut r,
        window.start,
    )
    .await?;
    bar.set_message("Lambda functions…");
    lambda::collect(&aws_sdk_lambda::Client::new(config), calls, &mut r).await?;
    bar.set_message(format!(
        "CloudWatch metrics for {} NAT gateway(s)…",
        r.nat_gateways.len()
    ));
    let cw = aws_sdk_cloudwatch::Client::new(config);
    cloudwatch::collect(&cw, calls, &mut r, window).await?;
    cloudwatch::lambda_totals(&cw, calls, &mut r, window).await?;
    tracing::info!(
        "{region}: {} VPCs, {} NAT gateways, {} Lambda functions, {} metric series",
        r.vpcs.len(),
        r.nat_gateways.len(),
        r.lambda_functions.len(),
        r.metrics.len()
    );
    Ok(r)
}

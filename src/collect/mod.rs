//! Live collection from AWS, read-only: the only part of natcost that talks to AWS.
//! Produces a [`Snapshot`]; everything after it runs offline.

mod accounts;
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
use aws_sdk_sts::config::{Credentials, ProvideCredentials};
use chrono::{DateTime, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::snapshot::{Account, NotCollected, RegionSnapshot, Snapshot, Window, SCHEMA_VERSION};
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
    pub accounts: Accounts,
    /// How many account × region collections run at once.
    pub concurrency: usize,
}

/// Which accounts to read.
#[derive(Debug, Clone, PartialEq)]
pub enum Accounts {
    /// The caller's own account, with its own credentials.
    Caller,
    /// These accounts, or every active account of the organisation (`None`), each through
    /// the read role.
    Assume {
        ids: Option<Vec<String>>,
        role: Role,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub name: String,
    pub external_id: Option<String>,
    pub session_name: String,
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

async fn load_config(
    opts: &Options,
    region: Option<&str>,
    credentials: Option<&Credentials>,
) -> SdkConfig {
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
    if let Some(c) = credentials {
        loader = loader.credentials_provider(c.clone());
    }
    loader.load().await
}

/// One account to read: its role session (None: the caller's own credentials), and what
/// went wrong before any region of it could be read.
struct Target {
    account: Account,
    session: Option<Arc<accounts::RoleSession>>,
    regions: Vec<String>,
}

/// The credentials to read an account with: None for the caller's own.
async fn credentials_of(
    session: &Option<Arc<accounts::RoleSession>>,
) -> Result<Option<Credentials>> {
    match session {
        Some(s) => Ok(Some(s.credentials().await.map_err(|e| anyhow!(e))?)),
        None => Ok(None),
    }
}

pub async fn collect(opts: &Options) -> Result<Snapshot> {
    let calls = Arc::new(Calls::default());
    let home = opts
        .regions
        .first()
        .cloned()
        .unwrap_or_else(|| "us-east-1".to_string());
    let base = load_config(opts, Some(&home), None).await;
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
    let caller = identity.account().unwrap_or_default().to_string();
    // arn:aws:… or arn:aws-cn:…: roles are named in the caller's partition.
    let partition = identity
        .arn()
        .and_then(|a| a.split(':').nth(1))
        .unwrap_or("aws")
        .to_string();

    let mut targets = match &opts.accounts {
        Accounts::Caller => vec![Target {
            account: Account::new(caller),
            session: None,
            regions: Vec::new(),
        }],
        Accounts::Assume { ids, role } => {
            let accounts = match ids {
                Some(ids) => ids.iter().map(Account::new).collect(),
                None => accounts::organization(&base, &calls).await?,
            };
            accounts::assume_all(&sts, &calls, accounts, role, &partition, opts.concurrency).await
        }
    };
    if opts.all_regions {
        list_regions(opts, &home, &calls, &mut targets).await?;
    } else {
        for t in targets
            .iter_mut()
            .filter(|t| t.account.not_collected.is_empty())
        {
            t.regions = opts.regions.clone();
        }
    }
    if targets.iter().all(|t| t.regions.is_empty()) {
        if let Some(t) = targets.iter().find(|t| !t.account.not_collected.is_empty()) {
            let n = &t.account.not_collected[0];
            bail!("no account could be read; {}: {}", n.what, n.reason);
        }
        bail!("no region to collect: pass --region REGION (repeatable) or --all-regions");
    }
    for r in targets.iter().flat_map(|t| &t.regions) {
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
    // One line per region for one account; one bar for many accounts.
    let several = targets.len() > 1;
    let total: usize = targets.iter().map(|t| t.regions.len()).sum();
    let overall = bars.add(if several {
        ProgressBar::new(total as u64).with_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} account × region collections {elapsed}",
            )
            .expect("valid template"),
        )
    } else {
        ProgressBar::hidden()
    });
    let permits = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let shared = Arc::new(opts.clone());
    let mut tasks = tokio::task::JoinSet::new();
    let mut slots = 0;
    for (ti, t) in targets.iter().enumerate() {
        for region in &t.regions {
            let prefix = if several {
                format!("{} {region}", t.account.account_id)
            } else {
                region.clone()
            };
            let bar = if several {
                ProgressBar::hidden()
            } else {
                bars.add(
                    ProgressBar::new_spinner()
                        .with_style(style.clone())
                        .with_prefix(prefix.clone())
                        .with_message("waiting"),
                )
            };
            let overall = overall.clone();
            let (opts, session) = (shared.clone(), t.session.clone());
            let calls = calls.clone();
            let window = opts.window;
            let region = region.clone();
            let account_id = t.account.account_id.clone();
            let permits = permits.clone();
            let slot = slots;
            slots += 1;
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.expect("never closed");
                bar.enable_steady_tick(StdDuration::from_millis(120));
                // Credentials when the region starts: renewed if the role session is ending.
                let result = match credentials_of(&session).await {
                    Ok(creds) => {
                        let config = load_config(&opts, Some(&region), creds.as_ref()).await;
                        collect_region(&config, &calls, &region, window, &bar).await
                    }
                    Err(e) => Err(e),
                };
                bar.finish_with_message(match &result {
                    Ok(r) if r.not_collected.is_empty() => "done".to_string(),
                    Ok(r) => format!("partial: {} call(s) denied", r.not_collected.len()),
                    Err(_) => "failed".to_string(),
                });
                overall.inc(1);
                let result = result.map(|mut r| {
                    r.account_id = account_id;
                    r
                });
                (
                    slot,
                    ti,
                    region,
                    result.with_context(|| format!("collecting {prefix}")),
                )
            });
        }
    }
    let mut collected: Vec<Option<RegionSnapshot>> = vec![None; slots];
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (slot, ti, region, result) = joined.context("a collection task panicked")?;
        match result {
            Ok(r) => collected[slot] = Some(r),
            Err(e) => failures.push((ti, region, e)),
        }
    }
    overall.finish_and_clear();
    // A region that fails stays with its account; when nothing at all was read, the first
    // failure is the answer.
    // One account: a region that fails stops the run, as it always has; several: the
    // failure stays with its account, unless nothing at all was read.
    failures.sort_by_key(|(ti, region, _)| (*ti, region.clone()));
    if !failures.is_empty() && (targets.len() == 1 || collected.iter().all(Option::is_none)) {
        return Err(failures.swap_remove(0).2);
    }
    for (ti, region, e) in failures {
        targets[ti].account.not_collected.push(NotCollected {
            what: format!("region {region}"),
            reason: format!("{e:#}"),
        });
    }
    Ok(Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at: Utc::now(),
        window: opts.window,
        accounts: targets.into_iter().map(|t| t.account).collect(),
        regions: collected.into_iter().flatten().collect(),
        api_calls: calls.snapshot(),
        not_collected: Vec::new(),
    })
}

/// Each account's enabled regions (EC2 DescribeRegions with its own credentials), in
/// parallel. One account's failure stays with it, unless it is the only one.
async fn list_regions(
    opts: &Options,
    home: &str,
    calls: &Arc<Calls>,
    targets: &mut [Target],
) -> Result<()> {
    let permits = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, t) in targets.iter().enumerate() {
        if !t.account.not_collected.is_empty() {
            continue;
        }
        let config =
            load_config(opts, Some(home), credentials_of(&t.session).await?.as_ref()).await;
        let (calls, permits) = (calls.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("never closed");
            (
                i,
                ec2::regions(&aws_sdk_ec2::Client::new(&config), &calls).await,
            )
        });
    }
    let several = targets.len() > 1;
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.context("a region-listing task panicked")?;
        let t = &mut targets[i];
        match result {
            Ok(regions) => t.regions = regions,
            Err(e) if several => t.account.not_collected.push(NotCollected {
                what: format!("account {}", t.account.account_id),
                reason: format!("{e:#}"),
            }),
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
    cloudwatch::find_deleted(&cw, calls, &mut r).await?;
    cloudwatch::collect(&cw, calls, &mut r, window).await?;
    cloudwatch::settle_deleted(&mut r, window);
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

//! Live collection from AWS, read-only (through `aws`): the account's NAT gateways, topology,
//! Lambda functions and metrics into a [`Snapshot`]; pricing and advice run offline from it.

mod accounts;
mod cloudwatch;
mod ec2;
mod ecs;
mod lambda;
mod tags;
pub mod window;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::{anyhow, bail, Context, Result};
use aws_config::SdkConfig;
use aws_sdk_sts::config::{Credentials, ProvideCredentials};
use chrono::{DateTime, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::aws::calls::{self, Calls, Failure, NO_CREDENTIALS};
use crate::aws::session;
use crate::snapshot::{Account, NotCollected, RegionSnapshot, Snapshot, Window, SCHEMA_VERSION};

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
    /// Also read the tags of functions, interfaces, instances and load balancers
    /// (tag:GetResources) and the ECS tasks behind interfaces, which teams come from
    /// (`--allocate-by`).
    pub tags: bool,
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
                tracing::debug!("{action} denied: {reason}");
                record_not_collected(not_collected, action, reason);
                Ok(Vec::new())
            }
            Err(Failure::Fatal(e)) => Err(e),
        }
    }
}

/// Records that `action` gave nothing, and why: said once, as "not collected", when the
/// snapshot is done.
pub(crate) fn record_not_collected(
    not_collected: &mut Vec<NotCollected>,
    action: &str,
    reason: String,
) {
    let missing = NotCollected {
        what: action.to_string(),
        reason,
    };
    if !not_collected.contains(&missing) {
        not_collected.push(missing);
    }
}

pub(crate) fn smithy_time(t: &aws_sdk_ec2::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
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
    let base = session::load(
        opts.profile.as_deref(),
        opts.endpoint_url.as_deref(),
        Some(&home),
        None,
        &session::READING,
    )
    .await;
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
        list_regions(opts, &base, &home, &calls, &mut targets).await?;
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
            let (base, calls) = (base.clone(), calls.clone());
            let (window, tags) = (opts.window, opts.tags);
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
                        let config = session::config_for(&base, &region, creds.as_ref());
                        let what = (window, tags);
                        collect_region(&config, &calls, &account_id, &region, what, &bar).await
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
    let unpriced: BTreeSet<&str> = collected
        .iter()
        .flatten()
        .filter(|r| !r.nat_gateways.is_empty())
        .map(|r| r.region.as_str())
        .filter(|r| !crate::price::book::is_bundled(r))
        .collect();
    if !unpriced.is_empty() {
        let list: Vec<&str> = unpriced.into_iter().collect();
        crate::messages::warn(format_args!(
            "NAT gateways in {}: natcost bundles no prices for these regions; they are priced from the Pricing API only (live prices, with AWS credentials)",
            list.join(", ")
        ));
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
    base: &SdkConfig,
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
        let config = session::config_for(base, home, credentials_of(&t.session).await?.as_ref());
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

/// Whether a region needs nothing more read: DescribeNatGateways, DescribeSubnets and
/// ListMetrics all answered, with no NAT gateway (live, or deleted with metrics) and no subnet
/// of another account's (a VPC shared with this one, whose Lambda functions use the owner's
/// NAT gateways). A call that failed or was denied means the region is read whole.
fn nothing_more_to_read(
    account: &str,
    (nats, subnets): &(
        Result<ec2::NatPages, Failure>,
        Result<ec2::SubnetPages, Failure>,
    ),
    listed: &Result<BTreeSet<String>, Failure>,
) -> bool {
    let no_nats = |n: &ec2::NatPages| n.iter().all(|p| p.nat_gateways().is_empty());
    let all_own = |s: &ec2::SubnetPages| {
        s.iter()
            .flat_map(|p| p.subnets())
            .all(|x| x.owner_id().is_none_or(|o| o == account))
    };
    nats.as_ref().is_ok_and(no_nats)
        && subnets.as_ref().is_ok_and(all_own)
        && listed.as_ref().is_ok_and(BTreeSet::is_empty)
}

async fn collect_region(
    config: &SdkConfig,
    calls: &Calls,
    account: &str,
    region: &str,
    (window, read_tags): (Window, bool),
    bar: &ProgressBar,
) -> Result<RegionSnapshot> {
    let mut r = RegionSnapshot {
        region: region.to_string(),
        ..Default::default()
    };
    let ec2_client = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(config)
            .retry_partition(session::retry_partition("ec2", account, region))
            .build(),
    );
    let cw = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::config::Builder::from(config)
            .retry_partition(session::retry_partition("monitoring", account, region))
            .build(),
    );
    bar.set_message("NAT gateways…");
    let (first, listed) = tokio::join!(
        ec2::first_look(&ec2_client, calls, region),
        cloudwatch::listed_nats(&cw, calls, region)
    );
    // Most account × regions of an organisation have no NAT gateway: three or four calls
    // instead of about twenty.
    if nothing_more_to_read(account, &first, &listed) {
        r.no_nat_gateways = true;
        tracing::info!("{region}: no NAT gateway; nothing else read");
        return Ok(r);
    }
    bar.set_message("EC2: VPCs, subnets, route tables, endpoints, ENIs…");
    ec2::collect(&ec2_client, calls, &mut r, first, window.start).await?;
    bar.set_message("Lambda functions…");
    let lambda_client = aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::from(config)
            .retry_partition(session::retry_partition("lambda", account, region))
            .build(),
    );
    lambda::collect(&lambda_client, calls, &mut r).await?;
    if read_tags {
        bar.set_message("Tags of functions and interfaces…");
        let tagging = aws_sdk_resourcegroupstagging::Client::from_conf(
            aws_sdk_resourcegroupstagging::config::Builder::from(config)
                .retry_partition(session::retry_partition("tagging", account, region))
                .build(),
        );
        tags::collect(&tagging, calls, &mut r).await?;
        bar.set_message("ECS tasks of interfaces…");
        let ecs_client = aws_sdk_ecs::Client::from_conf(
            aws_sdk_ecs::config::Builder::from(config)
                .retry_partition(session::retry_partition("ecs", account, region))
                .build(),
        );
        ecs::collect(&ecs_client, calls, &mut r).await;
    }
    bar.set_message(format!(
        "CloudWatch metrics for {} NAT gateway(s)…",
        r.nat_gateways.len()
    ));
    cloudwatch::add_deleted(&mut r, listed)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::operation::describe_nat_gateways::DescribeNatGatewaysOutput;
    use aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput;
    use aws_sdk_ec2::types::{NatGateway, Subnet};

    const ME: &str = "111111111111";

    fn subnets(owners: &[&str]) -> Result<ec2::SubnetPages, Failure> {
        let page = owners
            .iter()
            .fold(DescribeSubnetsOutput::builder(), |b, o| {
                b.subnets(Subnet::builder().subnet_id("subnet-1").owner_id(*o).build())
            });
        Ok(vec![page.build()])
    }

    fn nats(n: usize) -> Result<ec2::NatPages, Failure> {
        let page = (0..n).fold(DescribeNatGatewaysOutput::builder(), |b, i| {
            b.nat_gateways(
                NatGateway::builder()
                    .nat_gateway_id(format!("nat-{i}"))
                    .build(),
            )
        });
        Ok(vec![page.build()])
    }

    fn listed(ids: &[&str]) -> Result<BTreeSet<String>, Failure> {
        Ok(ids.iter().map(|s| s.to_string()).collect())
    }

    fn denied() -> Failure {
        Failure::Denied("AccessDenied".into())
    }

    #[test]
    fn a_region_is_read_whole_unless_everything_says_it_has_no_nat_gateway() {
        let check = |n, s, l| nothing_more_to_read(ME, &(n, s), &l);
        assert!(check(nats(0), subnets(&[ME, ME]), listed(&[])));
        assert!(check(nats(0), subnets(&[]), listed(&[])));
        // A NAT gateway, live or only in CloudWatch's metrics.
        assert!(!check(nats(1), subnets(&[ME]), listed(&[])));
        assert!(!check(nats(0), subnets(&[ME]), listed(&["nat-gone"])));
        // A subnet another account shares with this one: its NAT gateways are the owner's.
        assert!(!check(nats(0), subnets(&[ME, "222222222222"]), listed(&[])));
        // Any of the three denied: not known, so read whole.
        assert!(!check(Err(denied()), subnets(&[ME]), listed(&[])));
        assert!(!check(nats(0), Err(denied()), listed(&[])));
        assert!(!check(nats(0), subnets(&[ME]), Err(denied())));
    }
}

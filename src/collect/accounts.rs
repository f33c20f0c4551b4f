//! The accounts of a multi-account run: listed from the organisation (`--org`) or named
//! (`--accounts`), and each entered through the read role (STS AssumeRole with the caller's
//! credentials).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, Result};
use aws_config::SdkConfig;
use aws_sdk_organizations::types::{AccountState, AccountStatus};
use aws_sdk_sts::config::Credentials;

use super::{Role, Target};
use crate::aws::calls::{all_pages, classify, Calls, Failure};
use crate::snapshot::{Account, NotCollected};

/// The organisation's active accounts, with their names.
pub(super) async fn organization(base: &SdkConfig, calls: &Calls) -> Result<Vec<Account>> {
    let client = aws_sdk_organizations::Client::new(base);
    let region = base.region().map(|r| r.to_string()).unwrap_or_default();
    let pages = client.list_accounts().into_paginator().send();
    let pages = all_pages(calls, &region, "organizations:ListAccounts", pages)
        .await
        .map_err(|f| match f {
            Failure::Denied(why) => anyhow!(
                "cannot list the organisation's accounts (organizations:ListAccounts): {why}; run it from the management account or a delegated administrator, or name the accounts with --accounts"
            ),
            Failure::Fatal(e) => e,
        })?;
    let mut out = Vec::new();
    for page in pages {
        for a in page.accounts() {
            // Suspended or closed accounts cannot be entered; `state` replaces `status`.
            let active = match (a.state(), a.status()) {
                (Some(s), _) => *s == AccountState::Active,
                (None, Some(s)) => *s == AccountStatus::Active,
                (None, None) => true,
            };
            if let (true, Some(id)) = (active, a.id()) {
                out.push(Account {
                    account_id: id.to_string(),
                    name: a.name().map(str::to_string),
                    not_collected: Vec::new(),
                });
            }
        }
    }
    if out.is_empty() {
        anyhow::bail!("the organisation lists no active account");
    }
    Ok(out)
}

/// Assumes the read role in every account, `concurrency` at a time. An account whose role
/// cannot be assumed keeps the reason and no credentials.
pub(super) async fn assume_all(
    sts: &aws_sdk_sts::Client,
    calls: &Arc<Calls>,
    accounts: Vec<Account>,
    role: &Role,
    partition: &str,
    concurrency: usize,
) -> Vec<Target> {
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let n = accounts.len();
    for (i, mut account) in accounts.into_iter().enumerate() {
        let sts = sts.clone();
        let calls = calls.clone();
        let role = role.clone();
        let arn = format!(
            "arn:{partition}:iam::{}:role/{}",
            account.account_id, role.name
        );
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("never closed");
            let session = match assume(&sts, &calls, &arn, &role).await {
                Ok(c) => Some(Arc::new(RoleSession {
                    arn,
                    role,
                    sts,
                    calls,
                    credentials: tokio::sync::Mutex::new(c),
                })),
                Err(reason) => {
                    account.not_collected.push(NotCollected {
                        what: format!("account {}", account.account_id),
                        reason,
                    });
                    None
                }
            };
            (
                i,
                Target {
                    account,
                    session,
                    regions: Vec::new(),
                },
            )
        });
    }
    let mut out: Vec<Option<Target>> = (0..n).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        // An assume task only awaits the SDK; it cannot panic short of a bug.
        let (i, t) = joined.expect("an AssumeRole task panicked");
        out[i] = Some(t);
    }
    out.into_iter().flatten().collect()
}

/// An account's role credentials, assumed again when they are about to expire: in a large
/// organisation, an account's last regions may start more than the session's hour after
/// its first.
pub(super) struct RoleSession {
    arn: String,
    role: Role,
    sts: aws_sdk_sts::Client,
    calls: Arc<Calls>,
    credentials: tokio::sync::Mutex<Credentials>,
}

/// Credentials with less than this left are renewed before a region starts.
const RENEW_BEFORE: Duration = Duration::from_secs(15 * 60);

impl RoleSession {
    /// Credentials good for a region's collection.
    pub(super) async fn credentials(&self) -> Result<Credentials, String> {
        let mut c = self.credentials.lock().await;
        let expiring = c
            .expiry()
            .is_some_and(|e| e < SystemTime::now() + RENEW_BEFORE);
        if expiring {
            *c = assume(&self.sts, &self.calls, &self.arn, &self.role).await?;
        }
        Ok(c.clone())
    }
}

async fn assume(
    sts: &aws_sdk_sts::Client,
    calls: &Calls,
    arn: &str,
    role: &Role,
) -> Result<Credentials, String> {
    calls.add("sts:AssumeRole");
    let region = sts
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let out = sts
        .assume_role()
        .role_arn(arn)
        .role_session_name(&role.session_name)
        .set_external_id(role.external_id.clone())
        .send()
        .await
        .map_err(|e| match classify("sts:AssumeRole", &region, e) {
            Failure::Denied(why) => format!("cannot assume {arn}: {why}"),
            Failure::Fatal(e) => format!("cannot assume {arn}: {e:#}"),
        })?;
    let c = out
        .credentials()
        .ok_or_else(|| format!("cannot assume {arn}: STS returned no credentials"))?;
    let expiry = SystemTime::UNIX_EPOCH + Duration::from_secs(c.expiration().secs().max(0) as u64);
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        Some(expiry),
        "natcost-assume-role",
    ))
}

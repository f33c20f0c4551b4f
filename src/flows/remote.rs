//! The AWS side of reading flow logs where they live (S3, CloudWatch Logs): one async runtime
//! and the caller's configuration, with credentials checked once. Read-only calls only.

use anyhow::{Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::ProvideCredentials;

use crate::collect::calls;

/// Whose credentials and which endpoint: the run's `--profile` and `--endpoint-url`.
pub struct Access<'a> {
    pub profile: Option<&'a str>,
    pub endpoint_url: Option<&'a str>,
    /// The region to start in (a bucket elsewhere says where it is).
    pub region: Option<&'a str>,
}

pub struct Remote {
    pub runtime: tokio::runtime::Runtime,
    pub base: SdkConfig,
    /// Calls go to an emulator at an address (no per-bucket host names there).
    pub endpoint: bool,
}

impl Remote {
    pub fn new(access: &Access) -> Result<Remote> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let base = runtime.block_on(async {
            let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_max_attempts(6)
                    .with_initial_backoff(std::time::Duration::from_millis(200)),
            );
            if let Some(p) = access.profile {
                loader = loader.profile_name(p);
            }
            if let Some(u) = access.endpoint_url {
                loader = loader.endpoint_url(u);
            }
            if let Some(r) = access.region {
                loader = loader.region(Region::new(r.to_string()));
            }
            loader.load().await
        });
        let provider = base
            .credentials_provider()
            .with_context(|| calls::NO_CREDENTIALS.to_string())?;
        runtime
            .block_on(provider.provide_credentials())
            .map_err(|e| anyhow::anyhow!("{} ({e})", calls::NO_CREDENTIALS))?;
        let base = if base.region().is_none() {
            base.into_builder()
                .region(Region::from_static("us-east-1"))
                .build()
        } else {
            base
        };
        Ok(Remote {
            runtime,
            base,
            endpoint: access.endpoint_url.is_some()
                || std::env::var_os("AWS_ENDPOINT_URL").is_some()
                || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some(),
        })
    }

    /// The region to start in.
    pub fn region(&self) -> String {
        self.base
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into())
    }
}

/// A run's [`Remote`], made on first use and then shared by everything that reads from AWS
/// after collection (flow logs, the bill): one runtime, one credential check.
pub struct Lazy<'a> {
    access: Access<'a>,
    made: std::cell::OnceCell<std::result::Result<Remote, String>>,
}

impl<'a> Lazy<'a> {
    pub fn new(access: Access<'a>) -> Lazy<'a> {
        Lazy {
            access,
            made: std::cell::OnceCell::new(),
        }
    }

    /// The Remote, or why it cannot be made (the same answer every time).
    pub fn get(&self) -> std::result::Result<&Remote, &str> {
        self.made
            .get_or_init(|| Remote::new(&self.access).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(String::as_str)
    }
}

/// Waiting on a query in AWS (Logs Insights, Athena): 250 ms, doubling to 5 s between polls,
/// for at most 30 minutes.
pub struct Poll {
    wait: std::time::Duration,
    deadline: tokio::time::Instant,
}

impl Poll {
    const LIMIT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

    /// From now.
    pub fn start() -> Poll {
        Poll {
            wait: std::time::Duration::from_millis(250),
            deadline: tokio::time::Instant::now() + Self::LIMIT,
        }
    }

    /// Fails once the query `id` has had its 30 minutes.
    pub fn check(&self, id: &str) -> Result<()> {
        if tokio::time::Instant::now() > self.deadline {
            anyhow::bail!(
                "query {id} did not finish in {} minutes",
                Self::LIMIT.as_secs() / 60
            );
        }
        Ok(())
    }

    /// Sleeps before the next poll.
    pub async fn pause(&mut self) {
        tokio::time::sleep(self.wait).await;
        self.wait = (self.wait * 2).min(std::time::Duration::from_secs(5));
    }
}

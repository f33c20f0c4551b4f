//! A run's AWS session: the configuration every SDK client starts from (loaded once, with one
//! HTTP client for the whole run), how each kind of call retries, retry partitions per account,
//! and the one async runtime. [`Remote`] is the caller's session for what is read after
//! collection (flow logs where they live, the bill), with credentials checked once.

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::config::retry::RetryPartition;
use aws_sdk_sts::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

use super::calls;

/// The run's async runtime, made on first use: collection, prices, flow logs and the bill all
/// run on it (from synchronous code, through `block_on`).
pub fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(r) = RUNTIME.get() {
        return Ok(r);
    }
    let made = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(RUNTIME.get_or_init(|| made))
}

/// How a kind of call retries and waits.
pub struct Patience {
    max_attempts: u32,
    /// None: the SDK's default (1 s).
    initial_backoff: Option<Duration>,
    /// Connect and whole-operation time limits; None: the SDK's defaults.
    timeouts: Option<(Duration, Duration)>,
}

/// Reading an account (collection, flow logs, the bill): throttling is expected at scale, so
/// up to 6 attempts, backing off from 200 ms.
pub const READING: Patience = Patience {
    max_attempts: 6,
    initial_backoff: Some(Duration::from_millis(200)),
    timeouts: None,
};

/// The Pricing API: the bundled table stands in when it cannot be reached, so give up soon
/// (3 attempts, 3 s to connect, 60 s an operation) rather than hang offline.
pub const PRICING: Patience = Patience {
    max_attempts: 3,
    initial_backoff: None,
    timeouts: Some((Duration::from_secs(3), Duration::from_secs(60))),
};

/// The configuration SDK clients start from: `--profile`, `--endpoint-url` (or
/// `AWS_ENDPOINT_URL`), a region, credentials when not the caller's own, the run's HTTP client
/// and `patience`.
pub async fn load(
    profile: Option<&str>,
    endpoint_url: Option<&str>,
    region: Option<&str>,
    credentials: Option<&Credentials>,
    patience: &Patience,
) -> SdkConfig {
    let mut retry = RetryConfig::standard().with_max_attempts(patience.max_attempts);
    if let Some(b) = patience.initial_backoff {
        retry = retry.with_initial_backoff(b);
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry);
    if let Some((connect, operation)) = patience.timeouts {
        loader = loader.timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(connect)
                .operation_timeout(operation)
                .build(),
        );
    }
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(u) = endpoint_url {
        calls::set_endpoint(u);
        loader = loader.endpoint_url(u);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    if let Some(c) = credentials {
        loader = loader.credentials_provider(c.clone());
    }
    loader.http_client(shared_http_client()).load().await
}

/// `--profile NAME` must name a profile of the AWS config or credentials files: else the run
/// stops at once, listing the profiles there (the SDK would only find no credentials, later).
pub fn check_profile(name: &str) -> Result<()> {
    use aws_types::os_shim_internal::{Env, Fs};
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let set = runtime()?
        .block_on(aws_config::profile::load(
            &Fs::real(),
            &Env::real(),
            &files,
            None,
        ))
        .with_context(|| format!("--profile {name}: cannot read the AWS config files"))?;
    if set.get_profile(name).is_some() {
        return Ok(());
    }
    let mut found: Vec<&str> = set.profiles().collect();
    found.sort_unstable();
    anyhow::bail!(
        "--profile {name}: no such profile in the AWS config and credentials files (~/.aws/config, ~/.aws/credentials, or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE); {}",
        if found.is_empty() {
            "they hold none: set one up with `aws configure --profile NAME` or `aws configure sso`".to_string()
        } else {
            format!("profiles found: {}", found.join(", "))
        }
    )
}

/// The SDK's default HTTPS client (rustls with aws-lc, proxy from the environment), built once
/// and shared by every SDK client of a run. Each SDK client made with the SDK's own default
/// builds a TLS configuration (every root certificate parsed) to check that it can, then
/// throws it away; with three SDK clients per account × region, that was more CPU than the
/// rest of a collection. This one builds its connector once and skips that check.
fn shared_http_client() -> SharedHttpClient {
    use aws_smithy_http_client::{proxy::ProxyConfig, tls, Builder, ConnectorBuilder};
    let client = Builder::new().build_with_connector_fn(|settings, components| {
        let mut builder = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ));
        builder.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            builder.set_sleep_impl(c.sleep_impl());
        }
        builder.set_proxy_config(Some(ProxyConfig::from_env()));
        builder.build()
    });
    SharedHttpClient::new(BuiltOnce(client))
}

#[derive(Debug)]
struct BuiltOnce(SharedHttpClient);

impl HttpClient for BuiltOnce {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The base configuration for another region and credentials. Loading a configuration again
/// for each account × region would read and parse the profile files each time.
pub fn config_for(base: &SdkConfig, region: &str, credentials: Option<&Credentials>) -> SdkConfig {
    let mut config = base.to_builder();
    config.set_region(Some(Region::new(region.to_string())));
    if let Some(c) = credentials {
        config.set_credentials_provider(Some(SharedCredentialsProvider::new(c.clone())));
    }
    config.build()
}

/// The SDK's retries draw on a token bucket per retry partition, by default one per service
/// and region for the whole process: one throttled account would spend the retries of every
/// other. This one is per account, service and region, as AWS's own rate limits are.
pub fn retry_partition(service: &str, account: &str, region: &str) -> RetryPartition {
    RetryPartition::new(format!("{service}-{region}-{account}"))
}

/// Whose credentials and which endpoint: the run's `--profile` and `--endpoint-url`.
pub struct Access<'a> {
    pub profile: Option<&'a str>,
    pub endpoint_url: Option<&'a str>,
    /// The region to start in (a bucket elsewhere says where it is).
    pub region: Option<&'a str>,
}

pub struct Remote {
    pub runtime: &'static tokio::runtime::Runtime,
    pub base: SdkConfig,
    /// Calls go to an emulator at an address (no per-bucket host names there).
    pub endpoint: bool,
}

impl Remote {
    pub fn new(access: &Access) -> Result<Remote> {
        let runtime = runtime()?;
        let base = runtime.block_on(load(
            access.profile,
            access.endpoint_url,
            access.region,
            None,
            &READING,
        ));
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

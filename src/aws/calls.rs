//! The AWS calls natcost makes (all read-only), counted as they are made, and what a
//! failed call means for the collection.

use std::collections::BTreeMap;
use std::sync::Mutex;

use anyhow::anyhow;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_async::future::pagination_stream::PaginationStream;

/// What the collector calls in each account it reads (the read role of a member account, or
/// the caller's own account).
pub const READ_ACTIONS: &[&str] = &[
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
    "ec2:DescribeAddresses",
    "ec2:DescribeEgressOnlyInternetGateways",
    "ec2:DescribeFlowLogs",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeManagedPrefixLists",
    "ec2:DescribeNatGateways",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRegions",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSubnets",
    "ec2:DescribeTransitGatewayAttachments",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
    "ec2:GetManagedPrefixListEntries",
    "lambda:ListFunctions",
];

/// What the collector calls too when teams are asked for (`--allocate-by`, `collect --tags`).
pub const TAG_ACTIONS: &[&str] = &[
    "ecs:DescribeTasks",
    "ecs:ListClusters",
    "ecs:ListTasks",
    "tag:GetResources",
];

/// What every run calls with the caller's own credentials: who it is, and the Pricing API
/// (the default price source of `report`).
pub const CALLER_ACTIONS: &[&str] = &["pricing:GetProducts", "sts:GetCallerIdentity"];

/// What the caller calls to read other accounts: list them (`--org`) and assume the read role
/// in each (`--org`, `--accounts`).
pub const ORGANIZATION_ACTIONS: &[&str] = &["organizations:ListAccounts", "sts:AssumeRole"];

/// Calls made, by IAM action (one per request page, retries not counted).
#[derive(Default)]
pub struct Calls(Mutex<BTreeMap<String, u64>>);

impl Calls {
    pub fn add(&self, action: &str) {
        debug_assert!(
            [
                READ_ACTIONS,
                TAG_ACTIONS,
                CALLER_ACTIONS,
                ORGANIZATION_ACTIONS
            ]
            .iter()
            .any(|g| g.contains(&action)),
            "{action} is not in the IAM policy"
        );
        *self
            .0
            .lock()
            .unwrap()
            .entry(action.to_string())
            .or_default() += 1;
    }
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap().clone()
    }
}

/// Error codes meaning "not allowed here": the rest is still collected and the result is partial.
const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthFailure",
    "OptInRequired",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
];

pub enum Failure {
    /// The account may not make this call here: record it and go on.
    Denied(String),
    /// Anything else (after the SDK's own retries): the collection stops.
    Fatal(anyhow::Error),
}

pub fn classify<E>(action: &str, region: &str, err: SdkError<E>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let Some(code) = err.code() {
        if DENIED.contains(&code) {
            return Failure::Denied(format!(
                "{code}: {}",
                err.message().unwrap_or("access denied")
            ));
        }
    }
    let text = DisplayErrorContext(&err).to_string();
    if matches!(err, SdkError::DispatchFailure(_)) && text.contains("credentials") {
        return Failure::Fatal(anyhow!(NO_CREDENTIALS));
    }
    let service = action.split(':').next().unwrap_or(action);
    Failure::Fatal(anyhow!(
        "{action} failed: {}",
        one_line(&err, &host(service, region))
    ))
}

/// `--endpoint-url`, once a session is loaded with it: calls go there, and errors say so.
static ENDPOINT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub fn set_endpoint(url: &str) {
    let _ = ENDPOINT.set(url.to_string());
}

/// The host a service's calls in a region go to, as errors name it: `--endpoint-url`, else
/// `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL` (as the SDK reads them), else AWS's own.
pub fn host(service: &str, region: &str) -> String {
    let env_name = match service {
        "logs" => "CLOUDWATCH_LOGS".to_string(),
        "ce" => "COST_EXPLORER".to_string(),
        s => s.to_ascii_uppercase(),
    };
    let from_env = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .map_or(true, |v| !v.eq_ignore_ascii_case("true"));
    let overridden = ENDPOINT
        .get()
        .cloned()
        .or_else(|| {
            from_env
                .then(|| std::env::var(format!("AWS_ENDPOINT_URL_{env_name}")).ok())
                .flatten()
        })
        .or_else(|| {
            from_env
                .then(|| std::env::var("AWS_ENDPOINT_URL").ok())
                .flatten()
        })
        .filter(|u| !u.is_empty());
    if let Some(url) = overridden {
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or(rest);
        // Never a user name or password written into the URL.
        return authority
            .rsplit('@')
            .next()
            .unwrap_or(authority)
            .to_string();
    }
    let name = match service {
        "cloudwatch" => "monitoring",
        "pricing" => "api.pricing",
        s => s,
    };
    format!("{name}.{region}.amazonaws.com")
}

/// An SDK error in one line, without the SDK's debug dump: what failed and why, e.g.
/// `cannot reach sts.ap-northeast-2.amazonaws.com: DNS lookup failed (offline?)`.
pub fn one_line<E>(err: &SdkError<E>, host: &str) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    // Every cause's own message, outermost first.
    let mut causes = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        causes.push(e.to_string());
        next = e.source();
    }
    let all = causes.join(": ").to_lowercase();
    match err {
        SdkError::DispatchFailure(d) => {
            let why = if all.contains("dns error") || all.contains("failed to lookup address") {
                "DNS lookup failed (offline?)".to_string()
            } else if all.contains("connection refused") {
                "connection refused".to_string()
            } else if d.is_timeout() {
                "timed out".to_string()
            } else {
                causes.last().cloned().unwrap_or_default()
            };
            format!("cannot reach {host}: {why}")
        }
        SdkError::TimeoutError(_) => format!("{host} timed out"),
        _ => match (err.code(), err.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_string(),
            _ => causes
                .into_iter()
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
                .join(": "),
        },
    }
}

pub const NO_CREDENTIALS: &str = "no AWS credentials found: set AWS_PROFILE or pass --profile (see `aws configure` / `aws sso login`), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";

/// Every page of a paginated call, counting each request.
pub async fn all_pages<O, E>(
    calls: &Calls,
    region: &str,
    action: &str,
    mut pages: PaginationStream<Result<O, SdkError<E>>>,
) -> Result<Vec<O>, Failure>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        calls.add(action);
        out.push(page.map_err(|e| classify(action, region, e))?);
    }
    Ok(out)
}

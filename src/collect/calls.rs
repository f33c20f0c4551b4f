//! The AWS calls natcost makes (all read-only), counted as they are made, and what a
//! failed call means for the collection.

use std::collections::BTreeMap;
use std::sync::Mutex;

use anyhow::anyhow;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_async::future::pagination_stream::PaginationStream;

/// Every IAM action the collector may call; `natcost iam-policy` prints exactly these.
pub const ACTIONS: &[&str] = &[
    "cloudwatch:GetMetricData",
    "ec2:DescribeAddresses",
    "ec2:DescribeEgressOnlyInternetGateways",
    "ec2:DescribeFlowLogs",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeNatGateways",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRegions",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSubnets",
    "ec2:DescribeTransitGatewayAttachments",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
    "lambda:ListFunctions",
    "sts:GetCallerIdentity",
];

/// The least-privilege IAM policy for natcost.
pub fn iam_policy() -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "NatcostReadOnly",
            "Effect": "Allow",
            "Action": ACTIONS,
            "Resource": "*"
        }]
    })
}

/// Calls made, by IAM action (one per request page, retries not counted).
#[derive(Default)]
pub struct Calls(Mutex<BTreeMap<String, u64>>);

impl Calls {
    pub fn add(&self, action: &str) {
        debug_assert!(
            ACTIONS.contains(&action),
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

pub fn classify<E>(action: &str, err: SdkError<E>) -> Failure
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
    Failure::Fatal(anyhow!("{action} failed: {text}"))
}

pub const NO_CREDENTIALS: &str = "no AWS credentials found: set AWS_PROFILE or pass --profile (see `aws configure` / `aws sso login`), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";

/// Every page of a paginated call, counting each request.
pub async fn all_pages<O, E>(
    calls: &Calls,
    action: &str,
    mut pages: PaginationStream<Result<O, SdkError<E>>>,
) -> Result<Vec<O>, Failure>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        calls.add(action);
        out.push(page.map_err(|e| classify(action, e))?);
    }
    Ok(out)
}

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

/// What every run calls with the caller's own credentials: who it is, and the Pricing API
/// (the default price source of `report`).
pub const CALLER_ACTIONS: &[&str] = &["pricing:GetProducts", "sts:GetCallerIdentity"];

/// What the caller calls to read other accounts: list them (`--org`) and assume the read role
/// in each (`--org`, `--accounts`).
pub const ORGANIZATION_ACTIONS: &[&str] = &["organizations:ListAccounts", "sts:AssumeRole"];

/// Whose permissions `natcost iam-policy` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyFor {
    /// One account, read with the caller's credentials: everything `report --region` calls.
    Account,
    /// The read role in each member account (`--role-name`), for `--org` / `--accounts`.
    Member,
    /// The caller of `--org` / `--accounts` runs: list accounts, assume the read role, prices.
    Caller,
}

/// What natcost calls for `--athena-table` (Athena itself then reads the table through Glue and
/// S3, and writes the results, with the caller's permissions: see [`ATHENA_ON_BEHALF`]).
pub const ATHENA_ACTIONS: &[&str] = &[
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:StartQueryExecution",
];

/// What Athena does with the caller's permissions to run the query: read the table's
/// definition and partitions, read its files, write the results.
pub const ATHENA_ON_BEHALF: &[&str] = &[
    "glue:GetDatabase",
    "glue:GetPartitions",
    "glue:GetTable",
    "s3:AbortMultipartUpload",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:PutObject",
];

/// The least-privilege IAM policy for natcost, for one side of a run; `flow_logs` are the S3
/// locations and log groups of `--flow-logs` (read with the caller's credentials); `athena`
/// adds `--athena-table`'s query, in that workgroup.
pub fn iam_policy(
    side: PolicyFor,
    role_name: &str,
    flow_logs: &[crate::flows::Input],
    athena: Option<&str>,
    bill: &[crate::bill::Source],
) -> serde_json::Value {
    fn sorted(groups: &[&[&'static str]]) -> Vec<&'static str> {
        let mut v: Vec<&str> = groups.iter().flat_map(|g| g.iter().copied()).collect();
        v.sort_unstable();
        v
    }
    let statements = match side {
        PolicyFor::Account => vec![serde_json::json!({
            "Sid": "NatcostReadOnly",
            "Effect": "Allow",
            "Action": sorted(&[READ_ACTIONS, CALLER_ACTIONS]),
            "Resource": "*"
        })],
        PolicyFor::Member => vec![serde_json::json!({
            "Sid": "NatcostMemberReadOnly",
            "Effect": "Allow",
            "Action": READ_ACTIONS,
            "Resource": "*"
        })],
        PolicyFor::Caller => vec![
            serde_json::json!({
                "Sid": "NatcostCallerReadOnly",
                "Effect": "Allow",
                "Action": sorted(&[CALLER_ACTIONS, &["organizations:ListAccounts"]]),
                "Resource": "*"
            }),
            serde_json::json!({
                "Sid": "NatcostAssumeReadRole",
                "Effect": "Allow",
                "Action": ["sts:AssumeRole"],
                "Resource": format!("arn:*:iam::*:role/{role_name}")
            }),
        ],
    };
    let mut statements = statements;
    let groups: Vec<String> = flow_logs
        .iter()
        .filter_map(|i| match i {
            crate::flows::Input::LogGroup(g) => Some(format!("arn:*:logs:*:*:log-group:{g}:*")),
            _ => None,
        })
        .collect();
    if side != PolicyFor::Member && !groups.is_empty() {
        statements.push(serde_json::json!({
            "Sid": "NatcostQueryFlowLogs",
            "Effect": "Allow",
            "Action": ["logs:StartQuery"],
            "Resource": groups
        }));
        // GetQueryResults names a query, not a log group: it takes no resource.
        statements.push(serde_json::json!({
            "Sid": "NatcostQueryResults",
            "Effect": "Allow",
            "Action": ["logs:GetQueryResults"],
            "Resource": "*"
        }));
    }
    if bill.contains(&crate::bill::Source::CostExplorer) && side != PolicyFor::Member {
        // Cost Explorer takes no resource; the caller reads the bill (with --org, from the
        // management account it sees every linked account).
        statements.push(serde_json::json!({
            "Sid": "NatcostReadBill",
            "Effect": "Allow",
            "Action": ["ce:GetCostAndUsage"],
            "Resource": "*"
        }));
    }
    if let (true, Some(workgroup)) = (side != PolicyFor::Member, athena) {
        statements.push(serde_json::json!({
            "Sid": "NatcostAthenaQuery",
            "Effect": "Allow",
            "Action": ATHENA_ACTIONS,
            "Resource": format!("arn:*:athena:*:*:workgroup/{workgroup}")
        }));
        // Narrow these to the table's database and location, and the results location, when
        // they are known: natcost cannot see them.
        statements.push(serde_json::json!({
            "Sid": "NatcostAthenaReadsTableWritesResults",
            "Effect": "Allow",
            "Action": ATHENA_ON_BEHALF,
            "Resource": "*"
        }));
    }
    let flow_logs: Vec<&crate::flows::s3::Location> = flow_logs
        .iter()
        .filter_map(|i| match i {
            crate::flows::Input::S3(l) => Some(l),
            _ => None,
        })
        .collect();
    if side != PolicyFor::Member && !flow_logs.is_empty() {
        // natcost lists and reads only under PREFIX/AWSLogs/, where AWS delivers flow logs.
        let under = |l: &crate::flows::s3::Location| {
            let base = match l.prefix.find("AWSLogs/") {
                Some(i) => &l.prefix[..i],
                None => l.prefix.as_str(),
            };
            let sep = if base.is_empty() || base.ends_with('/') {
                ""
            } else {
                "/"
            };
            format!("{base}{sep}AWSLogs/")
        };
        let places: Vec<(&str, String)> = flow_logs
            .iter()
            .map(|l| (l.bucket.as_str(), under(l)))
            .collect();
        statements.extend(s3_read("FlowLogs", &places));
    }
    let reports: Vec<&crate::flows::s3::Location> = bill
        .iter()
        .filter_map(|b| match b {
            crate::bill::Source::Cur(crate::bill::cur::Location::S3(l)) => Some(l),
            _ => None,
        })
        .collect();
    if side != PolicyFor::Member && !reports.is_empty() {
        // natcost lists everything under the export's prefix and reads its report files.
        let places: Vec<(&str, String)> = reports
            .iter()
            .map(|l| (l.bucket.as_str(), l.prefix.clone()))
            .collect();
        statements.extend(s3_read("BillFiles", &places));
    }
    serde_json::json!({"Version": "2012-10-17", "Statement": statements})
}

/// s3:ListBucket on each bucket, for its prefixes only, and s3:GetObject under them:
/// `NatcostList<what><n>` and `NatcostRead<what>`.
fn s3_read(what: &str, places: &[(&str, String)]) -> Vec<serde_json::Value> {
    let mut buckets: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (bucket, prefix) in places {
        buckets.entry(bucket).or_default().push(prefix);
    }
    let mut out: Vec<serde_json::Value> = buckets
        .iter()
        .enumerate()
        .map(|(i, (bucket, prefixes))| {
            serde_json::json!({
                "Sid": format!("NatcostList{what}{}", i + 1),
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": format!("arn:*:s3:::{bucket}"),
                "Condition": {"StringLike": {"s3:prefix": prefixes.iter().map(|p| format!("{p}*")).collect::<Vec<_>>()}}
            })
        })
        .collect();
    out.push(serde_json::json!({
        "Sid": format!("NatcostRead{what}"),
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": buckets
            .iter()
            .flat_map(|(b, ps)| ps.iter().map(move |p| format!("arn:*:s3:::{b}/{p}*")))
            .collect::<Vec<_>>()
    }));
    out
}

/// Calls made, by IAM action (one per request page, retries not counted).
#[derive(Default)]
pub struct Calls(Mutex<BTreeMap<String, u64>>);

impl Calls {
    pub fn add(&self, action: &str) {
        debug_assert!(
            [READ_ACTIONS, CALLER_ACTIONS, ORGANIZATION_ACTIONS]
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

/// The AWS endpoint host of a service in a region, as a reader would look it up.
pub fn host(service: &str, region: &str) -> String {
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

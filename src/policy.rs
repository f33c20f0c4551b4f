//! The least-privilege IAM policy for a run (`natcost iam-policy`): it knows every source
//! natcost reads (the collector's calls, flow logs, Athena, the bill), so it sits above them.

use std::collections::BTreeMap;

use crate::aws::calls::{CALLER_ACTIONS, READ_ACTIONS, TAG_ACTIONS};
use crate::aws::s3::Location;
use crate::bill::cur::Location as BillLocation;
use crate::bill::Source as BillSource;
use crate::flows::Input;

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
/// adds `--athena-table`'s query, in that workgroup; `tags` what `--allocate-by` reads.
pub fn iam_policy(
    side: PolicyFor,
    role_name: &str,
    flow_logs: &[Input],
    athena: Option<&str>,
    bill: &[BillSource],
    tags: bool,
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
    // Tags are read where the collector reads: in the account, or through the member role.
    if tags && side != PolicyFor::Caller {
        statements.push(serde_json::json!({
            "Sid": "NatcostReadTags",
            "Effect": "Allow",
            "Action": TAG_ACTIONS,
            "Resource": "*"
        }));
    }
    let groups: Vec<String> = flow_logs
        .iter()
        .filter_map(|i| match i {
            Input::LogGroup(g) => Some(format!("arn:*:logs:*:*:log-group:{g}:*")),
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
    if side != PolicyFor::Member && flow_logs.contains(&Input::Auto) {
        // `auto` reads where the flow-log configurations it finds deliver: buckets and log
        // groups no one names in advance.
        statements.push(serde_json::json!({
            "Sid": "NatcostFlowLogsWhereverConfigured",
            "Effect": "Allow",
            "Action": ["logs:GetQueryResults", "logs:StartQuery", "s3:GetObject", "s3:ListBucket"],
            "Resource": "*"
        }));
    }
    if bill.contains(&BillSource::CostExplorer) && side != PolicyFor::Member {
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
    let flow_logs: Vec<&Location> = flow_logs
        .iter()
        .filter_map(|i| match i {
            Input::S3(l) => Some(l),
            _ => None,
        })
        .collect();
    if side != PolicyFor::Member && !flow_logs.is_empty() {
        // natcost lists and reads only under PREFIX/AWSLogs/, where AWS delivers flow logs.
        let under = |l: &Location| {
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
    let reports: Vec<&Location> = bill
        .iter()
        .filter_map(|b| match b {
            BillSource::Cur(BillLocation::S3(l)) => Some(l),
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

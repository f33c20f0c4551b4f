//! What flow logs found, as the cost model and the advisor read it: a NAT gateway's traffic by
//! destination and by source, and how much of the window the logs cover. A leaf: flows/ fills
//! these types, price/, advise/ and report read them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// AWS bills data in GB of 2^30 bytes.
pub const BYTES_PER_GB: u64 = 1 << 30;

/// Where a NAT gateway's outside traffic goes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Destination {
    /// S3 in the NAT's region: a free gateway endpoint takes it.
    S3,
    /// DynamoDB in the NAT's region: a free gateway endpoint takes it.
    DynamoDb,
    /// Another AWS service in the region, as ip-ranges names it (interface-endpoint candidates).
    AwsService(String),
    /// AWS in another region, or global (CloudFront, Global Accelerator...).
    AwsElsewhere,
    /// Not AWS.
    Internet,
}

/// As a JSON key: `s3`, `dynamodb`, `aws:SERVICE`, `aws-elsewhere`, `internet`.
impl Serialize for Destination {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl Destination {
    pub fn key(&self) -> String {
        match self {
            Destination::S3 => "s3".into(),
            Destination::DynamoDb => "dynamodb".into(),
            Destination::AwsService(s) => format!("aws:{s}"),
            Destination::AwsElsewhere => "aws-elsewhere".into(),
            Destination::Internet => "internet".into(),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Destination::S3 => "S3 (same region)".into(),
            Destination::DynamoDb => "DynamoDB (same region)".into(),
            Destination::AwsService(s) => format!("AWS {s} (same region)"),
            Destination::AwsElsewhere => "AWS, other region or global".into(),
            Destination::Internet => "internet".into(),
        }
    }
}

/// One NAT gateway's attributed traffic.
#[derive(Debug, Clone, Serialize)]
pub struct NatTraffic {
    pub region: String,
    pub nat_gateway_id: String,
    /// Bytes on the outside leg, both directions.
    pub destination_bytes: u64,
    pub destinations: BTreeMap<Destination, u64>,
    /// Bytes on the inside leg, both directions.
    pub source_bytes: u64,
    /// By function (or other interface), largest first.
    pub sources: Vec<(String, u64)>,
    /// Source → destination, when the format has pkt-srcaddr/pkt-dstaddr.
    pub pairs: Vec<(String, Destination, u64)>,
    /// Start of the first and of the last record counted: the time the logs cover.
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    /// Inside-leg bytes by the client's subnet (by its address in the VPC's subnet CIDRs):
    /// what crosses AZs when the subnet is in another AZ than the NAT gateway.
    pub source_subnets: BTreeMap<String, u64>,
    /// Shared Lambda ENIs whose bytes `sources` splits between their functions, with the inputs.
    pub shared_splits: Vec<SharedSplit>,
    /// Inside-leg bytes by source and client subnet, each source named by its kind and id (what
    /// cost allocation splits the NAT's cost by), largest first.
    pub by_source: Vec<SourceBytes>,
    /// `by_source` by UTC day, of the records whose day is known (Athena and Logs Insights sum
    /// by day; a row whose records start on two days would have none): what one day or month
    /// is explained by.
    #[serde(skip)]
    pub daily_sources: BTreeMap<NaiveDate, Vec<SourceBytes>>,
}

/// What sends bytes through a NAT gateway, as cost allocation names it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A Lambda function.
    Lambda,
    /// Another network interface (ECS task, EC2 instance, a shared Lambda ENI not split…).
    Eni,
    /// Bytes from a subnet with no known interface behind them.
    Subnet,
    /// Bytes the NAT processed that no source explains.
    Unattributed,
    /// Fixed cost of a NAT gateway with no traffic at all.
    Idle,
    /// Fixed cost kept apart (`--fixed-costs separate`).
    Shared,
}

impl SourceKind {
    /// What is no source (idle, shared, unattributed): one of it per NAT gateway, never the
    /// same thing across NAT gateways.
    pub fn is_per_nat(self) -> bool {
        matches!(
            self,
            SourceKind::Idle | SourceKind::Shared | SourceKind::Unattributed
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Lambda => "lambda",
            SourceKind::Eni => "eni",
            SourceKind::Subnet => "subnet",
            SourceKind::Unattributed => "unattributed",
            SourceKind::Idle => "idle",
            SourceKind::Shared => "shared",
        }
    }
}

/// A source by kind and id (a function's ARN, an ENI id, a subnet id), with a name to show.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
pub struct SourceRef {
    pub kind: SourceKind,
    pub id: String,
    pub name: String,
}

impl SourceRef {
    pub fn lambda(f: &crate::snapshot::LambdaFunction) -> SourceRef {
        SourceRef {
            kind: SourceKind::Lambda,
            id: f.function_arn.clone(),
            name: f.function_name.clone(),
        }
    }

    /// An interface named by its ECS task's cluster and group ("ECS prod/service:orders"),
    /// else by its description ("ELB app/web/…", "arn:aws:ecs:…:attachment/…"), else its type.
    pub fn eni(e: &crate::snapshot::NetworkInterface) -> SourceRef {
        // A task ARN names its cluster: arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID.
        let cluster = e
            .ecs_task_arn
            .as_deref()
            .and_then(|arn| arn.split_once(":task/"))
            .and_then(|(_, rest)| rest.split_once('/'))
            .map(|(cluster, _)| cluster);
        SourceRef {
            kind: SourceKind::Eni,
            id: e.network_interface_id.clone(),
            name: match (
                &e.ecs_group,
                e.description.as_deref().filter(|d| !d.is_empty()),
            ) {
                (Some(group), _) => match cluster {
                    Some(c) => format!("ECS {c}/{group}"),
                    None => format!("ECS {group}"),
                },
                (None, Some(d)) => d.to_string(),
                (None, None) if e.interface_type == "interface" => "network interface".into(),
                (None, None) => format!("{} network interface", e.interface_type),
            },
        }
    }

    /// The ECS cluster and task group ("prod/service:orders") an interface source belongs to:
    /// its tasks' interfaces come and go with each deployment, the group stays.
    pub fn ecs_group(&self) -> Option<&str> {
        (self.kind == SourceKind::Eni)
            .then(|| self.name.strip_prefix("ECS "))
            .flatten()
    }

    pub fn subnet(subnet_id: &str) -> SourceRef {
        SourceRef {
            kind: SourceKind::Subnet,
            id: subnet_id.to_string(),
            name: "no known interface".into(),
        }
    }

    pub fn unattributed(why: &str) -> SourceRef {
        SourceRef {
            kind: SourceKind::Unattributed,
            id: "unattributed".into(),
            name: why.to_string(),
        }
    }
}

/// Bytes a source sent or received through a NAT gateway from one subnet (None: not placed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceBytes {
    pub source: SourceRef,
    pub subnet: Option<String>,
    pub bytes: u64,
}

/// A period's sources, from the records dated in it.
#[derive(Debug, Clone, Default)]
pub struct Dated {
    pub sources: Vec<SourceBytes>,
    /// The days with any.
    pub days: usize,
}

impl Dated {
    pub fn bytes(&self) -> u64 {
        self.sources.iter().map(|b| b.bytes).sum()
    }

    /// Whether they measure the period by the rule the window's shares are measured by: enough
    /// days of it, or enough of the `gb` CloudWatch counted in it.
    pub fn covers(&self, gb: Option<f64>) -> bool {
        measures(self.days as f64, share_of(self.bytes(), gb))
    }

    /// Whether the period is split by its own sources (allocation) and priced by its own
    /// cross-AZ share (the inter-AZ line): they cover it, and some of them are placed in a
    /// subnet, so that who crosses AZs is known too.
    pub fn measures_period(&self, gb: Option<f64>) -> bool {
        self.bytes() > 0 && self.covers(gb) && self.sources.iter().any(|b| b.subnet.is_some())
    }
}

/// A shared Lambda ENI's bytes split between its functions (an estimate).
#[derive(Debug, Clone, Serialize)]
pub struct SharedSplit {
    pub network_interface_id: String,
    pub bytes: u64,
    pub method: &'static str,
    pub functions: Vec<SplitShare>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SplitShare {
    pub function_name: String,
    /// AWS/Lambda Duration summed over the window, ms.
    pub duration_ms: f64,
    pub share: f64,
    pub bytes: u64,
}

/// Flow logs measure a NAT gateway's traffic when they cover at least this many days of it...
pub const MEASURED_MIN_DAYS: f64 = 7.0;
/// ...counting the last record's own aggregation interval (up to 10 minutes), which its start
/// time leaves out: 7 days of logs span 6.99 days from first start to last start.
const LAST_INTERVAL_DAYS: f64 = 600.0 / 86_400.0;
/// ...or at least this share of the bytes CloudWatch counted in the window. Less is a sample:
/// shares from it are estimates.
pub const MEASURED_MIN_SHARE: f64 = 0.25;

/// The coverage rule: logs over `days`, or seeing `share` of the bytes CloudWatch counted.
fn measures(days: f64, share: Option<f64>) -> bool {
    days >= MEASURED_MIN_DAYS || share.is_some_and(|s| s >= MEASURED_MIN_SHARE)
}

/// `bytes` as a share of the `gb` CloudWatch counted; None without them.
fn share_of(bytes: u64, gb: Option<f64>) -> Option<f64> {
    gb.filter(|gb| *gb > 0.0)
        .map(|gb| bytes as f64 / (gb * BYTES_PER_GB as f64))
}

impl NatTraffic {
    /// Whether the logs cover enough of the window to call their shares measured.
    pub fn covers(&self, cloudwatch_gb: Option<f64>) -> bool {
        measures(self.days_covered(), self.seen_share(cloudwatch_gb))
    }

    /// How much the logs cover, as the coverage rule reads it: "1.4 day(s) and 0.15%" (the
    /// share of the bytes CloudWatch counted; "an unknown share" without them).
    pub fn coverage(&self, cloudwatch_gb: Option<f64>) -> String {
        format!(
            "{:.1} day(s) and {}",
            self.days_covered(),
            self.seen_share(cloudwatch_gb)
                .map(|s| format!("{:.2}%", 100.0 * s))
                .unwrap_or_else(|| "an unknown share".into())
        )
    }

    /// The share of the bytes CloudWatch counted that the logs saw; None without CloudWatch's.
    pub fn seen_share(&self, cloudwatch_gb: Option<f64>) -> Option<f64> {
        share_of(self.destination_bytes, cloudwatch_gb)
    }

    /// Each client subnet's share of the inside-leg bytes; None when none was placed.
    pub fn subnet_shares(&self) -> Option<Vec<(&str, f64)>> {
        let total: u64 = self.source_subnets.values().sum();
        (total > 0).then(|| {
            self.source_subnets
                .iter()
                .map(|(s, b)| (s.as_str(), *b as f64 / total as f64))
                .collect()
        })
    }

    /// Days from the first record counted to the end of the last one's interval.
    pub fn days_covered(&self) -> f64 {
        match (self.first_seen, self.last_seen) {
            (Some(a), Some(b)) => (b - a).num_seconds() as f64 / 86_400.0 + LAST_INTERVAL_DAYS,
            _ => 0.0,
        }
    }

    /// The sources of the records dated within `from..to` (the UTC days touching it), summed.
    pub fn sources_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Dated {
        let mut sum: BTreeMap<(&SourceRef, Option<&String>), u64> = BTreeMap::new();
        let mut days = 0;
        let before_end = |d: &NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc() < to;
        for (_, list) in self
            .daily_sources
            .range(from.date_naive()..)
            .take_while(|(d, _)| before_end(d))
        {
            days += 1;
            for b in list {
                *sum.entry((&b.source, b.subnet.as_ref())).or_default() += b.bytes;
            }
        }
        Dated {
            sources: sum
                .into_iter()
                .map(|((source, subnet), bytes)| SourceBytes {
                    source: source.clone(),
                    subnet: subnet.cloned(),
                    bytes,
                })
                .collect(),
            days,
        }
    }

    /// Share of the outside-leg bytes that went to a destination.
    pub fn share(&self, d: &Destination) -> f64 {
        if self.destination_bytes == 0 {
            return 0.0;
        }
        *self.destinations.get(d).unwrap_or(&0) as f64 / self.destination_bytes as f64
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FlowStats {
    pub files: usize,
    pub bytes_read: u64,
    pub lines: u64,
    /// Records counted on a NAT gateway's ENI.
    pub records: u64,
    /// Valid lines with nothing to count (NODATA, REJECT, other interfaces, outside the window).
    pub skipped: u64,
    pub outside_window: u64,
    pub corrupt_lines: u64,
    /// A few corrupt lines, "file:line: why".
    pub corrupt_examples: Vec<String>,
    /// Files that could not be read at all, "file: why".
    pub failed_files: Vec<String>,
    /// S3 objects that GetObject did not give (denied, a KMS key not allowed), "s3://…: why".
    pub failed_gets: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attribution {
    pub nats: Vec<NatTraffic>,
    pub stats: FlowStats,
    /// Sources that could not be pinned on one function (shared Lambda ENIs).
    pub ambiguous: Vec<String>,
    pub ip_ranges: String,
    /// What was read: "N local file(s)", "s3://…: N object(s), X MB".
    pub read_from: Vec<String>,
    /// S3 calls made to read them, by IAM action.
    pub api_calls: BTreeMap<String, u64>,
}

impl Attribution {
    pub fn nat(&self, id: &str) -> Option<&NatTraffic> {
        self.nats.iter().find(|n| n.nat_gateway_id == id)
    }
}

//! The replayable snapshot: facts collected from AWS, never prices.
//!
//! Field names follow the AWS APIs (snake_cased) so a collector can fill them without
//! translation. `docs/snapshot.md` documents every field.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// Bumped on any change a reader of an older version could misread. Schema 2 groups regions
/// under `accounts[]`; schema 1 (one `account_id`, `regions[]`) still reads.
pub const SCHEMA_VERSION: u32 = 2;
const OLDEST_SCHEMA_VERSION: u32 = 1;

/// On disk (schema 2), each account holds its regions; in memory the regions are one list in
/// account order, each naming its account, so that code over regions needs no nesting.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(try_from = "SnapshotFile")]
pub struct Snapshot {
    pub schema_version: u32,
    /// natcost version that wrote the snapshot.
    pub tool_version: String,
    pub collected_at: DateTime<Utc>,
    pub window: Window,
    /// The accounts collected, each once; every region below belongs to one of them.
    pub accounts: Vec<Account>,
    pub regions: Vec<RegionSnapshot>,
    /// API calls made while collecting, e.g. `"ec2:DescribeVpcs": 1`.
    #[serde(default)]
    pub api_calls: BTreeMap<String, u64>,
    /// Account-wide things that could not be collected (per-region ones live in the region).
    #[serde(default)]
    pub not_collected: Vec<NotCollected>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Account {
    pub account_id: String,
    /// The account's name in the organisation (ListAccounts), when it was listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Why nothing (or not everything) of this account was collected, e.g. its role could
    /// not be assumed. Per-region gaps live in the region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_collected: Vec<NotCollected>,
}

impl Account {
    pub fn new(account_id: impl Into<String>) -> Account {
        Account {
            account_id: account_id.into(),
            ..Default::default()
        }
    }
}

/// A snapshot file of either schema, as read.
#[derive(Deserialize)]
struct SnapshotFile {
    schema_version: u32,
    tool_version: String,
    collected_at: DateTime<Utc>,
    window: Window,
    /// Schema 1.
    account_id: Option<String>,
    /// Schema 1.
    regions: Option<Vec<RegionSnapshot>>,
    /// Schema 2.
    accounts: Option<Vec<AccountFile>>,
    #[serde(default)]
    api_calls: BTreeMap<String, u64>,
    #[serde(default)]
    not_collected: Vec<NotCollected>,
}

#[derive(Deserialize)]
struct AccountFile {
    #[serde(flatten)]
    account: Account,
    #[serde(default)]
    regions: Vec<RegionSnapshot>,
}

impl TryFrom<SnapshotFile> for Snapshot {
    type Error = String;
    fn try_from(f: SnapshotFile) -> Result<Snapshot, String> {
        let (accounts, regions) = match (f.accounts, f.account_id, f.regions) {
            (Some(accounts), None, None) => {
                let mut regions = Vec::new();
                let mut out = Vec::new();
                for a in accounts {
                    for mut r in a.regions {
                        r.account_id = a.account.account_id.clone();
                        regions.push(r);
                    }
                    out.push(a.account);
                }
                (out, regions)
            }
            (None, Some(id), regions) => {
                let mut regions = regions.unwrap_or_default();
                for r in &mut regions {
                    r.account_id = id.clone();
                }
                (vec![Account::new(id)], regions)
            }
            (None, None, _) => {
                return Err("no accounts[] (schema 2) or account_id (schema 1)".into())
            }
            (Some(_), _, _) => {
                return Err(
                    "accounts[] (schema 2) beside account_id or regions[] (schema 1)".into(),
                )
            }
        };
        Ok(Snapshot {
            schema_version: f.schema_version,
            tool_version: f.tool_version,
            collected_at: f.collected_at,
            window: f.window,
            accounts,
            regions,
            api_calls: f.api_calls,
            not_collected: f.not_collected,
        })
    }
}

impl Serialize for Snapshot {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct AccountOut<'a> {
            #[serde(flatten)]
            account: &'a Account,
            regions: Vec<&'a RegionSnapshot>,
        }
        #[derive(Serialize)]
        struct Out<'a> {
            schema_version: u32,
            tool_version: &'a str,
            collected_at: DateTime<Utc>,
            window: Window,
            accounts: Vec<AccountOut<'a>>,
            api_calls: &'a BTreeMap<String, u64>,
            not_collected: &'a [NotCollected],
        }
        let mut accounts: Vec<AccountOut> = self
            .accounts
            .iter()
            .map(|account| AccountOut {
                account,
                regions: Vec::new(),
            })
            .collect();
        let index: HashMap<&str, usize> = self
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.account_id.as_str(), i))
            .collect();
        for r in &self.regions {
            match index.get(r.account_id.as_str()) {
                Some(&i) => accounts[i].regions.push(r),
                None => {
                    return Err(serde::ser::Error::custom(format!(
                        "region {} of account {} whose account is not in accounts[]",
                        r.region, r.account_id
                    )))
                }
            }
        }
        Out {
            schema_version: SCHEMA_VERSION,
            tool_version: &self.tool_version,
            collected_at: self.collected_at,
            window: self.window,
            accounts,
            api_calls: &self.api_calls,
            not_collected: &self.not_collected,
        }
        .serialize(s)
    }
}

/// The collection window: `[start, end)`, both on a whole UTC hour.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn hours(&self) -> i64 {
        (self.end - self.start).num_hours()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NotCollected {
    /// What is missing, e.g. `lambda:ListFunctions` or `region eu-south-1`.
    pub what: String,
    /// Why, as AWS said it, e.g. `AccessDeniedException: ...`.
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RegionSnapshot {
    pub region: String,
    /// The account the region was collected in; on disk, the account it is listed under.
    #[serde(skip)]
    pub account_id: String,
    #[serde(default)]
    pub vpcs: Vec<Vpc>,
    #[serde(default)]
    pub subnets: Vec<Subnet>,
    #[serde(default)]
    pub route_tables: Vec<RouteTable>,
    #[serde(default)]
    pub internet_gateways: Vec<Gateway>,
    #[serde(default)]
    pub egress_only_internet_gateways: Vec<Gateway>,
    #[serde(default)]
    pub nat_gateways: Vec<NatGateway>,
    #[serde(default)]
    pub elastic_ips: Vec<ElasticIp>,
    #[serde(default)]
    pub vpc_endpoints: Vec<VpcEndpoint>,
    #[serde(default)]
    pub transit_gateway_attachments: Vec<TransitGatewayAttachment>,
    #[serde(default)]
    pub flow_logs: Vec<FlowLog>,
    /// AWS-managed prefix lists of the gateway endpoint services (S3, DynamoDB).
    #[serde(default)]
    pub prefix_lists: Vec<PrefixList>,
    #[serde(default)]
    pub lambda_functions: Vec<LambdaFunction>,
    #[serde(default)]
    pub network_interfaces: Vec<NetworkInterface>,
    /// Tags of the region's functions, interfaces and instances, by ARN
    /// (tag:GetResources), for cost allocation by team.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_tags: BTreeMap<String, BTreeMap<String, String>>,
    /// `vpc`: every interface of each VPC with NAT gateways or Lambda functions. Absent in
    /// older snapshots, which kept only those in subnets routed to a NAT gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_interfaces_scope: Option<String>,
    #[serde(default)]
    pub metrics: Vec<MetricSeries>,
    #[serde(default)]
    pub not_collected: Vec<NotCollected>,
    /// True when DescribeNatGateways, DescribeSubnets and CloudWatch ListMetrics found no NAT
    /// gateway, live or recently deleted, and no subnet another account shares: nothing else
    /// was read in the region (its VPCs, Lambda functions, …), as none of it can cost NAT
    /// gateway money. Absent (false) otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_nat_gateways: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Vpc {
    pub vpc_id: String,
    pub cidr_blocks: Vec<String>,
    #[serde(default)]
    pub ipv6_cidr_blocks: Vec<String>,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Subnet {
    pub subnet_id: String,
    pub vpc_id: String,
    pub availability_zone: String,
    pub availability_zone_id: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(default)]
    pub ipv6_cidr_blocks: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RouteTable {
    pub route_table_id: String,
    pub vpc_id: String,
    /// The VPC's main route table serves every subnet without an explicit association.
    #[serde(default)]
    pub main: bool,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub routes: Vec<Route>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum TargetType {
    Local,
    InternetGateway,
    NatGateway,
    VpcEndpoint,
    TransitGateway,
    VpcPeering,
    EgressOnlyInternetGateway,
    NetworkInterface,
    Instance,
    Other,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Route {
    /// IPv4/IPv6 CIDR, or a prefix list id (`pl-…`) for gateway endpoints.
    pub destination: String,
    pub target_type: TargetType,
    pub target_id: String,
    /// `active` or `blackhole`.
    #[serde(default)]
    pub state: Option<String>,
}

impl Route {
    pub fn is_default_ipv4(&self) -> bool {
        self.destination == "0.0.0.0/0"
    }
}

/// An internet gateway or egress-only internet gateway.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Gateway {
    pub id: String,
    pub vpc_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NatGateway {
    pub nat_gateway_id: String,
    pub vpc_id: String,
    pub subnet_id: String,
    /// Filled from the subnet when the API does not return it.
    pub availability_zone: String,
    /// pending | failed | available | deleting | deleted
    pub state: String,
    /// public | private. AWS and moto may omit it for public gateways.
    pub connectivity_type: String,
    pub create_time: DateTime<Utc>,
    pub delete_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub addresses: Vec<NatAddress>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// `zonal` or `regional`; absent means zonal. A regional NAT gateway has no subnet (its
    /// `subnet_id` and `availability_zone` are empty) and an address per AZ it serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_mode: Option<String>,
    /// A regional NAT gateway's AZ coverage: `enabled` (automatic mode, AWS's default: every AZ
    /// where the VPC has subnets) or `disabled` (manual: the AZs configured). Absent means
    /// automatic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_provision_zones: Option<String>,
    /// How a NAT gateway DescribeNatGateways no longer returns was found
    /// (`cloudwatch:ListMetrics`): deleted before collection, known by its metrics only; its
    /// create and delete times are its first and last hour with a datapoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_by: Option<String>,
}

impl NatGateway {
    pub fn is_regional(&self) -> bool {
        self.availability_mode
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("regional"))
    }
    /// A regional NAT gateway in manual mode: it serves only the AZs configured for it.
    pub fn is_manual_mode(&self) -> bool {
        self.auto_provision_zones
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("disabled"))
    }
    /// The network interfaces of the NAT gateway.
    pub fn enis(&self) -> impl Iterator<Item = &str> {
        self.addresses
            .iter()
            .filter_map(|a| a.network_interface_id.as_deref())
    }
    /// Where a flow log captures the NAT gateway's traffic: its VPC, its subnet, or one of its
    /// network interfaces.
    pub fn flow_log_resources(&self) -> impl Iterator<Item = &str> {
        [self.vpc_id.as_str(), self.subnet_id.as_str()]
            .into_iter()
            .filter(|r| !r.is_empty())
            .chain(self.enis())
    }
    /// The AZs a regional NAT gateway has addresses in.
    pub fn address_azs(&self) -> BTreeSet<&str> {
        self.addresses
            .iter()
            .filter_map(|a| a.availability_zone.as_deref())
            .collect()
    }
    pub fn name(&self) -> Option<&str> {
        self.tags.get("Name").map(String::as_str)
    }
    /// Name tag, or the id when it has none.
    pub fn label(&self) -> &str {
        self.name().unwrap_or(&self.nat_gateway_id)
    }
    pub fn is_public(&self) -> bool {
        !self.connectivity_type.eq_ignore_ascii_case("private")
    }
    pub fn is_active_at(&self, t: DateTime<Utc>) -> bool {
        self.create_time <= t
            && self.delete_time.is_none_or(|d| d > t)
            && !matches!(self.state.as_str(), "failed" | "deleted" | "deleting")
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NatAddress {
    pub allocation_id: Option<String>,
    pub public_ip: Option<String>,
    pub private_ip: Option<String>,
    pub network_interface_id: Option<String>,
    #[serde(default)]
    pub is_primary: Option<bool>,
    /// Regional NAT gateways: the AZ whose traffic leaves from this address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ElasticIp {
    pub allocation_id: String,
    pub public_ip: String,
    pub association_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub private_ip: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VpcEndpoint {
    pub vpc_endpoint_id: String,
    pub vpc_id: String,
    /// Gateway | Interface | GatewayLoadBalancer | Resource | ServiceNetwork
    pub vpc_endpoint_type: String,
    /// e.g. `com.amazonaws.ap-northeast-2.s3`
    pub service_name: String,
    pub state: String,
    #[serde(default)]
    pub route_table_ids: Vec<String>,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
}

impl VpcEndpoint {
    pub fn is_gateway(&self) -> bool {
        self.vpc_endpoint_type.eq_ignore_ascii_case("gateway")
    }
    /// The service's short name: `s3`, `dynamodb`, `sqs`, `ecr.api`, ...
    pub fn service(&self) -> &str {
        self.service_name
            .strip_prefix("com.amazonaws.")
            .and_then(|rest| rest.split_once('.'))
            .map(|(_, svc)| svc)
            .unwrap_or(&self.service_name)
    }
}

/// The services a gateway endpoint serves, as prefix lists name them.
pub const GATEWAY_SERVICES: [&str; 2] = ["s3", "dynamodb"];

/// An AWS-managed prefix list, e.g. `com.amazonaws.ap-northeast-2.s3`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PrefixList {
    pub prefix_list_id: String,
    pub prefix_list_name: String,
    /// IPv4 CIDRs.
    pub cidrs: Vec<String>,
}

impl PrefixList {
    /// `s3` or `dynamodb`.
    pub fn service(&self) -> &str {
        self.prefix_list_name
            .rsplit('.')
            .next()
            .unwrap_or(&self.prefix_list_name)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TransitGatewayAttachment {
    pub transit_gateway_attachment_id: String,
    pub transit_gateway_id: String,
    /// vpc | vpn | direct-connect-gateway | peering | connect
    pub resource_type: String,
    pub resource_id: String,
    pub state: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FlowLog {
    pub flow_log_id: String,
    pub resource_id: String,
    /// ACCEPT | REJECT | ALL
    pub traffic_type: Option<String>,
    /// cloud-watch-logs | s3 | kinesis-data-firehose
    pub log_destination_type: Option<String>,
    pub log_destination: Option<String>,
    pub log_group_name: Option<String>,
    pub log_format: Option<String>,
}

impl FlowLog {
    /// Captures traffic a NAT gateway bills: accepted or all, not only rejected.
    pub fn captures_billed_traffic(&self) -> bool {
        self.traffic_type.as_deref() != Some("REJECT")
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LambdaFunction {
    pub function_name: String,
    pub function_arn: String,
    pub runtime: Option<String>,
    pub memory_size: Option<i32>,
    #[serde(default)]
    pub architectures: Vec<String>,
    /// Absent for functions outside any VPC.
    pub vpc_config: Option<LambdaVpcConfig>,
    /// AWS/Lambda Duration (ms) and Invocations summed over the window (VPC functions):
    /// what a shared Lambda ENI's bytes are split by. Absent when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocations: Option<f64>,
    /// `duration_ms` by UTC day (days without invocations have none): what a shared Lambda
    /// ENI's bytes of one day are split by. Empty when not collected (older snapshots).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub duration_ms_by_day: BTreeMap<NaiveDate, f64>,
    /// Lambda Insights' rx_bytes + tx_bytes summed over the window (every byte the function
    /// moved, through a NAT gateway or not); absent when Insights is not on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insights_bytes: Option<f64>,
}

impl LambdaFunction {
    pub fn subnet_ids(&self) -> &[String] {
        self.vpc_config
            .as_ref()
            .map(|c| c.subnet_ids.as_slice())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LambdaVpcConfig {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    #[serde(default)]
    pub ipv6_allowed_for_dual_stack: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NetworkInterface {
    pub network_interface_id: String,
    /// interface | lambda | nat_gateway | vpc_endpoint | ...
    pub interface_type: String,
    pub description: Option<String>,
    pub subnet_id: String,
    pub vpc_id: String,
    pub availability_zone: Option<String>,
    pub private_ip_address: Option<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    pub requester_id: Option<String>,
    /// The EC2 instance it is attached to, if any (whose tags name its team).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// The ECS task it is the awsvpc interface of (ecs:DescribeTasks), whose tags name its team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecs_task_arn: Option<String>,
    /// That task's group (`service:NAME` for a service's task, else `family:NAME` or the group
    /// RunTask was given), which outlives the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecs_group: Option<String>,
}

impl NetworkInterface {
    /// The load balancer an Elastic Load Balancing interface belongs to, as the resource part of
    /// its ARN (`loadbalancer/app/NAME/ID`, `loadbalancer/net/…`, a Classic one's
    /// `loadbalancer/NAME`), from the description AWS gives it (`ELB app/NAME/ID`).
    pub fn load_balancer(&self) -> Option<String> {
        let name = self.description.as_deref()?.strip_prefix("ELB ")?.trim();
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '/');
        (!name.is_empty() && name.chars().all(plain)).then(|| format!("loadbalancer/{name}"))
    }
}

/// The resource part of an ARN (after `arn:PARTITION:SERVICE:REGION:ACCOUNT:`).
pub fn arn_resource(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:")?.splitn(5, ':').nth(4)
}

/// `network_interfaces_scope` of a snapshot that holds every interface of its VPCs.
pub const WHOLE_VPC: &str = "vpc";

impl RegionSnapshot {
    /// The functions a Lambda interface serves: Lambda shares one between every function with
    /// its subnet and the same security groups (its description names only the one that made
    /// it).
    pub fn lambda_functions_on(&self, e: &NetworkInterface) -> Vec<&LambdaFunction> {
        let mut sgs = e.security_group_ids.clone();
        sgs.sort();
        self.lambda_functions
            .iter()
            .filter(|f| {
                f.vpc_config.as_ref().is_some_and(|c| {
                    let mut s = c.security_group_ids.clone();
                    s.sort();
                    c.subnet_ids.contains(&e.subnet_id) && s == sgs
                })
            })
            .collect()
    }

    /// Whether the snapshot holds every network interface of its VPCs (not only those in
    /// subnets routed to a NAT gateway), so "nothing else lives in this VPC" can be said.
    pub fn has_every_interface(&self) -> bool {
        self.network_interfaces_scope.as_deref() == Some(WHOLE_VPC)
            && !self
                .not_collected
                .iter()
                .any(|n| n.what == "ec2:DescribeNetworkInterfaces")
    }
}

/// One CloudWatch metric for one NAT gateway, dense on the window's period grid:
/// `values[i]` is the datapoint starting at `window.start + i * period_seconds`;
/// `null` means CloudWatch returned no datapoint for it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricSeries {
    pub nat_gateway_id: String,
    /// e.g. `BytesInFromSource` (namespace AWS/NATGateway)
    pub metric_name: String,
    /// Sum | Maximum
    pub statistic: String,
    pub period_seconds: u32,
    pub values: Hourly,
}

/// One value per hour of the window, `None` where CloudWatch had no datapoint. A snapshot of
/// thousands of NAT gateways holds tens of millions of them, so they are kept small: as u32
/// while every value is a whole number below u32::MAX (byte counts of most hours, packets,
/// connections; u32::MAX marks "none"), else as f64 with NaN for "none" (a snapshot never
/// holds a NaN value: `validate` refuses non-finite ones). Either is a quarter or half of
/// `Option<f64>`. Written as one compact JSON array line, `null` for none.
#[derive(Clone)]
pub struct Hourly(Repr);

#[derive(Clone)]
enum Repr {
    Whole(Vec<u32>),
    Any(Vec<f64>),
}

const NONE_U32: u32 = u32::MAX;

impl Default for Hourly {
    fn default() -> Hourly {
        Hourly(Repr::Whole(Vec::new()))
    }
}

impl PartialEq for Hourly {
    fn eq(&self, other: &Hourly) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Hourly {
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Whole(v) => v.len(),
            Repr::Any(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The value of hour `h`; None when missing or out of range.
    pub fn get(&self, h: usize) -> Option<f64> {
        match &self.0 {
            Repr::Whole(v) => v.get(h).filter(|x| **x != NONE_U32).map(|x| *x as f64),
            Repr::Any(v) => v.get(h).copied().filter(|x| !x.is_nan()),
        }
    }
    pub fn set(&mut self, h: usize, value: Option<f64>) {
        if let Repr::Whole(v) = &mut self.0 {
            match value {
                None => return v[h] = NONE_U32,
                Some(x) if fits_u32(x) => return v[h] = x as u32,
                Some(_) => self.0 = Repr::Any(widen(v)),
            }
        }
        if let Repr::Any(v) = &mut self.0 {
            v[h] = value.unwrap_or(f64::NAN);
        }
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Option<f64>> + ExactSizeIterator + '_ {
        (0..self.len()).map(|h| self.get(h))
    }
    /// Hours `from..to`.
    pub fn slice(&self, from: usize, to: usize) -> Hourly {
        Hourly(match &self.0 {
            Repr::Whole(v) => Repr::Whole(v[from..to].to_vec()),
            Repr::Any(v) => Repr::Any(v[from..to].to_vec()),
        })
    }

    /// Appends one hour, widening to f64 at the first value a u32 cannot hold.
    fn push(&mut self, value: Option<f64>) {
        if let Repr::Whole(v) = &mut self.0 {
            match value {
                None => return v.push(NONE_U32),
                Some(x) if fits_u32(x) => return v.push(x as u32),
                Some(_) => self.0 = Repr::Any(widen(v)),
            }
        }
        if let Repr::Any(v) = &mut self.0 {
            v.push(value.unwrap_or(f64::NAN));
        }
    }

    fn with_capacity(n: usize) -> Hourly {
        Hourly(Repr::Whole(Vec::with_capacity(n)))
    }
}

fn fits_u32(x: f64) -> bool {
    x >= 0.0 && x < NONE_U32 as f64 && x.fract() == 0.0
}

fn widen(v: &Vec<u32>) -> Vec<f64> {
    let mut out = Vec::with_capacity(v.capacity().max(v.len()));
    out.extend(
        v.iter()
            .map(|x| if *x == NONE_U32 { f64::NAN } else { *x as f64 }),
    );
    out
}

impl FromIterator<Option<f64>> for Hourly {
    fn from_iter<I: IntoIterator<Item = Option<f64>>>(it: I) -> Hourly {
        let it = it.into_iter();
        let mut out = Hourly::with_capacity(it.size_hint().0);
        for v in it {
            out.push(v);
        }
        out
    }
}

impl From<Vec<Option<f64>>> for Hourly {
    fn from(v: Vec<Option<f64>>) -> Hourly {
        v.into_iter().collect()
    }
}

impl std::fmt::Debug for Hourly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Hourly {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        // One line per series even in a pretty-printed snapshot: hundreds of values one per
        // line would triple the file.
        let mut text = String::with_capacity(self.len() * 12 + 2);
        text.push('[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            match v {
                // Byte and packet counts are whole numbers: written without ".0", they read
                // back as the same f64, faster.
                Some(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => {
                    text.push_str(&(v as i64).to_string())
                }
                Some(v) => {
                    text.push_str(&serde_json::to_string(&v).map_err(serde::ser::Error::custom)?)
                }
                None => text.push_str("null"),
            }
        }
        text.push(']');
        serde_json::value::RawValue::from_string(text)
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Hourly {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Hourly, D::Error> {
        struct Values;
        impl<'de> serde::de::Visitor<'de> for Values {
            type Value = Hourly;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of numbers or nulls, one per hour")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Hourly, A::Error> {
                // Every series of a snapshot has the same length: size each like the last.
                static LAST_LEN: std::sync::atomic::AtomicUsize =
                    std::sync::atomic::AtomicUsize::new(0);
                let hint = seq
                    .size_hint()
                    .unwrap_or_else(|| LAST_LEN.load(std::sync::atomic::Ordering::Relaxed));
                let mut out = Hourly::with_capacity(hint);
                while let Some(v) = seq.next_element::<Option<f64>>()? {
                    out.push(v);
                }
                LAST_LEN.store(out.len(), std::sync::atomic::Ordering::Relaxed);
                Ok(out)
            }
        }
        d.deserialize_seq(Values)
    }
}

/// The NAT gateway metrics natcost collects, with the statistic that is meaningful for each.
pub const NAT_METRICS: &[(&str, &str)] = &[
    ("BytesInFromSource", "Sum"),
    ("BytesInFromDestination", "Sum"),
    ("BytesOutToDestination", "Sum"),
    ("BytesOutToSource", "Sum"),
    ("PacketsInFromSource", "Sum"),
    ("PacketsInFromDestination", "Sum"),
    ("PacketsOutToDestination", "Sum"),
    ("PacketsOutToSource", "Sum"),
    ("ActiveConnectionCount", "Maximum"),
    ("ConnectionAttemptCount", "Sum"),
    ("ConnectionEstablishedCount", "Sum"),
    ("ErrorPortAllocation", "Sum"),
    ("IdleTimeoutCount", "Sum"),
    ("PacketsDropCount", "Sum"),
    // For sizing: CloudWatch keeps each period's Maximum through its roll-ups, so the hourly
    // Maximum is the hour's largest datapoint; SampleCount says how many datapoints it had.
    ("BytesInFromSource", "Maximum"),
    ("BytesInFromDestination", "Maximum"),
    ("BytesInFromSource", "SampleCount"),
];

/// NAT gateways publish one datapoint a minute: more in an hour (SampleCount) means the
/// hourly Maximum is not one minute's bytes.
pub const DATAPOINTS_PER_HOUR: f64 = 60.0;

/// Busiest 1-minute processed bytes of each hour, from 1-minute Sums of BytesInFromSource +
/// BytesInFromDestination over the last 15 days (CloudWatch keeps 1-minute data that long);
/// collected only when SampleCount shows more than one datapoint a minute.
pub const BUSIEST_MINUTE: (&str, &str) = ("BusiestMinuteBytes", "MaxOf1MinuteSums");

/// The statistic a metric is read with when none is named: the first one in NAT_METRICS.
fn default_statistic(name: &str) -> &'static str {
    NAT_METRICS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .unwrap_or("Sum")
}

/// A region's metric series by (NAT gateway, metric, statistic): built once, so a report on
/// thousands of NAT gateways does not scan every series for every lookup.
pub struct Metrics<'a> {
    by_key: HashMap<(&'a str, &'a str, &'a str), &'a MetricSeries>,
}

impl<'a> Metrics<'a> {
    pub fn new(region: &'a RegionSnapshot) -> Metrics<'a> {
        let by_key = region
            .metrics
            .iter()
            .map(|m| {
                (
                    (
                        m.nat_gateway_id.as_str(),
                        m.metric_name.as_str(),
                        m.statistic.as_str(),
                    ),
                    m,
                )
            })
            .collect();
        Metrics { by_key }
    }

    /// The series of `name` with its usual statistic (Sum, or Maximum for ActiveConnectionCount).
    pub fn get(&self, nat_id: &str, name: &str) -> Option<&'a MetricSeries> {
        self.stat(nat_id, name, default_statistic(name))
    }

    pub fn stat(&self, nat_id: &str, name: &str, statistic: &str) -> Option<&'a MetricSeries> {
        self.by_key.get(&(nat_id, name, statistic)).copied()
    }
}

/// The longest window CloudWatch keeps hourly data for (455 days).
pub const MAX_WINDOW_DAYS: i64 = 455;

/// The largest hourly metric value a snapshot may hold: twice the bytes a NAT gateway carries
/// in an hour at its 100 Gbps ceiling. Anything larger is not a measurement.
const MAX_HOURLY_VALUE: f64 = 1e14;

fn check_version(version: u64) -> Result<()> {
    if version > SCHEMA_VERSION as u64 {
        bail!(
            "schema_version {version} is newer than this natcost understands ({SCHEMA_VERSION}); upgrade natcost"
        );
    }
    if version < OLDEST_SCHEMA_VERSION as u64 {
        bail!(
            "schema_version {version} is no longer supported (this natcost reads {OLDEST_SCHEMA_VERSION} to {SCHEMA_VERSION})"
        );
    }
    Ok(())
}

impl Snapshot {
    pub fn from_json(text: &str) -> Result<Snapshot> {
        Snapshot::from_slice(text.as_bytes())
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Snapshot> {
        // One pass in the common case (a snapshot can be hundreds of MB); only when it does
        // not parse is the version probed, so that a future snapshot is named as such, not as
        // a parse error.
        let snap = match serde_json::from_slice::<Snapshot>(bytes) {
            Ok(snap) => snap,
            Err(e) => {
                #[derive(Deserialize)]
                struct Probe {
                    schema_version: Option<u64>,
                }
                let probe: Probe = serde_json::from_slice(bytes)
                    .context("not valid JSON (corrupt or truncated?)")?;
                let version = probe
                    .schema_version
                    .context("no schema_version field: not a natcost snapshot")?;
                check_version(version)?;
                return Err(anyhow::Error::new(e).context("snapshot does not match schema"));
            }
        };
        check_version(snap.schema_version as u64)?;
        snap.validate()?;
        Ok(snap)
    }

    pub fn load(path: &Path) -> Result<Snapshot> {
        // Bytes, not a String: serde_json checks the UTF-8 of strings as it reads them, and
        // the text is dropped before anything else is built.
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read snapshot {}", path.display()))?;
        Snapshot::from_slice(&bytes).with_context(|| format!("snapshot {}", path.display()))
    }

    /// The part of the snapshot inside `w`, which must lie within its window: every metric
    /// series cut to `w`'s hours. Resources keep their create/delete times.
    pub fn slice(&self, w: Window) -> Result<Snapshot> {
        if w.start < self.window.start || w.end > self.window.end || w.end <= w.start {
            bail!(
                "{} to {} is not inside the snapshot's window ({} to {})",
                w.start.format("%Y-%m-%d %H:%M"),
                w.end.format("%Y-%m-%d %H:%M"),
                self.window.start.format("%Y-%m-%d %H:%M"),
                self.window.end.format("%Y-%m-%d %H:%M UTC")
            );
        }
        let from = (w.start - self.window.start).num_hours() as usize;
        let to = from + w.hours() as usize;
        let mut out = self.clone();
        out.window = w;
        for r in &mut out.regions {
            for m in &mut r.metrics {
                m.values = m.values.slice(from, to);
            }
        }
        out.validate()?;
        Ok(out)
    }

    /// Every value natcost may place in a command has its AWS format (`crate::ids`): the
    /// first that does not is named, and the snapshot refused.
    fn check_formats(&self) -> Result<()> {
        use crate::ids::{is_any_id, is_cidr, is_function_name, is_id, is_place, is_service_name};
        let mut bad: Option<String> = None;
        let mut check = |ok: bool, what: &str, value: &str| {
            if !ok && bad.is_none() {
                bad = Some(format!("{what} {value:?}"));
            }
        };
        for a in &self.accounts {
            let ok = a.account_id.len() == 12 && a.account_id.bytes().all(|b| b.is_ascii_digit());
            check(ok, "account id", &a.account_id);
        }
        for r in &self.regions {
            check(is_place(&r.region), "region", &r.region);
            for v in &r.vpcs {
                check(is_id("vpc", &v.vpc_id), "vpc_id", &v.vpc_id);
                for c in v.cidr_blocks.iter().chain(&v.ipv6_cidr_blocks) {
                    check(is_cidr(c), "VPC CIDR", c);
                }
            }
            for s in &r.subnets {
                check(is_id("subnet", &s.subnet_id), "subnet_id", &s.subnet_id);
                check(is_id("vpc", &s.vpc_id), "vpc_id", &s.vpc_id);
                check(
                    is_place(&s.availability_zone),
                    "availability_zone",
                    &s.availability_zone,
                );
            }
            for t in &r.route_tables {
                check(
                    is_id("rtb", &t.route_table_id),
                    "route_table_id",
                    &t.route_table_id,
                );
                check(is_id("vpc", &t.vpc_id), "vpc_id", &t.vpc_id);
                for s in &t.subnet_ids {
                    check(is_id("subnet", s), "subnet_id", s);
                }
                for route in &t.routes {
                    let d = &route.destination;
                    check(is_cidr(d) || is_id("pl", d), "route destination", d);
                    if route.target_type != TargetType::Local {
                        check(
                            is_any_id(&route.target_id),
                            "route target",
                            &route.target_id,
                        );
                    }
                }
            }
            for n in &r.nat_gateways {
                check(
                    is_id("nat", &n.nat_gateway_id),
                    "nat_gateway_id",
                    &n.nat_gateway_id,
                );
                // A NAT gateway found only by its metrics (deleted) has no VPC, subnet or AZ.
                let (vpc, subnet, az) = (&n.vpc_id, &n.subnet_id, &n.availability_zone);
                check(vpc.is_empty() || is_id("vpc", vpc), "vpc_id", vpc);
                check(
                    subnet.is_empty() || is_id("subnet", subnet),
                    "subnet_id",
                    subnet,
                );
                check(az.is_empty() || is_place(az), "availability_zone", az);
                for a in &n.addresses {
                    if let Some(id) = &a.allocation_id {
                        check(is_id("eipalloc", id), "allocation_id", id);
                    }
                    if let Some(id) = &a.network_interface_id {
                        check(is_id("eni", id), "network_interface_id", id);
                    }
                }
            }
            for e in &r.elastic_ips {
                check(
                    is_id("eipalloc", &e.allocation_id),
                    "allocation_id",
                    &e.allocation_id,
                );
            }
            for e in &r.vpc_endpoints {
                check(
                    is_id("vpce", &e.vpc_endpoint_id),
                    "vpc_endpoint_id",
                    &e.vpc_endpoint_id,
                );
                check(is_id("vpc", &e.vpc_id), "vpc_id", &e.vpc_id);
                check(
                    is_service_name(&e.service_name),
                    "service_name",
                    &e.service_name,
                );
                for t in &e.route_table_ids {
                    check(is_id("rtb", t), "route_table_id", t);
                }
                for s in &e.subnet_ids {
                    check(is_id("subnet", s), "subnet_id", s);
                }
            }
            for f in &r.flow_logs {
                check(is_id("fl", &f.flow_log_id), "flow_log_id", &f.flow_log_id);
            }
            for f in &r.lambda_functions {
                check(
                    is_function_name(&f.function_name),
                    "function_name",
                    &f.function_name,
                );
                for s in f.vpc_config.iter().flat_map(|c| &c.subnet_ids) {
                    check(is_id("subnet", s), "subnet_id", s);
                }
                for g in f.vpc_config.iter().flat_map(|c| &c.security_group_ids) {
                    check(is_id("sg", g), "security_group_id", g);
                }
            }
            for g in &r.egress_only_internet_gateways {
                check(
                    is_id("eigw", &g.id),
                    "egress_only_internet_gateway_id",
                    &g.id,
                );
            }
            for i in &r.network_interfaces {
                let id = &i.network_interface_id;
                check(is_id("eni", id), "network_interface_id", id);
            }
            for m in &r.metrics {
                check(
                    is_id("nat", &m.nat_gateway_id),
                    "nat_gateway_id",
                    &m.nat_gateway_id,
                );
            }
        }
        match bad {
            Some(what) => {
                bail!("{what} is not in AWS's format: refused, as it would be placed in a command")
            }
            None => Ok(()),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a snapshot always serialises")
    }

    /// What to call the snapshot's accounts in a folder name: the account id, or "N-accounts".
    pub fn accounts_label(&self) -> String {
        match self.accounts.as_slice() {
            [one] => one.account_id.clone(),
            many => format!("{}-accounts", many.len()),
        }
    }

    /// "what: why" for what the collector could not read, as said and reported: the whole
    /// snapshot's, each account's, then each region's (prefixed with its [`Snapshot::place`]).
    pub fn not_collected_lines(&self) -> Vec<String> {
        let line = |n: &NotCollected| format!("{}: {}", n.what, n.reason);
        let mut lines: Vec<String> = self.not_collected.iter().map(line).collect();
        for a in &self.accounts {
            lines.extend(a.not_collected.iter().map(line));
        }
        for r in &self.regions {
            let place = self.place(r);
            lines.extend(
                r.not_collected
                    .iter()
                    .map(|n| format!("{place}: {}", line(n))),
            );
        }
        lines
    }

    /// Where a region's facts come from, for a message: its region, with its account when the
    /// snapshot has several.
    pub fn place(&self, r: &RegionSnapshot) -> String {
        if self.accounts.len() > 1 {
            format!("{} {}", r.account_id, r.region)
        } else {
            r.region.clone()
        }
    }

    /// Each region, NAT gateway, subnet, VPC, route table, interface, function and metric
    /// series once: anything listed twice would be counted twice.
    fn check_once_each<'a>(&'a self) -> Result<()> {
        let mut seen: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
        let mut once = |what: &'static str, scope: &'static str, key: (&'a str, &'a str)| {
            if seen.insert((what, key.0, key.1)) {
                Ok(())
            } else {
                Err(anyhow::anyhow!(
                    "{what} {} is listed twice{scope}: refused, as it would be counted twice",
                    key.1
                ))
            }
        };
        for r in &self.regions {
            let acct = r.account_id.as_str();
            once("region", " for one account", (acct, &r.region))?;
            for n in &r.nat_gateways {
                once("NAT gateway", "", (acct, &n.nat_gateway_id))?;
            }
            for s in &r.subnets {
                once("subnet", "", (acct, &s.subnet_id))?;
            }
            for v in &r.vpcs {
                once("VPC", "", (acct, &v.vpc_id))?;
            }
            for t in &r.route_tables {
                once("route table", "", (acct, &t.route_table_id))?;
            }
            for i in &r.network_interfaces {
                once("network interface", "", (acct, &i.network_interface_id))?;
            }
            for f in &r.lambda_functions {
                once("Lambda function", "", (acct, &f.function_arn))?;
            }
            let mut series = BTreeSet::new();
            for m in &r.metrics {
                if !series.insert((&m.nat_gateway_id, &m.metric_name, &m.statistic)) {
                    bail!(
                        "metric {} ({}) of {} in {} is listed twice: refused, as it would be counted twice",
                        m.metric_name,
                        m.statistic,
                        m.nat_gateway_id,
                        r.region
                    );
                }
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        self.check_formats()?;
        let mut ids = BTreeSet::new();
        for a in &self.accounts {
            if !ids.insert(a.account_id.as_str()) {
                bail!("account {} is listed twice", a.account_id);
            }
        }
        if let Some(r) = self
            .regions
            .iter()
            .find(|r| !ids.contains(r.account_id.as_str()))
        {
            bail!(
                "region {} names account {:?}, which is not in accounts",
                r.region,
                r.account_id
            );
        }
        self.check_once_each()?;
        let w = self.window;
        if w.end <= w.start {
            bail!("window end {} is not after its start {}", w.end, w.start);
        }
        if w.hours() > MAX_WINDOW_DAYS * 24 {
            bail!(
                "window {} to {} is {} days long: CloudWatch keeps hourly data for {MAX_WINDOW_DAYS} days at most",
                w.start.format("%Y-%m-%d"),
                w.end.format("%Y-%m-%d"),
                w.hours() / 24
            );
        }
        for t in [w.start, w.end] {
            if t.minute() != 0 || t.second() != 0 || t.nanosecond() != 0 {
                bail!("window bound {t} is not on a whole hour");
            }
        }
        let hours = w.hours() as usize;
        for r in &self.regions {
            for f in &r.lambda_functions {
                let mut values = f.duration_ms.iter().chain(f.duration_ms_by_day.values());
                if let Some(bad) = values.find(|v| !v.is_finite() || **v < 0.0) {
                    bail!(
                        "function {} in {}: invalid Duration {bad:e} ms (must be a number from 0)",
                        f.function_name,
                        r.region
                    );
                }
            }
            for m in &r.metrics {
                if m.period_seconds != 3600 {
                    bail!(
                        "{} {} in {}: period {} s, expected 3600",
                        m.nat_gateway_id,
                        m.metric_name,
                        r.region,
                        m.period_seconds
                    );
                }
                if m.values.len() != hours {
                    bail!(
                        "{} {} in {}: {} hourly values for a {}-hour window",
                        m.nat_gateway_id,
                        m.metric_name,
                        r.region,
                        m.values.len(),
                        hours
                    );
                }
                if let Some(bad) = m
                    .values
                    .iter()
                    .flatten()
                    .find(|v| !v.is_finite() || *v < 0.0 || *v > MAX_HOURLY_VALUE)
                {
                    bail!(
                        "{} {} in {}: invalid value {bad:e} (each hour's value must be a number from 0 to {MAX_HOURLY_VALUE:e}, twice what 100 Gbps carries in an hour)",
                        m.nat_gateway_id,
                        m.metric_name,
                        r.region
                    );
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_balancers_interface_names_its_load_balancer() {
        let eni = |d: &str| NetworkInterface {
            description: Some(d.into()),
            ..Default::default()
        };
        let lb = |d: &str| eni(d).load_balancer();
        assert_eq!(
            lb("ELB app/web/50dc6c495c0c9188").as_deref(),
            Some("loadbalancer/app/web/50dc6c495c0c9188")
        );
        assert_eq!(
            lb("ELB classic-1").as_deref(),
            Some("loadbalancer/classic-1")
        );
        assert_eq!(lb("ELB "), None);
        assert_eq!(lb("ELB app/x y"), None);
        assert_eq!(lb("arn:aws:ecs:ap-northeast-2:1:attachment/x"), None);
        assert_eq!(
            arn_resource("arn:aws:elasticloadbalancing:r:1:loadbalancer/app/web/5"),
            Some("loadbalancer/app/web/5")
        );
        assert_eq!(arn_resource("not an arn"), None);
    }

    #[test]
    fn a_nat_gateway_without_availability_mode_is_zonal() {
        let zonal: NatGateway = serde_json::from_str(
            r#"{"nat_gateway_id": "nat-1", "vpc_id": "vpc-1", "subnet_id": "s-1",
                "availability_zone": "ap-northeast-2a", "state": "available",
                "connectivity_type": "public", "create_time": "2026-10-01T00:00:00Z",
                "delete_time": null}"#,
        )
        .unwrap();
        assert!(!zonal.is_regional());
        assert_eq!(zonal.availability_mode, None);
        // And it writes back without the field, as schema-1 readers expect.
        assert!(!serde_json::to_string(&zonal)
            .unwrap()
            .contains("availability_mode"));
    }

    #[test]
    fn an_hourly_series_is_one_line_with_its_gaps() {
        let h: Hourly = vec![Some(1.5), None, Some(0.0)].into();
        assert_eq!(
            (h.get(0), h.get(1), h.get(2), h.get(9)),
            (Some(1.5), None, Some(0.0), None)
        );
        let m = MetricSeries {
            nat_gateway_id: "nat-1".into(),
            metric_name: "BytesInFromSource".into(),
            statistic: "Sum".into(),
            period_seconds: 3600,
            values: h.clone(),
        };
        let pretty = serde_json::to_string_pretty(&m).unwrap();
        assert!(pretty.contains("\"values\": [1.5,null,0]"), "{pretty}");
        let back: MetricSeries = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back.values, h);
        assert_ne!(
            back.values,
            Hourly::from(vec![Some(1.5), Some(0.0), Some(0.0)])
        );
        // Whole numbers are held as u32 until one does not fit; gaps survive the widening.
        let mut w: Hourly = vec![Some(7.0), None, Some(4_294_967_294.0)].into();
        assert!(matches!(w.0, Repr::Whole(_)));
        w.set(0, Some(5e12));
        assert!(matches!(w.0, Repr::Any(_)));
        assert_eq!(
            w.iter().collect::<Vec<_>>(),
            [Some(5e12), None, Some(4_294_967_294.0)]
        );
        let big: Hourly = vec![None, Some(4_294_967_295.0), Some(0.25)].into();
        assert_eq!(
            big.iter().collect::<Vec<_>>(),
            [None, Some(4_294_967_295.0), Some(0.25)]
        );
        let parsed: Hourly = serde_json::from_str("[3,null,1e13,2]").unwrap();
        assert_eq!(
            parsed.iter().collect::<Vec<_>>(),
            [Some(3.0), None, Some(1e13), Some(2.0)]
        );
    }

    #[test]
    fn schema_1_files_read_as_one_account() {
        let two = Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
        assert_eq!(two.schema_version, 2);
        // The same facts written as schema 1: one account_id, regions at the top.
        let mut v: serde_json::Value = serde_json::from_str(crate::SAMPLE_SNAPSHOT).unwrap();
        let o = v.as_object_mut().unwrap();
        let mut accounts = o.remove("accounts").unwrap();
        let account = accounts[0].as_object_mut().unwrap();
        o.insert("account_id".into(), account.remove("account_id").unwrap());
        o.insert("regions".into(), account.remove("regions").unwrap());
        o.insert("schema_version".into(), 1.into());
        let one = Snapshot::from_json(&v.to_string()).unwrap();
        assert_eq!(one.schema_version, 1);
        assert_eq!(one.accounts, two.accounts);
        assert_eq!(one.regions, two.regions);
        assert_eq!(one.regions[0].account_id, "123456789012");
        // And it is written back as schema 2.
        assert!(one.to_json().contains("\"schema_version\": 2"));
    }

    #[test]
    fn accounts_hold_their_regions_on_disk() {
        let mut snap = Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
        let mut other = snap.regions[0].clone();
        other.account_id = "210987654321".into();
        other.region = "us-east-1".into();
        snap.regions.push(other);
        snap.accounts.push(Account {
            account_id: "210987654321".into(),
            name: Some("payments".into()),
            not_collected: vec![],
        });
        snap.accounts.push(Account {
            account_id: "333333333333".into(),
            name: None,
            not_collected: vec![NotCollected {
                what: "account 333333333333".into(),
                reason: "AccessDenied: not authorized to perform sts:AssumeRole".into(),
            }],
        });
        let text = snap.to_json();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(v.get("regions").is_none() && v.get("account_id").is_none());
        let accounts = v["accounts"].as_array().unwrap();
        assert_eq!(accounts.len(), 3);
        assert_eq!(accounts[1]["name"], "payments");
        assert_eq!(accounts[1]["regions"][0]["region"], "us-east-1");
        assert_eq!(accounts[2]["regions"].as_array().unwrap().len(), 0);
        assert!(accounts[0].get("not_collected").is_none());
        let back = Snapshot::from_json(&text).unwrap();
        assert_eq!(back, snap);
        // A region whose account is not listed is refused, on reading and on writing.
        snap.regions[1].account_id = "444444444444".into();
        assert!(serde_json::to_string(&snap).is_err());
        let mut bad = v.clone();
        bad["accounts"][1]["account_id"] = "123456789012".into();
        let err = Snapshot::from_json(&bad.to_string()).unwrap_err();
        assert!(format!("{err:#}").contains("listed twice"), "{err:#}");
    }

    #[test]
    fn a_slice_keeps_the_hours_inside_it() {
        let snap = Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let october = Window {
            start: t("2026-10-01T00:00:00Z"),
            end: t("2026-11-01T00:00:00Z"),
        };
        let cut = snap.slice(october).unwrap();
        assert_eq!(cut.window, october);
        let first = snap.regions[0]
            .metrics
            .iter()
            .find(|m| m.values.get(0).is_some())
            .unwrap();
        let same = cut.regions[0]
            .metrics
            .iter()
            .find(|m| {
                m.nat_gateway_id == first.nat_gateway_id
                    && m.metric_name == first.metric_name
                    && m.statistic == first.statistic
            })
            .unwrap();
        assert_eq!(same.values.len(), 744);
        // The sample starts 2026-09-26: October's first hour is its 120th.
        assert_eq!(same.values, first.values.slice(120, first.values.len()));
        let outside = Window {
            start: t("2026-11-01T00:00:00Z"),
            end: t("2026-12-01T00:00:00Z"),
        };
        assert!(snap
            .slice(outside)
            .unwrap_err()
            .to_string()
            .contains("not inside the snapshot's window"));
    }
}

/// Arbitrary and mutated snapshots never panic the loader: each is refused or loaded.
#[cfg(test)]
mod fuzz {
    use super::Snapshot;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn mutated_samples_load_or_are_refused(
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut bytes = crate::SAMPLE_SNAPSHOT.as_bytes().to_vec();
            for (at, b) in flips {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len()));
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(s) = Snapshot::from_json(&text) {
                // Whatever loads keeps the loader's promises.
                prop_assert!(s.window.end > s.window.start);
            }
        }

        #[test]
        fn arbitrary_text_is_refused(text in any::<String>()) {
            prop_assert!(Snapshot::from_json(&text).is_err());
        }
    }
}

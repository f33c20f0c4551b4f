//! Generates a large snapshot for the scale benchmark (scripts/bench_scale.sh): NAT_COUNT NAT
//! gateways, three per VPC (one per AZ), 30 Lambda functions per VPC spread over its three
//! private subnets, and 30 days of hourly metrics. Deterministic.
//!
//!     cargo run --release --example gen_scale -- NAT_COUNT OUTPUT

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use chrono::{Duration, TimeZone, Utc};
use natcost::snapshot::*;

const REGION: &str = "ap-northeast-2";
const AZS: [&str; 3] = ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"];
const FUNCTIONS_PER_VPC: usize = 30;
const DAYS: i64 = 30;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(count), Some(out)) = (args.next(), args.next()) else {
        bail!("usage: gen_scale NAT_COUNT OUTPUT");
    };
    let nats: usize = count.parse().context("NAT_COUNT is a number")?;
    let end = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let window = Window {
        start: end - Duration::days(DAYS),
        end,
    };
    let hours = window.hours() as usize;
    let mut r = RegionSnapshot {
        region: REGION.into(),
        network_interfaces_scope: Some(WHOLE_VPC.into()),
        ..Default::default()
    };
    let id = |kind: &str, n: usize| format!("{kind}-{n:017x}");
    for v in 0..nats.div_ceil(3) {
        let vpc = id("vpc", v);
        r.vpcs.push(Vpc {
            vpc_id: vpc.clone(),
            cidr_blocks: vec![format!("10.{}.0.0/16", v % 256)],
            ..Default::default()
        });
        let mut private = Vec::new();
        for (a, az) in AZS.iter().enumerate() {
            let n = v * 3 + a;
            if n >= nats {
                break;
            }
            let public = id("subnet", 2 * n);
            let subnet = id("subnet", 2 * n + 1);
            for (s, third) in [(&public, a), (&subnet, a + 3)] {
                r.subnets.push(Subnet {
                    subnet_id: s.clone(),
                    vpc_id: vpc.clone(),
                    availability_zone: az.to_string(),
                    cidr_block: Some(format!("10.{}.{}.0/24", v % 256, third)),
                    ..Default::default()
                });
            }
            let nat = id("nat", n);
            let eni = id("eni", n);
            r.nat_gateways.push(NatGateway {
                nat_gateway_id: nat.clone(),
                vpc_id: vpc.clone(),
                subnet_id: public.clone(),
                availability_zone: az.to_string(),
                state: "available".into(),
                connectivity_type: "public".into(),
                create_time: window.start - Duration::days(90),
                delete_time: None,
                addresses: vec![NatAddress {
                    allocation_id: Some(id("eipalloc", n)),
                    public_ip: Some(format!(
                        "3.{}.{}.{}",
                        n / 65536 % 256,
                        n / 256 % 256,
                        n % 256
                    )),
                    private_ip: Some(format!("10.{}.{a}.10", v % 256)),
                    network_interface_id: Some(eni.clone()),
                    is_primary: Some(true),
                    availability_zone: None,
                }],
                tags: BTreeMap::from([("Name".to_string(), format!("nat-{v}-{a}"))]),
                availability_mode: Some("zonal".into()),
                auto_provision_zones: None,
                found_by: None,
            });
            r.route_tables.push(RouteTable {
                route_table_id: id("rtb", n),
                vpc_id: vpc.clone(),
                main: false,
                subnet_ids: vec![subnet.clone()],
                routes: vec![Route {
                    destination: "0.0.0.0/0".into(),
                    target_type: TargetType::NatGateway,
                    target_id: nat.clone(),
                    state: Some("active".into()),
                }],
                tags: BTreeMap::new(),
            });
            let gib = 1073741824.0 * (0.2 + (n % 7) as f64 * 0.1);
            for (metric, stat) in NAT_METRICS {
                let per_hour = match (*metric, *stat) {
                    ("BytesInFromSource", "Sum") => gib * 0.1,
                    ("BytesInFromDestination", "Sum") | ("BytesOutToSource", "Sum") => gib * 0.9,
                    ("BytesOutToDestination", "Sum") => gib * 0.1,
                    (_, "SampleCount") => 60.0,
                    (m, "Maximum") if m.starts_with("Bytes") => gib / 30.0,
                    ("ActiveConnectionCount", _) => 40.0,
                    (m, _) if m.starts_with("Packets") => gib / 1000.0,
                    ("ConnectionAttemptCount" | "ConnectionEstablishedCount", _) => 3600.0,
                    _ => 0.0,
                };
                r.metrics.push(MetricSeries {
                    nat_gateway_id: nat.clone(),
                    metric_name: metric.to_string(),
                    statistic: stat.to_string(),
                    period_seconds: 3600,
                    values: (0..hours)
                        .map(|h| Some((per_hour * (0.6 + 0.8 * ((h % 24) as f64 / 24.0))).round()))
                        .collect(),
                });
            }
            private.push(subnet);
        }
        for f in 0..FUNCTIONS_PER_VPC {
            let name = format!("fn-{v}-{f}");
            let sg = format!("sg-{v:08x}{f:04x}");
            r.lambda_functions.push(LambdaFunction {
                function_name: name.clone(),
                function_arn: format!("arn:aws:lambda:{REGION}:123456789012:function:{name}"),
                vpc_config: Some(LambdaVpcConfig {
                    subnet_ids: private.clone(),
                    security_group_ids: vec![sg.clone()],
                    ipv6_allowed_for_dual_stack: false,
                }),
                ..Default::default()
            });
            for (k, subnet) in private.iter().enumerate() {
                r.network_interfaces.push(NetworkInterface {
                    network_interface_id: id(
                        "eni",
                        1_000_000 + (v * FUNCTIONS_PER_VPC + f) * 3 + k,
                    ),
                    interface_type: "lambda".into(),
                    description: Some(format!("AWS Lambda VPC ENI-{name}-{k}")),
                    subnet_id: subnet.clone(),
                    vpc_id: vpc.clone(),
                    security_group_ids: vec![sg.clone()],
                    ..Default::default()
                });
            }
        }
    }
    r.account_id = "123456789012".into();
    let snapshot = Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: "gen_scale".into(),
        collected_at: end,
        accounts: vec![Account::new("123456789012")],
        window,
        regions: vec![r],
        api_calls: Default::default(),
        not_collected: vec![],
    };
    std::fs::write(&out, snapshot.to_json()).with_context(|| format!("cannot write {out}"))?;
    eprintln!("wrote {out}: {nats} NAT gateways");
    Ok(())
}

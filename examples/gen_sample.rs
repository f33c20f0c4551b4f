//! Rebuilds the bundled sample snapshot `data/samples/seoul.json`: a realistic Seoul account
//! with three VPCs, seven NAT gateways (one per AZ, a single-NAT VPC with a cross-AZ route,
//! an idle one, one that lived ten days), 27 Lambda functions and 36 days of hourly metrics
//! with daily and weekly cycles. Deterministic: the same file every run.
//!
//!     cargo run --example gen_sample [-- OUTPUT]

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc, Weekday};
use natcost::snapshot::*;

const REGION: &str = "ap-northeast-2";
const ACCOUNT: &str = "123456789012";
const GB: f64 = (1u64 << 30) as f64;

/// A small deterministic generator (64-bit LCG), so the sample needs no extra crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    fn unit(&mut self) -> f64 {
        (self.next() % 1_000_000) as f64 / 1_000_000.0
    }
    fn id(&mut self, prefix: &str) -> String {
        let (hi, lo) = (self.next(), self.next());
        format!("{prefix}-0{:016x}", (hi << 32) ^ lo)
    }
}

fn tags(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("Name".to_string(), name.to_string())])
}

fn az_id(az: &str) -> String {
    format!("apne2-az{}", (az.as_bytes()[az.len() - 1] - b'a' + 1))
}

struct Builder {
    rng: Rng,
    r: RegionSnapshot,
    window: Window,
}

struct NatPlan<'a> {
    name: &'a str,
    vpc: String,
    subnet: String,
    az: &'a str,
    /// Average GB per day received from destinations (responses: most of the bytes).
    gb_per_day: f64,
    created: DateTime<Utc>,
    deleted: Option<DateTime<Utc>>,
}

impl Builder {
    fn vpc(&mut self, name: &str, cidr: &str) -> String {
        let id = self.rng.id("vpc");
        self.r.vpcs.push(Vpc {
            vpc_id: id.clone(),
            cidr_blocks: vec![cidr.into()],
            ipv6_cidr_blocks: vec![],
            is_default: false,
            tags: tags(name),
        });
        let igw = self.rng.id("igw");
        self.r.internet_gateways.push(Gateway {
            id: igw,
            vpc_ids: vec![id.clone()],
        });
        id
    }

    fn igw(&self, vpc: &str) -> String {
        self.r
            .internet_gateways
            .iter()
            .find(|g| g.vpc_ids.iter().any(|v| v == vpc))
            .unwrap()
            .id
            .clone()
    }

    fn subnet(&mut self, vpc: &str, name: &str, az: &str, cidr: &str) -> String {
        let id = self.rng.id("subnet");
        self.r.subnets.push(Subnet {
            subnet_id: id.clone(),
            vpc_id: vpc.into(),
            availability_zone: az.into(),
            availability_zone_id: Some(az_id(az)),
            cidr_block: Some(cidr.into()),
            ipv6_cidr_blocks: vec![],
            tags: tags(name),
        });
        id
    }

    fn route_table(
        &mut self,
        vpc: &str,
        name: &str,
        main: bool,
        subnets: &[&str],
        default: Option<(TargetType, &str)>,
    ) -> String {
        let id = self.rng.id("rtb");
        let cidr = self
            .r
            .vpcs
            .iter()
            .find(|v| v.vpc_id == vpc)
            .unwrap()
            .cidr_blocks[0]
            .clone();
        let mut routes = vec![Route {
            destination: cidr,
            target_type: TargetType::Local,
            target_id: "local".into(),
            state: Some("active".into()),
        }];
        if let Some((t, target)) = default {
            routes.push(Route {
                destination: "0.0.0.0/0".into(),
                target_type: t,
                target_id: target.into(),
                state: Some("active".into()),
            });
        }
        self.r.route_tables.push(RouteTable {
            route_table_id: id.clone(),
            vpc_id: vpc.into(),
            main,
            subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
            routes,
            tags: tags(name),
        });
        id
    }

    fn gateway_endpoint(&mut self, vpc: &str, service: &str, tables: &[&str]) {
        let id = self.rng.id("vpce");
        for rt in self
            .r
            .route_tables
            .iter_mut()
            .filter(|t| tables.contains(&t.route_table_id.as_str()))
        {
            rt.routes.push(Route {
                destination: format!(
                    "pl-{}",
                    if service == "s3" {
                        "78a54011"
                    } else {
                        "a3a54072"
                    }
                ),
                target_type: TargetType::VpcEndpoint,
                target_id: id.clone(),
                state: Some("active".into()),
            });
        }
        self.r.vpc_endpoints.push(VpcEndpoint {
            vpc_endpoint_id: id,
            vpc_id: vpc.into(),
            vpc_endpoint_type: "Gateway".into(),
            service_name: format!("com.amazonaws.{REGION}.{service}"),
            state: "available".into(),
            route_table_ids: tables.iter().map(|s| s.to_string()).collect(),
            subnet_ids: vec![],
        });
    }

    /// A network interface with the next free address of its subnet; returns (id, address).
    fn eni(
        &mut self,
        kind: &str,
        description: String,
        subnet: &str,
        vpc: &str,
    ) -> (String, String) {
        let id = self.rng.id("eni");
        let s = self
            .r
            .subnets
            .iter()
            .find(|s| s.subnet_id == subnet)
            .unwrap();
        let az = s.availability_zone.clone();
        let base: std::net::Ipv4Addr = s
            .cidr_block
            .as_deref()
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let used = self
            .r
            .network_interfaces
            .iter()
            .filter(|e| e.subnet_id == subnet)
            .count() as u32;
        let ip = std::net::Ipv4Addr::from(u32::from(base) + 10 + used).to_string();
        self.r.network_interfaces.push(NetworkInterface {
            network_interface_id: id.clone(),
            interface_type: kind.into(),
            description: Some(description),
            subnet_id: subnet.into(),
            vpc_id: vpc.into(),
            availability_zone: Some(az),
            private_ip_address: Some(ip.clone()),
            security_group_ids: vec![],
            requester_id: None,
            instance_id: None,
            ecs_task_arn: None,
            ecs_group: None,
        });
        (id, ip)
    }

    fn nat(&mut self, p: NatPlan) -> String {
        let id = self.rng.id("nat");
        let alloc = self.rng.id("eipalloc");
        let assoc = self.rng.id("eipassoc");
        let n = self.r.nat_gateways.len();
        let public_ip = format!("3.38.{}.{}", 100 + n, 17 + 3 * n);
        let (eni, private_ip) = self.eni(
            "nat_gateway",
            format!("Interface for NAT Gateway {id}"),
            &p.subnet,
            &p.vpc.clone(),
        );
        let gone = p.deleted.is_some();
        self.r.nat_gateways.push(NatGateway {
            nat_gateway_id: id.clone(),
            vpc_id: p.vpc.clone(),
            subnet_id: p.subnet.clone(),
            availability_zone: p.az.into(),
            state: if gone { "deleted" } else { "available" }.into(),
            connectivity_type: "public".into(),
            create_time: p.created,
            delete_time: p.deleted,
            addresses: vec![NatAddress {
                allocation_id: Some(alloc.clone()),
                public_ip: Some(public_ip.clone()),
                private_ip: Some(private_ip.clone()),
                network_interface_id: Some(eni.clone()),
                is_primary: Some(true),
                availability_zone: None,
            }],
            tags: tags(p.name),
            availability_mode: Some("zonal".into()),
            auto_provision_zones: None,
            found_by: None,
        });
        // Deleting a NAT gateway keeps its Elastic IP: the one that is gone left its address
        // behind, unassociated and still billed.
        self.r.elastic_ips.push(ElasticIp {
            allocation_id: alloc,
            public_ip,
            association_id: (!gone).then_some(assoc),
            network_interface_id: (!gone).then_some(eni),
            private_ip: (!gone).then_some(private_ip),
            tags: tags(&format!("{}-eip", p.name)),
        });
        self.metrics(&id, &p);
        id
    }

    /// Hourly series with a daily cycle peaking at 14:00 KST and quiet weekends.
    fn metrics(&mut self, id: &str, p: &NatPlan) {
        let hours = self.window.hours() as usize;
        let mut series: BTreeMap<(&str, &str), Vec<Option<f64>>> = BTreeMap::new();
        for (name, stat) in NAT_METRICS {
            series.insert((name, stat), Vec::with_capacity(hours));
        }
        for h in 0..hours {
            let t = self.window.start + Duration::hours(h as i64);
            let alive = t >= p.created.with_minute(0).unwrap() && p.deleted.is_none_or(|d| t < d);
            if !alive {
                for v in series.values_mut() {
                    v.push(None);
                }
                continue;
            }
            let kst = t + Duration::hours(9);
            let phase = (kst.hour() as f64 - 8.0) / 24.0 * std::f64::consts::TAU;
            let daily = 0.35 + 0.65 * phase.sin().max(0.0) * 1.9;
            let weekly = if matches!(kst.weekday(), Weekday::Sat | Weekday::Sun) {
                0.45
            } else {
                1.1
            };
            let noise = 0.85 + 0.3 * self.rng.unit();
            let from_dst = (p.gb_per_day * GB / 24.0 * daily * weekly * noise).round();
            let from_src = (from_dst * (0.07 + 0.02 * self.rng.unit())).round();
            let attempts = (from_src / 18_000.0).round();
            // The busiest minute of the hour: 1.5 to 2.5 times the hour's average minute
            // (not drawn from rng, so the sample's other series stay as they were).
            let burst = 1.5 + ((h * 7919) % 1000) as f64 / 1000.0;
            let values: [(&str, f64); 17] = [
                ("BytesInFromSource", from_src),
                ("BytesInFromDestination", from_dst),
                ("BytesOutToDestination", (from_src * 0.998).round()),
                ("BytesOutToSource", (from_dst * 0.999).round()),
                ("PacketsInFromSource", (from_src / 420.0).round()),
                ("PacketsInFromDestination", (from_dst / 1150.0).round()),
                ("PacketsOutToDestination", (from_src / 421.0).round()),
                ("PacketsOutToSource", (from_dst / 1151.0).round()),
                ("ActiveConnectionCount", (attempts / 40.0).round()),
                ("ConnectionAttemptCount", attempts),
                ("ConnectionEstablishedCount", (attempts * 0.997).round()),
                ("ErrorPortAllocation", 0.0),
                ("IdleTimeoutCount", (attempts * 0.01).round()),
                ("PacketsDropCount", (from_src / 4.0e7).round()),
                (
                    "BytesInFromSource/Maximum",
                    (from_src / 60.0 * burst).round(),
                ),
                (
                    "BytesInFromDestination/Maximum",
                    (from_dst / 60.0 * burst).round(),
                ),
                ("BytesInFromSource/SampleCount", 60.0),
            ];
            for (key, v) in values {
                let (name, stat) = key.split_once('/').unwrap_or((key, ""));
                let stat = if stat.is_empty() {
                    NAT_METRICS.iter().find(|(n, _)| *n == name).unwrap().1
                } else {
                    stat
                };
                series.get_mut(&(name, stat)).unwrap().push(Some(v));
            }
        }
        for (name, stat) in NAT_METRICS {
            self.r.metrics.push(MetricSeries {
                nat_gateway_id: id.into(),
                metric_name: name.to_string(),
                statistic: stat.to_string(),
                period_seconds: 3600,
                values: series.remove(&(*name, *stat)).unwrap().into(),
            });
        }
    }

    fn lambda(
        &mut self,
        name: &str,
        runtime: &str,
        memory: i32,
        subnets: &[&str],
        dual_stack: bool,
    ) {
        let vpc_config = (!subnets.is_empty()).then(|| LambdaVpcConfig {
            subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
            security_group_ids: vec![format!("sg-0{:016x}", self.rng.next())],
            ipv6_allowed_for_dual_stack: dual_stack,
        });
        self.r.lambda_functions.push(LambdaFunction {
            function_name: name.into(),
            function_arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"),
            runtime: Some(runtime.into()),
            memory_size: Some(memory),
            architectures: vec![if memory >= 1024 { "arm64" } else { "x86_64" }.into()],
            vpc_config,
            ..Default::default()
        });
        // One shared ENI per subnet and security-group set; one per function keeps the sample simple.
        for s in subnets {
            let vpc = self
                .r
                .subnets
                .iter()
                .find(|x| x.subnet_id == *s)
                .unwrap()
                .vpc_id
                .clone();
            let description = format!("AWS Lambda VPC ENI-{name}-{}", self.rng.next() % 100000);
            self.eni("lambda", description, s, &vpc);
        }
    }
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data/samples/seoul.json".into());
    let window = Window {
        start: Utc.with_ymd_and_hms(2026, 9, 26, 0, 0, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
    };
    let long_ago = Utc.with_ymd_and_hms(2025, 3, 14, 6, 12, 9).unwrap();
    let mut b = Builder {
        rng: Rng(0x5eed_2026),
        r: RegionSnapshot {
            region: REGION.into(),
            network_interfaces_scope: Some(natcost::snapshot::WHOLE_VPC.into()),
            ..Default::default()
        },
        window,
    };
    let (a, bz, c) = ("ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c");

    // prod: one NAT per AZ, no S3 endpoint, ECS tasks beside the functions, and a batch
    // subnet in 2c routed to the NAT in 2a by mistake.
    let prod = b.vpc("prod", "10.0.0.0/16");
    let pub_a = b.subnet(&prod, "prod-public-a", a, "10.0.0.0/24");
    let pub_b = b.subnet(&prod, "prod-public-b", bz, "10.0.1.0/24");
    let pub_c = b.subnet(&prod, "prod-public-c", c, "10.0.2.0/24");
    let app_a = b.subnet(&prod, "prod-app-a", a, "10.0.16.0/20");
    let app_b = b.subnet(&prod, "prod-app-b", bz, "10.0.32.0/20");
    let app_c = b.subnet(&prod, "prod-app-c", c, "10.0.48.0/20");
    let batch_c = b.subnet(&prod, "prod-batch-c", c, "10.0.64.0/20");
    let igw = b.igw(&prod);
    b.route_table(
        &prod,
        "prod-public",
        true,
        &[&pub_a, &pub_b, &pub_c],
        Some((TargetType::InternetGateway, &igw)),
    );
    let nat_pa = b.nat(NatPlan {
        name: "prod-nat-a",
        vpc: prod.clone(),
        subnet: pub_a.clone(),
        az: a,
        gb_per_day: 118.0,
        created: long_ago,
        deleted: None,
    });
    let nat_pb = b.nat(NatPlan {
        name: "prod-nat-b",
        vpc: prod.clone(),
        subnet: pub_b.clone(),
        az: bz,
        gb_per_day: 61.0,
        created: long_ago,
        deleted: None,
    });
    let nat_pc = b.nat(NatPlan {
        name: "prod-nat-c",
        vpc: prod.clone(),
        subnet: pub_c.clone(),
        az: c,
        gb_per_day: 37.0,
        created: long_ago,
        deleted: None,
    });
    b.route_table(
        &prod,
        "prod-app-a",
        false,
        &[&app_a],
        Some((TargetType::NatGateway, &nat_pa)),
    );
    b.route_table(
        &prod,
        "prod-app-b",
        false,
        &[&app_b],
        Some((TargetType::NatGateway, &nat_pb)),
    );
    b.route_table(
        &prod,
        "prod-app-c",
        false,
        &[&app_c],
        Some((TargetType::NatGateway, &nat_pc)),
    );
    b.route_table(
        &prod,
        "prod-batch",
        false,
        &[&batch_c],
        Some((TargetType::NatGateway, &nat_pa)),
    );
    for (i, s) in [&app_a, &app_a, &app_b, &app_c].iter().enumerate() {
        let vpc = prod.clone();
        b.eni(
            "interface",
            format!("arn:aws:ecs:{REGION}:{ACCOUNT}:attachment/task-{i}"),
            s,
            &vpc,
        );
    }
    let three = [app_a.as_str(), app_b.as_str(), app_c.as_str()];
    for (name, rt, mem) in [
        ("orders-api", "nodejs20.x", 512),
        ("payments-webhook", "nodejs20.x", 512),
        ("thumbnailer", "python3.12", 2048),
        ("image-resizer", "python3.12", 1536),
        ("catalog-sync", "java21", 1024),
        ("search-indexer", "java21", 1024),
        ("email-sender", "python3.12", 256),
        ("push-notifier", "nodejs20.x", 256),
        ("auth-token-refresh", "nodejs20.x", 256),
        ("report-exporter", "python3.12", 1024),
    ] {
        b.lambda(name, rt, mem, &three, false);
    }
    b.lambda("fraud-scorer", "python3.12", 3008, &[&app_a, &app_b], false);
    b.lambda("audit-shipper", "provided.al2023", 256, &[&app_c], false);
    b.lambda("nightly-etl", "python3.12", 3008, &[&batch_c], false);
    b.lambda("s3-inventory-scan", "python3.12", 1024, &[&batch_c], false);

    // staging: a single NAT in 2a that the 2c subnet also uses; S3 endpoint present; only Lambda.
    let staging = b.vpc("staging", "10.1.0.0/16");
    let s_pub_a = b.subnet(&staging, "staging-public-a", a, "10.1.0.0/24");
    let s_app_a = b.subnet(&staging, "staging-app-a", a, "10.1.16.0/20");
    let s_app_c = b.subnet(&staging, "staging-app-c", c, "10.1.32.0/20");
    let igw = b.igw(&staging);
    b.route_table(
        &staging,
        "staging-public",
        true,
        &[&s_pub_a],
        Some((TargetType::InternetGateway, &igw)),
    );
    let nat_s = b.nat(NatPlan {
        name: "staging-nat",
        vpc: staging.clone(),
        subnet: s_pub_a.clone(),
        az: a,
        gb_per_day: 9.0,
        created: long_ago,
        deleted: None,
    });
    let s_rt = b.route_table(
        &staging,
        "staging-app",
        false,
        &[&s_app_a, &s_app_c],
        Some((TargetType::NatGateway, &nat_s)),
    );
    b.gateway_endpoint(&staging, "s3", &[&s_rt]);
    for name in [
        "stg-orders-api",
        "stg-payments-webhook",
        "stg-thumbnailer",
        "stg-catalog-sync",
        "stg-email-sender",
        "stg-e2e-runner",
    ] {
        b.lambda(
            name,
            "nodejs20.x",
            512,
            &[&s_app_a, &s_app_c],
            name == "stg-e2e-runner",
        );
    }

    // data: one NAT in use, one left over (no route points at it), one that lived ten days.
    let data = b.vpc("data", "10.2.0.0/16");
    let d_pub_a = b.subnet(&data, "data-public-a", a, "10.2.0.0/24");
    let d_pub_b = b.subnet(&data, "data-public-b", bz, "10.2.1.0/24");
    let d_app_a = b.subnet(&data, "data-app-a", a, "10.2.16.0/20");
    let d_app_b = b.subnet(&data, "data-app-b", bz, "10.2.32.0/20");
    let igw = b.igw(&data);
    b.route_table(
        &data,
        "data-public",
        true,
        &[&d_pub_a, &d_pub_b],
        Some((TargetType::InternetGateway, &igw)),
    );
    let nat_d = b.nat(NatPlan {
        name: "data-nat-a",
        vpc: data.clone(),
        subnet: d_pub_a.clone(),
        az: a,
        gb_per_day: 74.0,
        created: long_ago,
        deleted: None,
    });
    b.nat(NatPlan {
        name: "data-nat-b-old",
        vpc: data.clone(),
        subnet: d_pub_b.clone(),
        az: bz,
        gb_per_day: 0.0,
        created: long_ago,
        deleted: None,
    });
    b.nat(NatPlan {
        name: "data-migration-nat",
        vpc: data.clone(),
        subnet: d_pub_b.clone(),
        az: bz,
        gb_per_day: 25.0,
        created: Utc.with_ymd_and_hms(2026, 10, 10, 9, 41, 27).unwrap(),
        deleted: Some(Utc.with_ymd_and_hms(2026, 10, 20, 17, 5, 2).unwrap()),
    });
    b.route_table(
        &data,
        "data-app",
        false,
        &[&d_app_a, &d_app_b],
        Some((TargetType::NatGateway, &nat_d)),
    );
    let vpc = data.clone();
    b.eni("interface", "EMR core node".into(), &d_app_a, &vpc);
    for name in [
        "clickstream-loader",
        "dynamo-export",
        "partner-feed-pull",
        "ml-feature-build",
    ] {
        b.lambda(name, "python3.12", 2048, &[&d_app_a, &d_app_b], false);
    }

    // Functions outside any VPC.
    for name in ["slack-alerts", "cost-digest", "edge-redirects"] {
        b.lambda(name, "nodejs20.x", 128, &[], false);
    }

    // Teams (tag `team`) for `--allocate-by tag:team`: each function's owner; the NAT gateways
    // are the platform team's (what no source explains is theirs). The EMR node is untagged.
    let team = |f: &str| match f.trim_start_matches("stg-") {
        "orders-api" => "orders",
        "payments-webhook" | "fraud-scorer" => "payments",
        "thumbnailer" | "image-resizer" => "media",
        "catalog-sync" | "search-indexer" => "catalog",
        "email-sender" | "push-notifier" => "messaging",
        "auth-token-refresh" | "audit-shipper" => "identity",
        "e2e-runner" => "qa",
        "slack-alerts" | "cost-digest" | "edge-redirects" => "platform",
        _ => "data",
    };
    let tagged: Vec<(String, &str)> =
        b.r.lambda_functions
            .iter()
            .map(|f| (f.function_arn.clone(), team(&f.function_name)))
            .collect();
    for (arn, team) in tagged {
        b.r.resource_tags
            .insert(arn, [("team".to_string(), team.to_string())].into());
    }
    for n in &mut b.r.nat_gateways {
        n.tags.insert("team".into(), "platform".into());
    }

    b.r.flow_logs.push(FlowLog {
        flow_log_id: b.rng.id("fl"),
        resource_id: prod.clone(),
        traffic_type: Some("ALL".into()),
        log_destination_type: Some("s3".into()),
        log_destination: Some(format!("arn:aws:s3:::acme-flow-logs/{}", "prod")),
        log_group_name: None,
        log_format: Some("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}".into()),
    });

    b.r.account_id = ACCOUNT.into();
    let snapshot = Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        collected_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 20, 0).unwrap(),
        accounts: vec![Account::new(ACCOUNT)],
        window,
        regions: vec![b.r],
        api_calls: BTreeMap::new(),
        not_collected: vec![],
    };
    // Compact: the sample is embedded in the binary.
    let text = serde_json::to_string(&snapshot).unwrap();
    std::fs::write(&out, text + "\n").unwrap();
    eprintln!("wrote {out}");
}

//! A small snapshot built by hand, for tests whose numbers are worked out by hand. Window:
//! 240 h from 2026-10-01. A NAT gateway at `gib_per_hour` 1 processes exactly 1 GiB an hour
//! (0.1 from sources, 0.9 from destinations), so 730 GB a month, in Seoul at 0.059 USD per
//! hour and per GB.

use chrono::{DateTime, TimeZone, Utc};

use crate::snapshot::*;

pub(crate) const GIB: f64 = 1073741824.0;
pub(crate) const HOURS: usize = 240;

pub(crate) fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()
}

pub(crate) struct Fixture {
    pub(crate) r: RegionSnapshot,
    pub(crate) hours: usize,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        Fixture {
            r: RegionSnapshot {
                region: "ap-northeast-2".into(),
                network_interfaces_scope: Some(WHOLE_VPC.into()),
                ..Default::default()
            },
            hours: HOURS,
        }
    }
    pub(crate) fn vpc(&mut self, id: &str) -> &mut Self {
        self.r.vpcs.push(Vpc {
            vpc_id: id.into(),
            cidr_blocks: vec!["10.0.0.0/16".into()],
            ..Default::default()
        });
        self
    }
    pub(crate) fn subnet(&mut self, id: &str, vpc: &str, az: &str) -> &mut Self {
        self.r.subnets.push(Subnet {
            subnet_id: id.into(),
            vpc_id: vpc.into(),
            availability_zone: az.into(),
            ..Default::default()
        });
        self
    }
    pub(crate) fn nat(&mut self, id: &str, vpc: &str, az: &str, gib_per_hour: f64) -> &mut Self {
        self.r.nat_gateways.push(NatGateway {
            nat_gateway_id: id.into(),
            vpc_id: vpc.into(),
            subnet_id: format!("public-{az}"),
            availability_zone: az.into(),
            state: "available".into(),
            connectivity_type: "public".into(),
            create_time: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
            delete_time: None,
            addresses: vec![NatAddress {
                allocation_id: Some(format!("eipalloc-{id}")),
                public_ip: Some("3.38.0.1".into()),
                ..Default::default()
            }],
            tags: Default::default(),
            availability_mode: None,
            auto_provision_zones: None,
            found_by: None,
        });
        let hours = self.hours;
        let series = |name: &str, per_hour: f64| MetricSeries {
            nat_gateway_id: id.into(),
            metric_name: name.into(),
            statistic: if name == "ActiveConnectionCount" {
                "Maximum"
            } else {
                "Sum"
            }
            .into(),
            period_seconds: 3600,
            values: vec![Some(per_hour); hours].into(),
        };
        let busy = if gib_per_hour > 0.0 { 1.0 } else { 0.0 };
        self.r.metrics.extend([
            series("BytesInFromSource", 0.1 * gib_per_hour * GIB),
            series("BytesInFromDestination", 0.9 * gib_per_hour * GIB),
            series("BytesOutToDestination", 0.1 * gib_per_hour * GIB),
            series("BytesOutToSource", 0.9 * gib_per_hour * GIB),
            series("ConnectionAttemptCount", 100.0 * busy),
            series("ActiveConnectionCount", 10.0 * busy),
            series("PacketsInFromSource", 1000.0 * busy),
            series("PacketsInFromDestination", 1000.0 * busy),
        ]);
        self
    }
    /// A route table with the given subnets whose default route goes to `nat`.
    pub(crate) fn route(&mut self, rtb: &str, vpc: &str, subnets: &[&str], nat: &str) -> &mut Self {
        self.r.route_tables.push(RouteTable {
            route_table_id: rtb.into(),
            vpc_id: vpc.into(),
            main: false,
            subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
            routes: vec![Route {
                destination: "0.0.0.0/0".into(),
                target_type: TargetType::NatGateway,
                target_id: nat.into(),
                state: None,
            }],
            tags: Default::default(),
        });
        self
    }
    pub(crate) fn lambda(&mut self, name: &str, subnets: &[&str]) -> &mut Self {
        self.r.lambda_functions.push(LambdaFunction {
            function_name: name.into(),
            function_arn: format!("arn:aws:lambda:ap-northeast-2:123456789012:function:{name}"),
            vpc_config: Some(LambdaVpcConfig {
                subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            }),
            ..Default::default()
        });
        self
    }
    pub(crate) fn eni(&mut self, subnet: &str, vpc: &str) -> &mut Self {
        self.r.network_interfaces.push(NetworkInterface {
            network_interface_id: format!("eni-{subnet}"),
            interface_type: "interface".into(),
            subnet_id: subnet.into(),
            vpc_id: vpc.into(),
            ..Default::default()
        });
        self
    }
    /// S3 gateway endpoint `vpce-s3` in vpc-1, on one route table.
    pub(crate) fn s3_endpoint_on(&mut self, rtb: &str) -> &mut Self {
        self.r.vpc_endpoints.push(VpcEndpoint {
            vpc_endpoint_id: "vpce-s3".into(),
            vpc_id: "vpc-1".into(),
            vpc_endpoint_type: "Gateway".into(),
            service_name: "com.amazonaws.ap-northeast-2.s3".into(),
            state: "available".into(),
            route_table_ids: vec![rtb.into()],
            subnet_ids: vec![],
        });
        self
    }
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            schema_version: SCHEMA_VERSION,
            tool_version: "test".into(),
            collected_at: start(),
            accounts: vec![crate::snapshot::Account::new("123456789012")],
            window: Window {
                start: start(),
                end: start() + chrono::Duration::hours(self.hours as i64),
            },
            regions: vec![RegionSnapshot {
                account_id: "123456789012".into(),
                ..self.r.clone()
            }],
            api_calls: Default::default(),
            not_collected: vec![],
        }
    }

    /// 8 days of flow logs on nat-a (measured): fn-a 60% and eni-s-a 30% from s-a, fn-c 10%
    /// from s-c (the fixture needs those three).
    pub(crate) fn measured_flows(&self) -> crate::traffic::Attribution {
        use crate::traffic::{SourceBytes, SourceRef};
        let function = |name: &str| {
            SourceRef::lambda(
                self.r
                    .lambda_functions
                    .iter()
                    .find(|f| f.function_name == name)
                    .expect("the function"),
            )
        };
        let eni = SourceRef::eni(
            self.r
                .network_interfaces
                .iter()
                .find(|e| e.network_interface_id == "eni-s-a")
                .expect("eni-s-a"),
        );
        let by = |source: SourceRef, subnet: &str, bytes| SourceBytes {
            source,
            subnet: Some(subnet.into()),
            bytes,
        };
        nat_a_flows(
            8,
            vec![
                by(function("fn-a"), "s-a", 600),
                by(eni, "s-a", 300),
                by(function("fn-c"), "s-c", 100),
            ],
        )
    }

    /// `hours` from 2026-10-01: nat-a in 2a at 1 GiB/h, fn-a in 2a and fn-c in 2c, each subnet
    /// routed to nat-a (so fn-c's traffic crosses AZs).
    pub(crate) fn two_functions(hours: usize) -> Fixture {
        let mut f = Fixture::new();
        f.hours = hours;
        f.vpc("vpc-1")
            .subnet("s-a", "vpc-1", "ap-northeast-2a")
            .subnet("s-c", "vpc-1", "ap-northeast-2c")
            .nat("nat-a", "vpc-1", "ap-northeast-2a", 1.0)
            .route("rtb-a", "vpc-1", &["s-a"], "nat-a")
            .route("rtb-c", "vpc-1", &["s-c"], "nat-a")
            .lambda("fn-a", &["s-a"])
            .lambda("fn-c", &["s-c"]);
        f
    }

    /// October and November 2026 (1464 h): two_functions, 1 GiB/h in October and 2 GiB/h in
    /// November.
    pub(crate) fn two_months() -> Fixture {
        let mut f = Fixture::two_functions((31 + 30) * 24);
        for m in
            f.r.metrics
                .iter_mut()
                .filter(|m| m.metric_name.starts_with("Bytes"))
        {
            let doubled: Vec<Option<f64>> = (0..f.hours)
                .map(|h| m.values.get(h).map(|v| if h >= 744 { 2.0 * v } else { v }))
                .collect();
            m.values = doubled.into();
        }
        f
    }

    /// 20 days; busy-nat at 1 GiB/h (24 GB a day) with day 16 at 10 GiB/h (240 GB: 10× the
    /// median) and day 18 at 3 GiB/h (72 GB: 3×, not more); quiet-nat at 0.01 GiB/h with a
    /// day at 10× that (2.4 GB: under the 10 GB floor).
    pub(crate) fn spiky() -> Fixture {
        let mut f = Fixture::new();
        f.hours = 20 * 24;
        f.vpc("vpc-1")
            .nat("busy-nat", "vpc-1", "ap-northeast-2a", 1.0)
            .nat("quiet-nat", "vpc-1", "ap-northeast-2a", 0.01);
        for m in
            f.r.metrics
                .iter_mut()
                .filter(|m| m.metric_name.starts_with("BytesIn"))
        {
            let factor = |h: usize| match (m.nat_gateway_id.as_str(), h / 24) {
                ("busy-nat", 15) => 10.0,
                ("busy-nat", 17) => 3.0,
                ("quiet-nat", 16) => 10.0,
                _ => 1.0,
            };
            let v: Vec<Option<f64>> = (0..20 * 24)
                .map(|h| m.values.get(h).map(|v| v * factor(h)))
                .collect();
            m.values = v.into();
        }
        f
    }
}

/// Flow logs on nat-a over `days` (measured from 7): 1000 bytes each way, 90% from s-a and 10%
/// from s-c, by the sources given.
pub(crate) fn nat_a_flows(
    days: i64,
    by_source: Vec<crate::traffic::SourceBytes>,
) -> crate::traffic::Attribution {
    use crate::traffic::{Attribution, NatTraffic};
    Attribution {
        nats: vec![NatTraffic {
            region: "ap-northeast-2".into(),
            nat_gateway_id: "nat-a".into(),
            destination_bytes: 1000,
            destinations: Default::default(),
            source_bytes: 1000,
            sources: vec![],
            pairs: vec![],
            first_seen: Some(start()),
            last_seen: Some(start() + chrono::Duration::days(days)),
            source_subnets: [("s-a".to_string(), 900), ("s-c".to_string(), 100)]
                .into_iter()
                .collect(),
            shared_splits: vec![],
            by_source,
            daily_sources: Default::default(),
        }],
        stats: Default::default(),
        ambiguous: vec![],
        ip_ranges: "test".into(),
        read_from: Vec::new(),
        api_calls: Default::default(),
    }
}

//! Each alternative on small hand-built snapshots whose numbers are worked out by hand.
//! Window: 240 h. A busy NAT gateway processes exactly 1 GiB an hour (0.1 from sources,
//! 0.9 from destinations), so 730 GB a month, in Seoul at 0.059 USD per hour and per GB.

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::price::model;
use crate::snapshot::*;

const GIB: f64 = 1073741824.0;
const HOURS: usize = 240;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()
}

struct Fixture {
    r: RegionSnapshot,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            r: RegionSnapshot {
                region: "ap-northeast-2".into(),
                ..Default::default()
            },
        }
    }
    fn vpc(&mut self, id: &str) -> &mut Self {
        self.r.vpcs.push(Vpc {
            vpc_id: id.into(),
            cidr_blocks: vec!["10.0.0.0/16".into()],
            ..Default::default()
        });
        self
    }
    fn subnet(&mut self, id: &str, vpc: &str, az: &str) -> &mut Self {
        self.r.subnets.push(Subnet {
            subnet_id: id.into(),
            vpc_id: vpc.into(),
            availability_zone: az.into(),
            ..Default::default()
        });
        self
    }
    fn nat(&mut self, id: &str, vpc: &str, az: &str, gib_per_hour: f64) -> &mut Self {
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
        });
        let series = |name: &str, per_hour: f64| MetricSeries {
            nat_gateway_id: id.into(),
            metric_name: name.into(),
            statistic: "Sum".into(),
            period_seconds: 3600,
            values: vec![Some(per_hour); HOURS],
        };
        self.r.metrics.extend([
            series("BytesInFromSource", 0.1 * gib_per_hour * GIB),
            series("BytesInFromDestination", 0.9 * gib_per_hour * GIB),
            series("BytesOutToDestination", 0.1 * gib_per_hour * GIB),
            series("BytesOutToSource", 0.9 * gib_per_hour * GIB),
            series(
                "ConnectionAttemptCount",
                if gib_per_hour > 0.0 { 100.0 } else { 0.0 },
            ),
        ]);
        self
    }
    /// A route table with the given subnets whose default route goes to `nat`.
    fn route(&mut self, rtb: &str, vpc: &str, subnets: &[&str], nat: &str) -> &mut Self {
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
    fn lambda(&mut self, name: &str, subnets: &[&str]) -> &mut Self {
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
    fn eni(&mut self, subnet: &str, vpc: &str) -> &mut Self {
        self.r.network_interfaces.push(NetworkInterface {
            network_interface_id: format!("eni-{subnet}"),
            interface_type: "interface".into(),
            subnet_id: subnet.into(),
            vpc_id: vpc.into(),
            ..Default::default()
        });
        self
    }
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            schema_version: SCHEMA_VERSION,
            tool_version: "test".into(),
            collected_at: start(),
            account_id: "123456789012".into(),
            window: Window {
                start: start(),
                end: start() + chrono::Duration::hours(HOURS as i64),
            },
            regions: vec![self.r.clone()],
            api_calls: Default::default(),
            not_collected: vec![],
        }
    }
}

fn scenarios(f: &Fixture) -> Vec<Scenario> {
    let snap = f.snapshot();
    let book = PriceBook::bundled();
    let model = model::price(&snap, &book).unwrap();
    advise(&Context {
        snapshot: &snap,
        book: &book,
        model: &model,
        flows: None,
    })
    .unwrap()
}

fn only<'a>(all: &'a [Scenario], id: &str) -> Vec<&'a Scenario> {
    all.iter().filter(|s| s.alternative == id).collect()
}

/// NAT hours + public IPv4 for a month in Seoul: 730 × 0.059 + 730 × 0.005.
const FIXED: Decimal = dec!(46.72);

#[test]
fn idle_nat_without_routes_is_deleted() {
    let mut f = Fixture::new();
    f.vpc("vpc-1").nat("nat-idle", "vpc-1", "a", 0.0);
    let all = scenarios(&f);
    let s = only(&all, "delete-idle-nat");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].resource_id, "nat-idle");
    assert_eq!(s[0].monthly_before, FIXED);
    assert_eq!(s[0].saving(), FIXED);
    assert_eq!(s[0].confidence, Confidence::Measured);
    assert!(s[0]
        .action
        .contains("delete-nat-gateway --region ap-northeast-2 --nat-gateway-id nat-idle"));
    assert!(s[0]
        .action
        .contains("release-address --region ap-northeast-2 --allocation-id eipalloc-nat-idle"));
}

#[test]
fn silent_nat_used_by_lambdas_is_not_idle() {
    let mut f = Fixture::new();
    f.vpc("vpc-1")
        .subnet("s-a", "vpc-1", "a")
        .nat("nat-1", "vpc-1", "a", 0.0)
        .route("rtb-1", "vpc-1", &["s-a"], "nat-1")
        .lambda("rarely-runs", &["s-a"]);
    assert!(only(&scenarios(&f), "delete-idle-nat").is_empty());
    // The same NAT with nobody behind it is idle.
    f.r.lambda_functions.clear();
    let all = scenarios(&f);
    let s = only(&all, "delete-idle-nat");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].risk_level, RiskLevel::Medium);
}

/// Two subnets share NAT a's traffic equally (one function each); the 2c one crosses AZs.
fn cross_az_fixture(with_local_nat: bool) -> Fixture {
    let mut f = Fixture::new();
    f.vpc("vpc-1")
        .subnet("s-a", "vpc-1", "ap-northeast-2a")
        .subnet("s-c", "vpc-1", "ap-northeast-2c")
        .nat("nat-a", "vpc-1", "ap-northeast-2a", 1.0)
        .route("rtb-a", "vpc-1", &["s-a"], "nat-a")
        .route("rtb-c", "vpc-1", &["s-c"], "nat-a")
        .lambda("fn-a", &["s-a"])
        .lambda("fn-c", &["s-c"]);
    if with_local_nat {
        f.subnet("s-c2", "vpc-1", "ap-northeast-2c")
            .nat("nat-c", "vpc-1", "ap-northeast-2c", 1.0)
            .route("rtb-c2", "vpc-1", &["s-c2"], "nat-c")
            .lambda("fn-c2", &["s-c2"]);
    }
    f
}

#[test]
fn inter_az_cost_is_in_the_model() {
    let f = cross_az_fixture(false);
    let snap = f.snapshot();
    let m = model::price(&snap, &PriceBook::bundled()).unwrap();
    let nat = &m.nats[0];
    // Half of (0.1 + 0.9) GiB/h crosses: 120 GB in 240 h, billed on both sides = 240 GB × 0.01.
    let line = nat
        .lines
        .iter()
        .find(|l| l.charge.component == model::Component::InterAz)
        .unwrap();
    assert_eq!(line.charge.usage_type, "APN2-DataTransfer-Regional-Bytes");
    assert_eq!(line.charge.quantity, dec!(240));
    assert_eq!(line.charge.cost, dec!(2.40));
    assert_eq!(nat.monthly_of(model::Component::InterAz), dec!(7.30));
    assert_eq!(nat.monthly_of(model::Component::NatBytes), dec!(43.07));
    assert_eq!(nat.monthly(), FIXED + dec!(43.07) + dec!(7.30));
}

#[test]
fn cross_az_route_fixed_by_the_local_nat() {
    let all = scenarios(&cross_az_fixture(true));
    let s = only(&all, "fix-cross-az-route");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].resource_id, "s-c");
    // s-c carries half of nat-a's 730 GB/month client traffic: 365 GB × 2 × 0.01.
    assert_eq!(s[0].monthly_before, dec!(7.30));
    assert_eq!(s[0].saving(), dec!(7.30));
    assert!(s[0]
        .action
        .contains("replace-route --region ap-northeast-2 --route-table-id rtb-c"));
    assert!(s[0].action.contains("--nat-gateway-id nat-c"));
}

#[test]
fn cross_az_route_without_a_local_nat_is_not_worth_a_new_one() {
    let all = scenarios(&cross_az_fixture(false));
    let s = only(&all, "fix-cross-az-route");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].monthly_after, FIXED);
    assert!(s[0].saving() < Decimal::ZERO);
}

#[test]
fn consolidating_two_nats_trades_hours_for_inter_az() {
    let mut f = Fixture::new();
    f.vpc("vpc-1")
        .subnet("s-a", "vpc-1", "ap-northeast-2a")
        .subnet("s-b", "vpc-1", "ap-northeast-2b")
        .nat("nat-a", "vpc-1", "ap-northeast-2a", 2.0)
        .nat("nat-b", "vpc-1", "ap-northeast-2b", 1.0)
        .route("rtb-a", "vpc-1", &["s-a"], "nat-a")
        .route("rtb-b", "vpc-1", &["s-b"], "nat-b")
        .eni("s-a", "vpc-1")
        .eni("s-b", "vpc-1");
    let all = scenarios(&f);
    let s = only(&all, "consolidate-nat");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].resource_id, "nat-b");
    // Removes nat-b's 46.72 of fixed cost; its 730 GB/month of client traffic crosses: × 2 × 0.01.
    assert_eq!(s[0].saving(), FIXED - dec!(14.60));
    assert_eq!(s[0].confidence, Confidence::Estimated);
    assert!(s[0].action.contains(
        "--route-table-id rtb-b --destination-cidr-block 0.0.0.0/0 --nat-gateway-id nat-a"
    ));
    // EC2 interfaces behind the NATs: the functions cannot simply leave the VPC.
    assert!(only(&all, "lambda-out-of-vpc").is_empty());
}

#[test]
fn lambda_only_vpc_can_drop_its_nat() {
    let mut f = Fixture::new();
    f.vpc("vpc-1")
        .subnet("s-a", "vpc-1", "ap-northeast-2a")
        .nat("nat-a", "vpc-1", "ap-northeast-2a", 1.0)
        .route("rtb-a", "vpc-1", &["s-a"], "nat-a")
        .lambda("fn-1", &["s-a"])
        .lambda("fn-2", &["s-a"]);
    let all = scenarios(&f);
    let s = only(&all, "lambda-out-of-vpc");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].monthly_before, FIXED + dec!(43.07));
    assert_eq!(s[0].monthly_after, Decimal::ZERO);
    assert!(s[0]
        .action
        .contains("--function-name fn-1 --vpc-config SubnetIds=[],SecurityGroupIds=[]"));
    assert!(s[0].action.contains("--function-name fn-2"));

    // S3/DynamoDB endpoints: missing, so each 10% of 43.07 of processing is 4.307.
    let s3 = only(&all, "s3-gateway-endpoint");
    assert_eq!(s3.len(), 1);
    assert_eq!(s3[0].saving(), dec!(4.307));
    assert_eq!(s3[0].confidence, Confidence::NeedsData);
    assert!(s3[0]
        .action
        .contains("--service-name com.amazonaws.ap-northeast-2.s3 --route-table-ids rtb-a"));
    assert_eq!(only(&all, "dynamodb-gateway-endpoint").len(), 1);

    // Interface endpoint: one AZ × 730 × 0.013 = 9.49/month; 10% (73 GB) × 0.049 = 3.577.
    let ie = only(&all, "interface-endpoint");
    assert_eq!(ie.len(), 1);
    assert_eq!(ie[0].saving(), dec!(3.577) - dec!(9.49));
    assert!(
        ie[0]
            .evidence
            .iter()
            .any(|e| e.contains("pays off above 193.67 GB/month")),
        "{:?}",
        ie[0].evidence
    );

    // NAT instance: 730 × 0.0052 + 8 × 0.0912 + 730 × 0.005, no processing fee.
    let ni = only(&all, "nat-instance");
    assert_eq!(ni[0].monthly_after, dec!(3.796) + dec!(0.7296) + dec!(3.65));

    // Ranked best first.
    let savings: Vec<Decimal> = all.iter().map(Scenario::saving).collect();
    assert!(savings.windows(2).all(|w| w[0] >= w[1]), "{savings:?}");
    assert_eq!(all[0].alternative, "lambda-out-of-vpc");
}

#[test]
fn associated_gateway_endpoint_is_not_suggested_again() {
    let mut f = Fixture::new();
    f.vpc("vpc-1")
        .subnet("s-a", "vpc-1", "ap-northeast-2a")
        .nat("nat-a", "vpc-1", "ap-northeast-2a", 1.0)
        .route("rtb-a", "vpc-1", &["s-a"], "nat-a")
        .route("rtb-b", "vpc-1", &[], "nat-a")
        .lambda("fn-1", &["s-a"]);
    f.r.vpc_endpoints.push(VpcEndpoint {
        vpc_endpoint_id: "vpce-s3".into(),
        vpc_id: "vpc-1".into(),
        vpc_endpoint_type: "Gateway".into(),
        service_name: "com.amazonaws.ap-northeast-2.s3".into(),
        state: "available".into(),
        route_table_ids: vec!["rtb-a".into()],
        subnet_ids: vec![],
    });
    let all = scenarios(&f);
    let s = only(&all, "s3-gateway-endpoint");
    assert_eq!(s.len(), 1, "rtb-b is not associated yet");
    assert!(s[0].action.contains("modify-vpc-endpoint --region ap-northeast-2 --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-b"));
    f.r.vpc_endpoints[0].route_table_ids.push("rtb-b".into());
    assert!(only(&scenarios(&f), "s3-gateway-endpoint").is_empty());
}

#[test]
fn two_vpcs_can_share_one_egress_vpc() {
    let mut f = Fixture::new();
    f.vpc("vpc-1")
        .vpc("vpc-2")
        .subnet("s-1", "vpc-1", "ap-northeast-2a")
        .subnet("s-2", "vpc-2", "ap-northeast-2a")
        .nat("nat-1", "vpc-1", "ap-northeast-2a", 2.0)
        .nat("nat-2", "vpc-2", "ap-northeast-2a", 1.0)
        .route("rtb-1", "vpc-1", &["s-1"], "nat-1")
        .route("rtb-2", "vpc-2", &["s-2"], "nat-2")
        .eni("s-1", "vpc-1")
        .eni("s-2", "vpc-2");
    let all = scenarios(&f);
    let s = only(&all, "centralized-egress-tgw");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].vpc_id, "vpc-1");
    // − nat-2's 46.72; + 2 attachments × 730 × 0.07 = 102.20; + 730 GB × 0.02 = 14.60.
    assert_eq!(s[0].saving(), FIXED - dec!(102.20) - dec!(14.60));
}

//! Each alternative on small hand-built snapshots whose numbers are worked out by hand.
//! Window: 240 h. A busy NAT gateway processes exactly 1 GiB an hour (0.1 from sources,
//! 0.9 from destinations), so 730 GB a month, in Seoul at 0.059 USD per hour and per GB.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::plan::{Changes, GatewayService, Key, RouteChange, RouteTo};
use super::*;
use crate::fixture::*;
use crate::price::model;
use crate::snapshot::*;

fn scenarios(f: &Fixture) -> Vec<Scenario> {
    let snap = f.snapshot();
    let book = PriceBook::bundled();
    let model = model::price(&snap, &book).unwrap();
    let all = advise(&Context::new(&snap, &book, &model, None)).unwrap();
    // What each scenario claims is what its effects do to the run-rate (to the cent).
    let baseline = plan::Baseline::new(&model);
    // (A scenario missing a metric states its worth per unit of the unknown instead.)
    for s in all.iter().filter(|s| s.missing_data.is_empty()) {
        let claimed = match &s.sensitivity {
            Some(x) => x.monthly_usd,
            None => s.saving(),
        };
        let by_effects = baseline.saving(&s.effects);
        assert!(
            (claimed - by_effects).abs() <= dec!(0.01),
            "{}: claims {claimed}, its effects save {by_effects}",
            s.id
        );
        assert_eq!(s.monthly_before, s.monthly_before.round_dp(2), "{}", s.id);
        assert_eq!(s.monthly_after, s.monthly_after.round_dp(2), "{}", s.id);
    }
    all
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
    let mut f = Fixture::two_functions(HOURS);
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
    assert_eq!(line.charge.quantity, Some(dec!(240)));
    assert_eq!(line.charge.cost, Some(dec!(2.40)));
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

/// One VPC, a NAT per AZ (nat-a twice as busy), an EC2 interface behind each.
fn two_nats_with_ec2_clients() -> Fixture {
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
    f
}

#[test]
fn consolidating_two_nats_trades_hours_for_inter_az() {
    let all = scenarios(&two_nats_with_ec2_clients());
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
        // A name may start with '-': given as --function-name=VALUE it cannot be read as an
        // option.
        .lambda("-fn-2", &["s-a"]);
    let all = scenarios(&f);
    let s = only(&all, "lambda-out-of-vpc");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].monthly_before, FIXED + dec!(43.07));
    assert_eq!(s[0].monthly_after, Decimal::ZERO);
    assert!(s[0]
        .action
        .contains("--function-name=fn-1 --vpc-config SubnetIds=[],SecurityGroupIds=[]"));
    assert!(s[0].action.contains("--function-name=-fn-2 --vpc-config"));
    assert!(!s[0].action.contains("--function-name -"));
    // Each function's update finishes before the NAT gateway is deleted.
    let at = |cmd: &str| s[0].action.find(cmd).unwrap();
    for f in ["fn-1", "-fn-2"] {
        let wait = at(&format!(
            "aws lambda wait function-updated-v2 --region ap-northeast-2 --function-name={f}"
        ));
        assert!(wait < at("aws ec2 delete-nat-gateway"));
    }
    // Releasing the address is named as final, with keeping the allocation as the other way.
    assert!(
        s[0].notes
            .iter()
            .any(|n| n.starts_with("release-address cannot be undone")
                && n.contains("3.65 USD/month"))
    );

    // S3/DynamoDB endpoints: missing and free, so a plan step before any measuring: it saves
    // at least 0 and at most all 43.07 of processing; each 10% of it is worth 4.31.
    let s3 = only(&all, "s3-gateway-endpoint");
    assert_eq!(s3.len(), 1);
    assert_eq!(s3[0].saving(), Decimal::ZERO);
    assert_eq!(s3[0].saving_up_to, Some(dec!(43.07)));
    assert_eq!(s3[0].tier, Tier::DoNow);
    assert!(s3[0].sensitivity.is_none());
    let evidence = s3[0].evidence.join("; ");
    assert!(evidence.starts_with("saves at least 0 and at most 43.07 USD/month"));
    assert!(
        evidence.contains("each 10% of that data processing which is S3 traffic saves 4.31 USD")
    );
    assert!(evidence.contains("aws ec2 create-flow-logs"));
    assert!(evidence.contains("for 7 days"));
    assert!(s3[0].risk.contains("aws:SourceIp"));
    assert!(s3[0]
        .risk
        .contains("another region is still reached through the NAT gateway"));
    assert_eq!(s3[0].confidence, Confidence::NeedsData);
    assert!(s3[0]
        .action
        .contains("--service-name com.amazonaws.ap-northeast-2.s3 --route-table-ids rtb-a"));
    assert_eq!(only(&all, "dynamodb-gateway-endpoint").len(), 1);

    // Interface endpoint: one AZ × 730 × 0.013 = 9.49/month; 10% (73 GB) × 0.049 = 3.577.
    let ie = only(&all, "interface-endpoint");
    assert_eq!(ie.len(), 1);
    assert_eq!(
        ie[0].sensitivity.as_ref().unwrap().monthly_usd,
        (dec!(3.577) - dec!(9.49)).round_dp(2)
    );
    // Only Lambda functions use this NAT: Lambda ships logs and pulls images elsewhere.
    assert_eq!(
        ie[0].notes,
        ["set SERVICE to the service the flow logs show most bytes to (candidates: sqs, sts, secretsmanager, kms, sns)"]
    );
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
    assert_eq!(
        ni[0].monthly_after,
        (dec!(3.796) + dec!(0.7296) + dec!(3.65)).round_dp(2)
    );

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
    f.s3_endpoint_on("rtb-a");
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

fn plan_of(f: &Fixture) -> (Vec<Scenario>, Plan) {
    let snap = f.snapshot();
    let book = PriceBook::bundled();
    let model = model::price(&snap, &book).unwrap();
    let mut all = advise(&Context::new(&snap, &book, &model, None)).unwrap();
    let plan = plan::choose(&mut all, &plan::Baseline::new(&model));
    (all, plan)
}

#[test]
fn deleting_a_nat_waits_then_releases_its_address() {
    let mut f = Fixture::new();
    f.vpc("vpc-1").nat("nat-idle", "vpc-1", "a", 0.0);
    let all = scenarios(&f);
    let s = only(&all, "delete-idle-nat")[0];
    let steps: Vec<&str> = s.action.split(" && ").collect();
    assert_eq!(
        steps,
        [
            "aws ec2 delete-nat-gateway --region ap-northeast-2 --nat-gateway-id nat-idle",
            "aws ec2 wait nat-gateway-deleted --region ap-northeast-2 --nat-gateway-ids nat-idle",
            "aws ec2 release-address --region ap-northeast-2 --allocation-id eipalloc-nat-idle",
        ]
    );
    assert_eq!(s.changes.addresses_released, ["eipalloc-nat-idle"]);
    // Without an allocation id natcost cannot release the address: it stays billed.
    f.r.nat_gateways[0].addresses[0].allocation_id = None;
    let all = scenarios(&f);
    let s = only(&all, "delete-idle-nat")[0];
    assert!(!s.action.contains("release-address"));
    // 730 h × 0.005 of public IPv4 stays.
    assert_eq!(s.monthly_after, dec!(3.65));
    assert_eq!(s.saving(), FIXED - dec!(3.65));
}

#[test]
fn consolidation_releases_the_removed_nats_address() {
    let all = scenarios(&two_nats_with_ec2_clients());
    let s = only(&all, "consolidate-nat")[0];
    let steps: Vec<&str> = s.action.split(" && ").collect();
    assert!(steps[0].starts_with("aws ec2 replace-route"));
    assert!(steps[2].contains("wait nat-gateway-deleted"));
    assert!(
        steps[3].contains("release-address --region ap-northeast-2 --allocation-id eipalloc-nat-b")
    );
    assert_eq!(s.changes.relies_on, [Key::Nat("nat-a".into())]);
}

#[test]
fn missing_client_bytes_make_inter_az_scenarios_needs_data() {
    let mut f = cross_az_fixture(true);
    f.r.metrics
        .retain(|m| !(m.nat_gateway_id == "nat-a" && m.metric_name == "BytesOutToSource"));
    let snap = f.snapshot();
    let m = model::price(&snap, &PriceBook::bundled()).unwrap();
    assert!(
        m.warnings
            .iter()
            .any(|w| w.contains("nat-a") && w.contains("BytesOutToSource")),
        "{:?}",
        m.warnings
    );
    assert_eq!(m.nats[0].crossing_bytes, None);
    let all = scenarios(&f);
    let s = only(&all, "fix-cross-az-route")[0];
    assert_eq!(s.confidence, Confidence::NeedsData);
    assert_eq!(s.tier, Tier::MeasureFirst);
    assert_eq!(s.saving(), Decimal::ZERO);
    assert_eq!(
        s.missing_data,
        ["BytesInFromSource/BytesOutToSource of nat-a"]
    );
    // Per GB a month: 2 directions × 0.01.
    assert_eq!(s.sensitivity.as_ref().unwrap().monthly_usd, dec!(0.02));
}

#[test]
fn missing_metrics_are_never_zero() {
    let mut f = Fixture::new();
    f.vpc("vpc-1")
        .subnet("s-a", "vpc-1", "ap-northeast-2a")
        .nat("nat-a", "vpc-1", "ap-northeast-2a", 1.0)
        .nat("nat-q", "vpc-1", "ap-northeast-2a", 0.0)
        .route("rtb-a", "vpc-1", &["s-a"], "nat-a")
        .route("rtb-q", "vpc-1", &[], "nat-q")
        .lambda("fn-1", &["s-a"]);
    f.r.metrics.retain(|m| {
        let bytes_of_a = m.nat_gateway_id == "nat-a" && m.metric_name.starts_with("BytesIn");
        let attempts_of_q =
            m.nat_gateway_id == "nat-q" && m.metric_name == "ConnectionAttemptCount";
        !(bytes_of_a || attempts_of_q)
    });
    let all = scenarios(&f);
    // NAT instance without byte metrics: cannot be sized, high risk, measure first.
    let ni = only(&all, "nat-instance");
    let a = ni.iter().find(|s| s.resource_id == "nat-a").unwrap();
    assert_eq!(a.tier, Tier::MeasureFirst);
    assert_eq!(a.risk_level, RiskLevel::High);
    assert!(a.evidence.iter().all(|e| !e.contains("0.0 Mbit/s")));
    // A routed, silent NAT whose ConnectionAttemptCount is missing is not "0 connection attempts".
    let q = only(&all, "delete-idle-nat");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].resource_id, "nat-q");
    assert_eq!(q[0].tier, Tier::MeasureFirst);
    assert!(q[0]
        .evidence
        .iter()
        .all(|e| !e.contains("0 connection attempts")));
    assert_eq!(q[0].missing_data, ["ConnectionAttemptCount of nat-q"]);
}

#[test]
fn cross_az_route_never_goes_to_a_private_nat() {
    let mut f = cross_az_fixture(true);
    f.r.nat_gateways[1].connectivity_type = "private".into();
    let all = scenarios(&f);
    let s = only(&all, "fix-cross-az-route")[0];
    assert!(!s.action.contains("--nat-gateway-id nat-c"), "{}", s.action);
    assert!(s.action.contains("create-nat-gateway"));
    assert!(s.changes.nats_added == ["vpc-1 ap-northeast-2c"]);
}

#[test]
fn a_new_route_table_copies_routes_and_gateway_endpoints() {
    let mut f = cross_az_fixture(true);
    // s-c shares rtb-a with s-a (in another AZ): the fix needs a table of its own.
    f.r.route_tables.retain(|t| t.route_table_id != "rtb-c");
    f.r.route_tables[0].subnet_ids.push("s-c".into());
    f.r.route_tables[0].routes.push(Route {
        destination: "10.9.0.0/16".into(),
        target_type: TargetType::TransitGateway,
        target_id: "tgw-1".into(),
        state: None,
    });
    f.r.route_tables[0].routes.push(Route {
        destination: "pl-78a54011".into(),
        target_type: TargetType::VpcEndpoint,
        target_id: "vpce-s3".into(),
        state: None,
    });
    f.s3_endpoint_on("rtb-a");
    let all = scenarios(&f);
    let s = only(&all, "fix-cross-az-route")[0];
    let steps: Vec<&str> = s.action.split(" && ").collect();
    let r = "--region ap-northeast-2";
    assert_eq!(
        steps,
        [
            format!("RTB=$(aws ec2 create-route-table {r} --vpc-id vpc-1 --query RouteTable.RouteTableId --output text)"),
            format!("aws ec2 create-route {r} --route-table-id \"$RTB\" --destination-cidr-block 0.0.0.0/0 --nat-gateway-id nat-c"),
            format!("aws ec2 create-route {r} --route-table-id \"$RTB\" --destination-cidr-block 10.9.0.0/16 --transit-gateway-id tgw-1"),
            format!("for E in $(aws ec2 describe-vpc-endpoints {r} --filters Name=vpc-id,Values=vpc-1 Name=vpc-endpoint-type,Values=Gateway --query \"VpcEndpoints[?contains(RouteTableIds, 'rtb-a')].VpcEndpointId\" --output text); do aws ec2 modify-vpc-endpoint {r} --vpc-endpoint-id \"$E\" --add-route-table-ids \"$RTB\"; done"),
            format!("ASSOC=$(aws ec2 describe-route-tables {r} --filters Name=association.subnet-id,Values=s-c --query \"RouteTables[0].Associations[?SubnetId=='s-c'].RouteTableAssociationId\" --output text)"),
            format!("aws ec2 replace-route-table-association {r} --association-id \"$ASSOC\" --route-table-id \"$RTB\""),
        ]
    );
    assert_eq!(
        s.changes.routes_changed,
        [plan::RouteChange::association("s-c")]
    );
    // It relies on the NAT it moves to, not on rtb-a's endpoints: joining them is an order.
    assert_eq!(s.changes.relies_on, [Key::Nat("nat-c".into())]);
}

#[test]
fn aws_idle_rule_and_near_idle() {
    let mut f = Fixture::new();
    f.hours = 33 * 24;
    f.vpc("vpc-1")
        .subnet("s-a", "vpc-1", "ap-northeast-2a")
        .subnet("s-b", "vpc-1", "ap-northeast-2b")
        .nat("nat-idle", "vpc-1", "ap-northeast-2a", 0.0)
        .nat("nat-busy", "vpc-1", "ap-northeast-2a", 1.0)
        // 0.01 GiB an hour = 0.24 GB a day, 100 attempts an hour... made quiet below.
        .nat("nat-quiet", "vpc-1", "ap-northeast-2b", 0.01)
        .route("rtb-a", "vpc-1", &["s-a"], "nat-busy")
        .route("rtb-b", "vpc-1", &["s-b"], "nat-quiet")
        .lambda("fn-a", &["s-a"])
        .lambda("fn-b", &["s-b"]);
    for m in
        f.r.metrics.iter_mut().filter(|m| {
            m.nat_gateway_id == "nat-quiet" && m.metric_name == "ConnectionAttemptCount"
        })
    {
        m.values = vec![Some(2.0); f.hours].into();
    }
    let (all, plan) = plan_of(&f);
    let idle = all
        .iter()
        .find(|s| s.id == "delete-idle-nat:nat-idle")
        .unwrap();
    assert!(idle
        .evidence
        .iter()
        .any(|e| e.contains("AWS Compute Optimizer would flag it too")));
    assert_eq!(idle.tier, Tier::DoNow);
    let quiet = all
        .iter()
        .find(|s| s.id == "delete-idle-nat:nat-quiet")
        .unwrap();
    // 0.24 GB and 48 connection attempts a day: near-idle; nat-busy takes its traffic.
    assert!(
        quiet.evidence[0].starts_with("near-idle: 0.24 GB and 48 connection attempts a day"),
        "{}",
        quiet.evidence[0]
    );
    assert_eq!(quiet.tier, Tier::Consider);
    assert!(quiet.action.starts_with(
        "aws ec2 replace-route --region ap-northeast-2 --route-table-id rtb-b --destination-cidr-block 0.0.0.0/0 --nat-gateway-id nat-busy"
    ));
    // Its hours and address go (46.72); its 0.01 GiB/h of client traffic (in from and out to
    // its clients) now crosses AZs: 7.3 GB/month × 2 × 0.01 = 0.146.
    assert_eq!(quiet.saving(), FIXED - dec!(0.15));
    // The free gateway endpoints join the plan with a saving range.
    assert_eq!(
        plan.steps,
        [
            "delete-idle-nat:nat-idle",
            "dynamodb-gateway-endpoint:vpc-1",
            "s3-gateway-endpoint:vpc-1"
        ]
    );
    assert_eq!(quiet.saving_after_plan, Some(quiet.saving()));
}

#[test]
fn the_plan_is_conflict_free_and_priced_on_the_combined_state() {
    let snap = Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
    let book = PriceBook::bundled();
    let model = model::price(&snap, &book).unwrap();
    let mut all = advise(&Context::new(&snap, &book, &model, None)).unwrap();
    let baseline = plan::Baseline::new(&model);
    let plan = plan::choose(&mut all, &baseline);
    let steps: Vec<&Scenario> = plan
        .steps
        .iter()
        .map(|id| all.iter().find(|s| s.id == *id).unwrap())
        .collect();
    for a in &steps {
        assert_eq!(a.tier, Tier::DoNow);
        assert!(a.in_plan);
        for b in &steps {
            if a.id != b.id {
                assert!(!a.changes.conflicts(&b.changes), "{} vs {}", a.id, b.id);
                assert!(!a.conflicts_with.contains(&b.id));
            }
        }
    }
    // The idle NAT goes, then the free gateway endpoints (a range until measured: the most is
    // the VPC's data processing, prod's first); the cross-AZ fix that would route data-app-b
    // to the idle NAT does not.
    assert_eq!(
        plan.steps,
        [
            "delete-idle-nat:nat-0e418c5659b016c21",
            "dynamodb-gateway-endpoint:vpc-0dc83bf6145e8900b",
            "s3-gateway-endpoint:vpc-0dc83bf6145e8900b",
            "dynamodb-gateway-endpoint:vpc-05beb0ddc91327383",
            "s3-gateway-endpoint:vpc-05beb0ddc91327383",
            "dynamodb-gateway-endpoint:vpc-04d229620e2e9c623",
            "fix-cross-az-route:subnet-07e6178e288b16f3d"
        ]
    );
    let reroute = all
        .iter()
        .find(|s| s.id == "fix-cross-az-route:subnet-04d536b62607417d7")
        .unwrap();
    assert!(!reroute.in_plan);
    // Instead of step 1 (the idle NAT it would route to): both figures, and a difference that
    // is theirs.
    let x = reroute.instead_of.as_ref().unwrap();
    assert_eq!(
        (x.steps.as_slice(), x.steps_saving),
        (&[1][..], dec!(46.72))
    );
    assert_eq!(x.plan_change, reroute.saving() - dec!(46.72));
    assert!(reroute
        .conflicts_with
        .contains(&"delete-idle-nat:nat-0e418c5659b016c21".to_string()));
    // before − after on the state after both steps, and the steps' savings add up to it.
    let effects: Vec<&Effect> = steps.iter().flat_map(|s| &s.effects).collect();
    // Today's run-rate: the NAT gateways' 696.23 and the address the deleted one left, 3.65.
    assert_eq!(
        model
            .nats
            .iter()
            .map(|n| n.monthly())
            .sum::<Decimal>()
            .round_dp(2),
        dec!(696.23)
    );
    assert_eq!(plan.monthly_before, dec!(699.88));
    assert_eq!(
        plan.monthly_after,
        (baseline.total - baseline.saving(effects.iter().copied())).round_dp(2)
    );
    assert_eq!(
        plan.monthly_saving,
        plan.monthly_before - plan.monthly_after
    );
    assert_eq!(plan.monthly_saving, dec!(59.95));
    assert_eq!(
        plan.step_savings.iter().copied().sum::<Decimal>(),
        plan.monthly_saving
    );
    // At most: every range at its most, the data processing of each NAT counted once (S3 and
    // DynamoDB cannot both be all of it): prod 280.28 + data 95.80 + staging 11.65.
    let most: Decimal = [dec!(280.28), dec!(95.80), dec!(11.65)].iter().sum();
    assert_eq!(plan.monthly_saving_up_to, Some(dec!(59.95) + most));
    // The idle NAT appears once, as a deletion to do: no alternative replaces or consolidates
    // away a NAT no route sends to (that would change nothing the deletion does not).
    for id in [
        "consolidate-nat:nat-0e418c5659b016c21",
        "nat-instance:nat-0e418c5659b016c21",
    ] {
        assert!(all.iter().all(|s| s.id != id), "{id}");
    }
    // A riskier scenario that undoes a step is shown instead of it, with both figures and what
    // the swap does to the plan, priced on the combined state; one that touches no step is on
    // top of it.
    let by_id = |id: &str| all.iter().find(|s| s.id == id).unwrap();
    let instance = by_id("nat-instance:nat-06ebdc8d8040594de");
    let step = plan
        .steps
        .iter()
        .position(|s| s == "fix-cross-az-route:subnet-07e6178e288b16f3d")
        .unwrap();
    let x = instance.instead_of.as_ref().unwrap();
    assert_eq!(x.steps, [step + 1]);
    assert_eq!(x.steps_saving, plan.step_savings[step]);
    let swapped = steps
        .iter()
        .filter(|s| s.id != plan.steps[step])
        .flat_map(|s| &s.effects)
        .chain(&instance.effects);
    // The figures shown add up (nothing else is shared with the kept steps), and they are the
    // swap priced on the combined state, to the cent.
    assert_eq!(x.plan_change, instance.saving() - x.steps_saving);
    let priced = baseline.saving(swapped) - baseline.saving(steps.iter().flat_map(|s| &s.effects));
    assert!((x.plan_change - priced).abs() <= dec!(0.01), "{priced}");
    assert!(
        x.plan_change < instance.saving(),
        "the swap gives up the step"
    );
    assert_eq!(instance.saving_after_plan, None);
    // A regional NAT gateway in prod is configured in its three AZs, as many gateway-hours
    // and addresses as its three zonal ones: it saves the inter-AZ charge it removes, which
    // is what step 7 saves, and says so.
    let regional = by_id("regional-nat:vpc-0dc83bf6145e8900b");
    assert_eq!(regional.tier, Tier::Consider);
    assert_eq!(regional.saving(), plan.step_savings[step]);
    let x = regional.instead_of.as_ref().unwrap();
    assert_eq!(
        (x.steps.as_slice(), x.plan_change),
        (&[step + 1][..], Decimal::ZERO)
    );
    assert!(regional.evidence.join("; ").contains("the two conflict"));
    // The address data-migration-nat left behind is priced and its release offered, with
    // what cannot be undone as the risk.
    let [idle] = model.idle_addresses.as_slice() else {
        panic!("{:?}", model.idle_addresses)
    };
    assert_eq!(idle.left_by.as_deref(), Some("nat-09694b4ddfed96da5"));
    assert_eq!(idle.run_rate.usage_type, "APN2-PublicIPv4:IdleAddress");
    assert_eq!(
        (idle.run_rate.quantity, idle.run_rate.cost),
        (Some(dec!(730)), Some(dec!(3.65)))
    );
    let release = by_id(&format!("release-idle-address:{}", idle.allocation_id));
    assert_eq!(
        (release.tier, release.saving()),
        (Tier::Consider, dec!(3.65))
    );
    assert_eq!(release.saving_after_plan, Some(dec!(3.65)));
    assert_eq!(
        release.action,
        format!(
            "aws ec2 release-address --region ap-northeast-2 --allocation-id {}",
            idle.allocation_id
        )
    );
    assert!(release.risk.contains("cannot be recovered"));
    assert!(release.risk.contains("allowlist"));
    let untouched = by_id("nat-instance:nat-0936369b201aa107f");
    assert_eq!(untouched.instead_of, None);
    assert_eq!(untouched.saving_after_plan, Some(untouched.saving()));
    // prod already has a flow log (ALL traffic, to S3): measuring is reading it, not creating
    // new ones; data has none.
    let evidence = |id: &str| all.iter().find(|s| s.id == id).unwrap().evidence.join("; ");
    let prod = evidence("s3-gateway-endpoint:vpc-0dc83bf6145e8900b");
    assert!(prod.contains("fl-005bab700399ef826 on vpc-0dc83bf6145e8900b (ALL traffic, to s3)"));
    assert!(prod.contains("natcost report --flow-logs auto"));
    assert!(!prod.contains("create-flow-logs"), "{prod}");
    assert!(evidence("s3-gateway-endpoint:vpc-05beb0ddc91327383").contains("create-flow-logs"));
}

#[test]
fn overlapping_effects_count_once() {
    let lines = [
        ("nat-1", model::Component::NatHours, dec!(43.07)),
        ("nat-1", model::Component::NatBytes, dec!(10)),
    ];
    let b = plan::Baseline::from_lines(lines.iter().map(|(n, c, v)| (n.to_string(), *c, *v)));
    let drop = Effect::drop("nat-1", model::Component::NatBytes);
    let cut = Effect::cut("nat-1", model::Component::NatBytes, dec!(4));
    let cut_more = Effect::cut("nat-1", model::Component::NatBytes, dec!(8));
    let add = Effect::add("vpce:vpc-1:sqs", dec!(1));
    assert_eq!(b.saving([&cut]), dec!(4));
    // Dropped and cut: the line is saved once.
    assert_eq!(b.saving([&drop, &cut]), dec!(10));
    // Cuts never take a line below zero.
    assert_eq!(b.saving([&cut, &cut_more]), dec!(10));
    // The same addition counts once.
    assert_eq!(b.saving([&cut, &add, &add]), dec!(3));
}

fn stub(id: &str, saving: Decimal, changes: Changes, effects: Vec<Effect>) -> Scenario {
    Scenario {
        id: id.into(),
        monthly_before: saving,
        monthly_after: Decimal::ZERO,
        changes,
        effects,
        ..Scenario::new(
            &delete_idle_nat::DeleteIdleNat,
            "ap-northeast-2",
            "vpc-1",
            id.into(),
            Confidence::Measured,
            RiskLevel::Low,
        )
    }
}

#[test]
fn conflicts_and_the_best_conflict_free_set() {
    // A changes what B and C rely on; B and C can be done together and save more than A.
    let nat = |n: &str| Changes {
        nats_deleted: vec![n.into()],
        ..Default::default()
    };
    let relies = |n: &str| Changes {
        relies_on: vec![Key::Nat(n.to_string())],
        routes_changed: vec![RouteChange::route(
            &format!("rtb-{n}"),
            RouteTo::DefaultIpv4,
        )],
        ..Default::default()
    };
    let h = model::Component::NatHours;
    let b = plan::Baseline::from_lines(
        [("nat-x", dec!(10)), ("nat-y", dec!(7)), ("nat-z", dec!(6))]
            .iter()
            .map(|(n, v)| (n.to_string(), h, *v)),
    );
    let mut all = vec![
        stub("a", dec!(10), nat("nat-x"), vec![Effect::drop("nat-x", h)]),
        stub(
            "b",
            dec!(7),
            relies("nat-x"),
            vec![Effect::drop("nat-y", h)],
        ),
        stub(
            "c",
            dec!(6),
            Changes {
                relies_on: vec![Key::Nat("nat-x".into())],
                ..Default::default()
            },
            vec![Effect::drop("nat-z", h)],
        ),
    ];
    assert!(all[0].changes.conflicts(&all[1].changes));
    assert!(!all[1].changes.conflicts(&all[2].changes));
    let plan = plan::choose(&mut all, &b);
    assert_eq!(plan.steps, ["b", "c"]);
    assert_eq!(plan.monthly_saving, dec!(13));
    assert_eq!(all[0].conflicts_with, ["b", "c"]);
    // Changing the same route is a conflict too.
    assert!(!relies("nat-1").conflicts(&relies("nat-2")));
    let same_route = Changes {
        routes_changed: vec![RouteChange::route("rtb-1", RouteTo::DefaultIpv4)],
        ..Default::default()
    };
    assert!(same_route.conflicts(&same_route.clone()));
}

#[test]
fn two_gateway_endpoints_in_one_table_do_not_conflict() {
    let endpoint = |service| Changes {
        endpoints_added: vec![format!("vpc-1 {}", GatewayService::name(service))],
        routes_changed: vec![RouteChange::route("rtb-1", RouteTo::Gateway(service))],
        ..Default::default()
    };
    let (s3, ddb) = (
        endpoint(GatewayService::S3),
        endpoint(GatewayService::DynamoDb),
    );
    assert!(!s3.conflicts(&ddb));
    assert!(s3.conflicts(&s3.clone()));
    // The default route of the same table is another route.
    let default_route = Changes {
        routes_changed: vec![RouteChange::route("rtb-1", RouteTo::DefaultIpv4)],
        ..Default::default()
    };
    assert!(!default_route.conflicts(&s3));
    assert_eq!(
        serde_json::to_string(&s3.routes_changed).unwrap(),
        r#"["rtb-1 s3 prefix list"]"#
    );
}

/// vpc-1 with nat-a in 2a (1 GiB an hour), used by fn-a in s-a.
fn one_busy_nat() -> Fixture {
    let mut f = Fixture::new();
    f.vpc("vpc-1")
        .subnet("s-a", "vpc-1", "ap-northeast-2a")
        .nat("nat-a", "vpc-1", "ap-northeast-2a", 1.0)
        .route("rtb-a", "vpc-1", &["s-a"], "nat-a")
        .lambda("fn-a", &["s-a"]);
    f
}

/// One NAT in 2a with hourly Maximum and SampleCount series: every hour's largest datapoints
/// are 30 MB from sources and 120 MB from destinations.
fn sized_nat(samples_per_hour: f64) -> Fixture {
    let mut f = one_busy_nat();
    let hours = f.hours;
    let series = |name: &str, stat: &str, v: f64| MetricSeries {
        nat_gateway_id: "nat-a".into(),
        metric_name: name.into(),
        statistic: stat.into(),
        period_seconds: 3600,
        values: vec![Some(v); hours].into(),
    };
    f.r.metrics.extend([
        series("BytesInFromSource", "Maximum", 30e6),
        series("BytesInFromDestination", "Maximum", 120e6),
        series("BytesInFromSource", "SampleCount", samples_per_hour),
    ]);
    f
}

fn added(s: &Scenario) -> Decimal {
    s.effects
        .iter()
        .map(|e| match e {
            Effect::Add { usd, .. } => *usd,
            _ => Decimal::ZERO,
        })
        .sum()
}

#[test]
fn nat_instance_is_sized_from_the_busiest_minute() {
    let f = sized_nat(60.0);
    let all = scenarios(&f);
    let s = only(&all, "nat-instance")[0];
    // 150 MB in a minute = 20 Mbit/s; 2× headroom needs 40: t4g.nano (32) is too small,
    // t4g.micro (64) fits. 730 h × 2 × 0.0052 + 8 GB × 0.0912 = 7.592 + 0.7296.
    assert_eq!(added(s), dec!(8.3216));
    // It replaces a NAT gateway that carries traffic: high risk however well it is sized.
    assert_eq!(s.risk_level, RiskLevel::High);
    assert!(s.risk.starts_with("replaces a NAT gateway in production"));
    // Routes switch only once the instance passes its status checks; the NAT's address moves
    // after the NAT gateway is deleted, and the minutes between are named.
    let at = |cmd: &str| {
        s.action
            .find(cmd)
            .unwrap_or_else(|| panic!("{cmd}: {}", s.action))
    };
    assert!(at("aws ec2 wait instance-status-ok") < at("aws ec2 replace-route"));
    assert!(at("aws ec2 wait nat-gateway-deleted") < at("aws ec2 associate-address"));
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("temporary public address")),
        "{:?}",
        s.notes
    );
    assert!(
        s.action.contains("--instance-type t4g.micro "),
        "{}",
        s.action
    );
    let text = s.evidence.join("; ");
    assert!(text.contains("busiest minute 20.0 Mbit/s"), "{text}");
    assert!(text.contains("SampleCount ≤ 60"), "{text}");
    assert!(text.contains("CPU credits"), "{text}");
    // 1 GiB an hour averages 2.4 Mbit/s: the old busiest-hour sizing would have said nano.
}

#[test]
fn nat_instance_uses_minute_sums_when_datapoints_are_denser() {
    // Only the last hour had more than 60 datapoints; the collector read its minutes.
    let mut f = sized_nat(60.0);
    let hours = f.hours;
    for m in
        f.r.metrics
            .iter_mut()
            .filter(|m| m.statistic == "SampleCount")
    {
        m.values.set(hours - 1, Some(120.0));
    }
    let (name, stat) = BUSIEST_MINUTE;
    let mut values = vec![None; hours];
    values[hours - 1] = Some(600e6);
    f.r.metrics.push(MetricSeries {
        nat_gateway_id: "nat-a".into(),
        metric_name: name.into(),
        statistic: stat.into(),
        period_seconds: 3600,
        values: values.into(),
    });
    let all = scenarios(&f);
    let s = only(&all, "nat-instance")[0];
    // 600 MB a minute = 80 Mbit/s; needs 160: t4g.medium (256) at 8 × 0.0052 an hour.
    assert!(
        s.action.contains("--instance-type t4g.medium "),
        "{}",
        s.action
    );
    assert_eq!(added(s), dec!(730) * dec!(0.0416) + dec!(0.7296));
    assert!(s.evidence.join("; ").contains("1-minute Sums"));

    // Denser datapoints and no minute sums (older than CloudWatch's 15 days of them): the
    // busiest minute is unknown, so risk is high.
    let f = sized_nat(120.0);
    let all = scenarios(&f);
    let s = only(&all, "nat-instance")[0];
    assert_eq!(s.risk_level, RiskLevel::High);
    assert!(s.evidence.join("; ").contains("busiest minute unknown"));
}

#[test]
fn nat_instance_risk_is_high_when_nothing_fits_or_data_is_missing() {
    let mut f = sized_nat(60.0);
    for m in f.r.metrics.iter_mut().filter(|m| m.statistic == "Maximum") {
        m.values = vec![Some(10e9); m.values.len()].into();
    }
    let all = scenarios(&f);
    let s = only(&all, "nat-instance")[0];
    // 20 GB a minute is 2,667 Mbit/s: beyond t4g.2xlarge's 2,048 even without headroom.
    assert_eq!(s.risk_level, RiskLevel::High);
    assert!(s.risk.contains("no T4g size covers"), "{}", s.risk);

    // A snapshot from before sizing: no Maximum/SampleCount series at all.
    let mut f = sized_nat(60.0);
    f.r.metrics
        .retain(|m| m.statistic != "Maximum" && m.statistic != "SampleCount");
    let all = scenarios(&f);
    let s = only(&all, "nat-instance")[0];
    assert_eq!(s.risk_level, RiskLevel::High);
    assert_eq!(s.tier, Tier::Consider);
}

#[test]
fn nat_instance_goes_in_every_az_with_clients() {
    let mut f = sized_nat(60.0);
    f.subnet("s-b", "vpc-1", "ap-northeast-2b")
        .route("rtb-b", "vpc-1", &["s-b"], "nat-a")
        .lambda("fn-b", &["s-b"]);
    let all = scenarios(&f);
    let s = only(&all, "nat-instance")[0];
    // Two t4g.micro, two volumes, and one more public address: 730 h × 0.005.
    assert_eq!(added(s), dec!(2) * dec!(8.3216) + dec!(3.65));
    assert!(s.action.contains(
        "--route-table-id rtb-a --destination-cidr-block 0.0.0.0/0 --instance-id \"$INSTANCE_A\""
    ));
    assert!(s.action.contains(
        "--route-table-id rtb-b --destination-cidr-block 0.0.0.0/0 --instance-id \"$INSTANCE_B\""
    ));
    // No client crosses an AZ any more: the inter-AZ line goes too.
    assert!(s.effects.iter().any(|e| matches!(
        e,
        Effect::Drop {
            component: Component::InterAz,
            ..
        }
    )));
    assert!(s.evidence.join("; ").contains("new egress IPs"));
    // The second AZ's instance gets an Elastic IP of its own before its route switches.
    let at = |cmd: &str| {
        s.action
            .find(cmd)
            .unwrap_or_else(|| panic!("{cmd}: {}", s.action))
    };
    assert!(
        at("EIP_B=$(aws ec2 allocate-address --region ap-northeast-2 --domain vpc")
            < at("--route-table-id rtb-b")
    );
    assert!(s.action.contains(
        "aws ec2 associate-address --region ap-northeast-2 --allocation-id \"$EIP_B\" --instance-id \"$INSTANCE_B\""
    ));
}

#[test]
fn lambda_out_of_vpc_is_judged_on_the_whole_vpc() {
    let mut f = Fixture::new();
    f.vpc("vpc-1")
        .subnet("s-a", "vpc-1", "ap-northeast-2a")
        .subnet("s-db", "vpc-1", "ap-northeast-2a")
        .nat("nat-a", "vpc-1", "ap-northeast-2a", 1.0)
        .route("rtb-a", "vpc-1", &["s-a"], "nat-a")
        .lambda("fn-1", &["s-a"]);
    // The NAT's own interface and an endpoint's are no private resource.
    f.r.nat_gateways[0].addresses[0].network_interface_id = Some("eni-nat".into());
    for (id, kind, subnet) in [
        ("eni-nat", "interface", "public-ap-northeast-2a"),
        ("eni-vpce", "vpc_endpoint", "s-a"),
    ] {
        f.r.network_interfaces.push(NetworkInterface {
            network_interface_id: id.into(),
            interface_type: kind.into(),
            subnet_id: subnet.into(),
            vpc_id: "vpc-1".into(),
            ..Default::default()
        });
    }
    let all = scenarios(&f);
    let s = only(&all, "lambda-out-of-vpc")[0];
    assert_eq!(s.tier, Tier::Consider);
    assert!(s.evidence.join("; ").contains("nothing but Lambda"));

    // An RDS instance in a subnet no NAT route reaches: the functions may call it.
    f.r.network_interfaces.push(NetworkInterface {
        network_interface_id: "eni-rds".into(),
        interface_type: "interface".into(),
        description: Some("RDSNetworkInterface".into()),
        subnet_id: "s-db".into(),
        vpc_id: "vpc-1".into(),
        private_ip_address: Some("10.0.9.4".into()),
        ..Default::default()
    });
    // And a gateway endpoint, whose id bucket policies may match.
    f.s3_endpoint_on("rtb-a");
    let all = scenarios(&f);
    let s = only(&all, "lambda-out-of-vpc")[0];
    assert_eq!(s.tier, Tier::MeasureFirst);
    assert_eq!(s.risk_level, RiskLevel::High);
    assert_eq!(s.saving(), Decimal::ZERO);
    assert!(
        s.risk.contains("eni-rds (RDSNetworkInterface, 10.0.9.4)"),
        "{}",
        s.risk
    );
    assert!(s.risk.contains("aws:SourceVpce (vpce-s3)"), "{}", s.risk);
    assert!(s.risk.contains("partners may allowlist"), "{}", s.risk);
    let sens = s.sensitivity.as_ref().unwrap();
    // What it is worth if the functions never call the database: the NAT's whole cost.
    assert_eq!(sens.monthly_usd, FIXED + dec!(43.07));
    assert!(sens.how_to_measure.contains("10.0.9.4"));

    // A snapshot that kept only the interfaces in NAT-routed subnets cannot say what else
    // lives in the VPC: measure first, even with no other interface in sight.
    f.r.network_interfaces
        .retain(|e| e.network_interface_id != "eni-rds");
    f.r.network_interfaces_scope = None;
    let all = scenarios(&f);
    let s = only(&all, "lambda-out-of-vpc")[0];
    assert_eq!(s.tier, Tier::MeasureFirst);
    assert!(s
        .evidence
        .join("; ")
        .contains("does not hold every network interface"));
}

#[test]
fn a_regional_nat_is_billed_per_active_az_and_never_cross_az() {
    let mut f = cross_az_fixture(false);
    let nat = &mut f.r.nat_gateways[0];
    nat.availability_mode = Some("regional".into());
    nat.subnet_id = String::new();
    nat.availability_zone = String::new();
    nat.addresses = ["ap-northeast-2a", "ap-northeast-2c"]
        .iter()
        .enumerate()
        .map(|(i, az)| NatAddress {
            allocation_id: Some(format!("eipalloc-{i}")),
            public_ip: Some(format!("3.38.0.{i}")),
            availability_zone: Some(az.to_string()),
            ..Default::default()
        })
        .collect();
    let snap = f.snapshot();
    let m = model::price(&snap, &PriceBook::bundled()).unwrap();
    let n = &m.nats[0];
    assert_eq!(n.availability_zone, "regional");
    assert_eq!(n.active_azs, 2);
    let line = |ut: &str| {
        n.lines
            .iter()
            .find(|l| l.charge.usage_type == ut)
            .unwrap_or_else(|| panic!("{ut}"))
            .charge
            .clone()
    };
    // 240 h in each of 2 AZs at 0.059; 240 GiB at 0.059; two addresses; no inter-AZ line
    // although s-c (2c) routes to it.
    let hours = line("APN2-RegionalNatGateway-Hours");
    assert_eq!(
        (hours.quantity, hours.cost),
        (Some(dec!(480)), Some(dec!(28.32)))
    );
    assert_eq!(
        line("APN2-RegionalNatGateway-Bytes").quantity,
        Some(dec!(240))
    );
    assert_eq!(
        line("APN2-PublicIPv4:InUseAddress").quantity,
        Some(dec!(480))
    );
    assert!(n
        .lines
        .iter()
        .all(|l| l.charge.component != Component::InterAz));
    assert_eq!(n.cross_az_share, 0.0);
    // Automatic mode (the default) is billed in every AZ where the VPC has subnets, with an
    // address in each, even those it holds no address in yet; manual mode in the AZs it was
    // given.
    let mut one_address = f.snapshot();
    one_address.regions[0].nat_gateways[0].addresses.truncate(1);
    let priced = |snap: &Snapshot| {
        let m = model::price(snap, &PriceBook::bundled()).unwrap();
        let ip = m.nats[0]
            .lines
            .iter()
            .find(|l| l.charge.usage_type == "APN2-PublicIPv4:InUseAddress")
            .and_then(|l| l.charge.quantity);
        (m.nats[0].active_azs, ip)
    };
    assert_eq!(priced(&one_address), (2, Some(dec!(480))));
    one_address.regions[0].nat_gateways[0].auto_provision_zones = Some("disabled".into());
    assert_eq!(priced(&one_address), (1, Some(dec!(240))));
    // Nothing left to consolidate, re-route or replace with a regional NAT.
    let all = scenarios(&f);
    for alt in ["fix-cross-az-route", "consolidate-nat", "regional-nat"] {
        assert!(only(&all, alt).is_empty(), "{alt}");
    }
}

#[test]
fn regional_nat_is_priced_per_az_where_the_vpc_has_subnets() {
    // nat-a in 2a serves s-a (2a) and s-c (2c), half each: 1 GiB/h, 730 GB/month.
    // Today: 43.07 hours + 3.65 address + 43.07 processing + 730 × 0.5 × 2 × 0.01 = 7.30
    // inter-AZ = 97.09.
    let f = cross_az_fixture(false);
    let all = scenarios(&f);
    let s = only(&all, "regional-nat")[0];
    assert_eq!(s.id, "regional-nat:vpc-1");
    assert_eq!(s.monthly_before, dec!(97.09));
    // Billed for each hour in each AZ where the VPC has subnets (2a, 2c, and the public
    // subnets' AZs), with an address in each: a priced scenario, not a measure-first one.
    let azs: std::collections::BTreeSet<&str> =
        f.r.subnets
            .iter()
            .map(|s| s.availability_zone.as_str())
            .collect();
    let n = Decimal::from(azs.len());
    let after = n * dec!(43.07) + dec!(43.07) + n * dec!(3.65);
    assert_eq!(
        (s.tier, s.confidence),
        (Tier::Consider, Confidence::Estimated)
    );
    assert_eq!(s.monthly_after, after);
    assert!(s.missing_data.is_empty());
    assert!(s.sensitivity.is_none());
    assert!(
        s.evidence[1].contains(&format!(
            "{n} AZ(s) ({})",
            azs.iter().copied().collect::<Vec<_>>().join(", ")
        )),
        "{}",
        s.evidence[1]
    );
    assert!(s.action.starts_with("NAT=$(aws ec2 create-nat-gateway --region ap-northeast-2 --vpc-id vpc-1 --availability-mode regional"));
    assert!(s.action.contains(
        "--route-table-id rtb-c --destination-cidr-block 0.0.0.0/0 --nat-gateway-id \"$NAT\""
    ));
    assert!(s.action.contains(
        "aws ec2 release-address --region ap-northeast-2 --allocation-id eipalloc-nat-a"
    ));
    // It deletes nat-a and re-routes rtb-c, as nat-instance does: the two conflict.
    let ni = only(&all, "nat-instance")[0];
    let keys = |s: &Scenario| s.changes.keys();
    assert!(keys(s).iter().any(|k| keys(ni).contains(k)));
}

#[test]
fn interface_endpoints_from_flow_logs_skip_amazon_and_flag_execute_api() {
    use crate::traffic::Destination;
    let f = one_busy_nat();
    let aws = |s: &str| Destination::AwsService(s.into());
    let flows = a_week_of_flows(&[
        (aws("AMAZON"), 400),
        (aws("API_GATEWAY"), 300),
        (aws("SQS"), 300),
    ]);
    let snap = f.snapshot();
    let book = PriceBook::bundled();
    let model = model::price(&snap, &book).unwrap();
    let all = advise(&Context::new(&snap, &book, &model, Some(&flows))).unwrap();
    let ie = only(&all, "interface-endpoint");
    // AMAZON is many services: no endpoint is set against it.
    let ids: Vec<&str> = ie.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "interface-endpoint:vpc-1+api_gateway",
            "interface-endpoint:vpc-1+sqs",
            "interface-endpoint:vpc-1+amazon"
        ]
    );
    // The AMAZON-only bytes are named, with what they would be worth to one endpoint and how
    // to name their service: 40% of 730 GB = 292 GB × (0.059 − 0.01) − 730 h × 0.013 = 4.82.
    let amazon = ie[2];
    assert_eq!(amazon.tier, Tier::MeasureFirst);
    let sens = amazon.sensitivity.as_ref().unwrap();
    assert_eq!(sens.monthly_usd, dec!(4.82));
    assert!(
        sens.per
            .contains("the 292.00 GB/month to AMAZON-only addresses"),
        "{}",
        sens.per
    );
    assert!(sens.how_to_measure.contains("aws route53resolver associate-resolver-query-log-config --region ap-northeast-2 --resolver-query-log-config-id QUERY-LOG-CONFIG-ID --resource-id vpc-1"));
    assert!(sens.how_to_measure.contains("--resolver-logs"));
    let ie = ie[..2].to_vec();
    // 30% of 730 GB: 219 GB × 0.059 = 12.921 saved; the endpoint costs 730 h × 0.013 + 219 GB ×
    // 0.01 = 11.68; so 1.24 a month, measured.
    for s in &ie {
        assert_eq!(s.saving(), dec!(1.24), "{}", s.id);
        assert_eq!(s.confidence, Confidence::Measured);
    }
    let api = ie[0];
    assert!(api
        .action
        .contains("--service-name \"com.amazonaws.ap-northeast-2.execute-api\""));
    assert_eq!(api.risk_level, RiskLevel::High);
    assert_eq!(api.tier, Tier::Consider);
    assert!(api.risk.contains("public (non-private) API Gateway APIs"));
    assert_eq!(ie[1].risk_level, RiskLevel::Low);
    assert_eq!(ie[1].tier, Tier::DoNow);

    // A day of logs holding a sliver of CloudWatch's bytes is a sample: never a saving in
    // the plan; what it suggests is a measure-first sensitivity, and said.
    let mut thin = flows.clone();
    thin.nats[0].last_seen = Some(start() + chrono::Duration::days(1));
    let all = advise(&Context::new(&snap, &book, &model, Some(&thin))).unwrap();
    let sqs = all
        .iter()
        .find(|s| s.id == "interface-endpoint:vpc-1+sqs")
        .unwrap();
    assert_eq!(sqs.tier, Tier::MeasureFirst);
    assert_eq!(sqs.saving(), Decimal::ZERO);
    let sens = sqs.sensitivity.as_ref().unwrap();
    assert_eq!(sens.monthly_usd, dec!(1.24));
    assert!(sens
        .per
        .contains("if the flow-log sample's share of SQS traffic holds"));
    assert!(sens.how_to_measure.contains("7 days or 25%"));
    assert!(
        sqs.evidence.join("; ").contains(
            "flow logs cover 1.0 day(s) and 0.00% of the bytes CloudWatch counted for nat-a (measured needs 7 days or 25%)"
        ),
        "{:?}",
        sqs.evidence
    );
    // The free gateway endpoint keeps its range (0 to all of the data processing), the
    // sample's figure beside it.
    let week_s3 = a_week_of_flows(&[(Destination::S3, 400), (aws("SQS"), 600)]);
    let mut thin_s3 = week_s3.clone();
    thin_s3.nats[0].last_seen = Some(start() + chrono::Duration::days(1));
    let s3 = |flows: &crate::traffic::Attribution| {
        let all = advise(&Context::new(&snap, &book, &model, Some(flows))).unwrap();
        only(&all, "s3-gateway-endpoint")[0].clone()
    };
    let measured = s3(&week_s3);
    assert_eq!(measured.saving_up_to, None);
    assert!(measured.saving() > Decimal::ZERO);
    let sampled = s3(&thin_s3);
    assert_eq!(sampled.saving(), Decimal::ZERO);
    assert_eq!(
        sampled.saving_up_to,
        Some(model.nats[0].monthly_of(Component::NatBytes).round_dp(2))
    );
    assert!(
        sampled.evidence.join("; ").contains(&format!(
            "a flow-log sample, beside the range and not in its place, suggests {}/month",
            usd(measured.saving())
        )),
        "{:?}",
        sampled.evidence
    );
}

#[test]
fn flow_logs_measure_who_crosses_azs() {
    use crate::traffic::Attribution;
    // Who sits there says half of nat-a's clients are in 2c (one function each side); the
    // logs say 10%: inter-AZ is 240 GiB × 0.1 × 2 directions = 48 GB in the window, measured.
    let f = cross_az_fixture(false);
    let snap = f.snapshot();
    let book = PriceBook::bundled();
    let traffic = |days: i64| nat_a_flows(days, vec![]);
    let inter_az = |flows: Option<&Attribution>| {
        let m = model::price_with_flows(&snap, &book, flows).unwrap();
        m.nats[0]
            .lines
            .iter()
            .find(|l| l.charge.component == Component::InterAz)
            .map(|l| (l.charge.quantity, l.basis))
            .unwrap()
    };
    assert_eq!(
        inter_az(None),
        (Some(dec!(240)), crate::price::model::Basis::Estimated)
    );
    let week = traffic(8);
    assert_eq!(
        inter_az(Some(&week)),
        (Some(dec!(48)), crate::price::model::Basis::Measured)
    );
    // A day of logs is a sample: the window's cost keeps the estimate from who sits in each
    // subnet, and a warning sets the sample's share beside it.
    let day = traffic(1);
    assert_eq!(
        inter_az(Some(&day)),
        (Some(dec!(240)), crate::price::model::Basis::Estimated)
    );
    let m = model::price_with_flows(&snap, &book, Some(&day)).unwrap();
    assert!(
        m.warnings.iter().any(|w| w.contains(
            "its inter-AZ share stays estimated from who sits in each subnet (50.0%); the sample's is 10.0%"
        )),
        "{:?}",
        m.warnings
    );
    // fix-cross-az-route prices the subnet's measured 10%: 730 GB × 0.1 × 2 × 0.01 = 1.46.
    let m = model::price_with_flows(&snap, &book, Some(&week)).unwrap();
    let all = advise(&Context::new(&snap, &book, &m, Some(&week))).unwrap();
    let fix = only(&all, "fix-cross-az-route");
    assert!(
        fix.iter().all(|s| s.monthly_before == dec!(1.46)),
        "{:?}",
        fix.iter().map(|s| s.monthly_before).collect::<Vec<_>>()
    );
}

#[test]
fn conflict_keys_are_typed_and_shown_as_kind_and_name() {
    let route = Key::Route(RouteChange::route("rtb-a", RouteTo::DefaultIpv4));
    assert_eq!(route.to_string(), "route:rtb-a 0.0.0.0/0");
    assert_eq!(
        serde_json::to_string(&[Key::Nat("nat-a".into()), route.clone()]).unwrap(),
        r#"["nat:nat-a","route:rtb-a 0.0.0.0/0"]"#
    );
    // Only the same kind and name meet: a NAT gateway and a route table of one name do not.
    let deletes = Changes {
        nats_deleted: vec!["x".into()],
        ..Default::default()
    };
    let relies = |key| Changes {
        relies_on: vec![key],
        ..Default::default()
    };
    assert!(deletes.conflicts(&relies(Key::Nat("x".into()))));
    assert!(!deletes.conflicts(&relies(Key::Address("x".into()))));
}

#[test]
fn gateway_endpoints_serve_every_vpc_with_a_nat_not_only_lambda() {
    // ECS tasks or EC2 instances (network interfaces), no Lambda function.
    let mut f = Fixture::new();
    f.vpc("vpc-1")
        .subnet("s-a", "vpc-1", "ap-northeast-2a")
        .nat("nat-a", "vpc-1", "ap-northeast-2a", 1.0)
        .route("rtb-a", "vpc-1", &["s-a"], "nat-a")
        .eni("s-a", "vpc-1")
        .eni("s-a", "vpc-1");
    let all = scenarios(&f);
    for id in ["s3-gateway-endpoint", "dynamodb-gateway-endpoint"] {
        let s = only(&all, id);
        assert_eq!(s.len(), 1, "{id}");
        assert!(
            s[0].evidence
                .iter()
                .any(|e| e.contains("0 Lambda function(s) and 2 other network interface(s)")),
            "{:?}",
            s[0].evidence
        );
    }
}

#[test]
fn the_plan_takes_both_gateway_endpoints() {
    use crate::traffic::Destination;
    let f = one_busy_nat();
    let flows = a_week_of_flows(&[
        (Destination::S3, 400),
        (Destination::DynamoDb, 200),
        (Destination::Internet, 400),
    ]);
    let snap = f.snapshot();
    let book = PriceBook::bundled();
    let model = model::price_with_flows(&snap, &book, Some(&flows)).unwrap();
    let mut all = advise(&Context::new(&snap, &book, &model, Some(&flows))).unwrap();
    let plan = plan::choose(&mut all, &plan::Baseline::new(&model));
    for id in [
        "s3-gateway-endpoint:vpc-1",
        "dynamodb-gateway-endpoint:vpc-1",
    ] {
        assert!(plan.steps.iter().any(|s| s == id), "{id}: {:?}", plan.steps);
    }
    // 730 GB a month × 0.059: 40% and 20% of 43.07 USD, both saved.
    let s3 = all
        .iter()
        .find(|s| s.id == "s3-gateway-endpoint:vpc-1")
        .unwrap();
    let ddb = all
        .iter()
        .find(|s| s.id == "dynamodb-gateway-endpoint:vpc-1")
        .unwrap();
    assert_eq!((s3.saving(), ddb.saving()), (dec!(17.23), dec!(8.61)));
    assert!(plan.monthly_saving >= s3.saving() + ddb.saving() - dec!(0.01));
}

#[test]
fn interface_endpoints_take_one_subnet_per_az_and_a_security_group_of_their_own() {
    // Two client subnets in 2c (create-vpc-endpoint refuses two subnets of one AZ); ECS tasks
    // only, no Lambda function.
    let mut f = Fixture::new();
    f.vpc("vpc-1")
        .subnet("s-a", "vpc-1", "ap-northeast-2a")
        .subnet("s-c1", "vpc-1", "ap-northeast-2c")
        .subnet("s-c2", "vpc-1", "ap-northeast-2c")
        .nat("nat-a", "vpc-1", "ap-northeast-2a", 1.0)
        .route("rtb-a", "vpc-1", &["s-a", "s-c1", "s-c2"], "nat-a")
        .eni("s-a", "vpc-1")
        .eni("s-c1", "vpc-1")
        .eni("s-c2", "vpc-1");
    let all = scenarios(&f);
    let ie = only(&all, "interface-endpoint");
    assert_eq!(ie.len(), 1);
    let steps: Vec<&str> = ie[0].action.split(" && ").collect();
    let r = "--region ap-northeast-2";
    assert_eq!(
        steps,
        [
            format!("SG=$(aws ec2 create-security-group {r} --vpc-id vpc-1 --group-name \"natcost-vpce-$SERVICE\" --description \"HTTPS from vpc-1 to its $SERVICE endpoint\" --query GroupId --output text)"),
            format!("aws ec2 authorize-security-group-ingress {r} --group-id \"$SG\" --protocol tcp --port 443 --cidr 10.0.0.0/16"),
            format!("aws ec2 create-vpc-endpoint {r} --vpc-id vpc-1 --vpc-endpoint-type Interface --service-name \"com.amazonaws.ap-northeast-2.$SERVICE\" --subnet-ids s-a s-c1 --security-group-ids \"$SG\" --private-dns-enabled"),
        ]
    );
    assert!(
        ie[0].risk.contains("every client in the VPC"),
        "{}",
        ie[0].risk
    );
    assert_eq!(ie[0].risk_level, RiskLevel::Low);
    // Without the VPC's CIDR the group's rule is the user's to fill in: not low yet.
    f.r.vpcs[0].cidr_blocks.clear();
    let all = scenarios(&f);
    let ie = only(&all, "interface-endpoint");
    assert!(ie[0].action.contains("--cidr \"$VPC_CIDR\""));
    assert!(ie[0].notes.iter().any(|n| n.starts_with("set VPC_CIDR")));
    assert_eq!(ie[0].risk_level, RiskLevel::Medium);
}

/// nat-a's flow logs: these bytes per destination, over seven days of 10-minute records (the
/// last starts 10 minutes before the 7 days end, enough to call it measured).
fn a_week_of_flows(
    destinations: &[(crate::traffic::Destination, u64)],
) -> crate::traffic::Attribution {
    let total = destinations.iter().map(|(_, b)| b).sum();
    crate::traffic::Attribution {
        nats: vec![crate::traffic::NatTraffic {
            region: "ap-northeast-2".into(),
            nat_gateway_id: "nat-a".into(),
            destination_bytes: total,
            destinations: destinations.iter().cloned().collect(),
            source_bytes: total,
            sources: vec![],
            pairs: vec![],
            first_seen: Some(start()),
            last_seen: Some(start() + chrono::Duration::days(7) - chrono::Duration::minutes(10)),
            source_subnets: Default::default(),
            shared_splits: vec![],
            by_source: vec![],
            daily_sources: Default::default(),
        }],
        stats: Default::default(),
        ambiguous: vec![],
        ip_ranges: "test".into(),
        read_from: Vec::new(),
        api_calls: Default::default(),
    }
}

#[test]
fn a_byte_series_empty_beside_a_busy_one_is_inconsistent_not_zero() {
    let whole = cross_az_fixture(false).snapshot();
    let report = |snap: &Snapshot| {
        crate::report::Report::build(snap, &PriceBook::bundled(), "test", None).unwrap()
    };
    let exact = report(&whole);
    assert!(!exact.total_is_lower_bound);
    // Inter-AZ transfer is estimated from who sits in each subnet: that part of the window's
    // cost is said.
    let inter_az: Decimal = exact.nats[0]
        .lines
        .iter()
        .filter(|l| l.charge.component == Component::InterAz)
        .filter_map(|l| l.charge.cost)
        .sum();
    assert!(inter_az > Decimal::ZERO);
    assert_eq!(exact.estimated_window_cost, inter_az);

    // CloudWatch returned zeros for the replies to clients while 0.9 GiB/h came back from
    // destinations: a gap, not silence.
    let mut f = cross_az_fixture(false);
    for m in
        f.r.metrics
            .iter_mut()
            .filter(|m| m.metric_name == "BytesOutToSource")
    {
        m.values = vec![Some(0.0); m.values.len()].into();
    }
    let gap = report(&f.snapshot());
    assert!(
        gap.warnings.iter().any(|w| w.contains(
            "nat-a (ap-northeast-2): BytesOutToSource has no bytes in the window while BytesInFromDestination has 216.00 GB: the series are inconsistent"
        )),
        "{:?}",
        gap.warnings
    );
    let n = &gap.nats[0];
    assert!(n.missing_metrics.contains(&"BytesOutToSource".to_string()));
    // What depends on it (the bytes crossing AZs) is unknown, not zero: the line stays, empty,
    // and the totals are lower bounds.
    let line = n
        .lines
        .iter()
        .find(|l| l.charge.component == Component::InterAz)
        .unwrap();
    assert_eq!((line.charge.quantity, line.charge.cost), (None, None));
    assert!(gap.total_is_lower_bound);
    assert_eq!(gap.total_window_cost, exact.total_window_cost - inter_az);
}

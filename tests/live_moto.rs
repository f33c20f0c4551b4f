//! Live collection over the real AWS wire protocols, against the moto emulator: each test
//! starts its own moto server on a free loopback port, seeds it with tests/support/seed.py
//! (boto3), runs the natcost binary, and checks the numbers against hand computations.
//!
//! Needs moto: `bash scripts/test.sh` installs it into .venv; NATCOST_MOTO_PYTHON may name
//! another Python that has `moto[server]`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::str::FromStr;

use common::{natcost, natcost_env, Moto, Proxy};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;

/// The window every test collects: the last two days.
const HOURS: u64 = 48;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// costs.csv summed per (NAT name, usage type): (quantity, cost).
/// (NAT name, usage type) → (quantity, cost), summed over months; lines of unknown usage
/// (empty quantity and cost) are left out: `unknown_lines` lists them.
fn costs_by(path: &Path) -> BTreeMap<(String, String), (Decimal, Decimal)> {
    let mut out = BTreeMap::new();
    for r in csv::Reader::from_path(path).unwrap().records() {
        let r = r.unwrap();
        if r[10].is_empty() {
            continue;
        }
        assert_eq!(d(&r[10]) * d(&r[12]), d(&r[13]));
        let e = out
            .entry((r[7].to_string(), r[9].to_string()))
            .or_insert((Decimal::ZERO, Decimal::ZERO));
        e.0 += d(&r[10]);
        e.1 += d(&r[13]);
    }
    out
}

/// (NAT name, usage type) of the costs.csv lines whose usage is unknown: quantity and cost empty.
fn unknown_lines(path: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for r in csv::Reader::from_path(path).unwrap().records() {
        let r = r.unwrap();
        assert_eq!(r[10].is_empty(), r[13].is_empty(), "{r:?}");
        if r[10].is_empty() {
            out.push((r[7].to_string(), r[9].to_string()));
        }
    }
    out.dedup();
    out
}

#[test]
fn live_report_matches_hand_computed_costs() {
    let moto = Moto::start();
    let ids = moto.seed();
    let h = Decimal::from(HOURS);
    let tmp = tempfile::tempdir().unwrap();
    let out = natcost(
        &[
            "report",
            "--region",
            "ap-northeast-2",
            "--region",
            "us-east-1",
            // Named twice, read once: every total below would double otherwise.
            "--region",
            "ap-northeast-2",
            "--days",
            "2",
            "--endpoint-url",
            &moto.url(),
            "--out",
            "rep",
            "--prices",
            "bundled",
            "--quiet",
            "--allocate-by",
            "tag:team",
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("account 123456789012"), "{stdout}");
    assert!(stdout.contains("nat-a"), "{stdout}");

    let c = costs_by(&tmp.path().join("rep/costs.csv"));
    let get = |nat: &str, ut: &str| {
        *c.get(&(nat.to_string(), ut.to_string()))
            .unwrap_or_else(|| panic!("{nat} {ut} in {c:?}"))
    };
    // nat-a: every hour; 1 GiB/h processed; one public IPv4; a quarter of its client traffic
    // (fn-ac's half of app-c) crosses from 2c: (0.1 + 0.9) GiB/h × 0.25 × 2 sides.
    assert_eq!(get("nat-a", "APN2-NatGateway-Hours"), (h, h * dec!(0.059)));
    assert_eq!(get("nat-a", "APN2-NatGateway-Bytes"), (h, h * dec!(0.059)));
    assert_eq!(
        get("nat-a", "APN2-PublicIPv4:InUseAddress"),
        (h, h * dec!(0.005))
    );
    assert_eq!(
        get("nat-a", "APN2-DataTransfer-Regional-Bytes"),
        (h * dec!(0.5), h * dec!(0.005))
    );
    // Lambda Insights is on for fn-a: its 0.05 GiB/h is its share of nat-a's 1 GiB/h, and the
    // rest is fn-ac's by head count (its rows say so); the rows add up to costs.csv.
    let allocation = common::allocation_adds_up(&tmp.path().join("rep"));
    let nat_a: Vec<_> = allocation
        .iter()
        .filter(|r| r["nat_name"] == "nat-a")
        .collect();
    let basis_of = |name: &str| {
        nat_a
            .iter()
            .filter(|r| r["source_name"] == name)
            .map(|r| r["basis"].as_str())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(basis_of("fn-a"), ["estimated-insights"].into());
    assert_eq!(basis_of("fn-ac"), ["estimated-headcount"].into());
    let gb_of = |name: &str| -> Decimal {
        nat_a
            .iter()
            .filter(|r| r["source_name"] == name)
            .map(|r| d(&r["gb"]))
            .sum()
    };
    // (Each part is cut to 9 decimals: within a few nano-GB of the exact share.)
    let near = |a: Decimal, b: Decimal| (a - b).abs() < dec!(0.000001);
    assert!(near(gb_of("fn-a"), h * dec!(0.05)), "{}", gb_of("fn-a"));
    assert!(near(gb_of("fn-ac"), h * dec!(0.95)), "{}", gb_of("fn-ac"));
    let snap: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("rep/snapshot.json")).unwrap(),
    )
    .unwrap();
    let fn_a = snap["accounts"][0]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["lambda_functions"].as_array().unwrap())
        .find(|f| f["function_name"] == "fn-a")
        .unwrap();
    let insights = fn_a["insights_bytes"].as_f64().unwrap();
    assert!(
        (insights - 48.0 * 0.05 * 1073741824.0).abs() < 1.0,
        "{insights}"
    );
    assert!(
        stdout.contains("split by Lambda Insights bytes for fn-a"),
        "{stdout}"
    );
    // Teams from tag:GetResources: fn-a is payments'; nat-p's sources are web-alb's
    // interface, the ALB's team (web), and an ECS task's, the task's team (orders, read with
    // ecs:DescribeTasks); the rest untagged (nat-a has no team tag).
    // allocation_by_team.csv adds up to allocation.csv; allocation.png is a picture.
    assert!(
        allocation
            .iter()
            .filter(|r| r["source_name"] == "fn-a")
            .all(|r| r["team"] == "payments"),
        "{allocation:?}"
    );
    let nat_p: Vec<_> = allocation
        .iter()
        .filter(|r| r["nat_name"] == "nat-p")
        .collect();
    assert!(!nat_p.is_empty());
    for r in &nat_p {
        let team = if r["source_name"].starts_with("ELB app/web-alb/") {
            "web"
        } else {
            assert_eq!(r["source_name"], "ECS prod/family:orders", "{r:?}");
            "orders"
        };
        assert_eq!(
            (r["source_kind"].as_str(), r["team"].as_str()),
            ("eni", team),
            "{r:?}"
        );
    }
    assert!(nat_p.iter().any(|r| r["team"] == "orders"), "{nat_p:?}");
    let mut teams = csv::Reader::from_path(tmp.path().join("rep/allocation_by_team.csv")).unwrap();
    assert_eq!(
        teams
            .headers()
            .unwrap()
            .iter()
            .collect::<Vec<_>>()
            .join(","),
        "month,account_id,team,gb,cost_usd,basis"
    );
    let mut by_team: BTreeMap<String, Decimal> = BTreeMap::new();
    for r in teams.records() {
        let r = r.unwrap();
        *by_team.entry(r[2].to_string()).or_default() += d(&r[4]);
    }
    let team_of = |team: &str| -> Decimal {
        allocation
            .iter()
            .filter(|r| r["team"] == team)
            .map(|r| d(&r["cost_usd"]))
            .sum()
    };
    assert_eq!(
        by_team.keys().map(String::as_str).collect::<Vec<_>>(),
        ["(untagged)", "orders", "payments", "web"]
    );
    for (team, cost) in &by_team {
        assert_eq!(*cost, team_of(team), "{team}");
    }
    common::assert_png(&tmp.path().join("rep/allocation.png"));
    // tag:GetResources is called for --allocate-by only, and `iam-policy --tags` allows it.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("rep/report.json")).unwrap())
            .unwrap();
    assert_eq!(
        report["api_calls"]["tag:GetResources"], 2,
        "one page per region"
    );
    let with_tags = policy_actions(&["--tags"], tmp.path());
    let made = keys(&report["api_calls"]);
    assert!(
        made.is_subset(&with_tags),
        "{:?}",
        made.difference(&with_tags)
    );
    assert_eq!(
        report["api_calls"]["ecs:DescribeTasks"], 1,
        "one cluster of one task"
    );
    let without_tags = policy_actions(&[], tmp.path());
    assert!(!without_tags.contains("tag:GetResources"));
    assert!(!without_tags.contains("ecs:DescribeTasks"));
    assert!(stdout.contains("by team: "), "{stdout}");
    // nat-p: private, so no public IPv4; 0.5 GiB/h.
    assert_eq!(
        get("nat-p", "APN2-NatGateway-Bytes"),
        (h * dec!(0.5), h * dec!(0.0295))
    );
    assert!(!c.contains_key(&("nat-p".into(), "APN2-PublicIPv4:InUseAddress".into())));
    // nat-c: no datapoints at all (no traffic): 0 GB, said in a warning.
    assert_eq!(
        get("nat-c", "APN2-NatGateway-Bytes"),
        (Decimal::ZERO, Decimal::ZERO)
    );
    assert_eq!(get("nat-c", "APN2-NatGateway-Hours").0, h);
    // us-east-1 has no usage type prefix; 36 NATs, the first moves 2 GiB/h.
    assert_eq!(
        get("east-0", "NatGateway-Bytes"),
        (h * dec!(2), h * dec!(0.09))
    );
    for i in 0..36 {
        assert_eq!(
            get(&format!("east-{i}"), "NatGateway-Hours"),
            (h, h * dec!(0.045))
        );
    }
    // Per hour: nat-a 0.059 + 0.059 + 0.005 + 0.005; nat-p 0.059 + 0.0295; nat-c 0.059 + 0.005;
    // us-east-1 36 × (0.045 + 0.005) + 2 × 0.045.
    let total: Decimal = c.values().map(|v| v.1).sum();
    assert_eq!(total, h * dec!(2.1705));

    // The snapshot saved beside the report: topology as collected.
    let snap: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("rep/snapshot.json")).unwrap(),
    )
    .unwrap();
    let seoul = &snap["accounts"][0]["regions"][0];
    assert_eq!(seoul["region"], "ap-northeast-2");
    let nats = seoul["nat_gateways"].as_array().unwrap();
    let by_id = |id: &Value| nats.iter().find(|n| n["nat_gateway_id"] == *id).unwrap();
    assert_eq!(by_id(&ids["nat_p"])["connectivity_type"], "private");
    assert_eq!(by_id(&ids["nat_a"])["connectivity_type"], "public");
    assert_eq!(by_id(&ids["nat_a"])["availability_zone"], "ap-northeast-2a");
    assert_eq!(
        by_id(&ids["nat_a"])["addresses"][0]["public_ip"]
            .as_str()
            .map(|s| !s.is_empty()),
        Some(true)
    );
    let lambdas = csv::Reader::from_path(tmp.path().join("rep/lambdas.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .collect::<Vec<_>>();
    let fn_ac = lambdas.iter().find(|r| &r[1] == "fn-ac").unwrap();
    assert_eq!(
        &fn_ac[2],
        ids["vpc_app"].as_str().unwrap(),
        "VPC derived from the subnets"
    );
    assert_eq!(&fn_ac[5], ids["nat_a"].as_str().unwrap());
    assert_eq!(&fn_ac[6], "true");
    assert_eq!(&lambdas.iter().find(|r| &r[1] == "fn-out").unwrap()[2], "");
    assert_eq!(seoul["vpc_endpoints"].as_array().unwrap().len(), 2);

    // Recommendations on the collected data.
    let recs: Vec<_> = csv::Reader::from_path(tmp.path().join("rep/recommendations.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .collect();
    let idle = recs
        .iter()
        .find(|r| &r[4] == "delete-idle-nat")
        .expect("nat-c is idle");
    assert_eq!(&idle[3], ids["nat_c"].as_str().unwrap());
    assert_eq!(&idle[7], "46.72");
    assert!(recs.iter().any(|r| &r[4] == "dynamodb-gateway-endpoint"));
    // The S3 endpoint serves app-a's route table only: add the other NAT route tables to it.
    let s3 = recs
        .iter()
        .find(|r| &r[4] == "s3-gateway-endpoint" && &r[2] == ids["vpc_app"].as_str().unwrap())
        .expect("s3 endpoint recommendation");
    assert!(s3[10].contains("modify-vpc-endpoint"), "{}", &s3[10]);
    // The Elastic IP associated with nothing (DescribeAddresses) is the one idle address: its
    // own priced line, and its release offered in its own region.
    let eip = ids["idle_eip"].as_str().unwrap();
    let md = std::fs::read_to_string(tmp.path().join("rep/report.md")).unwrap();
    // With teams (tag:team): their table adds up too.
    assert!(common::markdown_totals_add_up(&md) >= 7, "{md}");
    assert!(common::terminal_totals_add_up(&stdout) >= 3, "{stdout}");
    assert!(
        md.contains(&format!("| 123456789012 | ap-northeast-2 | {eip} | "))
            && md.contains("| left-behind |  | APN2-PublicIPv4:IdleAddress | 730 | 0.005 | 3.65 |"),
        "{md}"
    );
    let release: Vec<_> = recs
        .iter()
        .filter(|r| &r[4] == "release-idle-address")
        .collect();
    assert_eq!(release.len(), 1, "{release:?}");
    assert_eq!(&release[0][3], eip);
    assert_eq!(&release[0][7], "3.65");
    assert_eq!(
        &release[0][10],
        format!("aws ec2 release-address --region ap-northeast-2 --allocation-id {eip}")
    );

    // GetMetricData calls: the batching minimum per region (500 queries a call at 48 hours):
    // 3 × 17 queries in Seoul, 36 × 17 = 612 in us-east-1, one call for east-1's 1-minute
    // Sums (2 queries of 2,880 minutes), and one per region for the VPC functions' Duration
    // and Invocations.
    let per_call = natcost::queries_per_call(HOURS as usize);
    assert_eq!(per_call, 500);
    let n = natcost::snapshot::NAT_METRICS.len();
    assert_eq!(n, 17);
    let minimum = (3 * n).div_ceil(per_call) + (36 * n).div_ceil(per_call) + 1 + 2;
    assert_eq!(minimum, 6);
    assert_eq!(
        snap["api_calls"]["cloudwatch:GetMetricData"],
        minimum as u64
    );
    // The statistics for sizing a NAT instance: nat-a has one datapoint an hour.
    let series = |region: &Value, nat: &str, name: &str, stat: &str| -> Vec<Option<f64>> {
        let m = region["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                m["nat_gateway_id"] == nat && m["metric_name"] == name && m["statistic"] == stat
            })
            .unwrap_or_else(|| panic!("{nat} {name} {stat}"));
        serde_json::from_value(m["values"].clone()).unwrap()
    };
    let nat_a = ids["nat_a"].as_str().unwrap();
    let max_src = series(seoul, nat_a, "BytesInFromSource", "Maximum");
    assert!(max_src.iter().all(|v| *v == Some(0.1 * 1073741824.0)));
    let samples = series(seoul, nat_a, "BytesInFromSource", "SampleCount");
    assert!(samples.iter().all(|v| *v == Some(1.0)));
    // east-1 had 120 datapoints in one hour: its busiest minutes come from 1-minute Sums.
    let east = &snap["accounts"][0]["regions"][1];
    let east_1 = ids["east_nats"][1].as_str().unwrap();
    let samples = series(east, east_1, "BytesInFromSource", "SampleCount");
    assert_eq!(samples.iter().flatten().copied().fold(0.0, f64::max), 120.0);
    let (name, stat) = natcost::snapshot::BUSIEST_MINUTE;
    let minutes = series(east, east_1, name, stat);
    let seeded = samples.iter().position(|v| *v == Some(120.0)).unwrap();
    assert_eq!(minutes[seeded], Some(0.0));
    assert_eq!(minutes.iter().flatten().count(), 1);
    assert_eq!(snap["api_calls"]["ec2:DescribeVpcs"], 2, "one per region");
    // fn-a's Duration over the 48 hours: 48 × 1,500 ms; fn-ac ran none.
    let functions = seoul["lambda_functions"].as_array().unwrap();
    let duration = |name: &str| {
        functions
            .iter()
            .find(|f| f["function_name"] == name)
            .map(|f| f["duration_ms"].clone())
            .unwrap()
    };
    assert_eq!(duration("fn-a"), 72000.0);
    // And by UTC day (what a shared ENI's bytes of one day are split by): 1,500 ms for each
    // hour of the window on that day.
    let start: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(snap["window"]["start"].clone()).unwrap();
    let mut want: BTreeMap<String, f64> = BTreeMap::new();
    for h in 0..48 {
        let day = (start + chrono::Duration::hours(h))
            .date_naive()
            .to_string();
        *want.entry(day).or_default() += 1500.0;
    }
    let by_day: BTreeMap<String, f64> = functions
        .iter()
        .find(|f| f["function_name"] == "fn-a")
        .map(|f| serde_json::from_value(f["duration_ms_by_day"].clone()).unwrap())
        .unwrap();
    assert_eq!(by_day, want);
    assert!(
        duration("fn-out").is_null(),
        "functions outside a VPC are not asked"
    );
    // The gateway endpoint services' prefix lists, as moto publishes them.
    let lists = seoul["prefix_lists"].as_array().unwrap();
    let names: Vec<&str> = lists
        .iter()
        .map(|l| l["prefix_list_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        [
            "com.amazonaws.ap-northeast-2.dynamodb",
            "com.amazonaws.ap-northeast-2.s3"
        ]
        .into_iter()
        .collect()
    );
    let s3 = lists
        .iter()
        .find(|l| l["prefix_list_name"] == "com.amazonaws.ap-northeast-2.s3")
        .unwrap();
    assert!(s3["cidrs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "52.216.0.0/15"));
    assert_eq!(
        snap["api_calls"]["ec2:GetManagedPrefixListEntries"], 4,
        "two lists × two regions"
    );
}

fn snapshot_without_time(path: &Path) -> Value {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("collected_at");
    v
}

/// The actions of a policy printed by `natcost iam-policy ARGS` (every statement).
fn policy_actions(args: &[&str], cwd: &Path) -> BTreeSet<String> {
    let mut all = vec!["iam-policy"];
    all.extend_from_slice(args);
    let out = natcost(&all, cwd);
    assert!(out.status.success());
    let policy: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(policy["Version"], "2012-10-17");
    let mut actions = BTreeSet::new();
    for st in policy["Statement"].as_array().unwrap() {
        assert_eq!(st["Effect"], "Allow");
        for a in st["Action"].as_array().unwrap() {
            let a = a.as_str().unwrap().to_string();
            let verb = a.split(':').nth(1).unwrap();
            assert!(
                ["Describe", "List", "Get"]
                    .iter()
                    .any(|p| verb.starts_with(p))
                    || a == "sts:AssumeRole",
                "{a} is not read-only"
            );
            actions.insert(a);
        }
    }
    actions
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Every AWS call of a default `report --region` (live collection, live prices), counted where
/// it arrives: the proxy in front of moto sees each request and its IAM action. The Pricing API
/// goes through the same proxy (moto has no Pricing API: the answer is an error, natcost falls
/// back to the bundled table, and the call was still made). Then `collect --all-regions` adds
/// the one call a region list needs.
#[test]
fn iam_policy_covers_every_call_of_a_default_report() {
    let moto = Moto::start();
    moto.seed();
    let proxy = Proxy::start(moto.port, &[]);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let out = natcost_env(
        &[
            "-v",
            "report",
            "--region",
            "ap-northeast-2",
            "--region",
            "us-east-1",
            "--days",
            "2",
            "--endpoint-url",
            &proxy.url(),
            "--out",
            "rep",
            "--format",
            "json",
        ],
        tmp.path(),
        &[
            ("AWS_ENDPOINT_URL_PRICING", &proxy.url()),
            ("NATCOST_CACHE_DIR", cache.to_str().unwrap()),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("AWS calls for prices: pricing:GetProducts ×2"),
        "one failed first page per region: {stderr}"
    );
    assert!(stderr.contains("Pricing API unavailable"), "{stderr}");
    let stats = proxy.stats_json();
    // natcost's own count (report.json) is the proxy's, call for call; natcost counts a call
    // once, the proxy each attempt: moto's error for the Pricing API is retried (3 attempts).
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut counted = report["api_calls"].clone();
    counted["pricing:GetProducts"] = (3 * counted["pricing:GetProducts"].as_u64().unwrap()).into();
    assert_eq!(counted, stats["actions"]);
    let allowed = policy_actions(&[], tmp.path());
    let made = keys(&stats["actions"]);
    assert!(made.contains("pricing:GetProducts"), "{made:?}");
    assert_eq!(
        allowed.difference(&made).collect::<Vec<_>>(),
        ["ec2:DescribeRegions"],
        "the default policy allows what a default report calls, and the region list"
    );
    // A default run reads one account with the caller's credentials only.
    assert_eq!(stats["by_key"].as_object().unwrap().len(), 1);

    let out = natcost(
        &[
            "collect",
            "--all-regions",
            "--days",
            "2",
            "--endpoint-url",
            &proxy.url(),
            "-o",
            "all.json",
        ],
        tmp.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snap = snapshot_without_time(&tmp.path().join("all.json"));
    assert!(
        snap["accounts"][0]["regions"].as_array().unwrap().len() > 10,
        "moto lists every region"
    );
    assert_eq!(
        allowed,
        keys(&proxy.stats_json()["actions"]),
        "the default policy must allow exactly the calls made"
    );
}

/// An organisation of three accounts (and its management account), seeded through
/// AssumeRole; the role of one is missing. Costs per account are worked out by hand.
#[test]
fn an_organisation_is_read_account_by_account() {
    let moto = Moto::start();
    let ids = moto.seed_with("seed_org.py");
    let id = |k: &str| ids[k].as_str().unwrap().to_string();
    let (payments, search, legacy) = (id("payments"), id("search"), id("legacy"));
    let proxy = Proxy::start(moto.port, &["--deny-assume", &legacy]);
    let tmp = tempfile::tempdir().unwrap();
    let out = natcost(
        &[
            "report",
            "--org",
            "--role-name",
            "natcost-read",
            "--external-id",
            "ext-42",
            "--concurrency",
            "3",
            "--region",
            "ap-northeast-2",
            "--region",
            "us-east-1",
            "--days",
            "2",
            "--endpoint-url",
            &proxy.url(),
            "--prices",
            "bundled",
            "--out",
            "rep",
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    // The account whose role cannot be assumed is named once, with AWS's reason.
    let named: Vec<&str> = stderr.lines().filter(|l| l.contains(&legacy)).collect();
    assert_eq!(named.len(), 1, "{stderr}");
    assert!(
        named[0].contains(&format!(
            "not collected: account {legacy}: cannot assume arn:aws:iam::{legacy}:role/natcost-read: AccessDenied"
        )),
        "{stderr}"
    );

    // Costs per account, by hand (48 hours): payments' Seoul NAT moves 1 GiB/h:
    // 0.059 + 0.059 + 0.005 (its address) an hour; search's us-east-1 NAT moves 2 GiB/h:
    // 0.045 + 2 × 0.045 + 0.005, and its idle Seoul NAT 0.059 + 0.005.
    let h = Decimal::from(HOURS);
    let mut by_account: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut nats_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in csv::Reader::from_path(tmp.path().join("rep/costs.csv"))
        .unwrap()
        .records()
    {
        let r = r.unwrap();
        *by_account.entry(r[2].to_string()).or_default() += d(&r[13]);
        nats_of
            .entry(r[2].to_string())
            .or_default()
            .insert(r[6].to_string());
    }
    assert_eq!(by_account.len(), 2, "{by_account:?}");
    assert_eq!(by_account[&payments], h * dec!(0.123));
    assert_eq!(by_account[&search], h * (dec!(0.140) + dec!(0.064)));
    assert_eq!(
        nats_of[&search],
        [id("nat_search"), id("nat_search_idle")]
            .into_iter()
            .collect()
    );

    // The snapshot: schema 2, every listed account with its name, the missing one empty.
    let snap: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("rep/snapshot.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(snap["schema_version"], 2);
    let accounts = snap["accounts"].as_array().unwrap();
    assert_eq!(
        accounts.len(),
        4,
        "the management account and three members"
    );
    let account = |a: &str| {
        accounts
            .iter()
            .find(|x| x["account_id"] == a)
            .unwrap_or_else(|| panic!("{a} in {accounts:?}"))
    };
    assert_eq!(account(&payments)["name"], "payments");
    assert_eq!(account(&search)["regions"].as_array().unwrap().len(), 2);
    assert_eq!(account(&legacy)["regions"].as_array().unwrap().len(), 0);
    assert!(account(&legacy)["not_collected"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("AccessDenied"));
    // A region without NAT gateways is asked for them (and their metrics) and nothing else:
    // the management account's two regions and payments' us-east-1, though moto gives each a
    // default VPC. The others are read whole.
    let region = |a: &str, r: &str| {
        account(a)["regions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["region"] == r)
            .unwrap_or_else(|| panic!("{a} {r}"))
            .clone()
    };
    let management = accounts
        .iter()
        .map(|a| a["account_id"].as_str().unwrap().to_string())
        .find(|a| ![&payments, &search, &legacy].contains(&a))
        .unwrap();
    for (a, r) in [
        (&management, "ap-northeast-2"),
        (&management, "us-east-1"),
        (&payments, "us-east-1"),
    ] {
        let x = region(a, r);
        assert_eq!(x["no_nat_gateways"], true, "{a} {r}: {x}");
        assert!(x["vpcs"].as_array().unwrap().is_empty(), "{a} {r}: {x}");
    }
    for (a, r) in [
        (&payments, "ap-northeast-2"),
        (&search, "ap-northeast-2"),
        (&search, "us-east-1"),
    ] {
        let x = region(a, r);
        assert!(x.get("no_nat_gateways").is_none(), "{a} {r}: {x}");
        assert!(!x["vpcs"].as_array().unwrap().is_empty(), "{a} {r}: {x}");
    }

    // Each recommendation is its NAT gateways' owner's: payments and search both have a NAT
    // gateway in Seoul.
    let owner: BTreeMap<String, String> = accounts
        .iter()
        .flat_map(|a| {
            a["regions"].as_array().unwrap().iter().flat_map(move |r| {
                r["nat_gateways"].as_array().unwrap().iter().map(move |n| {
                    (
                        n["vpc_id"].as_str().unwrap().to_string(),
                        a["account_id"].as_str().unwrap().to_string(),
                    )
                })
            })
        })
        .collect();
    let mut advised = BTreeSet::new();
    for r in csv::Reader::from_path(tmp.path().join("rep/recommendations.csv"))
        .unwrap()
        .records()
    {
        let r = r.unwrap();
        assert_eq!(&r[15], owner[&r[2]].as_str(), "{r:?}");
        advised.insert(r[15].to_string());
    }
    assert!(
        advised.contains(&payments) && advised.contains(&search),
        "{advised:?}"
    );

    // report.md: the accounts first, then the NAT gateways with their account.
    let md = std::fs::read_to_string(tmp.path().join("rep/report.md")).unwrap();
    assert!(common::markdown_totals_add_up(&md) >= 8, "{md}");
    let accounts_at = md.find("## Accounts").expect("an accounts section");
    assert!(accounts_at < md.find("## NAT gateways").unwrap());
    let row = md
        .lines()
        .find(|l| l.starts_with(&format!("| {payments} | payments |")))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        row.contains("| 2 | 1 | 5.90 |"),
        "two regions, one NAT, 48 × 0.123: {row}"
    );
    assert!(md.contains(&format!("| {search} | {} |", id("nat_search"))));
    // Scenarios outside the plan name their account too.
    assert!(
        md.lines().any(|l| l.starts_with("| delete-idle-nat |")
            && l.contains(&format!(" in {search} |"))),
        "{md}"
    );

    // Who called what: the caller lists, assumes and asks who it is; each role only reads.
    let stats = proxy.stats_json();
    let by_key = stats["by_key"].as_object().unwrap();
    let caller = keys(&by_key["test"]);
    assert_eq!(
        caller,
        [
            "organizations:ListAccounts",
            "sts:AssumeRole",
            "sts:GetCallerIdentity"
        ]
        .map(String::from)
        .into_iter()
        .collect()
    );
    assert_eq!(by_key["test"]["sts:AssumeRole"], 4);
    assert_eq!(
        stats["external_ids"],
        serde_json::json!(["ext-42", "ext-42", "ext-42", "ext-42"]),
        "every AssumeRole carries --external-id"
    );
    let caller_policy = policy_actions(&["--for", "caller"], tmp.path());
    assert!(caller.is_subset(&caller_policy));
    assert_eq!(
        caller_policy.difference(&caller).collect::<Vec<_>>(),
        ["pricing:GetProducts"],
        "prices are bundled in this run"
    );
    let members: BTreeSet<String> = by_key
        .iter()
        .filter(|(k, _)| *k != "test")
        .flat_map(|(_, v)| keys(v))
        .collect();
    // The management account's role, in its two regions without NAT gateways, asked for
    // nothing else: DescribeNatGateways and DescribeSubnets once and ListMetrics twice (two
    // metrics) each.
    let only_checked: Vec<&Value> = by_key
        .iter()
        .filter(|(k, _)| *k != "test")
        .map(|(_, v)| v)
        .filter(|v| !v.as_object().unwrap().contains_key("ec2:DescribeVpcs"))
        .collect();
    assert_eq!(
        only_checked,
        [&serde_json::json!({
            "ec2:DescribeNatGateways": 2,
            "ec2:DescribeSubnets": 2,
            "cloudwatch:ListMetrics": 4
        })],
        "{by_key:?}"
    );
    let member_policy = policy_actions(&["--for", "member"], tmp.path());
    assert_eq!(
        member_policy.difference(&members).collect::<Vec<_>>(),
        ["ec2:DescribeRegions"],
        "no --all-regions"
    );
    assert!(members.is_subset(&member_policy), "{members:?}");

    // A region whose calls fail for good stays with its account (exit 3); with one account it
    // stops the run (exit 1), naming the region.
    let broken = Proxy::start(moto.port, &["--break", "ec2:us-east-1"]);
    let args = |accounts: &str| {
        vec![
            "collect".to_string(),
            "--accounts".into(),
            accounts.into(),
            "--role-name".into(),
            "natcost-read".into(),
            "--region".into(),
            "ap-northeast-2".into(),
            "--region".into(),
            "us-east-1".into(),
            "--days".into(),
            "2".into(),
            "--endpoint-url".into(),
            broken.url(),
            "-o".into(),
            "broken.json".into(),
        ]
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        natcost(&a, tmp.path())
    };
    let out = run(args(&format!("{payments},{search}")));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "not collected: region us-east-1: collecting {search} us-east-1"
        )),
        "{stderr}"
    );
    let out = run(args(&payments));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("us-east-1"), "{stderr}");

    // --accounts names them instead; a bad ID is a usage error before any call.
    let out = natcost(
        &[
            "collect",
            "--accounts",
            &format!("{payments},{search}"),
            "--role-name",
            "natcost-read",
            "--region",
            "ap-northeast-2",
            "--days",
            "2",
            "--endpoint-url",
            &proxy.url(),
            "-o",
            "two.json",
        ],
        tmp.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let two: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("two.json")).unwrap())
            .unwrap();
    let ids_read: Vec<&str> = two["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids_read, [payments.as_str(), search.as_str()]);
    let out = natcost(
        &[
            "collect",
            "--accounts",
            "12345,678",
            "--role-name",
            "r",
            "--region",
            "us-east-1",
            "-o",
            "x.json",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("\"12345\" is not an AWS account ID (12 digits)"));
}

/// A region where EC2 lists no NAT gateway but CloudWatch still has one's metrics (deleted
/// before collection) is read whole; it is not one of the regions without NAT gateways.
#[test]
fn a_region_with_only_a_deleted_nat_gateway_is_read_whole() {
    let moto = Moto::start();
    let ids = moto.seed_with("seed_bill.py");
    let tmp = tempfile::tempdir().unwrap();
    let out = natcost(
        &[
            "collect",
            "--region",
            "us-west-2",
            "--days",
            "2",
            "--endpoint-url",
            &moto.url(),
            "-o",
            "west.json",
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("without NAT gateways"), "{stderr}");
    let snap: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("west.json")).unwrap())
            .unwrap();
    let region = &snap["accounts"][0]["regions"][0];
    assert_eq!(region["region"], "us-west-2");
    assert!(region.get("no_nat_gateways").is_none(), "{region}");
    let nats = region["nat_gateways"].as_array().unwrap();
    assert_eq!(nats.len(), 1, "{nats:?}");
    assert_eq!(nats[0]["nat_gateway_id"], ids["nat_deleted_west"]);
    assert_eq!(nats[0]["found_by"], "cloudwatch:ListMetrics");
    assert!(
        !region["vpcs"].as_array().unwrap().is_empty(),
        "the rest of the region is read: moto's default VPC"
    );
    assert_eq!(snap["api_calls"]["lambda:ListFunctions"], 1);

    // Where ListMetrics is refused, whether a deleted NAT gateway is there is unknown: the
    // region is read whole too, and the refusal named.
    let proxy = Proxy::start(moto.port, &["--deny", "monitoring:eu-west-1"]);
    let out = natcost(
        &[
            "collect",
            "--region",
            "eu-west-1",
            "--days",
            "2",
            "--endpoint-url",
            &proxy.url(),
            "-o",
            "eu.json",
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let snap: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("eu.json")).unwrap())
            .unwrap();
    let region = &snap["accounts"][0]["regions"][0];
    assert!(region.get("no_nat_gateways").is_none(), "{region}");
    assert!(!region["vpcs"].as_array().unwrap().is_empty(), "{region}");
    assert_eq!(
        region["not_collected"][0]["what"], "cloudwatch:ListMetrics",
        "{region}"
    );
}

#[test]
fn throttling_and_server_errors_are_retried_to_the_same_snapshot() {
    let moto = Moto::start();
    moto.seed();
    let proxy = Proxy::start(moto.port, &["--fail-every", "3"]);
    let tmp = tempfile::tempdir().unwrap();
    let args = |url: &str, file: &str| {
        vec![
            "collect".to_string(),
            "--region".into(),
            "ap-northeast-2".into(),
            "--region".into(),
            "us-east-1".into(),
            "--days".into(),
            "2".into(),
            "--endpoint-url".into(),
            url.to_string(),
            "-o".into(),
            file.to_string(),
        ]
    };
    let collect = |url: &str, file: &str| {
        let args = args(url, file);
        let out = natcost(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            tmp.path(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    collect(&moto.url(), "direct.json");
    collect(&proxy.url(), "faulty.json");
    let (requests, injected) = proxy.stats();
    assert!(
        injected >= 10 && injected * 3 <= requests,
        "{injected} faults in {requests} requests"
    );
    assert_eq!(
        snapshot_without_time(&tmp.path().join("direct.json")),
        snapshot_without_time(&tmp.path().join("faulty.json"))
    );
}

#[test]
fn denied_calls_give_a_partial_report_that_names_them() {
    let moto = Moto::start();
    moto.seed();
    let proxy = Proxy::start(
        moto.port,
        &[
            "--deny",
            "lambda:us-east-1",
            "--deny",
            "monitoring:us-east-1",
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    // The endpoint from the environment, as the AWS CLI takes it.
    let out = natcost_env(
        &[
            "report",
            "--region",
            "ap-northeast-2",
            "--region",
            "us-east-1",
            "--days",
            "2",
            "--out",
            "rep",
            "--prices",
            "bundled",
        ],
        tmp.path(),
        &[("AWS_ENDPOINT_URL", &proxy.url())],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "partial: {stderr}");
    assert!(
        stderr.contains("natcost: warning: not collected: us-east-1: lambda:ListFunctions: AccessDeniedException"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "natcost: warning: not collected: us-east-1: cloudwatch:GetMetricData: AccessDenied"
        ),
        "{stderr}"
    );
    // Each denial is said once, in natcost's one warning format, as the report lists it.
    for action in ["lambda:ListFunctions", "cloudwatch:GetMetricData"] {
        let said = format!("not collected: us-east-1: {action}:");
        assert_eq!(stderr.matches(&said).count(), 1, "{stderr}");
    }
    assert!(
        stderr
            .lines()
            .all(|l| l.starts_with("natcost: ") || !l.contains("not collected")),
        "{stderr}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("not collected: us-east-1: lambda:ListFunctions"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(tmp.path().join("rep/report.md")).unwrap();
    assert!(md.contains("not collected: us-east-1: cloudwatch:GetMetricData"));
    // Seoul is whole; us-east-1's NAT bytes are unknown, not zero.
    let c = costs_by(&tmp.path().join("rep/costs.csv"));
    assert!(c.contains_key(&("nat-a".into(), "APN2-NatGateway-Bytes".into())));
    assert!(c.contains_key(&("east-0".into(), "NatGateway-Hours".into())));
    assert!(!c.contains_key(&("east-0".into(), "NatGateway-Bytes".into())));
    // Their lines are there, with quantity and cost empty (unknown), not 0.
    let unknown = unknown_lines(&tmp.path().join("rep/costs.csv"));
    assert!(unknown.contains(&("east-0".into(), "NatGateway-Bytes".into())));
    assert!(
        unknown
            .iter()
            .all(|(nat, usage)| nat.starts_with("east-") && usage == "NatGateway-Bytes"),
        "{unknown:?}"
    );
    assert!(md.contains("its data processing cost is unknown, not zero"));
    // So the totals are the least the NAT gateways cost, and every output says so.
    assert!(md.contains("**Cost in the window: at least "), "{md}");
    assert!(md.contains("Monthly run-rate: at least "), "{md}");
    assert!(stdout.contains("Total (at least)"), "{stdout}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("rep/report.json")).unwrap())
            .unwrap();
    assert_eq!(json["total_is_lower_bound"], true);
}

/// 101 tasks in one cluster: described in two calls (100 at most each), every task's
/// interface found and named by its task.
#[test]
fn more_tasks_than_one_describe_call_takes_are_all_found() {
    let moto = Moto::start();
    moto.seed();
    moto.seed_with("seed_ecs_tasks.py");
    let tmp = tempfile::tempdir().unwrap();
    let out = natcost_env(
        &[
            "collect",
            "--region",
            "ap-northeast-2",
            "--days",
            "2",
            "--tags",
            "-o",
            "snap.json",
        ],
        tmp.path(),
        &[("AWS_ENDPOINT_URL", &moto.url())],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snap: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("snap.json")).unwrap())
            .unwrap();
    let tasks: BTreeSet<&str> = snap["accounts"][0]["regions"][0]["network_interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["ecs_task_arn"].as_str())
        .collect();
    assert_eq!(tasks.len(), 101);
    assert!(tasks.iter().all(|t| t.contains(":task/prod/")), "{tasks:?}");
    assert_eq!(snap["api_calls"]["ecs:DescribeTasks"], 2);
}

#[test]
fn a_denied_ecs_call_leaves_the_task_interface_untagged_and_says_so() {
    let moto = Moto::start();
    moto.seed();
    let proxy = Proxy::start(moto.port, &["--deny-action", "ecs:DescribeTasks"]);
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "report",
        "--region",
        "ap-northeast-2",
        "--days",
        "2",
        "--allocate-by",
        "tag:team",
        "--out",
        "rep",
        "--prices",
        "bundled",
    ];
    let out = natcost_env(&args, tmp.path(), &[("AWS_ENDPOINT_URL", &proxy.url())]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "partial: {stderr}");
    assert_eq!(
        stderr
            .matches(
                "natcost: warning: not collected: ap-northeast-2: ecs:DescribeTasks: AccessDeniedException"
            )
            .count(),
        1,
        "{stderr}"
    );
    // The task's interface is still a source, under its own description, with no team; the
    // load balancer's keeps its team, and the rows still add up.
    let allocation = common::allocation_adds_up(&tmp.path().join("rep"));
    let nat_p: BTreeSet<(String, String)> = allocation
        .iter()
        .filter(|r| r["nat_name"] == "nat-p")
        .map(|r| {
            let name = r["source_name"].split('/').next().unwrap_or_default();
            (name.to_string(), r["team"].clone())
        })
        .collect();
    assert_eq!(
        nat_p,
        BTreeSet::from([
            ("ELB app".to_string(), "web".to_string()),
            ("moto ECS".to_string(), "(untagged)".to_string())
        ])
    );
    // ECS failing outright (server errors past the SDK's retries) costs the teams, not the
    // report: named once, as not collected, and the costs written.
    let broken = Proxy::start(moto.port, &["--break", "ecs:ap-northeast-2"]);
    let tmp = tempfile::tempdir().unwrap();
    let out = natcost_env(&args, tmp.path(), &[("AWS_ENDPOINT_URL", &broken.url())]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "partial: {stderr}");
    assert_eq!(
        stderr
            .matches("natcost: warning: not collected: ap-northeast-2: ecs:ListClusters: ")
            .count(),
        1,
        "{stderr}"
    );
    common::allocation_adds_up(&tmp.path().join("rep"));
}

#[test]
fn missing_credentials_fail_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_natcost"))
        .args([
            "report",
            "--region",
            "ap-northeast-2",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--quiet",
        ])
        .current_dir(tmp.path())
        .env_clear()
        .env("HOME", tmp.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("natcost: error: no AWS credentials found"),
        "{err}"
    );
    assert!(!tmp.path().join("reports").exists());
}

/// One Cost Explorer group: a usage type of an account, its cost and quantity.
fn ce_group(usage: &str, account: &str, cost: Decimal, quantity: Decimal) -> Value {
    serde_json::json!({
        "Keys": [usage, account],
        "Metrics": {
            "UnblendedCost": {"Amount": cost.to_string(), "Unit": "USD"},
            "UsageQuantity": {"Amount": quantity.to_string(), "Unit": "N/A"}
        }
    })
}

/// `--bill ce`: the bill from (moto's) Cost Explorer, in two pages, set against the sample's
/// model: a month within tolerance, a line 5% off (flagged), a partial month, a region not
/// collected, inter-AZ transfer that also bills other traffic; the request natcost sent is
/// checked as the loopback proxy saw it.
#[test]
fn the_bill_from_cost_explorer_is_reconciled() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port, &[]);
    let tmp = tempfile::tempdir().unwrap();
    // The model, per month and usage type, from the offline report.
    let out = natcost(
        &["report", "--sample", "--no-files", "--format", "json"],
        tmp.path(),
    );
    let model: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut modelled: BTreeMap<(String, String), (Decimal, Decimal)> = BTreeMap::new();
    for n in model["nats"].as_array().unwrap() {
        for l in n["lines"].as_array().unwrap() {
            let e = modelled
                .entry((
                    l["period_start"].as_str().unwrap()[..7].to_string(),
                    l["charge"]["usage_type"].as_str().unwrap().to_string(),
                ))
                .or_default();
            e.0 += d(l["charge"]["quantity"].as_str().unwrap());
            e.1 += d(l["charge"]["cost"].as_str().unwrap());
        }
    }
    let m = |month: &str, usage: &str| modelled[&(month.to_string(), usage.to_string())];
    let acct = "123456789012";
    // October is whole in the sample's window: hours 0.3% under the model (within), bytes
    // billed so that the model is 5% under (flagged), 10× the modelled inter-AZ bytes, and a
    // NAT gateway in Oregon, a region not collected.
    let (hq, hc) = m("2026-10", "APN2-NatGateway-Hours");
    let (bq, bc) = m("2026-10", "APN2-NatGateway-Bytes");
    let (tq, tc) = m("2026-10", "APN2-DataTransfer-Regional-Bytes");
    let october = serde_json::json!({
        "ResultsByTime": [{
            "TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"},
            "Total": {},
            "Groups": [
                ce_group("APN2-NatGateway-Hours", acct, (hc / dec!(1.003)).round_dp(6), hq),
                ce_group("APN2-NatGateway-Bytes", acct, (bc / dec!(0.95)).round_dp(6), bq),
                ce_group("APN2-DataTransfer-Regional-Bytes", acct, tc * dec!(10), tq * dec!(10)),
                ce_group("USW2-NatGateway-Hours", acct, dec!(32.4), dec!(720)),
            ],
            "Estimated": false
        }],
        "DimensionValueAttributes": []
    });
    // September: the window has its last five days only; a whole month billed.
    let september = serde_json::json!({
        "ResultsByTime": [{
            "TimePeriod": {"Start": "2026-09-01", "End": "2026-10-01"},
            "Total": {},
            "Groups": [ce_group("APN2-NatGateway-Hours", acct, dec!(212.4), dec!(3600))],
            "Estimated": false
        }],
        "DimensionValueAttributes": [],
        "NextPageToken": "page-2"
    });
    // Then everything that is not usage, by record type and usage type: a one-off credit and
    // an Enterprise Discount Program discount of 6% on October's NAT bytes.
    let edp = -(bc / dec!(0.95)).round_dp(6) * dec!(0.06);
    let adjustments = serde_json::json!({
        "ResultsByTime": [{
            "TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"},
            "Total": {},
            "Groups": [
                ce_group("Credit", "APN2-NatGateway-Hours", dec!(-5), Decimal::ZERO),
                ce_group("Enterprise Discount Program Discount", "APN2-NatGateway-Bytes", edp, Decimal::ZERO),
            ],
            "Estimated": false
        }],
        "DimensionValueAttributes": []
    });
    let queued = serde_json::json!({"results": [september, october, adjustments]});
    // Queued in moto, one answer per request, in order.
    let status = Command::new(common::python())
        .args([
            "-c",
            "import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method='POST', headers={'Content-Type': 'application/json'}))",
        ])
        .arg(format!("{}/moto-api/static/ce/cost-and-usage-results", moto.url()))
        .arg(queued.to_string())
        .status()
        .unwrap();
    assert!(status.success());

    let dir = tmp.path().join("out");
    let out = natcost(
        &[
            "report",
            "--sample",
            "--bill",
            "ce",
            "--endpoint-url",
            &proxy.url(),
            "--out",
            dir.to_str().unwrap(),
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Cost Explorer: 3 request(s) × 0.01 USD = 0.03 USD"),
        "{stderr}"
    );
    assert!(
        stderr.contains("natcost: warning: the bill: 2026-10 123456789012 ap-northeast-2 APN2-NatGateway-Bytes: off by -5.00%: not explained"),
        "{stderr}"
    );
    // What natcost asked: every month at once, then the next page.
    let asked = proxy.stats_json()["ce_requests"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(asked.len(), 3);
    let first = &asked[0];
    assert_eq!(
        first["TimePeriod"],
        serde_json::json!({"Start": "2026-09-01", "End": "2026-11-01"})
    );
    assert_eq!(first["Granularity"], "MONTHLY");
    assert_eq!(
        first["Metrics"],
        serde_json::json!(["UnblendedCost", "UsageQuantity"])
    );
    assert_eq!(
        first["GroupBy"],
        serde_json::json!([{"Type": "DIMENSION", "Key": "USAGE_TYPE"}, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}])
    );
    let filters = first["Filter"]["And"].as_array().unwrap();
    let by_key: BTreeMap<&str, &Value> = filters
        .iter()
        .map(|f| {
            (
                f["Dimensions"]["Key"].as_str().unwrap(),
                &f["Dimensions"]["Values"],
            )
        })
        .collect();
    assert_eq!(by_key["LINKED_ACCOUNT"], &serde_json::json!([acct]));
    assert_eq!(by_key["RECORD_TYPE"], &serde_json::json!(["Usage"]));
    let usage: BTreeSet<&str> = by_key["USAGE_TYPE"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for u in [
        "APN2-NatGateway-Hours",
        "APN2-NatGateway-Bytes",
        "APN2-DataTransfer-Regional-Bytes",
        "APN2-RegionalNatGateway-Hours",
        "APN2-PublicIPv4:InUseAddress",
    ] {
        assert!(usage.contains(u), "{u} not asked: {usage:?}");
    }
    assert!(first.get("NextPageToken").is_none());
    assert_eq!(asked[1]["NextPageToken"], "page-2");
    // The third asks for every record type but usage, by record type and usage type.
    let third = &asked[2];
    assert_eq!(
        third["GroupBy"],
        serde_json::json!([{"Type": "DIMENSION", "Key": "RECORD_TYPE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}])
    );
    let not = third["Filter"]["And"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|f| f.get("Not"))
        .expect("a Not filter");
    assert_eq!(not["Dimensions"]["Key"], "RECORD_TYPE");
    assert_eq!(not["Dimensions"]["Values"], serde_json::json!(["Usage"]));

    // reconcile.csv, read back with a CSV reader.
    let mut reader = csv::Reader::from_path(dir.join("reconcile.csv")).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "month",
            "account_id",
            "region",
            "usage_type",
            "resource_id",
            "billed_quantity",
            "billed_cost_usd",
            "modelled_quantity",
            "modelled_cost_usd",
            "difference_pct",
            "explanation"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let rows: BTreeMap<(String, String, String), &csv::StringRecord> = records
        .iter()
        .map(|r| ((r[0].to_string(), r[2].to_string(), r[3].to_string()), r))
        .collect();
    let row = |month: &str, region: &str, usage: &str| {
        rows.get(&(month.into(), region.into(), usage.into()))
            .unwrap_or_else(|| panic!("no row {month} {region} {usage}: {:?}", rows.keys()))
    };
    let hours = row("2026-10", "ap-northeast-2", "APN2-NatGateway-Hours");
    assert_eq!(&hours[9], "0.3");
    assert_eq!(&hours[10], "");
    assert_eq!(d(&hours[8]), hc);
    let bytes = row("2026-10", "ap-northeast-2", "APN2-NatGateway-Bytes");
    assert_eq!(&bytes[9], "-5");
    assert_eq!(&bytes[10], "off by -5.00%: not explained");
    let transfer = row(
        "2026-10",
        "ap-northeast-2",
        "APN2-DataTransfer-Regional-Bytes",
    );
    assert_eq!(
        &transfer[10],
        "DataTransfer-Regional-Bytes also bills other inter-AZ traffic: natcost's NAT share explains 10.0% of it"
    );
    let oregon = row("2026-10", "us-west-2", "USW2-NatGateway-Hours");
    assert_eq!(
        &oregon[10],
        "account 123456789012 in us-west-2 was not collected"
    );
    assert_eq!(&oregon[8], "");
    let september = row("2026-09", "ap-northeast-2", "APN2-NatGateway-Hours");
    assert_eq!(
        &september[10],
        "partial month: the window covers 120 of its 720 hours"
    );
    // Modelled, not billed (the bill had no such group): flagged, not dropped.
    let ip = row("2026-10", "ap-northeast-2", "APN2-PublicIPv4:InUseAddress");
    assert_eq!(&ip[6], "");
    assert_eq!(
        &ip[10],
        "PublicIPv4 bills every public address of the account: natcost's NAT share explains none of it"
    );
    assert!(stderr
        .contains("2026-10 123456789012 ap-northeast-2 APN2-PublicIPv4:InUseAddress: PublicIPv4"));
    // Every month, account, region and usage type billed or modelled, once: September's 4
    // modelled usage types and October's, plus Oregon.
    assert_eq!(records.len(), 9, "{:?}", rows.keys());
    assert_eq!(rows.len(), 9);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("## Matches the bill?"));
    assert!(md.contains("](reconcile.png)"));
    // reconcile.png decodes, at the size its SVG says.
    let png = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(dir.join("reconcile.png")).unwrap(),
    ));
    let info = png.read_info().unwrap().info().clone();
    assert!(
        info.width >= 1000 && info.height > 600,
        "{}x{}",
        info.width,
        info.height
    );
    let svg = std::fs::read_to_string(dir.join("reconcile.svg")).unwrap();
    assert!(
        svg.contains("NatGateway-Bytes") && svg.contains(" *"),
        "the flagged pair is marked"
    );
    assert!(md.contains("**flagged**: off by -5.00%: not explained"));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["api_calls"]["ce:GetCostAndUsage"], 3);
    // The credit and the discount are read beside usage, as from a CUR; the discount is a
    // rate: the plan's saving is also stated at it.
    let adjustments = report["reconcile"]["adjustments"].as_array().unwrap();
    assert_eq!(adjustments.len(), 2, "{adjustments:?}");
    assert!(adjustments.iter().any(|a| a["line_item_type"] == "Credit"
        && d(a["cost"].as_str().unwrap()) == dec!(-5)
        && a["account_id"] == acct));
    let october_billed =
        (hc / dec!(1.003)).round_dp(6) + (bc / dec!(0.95)).round_dp(6) + tc * dec!(10) + dec!(32.4);
    let pct = (-edp * dec!(100) / october_billed).round_dp(2);
    let net = &report["reconcile"]["net_rate"];
    assert_eq!(d(net["discount_pct"].as_str().unwrap()), pct, "{net}");
    assert_eq!(
        net["kinds"],
        serde_json::json!(["Enterprise Discount Program Discount"])
    );
    let least = d(report["plan"]["monthly_saving"].as_str().unwrap());
    let at_net = (least * (dec!(100) - pct) / dec!(100)).round_dp(2);
    assert!(
        md.contains(&format!(
            "At the bill's net rate (Enterprise Discount Program Discount: {} USD over its months, {pct}% of the billed NAT usage), the plan saves at least {at_net}, up to ",
            edp.round_dp(2)
        )),
        "{md}"
    );
    let policy = policy_actions(&["--bill"], tmp.path());
    assert!(policy.contains("ce:GetCostAndUsage"));

    // Cost Explorer refused: the rest of the report, with the bill named as not collected.
    let denied = Proxy::start(moto.port, &["--deny", "ce:us-east-1"]);
    let out = natcost(
        &[
            "report",
            "--sample",
            "--bill",
            "ce",
            "--endpoint-url",
            &denied.url(),
            "--no-files",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let missing = report["not_collected"][0].as_str().unwrap();
    assert!(
        missing.starts_with("the bill (Cost Explorer): ce:GetCostAndUsage failed: AccessDenied"),
        "{missing}"
    );
    assert!(report.get("reconcile").is_none());
    assert!(!report["nats"].as_array().unwrap().is_empty());
}

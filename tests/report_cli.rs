//! `natcost report` as a user runs it: real files, read back with a CSV reader, a PNG
//! decoder and a JSON parser.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::str::FromStr;

use common::{assert_png, sample_json, write_snapshot};
use rust_decimal::Decimal;
use serde_json::Value;

fn natcost(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_natcost"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("natcost runs")
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r.records().map(|x| x.unwrap()).collect();
    (header, rows)
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|_| panic!("not a decimal: {s:?}"))
}

#[test]
fn sample_report_writes_every_file_consistently() {
    let tmp = tempfile::tempdir().unwrap();
    let out = natcost(&["report", "--sample", "--out", "rep"], tmp.path());
    assert_ok(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("prices: bundled table of 2026-11-01"),
        "{stdout}"
    );
    assert!(stdout.contains("prod-nat-a"), "{stdout}");
    let dir = tmp.path().join("rep");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["report_version"], 3);
    // Every byte metric is there: the totals are exact, and the estimated part is said.
    assert_eq!(report["total_is_lower_bound"], false);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let estimated = dec(report["estimated_window_cost"].as_str().unwrap());
    assert!(estimated > Decimal::ZERO);
    assert!(
        md.contains(&format!(
            "Of the window's cost, {} USD (",
            estimated.round_dp(2)
        )),
        "{md}"
    );

    // costs.csv: exact columns; quantity × unit price = cost on every row; totals match the report.
    let (header, rows) = read_csv(&dir.join("costs.csv"));
    assert_eq!(
        header.join(","),
        "period_start,period_end,account_id,region,vpc_id,resource_type,resource_id,resource_name,availability_zone,usage_type,quantity,unit,unit_price_usd,cost_usd,basis,month"
    );
    assert!(rows.len() > 20);
    let mut total = Decimal::ZERO;
    let mut months = BTreeSet::new();
    let mut usage_types = BTreeSet::new();
    for r in &rows {
        assert_eq!(dec(&r[10]) * dec(&r[12]), dec(&r[13]), "row {r:?}");
        // Inter-AZ transfer is estimated from who sits in each subnet; the rest is measured.
        let expect = if r[9].ends_with("DataTransfer-Regional-Bytes") {
            "estimated"
        } else {
            "measured"
        };
        assert_eq!(&r[14], expect, "row {r:?}");
        assert_eq!(&r[15], &r[0][..7], "month is the period's YYYY-MM");
        total += dec(&r[13]);
        months.insert(r[0].to_string());
        usage_types.insert(r[9].to_string());
    }
    assert_eq!(total, dec(report["total_window_cost"].as_str().unwrap()));
    assert_eq!(months.len(), 2, "the sample spans September and October");
    for ut in [
        "APN2-NatGateway-Hours",
        "APN2-NatGateway-Bytes",
        "APN2-PublicIPv4:InUseAddress",
        "APN2-DataTransfer-Regional-Bytes",
    ] {
        assert!(
            usage_types.contains(ut),
            "{ut} missing from {usage_types:?}"
        );
    }
    let month_sum: Decimal = report["monthly_totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| dec(m["cost"].as_str().unwrap()))
        .sum();
    assert_eq!(month_sum, total);
    // A NAT gateway alive all 864 hours is billed 864 hours.
    let hours: Decimal = rows
        .iter()
        .filter(|r| &r[7] == "prod-nat-a" && &r[9] == "APN2-NatGateway-Hours")
        .map(|r| dec(&r[10]))
        .sum();
    assert_eq!(hours, Decimal::from(864));
    // The one created 2026-10-10 09:41:27 and deleted 2026-10-20 17:05:02: 09:00 to 18:00 ten days later.
    let hours: Decimal = rows
        .iter()
        .filter(|r| &r[7] == "data-migration-nat" && &r[9] == "APN2-NatGateway-Hours")
        .map(|r| dec(&r[10]))
        .sum();
    assert_eq!(hours, Decimal::from(10 * 24 + 9));

    // recommendations.csv: exact columns; the plan's steps first, then do-now, consider and
    // measure-first; each row self-consistent; measure-first rows and steps whose saving is a
    // range (free gateway endpoints, not measured) claim no saving.
    let (header, rows) = read_csv(&dir.join("recommendations.csv"));
    assert_eq!(
        header.join(","),
        "rank,region,vpc_id,resource_id,alternative,monthly_cost_before_usd,monthly_cost_after_usd,monthly_saving_usd,confidence,risk,action,evidence,tier,in_plan,conflicts_with,account_id,resource_name,notes,monthly_saving_on_top_of_plan_usd"
    );
    let plan = &report["plan"];
    let steps: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(steps.len(), 7);
    let ids: Vec<String> = rows
        .iter()
        .map(|r| format!("{}:{}", &r[4], r[3].replace(';', "+")))
        .collect();
    assert_eq!(ids[..7], steps[..], "the plan's steps come first");
    let order = ["do-now", "consider", "measure-first"];
    let mut last_tier = 0;
    let mut alternatives = BTreeSet::new();
    let mut step_sum = Decimal::ZERO;
    let mut on_top_of_steps = Decimal::ZERO;
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], (i + 1).to_string());
        let tier = order.iter().position(|t| *t == &r[12]).unwrap();
        assert!(tier >= last_tier, "tiers in order: {r:?}");
        last_tier = tier;
        assert_eq!(&r[13], if i < 7 { "yes" } else { "no" });
        if r[4].ends_with("-gateway-endpoint") {
            assert_eq!((&r[12], &r[8]), ("do-now", "needs-data"), "{r:?}");
            assert_eq!((&r[6], &r[7]), ("", ""), "{r:?}");
            assert!(r[11].starts_with("saves at least 0 and at most "), "{r:?}");
        } else if &r[12] == "measure-first" {
            assert_eq!(&r[8], "needs-data");
            assert_eq!((&r[6], &r[7]), ("", ""), "{r:?}");
            assert!(r[11].starts_with("measure first: "), "{r:?}");
            assert!(r[11].contains(" is worth "), "{r:?}");
        } else {
            let saving = dec(&r[7]);
            assert_eq!(dec(&r[5]) - dec(&r[6]), saving);
            assert!(saving > Decimal::ZERO);
            assert!(["measured", "estimated"].contains(&&r[8]));
            if i < 7 {
                step_sum += saving;
            }
        }
        for c in r[14].split(';').filter(|c| !c.is_empty()) {
            assert!(
                c.contains(':'),
                "conflict ids are <alternative>:<resource>: {c}"
            );
        }
        // What each row adds to the plan: the steps add up to the plan's saving; no consider
        // row adds nothing; measure-first rows add nothing yet.
        match (i < 7, &r[12]) {
            (true, _) => on_top_of_steps += dec(&r[18]),
            (false, "measure-first") => assert_eq!(&r[18], "", "{r:?}"),
            (false, "consider") if r[14].split(';').all(|c| !steps.contains(&c)) => {
                assert!(dec(&r[18]) > Decimal::ZERO, "{r:?}")
            }
            _ => assert!(!r[18].is_empty(), "{r:?}"),
        }
        assert!(!r[10].is_empty() && !r[11].is_empty());
        assert_eq!(&r[15], "123456789012");
        alternatives.insert(r[4].to_string());
    }
    // Two independent steps with a measured saving: the plan saves their sum, on the state
    // after both; the free endpoints add up to 387.73 more at most.
    assert_eq!(dec(plan["monthly_saving"].as_str().unwrap()), step_sum);
    assert_eq!(step_sum, dec("59.95"));
    assert_eq!(on_top_of_steps, step_sum);
    // The terminal lists five consider rows and counts the rest of the CSV's.
    let consider = rows.iter().filter(|r| &r[12] == "consider").count();
    assert!(consider > 5);
    assert!(
        stdout.contains(&format!("... {} more in recommendations.csv", consider - 5)),
        "{stdout}"
    );
    // A scenario that undoes a step is shown instead of it, with both figures (the terminal
    // wraps long lines).
    let unwrapped = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        unwrapped
            .contains("173.78 alone; instead of step 7 (saves 13.23): the plan saves 160.55 more"),
        "{stdout}"
    );
    assert_eq!(
        dec(plan["monthly_saving_up_to"].as_str().unwrap()),
        dec("447.68")
    );
    assert_eq!(
        dec(plan["monthly_before"].as_str().unwrap())
            - dec(plan["monthly_after"].as_str().unwrap()),
        step_sum
    );
    for s in report["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["not_worth_it"].as_array().unwrap())
    {
        assert!(s["id"].is_string() && s["tier"].is_string() && s["conflicts_with"].is_array());
    }
    assert!(
        stdout.contains("Plan: save at least 59.95, up to 447.68 USD/month (8.6% to 64.0% of 699.88 USD/month) in 7 steps"),
        "{stdout}"
    );
    for alt in [
        "delete-idle-nat",
        "s3-gateway-endpoint",
        "dynamodb-gateway-endpoint",
        "lambda-out-of-vpc",
        "consolidate-nat",
        "nat-instance",
        "ipv6-egress-only",
        "fix-cross-az-route",
    ] {
        assert!(
            alternatives.contains(alt),
            "{alt} not recommended: {alternatives:?}"
        );
    }
    let idle: Vec<_> = rows.iter().filter(|r| &r[4] == "delete-idle-nat").collect();
    assert_eq!(idle.len(), 1);
    assert_eq!(&idle[0][7], "46.72", "730 h × (0.059 + 0.005)");
    assert_eq!(&idle[0][16], "data-nat-b-old");
    // A step that needs a template is a note, never part of the action.
    let tgw = report["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["not_worth_it"].as_array().unwrap())
        .find(|s| s["alternative"] == "centralized-egress-tgw")
        .unwrap();
    assert!(tgw["notes"][0]
        .as_str()
        .unwrap()
        .contains("from a template"));
    let instance = rows.iter().find(|r| &r[4] == "nat-instance").unwrap();
    assert!(
        instance[17].contains("published by AWS account"),
        "{:?}",
        &instance[17]
    );
    // Every scenario's action, the ones not worth it too.
    let actions: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r[10].to_string(), r[17].to_string()))
        .chain(
            report["not_worth_it"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s["action"].as_str().unwrap().to_string(),
                        s["notes"].to_string(),
                    )
                })
                .filter(|(a, _)| !a.is_empty()),
        )
        .collect();
    assert!(actions.len() > rows.len());
    assert_actions_run(&actions);

    // lambdas.csv: every function, lists joined with ';', the cross-AZ ones flagged, with its
    // part of the run-rate as report.json's allocation has it.
    let (header, rows) = read_csv(&dir.join("lambdas.csv"));
    assert_eq!(
        header.join(","),
        "region,function_name,vpc_id,subnet_ids,availability_zones,nat_gateway_ids,cross_az,account_id,monthly_gb,monthly_cost_usd,basis"
    );
    for r in &rows {
        let arn = format!(
            "arn:aws:lambda:ap-northeast-2:123456789012:function:{}",
            &r[1]
        );
        let mine: Vec<&Value> = report["allocation"]["run_rate"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["source"]["id"] == arn.as_str())
            .collect();
        let cost: Decimal = mine
            .iter()
            .map(|x| {
                dec(x["data_processing_usd"].as_str().unwrap())
                    + dec(x["fixed_share_usd"].as_str().unwrap())
                    + dec(x["inter_az_usd"].as_str().unwrap())
            })
            .sum();
        if mine.is_empty() {
            assert_eq!((&r[8], &r[9], &r[10]), ("", "", ""), "{r:?}");
        } else {
            assert_eq!(dec(&r[9]), cost, "{r:?}");
            assert_eq!(&r[10], "estimated-headcount");
        }
    }
    // allocation.csv: every NAT gateway's cost per month split between its sources, adding up
    // to costs.csv; with no flow logs, by head count; the idle NAT gateway on a row of its own.
    let allocation = common::allocation_adds_up(&dir);
    assert!(allocation.iter().any(|r| r["source_kind"] == "idle"));
    let etl: Vec<_> = allocation
        .iter()
        .filter(|r| r["source_name"] == "nightly-etl")
        .collect();
    assert_eq!(etl.len(), 2, "September and October");
    assert!(etl.iter().all(|r| r["basis"] == "estimated-headcount"));
    assert!(rows.iter().all(|r| &r[7] == "123456789012"));
    assert_eq!(rows.len(), 27);
    let etl = rows.iter().find(|r| &r[1] == "nightly-etl").unwrap();
    assert_eq!(&etl[4], "ap-northeast-2c");
    assert_eq!(&etl[6], "true");
    let api = rows.iter().find(|r| &r[1] == "orders-api").unwrap();
    assert_eq!(api[3].split(';').count(), 3);
    assert_eq!(api[5].split(';').count(), 3);
    assert_eq!(&api[6], "false");
    let outside = rows.iter().find(|r| &r[1] == "slack-alerts").unwrap();
    assert_eq!(&outside[2], "");

    // report.md embeds every chart.
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for (file, _) in natcost::CHARTS {
        assert!(
            md.contains(&format!("]({file})")),
            "{file} not in report.md"
        );
        assert_png(&dir.join(file));
        // The vector beside it, titled with the account, the region and the period.
        let svg_file = natcost::svg_name(file);
        assert!(md.contains(&format!("]({svg_file})")));
        let svg = std::fs::read_to_string(dir.join(&svg_file)).unwrap();
        assert!(svg.starts_with("<svg"), "{svg_file}");
        assert!(
            svg.contains("account 123456789012 · ap-northeast-2 · 2026-09-26 00:00 to 2026-11-01 00:00 UTC (864 h)"),
            "{svg_file} has no subtitle"
        );
    }
    // Deleted NAT gateways and the partial month are marked.
    let monthly = std::fs::read_to_string(dir.join("monthly_cost.svg")).unwrap();
    assert!(monthly.contains("(deleted)") && monthly.contains("2026-09*"));
    assert!(monthly.contains("* 2026-09: only 09-26 00:00 to 10-01 00:00 UTC is in the window"));
    // The idle NAT gateway is on the topology chart.
    let topology = std::fs::read_to_string(dir.join("topology.svg")).unwrap();
    assert!(
        topology.contains("data-nat-b-old") && topology.contains("ap-northeast-2b, no traffic")
    );
    assert!(md.contains("## Assumptions"));
    // The sample's flow log configuration tells where to find logs.
    assert!(md.contains("## Flow logs to measure traffic with"));
    assert!(md.contains("→ s3 arn:aws:s3:::acme-flow-logs/prod"));
}

#[test]
fn formats_print_json_and_markdown() {
    let tmp = tempfile::tempdir().unwrap();
    let out = natcost(
        &["report", "--sample", "--no-files", "--format", "json"],
        tmp.path(),
    );
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["account_id"], "123456789012");
    assert_eq!(v["nats"].as_array().unwrap().len(), 7);
    let out = natcost(
        &["report", "--sample", "--no-files", "--format", "markdown"],
        tmp.path(),
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("# NAT gateway cost report"));
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "--no-files wrote files"
    );
}

#[test]
fn default_output_folder_is_named_for_the_snapshot_and_window() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snapshot(tmp.path(), "acme.json", &sample_json());
    let out = natcost(
        &[
            "report",
            "--snapshot",
            snap.to_str().unwrap(),
            "--prices",
            "bundled",
        ],
        tmp.path(),
    );
    assert_ok(&out);
    assert!(tmp
        .path()
        .join("reports/acme-2026-11-01/costs.csv")
        .exists());
    // A part of the snapshot gets a folder of its own, leaving the whole one as it was.
    let before = std::fs::read(tmp.path().join("reports/acme-2026-11-01/costs.csv")).unwrap();
    let out = natcost(
        &[
            "report",
            "--snapshot",
            snap.to_str().unwrap(),
            "--days",
            "7",
            "--prices",
            "bundled",
        ],
        tmp.path(),
    );
    assert_ok(&out);
    assert!(tmp
        .path()
        .join("reports/acme-2026-10-25_2026-11-01/costs.csv")
        .exists());
    assert_eq!(
        std::fs::read(tmp.path().join("reports/acme-2026-11-01/costs.csv")).unwrap(),
        before
    );
}

fn assert_fails(args: &[&str], cwd: &Path, expect: &str) {
    let out = natcost(args, cwd);
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("natcost: error: "), "{err}");
    assert!(err.contains(expect), "{err:?} does not say {expect:?}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_snapshots_fail_with_one_line_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let good = serde_json::to_string(&sample_json()).unwrap();

    std::fs::write(d.join("truncated.json"), &good[..good.len() / 2]).unwrap();
    std::fs::write(d.join("corrupt.json"), "this is not json").unwrap();
    let mut future = sample_json();
    future["schema_version"] = 99.into();
    write_snapshot(d, "future.json", &future);
    let mut nowhere = sample_json();
    nowhere["accounts"][0]["regions"][0]["region"] = "xx-nowhere-1".into();
    write_snapshot(d, "nowhere.json", &nowhere);
    let mut short = sample_json();
    short["accounts"][0]["regions"][0]["metrics"][0]["values"]
        .as_array_mut()
        .unwrap()
        .pop();
    write_snapshot(d, "short.json", &short);
    let mut unpriced = sample_json();
    unpriced["accounts"][0]["regions"][0]["region"] = "ap-south-2".into();
    write_snapshot(d, "unpriced.json", &unpriced);
    // A crafted id would reach a command: refused when the snapshot is read.
    let mut shell = sample_json();
    let table = &mut shell["accounts"][0]["regions"][0]["route_tables"][0]["route_table_id"];
    *table = format!("{}$(touch pwned)", table.as_str().unwrap()).into();
    write_snapshot(d, "shell.json", &shell);
    let mut function = sample_json();
    function["accounts"][0]["regions"][0]["lambda_functions"][0]["function_name"] =
        "orders;reboot".into();
    write_snapshot(d, "function.json", &function);
    // A security group of a VPC function goes into an ipv6-egress-only command.
    let mut group = sample_json();
    let vpc_fn = group["accounts"][0]["regions"][0]["lambda_functions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["vpc_config"].is_object())
        .unwrap();
    vpc_fn["vpc_config"]["security_group_ids"] = serde_json::json!(["sg-1`reboot`"]);
    write_snapshot(d, "group.json", &group);

    let cases = [
        ("missing.json", "cannot read snapshot missing.json"),
        ("truncated.json", "not valid JSON (corrupt or truncated?)"),
        ("corrupt.json", "not valid JSON"),
        (
            "future.json",
            "schema_version 99 is newer than this natcost understands",
        ),
        ("nowhere.json", "unknown AWS region \"xx-nowhere-1\""),
        ("short.json", "863 hourly values for a 864-hour window"),
        (
            "unpriced.json",
            "no prices for ap-south-2: natcost bundles none for it; price it from the Pricing API (--prices live, with AWS credentials)",
        ),
        (
            "shell.json",
            "$(touch pwned)\" is not in AWS's format: refused, as it would be placed in a command",
        ),
        (
            "function.json",
            "function_name \"orders;reboot\" is not in AWS's format",
        ),
        (
            "group.json",
            "security_group_id \"sg-1`reboot`\" is not in AWS's format",
        ),
    ];
    for (file, expect) in cases {
        assert_fails(
            &[
                "report",
                "--snapshot",
                file,
                "--out",
                "out",
                "--prices",
                "bundled",
            ],
            d,
            expect,
        );
        assert!(!d.join("out").exists(), "{file}: wrote output");
        assert!(!d.join("reports").exists(), "{file}: wrote output");
    }
    assert!(!d.join("pwned").exists());
}

#[test]
fn a_failed_run_keeps_the_previous_report() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    assert!(natcost(&["report", "--sample", "--out", "out"], d)
        .status
        .success());
    let before = std::fs::read(d.join("out/costs.csv")).unwrap();
    let mut bad = sample_json();
    bad["accounts"][0]["regions"][0]["region"] = "ap-south-2".into();
    write_snapshot(d, "bad.json", &bad);
    assert_fails(
        &[
            "report",
            "--snapshot",
            "bad.json",
            "--out",
            "out",
            "--prices",
            "bundled",
        ],
        d,
        "no price",
    );
    assert_eq!(std::fs::read(d.join("out/costs.csv")).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn spreadsheet_formulas_in_names_are_neutralised() {
    let tmp = tempfile::tempdir().unwrap();
    let mut v = sample_json();
    let evil = "=HYPERLINK(\"http://x\",\"click\")";
    v["accounts"][0]["regions"][0]["nat_gateways"][0]["tags"]["Name"] = evil.into();
    // Lambda's own name format allows a leading '-', which a spreadsheet reads as a formula.
    v["accounts"][0]["regions"][0]["lambda_functions"][0]["function_name"] = "-1-1".into();
    let snap = write_snapshot(tmp.path(), "evil.json", &v);
    let out = natcost(
        &[
            "report",
            "--snapshot",
            snap.to_str().unwrap(),
            "--out",
            "o",
            "--prices",
            "bundled",
        ],
        tmp.path(),
    );
    assert!(out.status.success());
    let (_, rows) = read_csv(&tmp.path().join("o/costs.csv"));
    let names: BTreeSet<&str> = rows.iter().map(|r| r.get(7).unwrap()).collect();
    assert!(names.contains(format!("'{evil}").as_str()), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with('=')));
    let (_, rows) = read_csv(&tmp.path().join("o/lambdas.csv"));
    assert!(rows.iter().any(|r| &r[1] == "'-1-1"));
}

#[test]
fn snapshot_round_trips() {
    let snap = natcost::snapshot::Snapshot::from_json(natcost::SAMPLE_SNAPSHOT).unwrap();
    let again = natcost::snapshot::Snapshot::from_json(&snap.to_json()).unwrap();
    assert_eq!(snap, again);
    assert_eq!(snap.regions[0].lambda_functions.len(), 27);
    assert_eq!(snap.regions[0].nat_gateways.len(), 7);
}

/// Every file and folder under `dir`, with its bytes (folders end with `/`).
fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
            if p.is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A folder someone else uses: a notes file and a subfolder with a file in it.
fn users_folder(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("notes.txt"), "my notes\n").unwrap();
    std::fs::write(dir.join("sub/data.bin"), [0u8, 1, 2, 255]).unwrap();
    tree(dir)
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_report_files(dir: &Path) {
    for f in ["costs.csv", "report.md", "report.json", "topology.png"] {
        assert!(dir.join(f).is_file(), "{f} not written");
    }
    let marker = std::fs::read_to_string(dir.join(".natcost-report")).unwrap();
    assert!(
        marker.starts_with("written by natcost ")
            && marker.contains("Delete this file to protect it."),
        "{marker}"
    );
}

#[test]
fn a_folder_with_other_files_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let before = users_folder(&d.join("mine"));
    assert_fails(
        &["report", "--sample", "--out", "mine"],
        d,
        "refusing to write the report into mine: it holds files natcost did not write (notes.txt, sub/); choose another --out or pass --force",
    );
    assert_eq!(tree(&d.join("mine")), before);
    // A folder holding only report files but no mark (an older report, a copy) is refused too.
    std::fs::create_dir(d.join("old")).unwrap();
    std::fs::write(d.join("old/costs.csv"), "kept").unwrap();
    assert_fails(
        &["report", "--sample", "--out", "old"],
        d,
        "it was not written by natcost (no .natcost-report); choose another --out or pass --force",
    );
    assert_eq!(std::fs::read(d.join("old/costs.csv")).unwrap(), b"kept");
    assert_eq!(tree(d).len(), before.len() + 3, "nothing else written");
}

#[test]
fn force_adds_the_report_and_keeps_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let dir = d.join("mine");
    let before = users_folder(&dir);
    assert_ok(&natcost(
        &["report", "--sample", "--out", "mine", "--force"],
        d,
    ));
    assert_report_files(&dir);
    let after = tree(&dir);
    for (name, bytes) in &before {
        assert_eq!(after.get(name), Some(bytes), "{name} changed");
    }
    // Still holding other files: refused again without --force, merged again with it.
    assert_fails(
        &["report", "--sample", "--out", "mine"],
        d,
        "it holds files natcost did not write (notes.txt, sub/)",
    );
    assert_ok(&natcost(
        &["report", "--sample", "--out", "mine", "--force"],
        d,
    ));
    assert_eq!(tree(&dir), after);
    let leftovers: Vec<_> = tree(d)
        .into_keys()
        .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_current_folder_and_its_parents_are_refused_even_with_force() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("work");
    let before_cwd = users_folder(&cwd);
    std::fs::write(tmp.path().join("beside.txt"), "beside").unwrap();
    let before = tree(tmp.path());
    let abs = cwd.to_str().unwrap().to_string();
    let parent = tmp.path().to_str().unwrap().to_string();
    for (out, why) in [
        (".", "it is the current folder"),
        ("./", "it is the current folder"),
        (abs.as_str(), "it is the current folder"),
        ("..", "it holds the current folder"),
        ("sub/../..", "it holds the current folder"),
        (parent.as_str(), "it holds the current folder"),
        ("/", "it holds the current folder"),
    ] {
        for force in [false, true] {
            let mut args = vec!["report", "--sample", "--out", out];
            if force {
                args.push("--force");
            }
            assert_fails(&args, &cwd, why);
            assert_eq!(tree(tmp.path()), before, "--out {out} changed files");
        }
    }
    assert_eq!(tree(&cwd), before_cwd);
}

#[test]
fn natcosts_own_folder_is_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    assert_ok(&natcost(&["report", "--sample", "--out", "rep"], d));
    assert_report_files(&d.join("rep"));
    std::fs::write(d.join("rep/costs.csv"), "stale").unwrap();
    std::fs::write(d.join("rep/snapshot.json"), "from a live run").unwrap();
    assert_ok(&natcost(&["report", "--sample", "--out", "rep"], d));
    assert_report_files(&d.join("rep"));
    assert_ne!(std::fs::read(d.join("rep/costs.csv")).unwrap(), b"stale");
    assert!(
        !d.join("rep/snapshot.json").exists(),
        "the old report's files are replaced whole"
    );
    let names: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, vec!["rep".to_string()], "no leftovers");
}

#[test]
fn the_snapshot_being_read_is_never_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    assert_ok(&natcost(&["report", "--sample", "--out", "DIR"], d));
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples/seoul.json");
    let bytes = std::fs::read(&sample).unwrap();
    std::fs::write(d.join("DIR/snapshot.json"), &bytes).unwrap();
    std::fs::write(d.join("DIR/costs.csv"), "stale").unwrap();
    let args = [
        "report",
        "--snapshot",
        "DIR/snapshot.json",
        "--out",
        "DIR",
        "--prices",
        "bundled",
    ];
    assert_ok(&natcost(&args, d));
    assert_eq!(std::fs::read(d.join("DIR/snapshot.json")).unwrap(), bytes);
    assert_ne!(std::fs::read(d.join("DIR/costs.csv")).unwrap(), b"stale");
    assert_report_files(&d.join("DIR"));
    // Again, from the folder just written: still kept.
    assert_ok(&natcost(&args, d));
    assert_eq!(std::fs::read(d.join("DIR/snapshot.json")).unwrap(), bytes);

    // A snapshot where natcost would write a report file is refused, even with --force.
    std::fs::write(d.join("DIR/costs.csv"), &bytes).unwrap();
    let before = tree(d);
    assert_fails(
        &[
            "report",
            "--snapshot",
            "DIR/costs.csv",
            "--out",
            "DIR",
            "--prices",
            "bundled",
            "--force",
        ],
        d,
        "refusing to write the report into DIR: costs.csv there is the snapshot being read",
    );
    assert_eq!(tree(d), before);
}

#[test]
fn an_empty_folder_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join("empty")).unwrap();
    assert_ok(&natcost(&["report", "--sample", "--out", "empty"], d));
    assert_report_files(&d.join("empty"));
}

#[test]
fn the_default_folder_follows_the_same_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_snapshot(d, "acme.json", &sample_json());
    let dir = d.join("reports/acme-2026-11-01");
    let before = users_folder(&dir);
    let args = ["report", "--snapshot", "acme.json", "--prices", "bundled"];
    assert_fails(
        &args,
        d,
        "refusing to write the report into reports/acme-2026-11-01: it holds files natcost did not write",
    );
    assert_eq!(tree(&dir), before);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_ok(&natcost(&args, d));
    assert_ok(&natcost(&args, d));
    assert_report_files(&dir);
}

/// Exit code 2 and one line of stderr that says `expect`.
fn assert_usage(args: &[&str], expect: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = natcost(args, tmp.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(expect), "{args:?}: {stderr}");
    assert!(
        std::fs::read_dir(tmp.path()).unwrap().next().is_none(),
        "{args:?} wrote files"
    );
}

#[test]
fn bad_command_lines_exit_2_and_say_why() {
    assert_usage(
        &["report"],
        "<--snapshot <FILE>|--sample|--region <REGION>|--all-regions>",
    );
    assert_usage(
        &["report", "--sample", "--days", "0"],
        "0 is not in 1..=455",
    );
    assert_usage(
        &["report", "--sample", "--month", "2026-13"],
        "not a month: use YYYY-MM",
    );
    assert_usage(
        &["report", "--sample", "--month=+262142-12"],
        "not a month AWS has billed",
    );
    assert_usage(
        &["report", "--sample", "--months", "16"],
        "16 is not in 1..=15",
    );
    assert_usage(
        &["report", "--sample", "--profile", "prod"],
        "--sample cannot be used with --profile: nothing is read from AWS",
    );
    assert_usage(
        &["report", "--sample", "--endpoint-url", "http://127.0.0.1:9"],
        "--endpoint-url needs --region, --prices live, --athena-table, or --flow-logs from S3, a log group or auto",
    );
    assert_usage(
        &["report", "--region", "seoul"],
        "did you mean ap-northeast-2 (Seoul)?",
    );
    assert_usage(
        &["prices", "--region", "Frankfurt"],
        "did you mean eu-central-1 (Frankfurt)?",
    );
    // Both missing arguments at once.
    let tmp = tempfile::tempdir().unwrap();
    let out = natcost(&["flows"], tmp.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("--flow-logs <PATH|s3://…|log-group:NAME|auto>")
            && stderr.contains("--snapshot <FILE>"),
        "{stderr}"
    );
    // A window with no hour in the snapshot.
    assert_usage(
        &["report", "--sample", "--month", "2026-12", "--no-files"],
        "the snapshot covers 2026-09-26 00:00 to 2026-11-01 00:00 UTC: nothing of 2026-12-01",
    );
}

#[test]
fn window_flags_select_that_part_of_a_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str], out: &str| {
        let mut all = vec!["report", "--sample", "--out", out];
        all.extend_from_slice(args);
        let o = natcost(&all, tmp.path());
        assert_ok(&o);
        (o, read_csv(&tmp.path().join(out).join("costs.csv")))
    };
    // October alone: 744 hours, and every cost line is October's.
    let (o, (header, rows)) = run(&["--month", "2026-10"], "october");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("2026-10-01 00:00 to 2026-11-01 00:00 UTC (744 h)"),
        "{stdout}"
    );
    let start = header.iter().position(|h| h == "period_start").unwrap();
    assert!(rows.iter().all(|r| r[start].starts_with("2026-10-01")));
    let hours = header.iter().position(|h| h == "usage_type").unwrap();
    let qty = header.iter().position(|h| h == "quantity").unwrap();
    let nat_hours: Vec<Decimal> = rows
        .iter()
        .filter(|r| r[hours].ends_with("NatGateway-Hours"))
        .map(|r| dec(&r[qty]))
        .collect();
    assert!(nat_hours.contains(&Decimal::from(744)), "{nat_hours:?}");
    // The last 7 days end at the snapshot's end.
    let (o, _) = run(&["--days", "7"], "week");
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("2026-10-25 00:00 to 2026-11-01 00:00 UTC (168 h)"));
    // Part of September is in the sample: cut to it, and said.
    let (o, _) = run(&["--month", "2026-09"], "september");
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("the snapshot covers only 2026-09-26 00:00 to 2026-10-01 00:00 UTC"));
}

#[test]
fn price_keywords_in_any_case_and_a_bare_prices() {
    let tmp = tempfile::tempdir().unwrap();
    let o = natcost(
        &["report", "--sample", "--prices", "Bundled", "--no-files"],
        tmp.path(),
    );
    assert_ok(&o);
    let o = natcost(&["prices"], tmp.path());
    assert_ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("APN2-NatGateway-Hours") && stdout.contains("eu-west-1"));
    let help = natcost(&["prices", "--help"], tmp.path());
    assert_ok(&help);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--prices") && !help.contains("--sample"),
        "{help}"
    );
}

#[test]
fn unreachable_aws_is_one_line_without_sdk_debug() {
    let tmp = tempfile::tempdir().unwrap();
    // A closed loopback port: the connection is refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_natcost"))
        .args([
            "report",
            "--region",
            "ap-northeast-2",
            "--no-files",
            "--quiet",
        ])
        .args(["--endpoint-url", &format!("http://127.0.0.1:{port}")])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("sts:GetCallerIdentity failed: cannot reach"),
        "{stderr}"
    );
    assert!(stderr.contains("connection refused"), "{stderr}");
    for dump in ["DispatchFailure", "ConnectorError", "hyper", "{"] {
        assert!(!stderr.contains(dump), "{dump}: {stderr}");
    }
}

#[test]
fn flow_log_paths_are_checked_before_anything_else() {
    let tmp = tempfile::tempdir().unwrap();
    // No credentials and no network are needed to learn the path is wrong.
    assert_fails(
        &[
            "report",
            "--region",
            "ap-northeast-2",
            "--flow-logs",
            "no-such-dir",
            "--no-files",
        ],
        tmp.path(),
        "cannot read flow logs no-such-dir",
    );
}

/// Every action is a sequence of AWS CLI commands a user can paste: `bash -n` parses it, each
/// step is `aws …`, `VAR=$(aws …)` or `for V in $(aws …); do aws …; done`, and every `$VAR` it
/// reads is set by an earlier step (or its loop) or named in the scenario's notes (what the user
/// must fill in).
fn assert_actions_run(actions: &[(String, String)]) {
    let tmp = tempfile::tempdir().unwrap();
    let is_var = |v: &str| {
        !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    for (i, (action, notes)) in actions.iter().enumerate() {
        let mut set: Vec<&str> = Vec::new();
        for step in action.split(" && ") {
            // `for V in $(aws …); do aws …; done`: both commands are checked, V is set.
            let (step, body) = match step
                .strip_prefix("for ")
                .and_then(|s| s.strip_suffix("; done"))
                .and_then(|s| s.split_once(" in $("))
                .and_then(|(var, rest)| Some((var, rest.split_once("); do ")?)))
            {
                Some((var, (list, body))) if is_var(var) => {
                    set.push(var);
                    (list, Some(body))
                }
                _ => (step, None),
            };
            let command = match step.split_once("=$(") {
                Some((var, rest)) if is_var(var) => {
                    set.push(var);
                    rest.strip_suffix(')').unwrap_or(rest)
                }
                _ => step,
            };
            let command = match body {
                Some(body) => {
                    assert!(body.starts_with("aws "), "action {}: {step}", i + 1);
                    format!("{command} {body}")
                }
                None => command.to_string(),
            };
            assert!(
                command.starts_with("aws "),
                "action {}: not an aws command: {step}",
                i + 1
            );
            for used in command.split('$').skip(1) {
                let name: String = used
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if name.is_empty() {
                    continue;
                }
                assert!(
                    set.contains(&name.as_str()) || notes.contains(&name),
                    "action {}: ${name} is neither set before nor explained in the notes: {action}",
                    i + 1
                );
            }
        }
        let script = tmp.path().join(format!("action-{i}.sh"));
        std::fs::write(&script, action).unwrap();
        let out = Command::new("bash")
            .arg("-n")
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "action {}: bash -n: {}\n{action}",
            i + 1,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_summary_fits_the_terminal_and_wide_shows_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |extra: &[&str], columns: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_natcost"))
            .args(["report", "--sample", "--no-files"])
            .args(extra)
            .env("COLUMNS", columns)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert_ok(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let narrow = run(&[], "80");
    for line in narrow.lines() {
        assert!(
            line.chars().count() <= 80 || !line.trim().contains(' '),
            "{} columns: {line}",
            line.chars().count()
        );
    }
    // The table dropped columns to fit; the long commands wait in report.md.
    assert!(narrow.contains("NAT gateway                   Lambdas  GB processed  Monthly USD"));
    assert!(!narrow.contains("aws ec2 create-flow-logs"));
    let unwrapped = narrow.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(unwrapped.contains("--wide prints them here"), "{narrow}");
    let wide = run(&["--wide"], "80");
    assert!(wide.lines().any(|l| l.chars().count() > 200));
    assert!(wide.contains("vpc-0dc83bf6145e8900b  ap-northeast-2a"));
    assert!(wide.contains("aws ec2 create-flow-logs --region ap-northeast-2"));
}

#[test]
fn completions_and_a_man_page() {
    let tmp = tempfile::tempdir().unwrap();
    for (shell, says) in [
        ("bash", "complete -F _natcost"),
        ("zsh", "#compdef natcost"),
        ("fish", "complete -c natcost"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = natcost(&["completions", shell], tmp.path());
        assert_ok(&out);
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(says), "{shell}");
        assert!(script.contains("flow-logs"), "{shell}");
    }
    // The bash script parses.
    let out = natcost(&["completions", "bash"], tmp.path());
    let file = tmp.path().join("natcost.bash");
    std::fs::write(&file, &out.stdout).unwrap();
    assert!(Command::new("bash")
        .arg("-n")
        .arg(&file)
        .status()
        .unwrap()
        .success());
    let man = natcost(&["man"], tmp.path());
    assert_ok(&man);
    let roff = String::from_utf8(man.stdout).unwrap();
    assert!(roff.starts_with(".ie"), "{}", &roff[..40]);
    assert!(roff.contains(".TH natcost 1"));
    assert_usage(&["completions", "tcsh"], "invalid value 'tcsh'");
}

#[test]
fn a_second_currency_beside_usd() {
    let tmp = tempfile::tempdir().unwrap();
    let out = natcost(
        &[
            "report",
            "--sample",
            "--currency",
            "KRW",
            "--fx-rate",
            "1400",
            "--out",
            "won",
        ],
        tmp.path(),
    );
    assert_ok(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    // 59.95 × 1400, 447.68 × 1400, 719.40 × 1400 and 5372.16 × 1400.
    assert!(
        stdout.contains(
            "Plan: save at least 59.95 (83,930 KRW), up to 447.68 USD/month (626,752 KRW)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("719.40 (1,007,160 KRW) to 5372.16 USD/year (7,521,024 KRW)"),
        "{stdout}"
    );
    assert!(stdout.contains("(1,007,160 KRW)"), "{stdout}");
    let dir = tmp.path().join("won");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains("Monthly run-rate: 699.88 USD (979,832 KRW)"),
        "KRW in report.md"
    );
    let svg = std::fs::read_to_string(dir.join("alternatives.svg")).unwrap();
    assert!(svg.contains("1 USD = 1400 KRW") && svg.contains("(83,930 KRW)"));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["fx"]["currency"], "KRW");
    assert_eq!(json["fx"]["rate"], "1400");
    // The CSV files stay in USD.
    let (header, _) = read_csv(&dir.join("costs.csv"));
    assert!(!header.iter().any(|h| h.contains("krw")));
    assert_usage(
        &["report", "--sample", "--currency", "KRW"],
        "--fx-rate <RATE>",
    );
    assert_usage(
        &["report", "--sample", "--currency", "won!", "--fx-rate", "1"],
        "not an ISO 4217 currency code",
    );
    assert_usage(
        &["report", "--sample", "--currency", "KRW", "--fx-rate", "0"],
        "not a positive number",
    );
}

#[test]
fn charts_stay_readable_with_many_nat_gateways() {
    // The sample's seven NAT gateways five times over: 35.
    let snap = sample_with_nats(35, false);
    let tmp = tempfile::tempdir().unwrap();
    let path = write_snapshot(tmp.path(), "many.json", &snap);
    let out = natcost(
        &[
            "report",
            "--snapshot",
            path.to_str().unwrap(),
            "--prices",
            "bundled",
            "--out",
            "many",
        ],
        tmp.path(),
    );
    assert_ok(&out);
    let dir = tmp.path().join("many");
    let monthly = std::fs::read_to_string(dir.join("monthly_cost.svg")).unwrap();
    // The 8 costliest NAT gateways in colour, the other 27 one grey stack a month.
    assert!(monthly.contains("27 others"), "others summed");
    assert!(monthly.contains("grey adds up the other 27"));
    let daily = std::fs::read_to_string(dir.join("daily_gb.svg")).unwrap();
    assert!(daily.contains("26 others, summed"));
    let topology = std::fs::read_to_string(dir.join("topology.svg")).unwrap();
    assert!(topology.contains("27 other NAT gateways"));
    for (file, _) in natcost::CHARTS {
        assert_png(&dir.join(file));
        let decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(dir.join(file)).unwrap(),
        ));
        let info = decoder.read_info().unwrap().info().clone();
        assert!(
            info.width <= 6000 && info.height <= 4000,
            "{file}: {}x{}",
            info.width,
            info.height
        );
    }
}

/// reports/sample/ is exactly what `natcost report --sample` writes: every file byte for byte,
/// the charts compared as their SVG text (each PNG is rasterised from its SVG, so only its size
/// is compared). Any change of a figure, a word or a chart shows here as a diff to review; after
/// reviewing it, render the sample again with
/// `cargo run -- report --sample --out reports/sample --quiet`.
#[test]
fn the_committed_sample_report_is_what_natcost_renders() {
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("fresh");
    let out = natcost(
        &[
            "report",
            "--sample",
            "--out",
            fresh.to_str().unwrap(),
            "--quiet",
        ],
        tmp.path(),
    );
    assert_ok(&out);
    let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("reports/sample");
    let files = |dir: &Path| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(files(&golden), files(&fresh), "the same files");
    for name in files(&golden) {
        let (want, got) = (golden.join(&name), fresh.join(&name));
        if name.ends_with(".png") {
            let size = |p: &Path| {
                let d = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(p).unwrap()));
                let info = d.read_info().unwrap().info().clone();
                (info.width, info.height)
            };
            assert_eq!(size(&want), size(&got), "{name}: size");
            continue;
        }
        if name.ends_with(".xlsx") {
            // The same sheets, cells, formulas and stored results (the pictures inside are
            // PNGs, compared above).
            let (want, got) = (common::xlsx_cells(&want), common::xlsx_cells(&got));
            assert_eq!(want["order"], got["order"], "{name}");
            assert_eq!(want["sheets"], got["sheets"], "{name}");
            continue;
        }
        let (want, got) = (
            std::fs::read_to_string(&want).unwrap(),
            std::fs::read_to_string(&got).unwrap(),
        );
        if want != got {
            let line = want
                .lines()
                .zip(got.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(want.lines().count().min(got.lines().count()));
            panic!(
                "reports/sample/{name} differs from a fresh render at line {}:\n  committed: {:?}\n  rendered:  {:?}",
                line + 1,
                want.lines().nth(line),
                got.lines().nth(line)
            );
        }
    }
}

#[test]
fn fixed_costs_can_be_kept_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let out = natcost(
        &[
            "report",
            "--sample",
            "--fixed-costs",
            "separate",
            "--out",
            "rep",
        ],
        tmp.path(),
    );
    assert_ok(&out);
    let rows = common::allocation_adds_up(&tmp.path().join("rep"));
    // One shared row per NAT gateway and month holds its hours and public IPv4; the sources
    // carry only what their bytes cost.
    let shared: Vec<_> = rows
        .iter()
        .filter(|r| r["source_kind"] == "shared")
        .collect();
    let months: BTreeSet<(&str, &str)> = rows
        .iter()
        .filter(|r| r["source_kind"] != "idle")
        .map(|r| (r["month"].as_str(), r["nat_gateway_id"].as_str()))
        .collect();
    assert_eq!(shared.len(), months.len());
    assert!(rows
        .iter()
        .filter(|r| matches!(r["source_kind"].as_str(), "lambda" | "eni" | "subnet"))
        .all(|r| r["fixed_share_usd"] == "0"));
    let bad = natcost(&["report", "--sample", "--fixed-costs", "even"], tmp.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("proportional, separate"));
    let bad = natcost(&["report", "--sample", "--allocate-by", "team"], tmp.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use tag:KEY, e.g. tag:team"));
    // The sample's functions carry a team tag and its NAT gateways the platform team's; the
    // EMR node's interface has none.
    let out = natcost(
        &[
            "report",
            "--sample",
            "--allocate-by",
            "tag:team",
            "--out",
            "teams",
        ],
        tmp.path(),
    );
    assert_ok(&out);
    let rows = common::allocation_adds_up(&tmp.path().join("teams"));
    let sample: Value = serde_json::from_str(natcost::SAMPLE_SNAPSHOT).unwrap();
    let tags = &sample["accounts"][0]["regions"][0]["resource_tags"];
    for r in &rows {
        let want = match r["source_kind"].as_str() {
            "lambda" => tags[r["source"].as_str()]["team"].as_str().unwrap(),
            "eni" => "(untagged)",
            _ => "platform",
        };
        assert_eq!(r["team"], want, "{r:?}");
    }
    let teams: BTreeSet<&str> = rows.iter().map(|r| r["team"].as_str()).collect();
    assert!(teams.is_superset(&BTreeSet::from([
        "orders",
        "payments",
        "platform",
        "(untagged)"
    ])));
    assert_png(&tmp.path().join("teams/allocation.png"));
}

#[test]
fn diff_explains_the_change_between_two_saved_reports() {
    let tmp = tempfile::tempdir().unwrap();
    common::october_and_whole(tmp.path(), &[]);
    let total = |dir: &str| {
        let v: Value = serde_json::from_str(
            &std::fs::read_to_string(tmp.path().join(dir).join("report.json")).unwrap(),
        )
        .unwrap();
        dec(v["total_window_cost"].as_str().unwrap())
    };
    let c = common::diff_json(tmp.path(), "october/report.json", "whole");
    let change = dec(c["change"].as_str().unwrap());
    assert_eq!(change, total("whole") - total("october"));
    // Each explanation adds up to the total change, exactly.
    for list in ["by_nat", "by_component"] {
        let sum: Decimal = c[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| dec(x["change"].as_str().unwrap()))
            .sum();
        assert_eq!(sum, change, "{list}");
    }
    assert_eq!(c["by_nat"][0]["label"], "prod-nat-a");
    assert_eq!(c["by_source"].as_array().unwrap().len(), 0, "no flow logs");
    // As a table and as Markdown, the shown columns add up to the shown totals.
    let table = natcost(&["diff", "october", "whole"], tmp.path());
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("738.86 → 850.68 USD (+111.82)"), "{text}");
    assert!(text.contains("prod-nat-a +34.16 USD: +413.10 GB"), "{text}");
    let md = natcost(
        &["diff", "october", "whole", "--format", "markdown"],
        tmp.path(),
    );
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.starts_with("# What changed\n"), "{md}");
    for table in md.split("**By ").skip(1) {
        let mut shown = [Decimal::ZERO; 3];
        let mut totals = None;
        for row in table
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| What"))
        {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let nums: Vec<Decimal> = cells[2..5]
                .iter()
                .map(|c| dec(c.trim_start_matches('+')))
                .collect();
            if cells[1] == "**Total**" {
                totals = Some(nums);
            } else {
                for i in 0..3 {
                    shown[i] += nums[i];
                }
            }
        }
        assert_eq!(totals.unwrap(), shown.to_vec(), "{table}");
    }
    // Anything else is refused in one line.
    std::fs::write(tmp.path().join("x.json"), "{}").unwrap();
    let bad = natcost(&["diff", "x.json", "whole"], tmp.path());
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8(bad.stderr).unwrap();
    assert!(err.contains("x.json is not a natcost report.json"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Issue 26 §1: every total shown, in report.md and the terminal, is the sum of the lines shown
/// above it (a rounding line where the cents of the lines do not make the total's), on the
/// sample, with teams, and with two accounts.
#[test]
fn displayed_totals_add_up_to_the_cent() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str], out: &str| -> (String, String) {
        let mut all = args.to_vec();
        all.extend(["--out", out]);
        let o = natcost(&all, tmp.path());
        assert_ok(&o);
        let md = std::fs::read_to_string(tmp.path().join(out).join("report.md")).unwrap();
        (String::from_utf8(o.stdout).unwrap(), md)
    };

    let (terminal, md) = run(&["report", "--sample", "--allocate-by", "tag:team"], "s");
    // The NAT gateways (GB, window, monthly), month over month (cost, GB), the plan, the two
    // months' cost lines, internet egress (GB, USD) and the teams (GB, USD).
    assert_eq!(common::markdown_totals_add_up(&md), 12, "{md}");
    // The sample's cost lines round away from their month's total: the rounding line shows it.
    assert!(md.contains("| (rounding of the lines above) |  |  |  |  |  | -0.04 |"));
    assert!(md.contains("| **Total** 2026-10 |  |  |  |  |  | **738.86** |"));
    assert!(md.contains("is not the sum of the rows' most"), "{md}");
    assert_eq!(common::terminal_totals_add_up(&terminal), 4, "{terminal}");
    assert!(
        terminal
            .contains("By month: 2026-09 111.81 + 2026-10 738.86 + rounding +0.01 = 850.68 USD"),
        "{terminal}"
    );
    let (wide, _) = run(&["report", "--sample", "--wide"], "w");
    assert_eq!(common::terminal_totals_add_up(&wide), 4, "{wide}");

    // A second account: a copy of the sample's under other ids.
    let mut snap = sample_json();
    let text = serde_json::to_string(&snap["accounts"][0]).unwrap();
    let mut other = text.replace("123456789012", "210987654321");
    for prefix in [
        "nat-",
        "vpc-",
        "subnet-",
        "eni-",
        "rtb-",
        "eipalloc-",
        "vpce-",
        "fl-",
        "pl-",
    ] {
        other = other.replace(&format!("\"{prefix}0"), &format!("\"{prefix}1"));
        other = other.replace(&format!(" {prefix}0"), &format!(" {prefix}1"));
        other = other.replace(&format!("/{prefix}0"), &format!("/{prefix}1"));
    }
    let other: Value = serde_json::from_str(&other).unwrap();
    snap["accounts"].as_array_mut().unwrap().push(other);
    let path = write_snapshot(tmp.path(), "two.json", &snap);
    let (terminal, md) = run(
        &[
            "report",
            "--snapshot",
            path.to_str().unwrap(),
            "--prices",
            "bundled",
        ],
        "two",
    );
    assert!(md.contains("## Accounts"), "{md}");
    // The accounts (window, monthly, plan) on top of the tables above, without the teams.
    assert_eq!(common::markdown_totals_add_up(&md), 13, "{md}");
    assert_eq!(common::terminal_totals_add_up(&terminal), 6, "{terminal}");
    let (wide, _) = run(
        &[
            "report",
            "--snapshot",
            path.to_str().unwrap(),
            "--prices",
            "bundled",
            "--wide",
        ],
        "two-wide",
    );
    assert_eq!(common::terminal_totals_add_up(&wide), 7, "{wide}");
}

/// Issue 26 §4: the CSVs open in a spreadsheet as written. natcost's own text is ASCII;
/// `--csv-bom` adds the byte order mark Excel needs for names in other scripts; LibreOffice
/// (when installed) reads every money and GB column as numbers, equal to the CSV's decimals.
#[test]
fn csvs_open_in_a_spreadsheet() {
    let tmp = tempfile::tempdir().unwrap();
    let mut snap = sample_json();
    snap["accounts"][0]["regions"][0]["nat_gateways"][0]["tags"]["Name"] = "서울-prod-nat-a".into();
    let path = write_snapshot(tmp.path(), "seoul.json", &snap);
    let run = |extra: &[&str], out: &str| {
        let mut args = vec![
            "report",
            "--snapshot",
            path.to_str().unwrap(),
            "--prices",
            "bundled",
            "--allocate-by",
            "tag:team",
            "--out",
            out,
        ];
        args.extend(extra);
        let o = natcost(&args, tmp.path());
        assert_ok(&o);
        tmp.path().join(out)
    };
    let plain = run(&[], "plain");
    let bom = run(&["--csv-bom"], "bom");
    let csvs: Vec<String> = std::fs::read_dir(&plain)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    assert_eq!(csvs.len(), 5, "{csvs:?}");
    for name in &csvs {
        let text = std::fs::read_to_string(plain.join(name)).unwrap();
        // Only the name from AWS is not ASCII: no ×, ≤ or → in natcost's own text.
        let foreign: BTreeSet<char> = text.chars().filter(|c| !c.is_ascii()).collect();
        assert!(
            foreign.iter().all(|c| "서울".contains(*c)),
            "{name}: {foreign:?}"
        );
        // The same bytes after the mark.
        let with = std::fs::read(bom.join(name)).unwrap();
        assert_eq!(&with[..3], b"\xEF\xBB\xBF", "{name}");
        assert_eq!(&with[3..], text.as_bytes(), "{name}");
    }
    let recs = std::fs::read_to_string(plain.join("recommendations.csv")).unwrap();
    assert!(recs.contains(" x 0.059"), "{recs}");

    let Some(soffice) = common::soffice() else {
        return;
    };
    let files: Vec<PathBuf> = csvs.iter().map(|n| bom.join(n)).collect();
    let sheets = tmp.path().join("sheets");
    let books = common::csv_to_xlsx(&soffice, &files, &sheets);
    let figure = |h: &str| {
        h.ends_with("_usd") || matches!(h, "quantity" | "gb" | "monthly_gb" | "difference_pct")
    };
    let mut checked = 0;
    for (csv_path, book) in files.iter().zip(&books) {
        let (header, rows) = read_csv(&plain.join(csv_path.file_name().unwrap()));
        let cells = common::xlsx_cells(book);
        let sheet = cells["sheets"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap();
        let sheet = sheet["cells"].as_array().unwrap();
        // The mark is read as the encoding, not as part of the first column's name.
        let first = &sheet[0][0];
        assert_eq!(first["v"], header[0].as_str(), "{}", book.display());
        assert_eq!(sheet.len(), rows.len() + 1, "{}", book.display());
        for (r, row) in rows.iter().enumerate() {
            for (c, h) in header.iter().enumerate() {
                let (text, cell) = (&row[c], &sheet[r + 1][c]);
                if figure(h) && !text.is_empty() {
                    assert_eq!(cell["t"], "n", "{h} {text:?} is not a number: {cell}");
                    let want = f64::from_str(text).unwrap();
                    let got = cell["v"].as_f64().unwrap();
                    assert!(
                        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                        "{h}: {got} vs {text}"
                    );
                    checked += 1;
                } else if h.ends_with("_name") && !text.is_empty() {
                    assert_eq!(cell["v"].as_str(), Some(text), "{h}");
                }
            }
        }
    }
    assert!(checked > 500, "{checked} figures");
    let costs = std::fs::read_to_string(plain.join("costs.csv")).unwrap();
    assert!(costs.contains("서울-prod-nat-a"));
}

/// Issue 26 §3: natcost.xlsx holds the CSVs' tables as numbers with formats under frozen,
/// filtered headers; its totals are formulas whose stored results add up to the CSVs;
/// LibreOffice (when installed) calculates every formula to the stored result, and a line
/// changed by a reviewer moves the totals that hold it.
#[test]
fn the_workbook_holds_the_csvs_and_its_totals_move() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "report",
        "--sample",
        "--allocate-by",
        "tag:team",
        "--out",
        "rep",
    ];
    let out = natcost(&args, tmp.path());
    assert_ok(&out);
    let dir = tmp.path().join("rep");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let book = dir.join("natcost.xlsx");
    let wb = common::xlsx_cells(&book);
    let sheets = wb["sheets"].as_object().unwrap();
    let names: Vec<&str> = wb["order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Summary",
            "Plan",
            "Costs",
            "Recommendations",
            "Allocation",
            "Teams",
            "Lambdas"
        ]
    );
    let parts: Vec<&str> = wb["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        parts
            .iter()
            .any(|p| p.starts_with("xl/media/") && p.ends_with(".png")),
        "{parts:?}"
    );
    assert!(
        parts.iter().any(|p| p.starts_with("xl/charts/chart")),
        "{parts:?}"
    );

    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    let num = |v: &Value| -> f64 {
        match v["t"].as_str() {
            Some("f") => v["r"]
                .as_f64()
                .unwrap_or_else(|| panic!("no stored result: {v}")),
            _ => v["v"]
                .as_f64()
                .unwrap_or_else(|| panic!("not a number: {v}")),
        }
    };
    let prose = ["risk", "action", "evidence", "notes", "explanation"];
    for (sheet, file) in [
        ("Costs", "costs.csv"),
        ("Recommendations", "recommendations.csv"),
        ("Allocation", "allocation.csv"),
        ("Teams", "allocation_by_team.csv"),
        ("Lambdas", "lambdas.csv"),
    ] {
        let (header, rows) = read_csv(&dir.join(file));
        let s = &sheets[sheet];
        let cells = s["cells"].as_array().unwrap();
        assert_eq!(s["freeze"], "A2", "{sheet}");
        assert!(s["filter"].as_str().unwrap().starts_with("A1:"), "{sheet}");
        let head: Vec<&str> = cells[0]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["v"].as_str().unwrap())
            .collect();
        assert_eq!(head, header, "{sheet}");
        let mut sums = vec![Decimal::ZERO; header.len()];
        for (r, row) in rows.iter().enumerate() {
            for (c, h) in header.iter().enumerate() {
                let (text, x) = (&row[c], &cells[r + 1][c]);
                if text.is_empty() {
                    assert!(x.is_null(), "{sheet} {h}: {x}");
                    continue;
                }
                match x["t"].as_str().unwrap() {
                    "n" | "f" => {
                        assert!(
                            close(num(x), f64::from_str(text).unwrap()),
                            "{sheet} {h}: {x} vs {text}"
                        );
                        sums[c] += dec(text);
                        let want = if h.ends_with("_usd") {
                            "#,##0.00"
                        } else if h == "gb" || h.ends_with("_gb") || h.ends_with("quantity") {
                            "#,##0.000"
                        } else {
                            "0"
                        };
                        if h != "unit_price_usd" {
                            assert_eq!(x["fmt"], want, "{sheet} {h}");
                        }
                    }
                    _ if prose.contains(&h.as_str()) => {}
                    _ => assert_eq!(x["v"].as_str(), Some(text), "{sheet} {h}"),
                }
            }
        }
        // The total row: a SUBTOTAL under each USD and GB column, its stored result the CSV's sum.
        let totals = cells.get(rows.len() + 1).and_then(Value::as_array);
        if sheet == "Recommendations" {
            assert!(totals.is_none(), "alternatives have no total");
            continue;
        }
        let totals = totals.unwrap();
        assert_eq!(totals[0]["v"], "Total", "{sheet}");
        let mut n = 0;
        for (c, h) in header.iter().enumerate() {
            if !(h.ends_with("_usd") || h == "gb" || h.ends_with("_gb")) || h == "unit_price_usd" {
                continue;
            }
            let t = &totals[c];
            assert!(
                t["v"].as_str().unwrap().starts_with("=SUBTOTAL(9,"),
                "{sheet} {h}: {t}"
            );
            assert!(
                close(num(t), sums[c].to_string().parse().unwrap()),
                "{sheet} {h}: {t} vs {}",
                sums[c]
            );
            n += 1;
        }
        assert!(n >= 1, "{sheet}");
    }

    // Summary and Plan: the report's figures, as formulas over the other sheets.
    let find = |sheet: &str, label: &str| -> Vec<Value> {
        sheets[sheet]["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[0]["v"].as_str().is_some_and(|v| v.starts_with(label)))
            .unwrap_or_else(|| panic!("no {label:?} in {sheet}"))
            .as_array()
            .unwrap()
            .clone()
    };
    let total_window: f64 = report["total_window_cost"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let in_window = find("Summary", "Cost in the window");
    assert_eq!(in_window[1]["t"], "f");
    assert!(close(num(&in_window[1]), total_window));
    let plan_saving: f64 = report["plan"]["monthly_saving"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let plan_total = find("Plan", "Total");
    assert!(plan_total[4]["v"]
        .as_str()
        .unwrap()
        .starts_with("=SUM(E2:E"));
    assert!(close(num(&plan_total[4]), plan_saving));
    assert!(close(
        num(&find("Summary", "Plan saves, USD/month (at least)")[1]),
        plan_saving
    ));
    let months: Vec<f64> = report["monthly_totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["cost"].as_str().unwrap().parse().unwrap())
        .collect();
    let month_rows: Vec<Vec<Value>> = ["2026-09", "2026-10"]
        .iter()
        .map(|m| find("Summary", m))
        .collect();
    for (row, want) in month_rows.iter().zip(&months) {
        assert!(row[1]["v"].as_str().unwrap().starts_with("=SUMIFS(Costs!"));
        assert!(close(num(&row[1]), *want));
    }

    // --no-xlsx: none.
    let out = natcost(
        &["report", "--sample", "--no-xlsx", "--out", "plain"],
        tmp.path(),
    );
    assert!(out.status.success());
    assert!(!tmp.path().join("plain/natcost.xlsx").exists());
    assert!(tmp.path().join("plain/costs.csv").exists());

    let Some(soffice) = common::soffice() else {
        return;
    };
    // Every formula, calculated by LibreOffice, gives the result natcost stored.
    let fresh = tmp.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    common::xlsx_edit(&book, &fresh.join("same.xlsx"), &[]);
    let same = common::recalculated(&soffice, &[fresh.join("same.xlsx")], &tmp.path().join("lo"));
    let calc = common::xlsx_cells(&same[0]);
    let mut formulas = 0;
    for (name, s) in sheets {
        for (r, row) in s["cells"].as_array().unwrap().iter().enumerate() {
            for (c, x) in row.as_array().unwrap().iter().enumerate() {
                if x["t"] == "f" {
                    let got = &calc["sheets"][name]["cells"][r][c];
                    assert!(
                        close(num(got), num(x)),
                        "{name} row {} col {c}: {x} vs LibreOffice's {got}",
                        r + 1
                    );
                    formulas += 1;
                }
            }
        }
    }
    assert!(formulas > 100, "{formulas} formulas");
    // A reviewer adds 1000 hours to the first cost line (Costs!K2): its cost, the Costs total,
    // its month and NAT gateway on Summary and the window's cost all move by 1000 × its price.
    let costs = sheets["Costs"]["cells"].as_array().unwrap();
    let (quantity, price) = (num(&costs[1][10]), num(&costs[1][12]));
    common::xlsx_edit(
        &book,
        &fresh.join("edited.xlsx"),
        &[format!("Costs!K2={}", quantity + 1000.0)],
    );
    let edited = common::recalculated(
        &soffice,
        &[fresh.join("edited.xlsx")],
        &tmp.path().join("lo2"),
    );
    let after = common::xlsx_cells(&edited[0]);
    let delta = 1000.0 * price;
    let moved = |sheet: &str, r: usize, c: usize| {
        let (before, now) = (
            num(&sheets[sheet]["cells"][r][c]),
            num(&after["sheets"][sheet]["cells"][r][c]),
        );
        assert!(
            close(now - before, delta),
            "{sheet} row {} col {c}: {before} → {now}, not +{delta}",
            r + 1
        );
    };
    moved("Costs", 1, 13);
    moved("Costs", costs.len() - 1, 13);
    let summary = sheets["Summary"]["cells"].as_array().unwrap();
    let row_of = |label: &str| {
        summary
            .iter()
            .position(|r| r[0]["v"].as_str().is_some_and(|v| v.starts_with(label)))
            .unwrap()
    };
    moved("Summary", row_of("Cost in the window"), 1);
    moved("Summary", row_of(costs[1][15]["v"].as_str().unwrap()), 1);
    moved("Summary", row_of(costs[1][6]["v"].as_str().unwrap()), 3);
}

/// The sample with `n` NAT gateways (its seven, copied or cut), each named with 255 characters
/// when `long_names`.
fn sample_with_nats(n: usize, long_names: bool) -> Value {
    let mut snap = sample_json();
    let region = &mut snap["accounts"][0]["regions"][0];
    let nats = region["nat_gateways"].as_array().unwrap().clone();
    let metrics = region["metrics"].as_array().unwrap().clone();
    let mut all = Vec::new();
    let mut all_metrics = Vec::new();
    for copy in 0..n.div_ceil(nats.len()) {
        for nat in &nats {
            let mut nat = nat.clone();
            let id = nat["nat_gateway_id"].as_str().unwrap().to_string();
            let new_id = if copy == 0 {
                id.clone()
            } else {
                format!("{id}{copy}")
            };
            nat["nat_gateway_id"] = Value::from(new_id.clone());
            let name = format!("copy{copy}-{}", nat["tags"]["Name"].as_str().unwrap());
            nat["tags"]["Name"] = Value::from(if long_names {
                format!("{name}-{}", "x".repeat(255 - name.len() - 1))
            } else {
                name
            });
            all.push(nat);
            for m in metrics
                .iter()
                .filter(|m| m["nat_gateway_id"] == id.as_str())
            {
                let mut m = m.clone();
                m["nat_gateway_id"] = Value::from(new_id.clone());
                all_metrics.push(m);
            }
            if all.len() == n {
                break;
            }
        }
    }
    let kept: BTreeSet<String> = all
        .iter()
        .map(|n| n["nat_gateway_id"].as_str().unwrap().to_string())
        .collect();
    all_metrics.retain(|m| kept.contains(m["nat_gateway_id"].as_str().unwrap()));
    region["nat_gateways"] = Value::from(all);
    region["metrics"] = Value::from(all_metrics);
    snap
}

/// Issue 26 §2: every chart (summary, monthly cost, components, daily GB, alternatives, topology,
/// teams; the bill's in tests/bill.rs) is 1920×1080
/// with no text under 20 px, inside the canvas and never on another text, with 1, 7 and 40 NAT
/// gateways and with names of 255 characters.
#[test]
fn slide_charts_fit_a_slide_with_1_7_and_40_nat_gateways() {
    let tmp = tempfile::tempdir().unwrap();
    for n in [1, 7, 40] {
        for long in [false, true] {
            let snap = sample_with_nats(n, long);
            let name = format!("n{n}-{long}");
            let path = write_snapshot(tmp.path(), &format!("{name}.json"), &snap);
            let out = natcost(
                &[
                    "report",
                    "--snapshot",
                    path.to_str().unwrap(),
                    "--prices",
                    "bundled",
                    "--allocate-by",
                    "tag:team",
                    "--out",
                    &name,
                ],
                tmp.path(),
            );
            assert_ok(&out);
            let dir = tmp.path().join(&name);
            for chart in [
                "summary",
                "monthly_cost",
                "monthly_components",
                "daily_gb",
                "alternatives",
                "topology",
                "allocation",
            ] {
                let texts = common::assert_slide(&dir.join(format!("{chart}.svg")), 20.0);
                assert!(texts.len() >= 8, "{name} {chart}: {} texts", texts.len());
                let png = dir.join(format!("{chart}.png"));
                assert_png(&png);
                let d =
                    png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
                let info = d.read_info().unwrap().info().clone();
                assert_eq!((info.width, info.height), (1920, 1080), "{name} {chart}");
            }
            let monthly = std::fs::read_to_string(dir.join("monthly_cost.svg")).unwrap();
            // Eight NAT gateways in colour, the rest one grey "others" (drawn last, on top).
            let others = n.saturating_sub(8);
            assert_eq!(
                monthly.contains(&format!("{others} others")),
                others > 0,
                "{name}"
            );
            assert_eq!(monthly.contains("fill=\"#A0A0A0\""), others > 0, "{name}");
            let daily = std::fs::read_to_string(dir.join("daily_gb.svg")).unwrap();
            assert_eq!(daily.contains("others, summed"), n > 9, "{name}");
            // Sources past 16 summed (one NAT gateway has fewer); NAT gateways past 8 summed.
            let topology = std::fs::read_to_string(dir.join("topology.svg")).unwrap();
            assert_eq!(topology.contains("other sources"), n > 1, "{name}");
            assert_eq!(topology.contains("other NAT gateways"), n > 8, "{name}");
            assert!(topology.contains("Largest links"), "{name}");
        }
    }
}

//! Hostile and faulty input: nothing counted twice, nothing out of range let through, one clear
//! line for what is refused (issue 25). Flow-log and CUR folders are covered in their own tests.

mod common;

use std::path::Path;
use std::process::Command;

use common::{free_port, natcost, natcost_env, sample_json, write_snapshot};
use serde_json::{json, Value};

/// `report ARGS --out rep` in `dir` fails with exit 1 and one line that says `expect`, and
/// writes nothing.
fn fails(dir: &Path, args: &[&str], expect: &str) {
    let mut all = vec!["report"];
    all.extend(args);
    all.extend(["--out", "rep"]);
    let out = natcost(&all, dir);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("natcost: error: "), "{err}");
    assert!(err.contains(expect), "{err:?} does not say {expect:?}");
    assert!(!dir.join("rep").exists(), "nothing written");
}

/// `report --snapshot` on `v` fails with exit 1 and one line that says `expect`.
fn refused(dir: &Path, v: &Value, expect: &str) {
    let p = write_snapshot(dir, "bad.json", v);
    let args = ["--snapshot", p.to_str().unwrap(), "--prices", "bundled"];
    fails(dir, &args, expect);
}

fn region(v: &mut Value) -> &mut Value {
    &mut v["accounts"][0]["regions"][0]
}

/// The first element of `list` in the sample's region, pushed again.
fn doubled(list: &str) -> (Value, String) {
    let mut v = sample_json();
    let r = region(&mut v);
    let first = r[list][0].clone();
    r[list].as_array_mut().unwrap().push(first.clone());
    let id = ["nat_gateway_id", "subnet_id", "function_arn", "region"]
        .iter()
        .find_map(|k| first[k].as_str())
        .unwrap_or_default()
        .to_string();
    (v, id)
}

#[test]
fn anything_listed_twice_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    for (list, what) in [
        ("nat_gateways", "NAT gateway"),
        ("subnets", "subnet"),
        ("lambda_functions", "Lambda function"),
    ] {
        let (v, id) = doubled(list);
        refused(tmp.path(), &v, &format!("{what} {id} is listed twice"));
    }
    let mut v = sample_json();
    let r = region(&mut v).clone();
    v["accounts"][0]["regions"].as_array_mut().unwrap().push(r);
    refused(tmp.path(), &v, "region ap-northeast-2 is listed twice");
    let mut v = sample_json();
    let m = region(&mut v)["metrics"][0].clone();
    region(&mut v)["metrics"].as_array_mut().unwrap().push(m);
    refused(tmp.path(), &v, "is listed twice");
}

#[test]
fn values_beyond_any_nat_gateway_are_refused_not_clamped() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in [1e28, 1.7e308, 2e14] {
        let mut v = sample_json();
        let values = &mut region(&mut v)["metrics"][0]["values"];
        values[0] = json!(bad);
        refused(tmp.path(), &v, "invalid value");
    }
    // A negative Duration would split a shared interface's bytes into negative shares.
    for (field, bad) in [
        ("duration_ms", json!(-1.0)),
        ("duration_ms_by_day", json!({"2026-10-01": -5.0})),
    ] {
        let mut v = sample_json();
        region(&mut v)["lambda_functions"][0][field] = bad;
        refused(tmp.path(), &v, "invalid Duration");
    }
}

#[test]
fn a_window_longer_than_cloudwatch_keeps_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut v = sample_json();
    v["window"]["end"] = json!("3000-01-01T00:00:00Z");
    refused(tmp.path(), &v, "CloudWatch keeps hourly data for 455 days");
}

#[test]
fn traffic_outside_a_gateways_life_is_named_not_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let mut v = sample_json();
    let end = v["window"]["end"].as_str().unwrap().to_string();
    let nat = &mut region(&mut v)["nat_gateways"][0];
    let id = nat["nat_gateway_id"].as_str().unwrap().to_string();
    let later = chrono::DateTime::parse_from_rfc3339(&end).unwrap() + chrono::Duration::days(3);
    nat["create_time"] = json!(later.to_rfc3339());
    let p = write_snapshot(tmp.path(), "late.json", &v);
    let out = natcost(
        &[
            "report",
            "--snapshot",
            p.to_str().unwrap(),
            "--prices",
            "bundled",
        ],
        tmp.path(),
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{err}");
    // The summary's warnings (wrapped to the terminal's width).
    let stdout = String::from_utf8(out.stdout).unwrap();
    let text = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains(&format!("{id} (ap-northeast-2): CloudWatch has")),
        "{stdout}"
    );
    assert!(
        text.contains("put none of its life there: not priced"),
        "{stdout}"
    );
}

fn bundled_prices() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/prices.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// `report --sample --prices FILE` fails with exit 1 and one line that says `expect`.
fn prices_refused(dir: &Path, prices: &Value, expect: &str) {
    let p = dir.join("prices.json");
    std::fs::write(&p, serde_json::to_string(prices).unwrap()).unwrap();
    fails(dir, &["--sample", "--prices", p.to_str().unwrap()], expect);
}

#[test]
fn prices_beyond_any_aws_price_or_given_twice_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let seoul_hours = |v: &mut Value| -> usize {
        v["prices"]
            .as_array()
            .unwrap()
            .iter()
            .position(|p| p["usage_type"] == "APN2-NatGateway-Hours")
            .unwrap()
    };
    for bad in ["1e25", "79228162514264337593543950335", "1000.01", "-0.01"] {
        let mut v = bundled_prices();
        let i = seoul_hours(&mut v);
        v["prices"][i]["usd"] = json!(bad);
        prices_refused(tmp.path(), &v, "USD per unit");
    }
    let mut v = bundled_prices();
    let i = seoul_hours(&mut v);
    let again = v["prices"][i].clone();
    v["prices"].as_array_mut().unwrap().push(again);
    prices_refused(
        tmp.path(),
        &v,
        "APN2-NatGateway-Hours in ap-northeast-2 is priced twice",
    );
    // At the ceiling, the report is made.
    let mut v = bundled_prices();
    let i = seoul_hours(&mut v);
    v["prices"][i]["usd"] = json!("1000");
    let p = tmp.path().join("dear.json");
    std::fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
    let out = natcost(
        &["report", "--sample", "--prices", p.to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn names_from_aws_are_shown_never_obeyed() {
    let tmp = tempfile::tempdir().unwrap();
    let hostile = "<img src=x onerror=alert(1)>\n# pwned \u{1b}]0;title\u{7}[link](http://x)";
    let long = "N".repeat(30_000);
    let mut v = sample_json();
    let r = region(&mut v);
    r["nat_gateways"][0]["tags"]["Name"] = json!(hostile);
    r["nat_gateways"][1]["tags"]["Name"] = json!(long);
    let p = write_snapshot(tmp.path(), "hostile.json", &v);
    let out = natcost(
        &[
            "report",
            "--snapshot",
            p.to_str().unwrap(),
            "--prices",
            "bundled",
            "--out",
            "rep",
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b));
    let rep = tmp.path().join("rep");
    let md = std::fs::read_to_string(rep.join("report.md")).unwrap();
    assert!(!md.contains("<img"), "HTML is escaped");
    assert!(md.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!md.contains("[link]("), "no link made");
    assert!(!md.contains('\u{1b}'));
    assert_eq!(
        md.lines().filter(|l| l.starts_with("# ")).count(),
        1,
        "the title is the one heading of its level"
    );
    for svg in [
        "monthly_cost.svg",
        "daily_gb.svg",
        "alternatives.svg",
        "topology.svg",
    ] {
        let text = std::fs::read_to_string(rep.join(svg)).unwrap();
        assert!(!text.contains('\u{1b}'), "{svg}");
        assert!(!text.contains(&long), "{svg}: the long name is clipped");
    }
    // The CSVs keep the name whole.
    let costs = std::fs::read_to_string(rep.join("costs.csv")).unwrap();
    assert!(costs.contains(&long));
}

/// The folders natcost is staging a report in under `dir` (`.rep.tmp-…`, `.rep.old-…`).
#[cfg(unix)]
fn staging(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".rep."))
        .collect()
}

#[cfg(unix)]
#[test]
fn an_interrupted_write_leaves_nothing_half_written() {
    use std::process::Stdio;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Catching natcost while it writes is a race: try until a signal lands mid-write.
    for _ in 0..20 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_natcost"))
            .args(["report", "--sample", "--out", "rep"])
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let caught = loop {
            if child.try_wait().unwrap().is_some() {
                break false;
            }
            if !staging(d).is_empty() {
                let sent = Command::new("kill")
                    .args(["-INT", &child.id().to_string()])
                    .status()
                    .unwrap();
                break sent.success();
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if caught && out.status.code() == Some(130) {
            assert!(staging(d).is_empty(), "{:?} left behind", staging(d));
            // Either the report was whole before the signal, or it is not there at all.
            if d.join("rep").exists() {
                assert!(d.join("rep/report.md").exists() && d.join("rep/costs.csv").exists());
            } else {
                assert!(
                    stderr.contains("interrupted: the partial report files were removed"),
                    "{stderr}"
                );
            }
            return;
        }
        assert!(out.status.code() == Some(0), "{:?}: {stderr}", out.status);
        std::fs::remove_dir_all(d.join("rep")).unwrap();
    }
    panic!("natcost was never caught while writing");
}

#[test]
fn collect_never_overwrites_a_file_that_is_not_a_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let thesis = tmp.path().join("thesis.txt");
    std::fs::write(&thesis, "four years of work").unwrap();
    let out = natcost(
        &[
            "collect",
            "--region",
            "ap-northeast-2",
            "-o",
            thesis.to_str().unwrap(),
        ],
        tmp.path(),
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("it is not a natcost snapshot; choose another -o or pass --force"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        std::fs::read_to_string(&thesis).unwrap(),
        "four years of work"
    );
}

/// natcost with test credentials and a price cache of its own (one of the machine's would
/// answer instead of the endpoint), from `cwd`.
fn natcost_offline(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let cache = cwd.join("cache");
    let mut all = vec![("NATCOST_CACHE_DIR", cache.to_str().unwrap())];
    all.extend(env);
    natcost_env(args, cwd, &all)
}

#[test]
fn messages_name_what_was_really_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // An address where nothing listens.
    let url = format!("http://127.0.0.1:{}", free_port());
    let host = url.trim_start_matches("http://");
    // Every client goes to --endpoint-url, the Pricing API too, and errors name it.
    let out = natcost_offline(
        &[
            "report",
            "--sample",
            "--prices",
            "live",
            "--no-files",
            "--endpoint-url",
            &url,
        ],
        d,
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("cannot reach {host}")), "{err}");
    let out = natcost_offline(
        &[
            "report",
            "--region",
            "ap-northeast-2",
            "--endpoint-url",
            &url,
            "--no-files",
        ],
        d,
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("cannot reach {host}")), "{err}");
    assert!(!err.contains("amazonaws.com"), "{err}");

    // A Cost Explorer request that never left the machine is not billed.
    let out = natcost_offline(
        &[
            "report",
            "--sample",
            "--bill",
            "ce",
            "--endpoint-url",
            &url,
            "--out",
            "rep",
        ],
        d,
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(!err.contains("request(s) ×"), "{err}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("rep/report.json")).unwrap()).unwrap();
    assert!(
        report["api_calls"].get("ce:GetCostAndUsage").is_none(),
        "{}",
        report["api_calls"]
    );

    // --profile names a profile that is not there: said at once, with those that are.
    std::fs::write(
        d.join("config"),
        "[default]\nregion = us-east-1\n[profile prod]\nregion = eu-west-1\n",
    )
    .unwrap();
    let config = d.join("config");
    let out = natcost_offline(
        &[
            "report",
            "--region",
            "ap-northeast-2",
            "--profile",
            "nosuch",
        ],
        d,
        &[("AWS_CONFIG_FILE", config.to_str().unwrap())],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--profile nosuch: no such profile"), "{err}");
    assert!(err.contains("profiles found: default, prod"), "{err}");

    // iam-policy lists what --flow-logs auto calls.
    let out = natcost(&["iam-policy", "--flow-logs", "auto"], d);
    assert!(out.status.success());
    let policy: Value = serde_json::from_slice(&out.stdout).unwrap();
    let auto = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "NatcostFlowLogsWhereverConfigured")
        .expect("a statement for auto");
    assert_eq!(
        auto["Action"],
        json!([
            "logs:GetQueryResults",
            "logs:StartQuery",
            "s3:GetObject",
            "s3:ListBucket"
        ])
    );
}

//! Flow-log attribution on generated data with known ground truth, against an ip-ranges.json
//! in AWS's format: the committed synthetic `tests/data/ip-ranges-fixture.json`, or AWS's
//! published file when `NATCOST_TEST_IP_RANGES` names one (it is not committed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use natcost::flows::ipranges::IpRanges;
use natcost::flows::synth::{self, Truth};
use natcost::snapshot::Snapshot;
use serde_json::Value;

fn ip_ranges_path() -> PathBuf {
    match std::env::var_os("NATCOST_TEST_IP_RANGES") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ip-ranges-fixture.json"),
    }
}

fn generate(dir: &Path, custom: bool, gzip: bool, corrupt: u64) -> Truth {
    let path = ip_ranges_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let ranges = IpRanges::parse(&text).unwrap();
    let snapshot = Snapshot::from_json(natcost::SAMPLE_SNAPSHOT).unwrap();
    let opts = synth::Options {
        custom_format: custom,
        target_bytes: 3 << 20,
        files: 3,
        gzip,
        corrupt_lines: corrupt,
        seed: 42,
    };
    synth::generate(&snapshot, &ranges, &text, dir, &opts).unwrap()
}

fn natcost(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_natcost"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// natcost flows --format json, as (destinations, sources) per NAT.
fn attributed(dir: &Path) -> (Value, String) {
    let out = natcost(
        &[
            "flows",
            "--sample",
            "--flow-logs",
            dir.to_str().unwrap(),
            "--ip-ranges",
            ip_ranges_path().to_str().unwrap(),
            "--format",
            "json",
        ],
        dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn assert_matches(v: &Value, truth: &Truth) {
    let nats = v["nats"].as_array().unwrap();
    assert_eq!(nats.len(), truth.destinations.len());
    for n in nats {
        let id = n["nat_gateway_id"].as_str().unwrap();
        let want: BTreeMap<String, u64> = truth.destinations[id]
            .iter()
            .map(|(d, b)| (d.key(), *b))
            .collect();
        let got: BTreeMap<String, u64> = n["destinations"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, b)| (k.clone(), b.as_u64().unwrap()))
            .collect();
        assert_eq!(got, want, "destinations of {id}");
        let want: BTreeMap<String, u64> = truth.sources[id].clone().into_iter().collect();
        let got: BTreeMap<String, u64> = n["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
            .collect();
        assert_eq!(got, want, "sources of {id}");
    }
}

#[test]
fn default_format_attribution_is_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = generate(tmp.path(), false, false, 3);
    let (v, stderr) = attributed(tmp.path());
    assert_matches(&v, &truth);
    // Every client is placed in a subnet of its NAT gateway's VPC, by address.
    for n in v["nats"].as_array().unwrap() {
        let by_subnet = n["source_subnets"].as_object().unwrap();
        assert!(!by_subnet.is_empty());
        assert!(by_subnet.keys().all(|k| k.starts_with("subnet-")));
        let placed: u64 = by_subnet.values().map(|b| b.as_u64().unwrap()).sum();
        assert_eq!(
            placed,
            n["source_bytes"].as_u64().unwrap(),
            "{}",
            n["nat_gateway_id"]
        );
    }
    assert_eq!(v["stats"]["files"], 3);
    assert_eq!(v["stats"]["corrupt_lines"], truth.corrupt_lines);
    assert!(truth.corrupt_lines > 0);
    assert!(
        stderr.contains(&format!(
            "flow logs: {} corrupt line(s)",
            truth.corrupt_lines
        )),
        "{stderr}"
    );
    assert!(
        v["stats"]["skipped"].as_u64().unwrap() > 0,
        "NODATA, REJECT and client-ENI lines are skipped"
    );
    // Every destination class is there, by longest-prefix match on the ip-ranges file.
    let keys: Vec<String> = truth
        .destinations
        .values()
        .flat_map(|m| m.keys().map(|d| d.key()))
        .collect();
    for k in ["s3", "dynamodb", "aws:AMAZON", "aws-elsewhere", "internet"] {
        assert!(keys.iter().any(|x| x == k), "{k}");
    }
}

#[test]
fn gzip_and_custom_format_give_the_same_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = generate(tmp.path(), true, true, 0);
    assert!(truth
        .files
        .iter()
        .all(|f| f.to_string_lossy().ends_with(".log.gz")));
    let (v, stderr) = attributed(tmp.path());
    assert_matches(&v, &truth);
    assert!(stderr.is_empty(), "{stderr}");
    // pkt-dstaddr pairs each source with its real destination.
    let nat = &v["nats"][0];
    assert!(!nat["pairs"].as_array().unwrap().is_empty());
}

#[test]
fn a_truncated_file_is_counted_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = generate(tmp.path(), false, true, 0);
    let victim = &truth.files[1];
    let bytes = std::fs::read(victim).unwrap();
    std::fs::write(victim, &bytes[..bytes.len() / 2]).unwrap();
    let (v, stderr) = attributed(tmp.path());
    assert_eq!(v["stats"]["failed_files"].as_array().unwrap().len(), 1);
    assert!(stderr.contains("1 unreadable file(s)"), "{stderr}");
    assert!(v["nats"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["destination_bytes"].as_u64().unwrap() > 0));
}

#[test]
fn report_uses_measured_shares_for_endpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = generate(tmp.path(), false, false, 0);
    let out = natcost(
        &[
            "report",
            "--sample",
            "--flow-logs",
            tmp.path().join("AWSLogs").to_str().unwrap(),
            "--ip-ranges",
            ip_ranges_path().to_str().unwrap(),
            "--out",
            "rep",
        ],
        tmp.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("Who sends the bytes"), "{stdout}");
    // Shares come with what they cost, and the logs' coverage is stated.
    assert!(stdout.contains(" USD/month"), "{stdout}");
    assert!(stdout.contains(" day(s) (× "), "{stdout}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("rep/report.json")).unwrap())
            .unwrap();
    // The prod VPC's S3 saving: each NAT's S3 share × its monthly data processing cost.
    let s3 = report["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["alternative"] == "s3-gateway-endpoint"
                && report["names"][s["vpc_id"].as_str().unwrap()] == "prod"
        })
        .expect("S3 endpoint for prod");
    assert_eq!(s3["confidence"], "measured");
    let mut expected = 0.0;
    for nat in report["nats"].as_array().unwrap() {
        if nat["vpc_id"] != s3["vpc_id"] || !nat["active_at_end"].as_bool().unwrap() {
            continue;
        }
        let id = nat["nat_gateway_id"].as_str().unwrap();
        let dest = &truth.destinations[id];
        let share = *dest.get(&natcost::flows::Destination::S3).unwrap_or(&0) as f64
            / dest.values().sum::<u64>() as f64;
        let bytes_cost: f64 = nat["run_rate"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["component"] == "nat-bytes")
            .map(|c| c["cost"].as_str().unwrap().parse::<f64>().unwrap())
            .sum();
        expected += share * bytes_cost;
    }
    let before: f64 = s3["monthly_before"].as_str().unwrap().parse().unwrap();
    let after: f64 = s3["monthly_after"].as_str().unwrap().parse().unwrap();
    assert!(
        (before - after - expected).abs() < 0.01,
        "saving {} vs {expected}",
        before - after
    );
    assert!(expected > 50.0, "half the traffic is S3: {expected}");
    let md = std::fs::read_to_string(tmp.path().join("rep/report.md")).unwrap();
    assert!(md.contains("## Who sends the bytes (VPC Flow Logs)"));
    assert!(!md.contains("## Flow logs to measure traffic with"));
    // The topology's links are the measured sources, each NAT's shares adding up to 1.
    let links = report["links"].as_array().unwrap();
    for (nat, sources) in &truth.sources {
        let mine: Vec<&Value> = links
            .iter()
            .filter(|l| l["nat_gateway_id"] == nat.as_str())
            .collect();
        assert_eq!(mine.len(), sources.len(), "{nat}");
        let total: f64 = mine.iter().map(|l| l["share"].as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-9);
        for (label, bytes) in sources {
            let l = mine.iter().find(|l| l["from"] == label.as_str()).unwrap();
            let want = *bytes as f64 / sources.values().sum::<u64>() as f64;
            assert!((l["share"].as_f64().unwrap() - want).abs() < 1e-12);
        }
    }
}

/// Serves one file over HTTP on loopback, once per connection; returns its URL.
fn serve_file(path: PathBuf) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ip-ranges.json", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = std::fs::read(&path).unwrap();
            let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = s.write_all(&body);
        }
    });
    url
}

#[test]
fn ip_ranges_are_downloaded_once_and_cached() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = generate(tmp.path(), false, false, 0);
    let cache = tmp.path().join("cache");
    let run = |url: &str| {
        Command::new(env!("CARGO_BIN_EXE_natcost"))
            .args([
                "flows",
                "--sample",
                "--flow-logs",
                tmp.path().join("AWSLogs").to_str().unwrap(),
                "--format",
                "json",
            ])
            .env("NATCOST_CACHE_DIR", cache.join("prices"))
            .env("NATCOST_IP_RANGES_URL", url)
            .output()
            .unwrap()
    };
    // Unreachable: one line saying what to do.
    let out = run("http://127.0.0.1:9/ip-ranges.json");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("natcost: error: cannot download http://127.0.0.1:9/ip-ranges.json: pass --ip-ranges FILE"), "{err}");
    assert!(!cache.join("ip-ranges.json").exists());
    // Downloaded once...
    let out = run(&serve_file(ip_ranges_path()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("natcost: downloading http://127.0.0.1:"));
    assert_matches(&serde_json::from_slice(&out.stdout).unwrap(), &truth);
    assert_eq!(
        std::fs::read(cache.join("ip-ranges.json")).unwrap(),
        std::fs::read(ip_ranges_path()).unwrap()
    );
    // ...then read from the cache, with nothing listening.
    let out = run("http://127.0.0.1:9/ip-ranges.json");
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The address the generator sends "aws:AMAZON" traffic to in Seoul (the first prefix's base
/// + 7 that ip-ranges resolves to AMAZON there), as `synth` picks it.
fn seoul_amazon_address() -> String {
    let text = std::fs::read_to_string(ip_ranges_path()).unwrap();
    let ranges = IpRanges::parse(&text).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    file["prefixes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let base: std::net::Ipv4Addr =
                p["ip_prefix"].as_str()?.split_once('/')?.0.parse().ok()?;
            let ip = std::net::Ipv4Addr::from(u32::from(base) + 7);
            let r = ranges.lookup(ip.into())?;
            (r.region == "ap-northeast-2" && r.service == "AMAZON").then(|| ip.to_string())
        })
        .next()
        .unwrap()
}

#[test]
fn prefix_lists_from_the_snapshot_win_over_ip_ranges() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = generate(tmp.path(), false, false, 0);
    // Say DynamoDB's prefix list holds the address ip-ranges only lists as AMAZON.
    let mut snap: Value = serde_json::from_str(natcost::SAMPLE_SNAPSHOT).unwrap();
    snap["accounts"][0]["regions"][0]["prefix_lists"] = serde_json::json!([{
        "prefix_list_id": "pl-02cd2c6b",
        "prefix_list_name": "com.amazonaws.ap-northeast-2.dynamodb",
        "cidrs": [format!("{}/32", seoul_amazon_address())]
    }]);
    let path = tmp.path().join("with-prefix-list.json");
    std::fs::write(&path, snap.to_string()).unwrap();
    let out = natcost(
        &[
            "flows",
            "--snapshot",
            path.to_str().unwrap(),
            "--flow-logs",
            tmp.path().to_str().unwrap(),
            "--ip-ranges",
            ip_ranges_path().to_str().unwrap(),
            "--format",
            "json",
        ],
        tmp.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut moved = 0;
    for n in v["nats"].as_array().unwrap() {
        let id = n["nat_gateway_id"].as_str().unwrap();
        let want = |k: &str| {
            truth.destinations[id]
                .iter()
                .filter(|(d, _)| d.key() == k)
                .map(|(_, b)| *b)
                .sum::<u64>()
        };
        let got = |k: &str| n["destinations"][k].as_u64().unwrap_or(0);
        assert_eq!(
            got("dynamodb"),
            want("dynamodb") + want("aws:AMAZON"),
            "{id}"
        );
        assert_eq!(got("aws:AMAZON"), 0, "{id}");
        assert_eq!(got("s3"), want("s3"), "{id}");
        moved += want("aws:AMAZON");
    }
    assert!(moved > 0, "the generated logs reach the address");
}

/// The sample with orders-api and payments-webhook in the same subnets and security group, so
/// that Lambda shares their ENIs; `durations` (ms over the window) when known.
fn shared_eni_snapshot(dir: &Path, durations: Option<(f64, f64)>) -> PathBuf {
    let mut snap: Value = serde_json::from_str(natcost::SAMPLE_SNAPSHOT).unwrap();
    let region = &mut snap["accounts"][0]["regions"][0];
    for f in region["lambda_functions"].as_array_mut().unwrap() {
        let name = f["function_name"].as_str().unwrap().to_string();
        let ms = match (name.as_str(), durations) {
            ("orders-api", Some((a, _))) => Some(a),
            ("payments-webhook", Some((_, b))) => Some(b),
            ("orders-api" | "payments-webhook", None) => None,
            _ => continue,
        };
        f["vpc_config"]["security_group_ids"] = serde_json::json!(["sg-shared"]);
        if let Some(ms) = ms {
            f["duration_ms"] = serde_json::json!(ms);
        }
    }
    for e in region["network_interfaces"].as_array_mut().unwrap() {
        let desc = e["description"].as_str().unwrap_or_default();
        if desc.starts_with("AWS Lambda VPC ENI-orders-api-")
            || desc.starts_with("AWS Lambda VPC ENI-payments-webhook-")
        {
            e["security_group_ids"] = serde_json::json!(["sg-shared"]);
        }
    }
    let path = dir.join("shared.json");
    std::fs::write(&path, snap.to_string()).unwrap();
    path
}

fn flows_json(snapshot: &Path, logs: &Path) -> Value {
    let out = natcost(
        &[
            "flows",
            "--snapshot",
            snapshot.to_str().unwrap(),
            "--flow-logs",
            logs.to_str().unwrap(),
            "--ip-ranges",
            ip_ranges_path().to_str().unwrap(),
            "--format",
            "json",
        ],
        logs,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_shared_lambda_eni_is_labelled_shared_and_split_by_duration() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = generate(tmp.path(), false, false, 0);
    // Ground truth by description: each function's own ENIs.
    let (mut orders, mut payments) = (0u64, 0u64);
    for sources in truth.sources.values() {
        orders += sources.get("orders-api").copied().unwrap_or(0);
        payments += sources.get("payments-webhook").copied().unwrap_or(0);
    }
    assert!(orders > 0 && payments > 0);
    let source = |v: &Value, label: &str| -> u64 {
        v["nats"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|n| n["sources"].as_array().unwrap())
            .filter(|p| p[0] == label)
            .map(|p| p[1].as_u64().unwrap())
            .sum()
    };
    // Without Durations: one shared label, never pinned on the function the ENI is named for.
    let v = flows_json(&shared_eni_snapshot(tmp.path(), None), tmp.path());
    assert_eq!(
        source(&v, "orders-api + payments-webhook (shared ENI)"),
        orders + payments
    );
    assert_eq!(source(&v, "orders-api"), 0);
    assert!(v["ambiguous"][0]
        .as_str()
        .unwrap()
        .contains("without their Lambda Duration"));
    // With Durations 3:1, the shared bytes split 3:1 (to the byte, per ENI), inputs stated.
    let v = flows_json(
        &shared_eni_snapshot(tmp.path(), Some((3000.0, 1000.0))),
        tmp.path(),
    );
    let a = source(&v, "orders-api (est., shared ENI)");
    let b = source(&v, "payments-webhook (est., shared ENI)");
    assert_eq!(a + b, orders + payments);
    let expected = (orders + payments) as f64 * 0.75;
    assert!((a as f64 - expected).abs() <= 8.0, "{a} vs {expected}");
    let splits: Vec<&Value> = v["nats"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|n| n["shared_splits"].as_array().unwrap())
        .collect();
    assert!(!splits.is_empty());
    for s in splits {
        assert!(s["method"]
            .as_str()
            .unwrap()
            .starts_with("estimated: each function's share"));
        let f = s["functions"].as_array().unwrap();
        assert_eq!(f[0]["function_name"], "orders-api");
        assert_eq!(f[0]["duration_ms"], 3000.0);
        assert_eq!(f[0]["share"], 0.75);
    }
}

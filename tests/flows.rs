//! Flow-log attribution on generated data with known ground truth, against an ip-ranges.json
//! in AWS's format: the committed synthetic `tests/data/ip-ranges-fixture.json`, or AWS's
//! published file when `NATCOST_TEST_IP_RANGES` names one (it is not committed).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{natcost_env, python, Moto, Proxy};

use natcost::snapshot::Snapshot;
use natcost::synth::{self, Truth};
use natcost::IpRanges;
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
    attributed_exit(dir, 0)
}

/// `natcost flows --format json` on `inputs`, with `env`: (exit code, json, stderr).
fn flows_on(inputs: &[&Path], cwd: &Path, env: &[(&str, &str)]) -> (Option<i32>, Value, String) {
    let mut args = vec!["flows", "--sample", "--format", "json", "--flow-logs"];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let ranges = ip_ranges_path();
    args.extend(["--ip-ranges", ranges.to_str().unwrap()]);
    let out = natcost_env(&args, cwd, env);
    let stderr = String::from_utf8(out.stderr).unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (out.status.code(), v, stderr)
}

/// As `attributed`, exiting with `code` (3: a partial result).
fn attributed_exit(dir: &Path, code: i32) -> (Value, String) {
    let (got, v, stderr) = flows_on(&[dir], dir, &[]);
    assert_eq!(got, Some(code), "{stderr}");
    (v, stderr)
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

#[cfg(unix)]
#[test]
fn each_file_is_read_once_and_nothing_but_files_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    let sub = d.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let truth = generate(&sub, false, true, 0);
    let (code, plain, _) = flows_on(&[&d], tmp.path(), &[]);
    assert_eq!(code, Some(0));
    assert_matches(&plain, &truth);
    // The same folder twice, a folder and its subfolder, links back up (a loop), a second name
    // for a file: the same bytes as the plain folder.
    std::os::unix::fs::symlink(".", d.join("self")).unwrap();
    std::os::unix::fs::symlink("..", sub.join("up")).unwrap();
    std::os::unix::fs::symlink(&truth.files[0], d.join("again.log.gz")).unwrap();
    let (code, twice, stderr) = flows_on(&[&d, &d, &sub], tmp.path(), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(twice["nats"], plain["nats"]);
    assert_eq!(twice["stats"]["files"], 3);
    // A FIFO and a link to a device are never opened (either would hang): said, and the
    // result is partial.
    assert!(Command::new("mkfifo")
        .arg(d.join("pipe.log"))
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.log")).unwrap();
    let (code, with_fifo, stderr) = flows_on(&[&d], tmp.path(), &[]);
    assert_eq!(code, Some(3), "{stderr}");
    assert_eq!(with_fifo["nats"], plain["nats"]);
    assert!(stderr.contains("pipe.log: not a regular file"), "{stderr}");
    assert!(stderr.contains("zero.log: not a regular file"), "{stderr}");
    // Named directly, a FIFO is refused at once.
    let out = natcost(
        &[
            "flows",
            "--sample",
            "--flow-logs",
            d.join("pipe.log").to_str().unwrap(),
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

#[test]
fn a_damaged_file_counts_for_nothing_and_the_result_is_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = generate(tmp.path(), false, true, 0);
    let (victim, other) = (&truth.files[1], &truth.files[2]);
    let (victim_bytes, other_bytes) = (
        std::fs::read(victim).unwrap(),
        std::fs::read(other).unwrap(),
    );
    // Cut in half; and whole, but with its gzip checksum wrong (seen only at its end).
    std::fs::write(victim, &victim_bytes[..victim_bytes.len() / 2]).unwrap();
    let mut bad_crc = other_bytes.clone();
    let at = bad_crc.len() - 8;
    bad_crc[at] ^= 0xff;
    std::fs::write(other, &bad_crc).unwrap();
    let (v, stderr) = attributed_exit(tmp.path(), 3);
    assert_eq!(v["stats"]["failed_files"].as_array().unwrap().len(), 2);
    assert!(stderr.contains("2 file(s) could not be read"), "{stderr}");
    // Exactly the bytes of the one sound file.
    let only = tempfile::tempdir().unwrap();
    std::fs::copy(&truth.files[0], only.path().join("only.log.gz")).unwrap();
    let (sound, _) = attributed(only.path());
    assert_eq!(v["nats"], sound["nats"]);
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
        let share = *dest.get(&natcost::Destination::S3).unwrap_or(&0) as f64
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
    assert!(common::markdown_totals_add_up(&md) >= 8, "{md}");
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
    months_split_by_own_records(&tmp.path().join("rep"), &truth);
}

/// allocation.csv in `rep` splits each month's bytes by that month's measured shares when its
/// records fall on 7 days of it at least (October), else by the window's (the sample's 4 days of
/// September), adding up to costs.csv.
fn months_split_by_own_records(rep: &Path, truth: &Truth) {
    // The sample's 4 days of September are too few; October's 31 days are split on their own.
    let md = std::fs::read_to_string(rep.join("report.md")).unwrap();
    assert!(
        md.contains("allocation.csv splits 2026-10 by that month's own records"),
        "{md}"
    );
    let allocation = common::allocation_adds_up(rep);
    let gb = |r: &std::collections::BTreeMap<String, String>| r["gb"].parse::<f64>().unwrap();
    let mut checked = 0;
    let mut by_month = 0;
    for (nat, window) in &truth.sources {
        for month in ["2026-09", "2026-10"] {
            let days: Vec<&BTreeMap<String, u64>> = truth
                .daily_sources
                .iter()
                .filter(|((n, d), _)| n == nat && d.format("%Y-%m").to_string() == month)
                .map(|(_, s)| s)
                .collect();
            let mut own: BTreeMap<String, u64> = BTreeMap::new();
            for (label, bytes) in days.iter().flat_map(|s| s.iter()) {
                *own.entry(label.clone()).or_default() += bytes;
            }
            let sources = if days.len() >= 7 {
                by_month += 1;
                &own
            } else {
                window
            };
            let mine: Vec<_> = allocation
                .iter()
                .filter(|r| r["nat_gateway_id"] == nat.as_str() && r["month"] == month)
                .collect();
            assert!(mine.iter().all(|r| r["basis"] == "measured"), "{mine:?}");
            let total: f64 = mine.iter().map(|r| gb(r)).sum();
            let all = sources.values().sum::<u64>() as f64;
            for (label, bytes) in sources.iter().filter(|(l, _)| !l.contains(' ')) {
                // A function's label is its name.
                let r = mine
                    .iter()
                    .find(|r| r["source_kind"] == "lambda" && r["source_name"] == label.as_str())
                    .unwrap_or_else(|| panic!("{nat} {month}: no row for {label}"));
                let want = total * *bytes as f64 / all;
                assert!((gb(r) - want).abs() < 1e-6, "{label}: {} vs {want}", gb(r));
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "{checked} functions checked");
    assert!(by_month > 0, "no month split by its own records");
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

/// The bytes the generator sent from NAT gateway `id` to destination `key` (`aws:AMAZON`).
fn sent(truth: &Truth, id: &str, key: &str) -> u64 {
    truth.destinations[id]
        .iter()
        .filter(|(d, _)| d.key() == key)
        .map(|(_, b)| *b)
        .sum()
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
        let want = |k: &str| sent(&truth, id, k);
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
        f["vpc_config"]["security_group_ids"] = serde_json::json!(["sg-0a5eda11ed5ba4ed0"]);
        if let Some(ms) = ms {
            f["duration_ms"] = serde_json::json!(ms);
        }
    }
    for e in region["network_interfaces"].as_array_mut().unwrap() {
        let desc = e["description"].as_str().unwrap_or_default();
        if desc.starts_with("AWS Lambda VPC ENI-orders-api-")
            || desc.starts_with("AWS Lambda VPC ENI-payments-webhook-")
        {
            e["security_group_ids"] = serde_json::json!(["sg-0a5eda11ed5ba4ed0"]);
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

/// Puts the files under `root` into a new bucket of moto, keyed by their path under `root`.
fn upload(moto: &Moto, bucket: &str, root: &Path) {
    let out = Command::new(python())
        .arg(common::manifest().join("tests/support/upload_tree.py"))
        .args([&moto.url(), bucket, root.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "upload failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_into(files: &[PathBuf], dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for f in files {
        std::fs::copy(f, dir.join(f.file_name().unwrap())).unwrap();
    }
}

/// The sample's flow logs, delivered to S3 as AWS does (`prod/AWSLogs/<account>/vpcflowlogs/
/// <region>/YYYY/MM/DD/`), are read straight from moto's S3: the same attribution as the
/// files, and only the window's day folders are listed and read.
#[test]
fn flow_logs_are_read_from_s3_day_folders_only() {
    let moto = Moto::start();
    let proxy = Proxy::start(
        moto.port,
        &["--deny-bucket", "locked-logs", "--deny-get", "sealed-logs"],
    );
    let tmp = tempfile::tempdir().unwrap();
    let prod = tmp.path().join("acme/prod");
    let truth = generate(&prod, false, true, 0);
    let logs = |account: &str, day: &str| {
        prod.join(format!(
            "AWSLogs/{account}/vpcflowlogs/ap-northeast-2/{day}"
        ))
    };
    // The sample's window is 2026-09-26 to 2026-11-01: the same files in folders of days
    // outside it (read, they would double every byte), and under an account the snapshot
    // does not have.
    copy_into(&truth.files, &logs("123456789012", "2026/09/24"));
    copy_into(&truth.files, &logs("123456789012", "2026/11/03"));
    copy_into(&truth.files, &logs("999999999999", "2026/10/01"));
    // An object that is not gzip inside: counted as an unreadable file, as locally.
    let broken = logs("123456789012", "2026/09/29")
        .join("123456789012_vpcflowlogs_ap-northeast-2_fl-0_20260929T0000Z_broken.log.gz");
    std::fs::write(&broken, b"\x1f\x8b\x08\x00not gzip at all").unwrap();
    upload(&moto, "acme-flow-logs", &tmp.path().join("acme"));
    // The same files, Hive-style and partitioned by hour, in another bucket.
    let hive = tmp.path().join("hive");
    copy_into(
        &truth.files,
        &hive.join("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=ap-northeast-2/year=2026/month=09/day=29/hour=05"),
    );
    upload(&moto, "hive-logs", &hive);

    let ranges = ip_ranges_path();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--ip-ranges", ranges.to_str().unwrap(), "--endpoint-url"]);
        let url = proxy.url();
        all.push(&url);
        natcost_env(&all, tmp.path(), &[("AWS_REGION", "ap-northeast-2")])
    };

    let out = run(&[
        "flows",
        "--sample",
        "--flow-logs",
        "s3://acme-flow-logs/prod/",
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_matches(&v, &truth);
    let files = truth.files.len() as u64;
    assert_eq!(v["stats"]["files"], files + 1);
    let failed = v["stats"]["failed_files"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0]
        .as_str()
        .unwrap()
        .starts_with("s3://acme-flow-logs/prod/AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2026/09/29/123456789012_vpcflowlogs_ap-northeast-2_fl-0_20260929T0000Z_broken.log.gz: "));
    assert!(stderr.contains("1 file(s) could not be read"), "{stderr}");
    // One folder listing, then each day of the window and the day after (37 days), one page
    // each; one GetObject per object in them. The proxy saw exactly these, and nothing else.
    let calls: BTreeMap<String, u64> = serde_json::from_value(v["api_calls"].clone()).unwrap();
    let want: BTreeMap<String, u64> = [
        ("s3:GetObject".to_string(), files + 1),
        ("s3:ListBucket".to_string(), 1 + 37),
    ]
    .into();
    assert_eq!(calls, want);
    let seen: BTreeMap<String, u64> =
        serde_json::from_value(proxy.stats_json()["actions"].clone()).unwrap();
    assert_eq!(seen, want);
    // The printed policy allows exactly these actions, on the location read.
    let policy = natcost_env(
        &["iam-policy", "--flow-logs", "s3://acme-flow-logs/prod/"],
        tmp.path(),
        &[],
    );
    let policy: Value = serde_json::from_slice(&policy.stdout).unwrap();
    let s3: Vec<&Value> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Action"][0].as_str().unwrap().starts_with("s3:"))
        .collect();
    assert_eq!(s3.len(), 2);
    assert_eq!(s3[0]["Action"][0], "s3:ListBucket");
    assert_eq!(s3[0]["Resource"], "arn:*:s3:::acme-flow-logs");
    assert_eq!(
        s3[0]["Condition"]["StringLike"]["s3:prefix"][0],
        "prod/AWSLogs/*"
    );
    assert_eq!(s3[1]["Action"][0], "s3:GetObject");
    assert_eq!(
        s3[1]["Resource"][0],
        "arn:*:s3:::acme-flow-logs/prod/AWSLogs/*"
    );

    // Objects listed but not given (GetObject denied, as with a KMS key the caller may not
    // use): missing data, named, exit 3; not a silent zero.
    upload(&moto, "sealed-logs", &tmp.path().join("acme"));
    let out = run(&[
        "flows",
        "--sample",
        "--flow-logs",
        "s3://sealed-logs/prod/",
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("natcost: warning: not collected: flow logs: {} object(s) could not be fetched from S3, e.g. s3://sealed-logs/prod/AWSLogs/", files + 1))
            && stderr.contains(": AccessDenied: Access Denied"),
        "{stderr}"
    );

    // Hive-style prefixes with hourly partitions give the same answer.
    let out = run(&[
        "flows",
        "--sample",
        "--flow-logs",
        "s3://hive-logs/",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_matches(&v, &truth);
    assert_eq!(v["stats"]["files"], files);

    // Another flow log's files in the same folder: `auto` reads only the files of the
    // configurations it follows.
    let other = tmp.path().join("other");
    let day = other.join("prod/AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2026/09/29");
    std::fs::create_dir_all(&day).unwrap();
    for f in &truth.files {
        let name = f.file_name().unwrap().to_str().unwrap();
        std::fs::copy(
            f,
            day.join(name.replace("fl-005bab700399ef826", "fl-0other")),
        )
        .unwrap();
    }
    upload(&moto, "acme-flow-logs", &other);

    // `auto` follows the sample's flow-log configuration (fl-… → arn:aws:s3:::acme-flow-logs/prod);
    // a denied bucket and a missing one are named, and the report still comes out (exit 3).
    let out = run(&[
        "report",
        "--sample",
        "--flow-logs",
        "auto",
        "s3://locked-logs/",
        "s3://no-such-bucket/logs/",
        "--no-files",
        "--format",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_matches(&report["flows"], &truth);
    // Only fl-005bab700399ef826's files: not the other flow log's copies, nor the broken
    // object (named for no flow log).
    let read_from = report["flows"]["read_from"].to_string();
    assert!(
        read_from.contains(&format!("s3://acme-flow-logs/prod/ (for ap-northeast-2 fl-005bab700399ef826 on vpc-0dc83bf6145e8900b (ALL traffic)): {files} object(s)")),
        "{read_from}"
    );
    let missing: Vec<&str> = report["not_collected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert!(missing[0].starts_with("flow logs: s3://locked-logs/: not read: AccessDenied"));
    assert!(missing[1].starts_with("flow logs: s3://no-such-bucket/logs/: not read: NoSuchBucket"));
    for m in missing {
        assert!(stderr.contains(m), "{m} not on stderr: {stderr}");
    }
    assert_eq!(report["api_calls"]["s3:GetObject"], files);
    assert_eq!(report["api_calls"]["s3:ListBucket"], 1 + 37 + 2);
}

/// One flow-log record as Logs Insights sees it.
struct Event {
    eni: String,
    src: String,
    dst: String,
    bytes: u64,
    start: i64,
    accept: bool,
}

/// Every record of the generated (plain, default-format) files.
fn events(files: &[PathBuf]) -> Vec<Event> {
    let mut out = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let v: Vec<&str> = line.split_whitespace().collect();
            if v.len() != 14 || v[0] == "version" || v[9] == "-" {
                continue;
            }
            out.push(Event {
                eni: v[2].into(),
                src: v[3].into(),
                dst: v[4].into(),
                bytes: v[9].parse().unwrap(),
                start: v[10].parse().unwrap(),
                accept: v[12] == "ACCEPT",
            });
        }
    }
    out
}

/// Whether an answer is cut, by whether the query is by day and its span in seconds.
type Cut = fn(bool, i64) -> bool;

/// What Logs Insights answers to natcost's query: the events of the interfaces it names, in
/// its time range, summed by interface, source, destination and (when the query says so) UTC
/// day of their start. Where `cut` says, it answers 10,000 rows (Insights' limit, padded with
/// decoys), as a cut answer looks.
fn insights_rows(events: &[Event], query: &Value, cut: Cut) -> Vec<Value> {
    let text = query["queryString"].as_str().unwrap();
    let dated = text.contains("\n| fields floor(startTime / 86400) as start_day\n");
    if dated {
        assert!(
            text.ends_with(" by interfaceId, srcAddr, dstAddr, start_day"),
            "{text}"
        );
    } else {
        assert!(
            text.ends_with(" by interfaceId, srcAddr, dstAddr"),
            "{text}"
        );
    }
    // The records natcost asks for, by their own start (the time range, on when events were
    // stamped, reaches past them).
    let bound = |op: &str| -> i64 {
        let at = text.find(&format!("startTime {op} ")).unwrap() + op.len() + 11;
        text[at..].split(' ').next().unwrap().parse().unwrap()
    };
    let (from, to) = (bound(">="), bound("<") - 1);
    assert!(query["startTime"].as_i64().unwrap() <= from);
    assert!(query["endTime"].as_i64().unwrap() >= to);
    // (interface, source, destination, day) → (bytes, records, first start, last start)
    type Key<'a> = (&'a str, &'a str, &'a str, i64);
    let mut sums: BTreeMap<Key, (u64, u64, i64, i64)> = BTreeMap::new();
    for e in events.iter().filter(|e| {
        e.accept && e.start >= from && e.start <= to && text.contains(&format!("\"{}\"", e.eni))
    }) {
        let s = sums
            .entry((
                &e.eni,
                &e.src,
                &e.dst,
                if dated { e.start.div_euclid(86_400) } else { 0 },
            ))
            .or_insert((0, 0, i64::MAX, i64::MIN));
        s.0 += e.bytes;
        s.1 += 1;
        s.2 = s.2.min(e.start);
        s.3 = s.3.max(e.start);
    }
    let field = |f: &str, v: String| serde_json::json!({"field": f, "value": v});
    let mut rows: Vec<Value> = sums
        .into_iter()
        .map(|((eni, src, dst, day), (bytes, n, first, last))| {
            let mut row = vec![
                field("interfaceId", eni.into()),
                field("srcAddr", src.into()),
                field("dstAddr", dst.into()),
                field("bytes", bytes.to_string()),
                field("records", n.to_string()),
                field("first", first.to_string()),
                field("last", last.to_string()),
            ];
            if dated {
                row.push(field("start_day", day.to_string()));
            }
            Value::Array(row)
        })
        .collect();
    // A NODATA record's row, as Insights gives it: nothing to count.
    rows.push(serde_json::json!([
        field("interfaceId", "eni-03f08aa400651faa3".into()),
        field("srcAddr", "-".into()),
        field("dstAddr", "-".into()),
        field("records", "3".into()),
    ]));
    if cut(dated, to - from) {
        while rows.len() < 10_000 {
            rows.push(serde_json::json!([
                field("interfaceId", "eni-03f08aa400651faa3".into()),
                field("srcAddr", "198.51.100.1".into()),
                field("dstAddr", "10.0.0.9".into()),
                field("bytes", "1000000".into()),
            ]));
        }
    }
    rows
}

/// A loopback Logs Insights answering from `events` (`/missing` does not exist), first
/// "Running" to each poll when `running_first`; the url and the StartQuery requests made.
fn insights_server(
    events: Vec<Event>,
    cut: Cut,
    running_first: bool,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use std::sync::{Arc, Mutex};
    let started: Arc<Mutex<Vec<Value>>> = Arc::default();
    let polls: Arc<Mutex<BTreeMap<String, u32>>> = Arc::default();
    let (log, seen) = (started.clone(), polls.clone());
    let url = common::serve_json(move |target, req| match target {
        "Logs_20140328.StartQuery" => {
            if req["logGroupName"] == "/missing" {
                return (
                    400,
                    serde_json::json!({"__type": "ResourceNotFoundException", "message": "The specified log group does not exist."}),
                );
            }
            let mut queries = log.lock().unwrap();
            queries.push(req.clone());
            (
                200,
                serde_json::json!({"queryId": format!("q{}", queries.len() - 1)}),
            )
        }
        "Logs_20140328.GetQueryResults" => {
            let id = req["queryId"].as_str().unwrap().to_string();
            let n = {
                let mut seen = seen.lock().unwrap();
                let n = seen.entry(id.clone()).or_default();
                *n += 1;
                *n
            };
            if n == 1 && running_first {
                return (200, serde_json::json!({"results": [], "status": "Running"}));
            }
            let i: usize = id[1..].parse().unwrap();
            let query = log.lock().unwrap()[i].clone();
            let rows = insights_rows(&events, &query, cut);
            (
                200,
                serde_json::json!({
                    "results": rows,
                    "statistics": {"recordsMatched": rows.len(), "recordsScanned": 1000.0, "bytesScanned": 2_500_000.0},
                    "status": "Complete"
                }),
            )
        }
        other => panic!("unexpected call {other}"),
    });
    (url, started)
}

/// The sample, with each of its three VPCs' flow logs delivered to one log group, in `dir`.
fn insights_snapshot(dir: &Path) -> PathBuf {
    let mut snap: Value = serde_json::from_str(natcost::SAMPLE_SNAPSHOT).unwrap();
    let vpcs = [
        "vpc-0dc83bf6145e8900b",
        "vpc-04d229620e2e9c623",
        "vpc-05beb0ddc91327383",
    ];
    snap["accounts"][0]["regions"][0]["flow_logs"] = vpcs
        .iter()
        .enumerate()
        .map(|(i, vpc)| serde_json::json!({
            "flow_log_id": format!("fl-{i}c0"),
            "resource_id": vpc,
            "traffic_type": "ALL",
            "log_destination_type": "cloud-watch-logs",
            "log_destination": "arn:aws:logs:ap-northeast-2:123456789012:log-group:/vpc/flow-logs",
            "log_group_name": "/vpc/flow-logs",
            "log_format": "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
        }))
        .collect();
    let path = dir.join("snap.json");
    std::fs::write(&path, snap.to_string()).unwrap();
    path
}

/// `report` on the snapshot at `path` with its flow logs from the Logs Insights at `url`, into
/// `dir/rep`; it succeeds.
fn insights_report(dir: &Path, path: &Path, url: &str) {
    let out = natcost_env(
        &[
            "report",
            "--snapshot",
            path.to_str().unwrap(),
            "--flow-logs",
            "auto",
            "--endpoint-url",
            url,
            "--ip-ranges",
            ip_ranges_path().to_str().unwrap(),
            "--prices",
            "bundled",
            "--out",
            "rep",
        ],
        dir,
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Flow logs whose destination is a log group are aggregated in AWS by a Logs Insights query,
/// replayed here in Insights' wire shapes: the same attribution as reading the files, with the
/// window split where an answer reaches the row limit.
#[test]
fn flow_logs_in_cloudwatch_logs_are_aggregated_by_logs_insights() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = generate(&tmp.path().join("logs"), false, false, 0);
    let events = events(&truth.files);
    let (url, started) = insights_server(events, |_, span| span > 10 * 86_400, true);
    let path = insights_snapshot(tmp.path());
    let out = natcost_env(
        &[
            "-v",
            "flows",
            "--snapshot",
            path.to_str().unwrap(),
            "--flow-logs",
            "auto",
            // Named too: still one query per window part (the group is read once).
            "log-group:/vpc/flow-logs",
            "log-group:/missing",
            "--endpoint-url",
            &url,
            "--ip-ranges",
            ip_ranges_path().to_str().unwrap(),
            "--format",
            "json",
        ],
        tmp.path(),
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_matches(&v, &truth);
    assert!(stderr.contains(
        "natcost: warning: not collected: flow logs: ap-northeast-2 log group /missing: not read: ResourceNotFoundException: The specified log group does not exist."
    ), "{stderr}");
    // The window (36 days) was asked by month: September's 5 days whole, October whole, then
    // split at the day nearest its middle, and again, each answer polled twice (running, then
    // complete).
    let queries = started.lock().unwrap().clone();
    // Each query's range reaches an hour past the records it asks for (late events).
    let spans: Vec<i64> = queries
        .iter()
        .map(|q| q["endTime"].as_i64().unwrap() + 1 - 3600 - q["startTime"].as_i64().unwrap())
        .collect();
    let day = 86_400;
    assert_eq!(spans, [5, 31, 15, 7, 8, 16, 8, 8].map(|days| days * day));
    assert_eq!(queries[0]["startTime"], 1_790_380_800, "2026-09-26T00:00Z");
    assert_eq!(queries[0]["logGroupName"], "/vpc/flow-logs");
    let text = queries[0]["queryString"].as_str().unwrap();
    for eni in [
        "eni-03f08aa400651faa3",
        "eni-0a1ae9394d1dde3eb",
        "eni-0ae3bfa1c6588fcd1",
    ] {
        assert!(text.contains(&format!("\"{eni}\"")), "{text}");
    }
    // September's query asks for its records only; -v shows the query over the window.
    assert!(text.contains("startTime >= 1790380800 and startTime < 1790812800 "));
    let window = text.replace("startTime < 1790812800", "startTime < 1793491200");
    assert!(stderr.contains(&window), "-v shows the query: {stderr}");
    assert_eq!(v["api_calls"]["logs:StartQuery"], 9);
    assert_eq!(v["api_calls"]["logs:GetQueryResults"], 16);
    // The printed policy allows exactly the calls made, StartQuery on the group only.
    let policy = natcost_env(
        &["iam-policy", "--flow-logs", "log-group:/vpc/flow-logs"],
        tmp.path(),
        &[],
    );
    let policy: Value = serde_json::from_slice(&policy.stdout).unwrap();
    let logs: BTreeMap<String, Value> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Action"][0].as_str().unwrap().starts_with("logs:"))
        .map(|s| {
            (
                s["Action"][0].as_str().unwrap().to_string(),
                s["Resource"].clone(),
            )
        })
        .collect();
    let made: Vec<&String> = v["api_calls"].as_object().unwrap().keys().collect();
    assert_eq!(logs.keys().collect::<Vec<_>>(), made);
    assert_eq!(
        logs["logs:StartQuery"],
        serde_json::json!(["arn:*:logs:*:*:log-group:/vpc/flow-logs:*"])
    );
    let read = v["read_from"][0].as_str().unwrap();
    assert!(
        read.starts_with("ap-northeast-2 log group /vpc/flow-logs (Logs Insights): ")
            && read.ends_with("20.0 MB scanned, 8 query(ies)"),
        "{read}"
    );
    // Insights' rows are dated: a report splits each month by its own records, as from files.
    insights_report(tmp.path(), &path, &url);
    months_split_by_own_records(&tmp.path().join("rep"), &truth);
}

/// Too many rows by day for Insights' answers within the query budget: the group is asked again
/// summed over the window, so every byte still counts, and the report says its days are unknown.
#[test]
fn insights_with_too_many_rows_by_day_sums_over_the_window() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = generate(&tmp.path().join("logs"), false, false, 0);
    // By day, only one day fits an answer (the 36 days take more than 64 queries); the window's
    // sums fit.
    let (url, started) = insights_server(
        events(&truth.files),
        |dated, span| dated && span > 86_400,
        false,
    );
    let path = insights_snapshot(tmp.path());
    let (code, v, stderr) = {
        let out = natcost_env(
            &[
                "flows",
                "--snapshot",
                path.to_str().unwrap(),
                "--flow-logs",
                "auto",
                "--endpoint-url",
                &url,
                "--ip-ranges",
                ip_ranges_path().to_str().unwrap(),
                "--format",
                "json",
            ],
            tmp.path(),
            &[],
        );
        (
            out.status.code(),
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    assert_eq!(code, Some(0), "{stderr}");
    assert_matches(&v, &truth);
    let queries = started.lock().unwrap().clone();
    let by_day = queries
        .iter()
        .filter(|q| q["queryString"].as_str().unwrap().contains("start_day"))
        .count();
    assert_eq!(
        (by_day, queries.len()),
        (64, 65),
        "the budget, then the window"
    );
    let read = v["read_from"][0].as_str().unwrap();
    assert!(
        read.ends_with("65 query(ies); summed over the window, not by day (still more than 10000 rows after 64 queries): no day or month is explained by its records"),
        "{read}"
    );
    // Nor is any: a report splits every month by the window's shares, even where a source and
    // destination show up on one day only (one more record, from a new client address in the
    // VPC to a NAT gateway, makes one).
    let mut more = events(&truth.files);
    let e = more
        .iter()
        .find(|e| e.accept && e.eni == "eni-03f08aa400651faa3" && e.src.starts_with("10."))
        .unwrap();
    let (net, _) = e.src.rsplit_once('.').unwrap();
    let once = Event {
        eni: e.eni.clone(),
        src: format!("{net}.250"),
        dst: e.dst.clone(),
        bytes: 1000,
        start: e.start,
        accept: true,
    };
    more.push(once);
    let (url, _) = insights_server(more, |dated, span| dated && span > 86_400, false);
    insights_report(tmp.path(), &path, &url);
    let md = std::fs::read_to_string(tmp.path().join("rep/report.md")).unwrap();
    let sections = md.matches("Clients' bytes are dated to ").count();
    assert!(sections > 0, "{md}");
    assert_eq!(
        md.matches("Clients' bytes are dated to 0 day(s). allocation.csv splits no month by that month's own records").count(),
        sections,
        "{md}"
    );
}

/// `--athena-table`: natcost sends one aggregating query to (moto's) Athena; the same SQL, run
/// by DuckDB over the same files, gives the rows moto then returns, and they attribute exactly
/// as reading the files does.
#[test]
fn athena_aggregates_the_flow_log_table() {
    let moto = Moto::start();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    let truth = generate(&logs, false, false, 0);
    // The same files in day folders outside the window: only the partition filter keeps them out.
    let folder = |day: &str| {
        logs.join(format!(
            "AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/{day}"
        ))
    };
    copy_into(&truth.files, &folder("2026/09/20"));
    copy_into(&truth.files, &folder("2026/11/05"));
    std::fs::create_dir_all(tmp.path().join("empty")).unwrap();
    upload(&moto, "athena-results", &tmp.path().join("empty"));
    let url = moto.url();
    let ranges = ip_ranges_path();
    let run = |command: &str, workgroup: &str| {
        let mut args = vec![
            command,
            "--sample",
            "--athena-table",
            "flowdb.vpc_flow_logs",
            "--athena-workgroup",
            workgroup,
            "--athena-output",
            "s3://athena-results/natcost/",
            "--endpoint-url",
            &url,
            "--ip-ranges",
            ranges.to_str().unwrap(),
            "--format",
            "json",
        ];
        if command == "report" {
            args.push("--no-files");
        }
        natcost_env(&args, tmp.path(), &[])
    };
    // moto records the SQL and answers no rows.
    let first = run("flows", "primary");
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // DuckDB runs that SQL over the files; moto will answer the next query with its rows.
    let duck = Command::new(python())
        .arg(common::manifest().join("tests/support/athena_duckdb.py"))
        .args([url.as_str(), "ap-northeast-2", logs.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        duck.status.success(),
        "{}\nnatcost said: {}",
        String::from_utf8_lossy(&duck.stderr),
        String::from_utf8_lossy(&first.stderr)
    );
    let duck: Value = serde_json::from_slice(&duck.stdout).unwrap();
    assert_eq!(duck["workgroup"], "primary");
    // Athena (and moto) name the result file under the location given.
    assert!(duck["output"]
        .as_str()
        .unwrap()
        .starts_with("s3://athena-results/natcost/"));
    let sql = duck["sql"].as_str().unwrap();
    assert!(sql.contains("FROM \"flowdb\".\"vpc_flow_logs\""), "{sql}");
    assert!(
        sql.contains("\"day\" BETWEEN '2026/09/26' AND '2026/11/01'"),
        "{sql}"
    );
    assert!(duck["rows"].as_array().unwrap().len() > 10);

    let out = run("flows", "primary");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_matches(&v, &truth);
    let calls = v["api_calls"].as_object().unwrap();
    assert_eq!(calls["athena:StartQueryExecution"], 1);
    assert_eq!(calls["athena:GetQueryResults"], 1);
    let read = v["read_from"][0].as_str().unwrap();
    assert!(
        read.contains("on flowdb.vpc_flow_logs: ") && read.contains(" × 5 USD/TB = "),
        "{read}"
    );
    // The policy's Athena statement allows exactly the calls made, in that workgroup.
    let policy = natcost_env(&["iam-policy", "--athena", "primary"], tmp.path(), &[]);
    let policy: Value = serde_json::from_slice(&policy.stdout).unwrap();
    let athena = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "NatcostAthenaQuery")
        .unwrap();
    let allowed: Vec<&str> = athena["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        allowed,
        calls.keys().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(athena["Resource"], "arn:*:athena:*:*:workgroup/primary");

    // A workgroup that does not exist: one line naming it, and the rest of the report (exit 3).
    let out = run("report", "missing");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let missing = report["not_collected"][0].as_str().unwrap();
    assert!(
        missing.starts_with("flow logs: Athena table flowdb.vpc_flow_logs: not read: ")
            && missing.contains("WorkGroup does not exist"),
        "{missing}"
    );
    assert!(stderr.contains(missing), "{stderr}");
    assert!(report["nats"].as_array().is_some_and(|n| !n.is_empty()));
}

/// Flow logs delivered as Parquet (Gzip inside, AWS's column names and types), written by
/// DuckDB from the generated text files: the same attribution, from a folder and from S3; a
/// truncated Parquet file is counted as unreadable.
#[test]
fn parquet_flow_logs_give_the_same_attribution() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("text");
    let truth = generate(&text, false, false, 0);
    let tree = tmp.path().join("parquet");
    let prod = tree.join("prod");
    let made = Command::new(python())
        .arg(common::manifest().join("tests/support/to_parquet.py"))
        .args([text.to_str().unwrap(), prod.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let (v, _) = attributed(&prod);
    assert_matches(&v, &truth);
    assert_eq!(v["stats"]["files"], truth.files.len());
    assert_eq!(v["stats"]["failed_files"].as_array().unwrap().len(), 0);

    // Half a Parquet file: its footer is gone, so nothing of it is read, and it is named.
    let first =
        std::fs::read_dir(prod.join("AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2026/09/29"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
    let data = std::fs::read(&first).unwrap();
    std::fs::write(
        first.with_file_name("broken.parquet"),
        &data[..data.len() / 2],
    )
    .unwrap();
    let (v, stderr) = attributed_exit(&prod, 3);
    assert_matches(&v, &truth);
    let failed = v["stats"]["failed_files"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].as_str().unwrap().contains("broken.parquet: "));
    assert!(stderr.contains("1 file(s) could not be read"), "{stderr}");
    std::fs::remove_file(first.with_file_name("broken.parquet")).unwrap();

    // Four 2 MiB interface ids, packed small: a value longer than any field (1 MiB) is refused,
    // and with a 1 MiB room per row group the row group is refused before any of it is read.
    let hostile = tmp.path().join("hostile");
    std::fs::create_dir_all(&hostile).unwrap();
    let file = hostile.join("big.parquet");
    let made = Command::new(python())
        .args(["-c", &format!(
            "import duckdb; duckdb.connect().execute(\"COPY (SELECT repeat('e', 2097152) || i::VARCHAR AS interface_id, '10.0.0.1' AS srcaddr, '52.95.1.1' AS dstaddr, 100::BIGINT AS bytes FROM range(4) t(i)) TO '{}' (FORMAT parquet, COMPRESSION gzip)\")",
            file.display()
        )])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(std::fs::metadata(&file).unwrap().len() < 1 << 20);
    let (v, stderr) = attributed_exit(&hostile, 3);
    let failed = v["stats"]["failed_files"].to_string();
    assert!(
        failed.contains("more than the 1 MiB any field may hold"),
        "{failed} {stderr}"
    );
    let (_, v, _) = flows_on(
        &[&hostile],
        tmp.path(),
        &[("NATCOST_PARQUET_GROUP_MB", "1")],
    );
    let failed = v["stats"]["failed_files"].to_string();
    assert!(
        failed.contains("more than the 1 MiB natcost holds at once"),
        "{failed}"
    );

    let moto = Moto::start();
    upload(&moto, "acme-flow-logs", &tree);
    let out = natcost_env(
        &[
            "flows",
            "--sample",
            "--flow-logs",
            "s3://acme-flow-logs/prod/",
            "--endpoint-url",
            &moto.url(),
            "--ip-ranges",
            ip_ranges_path().to_str().unwrap(),
            "--format",
            "json",
        ],
        tmp.path(),
        &[("AWS_REGION", "ap-northeast-2")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_matches(&v, &truth);
    assert_eq!(v["api_calls"]["s3:GetObject"], truth.files.len());
}

#[test]
fn resolver_query_logs_name_the_service_behind_amazon_addresses() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("flows");
    std::fs::create_dir(&logs).unwrap();
    let truth = generate(&logs, false, false, 0);
    // A day of Route 53 Resolver query logs, gzipped as AWS delivers them: the AMAZON address
    // is what sqs.ap-northeast-2.amazonaws.com resolved to; an unrelated name, a CNAME and a
    // line that is not a record are there too.
    let address = seoul_amazon_address();
    let record = |name: &str, answers: Value| {
        serde_json::json!({
            "version": "1.100000", "account_id": "123456789012", "region": "ap-northeast-2",
            "vpc_id": "vpc-0dc83bf6145e8900b", "query_timestamp": "2026-10-30T01:02:03Z",
            "query_name": name, "query_type": "A", "query_class": "IN", "rcode": "NOERROR",
            "answers": answers, "srcaddr": "10.0.16.9", "srcport": "40001",
            "transport": "UDP", "srcids": {"instance": "i-0123456789abcdef0"}
        })
        .to_string()
    };
    let text = [
        record(
            "sqs.ap-northeast-2.amazonaws.com.",
            serde_json::json!([{"Rdata": address, "Type": "A", "Class": "IN"}]),
        ),
        record(
            "example.com.",
            serde_json::json!([{"Rdata": "93.184.216.34", "Type": "A", "Class": "IN"}]),
        ),
        record(
            "queue.example.",
            serde_json::json!([{"Rdata": "sqs.ap-northeast-2.amazonaws.com.", "Type": "CNAME", "Class": "IN"}]),
        ),
        "{not a record".to_string(),
    ]
    .join("\n");
    let dns = tmp.path().join("dns");
    std::fs::create_dir(&dns).unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(dns.join("vpc-0dc83bf6145e8900b_20261030T0100Z_abc.log.gz")).unwrap(),
        flate2::Compression::default(),
    );
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    gz.finish().unwrap();
    let ranges = ip_ranges_path();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "flows",
            "--sample",
            "--flow-logs",
            logs.to_str().unwrap(),
            "--ip-ranges",
            ranges.to_str().unwrap(),
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = natcost(&args, tmp.path());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (v, String::from_utf8(out.stderr).unwrap())
    };
    let (named, _) = run(&["--resolver-logs", dns.to_str().unwrap()]);
    assert!(
        named["read_from"].as_array().unwrap().iter().any(|r| r
            == "Route 53 Resolver query logs: 1 file(s), 3 queries, 1 AWS address(es) named, 1 line(s) not a query record skipped"),
        "{}",
        named["read_from"]
    );
    let mut moved = 0;
    for n in named["nats"].as_array().unwrap() {
        let id = n["nat_gateway_id"].as_str().unwrap();
        let want = |k: &str| sent(&truth, id, k);
        let got = |k: &str| n["destinations"][k].as_u64().unwrap_or(0);
        // Everything the generator sent to the AMAZON address is SQS's now.
        assert_eq!(got("aws:SQS"), want("aws:SQS") + want("aws:AMAZON"), "{id}");
        assert_eq!(got("aws:AMAZON"), 0, "{id}");
        moved += want("aws:AMAZON");
    }
    assert!(moved > 0, "the generated logs reach the address");
    // Without the query logs those bytes stay AMAZON: many services, no endpoint.
    let (unnamed, _) = run(&[]);
    let amazon: u64 = unnamed["nats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["destinations"]["aws:AMAZON"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(amazon, moved);
}

#[test]
fn diff_explains_a_change_by_the_sources_each_report_measured() {
    let tmp = tempfile::tempdir().unwrap();
    generate(tmp.path(), false, false, 0);
    let logs = tmp.path().join("AWSLogs");
    let ranges = ip_ranges_path();
    common::october_and_whole(
        tmp.path(),
        &[
            "--flow-logs",
            logs.to_str().unwrap(),
            "--ip-ranges",
            ranges.to_str().unwrap(),
        ],
    );
    let c = common::diff_json(tmp.path(), "october", "whole");
    let d = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    let sources = c["by_source"].as_array().unwrap();
    assert!(!sources.is_empty(), "{c}");
    // The sources each report measured explain the whole change, exactly.
    let sum: rust_decimal::Decimal = sources.iter().map(|s| d(&s["change"])).sum();
    assert_eq!(sum, d(&c["change"]));
    assert!(sources
        .iter()
        .any(|s| s["via"].as_array().is_some_and(|v| !v.is_empty())));
    // And the comparison says what weakens it: October is inside the whole window.
    let notes = c["notes"].to_string();
    assert!(notes.contains("overlap"), "{notes}");
    assert!(notes.contains("differ in length"), "{notes}");
}

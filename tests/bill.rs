//! The bill from Cost and Usage Report files, against a model collected live from moto: one
//! ground truth seeds moto (tests/support/seed_bill.py) and writes the CUR 2.0 Parquet, CUR 2.0
//! gzip CSV and legacy CUR files (tests/support/cur_files.py) natcost reconciles.
//!
//! Needs moto and DuckDB: `bash scripts/test.sh` installs them into .venv.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::str::FromStr;

use chrono::{Datelike, TimeZone, Utc};
use common::{natcost, Moto, Proxy};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "ap-northeast-2";

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|_| panic!("{s:?} is not a decimal"))
}

fn arn(id: &str) -> String {
    format!("arn:aws:ec2:{REGION}:{ACCOUNT}:natgateway/{id}")
}

/// One line of the ground truth (cur_files.py splits it in two rows).
fn line(
    month: &str,
    usage: &str,
    resource: &str,
    kind: &str,
    amount: Decimal,
    cost: Decimal,
) -> Value {
    serde_json::json!({
        "month": month, "account": ACCOUNT,
        "region": if kind == "Usage" { REGION } else { "" },
        "usage_type": usage, "resource_id": resource, "type": kind,
        "amount": amount.to_string(), "cost": cost.to_string(),
    })
}

fn python(args: &[&str]) -> String {
    let out = Command::new(common::python()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `natcost collect` of the window the bill is set against: Seoul, the last two whole months.
fn collect(endpoint: &str, snapshot: &Path, cwd: &Path) -> std::process::Output {
    natcost(
        &[
            "collect",
            "--region",
            REGION,
            "--months",
            "2",
            "--endpoint-url",
            endpoint,
            "--quiet",
            "-o",
            snapshot.to_str().unwrap(),
        ],
        cwd,
    )
}

/// `natcost reconcile --snapshot SNAPSHOT --prices bundled --bill BILL EXTRA…`
fn reconcile(snapshot: &Path, bill: &str, extra: &[&str], cwd: &Path) -> std::process::Output {
    let mut args = vec![
        "reconcile",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--prices",
        "bundled",
        "--bill",
        bill,
    ];
    args.extend_from_slice(extra);
    natcost(&args, cwd)
}

/// reconcile.csv's rows by (month, usage type, resource id).
fn rows(path: &Path) -> BTreeMap<(String, String, String), csv::StringRecord> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    assert_eq!(&reader.headers().unwrap()[4], "resource_id");
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            ((r[0].to_string(), r[3].to_string(), r[4].to_string()), r)
        })
        .collect()
}

/// The last two whole months, as `--months 2` takes them: a deleted NAT gateway found through
/// ListMetrics, a month 0.3% off (within 1%), one 5% off (flagged), a credit, in all three
/// report formats, from a folder and from S3; broken files stop the run before anything is
/// written.
#[test]
fn cost_and_usage_reports_are_reconciled_per_nat_gateway() {
    let moto = Moto::start();
    let tmp = tempfile::tempdir().unwrap();
    let now = Utc::now();
    let this_month = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .unwrap();
    let first = this_month - chrono::Months::new(2);
    let second = this_month - chrono::Months::new(1);
    let (m1, m2) = (
        first.format("%Y-%m").to_string(),
        second.format("%Y-%m").to_string(),
    );
    let h1 = Decimal::from((second - first).num_hours());
    let h2 = Decimal::from((this_month - second).num_hours());
    let seed = common::manifest().join("tests/support/seed_bill.py");
    let ids: Value = serde_json::from_str(&python(&[
        seed.to_str().unwrap(),
        &moto.url(),
        &first.format("%Y-%m-%dT%H:%M:%S").to_string(),
        &(h1 + h2).to_string(),
    ]))
    .unwrap();
    let (live, deleted) = (
        ids["nat_live"].as_str().unwrap(),
        ids["nat_deleted"].as_str().unwrap(),
    );

    // Collected live: the deleted NAT gateway only CloudWatch knows is in the snapshot.
    let snap = tmp.path().join("snap.json");
    let out = collect(&moto.url(), &snap, tmp.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snapshot: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    let nats = snapshot["accounts"][0]["regions"][0]["nat_gateways"]
        .as_array()
        .unwrap();
    let gone = nats
        .iter()
        .find(|n| n["nat_gateway_id"] == deleted)
        .expect("the deleted NAT gateway, found through ListMetrics");
    assert_eq!(gone["found_by"], "cloudwatch:ListMetrics");
    assert_eq!(gone["state"], "deleted");
    let hour = |h: i64| {
        (first + chrono::Duration::hours(h)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    assert_eq!(gone["create_time"], hour(100));
    assert_eq!(gone["delete_time"], hour(300));
    assert!(
        snapshot["api_calls"]["cloudwatch:ListMetrics"]
            .as_u64()
            .unwrap()
            >= 2
    );

    // The ground truth: what the model should find, billed; then the drift and the credit.
    let price = dec!(0.059);
    let ip = dec!(0.005);
    let hours = "APN2-NatGateway-Hours";
    let bytes = "APN2-NatGateway-Bytes";
    let truth = serde_json::json!({"lines": [
        line(&m1, hours, &arn(live), "Usage", h1, h1 * price),
        // 0.3% more billed than modelled: within tolerance.
        line(&m1, bytes, &arn(live), "Usage", (h1 / dec!(0.997)).round_dp(6), (h1 * price / dec!(0.997)).round_dp(6)),
        // The deleted NAT gateway: hours 100 to 299, 0.5 GiB an hour.
        line(&m1, hours, &arn(deleted), "Usage", dec!(200), dec!(200) * price),
        line(&m1, bytes, &arn(deleted), "Usage", dec!(100), dec!(100) * price),
        // Both NAT gateways' addresses are billed; the model has the live one's only.
        line(&m1, "APN2-PublicIPv4:InUseAddress", "", "Usage", h1 + dec!(200), (h1 + dec!(200)) * ip),
        line(&m2, hours, &arn(live), "Usage", h2, h2 * price),
        // 5% more billed than modelled: flagged.
        line(&m2, bytes, &arn(live), "Usage", (h2 / dec!(0.95)).round_dp(6), (h2 * price / dec!(0.95)).round_dp(6)),
        line(&m2, "APN2-PublicIPv4:InUseAddress", "", "Usage", h2, h2 * ip),
        line(&m2, hours, "", "Credit", Decimal::ZERO, dec!(-10)),
    ]});
    let truth_file = tmp.path().join("truth.json");
    std::fs::write(&truth_file, truth.to_string()).unwrap();
    let files = tmp.path().join("cur");
    python(&[
        common::manifest()
            .join("tests/support/cur_files.py")
            .to_str()
            .unwrap(),
        files.to_str().unwrap(),
        truth_file.to_str().unwrap(),
    ]);

    let mut seen: Vec<BTreeMap<(String, String, String), csv::StringRecord>> = Vec::new();
    for format in ["cur2-parquet", "cur2-csv", "legacy"] {
        let dir = tmp.path().join(format!("out-{format}"));
        let bill = format!("cur:{}", files.join(format).display());
        let out = natcost(
            &[
                "report",
                "--snapshot",
                snap.to_str().unwrap(),
                "--prices",
                "bundled",
                "--bill",
                &bill,
                "--out",
                dir.to_str().unwrap(),
                "--format",
                "json",
            ],
            tmp.path(),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{format}: {stderr}");
        let rows = rows(&dir.join("reconcile.csv"));
        let row = |month: &str, usage: &str, resource: &str| {
            rows.get(&(month.to_string(), usage.to_string(), resource.to_string()))
                .unwrap_or_else(|| {
                    panic!(
                        "{format}: no row {month} {usage} {resource}: {:?}",
                        rows.keys()
                    )
                })
        };
        // Hours tie to the bill exactly, for both NAT gateways.
        for (month, h) in [(&m1, h1), (&m2, h2)] {
            let r = row(month, hours, &arn(live));
            assert_eq!((d(&r[5]), d(&r[6])), (h, h * price), "{format}: {r:?}");
            assert_eq!(d(&r[7]), h);
            assert_eq!(&r[9], "0");
        }
        let r = row(&m1, hours, &arn(deleted));
        assert_eq!(
            (d(&r[5]), d(&r[7])),
            (dec!(200), dec!(200)),
            "{format}: {r:?}"
        );
        assert_eq!(&r[9], "0");
        assert_eq!(
            &r[10],
            "deleted before collection, found through cloudwatch:ListMetrics: its hours run from its first to its last datapoint"
        );
        let r = row(&m1, bytes, &arn(deleted));
        assert_eq!(
            (d(&r[5]), d(&r[7])),
            (dec!(100), dec!(100)),
            "{format}: {r:?}"
        );
        // 0.3% off: within, nothing to explain.
        let r = row(&m1, bytes, &arn(live));
        assert_eq!(&r[9], "-0.3", "{format}: {r:?}");
        assert_eq!(&r[10], "");
        // 5% off: flagged, in the file and on stderr.
        let r = row(&m2, bytes, &arn(live));
        assert_eq!(&r[9], "-5", "{format}: {r:?}");
        assert_eq!(&r[10], "off by -5.00%: not explained");
        assert!(
            stderr.contains(&format!(
                "natcost: warning: the bill: {m2} {ACCOUNT} {REGION} {bytes} {}: off by -5.00%: not explained",
                arn(live)
            )),
            "{format}: {stderr}"
        );
        // Addresses of the deleted NAT gateway: billed, not modelled, explained.
        let r = row(&m1, "APN2-PublicIPv4:InUseAddress", "");
        assert!(
            r[10].starts_with("PublicIPv4 bills every public address"),
            "{r:?}"
        );
        // Neither the other account's NAT gateway nor EC2 instances are compared.
        assert!(rows
            .keys()
            .all(|k| k.2.is_empty() || k.2 == arn(live) || k.2 == arn(deleted)));
        assert_eq!(rows.len(), 8, "{format}: {:?}", rows.keys());

        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let rec = &report["reconcile"];
        assert_eq!(
            rec["adjustments"],
            serde_json::json!([{
                "month": m2, "account_id": ACCOUNT, "region": REGION, "usage_type": hours,
                "line_item_type": "Credit", "cost": "-10"
            }]),
            "{format}"
        );
        let notes: Vec<&str> = rec["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("other account(s) not reported (210987654321)")),
            "{notes:?}"
        );
        // A CSV file beside the report that is not one is skipped, and said.
        assert_eq!(
            notes
                .iter()
                .filter(|n| n.ends_with(
                    "notes.csv: not a Cost and Usage Report (none of its columns): skipped"
                ))
                .count(),
            usize::from(format == "cur2-csv"),
            "{notes:?}"
        );
        // The legacy export also holds an older version of each month (every cost doubled).
        assert_eq!(
            notes
                .iter()
                .filter(|n| n.contains("2 versions of the report"))
                .count(),
            if format == "legacy" { 2 } else { 0 },
            "{notes:?}"
        );
        let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
        assert!(common::markdown_totals_add_up(&md) >= 6, "{md}");
        // natcost.xlsx's Reconcile sheet: the billed and modelled totals are reconcile.csv's.
        let wb = common::xlsx_cells(&dir.join("natcost.xlsx"));
        let sheet = wb["sheets"]["Reconcile"]["cells"].as_array().unwrap();
        let total = sheet.last().unwrap().as_array().unwrap();
        assert_eq!(total[0]["v"], "Total");
        let mut reader = csv::Reader::from_path(dir.join("reconcile.csv")).unwrap();
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(sheet.len(), records.len() + 2);
        for col in [6, 8] {
            let sum: Decimal = records
                .iter()
                .filter(|r| !r[col].is_empty())
                .map(|r| d(&r[col]))
                .sum();
            let stored = total[col]["r"].as_f64().unwrap();
            assert!(
                (stored - sum.to_string().parse::<f64>().unwrap()).abs() < 1e-6,
                "{format} column {col}: {stored} vs {sum}"
            );
        }
        assert!(md.contains("| Credit | -10.00 |"), "{md}");
        // monthly_cost marks each month's billed total, rounded as every figure shown is.
        for month in [&m1, &m2] {
            let billed: Decimal = rows
                .iter()
                .filter(|(k, _)| &k.0 == month)
                .map(|(_, r)| d(&r[6]))
                .sum();
            let marker = format!("billed {}\n", natcost::money(billed));
            let svg = std::fs::read_to_string(dir.join("monthly_cost.svg")).unwrap();
            assert!(
                svg.contains(&marker),
                "{format}: no \"{marker}\" for {month} ({billed})"
            );
            // The same figure read back from the SVG: within half a cent of the bill.
            let at = svg.find(&marker).unwrap() + "billed ".len();
            let shown = d(svg[at..].split_whitespace().next().unwrap());
            assert!((shown - billed).abs() <= dec!(0.005), "{shown} vs {billed}");
        }
        png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(dir.join("monthly_cost.png")).unwrap(),
        ))
        .read_info()
        .unwrap();
        // The bill's charts fit a slide as every chart does (issue 26 §2).
        for chart in ["reconcile.svg", "monthly_cost.svg"] {
            common::assert_slide(&dir.join(chart), 20.0);
        }
        seen.push(rows);
    }
    assert!(
        seen.windows(2).all(|w| w[0] == w[1]),
        "the three formats agree"
    );

    // The same Parquet export in S3, through `natcost reconcile`: the same rows.
    let tree = tmp.path().join("s3");
    std::fs::create_dir_all(tree.join("cur/nat-old")).unwrap();
    std::fs::rename(files.join("cur2-parquet"), tree.join("cur/nat")).unwrap();
    // A sibling export that shares the prefix's first letters: never read.
    std::fs::copy(
        files.join("bad/wrong-type.csv"),
        tree.join("cur/nat-old/wrong-type.csv"),
    )
    .unwrap();
    python(&[
        common::manifest()
            .join("tests/support/upload_tree.py")
            .to_str()
            .unwrap(),
        &moto.url(),
        "acme-billing",
        tree.to_str().unwrap(),
    ]);
    let out = reconcile(
        &snap,
        "cur:s3://acme-billing/cur/nat",
        &["--endpoint-url", &moto.url(), "--format", "csv"],
        tmp.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_s3 = tmp.path().join("from-s3.csv");
    std::fs::write(&from_s3, &out.stdout).unwrap();
    assert!(rows(&from_s3) == seen[0], "S3 and the folder agree");
    // The calls it made are those `iam-policy --bill cur:s3://…` allows, on that prefix.
    let out = natcost(
        &[
            "report",
            "--snapshot",
            snap.to_str().unwrap(),
            "--prices",
            "bundled",
            "--bill",
            "cur:s3://acme-billing/cur/nat/",
            "--endpoint-url",
            &moto.url(),
            "--no-files",
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
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let called: Vec<&String> = report["api_calls"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with("s3:"))
        .collect();
    assert_eq!(called, ["s3:GetObject", "s3:ListBucket"]);
    let out = natcost(
        &["iam-policy", "--bill", "cur:s3://acme-billing/cur/nat/"],
        tmp.path(),
    );
    let policy: Value = serde_json::from_slice(&out.stdout).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    let list = statements
        .iter()
        .find(|s| s["Action"][0] == "s3:ListBucket")
        .unwrap();
    assert_eq!(list["Resource"], "arn:*:s3:::acme-billing");
    assert_eq!(
        list["Condition"]["StringLike"]["s3:prefix"],
        serde_json::json!(["cur/nat/*"])
    );
    let get = statements
        .iter()
        .find(|s| s["Action"][0] == "s3:GetObject")
        .unwrap();
    assert_eq!(
        get["Resource"],
        serde_json::json!(["arn:*:s3:::acme-billing/cur/nat/*"])
    );
    let base = statements
        .iter()
        .find(|s| s["Sid"] == "NatcostReadOnly")
        .unwrap();
    assert!(base["Action"]
        .as_array()
        .unwrap()
        .contains(&Value::from("cloudwatch:ListMetrics")));

    // A billing-period folder named directly: still only its newest version is read.
    let period = format!("{}-{}", first.format("%Y%m%d"), second.format("%Y%m%d"));
    let out = reconcile(
        &snap,
        &format!(
            "cur:{}",
            files.join("legacy/nat-cur").join(&period).display()
        ),
        &["--format", "csv"],
        tmp.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let one_month = tmp.path().join("one-month.csv");
    std::fs::write(&one_month, &out.stdout).unwrap();
    let r = &rows(&one_month)[&(m1.clone(), hours.to_string(), arn(live))];
    assert_eq!((d(&r[5]), &r[9]), (h1, "0"), "{r:?}");

    // ListMetrics refused: no deleted NAT gateway is found, the rest is still compared, and
    // the deleted one's billed lines say why they have no model.
    let denied = Proxy::start(moto.port, &["--deny-action", "cloudwatch:ListMetrics"]);
    let blind = tmp.path().join("blind.json");
    let out = collect(&denied.url(), &blind, tmp.path());
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!std::fs::read_to_string(&blind).unwrap().contains(deleted));
    let out = reconcile(
        &blind,
        &format!("cur:{}", files.join("legacy").display()),
        &["--format", "csv"],
        tmp.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let blind_csv = tmp.path().join("blind.csv");
    std::fs::write(&blind_csv, &out.stdout).unwrap();
    let blind_rows = rows(&blind_csv);
    let r = &blind_rows[&(m2.clone(), bytes.to_string(), arn(live))];
    assert_eq!(&r[10], "off by -5.00%: not explained");
    let r = &blind_rows[&(m1.clone(), hours.to_string(), arn(deleted))];
    assert!(
        r[10].starts_with(&format!("{deleted} is billed but not in the snapshot")),
        "{r:?}"
    );

    // Broken files: one line naming the file (and the column), exit 1, nothing written.
    for (file, says) in [
        ("corrupt-pages.parquet", ""),
        (
            "missing-column.csv.gz",
            "column line_item_unblended_cost is missing",
        ),
        (
            "wrong-type.csv",
            "column line_item_usage_amount, row 1: expected a number, found \"lots\"",
        ),
        (
            "wrong-type.parquet",
            "column line_item_unblended_cost is BOOLEAN, not a number",
        ),
        ("truncated.parquet", "not a readable Parquet file"),
    ] {
        let path = files.join("bad").join(file);
        let dir = tmp.path().join(format!("bad-{file}"));
        let out = natcost(
            &[
                "report",
                "--snapshot",
                snap.to_str().unwrap(),
                "--prices",
                "bundled",
                "--bill",
                &format!("cur:{}", path.display()),
                "--out",
                dir.to_str().unwrap(),
            ],
            tmp.path(),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {stderr}");
        assert!(
            stderr.trim().starts_with(&format!(
                "natcost: error: the bill: {}: {says}",
                path.display()
            )),
            "{file}: {stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "{file}: {stderr}");
        assert!(!dir.exists(), "{file}: nothing is written");
        assert!(out.stdout.is_empty());
    }
    // A folder of them: the first in order is the one named, whichever thread met it first.
    let out = reconcile(
        &snap,
        &format!("cur:{}", files.join("bad").display()),
        &[],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.trim().starts_with(&format!(
            "natcost: error: the bill: {}: ",
            files.join("bad/corrupt-pages.parquet").display()
        )),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

//! Live prices through the real SDK client: a loopback server speaks the Pricing API's wire
//! protocol (AWS JSON 1.1, `AWSPriceListService.GetProducts`) and replays real-shaped
//! answers: PriceList entries as JSON strings, several pages, tiered prices, a regional NAT
//! gateway decoy, a Windows instance decoy, and a region with no NAT gateway price.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

/// (service code, attributes, price dimensions as (beginRange, endRange, USD), unit)
type Product = (
    &'static str,
    Value,
    Vec<(&'static str, &'static str, &'static str)>,
    &'static str,
);

fn product(
    service: &'static str,
    region: &str,
    usage: &str,
    unit: &'static str,
    tiers: Vec<(&'static str, &'static str, &'static str)>,
    extra: Value,
) -> Product {
    let mut attrs = json!({"regionCode": region, "usagetype": usage, "servicecode": service, "location": "somewhere"});
    if let (Some(a), Some(e)) = (attrs.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    (service, attrs, tiers, unit)
}

fn catalog() -> Vec<Product> {
    let nat = json!({"productFamily": "NAT Gateway"});
    let one = |usd: &'static str| vec![("0", "Inf", usd)];
    let mut c = vec![
        product(
            "AmazonEC2",
            "ap-northeast-2",
            "APN2-NatGateway-Hours",
            "Hrs",
            one("0.0590000000"),
            nat.clone(),
        ),
        // The regional NAT gateway decoy: a substring match on NatGateway-Hours would take it.
        product(
            "AmazonEC2",
            "ap-northeast-2",
            "APN2-RegionalNatGateway-Hours",
            "Hrs",
            one("0.0770000000"),
            nat.clone(),
        ),
        product(
            "AmazonEC2",
            "ap-northeast-2",
            "APN2-NatGateway-Bytes",
            "GB",
            one("0.0590000000"),
            nat.clone(),
        ),
        product(
            "AmazonEC2",
            "ap-northeast-2",
            "APN2-RegionalNatGateway-Bytes",
            "GB",
            one("0.0590000000"),
            nat.clone(),
        ),
        product(
            "AmazonVPC",
            "ap-northeast-2",
            "APN2-PublicIPv4:InUseAddress",
            "Hrs",
            one("0.0050000000"),
            json!({}),
        ),
        product(
            "AmazonVPC",
            "ap-northeast-2",
            "APN2-VpcEndpoint-Hours",
            "Hrs",
            one("0.0130000000"),
            json!({}),
        ),
        product(
            "AmazonVPC",
            "ap-northeast-2",
            "APN2-VpcEndpoint-Bytes",
            "GB",
            vec![
                ("0", "1048576", "0.0100000000"),
                ("1048576", "5242880", "0.0060000000"),
                ("5242880", "Inf", "0.0040000000"),
            ],
            json!({}),
        ),
        product(
            "AmazonVPC",
            "ap-northeast-2",
            "APN2-TransitGateway-Hours",
            "Hrs",
            one("0.0700000000"),
            json!({}),
        ),
        product(
            "AmazonVPC",
            "ap-northeast-2",
            "APN2-TransitGateway-Bytes",
            "GB",
            one("0.0200000000"),
            json!({}),
        ),
        product(
            "AWSDataTransfer",
            "ap-northeast-2",
            "APN2-DataTransfer-Regional-Bytes",
            "GB",
            one("0.0100000000"),
            json!({}),
        ),
        product(
            "AWSDataTransfer",
            "ap-northeast-2",
            "APN2-DataTransfer-Out-Bytes",
            "GB",
            vec![
                ("0", "100", "0.0000000000"),
                ("100", "10240", "0.1260000000"),
                ("10240", "51200", "0.1220000000"),
                ("51200", "Inf", "0.1170000000"),
            ],
            json!({}),
        ),
        product(
            "AmazonEC2",
            "ap-northeast-2",
            "APN2-BoxUsage:t4g.nano",
            "Hrs",
            one("0.0052000000"),
            json!({"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}),
        ),
        product(
            "AmazonEC2",
            "ap-northeast-2",
            "APN2-BoxUsage:t4g.nano",
            "Hrs",
            one("0.0098000000"),
            json!({"operatingSystem": "Windows", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}),
        ),
        product(
            "AmazonEC2",
            "ap-northeast-2",
            "APN2-EBS:VolumeUsage.gp3",
            "GB-Mo",
            one("0.0912000000"),
            json!({}),
        ),
        // eu-west-3 has everything but a NAT gateway price.
        product(
            "AmazonVPC",
            "eu-west-3",
            "EUW3-PublicIPv4:InUseAddress",
            "Hrs",
            one("0.0050000000"),
            json!({}),
        ),
    ];
    // us-east-1: no usage type prefix; only its NAT gateway prices, so the rest are filled in.
    c.push(product(
        "AmazonEC2",
        "us-east-1",
        "NatGateway-Hours",
        "Hrs",
        one("0.0450000000"),
        nat.clone(),
    ));
    c.push(product(
        "AmazonEC2",
        "us-east-1",
        "NatGateway-Bytes",
        "GB",
        one("0.0450000000"),
        nat,
    ));
    // ca-west-1, which natcost bundles no prices for, under its billing code (CAN2); and
    // us-south-1, whose prefix natcost does not know, under the one the API names for it:
    // Seoul's products, the NAT gateway's at 0.05.
    for (region, prefix) in [("ca-west-1", "CAN2-"), ("us-south-1", "USS1-")] {
        let moved: Vec<Product> = c
            .iter()
            .filter(|p| p.1["regionCode"] == "ap-northeast-2")
            .map(|(service, attrs, tiers, unit)| {
                let mut attrs = attrs.clone();
                let usage = attrs["usagetype"]
                    .as_str()
                    .unwrap()
                    .replace("APN2-", prefix);
                attrs["regionCode"] = json!(region);
                let tiers = if usage.starts_with(&format!("{prefix}NatGateway-")) {
                    vec![("0", "Inf", "0.0500000000")]
                } else {
                    tiers.clone()
                };
                attrs["usagetype"] = json!(usage);
                (*service, attrs, tiers, *unit)
            })
            .collect();
        c.extend(moved);
    }
    c
}

fn price_list_entry(p: &Product) -> String {
    let (service, attrs, tiers, unit) = p;
    let dims: serde_json::Map<String, Value> = tiers
        .iter()
        .enumerate()
        .map(|(i, (b, e, usd))| {
            (
                format!("SKU{i}.JRTCKXETXF.6YS6EN2CT7"),
                json!({"unit": unit, "endRange": e, "description": format!("${usd} per {unit}"), "appliesTo": [], "rateCode": format!("SKU{i}.JRTCKXETXF.6YS6EN2CT7"), "beginRange": b, "pricePerUnit": {"USD": usd}}),
            )
        })
        .collect();
    json!({
        "product": {"productFamily": attrs.get("productFamily").cloned().unwrap_or(json!("Other")), "attributes": attrs, "sku": "SKU"},
        "serviceCode": service,
        "terms": {"OnDemand": {"SKU.JRTCKXETXF": {"priceDimensions": dims, "sku": "SKU", "effectiveDate": "2026-10-01T00:00:00Z", "offerTermCode": "JRTCKXETXF", "termAttributes": {}}}},
        "version": "20261001000000",
        "publicationDate": "2026-10-01T00:00:00Z"
    })
    .to_string()
}

/// A Pricing API on loopback; returns its URL and the request bodies it saw.
fn serve() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let url = common::serve_json(move |target, req| {
        assert_eq!(target, "AWSPriceListService.GetProducts");
        log.lock().unwrap().push(req.clone());
        (200, get_products(req))
    });
    (url, seen)
}

/// Filters products like GetProducts (TERM_MATCH on attributes), two per page.
fn get_products(req: &Value) -> Value {
    let service = req["ServiceCode"].as_str().unwrap();
    let filters = req["Filters"].as_array().cloned().unwrap_or_default();
    let matching: Vec<String> = catalog()
        .iter()
        .filter(|p| p.0 == service)
        .filter(|p| {
            filters.iter().all(|f| {
                assert_eq!(f["Type"], "TERM_MATCH");
                p.1.get(f["Field"].as_str().unwrap()) == Some(&f["Value"])
            })
        })
        .map(price_list_entry)
        .collect();
    let from: usize = req["NextToken"]
        .as_str()
        .map(|t| t.parse().unwrap())
        .unwrap_or(0);
    let page: Vec<&String> = matching.iter().skip(from).take(2).collect();
    let mut answer = json!({"FormatVersion": "aws_v1", "PriceList": page});
    if from + 2 < matching.len() {
        answer["NextToken"] = json!((from + 2).to_string());
    }
    answer
}

fn natcost(args: &[&str], cache: &Path, pricing_url: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_natcost"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args)
        .current_dir(cache)
        .env("NATCOST_CACHE_DIR", cache.join("cache"))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", cache.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", cache.join("none"));
    // A closed port stands for an unreachable Pricing API.
    cmd.env(
        "AWS_ENDPOINT_URL_PRICING",
        pricing_url.unwrap_or("http://127.0.0.1:9"),
    );
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn csv_prices(text: &str) -> Vec<(String, String, String, String, String)> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].into(),
                r[1].into(),
                r[2].into(),
                r[3].into(),
                r[4].into(),
            )
        })
        .collect()
}

#[test]
fn live_prices_are_parsed_paged_and_cached() {
    let (url, seen) = serve();
    let tmp = tempfile::tempdir().unwrap();
    let today = chrono::Utc::now().date_naive().to_string();
    let out = natcost(
        &[
            "prices",
            "--region",
            "ap-northeast-2",
            "--region",
            "us-east-1",
            "--format",
            "csv",
        ],
        tmp.path(),
        Some(&url),
    );
    let text = stdout(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("the Pricing API has no PublicIPv4:InUseAddress, VpcEndpoint-Hours")
            && err.contains(": using the bundled table of 2026-11-01 for them"),
        "{err}"
    );
    let rows = csv_prices(&text);
    let get = |ut: &str| {
        rows.iter()
            .find(|r| r.1 == ut)
            .unwrap_or_else(|| panic!("{ut} in {text}"))
    };
    let live = format!("Pricing API of {today}");
    assert_eq!(get("APN2-NatGateway-Hours").3, "0.059");
    assert_eq!(get("APN2-NatGateway-Hours").4, live);
    assert_eq!(get("APN2-NatGateway-Bytes").3, "0.059");
    assert_eq!(
        get("APN2-RegionalNatGateway-Hours").3,
        "0.077",
        "priced as its own usage type"
    );
    assert_eq!(
        get("APN2-DataTransfer-Out-Bytes").3,
        "0.126",
        "first paid tier"
    );
    assert_eq!(get("APN2-VpcEndpoint-Bytes").3, "0.01");
    assert_eq!(
        get("APN2-BoxUsage:t4g.nano").3,
        "0.0052",
        "Linux, not the Windows decoy"
    );
    assert_eq!(get("NatGateway-Hours").3, "0.045");
    assert_eq!(get("NatGateway-Hours").0, "us-east-1");
    assert_eq!(
        get("PublicIPv4:InUseAddress").4,
        "bundled table of 2026-11-01"
    );

    // Paging: the NAT family of Seoul has four products, two per page.
    let requests = seen.lock().unwrap().clone();
    let nat_pages: Vec<&Value> = requests
        .iter()
        .filter(|r| {
            r["Filters"].to_string().contains("NAT Gateway")
                && r["Filters"].to_string().contains("ap-northeast-2")
        })
        .collect();
    assert_eq!(nat_pages.len(), 2);
    assert_eq!(nat_pages[1]["NextToken"], "2");

    // The live parser agrees with the bundled table on the published prices.
    let bundled = natcost::PriceBook::bundled();
    for (region, ut) in [
        ("ap-northeast-2", "APN2-NatGateway-Hours"),
        ("ap-northeast-2", "APN2-NatGateway-Bytes"),
        ("us-east-1", "NatGateway-Hours"),
    ] {
        let item = if ut.ends_with("Hours") {
            natcost::Item::NatHours
        } else {
            natcost::Item::NatBytes
        };
        assert_eq!(
            get(ut).3,
            bundled.usd(region, item).unwrap().normalize().to_string(),
            "{ut}"
        );
    }

    // Cached: the next run asks nothing.
    assert!(tmp.path().join("cache/ap-northeast-2.json").exists());
    let before = seen.lock().unwrap().len();
    let again = natcost(
        &[
            "prices",
            "--region",
            "ap-northeast-2",
            "--region",
            "us-east-1",
            "--format",
            "csv",
        ],
        tmp.path(),
        None,
    );
    let rows = csv_prices(&stdout(&again));
    assert_eq!(
        rows.iter()
            .find(|r| r.1 == "APN2-NatGateway-Hours")
            .unwrap()
            .4,
        live
    );
    assert_eq!(
        rows.iter()
            .find(|r| r.1 == "PublicIPv4:InUseAddress")
            .unwrap()
            .4,
        "bundled table of 2026-11-01"
    );
    assert_eq!(
        String::from_utf8_lossy(&again.stderr).lines().count(),
        1,
        "the gaps are still said"
    );
    assert_eq!(seen.lock().unwrap().len(), before);
    let cached = natcost(
        &["prices", "--region", "ap-northeast-2", "--prices", "cache"],
        tmp.path(),
        None,
    );
    assert!(stdout(&cached).contains(&live));
}

#[test]
fn unreachable_api_falls_back_to_cache_then_bundled_with_one_warning() {
    let tmp = tempfile::tempdir().unwrap();
    // Nothing cached: the bundled table, and one warning line.
    let out = natcost(&["prices", "--region", "ap-northeast-2"], tmp.path(), None);
    let text = stdout(&out);
    assert!(
        text.contains("APN2-NatGateway-Hours") && text.contains("bundled table of 2026-11-01"),
        "{text}"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("natcost: warning: Pricing API unavailable ("),
        "{err}"
    );
    assert!(
        err.contains("using ap-northeast-2: bundled table of 2026-11-01"),
        "{err}"
    );

    // A stale cache beats the bundled table.
    let (url, _) = serve();
    stdout(&natcost(
        &["prices", "--region", "ap-northeast-2"],
        tmp.path(),
        Some(&url),
    ));
    let out = natcost(
        &[
            "prices",
            "--region",
            "ap-northeast-2",
            "--price-cache-days=-1",
        ],
        tmp.path(),
        None,
    );
    let text = stdout(&out);
    assert!(text.contains("Pricing API of"), "{text}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("using ap-northeast-2: Pricing API of"),
        "{err}"
    );

    // A report with the API down still completes, names its prices, and exits 0.
    let sample = tmp.path().join("sample.json");
    std::fs::write(&sample, natcost::SAMPLE_SNAPSHOT).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let out = natcost(
        &[
            "report",
            "--snapshot",
            sample.to_str().unwrap(),
            "--out",
            "rep",
        ],
        empty.path(),
        None,
    );
    let text = stdout(&out);
    assert!(
        text.contains("prices: bundled table of 2026-11-01"),
        "{text}"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    let md = std::fs::read_to_string(empty.path().join("rep/report.md")).unwrap();
    assert!(md.contains("Prices: bundled table of 2026-11-01"));
    assert!(md.contains("Pricing API unavailable"));
    let used: Value = serde_json::from_str(
        &std::fs::read_to_string(empty.path().join("rep/prices.json")).unwrap(),
    )
    .unwrap();
    assert!(used["prices"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["region"] == "ap-northeast-2"));
}

#[test]
fn a_region_without_a_nat_price_is_named() {
    let (url, _) = serve();
    let tmp = tempfile::tempdir().unwrap();
    let out = natcost(&["prices", "--region", "eu-west-3"], tmp.path(), Some(&url));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("the Pricing API has no NAT gateway price for eu-west-3"),
        "{err}"
    );
    assert!(
        err.contains("natcost: error: no prices for eu-west-3"),
        "{err}"
    );
}

#[test]
fn bundled_prices_for_seoul() {
    let tmp = tempfile::tempdir().unwrap();
    let text = stdout(&natcost(
        &[
            "prices",
            "--region",
            "ap-northeast-2",
            "--prices",
            "bundled",
        ],
        tmp.path(),
        None,
    ));
    let line = |ut: &str| {
        text.lines()
            .find(|l| l.contains(&format!(" {ut} ")))
            .unwrap_or_else(|| panic!("{ut}: {text}"))
            .to_string()
    };
    assert!(
        line("APN2-NatGateway-Hours").contains("Hrs")
            && line("APN2-NatGateway-Hours").contains("0.059")
    );
    assert!(
        line("APN2-NatGateway-Bytes").contains("GB")
            && line("APN2-NatGateway-Bytes").contains("0.059")
    );
    assert!(line("APN2-NatGateway-Hours").ends_with("bundled table of 2026-11-01"));
}

#[test]
fn a_region_natcost_bundles_no_prices_for_is_priced_live() {
    let (url, _) = serve();
    for (region, prefix, offline) in [
        (
            "ca-west-1",
            "CAN2-",
            "no prices for ca-west-1: natcost bundles none for it; price it from the Pricing API",
        ),
        (
            "us-south-1",
            "USS1-",
            "no billing prefix bundled for us-south-1",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let mut snap: Value = serde_json::from_str(natcost::SAMPLE_SNAPSHOT).unwrap();
        snap["accounts"][0]["regions"][0]["region"] = json!(region);
        let path = tmp.path().join("snap.json");
        std::fs::write(&path, snap.to_string()).unwrap();
        let args = [
            "report",
            "--snapshot",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--no-files",
        ];
        let out = natcost(&args, tmp.path(), Some(&url));
        let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let mut hours = 0;
        for nat in report["nats"].as_array().unwrap() {
            for line in nat["lines"].as_array().unwrap() {
                let charge = &line["charge"];
                let usage = charge["usage_type"].as_str().unwrap();
                assert!(usage.starts_with(prefix), "{usage}");
                if usage == format!("{prefix}NatGateway-Hours") {
                    assert_eq!(charge["unit_price"], "0.05", "{line}");
                    hours += 1;
                }
            }
        }
        assert!(hours > 0, "{report}");
        // Offline and with nothing cached, the same snapshot cannot be priced: said in one line,
        // never a zero.
        let empty = tempfile::tempdir().unwrap();
        let out = natcost(&args[..5], empty.path(), None);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(offline), "{err}");
    }
}

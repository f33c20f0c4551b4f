//! What the tests that talk to moto share: the moto server, the fault-injecting proxy in front
//! of it, and natcost run with test credentials only.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::{DurationRound, Utc};
use serde_json::Value;

pub fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn python() -> PathBuf {
    let p = std::env::var_os("NATCOST_MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest().join(".venv/bin/python"));
    assert!(
        p.exists(),
        "{} not found: run `bash scripts/test.sh` (it installs moto[server] into .venv) or set NATCOST_MOTO_PYTHON",
        p.display()
    );
    p
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed when the test ends, pass or fail.
pub struct Guard(pub Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Moto {
    _server: Guard,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Moto {
        let port = free_port();
        let child = Command::new(python())
            .arg(manifest().join("tests/support/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("NATCOST_MOTO_NAT_CREATE_TIME", "2025-01-01T00:00:00")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto starts");
        let guard = Guard(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto {
            _server: guard,
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Seeds the account with tests/support/seed.py: see [`Moto::seed_with`].
    pub fn seed(&self) -> Value {
        self.seed_with("seed.py")
    }

    /// Runs a seed script of tests/support with hourly datapoints from four days ago until an
    /// hour from now, a span wider than any `--days 2` window taken while the test runs;
    /// returns the ids it made.
    pub fn seed_with(&self, script: &str) -> Value {
        let start = Utc::now()
            .duration_trunc(chrono::TimeDelta::hours(1))
            .unwrap()
            - chrono::TimeDelta::days(4);
        let out = Command::new(python())
            .arg(manifest().join("tests/support").join(script))
            .args([
                self.url(),
                start.format("%Y-%m-%dT%H:%M:%S").to_string(),
                (4 * 24 + 2).to_string(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "seed failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// The fault-injecting proxy in front of moto.
pub struct Proxy {
    _child: Guard,
    pub port: u16,
}

impl Proxy {
    pub fn start(upstream: u16, args: &[&str]) -> Proxy {
        let mut child = Command::new(python())
            .arg(manifest().join("tests/support/fault_proxy.py"))
            .arg(upstream.to_string())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .expect("proxy ready")
            .parse()
            .unwrap();
        Proxy {
            _child: Guard(child),
            port,
        }
    }
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// (requests seen, errors injected)
    pub fn stats(&self) -> (u64, u64) {
        let v = self.stats_json();
        (
            v["requests"].as_u64().unwrap(),
            v["injected"].as_u64().unwrap(),
        )
    }

    /// Everything the proxy counted: requests, faults, and IAM actions (all, and by access key).
    pub fn stats_json(&self) -> Value {
        use std::io::{Read, Write};
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "GET /__proxy_stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap()
    }
}

/// The bundled sample snapshot, to change before writing it out.
pub fn sample_json() -> Value {
    serde_json::from_str(natcost::SAMPLE_SNAPSHOT).unwrap()
}

/// `v` written to `dir/name`.
pub fn write_snapshot(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string(v).unwrap()).unwrap();
    p
}

/// natcost with test credentials and nothing from the developer's own AWS setup.
pub fn natcost(args: &[&str], cwd: &Path) -> Output {
    natcost_env(args, cwd, &[])
}

pub fn natcost_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_natcost"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args)
        .current_dir(cwd)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", cwd.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            cwd.join("no-aws-credentials"),
        )
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// A loopback server for an AWS JSON-protocol service: `answer(target, request)` gives the
/// status and body of each call (`target` is the X-Amz-Target header). Returns its URL.
pub fn serve_json<F>(answer: F) -> String
where
    F: Fn(&str, &Value) -> (u16, Value) + Send + Sync + 'static,
{
    use std::io::{Read, Write};
    use std::sync::Arc;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let (mut length, mut target) = (0usize, String::new());
                    loop {
                        line.clear();
                        reader.read_line(&mut line).unwrap();
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        let (k, v) = l.split_once(':').unwrap();
                        match k.to_ascii_lowercase().as_str() {
                            "content-length" => length = v.trim().parse().unwrap(),
                            "x-amz-target" => target = v.trim().to_string(),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let (status, reply) = answer(&target, &req);
                    let reply = reply.to_string();
                    let kind = reply_type(status, &reply);
                    write!(
                        out,
                        "HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: 7d1e\r\n{kind}Content-Length: {}\r\n\r\n{reply}",
                        reply.len()
                    )
                    .unwrap();
                }
            });
        }
    });
    url
}

/// An error answer names its type in a header too, as AWS does.
fn reply_type(status: u16, body: &str) -> String {
    if status < 300 {
        return String::new();
    }
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    v["__type"]
        .as_str()
        .map(|t| format!("x-amzn-ErrorType: {t}\r\n"))
        .unwrap_or_default()
}

/// allocation.csv of a report folder, checked against its costs.csv: the columns as issue 24
/// spells them, and the rows of each NAT gateway and month adding up to its lines there, exactly.
/// Returns the rows, by column name.
pub fn allocation_adds_up(dir: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    use rust_decimal::Decimal;
    use std::collections::BTreeMap;
    use std::str::FromStr;
    let dec = |s: &str| -> Decimal {
        if s.is_empty() {
            Decimal::ZERO
        } else {
            Decimal::from_str(s).unwrap_or_else(|_| panic!("not a decimal: {s:?}"))
        }
    };
    let read = |name: &str| -> Vec<BTreeMap<String, String>> {
        let mut r = csv::Reader::from_path(dir.join(name)).unwrap();
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        if name == "allocation.csv" {
            assert_eq!(
                header.join(","),
                "month,account_id,region,vpc_id,nat_gateway_id,nat_name,source_kind,source,source_name,team,gb,data_processing_usd,fixed_share_usd,inter_az_usd,cost_usd,basis"
            );
        }
        r.records()
            .map(|x| {
                header
                    .iter()
                    .cloned()
                    .zip(x.unwrap().iter().map(String::from))
                    .collect()
            })
            .collect()
    };
    let mut costs: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    let mut per_gb: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for r in read("costs.csv") {
        let key = (r["month"].clone(), r["resource_id"].clone());
        if r["usage_type"].ends_with("NatGateway-Bytes") {
            per_gb.insert(key.clone(), dec(&r["unit_price_usd"]));
        }
        *costs.entry(key).or_default() += dec(&r["cost_usd"]);
    }
    let rows = read("allocation.csv");
    let mut allocated: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for r in &rows {
        let parts =
            dec(&r["data_processing_usd"]) + dec(&r["fixed_share_usd"]) + dec(&r["inter_az_usd"]);
        assert_eq!(parts, dec(&r["cost_usd"]), "{r:?}");
        // A row's data processing is its GB × the NAT gateway's per-GB price, checkable by hand.
        if let Some(price) = per_gb.get(&(r["month"].clone(), r["nat_gateway_id"].clone())) {
            assert_eq!(
                dec(&r["gb"]) * price,
                dec(&r["data_processing_usd"]),
                "{r:?}"
            );
        }
        *allocated
            .entry((r["month"].clone(), r["nat_gateway_id"].clone()))
            .or_default() += dec(&r["cost_usd"]);
    }
    assert_eq!(allocated, costs);
    rows
}

/// Two sample reports in `dir` for `natcost diff`: October (`october/`) and the whole window
/// (`whole/`), each made with `args` too.
pub fn october_and_whole(dir: &Path, args: &[&str]) {
    for (window, out) in [(&["--month", "2026-10"][..], "october"), (&[][..], "whole")] {
        let mut a = vec!["report", "--sample", "--out", out];
        a.extend_from_slice(window);
        a.extend_from_slice(args);
        let run = natcost(&a, dir);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
}

/// Decodes a PNG and checks it is a real picture: a sensible size and many colours.
pub fn assert_png(path: &Path) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane PNG size")];
    let info = reader.next_frame(&mut buf).unwrap();
    assert!(
        info.width >= 800 && info.height >= 400,
        "{}: {}x{}",
        path.display(),
        info.width,
        info.height
    );
    let px = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let colours: std::collections::BTreeSet<&[u8]> = pixels.chunks(px).collect();
    assert!(
        colours.len() > 20,
        "{} has {} colours: blank?",
        path.display(),
        colours.len()
    );
    let non_white = pixels
        .chunks(px)
        .filter(|p| p.iter().take(3).any(|c| *c < 200))
        .count();
    assert!(
        non_white * 50 > pixels.len() / px,
        "{}: only {non_white} non-white pixels",
        path.display()
    );
}

/// `natcost diff OLD NEW --format json` in `dir`: exit 0, its JSON.
pub fn diff_json(dir: &Path, old: &str, new: &str) -> Value {
    let out = natcost(&["diff", old, new, "--format", "json"], dir);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A figure as a table shows it: "850.68", "+0.01", "at least 12.00", "0.00 to 280.28" (a
/// range: least and most); `None` for an empty or "unknown" cell.
fn shown_figure(cell: &str) -> Option<(rust_decimal::Decimal, rust_decimal::Decimal)> {
    use std::str::FromStr;
    let c = cell.replace("**", "");
    let c = c
        .trim()
        .trim_start_matches("at least ")
        .trim_start_matches('+');
    if c.is_empty() || c == "unknown" {
        return None;
    }
    let num = |s: &str| {
        rust_decimal::Decimal::from_str(s.trim().trim_start_matches('+'))
            .unwrap_or_else(|_| panic!("a figure in a totalled column is not a number: {cell:?}"))
    };
    Some(match c.split_once(" to ") {
        Some((a, b)) => (num(a), num(b)),
        None => (num(c), num(c)),
    })
}

/// Every table of a report.md with a **Total** row: each figure of the total is the sum of the
/// figures shown above it (since the table's start or its previous total), to the cent. A
/// "(rounding of the lines above)" row is part of that sum and is never more than half a cent
/// per line. A range's most may differ only where report.md says why. Returns how many totals
/// were checked.
pub fn markdown_totals_add_up(md: &str) -> usize {
    use rust_decimal::Decimal;
    let most_explained = md.contains("is not the sum of the rows' most");
    let mut checked = 0;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut in_table = false;
    for line in md.lines() {
        if !line.starts_with('|') {
            in_table = false;
            rows.clear();
            continue;
        }
        let cells: Vec<String> = line
            .replace("\\|", "\u{0}")
            .trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().replace('\u{0}', "|"))
            .collect();
        if !in_table {
            in_table = true; // the header
            continue;
        }
        if cells
            .iter()
            .all(|c| c.starts_with("---") || c.starts_with(":--"))
        {
            continue;
        }
        if !cells.iter().any(|c| c.starts_with("**Total**")) {
            rows.push(cells);
            continue;
        }
        for (j, total) in cells.iter().enumerate() {
            if cells[j].starts_with("**Total**") {
                continue;
            }
            let Some((least, most)) = shown_figure(total) else {
                continue;
            };
            let mut sum = (Decimal::ZERO, Decimal::ZERO);
            let mut lines = 0;
            for r in &rows {
                let Some((a, b)) = r.get(j).and_then(|c| shown_figure(c)) else {
                    continue;
                };
                if r.iter().any(|c| c == "(rounding of the lines above)") {
                    assert!(
                        a.abs() * Decimal::from(200) <= Decimal::from(lines.max(1)),
                        "a rounding of {a} for {lines} lines is not rounding: {line}"
                    );
                } else {
                    lines += 1;
                }
                sum = (sum.0 + a, sum.1 + b);
            }
            assert_eq!(sum.0, least, "the lines above do not add up to {line}");
            if sum.1 != most {
                assert!(most_explained, "the lines' most ({}) is not {line}", sum.1);
            }
            checked += 1;
        }
        rows.clear();
    }
    checked
}

/// A terminal table whose header holds `columns` (numbers, right-aligned under their header):
/// the rows between the header and the line starting `total` add up to it, column by column,
/// a "(rounding…" row included. Returns how many figures were checked.
pub fn terminal_table_adds_up(text: &str, columns: &[&str], total: &str) -> usize {
    use rust_decimal::Decimal;
    let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
    let header = lines
        .iter()
        .position(|l| {
            let s: String = l.iter().collect();
            columns.iter().all(|c| s.contains(c))
        })
        .unwrap_or_else(|| panic!("no table with {columns:?} in\n{text}"));
    let head: String = lines[header].iter().collect();
    let end = header
        + lines[header..]
            .iter()
            .position(|l| l.iter().collect::<String>().trim_start().starts_with(total))
            .unwrap_or_else(|| panic!("no {total:?} row under {head}"));
    // The figure ending at char `at`, if the row has one there.
    let figure = |l: &[char], at: usize| -> Option<Decimal> {
        if l.len() < at || l[at - 1] == ' ' {
            return None;
        }
        let before: String = l[..at].iter().collect();
        let word = before.rsplit(' ').next().unwrap();
        shown_figure(word).map(|f| f.0)
    };
    let mut checked = 0;
    for c in columns {
        let at = head[..head.find(c).unwrap()].chars().count() + c.chars().count();
        let rows = &lines[header + 1..end];
        let sum: Decimal = rows.iter().filter_map(|l| figure(l, at)).sum();
        // A rounding line is never more than half a cent per line.
        for l in rows {
            let text: String = l.iter().collect();
            if let (true, Some(r)) = (text.trim_start().starts_with("(rounding"), figure(l, at)) {
                assert!(
                    r.abs() * Decimal::from(200) <= Decimal::from(rows.len()),
                    "{c}: a rounding of {r} is not rounding\n{text}"
                );
            }
        }
        let shown = figure(&lines[end], at).unwrap_or_else(|| panic!("no {c} total"));
        assert_eq!(sum, shown, "{c} does not add up under {head}\n{text}");
        checked += 1;
    }
    checked
}

/// The terminal summary: the NAT gateway table and "By month" add up as shown.
pub fn terminal_totals_add_up(text: &str) -> usize {
    use rust_decimal::Decimal;
    // A narrow terminal drops the window's column: check those shown.
    let head = text
        .lines()
        .find(|l| l.contains("NAT gateway") && l.contains("GB processed"))
        .expect("the NAT gateway table");
    let shown: Vec<&str> = ["GB processed", "Window USD", "Monthly USD"]
        .into_iter()
        .filter(|c| head.contains(c))
        .collect();
    let mut checked = terminal_table_adds_up(text, &shown, "Total");
    if text.contains("Plan saves/mo") {
        checked += terminal_table_adds_up(
            text,
            &["Window USD", "Monthly USD", "Plan saves/mo"],
            "Total",
        );
    }
    let by_month = text
        .lines()
        .find_map(|l| l.strip_prefix("By month: "))
        .expect("a By month line");
    let (parts, total) = by_month.split_once(" = ").expect("By month … = total");
    let sum: Decimal = parts
        .split(" + ")
        .map(|p| shown_figure(p.rsplit(' ').next().unwrap()).unwrap().0)
        .sum();
    let total = shown_figure(total.trim_end_matches(" USD")).unwrap().0;
    assert_eq!(sum, total, "By month: {by_month}");
    if let Some(r) = parts.split(" + ").find_map(|p| p.strip_prefix("rounding ")) {
        let r = shown_figure(r).unwrap().0;
        let months = parts.split(" + ").count() - 1;
        assert!(
            r.abs() * Decimal::from(200) <= Decimal::from(months),
            "By month: {by_month}"
        );
    }
    checked += 1;
    checked
}

/// An .xlsx workbook as tests/support/xlsx_cells.py (openpyxl) reads it: `sheets` (name →
/// `cells`, rows of {"t": "n"|"s"|"f"|"b", "v", "fmt", and a formula's stored result "r"} or
/// null; `freeze`; `filter`) and `parts` (the zip's media and chart parts).
pub fn xlsx_cells(path: &Path) -> Value {
    let out = Command::new(python())
        .arg(manifest().join("tests/support/xlsx_cells.py"))
        .arg(path)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "reading {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A copy of a workbook with cells changed (`Sheet!A1=number`), saved by openpyxl without the
/// formulas' stored results, so the spreadsheet that opens it calculates them all.
pub fn xlsx_edit(from: &Path, to: &Path, edits: &[String]) {
    let out = Command::new(python())
        .arg(manifest().join("tests/support/xlsx_edit.py"))
        .arg(from)
        .arg(to)
        .args(edits)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// LibreOffice's `soffice`, when installed (Debian's libreoffice-calc-nogui; scripts/test.sh
/// installs it where it can). With NATCOST_REQUIRE_SOFFICE=1 (as .ci/run sets) its absence
/// fails the test instead of skipping the part that needs it.
pub fn soffice() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("soffice"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("NATCOST_REQUIRE_SOFFICE").is_none(),
            "soffice not found, and NATCOST_REQUIRE_SOFFICE is set: apt-get install libreoffice-calc-nogui"
        );
        eprintln!("soffice not found: the LibreOffice part of this test is skipped");
    }
    found
}

/// The CSV files `files` opened by LibreOffice as UTF-8 comma-separated text and saved as
/// .xlsx into `out` (as a spreadsheet user opens them); returns the workbooks' paths.
pub fn csv_to_xlsx(soffice: &Path, files: &[PathBuf], out: &Path) -> Vec<PathBuf> {
    libreoffice_saves(soffice, files, out, Some("--infilter=CSV:44,34,76,1"))
}

/// Workbooks opened by LibreOffice (which calculates the formulas that hold no result) and
/// saved again as .xlsx into `out`, with the results it calculated.
pub fn recalculated(soffice: &Path, files: &[PathBuf], out: &Path) -> Vec<PathBuf> {
    libreoffice_saves(soffice, files, out, None)
}

fn libreoffice_saves(
    soffice: &Path,
    files: &[PathBuf],
    out: &Path,
    infilter: Option<&str>,
) -> Vec<PathBuf> {
    let profile = out.join("lo-profile");
    let status = Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "xlsx"])
        .args(infilter)
        .arg("--outdir")
        .arg(out)
        .args(files)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("soffice runs");
    assert!(status.success(), "soffice failed: {status}");
    files
        .iter()
        .map(|f| {
            let x = out.join(f.with_extension("xlsx").file_name().unwrap());
            assert!(x.is_file(), "soffice wrote no {}", x.display());
            x
        })
        .collect()
}

/// A text of an SVG chart as drawn: its content and its box in pixels (x0, y0, x1, y1),
/// estimated from its anchor, font size and length in the embedded DejaVu Sans (0.58 em a
/// character on average, digits included).
#[derive(Debug, Clone)]
pub struct SvgText {
    pub text: String,
    pub size: f64,
    pub rotated: bool,
    pub bbox: (f64, f64, f64, f64),
}

/// The size of an SVG (its width and height attributes) and its texts.
pub fn svg_texts(svg: &str) -> ((f64, f64), Vec<SvgText>) {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[at..at + tag[at..].find('"')?].to_string())
    };
    let root = &svg[svg.find("<svg").expect("an <svg>")..];
    let root = &root[..root.find('>').unwrap()];
    let num = |s: Option<String>| s.and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    let size = (num(attr(root, "width")), num(attr(root, "height")));
    let mut texts = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        let open_end = start + rest[start..].find('>').unwrap();
        let tag = &rest[start..open_end];
        let close = open_end + rest[open_end..].find("</text>").unwrap();
        let content = rest[open_end + 1..close]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&");
        rest = &rest[close..];
        let (x, y, size) = (
            num(attr(tag, "x")),
            num(attr(tag, "y")),
            num(attr(tag, "font-size")),
        );
        let w = content.chars().count() as f64 * size * 0.58;
        let x0 = match attr(tag, "text-anchor").as_deref() {
            Some("middle") => x - w / 2.0,
            Some("end") => x - w,
            _ => x,
        };
        // Glyphs from cap height to descender, a little inside the line.
        let (top, bottom) = match attr(tag, "dy").as_deref() {
            Some("0.76em") => (y + 0.05 * size, y + 0.95 * size),
            Some("0.5ex") => (y - 0.45 * size, y + 0.45 * size),
            _ => (y - 0.72 * size, y + 0.2 * size),
        };
        texts.push(SvgText {
            text: content,
            size,
            rotated: attr(tag, "transform").is_some(),
            bbox: (x0, top, x0 + w, bottom),
        });
    }
    (size, texts)
}

/// A chart made for a 16:9 slide: 1920×1080, no text under `min_px` pixels, every text inside
/// the canvas and no two overlapping. Returns its texts.
pub fn assert_slide(path: &Path, min_px: f64) -> Vec<SvgText> {
    let svg = std::fs::read_to_string(path).unwrap();
    let (size, texts) = svg_texts(&svg);
    let name = path.display();
    assert_eq!(size, (1920.0, 1080.0), "{name}");
    for t in &texts {
        assert!(
            t.size >= min_px - 0.01,
            "{name}: {:?} is {} px",
            t.text,
            t.size
        );
        if t.rotated {
            continue;
        }
        let (x0, y0, x1, y1) = t.bbox;
        assert!(
            x0 >= -1.0 && y0 >= -1.0 && x1 <= size.0 + 1.0 && y1 <= size.1 + 1.0,
            "{name}: {:?} leaves the canvas: {:?}",
            t.text,
            t.bbox
        );
    }
    let flat: Vec<&SvgText> = texts.iter().filter(|t| !t.rotated).collect();
    for (i, a) in flat.iter().enumerate() {
        for b in &flat[i + 1..] {
            let (a0, b0) = (a.bbox, b.bbox);
            let apart = a0.2 <= b0.0 || b0.2 <= a0.0 || a0.3 <= b0.1 || b0.3 <= a0.1;
            assert!(
                apart,
                "{name}: {:?} {:?} overlaps {:?} {:?}",
                a.text, a.bbox, b.text, b.bbox
            );
        }
    }
    texts
}

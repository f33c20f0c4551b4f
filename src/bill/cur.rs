//! The bill from Cost and Usage Report files: CUR 2.0 (Data Exports) in Parquet or gzip CSV,
//! and the legacy CUR's CSV, from a file, a folder or `s3://…`. Only the NAT-related usage
//! types are kept, summed per month, account, region, usage type and resource; usage line
//! items are compared with the model, credits, discounts, refunds and tax are kept apart.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ::parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
use ::parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use ::parquet::data_type::{ByteArray, DataType, FixedLenByteArray, Int96};
use ::parquet::file::reader::{ChunkReader, FileReader, RowGroupReader, SerializedFileReader};
use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use super::Billed;
use crate::flows::remote::Remote;
use crate::flows::s3;

/// Where the report's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Path(PathBuf),
    S3(s3::Location),
}

impl Location {
    /// `PATH` or `s3://BUCKET/PREFIX/` (what follows `cur:`).
    pub fn parse(s: &str) -> Result<Location, String> {
        if s.starts_with("s3://") {
            let mut l = s3::Location::parse(s).map_err(|e| e.to_string())?;
            // A folder, not every key that starts the same (`cur/nat` would also read
            // `cur/nat-old/`); a key naming one report file stays as it is.
            if !l.prefix.is_empty() && !l.prefix.ends_with('/') && !is_report_file(&l.prefix) {
                l.prefix.push('/');
            }
            Ok(Location::S3(l))
        } else if s.is_empty() {
            Err("cur: needs a file, a folder or s3://BUCKET/PREFIX/ after it".into())
        } else {
            Ok(Location::Path(PathBuf::from(s)))
        }
    }

    pub fn label(&self) -> String {
        match self {
            Location::Path(p) => p.display().to_string(),
            Location::S3(l) => l.url(),
        }
    }
}

/// A credit, discount, refund or tax line on a NAT-related usage type: shown, not compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adjustment {
    pub month: String,
    pub account_id: String,
    pub region: String,
    pub usage_type: String,
    /// `line_item_line_item_type`: Credit, Refund, Tax, EdpDiscount…
    pub line_item_type: String,
    pub cost: Decimal,
}

/// What the report's files hold for the months asked for.
#[derive(Debug, Default)]
pub struct Cur {
    /// Usage line items, summed.
    pub usage: Vec<Billed>,
    pub adjustments: Vec<Adjustment>,
    pub files: usize,
    pub rows: u64,
    /// `CUR 2.0` and/or `legacy CUR`, with the file format.
    pub formats: BTreeSet<String>,
    /// Whether the export has `line_item_resource_id` (INCLUDE_RESOURCES).
    pub resource_ids: bool,
    /// Versions skipped, months not found.
    pub notes: Vec<String>,
    /// S3 calls, by IAM action.
    pub calls: BTreeMap<String, u64>,
}

/// The columns read, by their CUR 2.0 names and the legacy CUR's; whether a file must have it.
const COLUMNS: [(&str, &[&str], bool); 8] = [
    (
        "bill_billing_period_start_date",
        &[
            "bill_billing_period_start_date",
            "bill/BillingPeriodStartDate",
        ],
        true,
    ),
    (
        "line_item_usage_account_id",
        &["line_item_usage_account_id", "lineItem/UsageAccountId"],
        true,
    ),
    (
        "product_region_code",
        &[
            "product_region_code",
            "product/regionCode",
            "product_region",
            "product/region",
        ],
        false,
    ),
    (
        "line_item_usage_type",
        &["line_item_usage_type", "lineItem/UsageType"],
        true,
    ),
    (
        "line_item_resource_id",
        &["line_item_resource_id", "lineItem/ResourceId"],
        false,
    ),
    (
        "line_item_usage_amount",
        &["line_item_usage_amount", "lineItem/UsageAmount"],
        true,
    ),
    (
        "line_item_unblended_cost",
        &["line_item_unblended_cost", "lineItem/UnblendedCost"],
        true,
    ),
    (
        "line_item_line_item_type",
        &["line_item_line_item_type", "lineItem/LineItemType"],
        true,
    ),
];
const PERIOD: usize = 0;
const ACCOUNT: usize = 1;
const REGION: usize = 2;
const USAGE: usize = 3;
const RESOURCE: usize = 4;
const AMOUNT: usize = 5;
const COST: usize = 6;
const KIND: usize = 7;

/// One file to read.
#[derive(Debug, Clone)]
struct Found {
    /// Path or URL, as said in messages.
    name: String,
    /// The whole path or S3 key, `/`-separated: where the billing period and version show,
    /// even when the location is a period folder itself.
    key: String,
    /// Seconds since the epoch.
    modified: i64,
    object: Option<s3::Object>,
    /// Named on the command line (not found in a folder): it must be a report.
    named: bool,
}

/// Why the bill could not be read from the files.
pub enum Failure {
    /// The S3 location could not be listed (denied, no such bucket): the rest of the report
    /// still comes out.
    Unreachable(String),
    /// A file is not a readable report: a missing column, a value of the wrong type, a
    /// truncated file, named with its column where there is one.
    Bad(anyhow::Error),
}

/// Reads the report's files under `location` for `months` (YYYY-MM); `remote` for S3.
pub fn read(
    location: &Location,
    months: &[String],
    remote: Option<&Remote>,
) -> std::result::Result<Cur, Failure> {
    let mut cur = Cur::default();
    let (found, store) = match location {
        Location::Path(p) => (local_files(p).map_err(Failure::Bad)?, None),
        Location::S3(l) => {
            let remote = remote.ok_or_else(|| Failure::Unreachable("no AWS access".into()))?;
            let store = s3::Store::new(remote);
            let found = store
                .list_all(l)
                .map_err(|e| Failure::Unreachable(format!("{e:#}")))?
                .into_iter()
                .filter(|o| is_report_file(&o.key))
                .map(|o| Found {
                    name: o.url(),
                    key: o.key.clone(),
                    modified: o.modified,
                    named: o.key == l.prefix,
                    object: Some(o),
                })
                .collect();
            (found, Some(store))
        }
    };
    if found.is_empty() {
        return Err(Failure::Bad(anyhow!(
            "{}: no Cost and Usage Report file (.parquet, .csv, .csv.gz) in it",
            location.label()
        )));
    }
    let wanted: BTreeSet<&str> = months.iter().map(String::as_str).collect();
    let (files, notes) = select(found, &wanted);
    cur.notes = notes;
    cur.files = files.len();
    let totals = read_files(&files, store.as_ref());
    if let Some(store) = store {
        cur.calls = store.calls();
    }
    let totals = totals?;
    cur.notes.extend(
        totals
            .skipped
            .iter()
            .map(|f| format!("{f}: not a Cost and Usage Report (none of its columns): skipped")),
    );
    cur.formats = totals.formats;
    cur.rows = totals.rows;
    cur.resource_ids = totals.resource_ids;
    for ((month, account_id, region, usage_type, resource_id), (quantity, cost)) in totals.usage {
        if wanted.contains(month.as_str()) {
            cur.usage.push(Billed {
                month,
                account_id,
                region,
                usage_type,
                resource_id,
                quantity,
                cost,
            });
        }
    }
    for ((month, account_id, region, usage_type, line_item_type), cost) in totals.adjustments {
        if wanted.contains(month.as_str()) {
            cur.adjustments.push(Adjustment {
                month,
                account_id,
                region,
                usage_type,
                line_item_type,
                cost,
            });
        }
    }
    for month in months {
        if !cur.usage.iter().any(|b| &b.month == month) {
            cur.notes.push(format!(
                "{month}: no NAT-related usage line in {} for this month: its bill is not read",
                location.label()
            ));
        }
    }
    Ok(cur)
}

/// Every file's rows, summed: files are read on as many threads as there are cores (up to
/// eight), each thread into sums of its own, merged at the end. The first file (in order)
/// that fails is the error. A decoder that panics on a corrupt file is that file's error, in
/// one line.
fn read_files(files: &[Found], store: Option<&s3::Store>) -> std::result::Result<Totals, Failure> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(files.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let done: Vec<(Totals, Option<(usize, Failure)>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut totals = Totals::default();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(f) = files.get(i) else {
                            return (totals, None);
                        };
                        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            read_file(f, store, &mut totals)
                        }))
                        .unwrap_or_else(|panic| {
                            let why = panic
                                .downcast_ref::<String>()
                                .map(String::as_str)
                                .or_else(|| panic.downcast_ref::<&str>().copied())
                                .unwrap_or("the decoder failed");
                            Err(Failure::Bad(anyhow!(
                                "{}: not a readable report ({})",
                                f.name,
                                why.lines().next().unwrap_or_default()
                            )))
                        });
                        match read {
                            Ok(Some(format)) => {
                                totals.formats.insert(format);
                            }
                            Ok(None) => totals.skipped.push(f.name.clone()),
                            Err(e) => return (totals, Some((i, e))),
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    let e = Failure::Bad(anyhow!("a report file stopped its reader"));
                    (Totals::default(), Some((0, e)))
                })
            })
            .collect()
    });
    std::panic::set_hook(quiet);
    let mut all = Totals::default();
    let mut first: Option<(usize, Failure)> = None;
    for (totals, failed) in done {
        if let Some((i, e)) = failed {
            if first.as_ref().is_none_or(|(j, _)| i < *j) {
                first = Some((i, e));
            }
        }
        all.merge(totals).map_err(Failure::Bad)?;
    }
    match first {
        Some((_, e)) => Err(e),
        None => {
            all.skipped.sort();
            Ok(all)
        }
    }
}

/// One file's rows, added to `totals`; returns its format, or None for a file found in a
/// folder that is not a report at all. A GetObject refused is `Unreachable`.
fn read_file(
    f: &Found,
    store: Option<&s3::Store>,
    totals: &mut Totals,
) -> std::result::Result<Option<String>, Failure> {
    match (&f.object, store) {
        (Some(o), Some(store)) => {
            if o.key.ends_with(".parquet") {
                let ranged = store.ranged(o);
                let refused = ranged.failure();
                parquet(ranged, f, totals).map_err(|e| match refused.lock().unwrap().take() {
                    Some(why) => Failure::Unreachable(format!("{}: {why}", f.name)),
                    None => Failure::Bad(e),
                })
            } else {
                let body = store
                    .open(o)
                    .map_err(|e| Failure::Unreachable(format!("{}: {e:#}", f.name)))?;
                text(body, f, totals).map_err(Failure::Bad)
            }
        }
        _ => {
            let open = || {
                std::fs::File::open(&f.name)
                    .with_context(|| format!("{}: cannot open", f.name))
                    .map_err(Failure::Bad)
            };
            let mut head = [0u8; 4];
            let n = open()?.read(&mut head).unwrap_or(0);
            if n == 4 && &head == crate::flows::parquet::MAGIC {
                parquet(open()?, f, totals).map_err(Failure::Bad)
            } else {
                text(open()?, f, totals).map_err(Failure::Bad)
            }
        }
    }
}

fn is_report_file(name: &str) -> bool {
    // The legacy CUR's Athena integration writes a status table beside the data.
    [".parquet", ".csv", ".csv.gz"]
        .iter()
        .any(|e| name.ends_with(e))
        && !name.contains("cost_and_usage_data_status")
}

/// A file, or every report file under a folder.
fn local_files(path: &Path) -> Result<Vec<Found>> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    let modified = |m: &std::fs::Metadata| {
        m.modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64)
    };
    let key = |p: &Path| {
        p.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    if meta.is_file() {
        return Ok(vec![Found {
            name: path.display().to_string(),
            key: key(path),
            modified: modified(&meta),
            object: None,
            named: true,
        }]);
    }
    let mut out = Vec::new();
    let mut folders = vec![path.to_path_buf()];
    while let Some(dir) = folders.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("{}", dir.display()))? {
            let entry = entry.with_context(|| format!("{}", dir.display()))?;
            let p = entry.path();
            let meta = entry.metadata()?;
            if meta.is_dir() {
                folders.push(p);
            } else if is_report_file(&p.to_string_lossy()) {
                out.push(Found {
                    name: p.display().to_string(),
                    key: key(&p),
                    modified: modified(&meta),
                    object: None,
                    named: false,
                });
            }
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// The billing period a file's folder names (`BILLING_PERIOD=2026-10` in CUR 2.0,
/// `20261001-20261101` in the legacy CUR) and the version folder under it, if any.
fn period_of(key: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = key.split('/').collect();
    for (i, p) in parts.iter().enumerate() {
        let month = if let Some(m) = p.strip_prefix("BILLING_PERIOD=") {
            m.get(..7).map(str::to_string)
        } else if p.len() == 17
            && p.as_bytes()[8] == b'-'
            && p.bytes().filter(u8::is_ascii_digit).count() == 16
        {
            Some(format!("{}-{}", &p[..4], &p[4..6]))
        } else {
            None
        };
        if let Some(month) = month {
            // A file directly in the period folder has no version folder.
            let version = if i + 2 < parts.len() {
                parts[i + 1].to_string()
            } else {
                String::new()
            };
            return Some((parts[..=i].join("/"), month, version));
        }
    }
    None
}

/// The files to read: those of the months asked for (when their folder names the billing
/// period) and, where a period holds several versions of the report (each a whole copy), the
/// newest only.
fn select(found: Vec<Found>, months: &BTreeSet<&str>) -> (Vec<Found>, Vec<String>) {
    let mut notes = Vec::new();
    // Period folder → version → newest modification.
    let mut versions: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for f in &found {
        if let Some((folder, _, version)) =
            period_of(&f.key).filter(|(_, month, _)| months.contains(month.as_str()))
        {
            let e = versions
                .entry(folder)
                .or_default()
                .entry(version)
                .or_insert(f.modified);
            *e = (*e).max(f.modified);
        }
    }
    let newest: BTreeMap<&String, &String> = versions
        .iter()
        .filter_map(|(folder, v)| {
            let best = v.iter().max_by_key(|(name, t)| (**t, (*name).clone()))?.0;
            if v.len() > 1 {
                notes.push(format!(
                    "{folder}: {} versions of the report; read the newest ({}) only",
                    v.len(),
                    if best.is_empty() {
                        "the files directly in it"
                    } else {
                        best
                    }
                ));
            }
            Some((folder, best))
        })
        .collect();
    let kept = found
        .into_iter()
        .filter(|f| match period_of(&f.key) {
            Some((folder, month, version)) => {
                months.contains(month.as_str()) && newest.get(&folder) == Some(&&version)
            }
            None => true,
        })
        .collect();
    (kept, notes)
}

/// The sums read so far.
#[derive(Default)]
struct Totals {
    /// By month, account, region, usage type and resource.
    usage: BTreeMap<super::Key, (Decimal, Decimal)>,
    /// By month, account, region, usage type and line item type.
    adjustments: BTreeMap<super::Key, Decimal>,
    rows: u64,
    resource_ids: bool,
    formats: BTreeSet<String>,
    /// Files found in a folder that have none of a report's columns.
    skipped: Vec<String>,
}

/// One cell, as a file gives it.
enum Cell {
    Empty,
    Text(String),
    Number(Decimal),
    Time(DateTime<chrono::Utc>),
    Other(String),
}

impl Cell {
    fn describe(&self) -> String {
        match self {
            Cell::Empty => "nothing".into(),
            Cell::Text(s) => format!("{s:?}"),
            Cell::Number(n) => n.to_string(),
            Cell::Time(t) => t.to_rfc3339(),
            Cell::Other(s) => s.clone(),
        }
    }
}

/// Where a bad value was.
struct At<'a> {
    file: &'a str,
    row: u64,
}

impl At<'_> {
    fn bad(&self, column: usize, want: &str, cell: &Cell) -> anyhow::Error {
        anyhow!(
            "{}: column {}, row {}: expected {want}, found {}",
            self.file,
            COLUMNS[column].0,
            self.row,
            cell.describe()
        )
    }

    fn text(&self, cells: &[Cell; 8], column: usize) -> Result<String> {
        match &cells[column] {
            Cell::Text(s) => Ok(s.trim().to_string()),
            Cell::Empty => Ok(String::new()),
            // An account id written as a number.
            Cell::Number(n) if column == ACCOUNT && n.fract().is_zero() => Ok(format!("{n:012}")),
            c => Err(self.bad(column, "text", c)),
        }
    }

    /// A number; an empty cell is an error, never a zero.
    fn number(&self, cells: &[Cell; 8], column: usize) -> Result<Decimal> {
        match &cells[column] {
            Cell::Number(n) => Ok(*n),
            Cell::Text(s) => Decimal::from_str(s.trim())
                .or_else(|_| Decimal::from_scientific(s.trim()))
                .map_err(|_| self.bad(column, "a number", &cells[column])),
            c => Err(self.bad(column, "a number", c)),
        }
    }

    /// YYYY-MM of the billing period's start.
    fn month(&self, cells: &[Cell; 8]) -> Result<String> {
        match &cells[PERIOD] {
            Cell::Time(t) => Ok(t.format("%Y-%m").to_string()),
            Cell::Text(s) => s
                .get(..10)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .map(|d| d.format("%Y-%m").to_string())
                .ok_or_else(|| self.bad(PERIOD, "a date", &cells[PERIOD])),
            c => Err(self.bad(PERIOD, "a date", c)),
        }
    }
}

/// `a + b`, or an error: a sum beyond what a decimal holds is a broken file, not a panic.
fn plus(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_add(b)
        .ok_or_else(|| anyhow!("the sum of its amounts overflows ({a} + {b})"))
}

impl Totals {
    fn merge(&mut self, other: Totals) -> Result<()> {
        for (k, (q, c)) in other.usage {
            let e = self.usage.entry(k).or_default();
            *e = (plus(e.0, q)?, plus(e.1, c)?);
        }
        for (k, c) in other.adjustments {
            let e = self.adjustments.entry(k).or_default();
            *e = plus(*e, c)?;
        }
        self.rows += other.rows;
        self.resource_ids |= other.resource_ids;
        self.formats.extend(other.formats);
        self.skipped.extend(other.skipped);
        Ok(())
    }

    fn add(&mut self, at: &At, cells: &[Cell; 8]) -> Result<()> {
        let usage = at.text(cells, USAGE)?;
        if !super::is_nat_related(&usage) {
            return Ok(());
        }
        let month = at.month(cells)?;
        let account = at.text(cells, ACCOUNT)?;
        let mut region = at.text(cells, REGION)?;
        if region.is_empty() {
            region = super::region_of_usage(&usage).unwrap_or_default();
        }
        let kind = at.text(cells, KIND)?;
        let cost = at.number(cells, COST)?;
        let sum = |a, b| plus(a, b).map_err(|e| anyhow!("{}: row {}: {e}", at.file, at.row));
        if kind == "Usage" {
            let amount = at.number(cells, AMOUNT)?;
            // Only NAT hours and bytes are compared per resource: an id per address or
            // interface would only multiply the sums.
            let resource = if super::per_nat(&usage) {
                at.text(cells, RESOURCE)?
            } else {
                String::new()
            };
            let e = self
                .usage
                .entry((month, account, region, usage, resource))
                .or_default();
            *e = (sum(e.0, amount)?, sum(e.1, cost)?);
        } else {
            let e = self
                .adjustments
                .entry((month, account, region, usage, kind))
                .or_default();
            *e = sum(*e, cost)?;
        }
        Ok(())
    }
}

/// `legacy CUR` for `lineItem/…` columns, or snake_case ones with the legacy `product_region`
/// (its Parquet and Athena form); `CUR 2.0` otherwise.
fn generation(names: &[&str]) -> &'static str {
    if names
        .iter()
        .any(|n| n.contains('/') || *n == "product_region")
    {
        "legacy CUR"
    } else {
        "CUR 2.0"
    }
}

/// Which of a file's columns are the ones read (by the first accepted name it has); a required
/// one missing is an error. None: a file found in a folder with none of them (not a report).
fn resolve(f: &Found, names: &[&str]) -> Result<Option<[Option<usize>; 8]>> {
    let mut index = [None; 8];
    for (i, (_, accepted, _)) in COLUMNS.iter().enumerate() {
        index[i] = accepted
            .iter()
            .find_map(|a| names.iter().position(|n| n == a));
    }
    if !f.named && index.iter().all(Option::is_none) {
        return Ok(None);
    }
    for (i, (key, accepted, required)) in COLUMNS.iter().enumerate() {
        if index[i].is_none() && *required {
            bail!(
                "{}: column {key} is missing (legacy name {}): not a Cost and Usage Report, or one exported without it",
                f.name,
                accepted[1]
            );
        }
    }
    Ok(Some(index))
}

/// A gzip CSV or plain CSV file (CUR 2.0 or legacy): returns its format (None: not a report).
fn text<R: Read>(reader: R, f: &Found, totals: &mut Totals) -> Result<Option<String>> {
    let name = f.name.as_str();
    let mut buffered = BufReader::new(reader);
    let head = buffered
        .fill_buf()
        .with_context(|| format!("{name}: cannot read"))?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip {
        Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let mut csv = csv::ReaderBuilder::new().from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| anyhow!("{name}: not a readable CSV file ({e})"))?
        .clone();
    let names: Vec<&str> = headers.iter().collect();
    let Some(index) = resolve(f, &names)? else {
        return Ok(None);
    };
    let mut record = csv::StringRecord::new();
    let mut row = 0;
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => bail!("{name}: row {}: {e}", row + 1),
        }
        row += 1;
        totals.rows += 1;
        // Most rows are other usage types: skipped before any cell is made.
        let usage = index[USAGE].and_then(|c| record.get(c)).unwrap_or_default();
        if !super::is_nat_related(usage.trim()) {
            continue;
        }
        let cells: [Cell; 8] =
            std::array::from_fn(|i| match index[i].and_then(|c| record.get(c)) {
                Some(s) if !s.is_empty() => Cell::Text(s.to_string()),
                _ => Cell::Empty,
            });
        totals.add(&At { file: name, row }, &cells)?;
    }
    if names.iter().any(|n| COLUMNS[RESOURCE].1.contains(n)) {
        totals.resource_ids = true;
    }
    Ok(Some(format!(
        "{}, {}",
        generation(&names),
        if gzip { "gzip CSV" } else { "CSV" }
    )))
}

/// A Parquet file: only the columns read are decoded. Returns its format (None: not a report).
fn parquet<R: ChunkReader + 'static>(
    reader: R,
    f: &Found,
    totals: &mut Totals,
) -> Result<Option<String>> {
    let name = f.name.as_str();
    let file = SerializedFileReader::new(reader)
        .map_err(|e| anyhow!("{name}: not a readable Parquet file ({e})"))?;
    let schema = file.metadata().file_metadata().schema();
    let fields = schema.get_fields();
    let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
    let Some(index) = resolve(f, &names)? else {
        return Ok(None);
    };
    // A column whose type can never hold what it should.
    for (i, at) in index.iter().enumerate() {
        let Some(at) = at else { continue };
        let field = &fields[*at];
        let ok = field.is_primitive()
            && match (i, field.get_physical_type()) {
                (_, Physical::BOOLEAN) => false,
                (AMOUNT | COST | PERIOD | ACCOUNT, _) => true,
                (_, t) => t == Physical::BYTE_ARRAY,
            };
        if !ok {
            bail!(
                "{name}: column {} is {}, not {}",
                COLUMNS[i].0,
                if field.is_primitive() {
                    field.get_physical_type().to_string()
                } else {
                    "a group".into()
                },
                match i {
                    AMOUNT | COST => "a number",
                    PERIOD => "a date",
                    _ => "text",
                }
            );
        }
    }
    // Decoded column by column, a batch of rows at a time: the usage type first, and the other
    // columns only for a batch that has NAT-related rows (the row API assembled every row).
    let descr = file.metadata().file_metadata().schema_descr_ptr();
    let leaf = |name: &str| {
        descr
            .columns()
            .iter()
            .position(|c| c.path().parts().len() == 1 && c.path().parts()[0] == name)
    };
    let mut leaves = [None; 8];
    for (i, at) in index.iter().enumerate() {
        if let Some(at) = at {
            leaves[i] = Some(
                leaf(names[*at])
                    .with_context(|| format!("{name}: column {} has no values", names[*at]))?,
            );
        }
    }
    let usage_leaf = leaves[USAGE].with_context(|| format!("{name}: no usage type column"))?;
    let mut first_row = 0u64;
    for g in 0..file.num_row_groups() {
        let group = file
            .get_row_group(g)
            .map_err(|e| anyhow!("{name}: row group {g}: {e}"))?;
        let rows = usize::try_from(group.metadata().num_rows())
            .map_err(|_| anyhow!("{name}: row group {g} has a negative row count"))?;
        let at = |leaf: usize, e: anyhow::Error| {
            anyhow!(
                "{name}: row group {g}, column {}: {e}",
                descr.column(leaf).name()
            )
        };
        let mut readers: Vec<(usize, usize, Reader)> = Vec::new();
        for (i, l) in leaves.iter().enumerate() {
            if let Some(l) = l.filter(|l| *l != usage_leaf) {
                readers.push((i, l, Reader::open(&*group, l).map_err(|e| at(l, e))?));
            }
        }
        let mut usage = Reader::open(&*group, usage_leaf).map_err(|e| at(usage_leaf, e))?;
        // A batch at a time, so that memory holds a batch whatever the row group's size.
        let mut done = 0;
        while done < rows {
            let n = BATCH.min(rows - done);
            let types = usage.next(n).map_err(|e| at(usage_leaf, e))?;
            let nat: Vec<usize> = (0..n)
                .filter(|&r| {
                    types
                        .text(r)
                        .is_some_and(|u| super::is_nat_related(u.trim()))
                })
                .collect();
            if nat.is_empty() {
                for (_, l, r) in &mut readers {
                    r.skip(n).map_err(|e| at(*l, e))?;
                }
            } else {
                let mut columns: [Option<Column>; 8] = std::array::from_fn(|_| None);
                for (i, l, r) in &mut readers {
                    columns[*i] = Some(r.next(n).map_err(|e| at(*l, e))?);
                }
                columns[USAGE] = Some(types);
                for r in nat {
                    let cells: [Cell; 8] = std::array::from_fn(|i| {
                        columns[i].as_ref().map_or(Cell::Empty, |c| c.cell(r))
                    });
                    let row = first_row + (done + r) as u64 + 1;
                    totals.add(&At { file: name, row }, &cells)?;
                }
            }
            done += n;
        }
        totals.rows += rows as u64;
        first_row += rows as u64;
    }
    if index[RESOURCE].is_some() {
        totals.resource_ids = true;
    }
    Ok(Some(format!("{}, Parquet", generation(&names))))
}

/// Rows decoded at once per column.
const BATCH: usize = 65_536;

/// One column of a row group being read: its reader, and how its values read.
struct Reader {
    reader: ColumnReader,
    max_def: i16,
    logical: Logical,
}

/// A batch of a column's values (None: null), and what its logical type says.
struct Column {
    values: Values,
    logical: Logical,
}

enum Values {
    Bytes(Vec<Option<ByteArray>>),
    Fixed(Vec<Option<FixedLenByteArray>>),
    Double(Vec<Option<f64>>),
    Float(Vec<Option<f32>>),
    Int32(Vec<Option<i32>>),
    Int64(Vec<Option<i64>>),
    Int96(Vec<Option<Int96>>),
}

/// How a column's physical values read.
#[derive(Clone, Copy)]
enum Logical {
    Plain,
    /// UINT_32 / UINT_64: read back as unsigned.
    Unsigned,
    Date,
    /// Microseconds per unit (a timestamp in milliseconds: 1,000); nanoseconds apart.
    Timestamp {
        micros_per_unit: i64,
        nanos: bool,
    },
    Decimal {
        scale: u32,
    },
}

/// The next `rows` values of a column, with its nulls in place.
fn chunk<T: DataType>(
    r: &mut ColumnReaderImpl<T>,
    rows: usize,
    max_def: i16,
) -> Result<Vec<Option<T::T>>> {
    let mut defs = Vec::with_capacity(rows);
    let mut values = Vec::with_capacity(rows);
    let levels = (max_def > 0).then_some(&mut defs);
    let (read, _, _) = r.read_records(rows, levels, None, &mut values)?;
    if read != rows {
        bail!("{read} of {rows} rows");
    }
    if max_def == 0 {
        return Ok(values.into_iter().map(Some).collect());
    }
    let mut values = values.into_iter();
    Ok(defs
        .iter()
        .map(|d| if *d == max_def { values.next() } else { None })
        .collect())
}

impl Reader {
    fn open(group: &dyn RowGroupReader, leaf: usize) -> Result<Reader> {
        let d = group.metadata().schema_descr().column(leaf);
        let max_def = d.max_def_level();
        let scale = || u32::try_from(d.type_scale()).unwrap_or(0);
        let logical = match (d.logical_type_ref(), d.converted_type()) {
            (Some(LogicalType::Decimal { scale, .. }), _) => Logical::Decimal {
                scale: u32::try_from(*scale).unwrap_or(0),
            },
            (_, ConvertedType::DECIMAL) => Logical::Decimal { scale: scale() },
            (Some(LogicalType::Date), _) | (_, ConvertedType::DATE) => Logical::Date,
            (Some(LogicalType::Timestamp { unit, .. }), _) => match unit {
                TimeUnit::MILLIS => Logical::Timestamp {
                    micros_per_unit: 1000,
                    nanos: false,
                },
                TimeUnit::MICROS => Logical::Timestamp {
                    micros_per_unit: 1,
                    nanos: false,
                },
                TimeUnit::NANOS => Logical::Timestamp {
                    micros_per_unit: 1,
                    nanos: true,
                },
            },
            (_, ConvertedType::TIMESTAMP_MILLIS) => Logical::Timestamp {
                micros_per_unit: 1000,
                nanos: false,
            },
            (_, ConvertedType::TIMESTAMP_MICROS) => Logical::Timestamp {
                micros_per_unit: 1,
                nanos: false,
            },
            (
                Some(LogicalType::Integer {
                    is_signed: false, ..
                }),
                _,
            )
            | (_, ConvertedType::UINT_32 | ConvertedType::UINT_64) => Logical::Unsigned,
            _ => Logical::Plain,
        };
        if d.max_rep_level() > 0 {
            bail!("a repeated column, not one value per line item");
        }
        let reader = group.get_column_reader(leaf)?;
        if matches!(reader, ColumnReader::BoolColumnReader(_)) {
            bail!("BOOLEAN");
        }
        Ok(Reader {
            reader,
            max_def,
            logical,
        })
    }

    fn next(&mut self, n: usize) -> Result<Column> {
        let d = self.max_def;
        let values = match &mut self.reader {
            ColumnReader::ByteArrayColumnReader(r) => Values::Bytes(chunk(r, n, d)?),
            ColumnReader::FixedLenByteArrayColumnReader(r) => Values::Fixed(chunk(r, n, d)?),
            ColumnReader::DoubleColumnReader(r) => Values::Double(chunk(r, n, d)?),
            ColumnReader::FloatColumnReader(r) => Values::Float(chunk(r, n, d)?),
            ColumnReader::Int32ColumnReader(r) => Values::Int32(chunk(r, n, d)?),
            ColumnReader::Int64ColumnReader(r) => Values::Int64(chunk(r, n, d)?),
            ColumnReader::Int96ColumnReader(r) => Values::Int96(chunk(r, n, d)?),
            ColumnReader::BoolColumnReader(_) => bail!("BOOLEAN"),
        };
        Ok(Column {
            values,
            logical: self.logical,
        })
    }

    /// Passes over `n` rows none of which is read.
    fn skip(&mut self, n: usize) -> Result<()> {
        let skipped = match &mut self.reader {
            ColumnReader::ByteArrayColumnReader(r) => r.skip_records(n)?,
            ColumnReader::FixedLenByteArrayColumnReader(r) => r.skip_records(n)?,
            ColumnReader::DoubleColumnReader(r) => r.skip_records(n)?,
            ColumnReader::FloatColumnReader(r) => r.skip_records(n)?,
            ColumnReader::Int32ColumnReader(r) => r.skip_records(n)?,
            ColumnReader::Int64ColumnReader(r) => r.skip_records(n)?,
            ColumnReader::Int96ColumnReader(r) => r.skip_records(n)?,
            ColumnReader::BoolColumnReader(r) => r.skip_records(n)?,
        };
        if skipped != n {
            bail!("{skipped} of {n} rows");
        }
        Ok(())
    }
}

impl Column {
    /// A row's text, for the usage type test.
    fn text(&self, row: usize) -> Option<&str> {
        match &self.values {
            Values::Bytes(v) => v
                .get(row)?
                .as_ref()
                .and_then(|b| std::str::from_utf8(b.data()).ok()),
            _ => None,
        }
    }

    fn cell(&self, row: usize) -> Cell {
        let number = |d: Option<Decimal>, shown: String| d.map_or(Cell::Other(shown), Cell::Number);
        // The shortest decimal that reads back as the same float: 0.059, not 0.0589999…
        let float = |x: f64| number(Decimal::from_str(&x.to_string()).ok(), x.to_string());
        let time = |micros: Option<i64>, shown: String| {
            micros
                .and_then(DateTime::from_timestamp_micros)
                .map_or(Cell::Other(shown), Cell::Time)
        };
        match (&self.values, self.logical) {
            (Values::Bytes(v), Logical::Decimal { scale }) => match v.get(row).cloned().flatten() {
                Some(b) => number(decimal(b.data(), scale), format!("{:?}", b.data())),
                None => Cell::Empty,
            },
            (Values::Bytes(v), _) => match v.get(row).cloned().flatten() {
                Some(b) if b.data().is_empty() => Cell::Empty,
                Some(b) => Cell::Text(String::from_utf8_lossy(b.data()).into_owned()),
                None => Cell::Empty,
            },
            (Values::Fixed(v), Logical::Decimal { scale }) => match v.get(row).cloned().flatten() {
                Some(b) => number(decimal(b.data(), scale), format!("{:?}", b.data())),
                None => Cell::Empty,
            },
            // A UUID or FLOAT16 is no text: shown as its bytes.
            (Values::Fixed(v), _) => match v.get(row).cloned().flatten() {
                Some(b) => Cell::Other(format!("{:?}", b.data())),
                None => Cell::Empty,
            },
            (Values::Double(v), _) => v.get(row).copied().flatten().map_or(Cell::Empty, float),
            (Values::Float(v), _) => v.get(row).copied().flatten().map_or(Cell::Empty, |x| {
                number(Decimal::from_str(&x.to_string()).ok(), x.to_string())
            }),
            (Values::Int32(v), logical) => match (v.get(row).copied().flatten(), logical) {
                (None, _) => Cell::Empty,
                (Some(days), Logical::Date) => days
                    .checked_add(719_163)
                    .and_then(NaiveDate::from_num_days_from_ce_opt)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map_or(Cell::Other(format!("date {days}")), |t| {
                        Cell::Time(t.and_utc())
                    }),
                (Some(x), Logical::Decimal { scale }) => number(
                    Decimal::try_from_i128_with_scale(x.into(), scale).ok(),
                    format!("{x}e-{scale}"),
                ),
                (Some(x), Logical::Unsigned) => Cell::Number((x as u32).into()),
                (Some(x), _) => Cell::Number(x.into()),
            },
            (Values::Int64(v), logical) => match (v.get(row).copied().flatten(), logical) {
                (None, _) => Cell::Empty,
                (
                    Some(x),
                    Logical::Timestamp {
                        micros_per_unit,
                        nanos,
                    },
                ) => time(
                    if nanos {
                        Some(x / 1000)
                    } else {
                        x.checked_mul(micros_per_unit)
                    },
                    format!("timestamp {x}"),
                ),
                (Some(x), Logical::Decimal { scale }) => number(
                    Decimal::try_from_i128_with_scale(x.into(), scale).ok(),
                    format!("{x}e-{scale}"),
                ),
                (Some(x), Logical::Unsigned) => Cell::Number((x as u64).into()),
                (Some(x), _) => Cell::Number(x.into()),
            },
            (Values::Int96(v), _) => match v.get(row).cloned().flatten() {
                Some(t) => time(Some(t.to_micros()), format!("{t:?}")),
                None => Cell::Empty,
            },
        }
    }
}

/// A Parquet DECIMAL's bytes: big-endian two's complement, with its scale.
fn decimal(bytes: &[u8], scale: u32) -> Option<Decimal> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut all = [fill; 16];
    all[16 - bytes.len()..].copy_from_slice(bytes);
    Decimal::try_from_i128_with_scale(i128::from_be_bytes(all), scale).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(key: &str, modified: i64) -> Found {
        Found {
            name: key.into(),
            key: key.into(),
            modified,
            object: None,
            named: false,
        }
    }

    #[test]
    fn billing_periods_and_versions_are_read_from_folders() {
        assert_eq!(
            period_of("nat/data/BILLING_PERIOD=2026-10/nat-00001.snappy.parquet"),
            Some((
                "nat/data/BILLING_PERIOD=2026-10".into(),
                "2026-10".into(),
                String::new()
            ))
        );
        assert_eq!(
            period_of("cur/20261001-20261101/6d3f-41a2/cur-1.csv.gz"),
            Some((
                "cur/20261001-20261101".into(),
                "2026-10".into(),
                "6d3f-41a2".into()
            ))
        );
        assert_eq!(period_of("loose.csv.gz"), None);
    }

    #[test]
    fn only_the_newest_version_of_a_period_and_the_months_asked_are_read() {
        let files = vec![
            found("cur/20261001-20261101/old/cur-1.csv.gz", 100),
            found("cur/20261001-20261101/new/cur-1.csv.gz", 200),
            found("cur/20261001-20261101/new/cur-2.csv.gz", 150),
            found("cur/20260901-20261001/v/cur-1.csv.gz", 50),
            found("loose.parquet", 1),
        ];
        let months = BTreeSet::from(["2026-10"]);
        let (kept, notes) = select(files, &months);
        let keys: Vec<&str> = kept.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "cur/20261001-20261101/new/cur-1.csv.gz",
                "cur/20261001-20261101/new/cur-2.csv.gz",
                "loose.parquet"
            ]
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("2 versions"), "{notes:?}");
    }

    #[test]
    fn legacy_csv_rows_are_summed_and_credits_kept_apart() {
        let csv = "identity/LineItemId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageType,lineItem/ResourceId,lineItem/UsageAmount,lineItem/UnblendedCost,product/region\n\
            a,2026-10-01T00:00:00Z,123456789012,Usage,APN2-NatGateway-Hours,arn:x,372,21.948,ap-northeast-2\n\
            b,2026-10-01T00:00:00Z,123456789012,Usage,APN2-NatGateway-Hours,arn:x,372,21.948,ap-northeast-2\n\
            c,2026-10-01T00:00:00Z,123456789012,Credit,APN2-NatGateway-Hours,,0,-10,\n\
            d,2026-10-01T00:00:00Z,123456789012,Usage,APN2-BoxUsage:t3.micro,i-1,744,7.5,ap-northeast-2\n";
        let mut totals = Totals::default();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, csv.as_bytes()).unwrap();
        let f = found("cur.csv.gz", 0);
        let format = text(&gz.finish().unwrap()[..], &f, &mut totals).unwrap();
        assert_eq!(format.as_deref(), Some("legacy CUR, gzip CSV"));
        assert_eq!(totals.rows, 4);
        assert!(totals.resource_ids);
        let key = |r: &str, kind: &str| {
            (
                "2026-10".to_string(),
                "123456789012".to_string(),
                "ap-northeast-2".to_string(),
                "APN2-NatGateway-Hours".to_string(),
                format!("{r}{kind}"),
            )
        };
        assert_eq!(
            totals.usage,
            BTreeMap::from([(
                key("arn:x", ""),
                (Decimal::from(744), Decimal::new(43896, 3))
            )])
        );
        // The credit's region comes from its usage type.
        assert_eq!(
            totals.adjustments,
            BTreeMap::from([(key("", "Credit"), Decimal::from(-10))])
        );
    }

    #[test]
    fn parquet_decimals_keep_their_sign_and_scale() {
        let d = ::parquet::data_type::Decimal::from_i64(-12345, 10, 3);
        assert_eq!(decimal(d.data(), 3), Some(Decimal::new(-12345, 3)));
        assert_eq!(decimal(&[0x01, 0x00], 2), Some(Decimal::new(256, 2)));
        assert_eq!(decimal(&[], 2), None);
    }
}

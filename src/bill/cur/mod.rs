//! The bill from Cost and Usage Report files: CUR 2.0 (Data Exports) in Parquet or gzip CSV,
//! and the legacy CUR's CSV, from a file, a folder or `s3://…`. Only the NAT-related usage
//! types are kept, summed per month, account, region, usage type and resource; usage line
//! items are compared with the model, credits, discounts, refunds and tax are kept apart.
//!
//! - `locating`: where the report's files are (a file, a folder walked, an S3 listing) and
//!   which are read (the months asked for, the newest version of a billing period);
//! - `columns`: the columns read, by the names of each generation, and their sums;
//! - `text`: gzip CSV and CSV files;
//! - `parquet`: Parquet files, decoded column by column.

mod columns;
mod locating;
mod parquet;
mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use anyhow::{anyhow, Context};
use rust_decimal::Decimal;
use serde::Serialize;

use super::Billed;
use crate::aws::s3;
use crate::aws::session::Remote;
use columns::Totals;
use locating::Found;

pub use locating::Location;

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
    let locating::Listing {
        found,
        store,
        skipped,
    } = locating::find(location, remote)?;
    let wanted: BTreeSet<&str> = months.iter().map(String::as_str).collect();
    let (files, notes) = locating::select(found, &wanted);
    cur.notes = notes;
    cur.notes
        .extend(skipped.iter().map(|s| format!("{s}: never read")));
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
                        let read = crate::messages::caught(|| read_file(f, store, &mut totals))
                            .unwrap_or_else(|why| {
                                Err(Failure::Bad(anyhow!(
                                    "{}: not a readable report ({why})",
                                    f.name
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
                parquet::read(ranged, f, totals).map_err(|e| match refused.lock().unwrap().take() {
                    Some(why) => Failure::Unreachable(format!("{}: {why}", f.name)),
                    None => Failure::Bad(e),
                })
            } else {
                let body = store
                    .open(o)
                    .map_err(|e| Failure::Unreachable(format!("{}: {e:#}", f.name)))?;
                text::read(body, f, totals).map_err(Failure::Bad)
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
            if n == 4 && &head == crate::parquet_columns::MAGIC {
                parquet::read(open()?, f, totals).map_err(Failure::Bad)
            } else {
                text::read(open()?, f, totals).map_err(Failure::Bad)
            }
        }
    }
}

//! A report folder: every report file (each named in `output::REPORT_FILES`), written
//! together or not at all.

use std::path::Path;

use anyhow::{Context, Result};

use super::{chart, csv, json, markdown, tables, xlsx};
use crate::output;
use crate::price::PriceBook;
use crate::report::Report;
use crate::snapshot::Snapshot;

/// How the files are written (`report`'s flags).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Each CSV file starts with a UTF-8 byte order mark (`--csv-bom`), for Excel.
    pub csv_bom: bool,
    /// natcost.xlsx is written (not with `--no-xlsx`).
    pub xlsx: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            csv_bom: false,
            xlsx: true,
        }
    }
}

/// Every report file (each named in `output::REPORT_FILES`), written together or not at all;
/// with the snapshot it was made from when that was collected live, so the report can be
/// reproduced. `guard` says what must never be written over (see `output`).
pub fn write_report(
    report: &Report,
    book: &PriceBook,
    snapshot: Option<&Snapshot>,
    dir: &Path,
    guard: &output::Guard,
    options: Options,
) -> Result<()> {
    output::write_dir(dir, guard, |stage| {
        fill_report(report, book, snapshot, stage, options)
            .with_context(|| format!("writing the report to {}", dir.display()))
    })
}

/// The workbook's name.
pub const XLSX: &str = "natcost.xlsx";

/// The UTF-8 byte order mark Excel needs to read a CSV file as UTF-8 when double-clicked.
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn fill_report(
    report: &Report,
    book: &PriceBook,
    snapshot: Option<&Snapshot>,
    stage: &output::Staging,
    options: Options,
) -> Result<()> {
    let csv_file = |name: &str, table: &tables::Table| -> Result<()> {
        let mut bytes = if options.csv_bom {
            BOM.to_vec()
        } else {
            Vec::new()
        };
        csv::write(table, &mut bytes)?;
        stage.write(name, bytes)
    };
    let used = book
        .for_regions(&report.regions)
        .to_dated_file(&book.label());
    stage.write("prices.json", serde_json::to_string_pretty(&used)? + "\n")?;
    if let Some(s) = snapshot {
        stage.write("snapshot.json", s.to_json())?;
    }
    csv_file("costs.csv", &tables::costs(report))?;
    if let Some(r) = &report.reconcile {
        csv_file("reconcile.csv", &tables::reconcile(&r.rows))?;
    }
    csv_file("recommendations.csv", &tables::recommendations(report))?;
    csv_file("lambdas.csv", &tables::lambdas(report))?;
    csv_file("allocation.csv", &tables::allocation(report))?;
    if !report.allocation.team_tags.is_empty() {
        csv_file("allocation_by_team.csv", &tables::teams(report))?;
    }
    stage.write("report.json", json::render(report))?;
    stage.write("report.md", markdown::render(report, &chart::CHARTS))?;
    chart::render_all(report, stage)?;
    if options.xlsx {
        // The pictures the Summary sheet shows, as drawn for the folder.
        let mut images = Vec::new();
        for name in chart::XLSX_IMAGES {
            images.push((name, std::fs::read(stage.path(name)?)?));
        }
        let book = xlsx::workbook(report, &images).context("making natcost.xlsx")?;
        stage.write(XLSX, book)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The list of report files is exactly what `write_report` writes, so it cannot drift.
    #[test]
    fn write_report_writes_exactly_the_listed_files() {
        let snapshot = Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
        let book = PriceBook::bundled();
        let options = crate::allocation::Options {
            team_tags: vec!["team".into()],
            ..Default::default()
        };
        let mut report = Report::build_with(&snapshot, &book, "sample", None, &options).unwrap();
        // With a bill, as `--bill` adds reconcile.csv.
        report.reconcile = Some(crate::bill::Reconciliation {
            source: "test".into(),
            rows: Vec::new(),
            requests: 0,
            request_cost_usd: rust_decimal::Decimal::ZERO,
            adjustments: Vec::new(),
            net_rate: None,
            notes: Vec::new(),
        });
        let tmp = tempfile::tempdir().unwrap();
        let guard = output::Guard::default();
        let listed: BTreeSet<String> = output::REPORT_FILES.iter().map(|s| s.to_string()).collect();
        let names = |dir: &Path| -> BTreeSet<String> {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect()
        };
        let with = tmp.path().join("live");
        write_report(
            &report,
            &book,
            Some(&snapshot),
            &with,
            &guard,
            Options::default(),
        )
        .unwrap();
        assert_eq!(names(&with), listed);
        let without = tmp.path().join("offline");
        write_report(&report, &book, None, &without, &guard, Options::default()).unwrap();
        let mut offline = listed.clone();
        offline.remove("snapshot.json");
        assert_eq!(names(&without), offline);
        report.reconcile = None;
        let no_bill = tmp.path().join("no-bill");
        write_report(&report, &book, None, &no_bill, &guard, Options::default()).unwrap();
        for f in ["reconcile.csv", "reconcile.png", "reconcile.svg"] {
            offline.remove(f);
        }
        assert_eq!(names(&no_bill), offline);
        // Without --allocate-by, no team files.
        report.allocation.team_tags.clear();
        let no_teams = tmp.path().join("no-teams");
        write_report(&report, &book, None, &no_teams, &guard, Options::default()).unwrap();
        for f in ["allocation_by_team.csv", "allocation.png", "allocation.svg"] {
            offline.remove(f);
        }
        assert_eq!(names(&no_teams), offline);
    }
}

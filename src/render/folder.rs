//! A report folder: every report file (each named in `output::REPORT_FILES`), written
//! together or not at all.

use std::path::Path;

use anyhow::{Context, Result};

use super::{chart, csv, json, markdown};
use crate::output;
use crate::price::PriceBook;
use crate::report::Report;
use crate::snapshot::Snapshot;

/// Every report file (each named in `output::REPORT_FILES`), written together or not at all;
/// with the snapshot it was made from when that was collected live, so the report can be
/// reproduced. `guard` says what must never be written over (see `output`).
pub fn write_report(
    report: &Report,
    book: &PriceBook,
    snapshot: Option<&Snapshot>,
    dir: &Path,
    guard: &output::Guard,
) -> Result<()> {
    output::write_dir(dir, guard, |stage| {
        fill_report(report, book, snapshot, stage)
            .with_context(|| format!("writing the report to {}", dir.display()))
    })
}

fn fill_report(
    report: &Report,
    book: &PriceBook,
    snapshot: Option<&Snapshot>,
    stage: &output::Staging,
) -> Result<()> {
    let used = book
        .for_regions(&report.regions)
        .to_dated_file(&book.label());
    stage.write("prices.json", serde_json::to_string_pretty(&used)? + "\n")?;
    if let Some(s) = snapshot {
        stage.write("snapshot.json", s.to_json())?;
    }
    let mut costs = Vec::new();
    csv::costs(report, &mut costs)?;
    stage.write("costs.csv", costs)?;
    if let Some(r) = &report.reconcile {
        let mut rows = Vec::new();
        csv::reconcile(&r.rows, &mut rows)?;
        stage.write("reconcile.csv", rows)?;
    }
    let mut recs = Vec::new();
    csv::recommendations(report, &mut recs)?;
    stage.write("recommendations.csv", recs)?;
    let mut lambdas = Vec::new();
    csv::lambdas(report, &mut lambdas)?;
    stage.write("lambdas.csv", lambdas)?;
    let mut allocation = Vec::new();
    csv::allocation(report, &mut allocation)?;
    stage.write("allocation.csv", allocation)?;
    if !report.allocation.team_tags.is_empty() {
        let mut teams = Vec::new();
        csv::teams(report, &mut teams)?;
        stage.write("allocation_by_team.csv", teams)?;
    }
    stage.write("report.json", json::render(report))?;
    stage.write("report.md", markdown::render(report, &chart::CHARTS))?;
    chart::render_all(report, stage)?;
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
        write_report(&report, &book, Some(&snapshot), &with, &guard).unwrap();
        assert_eq!(names(&with), listed);
        let without = tmp.path().join("offline");
        write_report(&report, &book, None, &without, &guard).unwrap();
        let mut offline = listed.clone();
        offline.remove("snapshot.json");
        assert_eq!(names(&without), offline);
        report.reconcile = None;
        let no_bill = tmp.path().join("no-bill");
        write_report(&report, &book, None, &no_bill, &guard).unwrap();
        for f in ["reconcile.csv", "reconcile.png", "reconcile.svg"] {
            offline.remove(f);
        }
        assert_eq!(names(&no_bill), offline);
        // Without --allocate-by, no team files.
        report.allocation.team_tags.clear();
        let no_teams = tmp.path().join("no-teams");
        write_report(&report, &book, None, &no_teams, &guard).unwrap();
        for f in ["allocation_by_team.csv", "allocation.png", "allocation.svg"] {
            offline.remove(f);
        }
        assert_eq!(names(&no_teams), offline);
    }
}

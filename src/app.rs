//! What each command does, from parsed arguments to files and an exit code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::cli::{Cli, Command, Format, ReportArgs};
use crate::output;
use crate::price::PriceBook;
use crate::render::{self, chart};
use crate::report::Report;
use crate::snapshot::Snapshot;

pub const EXIT_ERROR: u8 = 1;
pub const EXIT_PARTIAL: u8 = 3;

pub fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NATCOST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("natcost={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Report(args) => report(args),
    }
}

fn report(args: ReportArgs) -> Result<ExitCode> {
    let (snapshot, name) = match (&args.snapshot, args.sample) {
        (Some(path), _) => (Snapshot::load(path)?, snapshot_name(path)),
        (None, true) => (
            Snapshot::from_json(crate::SAMPLE_SNAPSHOT).context("bundled sample")?,
            "sample".to_string(),
        ),
        (None, false) => {
            bail!("say what to report on: --snapshot FILE, or --sample for the bundled sample")
        }
    };
    let book = PriceBook::bundled();
    let report = Report::build(&snapshot, &book, &name)?;
    let out_dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("reports").join(format!("{name}-{}", snapshot.window.end.format("%Y-%m-%d")))
    });
    if !args.no_files {
        write_report(&report, &out_dir)?;
    }
    let text = match args.format {
        Format::Table => render::table::render(&report),
        Format::Json => render::json::render(&report),
        Format::Markdown => render::markdown::render(&report, &chart::CHARTS),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    if !args.no_files && args.format == Format::Table {
        writeln!(stdout, "\nReport written to {}/", out_dir.display())?;
    }
    stdout.flush()?;
    Ok(if report.is_partial() {
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}

fn snapshot_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "snapshot".into())
}

/// Every report file, written together or not at all.
pub fn write_report(report: &Report, dir: &Path) -> Result<()> {
    output::write_dir(dir, |tmp| {
        let mut costs = Vec::new();
        render::csv::costs(report, &mut costs)?;
        std::fs::write(tmp.join("costs.csv"), costs)?;
        let mut recs = Vec::new();
        render::csv::recommendations(report, &mut recs)?;
        std::fs::write(tmp.join("recommendations.csv"), recs)?;
        let mut lambdas = Vec::new();
        render::csv::lambdas(report, &mut lambdas)?;
        std::fs::write(tmp.join("lambdas.csv"), lambdas)?;
        std::fs::write(tmp.join("report.json"), render::json::render(report))?;
        std::fs::write(
            tmp.join("report.md"),
            render::markdown::render(report, &chart::CHARTS),
        )?;
        chart::render_all(report, tmp)?;
        Ok(())
    })
    .with_context(|| format!("writing the report to {}", dir.display()))
}

//! What each command does, from parsed arguments to files and an exit code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::CommandFactory;

use crate::cli::{
    Cli, CollectArgs, CollectCommand, Command, FlowArgs, FlowsCommand, Format, PriceArgs,
    PriceFormat, PricesCommand, ReportArgs, SnapshotArgs,
};
use crate::collect::{self, window};
use crate::exit::Usage;
use crate::flows::inputs::FlowInputs;
use crate::messages::{self, Diagnostics};
use crate::output;
use crate::pipeline::{self, Built, Facts, Request};
use crate::price::source::Mode;
use crate::price::PriceBook;
use crate::render::{self, chart};
use crate::report::Report;
use crate::snapshot::Snapshot;

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
        Command::Report(args) => report(*args, cli.verbose),
        Command::Collect(args) => collect_to_file(args, cli.verbose),
        Command::Prices(args) => prices(args),
        Command::Flows(args) => flows(args, cli.verbose),
        Command::Reconcile(args) => reconcile_command(*args, cli.verbose),
        Command::Completions { shell } => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut Cli::command(), "natcost", &mut out);
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::IamPolicy {
            side,
            role_name,
            flow_logs,
            athena,
            bill,
        } => {
            if side == crate::policy::PolicyFor::Member
                && (!flow_logs.is_empty() || athena.is_some() || !bill.is_empty())
            {
                return Err(Usage(
                    "--flow-logs, --athena and --bill: flow logs and the bill are read with the caller's credentials, not the member role: use --for caller or --for account".into(),
                )
                .into());
            }
            let policy = serde_json::to_string_pretty(&crate::policy::iam_policy(
                side,
                &role_name,
                &flow_logs,
                athena.as_deref(),
                &bill,
            ))?;
            writeln!(std::io::stdout(), "{policy}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The span the window flags ask for; None when none is given.
fn span(args: &CollectArgs) -> Option<window::Span> {
    match (args.days, &args.month, args.months) {
        (_, Some(m), _) => Some(window::Span::Month(*m)),
        (_, _, Some(n)) => Some(window::Span::Months(n)),
        (Some(d), _, _) => Some(window::Span::Days(d)),
        _ => None,
    }
}

/// What `report` and `reconcile` read, as a plain request. Flags that would be silently
/// ignored are refused here, before anything is read.
fn request(
    source: &SnapshotArgs,
    collect: &CollectArgs,
    price: &PriceArgs,
    flow: &FlowArgs,
    bill: Option<crate::bill::Source>,
    fx: Option<crate::fx::Fx>,
) -> Result<Request> {
    let live = collect.is_live();
    let remote_flows = flow.athena_table.is_some()
        || matches!(
            bill,
            Some(
                crate::bill::Source::CostExplorer
                    | crate::bill::Source::Cur(crate::bill::cur::Location::S3(_))
            )
        )
        || flow
            .flow_logs
            .iter()
            .any(|i| !matches!(i, crate::flows::Input::Path(_)));
    if !live && !remote_flows {
        // Without AWS to talk to, these would be silently ignored.
        let unused = match (source.sample, &collect.profile, &collect.endpoint_url) {
            (true, Some(_), _) => Some("--sample cannot be used with --profile"),
            (_, _, Some(_)) => {
                Some("--endpoint-url needs --region, --athena-table, or --flow-logs from S3, a log group or auto")
            }
            _ => None,
        };
        if let Some(why) = unused {
            return Err(Usage(format!(
                "{why}: nothing is read from AWS (--profile and --endpoint-url serve live collection, --athena-table and --flow-logs s3://…, log-group:…, auto)"
            ))
            .into());
        }
    }
    let flows = flow_inputs(flow)?;
    let mut window_note = None;
    let facts = match (&source.snapshot, source.sample) {
        (Some(path), _) => Facts::Snapshot(path.clone()),
        (None, true) => Facts::Sample,
        (None, false) if live => {
            let (options, note) = collect_options(collect)?;
            window_note = note;
            Facts::Live(options)
        }
        // clap requires one of them.
        (None, false) => {
            return Err(Usage(
                "say what to report on: --region REGION (live, repeatable), --snapshot FILE, or --sample for the bundled sample".into(),
            )
            .into())
        }
    };
    let default_mode = if source.sample {
        Mode::Bundled
    } else {
        Mode::Live
    };
    Ok(Request {
        facts,
        span: if live { None } else { span(collect) },
        prices: prices_asked(price, default_mode),
        profile: collect.profile.clone(),
        endpoint_url: collect.endpoint_url.clone(),
        flows,
        bill,
        fx,
        window_note,
    })
}

/// `--prices` (or `default`), `--price-cache-days`, `--pricing-region`.
fn prices_asked(args: &PriceArgs, default: Mode) -> pipeline::Prices {
    pipeline::Prices {
        mode: args.prices.clone().unwrap_or(default),
        cache_days: args.price_cache_days,
        pricing_region: args.pricing_region.clone(),
    }
}

/// What to collect, and a note when the window asked for is cut to what CloudWatch keeps.
fn collect_options(args: &CollectArgs) -> Result<(collect::Options, Option<String>)> {
    let span = span(args).unwrap_or(window::Span::Days(30));
    let (window, note) = window::window(span, chrono::Utc::now())?;
    let options = collect::Options {
        regions: args.regions.clone(),
        all_regions: args.all_regions,
        window,
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
        progress: !args.quiet,
        accounts: accounts(args)?,
        concurrency: args.concurrency as usize,
    };
    Ok((options, note))
}

/// `--org` / `--accounts` with `--role-name`, or the caller's own account.
fn accounts(args: &CollectArgs) -> Result<collect::Accounts> {
    let ids = match (&args.accounts, args.org) {
        (Some(list), _) => Some(account_ids(list)?),
        (None, true) => None,
        (None, false) => {
            if args.role_name.is_some() {
                return Err(Usage(
                    "--role-name is for --org or --accounts: say which accounts to read through it"
                        .into(),
                )
                .into());
            }
            return Ok(collect::Accounts::Caller);
        }
    };
    Ok(collect::Accounts::Assume {
        ids,
        role: collect::Role {
            name: args.role_name.clone().unwrap_or_default(),
            external_id: args.external_id.clone(),
            session_name: args.role_session_name.clone(),
        },
    })
}

/// Account IDs from `ID,ID…`, or from a file with one per line (`#` starts a comment).
fn account_ids(arg: &str) -> Result<Vec<String>> {
    let looks_like_ids = arg
        .split(',')
        .all(|p| !p.trim().is_empty() && p.trim().bytes().all(|b| b.is_ascii_digit()));
    let text = if looks_like_ids {
        arg.replace(',', "\n")
    } else {
        std::fs::read_to_string(arg).map_err(|e| {
            Usage(format!(
                "--accounts {arg}: neither account IDs (12 digits, comma-separated) nor a readable file ({e})"
            ))
        })?
    };
    let mut ids: Vec<String> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let id = line.split('#').next().unwrap_or_default().trim();
        if id.is_empty() {
            continue;
        }
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            let place = if looks_like_ids {
                String::new()
            } else {
                format!(" (line {})", n + 1)
            };
            return Err(Usage(format!(
                "--accounts: {id:?}{place} is not an AWS account ID (12 digits)"
            ))
            .into());
        }
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }
    if ids.is_empty() {
        return Err(Usage(format!("--accounts {arg}: no account ID in it")).into());
    }
    Ok(ids)
}

fn collect_to_file(args: CollectCommand, verbose: u8) -> Result<ExitCode> {
    if !args.collect.is_live() {
        bail!("say which regions to collect: --region REGION (repeatable) or --all-regions");
    }
    let mut diag = Diagnostics::default();
    let (options, note) = collect_options(&args.collect)?;
    if let Some(note) = note {
        diag.warn(note);
    }
    let snapshot = pipeline::collect_live(&options, verbose, &mut diag)?;
    output::write_file(&args.output, snapshot.to_json().as_bytes())?;
    let regions = &snapshot.regions;
    let empty = regions.iter().filter(|r| r.no_nat_gateways).count();
    eprintln!(
        "natcost: wrote {} ({} region(s){}, {} NAT gateway(s), {} Lambda function(s))",
        args.output.display(),
        regions.len(),
        if empty > 0 {
            format!(", {empty} without NAT gateways, so not read further")
        } else {
            String::new()
        },
        regions.iter().map(|r| r.nat_gateways.len()).sum::<usize>(),
        regions
            .iter()
            .map(|r| r.lambda_functions.len())
            .sum::<usize>()
    );
    Ok(diag.outcome().into())
}

fn report(args: ReportArgs, verbose: u8) -> Result<ExitCode> {
    let guard = output::Guard::new(args.force, args.source.snapshot.as_deref());
    // Refuse an output folder, or flow-log paths that are not there, before collecting or
    // pricing anything.
    if let (Some(out), false) = (&args.out, args.no_files) {
        output::check(out, &guard)?;
    }
    let Built {
        report,
        book,
        snapshot,
        live,
        name,
        outcome,
    } = pipeline::run(
        &request(
            &args.source,
            &args.collect,
            &args.price,
            &args.flow,
            args.bill.clone(),
            fx(&args),
        )?,
        verbose,
    )?;
    // A part of a snapshot gets a folder of its own: the whole one is named for its end date.
    let out_dir = args.out.clone().unwrap_or_else(|| {
        let w = snapshot.window;
        let folder = if !live && span(&args.collect).is_some() {
            format!(
                "{name}-{}_{}",
                w.start.format("%Y-%m-%d"),
                w.end.format("%Y-%m-%d")
            )
        } else {
            format!("{name}-{}", w.end.format("%Y-%m-%d"))
        };
        PathBuf::from("reports").join(folder)
    });
    if !args.no_files {
        write_report(&report, &book, live.then_some(&snapshot), &out_dir, &guard)?;
    }
    let text = match args.format {
        Format::Table => render::table::render(&report, terminal_width(args.wide)),
        Format::Json => render::json::render(&report),
        Format::Markdown => render::markdown::render(&report, &chart::CHARTS),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    if !args.no_files && args.format == Format::Table {
        writeln!(stdout, "\nReport written to {}/", out_dir.display())?;
    }
    stdout.flush()?;
    Ok(outcome.into())
}

/// `--currency CODE --fx-rate RATE`, shown beside USD.
fn fx(args: &ReportArgs) -> Option<crate::fx::Fx> {
    let (Some(currency), Some(rate)) = (&args.currency, args.fx_rate) else {
        return None;
    };
    Some(crate::fx::Fx {
        currency: currency.clone(),
        rate,
        source: "--fx-rate, as given".into(),
    })
}

/// `natcost reconcile`: the report's model set against the bill, printed.
fn reconcile_command(args: crate::cli::ReconcileArgs, verbose: u8) -> Result<ExitCode> {
    let asked = request(
        &args.source,
        &args.collect,
        &args.price,
        &FlowArgs::default(),
        Some(args.bill),
        None,
    )?;
    let built = pipeline::run(&asked, verbose)?;
    let Some(r) = &built.report.reconcile else {
        // The bill could not be reached: said as not collected, so the outcome is partial.
        return Ok(built.outcome.into());
    };
    let mut stdout = std::io::stdout().lock();
    match args.format {
        crate::cli::ReconcileFormat::Csv => render::csv::reconcile(&r.rows, &mut stdout)?,
        crate::cli::ReconcileFormat::Json => {
            writeln!(stdout, "{}", serde_json::to_string_pretty(r)?)?
        }
        crate::cli::ReconcileFormat::Table => {
            stdout.write_all(render::table::reconcile(r).as_bytes())?
        }
    }
    stdout.flush()?;
    Ok(built.outcome.into())
}

/// Columns to fit the summary in: the terminal's, else `$COLUMNS`, else 100; None with --wide.
fn terminal_width(wide: bool) -> Option<usize> {
    if wide {
        return None;
    }
    let columns = console::Term::stdout()
        .size_checked()
        .map(|(_, cols)| cols as usize)
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(100);
    Some(columns.max(40))
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
    render::csv::costs(report, &mut costs)?;
    stage.write("costs.csv", costs)?;
    if let Some(r) = &report.reconcile {
        let mut rows = Vec::new();
        render::csv::reconcile(&r.rows, &mut rows)?;
        stage.write("reconcile.csv", rows)?;
    }
    let mut recs = Vec::new();
    render::csv::recommendations(report, &mut recs)?;
    stage.write("recommendations.csv", recs)?;
    let mut lambdas = Vec::new();
    render::csv::lambdas(report, &mut lambdas)?;
    stage.write("lambdas.csv", lambdas)?;
    stage.write("report.json", render::json::render(report))?;
    stage.write(
        "report.md",
        render::markdown::render(report, &chart::CHARTS),
    )?;
    chart::render_all(report, stage)?;
    Ok(())
}

fn prices(args: PricesCommand) -> Result<ExitCode> {
    // With no region, the whole bundled table: live prices are fetched region by region.
    let mode = match (&args.price.prices, args.regions.is_empty()) {
        (Some(mode), _) => mode.clone(),
        (None, true) => Mode::Bundled,
        (None, false) => Mode::Live,
    };
    let regions = if args.regions.is_empty() {
        if mode == Mode::Live || mode == Mode::Cache {
            return Err(Usage(
                "say which regions to price live: --region REGION (repeatable)".into(),
            )
            .into());
        }
        Vec::new()
    } else {
        for r in &args.regions {
            crate::price::Item::NatHours.usage_type(r)?;
        }
        args.regions.clone()
    };
    let loaded = pipeline::load_prices(
        &prices_asked(&args.price, mode),
        regions.clone(),
        args.profile.clone(),
    )?;
    if let Some(w) = &loaded.warning {
        messages::warn(w);
    }
    let book = if regions.is_empty() {
        loaded.book
    } else {
        loaded.book.for_regions(&regions)
    };
    if book.all().next().is_none() {
        bail!(
            "no prices for {} in the {}",
            regions.join(", "),
            PriceBook::bundled().label()
        );
    }
    let out = std::io::stdout().lock();
    match args.format {
        PriceFormat::Json => render::prices::json(&book, out)?,
        PriceFormat::Csv => render::prices::csv(&book, out)?,
        PriceFormat::Table => render::prices::table(&book, out)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `--flow-logs` and its companions as plain inputs.
fn flow_inputs(args: &FlowArgs) -> Result<FlowInputs> {
    let inputs = args.inputs();
    if inputs.is_empty() && inputs.ip_ranges.is_some() {
        return Err(Usage("--ip-ranges is used with --flow-logs or --athena-table".into()).into());
    }
    Ok(inputs)
}

fn flows(args: FlowsCommand, verbose: u8) -> Result<ExitCode> {
    let inputs = flow_inputs(&args.flow)?;
    let plan = crate::flows::inputs::plan(&inputs)?;
    let (snapshot, name) = pipeline::load_snapshot(args.snapshot.as_deref())?;
    let remote = crate::aws::session::Lazy::new(crate::flows::inputs::access(
        args.profile.as_deref(),
        args.endpoint_url.as_deref(),
        &snapshot,
    ));
    let outcome = crate::flows::inputs::attribute(&inputs, plan, &snapshot, &remote, verbose)?;
    let mut diag = Diagnostics::default();
    for unread in &outcome.unread {
        diag.not_collected(unread);
    }
    let Some(attribution) = outcome.attribution else {
        bail!("flow logs: nothing could be read (see the warnings above)");
    };
    // Prices only size the report around the attribution: the bundled table is enough.
    let report = Report::build(&snapshot, &PriceBook::bundled(), &name, Some(attribution))?;
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report.flows)? + "\n",
        Format::Markdown => render::markdown::flows(&report),
        Format::Table => render::table::flows(&report),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(diag.outcome().into())
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
        let mut report = Report::build(&snapshot, &book, "sample", None).unwrap();
        // With a bill, as `--bill` adds reconcile.csv.
        report.reconcile = Some(crate::bill::Reconciliation {
            source: "test".into(),
            rows: Vec::new(),
            requests: 0,
            request_cost_usd: rust_decimal::Decimal::ZERO,
            adjustments: Vec::new(),
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
    }
}

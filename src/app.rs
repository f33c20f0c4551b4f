//! What each command does, from parsed arguments to files and an exit code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::CommandFactory;
use rust_decimal::Decimal;

use crate::cli::{
    Cli, CollectArgs, CollectCommand, Command, FlowArgs, FlowsCommand, Format, PriceArgs,
    PriceFormat, PricesCommand, ReportArgs,
};
use crate::collect::{self, window};
use crate::flows::inputs::FlowInputs;
use crate::output;
use crate::price::source::{self, Mode};
use crate::price::PriceBook;
use crate::render::{self, chart};
use crate::report::Report;
use crate::snapshot::Snapshot;

pub const EXIT_ERROR: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_PARTIAL: u8 = 3;

/// A command line that asks for something the input cannot give (exit 2, like clap's errors).
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

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
fn span(args: &CollectArgs) -> Result<Option<window::Span>> {
    Ok(match (args.days, &args.month, args.months) {
        (_, Some(m), _) => Some(window::Span::Month(window::parse_month(m)?)),
        (_, _, Some(n)) => Some(window::Span::Months(n)),
        (Some(d), _, _) => Some(window::Span::Days(d)),
        _ => None,
    })
}

/// `--days`, `--month` or `--months` applied to a snapshot: that part of it, ending at the
/// snapshot's end. A window with no hour in the snapshot is a usage error; one that only
/// partly overlaps is cut to the snapshot, with a warning.
fn select_window(args: &CollectArgs, snapshot: Snapshot) -> Result<(Snapshot, Option<String>)> {
    let Some(span) = span(args)? else {
        return Ok((snapshot, None));
    };
    let have = snapshot.window;
    let want = match span {
        // A whole calendar month, even one after the snapshot (then refused below).
        window::Span::Month(m) => window::month(m),
        span => window::span_window(span, have.end).map_err(|e| Usage(e.to_string()))?,
    };
    if want.end <= have.start || want.start >= have.end {
        return Err(Usage(format!(
            "the snapshot covers {} to {}: nothing of {} to {} is in it",
            have.start.format("%Y-%m-%d %H:%M"),
            have.end.format("%Y-%m-%d %H:%M UTC"),
            want.start.format("%Y-%m-%d %H:%M"),
            want.end.format("%Y-%m-%d %H:%M UTC")
        ))
        .into());
    }
    let cut = crate::snapshot::Window {
        start: want.start.max(have.start),
        end: want.end.min(have.end),
    };
    let warning = (cut != want).then(|| {
        format!(
            "the snapshot covers only {} to {} of the {} to {} asked for",
            cut.start.format("%Y-%m-%d %H:%M"),
            cut.end.format("%Y-%m-%d %H:%M UTC"),
            want.start.format("%Y-%m-%d %H:%M"),
            want.end.format("%Y-%m-%d %H:%M UTC")
        )
    });
    Ok((snapshot.slice(cut)?, warning))
}

fn collect_options(args: &CollectArgs) -> Result<collect::Options> {
    let span = span(args)?.unwrap_or(window::Span::Days(30));
    let (window, note) = window::window(span, chrono::Utc::now())?;
    if let Some(note) = note {
        eprintln!("natcost: warning: {note}");
    }
    Ok(collect::Options {
        regions: args.regions.clone(),
        all_regions: args.all_regions,
        window,
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
        progress: !args.quiet,
        accounts: accounts(args)?,
        concurrency: args.concurrency as usize,
    })
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

fn collect_live(args: &CollectArgs, verbose: u8) -> Result<Snapshot> {
    let opts = collect_options(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let snapshot = runtime.block_on(collect::collect(&opts))?;
    if verbose > 0 {
        let calls: Vec<String> = snapshot
            .api_calls
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        eprintln!("AWS calls: {}", calls.join(", "));
    }
    for a in &snapshot.accounts {
        for n in &a.not_collected {
            eprintln!("natcost: warning: not collected: {}: {}", n.what, n.reason);
        }
    }
    for r in &snapshot.regions {
        let place = snapshot.place(r);
        for n in &r.not_collected {
            eprintln!(
                "natcost: warning: {place}: not collected: {}: {}",
                n.what, n.reason
            );
        }
    }
    Ok(snapshot)
}

fn is_partial(snapshot: &Snapshot) -> bool {
    !snapshot.not_collected.is_empty()
        || snapshot
            .accounts
            .iter()
            .any(|a| !a.not_collected.is_empty())
        || snapshot.regions.iter().any(|r| !r.not_collected.is_empty())
}

fn collect_to_file(args: CollectCommand, verbose: u8) -> Result<ExitCode> {
    if !args.collect.is_live() {
        bail!("say which regions to collect: --region REGION (repeatable) or --all-regions");
    }
    let snapshot = collect_live(&args.collect, verbose)?;
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
    Ok(if is_partial(&snapshot) {
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}

/// A report built, before anything is written or printed.
struct Built {
    report: Report,
    book: PriceBook,
    snapshot: Snapshot,
    live: bool,
    name: String,
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
    } = build(&args, verbose)?;
    // A part of a snapshot gets a folder of its own: the whole one is named for its end date.
    let out_dir = args.out.clone().unwrap_or_else(|| {
        let w = snapshot.window;
        let folder = if !live && span(&args.collect).ok().flatten().is_some() {
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
    Ok(if report.is_partial() {
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}

/// `natcost reconcile`: the report's model set against the bill, printed.
fn reconcile_command(args: crate::cli::ReconcileArgs, verbose: u8) -> Result<ExitCode> {
    let format = args.format;
    let report_args = ReportArgs {
        source: args.source,
        collect: args.collect,
        price: args.price,
        flow: Default::default(),
        out: None,
        format: Format::Table,
        wide: false,
        currency: None,
        fx_rate: None,
        bill: Some(args.bill),
        no_files: true,
        force: false,
    };
    let built = build(&report_args, verbose)?;
    let Some(r) = &built.report.reconcile else {
        // The bill could not be reached: said on stderr as not collected.
        return Ok(ExitCode::from(EXIT_PARTIAL));
    };
    let mut stdout = std::io::stdout().lock();
    match format {
        crate::cli::ReconcileFormat::Csv => render::csv::reconcile(&r.rows, &mut stdout)?,
        crate::cli::ReconcileFormat::Json => {
            writeln!(stdout, "{}", serde_json::to_string_pretty(r)?)?
        }
        crate::cli::ReconcileFormat::Table => {
            stdout.write_all(render::table::reconcile(r).as_bytes())?
        }
    }
    stdout.flush()?;
    Ok(if built.report.is_partial() {
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}

/// Collects or loads the snapshot, prices it, reads flow logs and the bill: the report, not
/// yet written.
fn build(args: &ReportArgs, verbose: u8) -> Result<Built> {
    let live = args.collect.is_live();
    let remote_flows = args.flow.athena_table.is_some()
        || matches!(
            args.bill,
            Some(
                crate::bill::Source::CostExplorer
                    | crate::bill::Source::Cur(crate::bill::cur::Location::S3(_))
            )
        )
        || args
            .flow
            .flow_logs
            .iter()
            .any(|i| !matches!(i, crate::flows::Input::Path(_)));
    if !live && !remote_flows {
        // Without AWS to talk to, these would be silently ignored.
        let unused = match (
            args.source.sample,
            &args.collect.profile,
            &args.collect.endpoint_url,
        ) {
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
    let (flow_inputs, flow_plan) = flow_plan(&args.flow)?;
    // A bill file that is not there is said before anything is collected.
    if let Some(crate::bill::Source::Cur(crate::bill::cur::Location::Path(p))) = &args.bill {
        if let Err(e) = std::fs::metadata(p) {
            return Err(Usage(format!("--bill cur:{}: {e}", p.display())).into());
        }
    }
    let (snapshot, name) = match (&args.source.snapshot, args.source.sample) {
        (Some(path), _) => load_snapshot(Some(path))?,
        (None, true) => load_snapshot(None)?,
        (None, false) if live => {
            let snapshot = collect_live(&args.collect, verbose)?;
            let name = snapshot.accounts_label();
            (snapshot, name)
        }
        // clap requires one of them; kept for callers that build ReportArgs themselves.
        (None, false) => {
            return Err(Usage(
                "say what to report on: --region REGION (live, repeatable), --snapshot FILE, or --sample for the bundled sample".into(),
            )
            .into())
        }
    };
    let (snapshot, window_warning) = if live {
        (snapshot, None)
    } else {
        select_window(&args.collect, snapshot)?
    };
    if let Some(w) = &window_warning {
        eprintln!("natcost: warning: {w}");
    }
    let mut regions: Vec<String> = snapshot.regions.iter().map(|r| r.region.clone()).collect();
    regions.sort();
    regions.dedup();
    let default_mode = if args.source.sample {
        Mode::Bundled
    } else {
        Mode::Live
    };
    let prices = load_prices(
        &args.price,
        default_mode,
        regions,
        args.collect.profile.clone(),
    )?;
    let remote = crate::flows::remote::Lazy::new(crate::flows::inputs::access(
        args.collect.profile.as_deref(),
        args.collect.endpoint_url.as_deref(),
        &snapshot,
    ));
    let flows =
        crate::flows::inputs::attribute(&flow_inputs, flow_plan, &snapshot, &remote, verbose)?;
    let mut report = Report::build(&snapshot, &prices.book, &name, flows.attribution)?;
    for (action, n) in prices.api_calls.iter().chain(&flows.calls) {
        *report.api_calls.entry(action.clone()).or_default() += n;
    }
    report.not_collected.extend(flows.unread);
    if let Some(source) = &args.bill {
        // The account × regions read in full (not finding deleted NAT gateways leaves the rest
        // of the region to compare: their billed lines stay unexplained).
        let collected = snapshot
            .regions
            .iter()
            .filter(|r| {
                r.not_collected
                    .iter()
                    .all(|n| n.what == "cloudwatch:ListMetrics")
            })
            .map(|r| (r.account_id.clone(), r.region.clone()))
            .collect();
        reconcile(&mut report, source, &remote, &collected)?;
    }
    if verbose > 0 && !prices.api_calls.is_empty() {
        let calls: Vec<String> = prices
            .api_calls
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        eprintln!("AWS calls for prices: {}", calls.join(", "));
    }
    if let (Some(currency), Some(rate)) = (&args.currency, args.fx_rate) {
        report.fx = Some(crate::fx::Fx {
            currency: currency.clone(),
            rate,
            source: "--fx-rate, as given".into(),
        });
    }
    if let Some(w) = window_warning {
        report.warnings.insert(0, w);
    }
    if let Some(w) = &prices.warning {
        eprintln!("natcost: warning: {w}");
        report.warnings.insert(0, format!("prices: {w}"));
    }
    Ok(Built {
        report,
        book: prices.book,
        snapshot,
        live,
        name,
    })
}

/// Reads the bill and sets the model against it. A bill that cannot be reached (denied, no
/// credentials) leaves the rest of the report, said as not collected; Cost and Usage Report
/// files that are not a readable report are an error (nothing is written).
fn reconcile(
    report: &mut Report,
    source: &crate::bill::Source,
    remote: &crate::flows::remote::Lazy,
    collected: &std::collections::BTreeSet<(String, String)>,
) -> Result<()> {
    use crate::bill::{cur, Source};
    let what = match source {
        Source::CostExplorer => "the bill (Cost Explorer)".to_string(),
        Source::Cur(l) => format!("the bill ({})", l.label()),
    };
    let not_collected = |report: &mut Report, why: String| {
        let why = format!("{what}: {why}");
        eprintln!("natcost: warning: not collected: {why}");
        report.not_collected.push(why);
    };
    let needs_aws = !matches!(source, Source::Cur(cur::Location::Path(_)));
    let remote = match (needs_aws, remote.get()) {
        (true, Err(e)) => {
            not_collected(report, e.to_string());
            return Ok(());
        }
        (true, Ok(r)) => Some(r),
        (false, _) => None,
    };
    let months = crate::bill::months(report.window);
    let reconciliation = match (source, remote) {
        (Source::CostExplorer, Some(remote)) => {
            let (requests, billed) = crate::bill::ce::fetch(remote, &report.bill_model());
            if requests > 0 {
                *report
                    .api_calls
                    .entry("ce:GetCostAndUsage".into())
                    .or_default() += requests;
            }
            let cost = crate::bill::ce::USD_PER_REQUEST * Decimal::from(requests);
            eprintln!(
                "Cost Explorer: {requests} request(s) × {} USD = {cost} USD",
                crate::bill::ce::USD_PER_REQUEST
            );
            match billed {
                Ok(billed) => crate::bill::Reconciliation {
                    source:
                        "Cost Explorer (GetCostAndUsage, MONTHLY, usage records, unblended cost)"
                            .into(),
                    rows: crate::bill::reconcile(&report.bill_model(), &billed, &months, collected),
                    requests,
                    request_cost_usd: cost,
                    adjustments: Vec::new(),
                    notes: Vec::new(),
                },
                Err(e) => {
                    not_collected(report, format!("{e:#}"));
                    return Ok(());
                }
            }
        }
        (Source::Cur(location), remote) => {
            let read = match cur::read(location, &months, remote) {
                Ok(read) => read,
                Err(cur::Failure::Unreachable(why)) => {
                    not_collected(report, why);
                    return Ok(());
                }
                Err(cur::Failure::Bad(e)) => return Err(e.context("the bill")),
            };
            for (action, n) in &read.calls {
                *report.api_calls.entry(action.clone()).or_default() += n;
            }
            crate::bill::from_cur(&report.bill_model(), location, read, &months, collected)
        }
        (Source::CostExplorer, None) => return Ok(()),
    };
    for n in &reconciliation.notes {
        eprintln!("natcost: note: the bill: {n}");
    }
    for r in reconciliation.rows.iter().filter(|r| r.flagged) {
        eprintln!(
            "natcost: warning: the bill: {} {} {} {}{}: {}",
            r.month,
            r.account_id,
            r.region,
            r.usage_type,
            if r.resource_id.is_empty() {
                String::new()
            } else {
                format!(" {}", r.resource_id)
            },
            r.explanation
        );
    }
    report.reconcile = Some(reconciliation);
    Ok(())
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

fn snapshot_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "snapshot".into())
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

fn load_prices(
    args: &PriceArgs,
    default: Mode,
    regions: Vec<String>,
    profile: Option<String>,
) -> Result<source::Loaded> {
    let mode = match &args.prices {
        Some(m) => m.parse().expect("infallible"),
        None => default,
    };
    source::load(&source::Options {
        mode,
        regions,
        cache_dir: source::default_cache_dir(),
        max_age_days: args.price_cache_days,
        profile,
        pricing_region: args.pricing_region.clone(),
    })
}

fn prices(args: PricesCommand) -> Result<ExitCode> {
    // With no region, the whole bundled table: live prices are fetched region by region.
    let default = if args.regions.is_empty() {
        "bundled"
    } else {
        "live"
    };
    let mode: Mode = args
        .price
        .prices
        .as_deref()
        .unwrap_or(default)
        .parse()
        .expect("infallible");
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
    let loaded = load_prices(&args.price, mode, regions.clone(), args.profile.clone())?;
    if let Some(w) = &loaded.warning {
        eprintln!("natcost: warning: {w}");
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
    let mut out = std::io::stdout().lock();
    match args.format {
        PriceFormat::Json => {
            let file = book.to_dated_file(&book.label());
            writeln!(out, "{}", serde_json::to_string_pretty(&file)?)?;
        }
        PriceFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["region", "usage_type", "unit", "usd", "source"])?;
            for p in book.all() {
                w.write_record([
                    &p.region,
                    &p.usage_type,
                    &p.unit,
                    &p.usd.normalize().to_string(),
                    &p.origin,
                ])?;
            }
            w.flush()?;
        }
        PriceFormat::Table => {
            writeln!(
                out,
                "{:<16} {:<36} {:<6} {:>10}  source",
                "region", "usage type", "unit", "USD"
            )?;
            for p in book.all() {
                writeln!(
                    out,
                    "{:<16} {:<36} {:<6} {:>10}  {}",
                    p.region,
                    p.usage_type,
                    p.unit,
                    p.usd.normalize().to_string(),
                    p.origin
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A snapshot file and its name, or the bundled sample ("sample").
fn load_snapshot(path: Option<&Path>) -> Result<(Snapshot, String)> {
    match path {
        Some(path) => Ok((Snapshot::load(path)?, snapshot_name(path))),
        None => Ok((
            Snapshot::from_json(crate::SAMPLE_SNAPSHOT).context("bundled sample")?,
            "sample".to_string(),
        )),
    }
}

/// `--flow-logs` and its companions as plain inputs, and what they ask to read (local files
/// listed and checked before anything is collected).
fn flow_plan(args: &FlowArgs) -> Result<(FlowInputs, crate::flows::inputs::Plan)> {
    let inputs = args.inputs();
    if inputs.is_empty() && inputs.ip_ranges.is_some() {
        return Err(Usage("--ip-ranges is used with --flow-logs or --athena-table".into()).into());
    }
    let plan = crate::flows::inputs::plan(&inputs)?;
    Ok((inputs, plan))
}

fn flows(args: FlowsCommand, verbose: u8) -> Result<ExitCode> {
    let (inputs, plan) = flow_plan(&args.flow)?;
    let (snapshot, name) = load_snapshot(args.snapshot.as_deref())?;
    let remote = crate::flows::remote::Lazy::new(crate::flows::inputs::access(
        args.profile.as_deref(),
        args.endpoint_url.as_deref(),
        &snapshot,
    ));
    let outcome = crate::flows::inputs::attribute(&inputs, plan, &snapshot, &remote, verbose)?;
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
    Ok(if outcome.unread.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PARTIAL)
    })
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
            request_cost_usd: Decimal::ZERO,
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

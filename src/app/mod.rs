//! What each command does, from parsed arguments to files and an exit code: the command line
//! becomes a plain request (`request`), the pipeline builds the report, a renderer writes it.

mod request;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::CommandFactory;

use crate::cli::{
    Cli, CollectCommand, Command, FlowArgs, FlowsCommand, Format, PriceFormat, PricesCommand,
    ReportArgs,
};
use crate::exit::Usage;
use crate::messages::{self, Diagnostics};
use crate::output;
use crate::pipeline::{self, Built};
use crate::price::source::Mode;
use crate::price::PriceBook;
use crate::render::folder::write_report;
use crate::render::{self, chart};
use crate::report::Report;
use crate::shown;
use request::{collect_options, flow_inputs, fx, prices_asked, span};

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
    // report and reconcile check it once their flags are known to be consistent (request.rs).
    let profile = match &cli.command {
        Command::Collect(a) => a.collect.profile.as_deref(),
        Command::Prices(a) => a.profile.as_deref(),
        Command::Flows(a) => a.profile.as_deref(),
        _ => None,
    };
    if let Some(p) = profile {
        crate::aws::session::check_profile(p)?;
    }
    match cli.command {
        Command::Report(args) => report(*args, cli.verbose),
        Command::Collect(args) => collect_to_file(args, cli.verbose),
        Command::Prices(args) => prices(args),
        Command::Flows(args) => flows(args, cli.verbose),
        Command::Reconcile(args) => reconcile_command(*args, cli.verbose),
        Command::Diff { old, new, format } => diff(&old, &new, format),
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
            tags,
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
                tags,
            ))?;
            writeln!(std::io::stdout(), "{policy}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn collect_to_file(args: CollectCommand, verbose: u8) -> Result<ExitCode> {
    if !args.collect.is_live() {
        bail!("say which regions to collect: --region REGION (repeatable) or --all-regions");
    }
    output::check_snapshot_target(&args.output, args.force)?;
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
        &{
            let mut req = request::request(
                &args.source,
                &args.collect,
                &args.price,
                &args.flow,
                args.bill.clone(),
                fx(&args),
            )?;
            req.allocation = crate::allocation::Options {
                fixed_costs: args.fixed_costs.into(),
                team_tags: args.allocate_by.clone(),
            };
            // Teams come from tags: read them when collecting for this report.
            if let pipeline::Facts::Live(o) = &mut req.facts {
                o.tags |= !args.allocate_by.is_empty();
            }
            req
        },
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
        write_report(
            &report,
            &book,
            live.then_some(&snapshot),
            &out_dir,
            &guard,
            render::folder::Options {
                csv_bom: args.csv_bom,
                xlsx: !args.no_xlsx,
            },
        )?;
    }
    let text = match args.format {
        // Names from AWS never act on the terminal (an ESC sequence in a tag).
        Format::Table => {
            shown::printable(&render::table::render(&report, terminal_width(args.wide)))
                .into_owned()
        }
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

/// `natcost diff`: the change between two saved reports, explained.
fn diff(
    old: &std::path::Path,
    new: &std::path::Path,
    format: crate::cli::DiffFormat,
) -> Result<ExitCode> {
    let file = |p: &std::path::Path| {
        if p.is_dir() {
            p.join("report.json")
        } else {
            p.to_path_buf()
        }
    };
    let version = crate::report::REPORT_VERSION;
    let before = crate::changes::saved::read(&file(old), version)?;
    let after = crate::changes::saved::read(&file(new), version)?;
    let changes = crate::changes::explain(&before, &after);
    let text = match format {
        crate::cli::DiffFormat::Table => {
            shown::printable(&render::changes::table(&changes)).into_owned()
        }
        crate::cli::DiffFormat::Markdown => {
            render::changes::markdown_section(&changes, "# What changed")
        }
        crate::cli::DiffFormat::Json => serde_json::to_string_pretty(&changes)? + "\n",
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `natcost reconcile`: the report's model set against the bill, printed.
fn reconcile_command(args: crate::cli::ReconcileArgs, verbose: u8) -> Result<ExitCode> {
    let asked = request::request(
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
        crate::cli::ReconcileFormat::Csv => {
            render::csv::write(&render::tables::reconcile(&r.rows), &mut stdout)?
        }
        crate::cli::ReconcileFormat::Json => {
            writeln!(stdout, "{}", serde_json::to_string_pretty(r)?)?
        }
        crate::cli::ReconcileFormat::Table => {
            stdout.write_all(shown::printable(&render::table::reconcile(r)).as_bytes())?
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
        args.regions.clone()
    };
    let loaded = pipeline::load_prices(
        &prices_asked(&args.price, mode),
        regions.clone(),
        args.profile.clone(),
        args.endpoint_url.clone(),
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
        Format::Table => shown::printable(&render::table::flows(&report)).into_owned(),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(diag.outcome().into())
}

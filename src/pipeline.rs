//! One run, from plain inputs to a complete report: collect the snapshot live or load it, take
//! the window asked, price it, read the flow logs and set the model against the bill. No clap
//! types here: `app` turns the command line into a [`Request`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rust_decimal::Decimal;

use crate::collect::{self, window};
use crate::exit::{Outcome, Usage};
use crate::flows::inputs::FlowInputs;
use crate::messages::{self, Diagnostics};
use crate::price::source::{self, Mode};
use crate::price::PriceBook;
use crate::report::Report;
use crate::snapshot::Snapshot;

/// Where the facts come from.
pub enum Facts {
    /// Collected now, read-only.
    Live(collect::Options),
    /// A snapshot file.
    Snapshot(PathBuf),
    /// The bundled sample snapshot.
    Sample,
}

/// The prices asked for.
pub struct Prices {
    pub mode: Mode,
    /// How long prices fetched from the Pricing API are reused.
    pub cache_days: i64,
    /// Whose Pricing API endpoint is asked.
    pub pricing_region: String,
}

/// Everything one run reads, as plain data.
pub struct Request {
    pub facts: Facts,
    /// Of a snapshot: the part to report (`--days`, `--month`, `--months`); none for all of it.
    pub span: Option<window::Span>,
    pub prices: Prices,
    /// The profile and endpoint AWS is reached with, for prices, remote flow logs and the bill.
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub flows: FlowInputs,
    pub bill: Option<crate::bill::Source>,
    pub fx: Option<crate::fx::Fx>,
    /// Where allocation.csv puts each NAT gateway's fixed cost, and which tags name teams.
    pub allocation: crate::allocation::Options,
    /// Said before the run, for the report too (a live window cut to what CloudWatch keeps).
    pub window_note: Option<String>,
}

/// A report built, before anything is written or printed.
pub struct Built {
    pub report: Report,
    pub book: PriceBook,
    pub snapshot: Snapshot,
    /// Collected now (not read from a file): the snapshot is written beside the report.
    pub live: bool,
    /// What the report folder is named for: the snapshot file, or the accounts collected.
    pub name: String,
    /// Partial when anything asked for could not be read (the report lists it).
    pub outcome: Outcome,
}

/// Collects or loads the snapshot, takes the window asked, prices it, reads the flow logs and
/// the bill: the complete report, not yet written. Its warnings and what could not be read
/// are said on stderr as they are found, once each, and put in the report.
pub fn run(req: &Request, verbose: u8) -> Result<Built> {
    let mut diag = Diagnostics::default();
    if let Some(w) = &req.window_note {
        diag.warn(w);
    }
    // Local flow-log files and a bill file are checked before anything is collected.
    let flow_plan = crate::flows::inputs::plan(&req.flows)?;
    if let Some(crate::bill::Source::Cur(crate::bill::cur::Location::Path(p))) = &req.bill {
        if let Err(e) = std::fs::metadata(p) {
            return Err(Usage(format!("--bill cur:{}: {e}", p.display())).into());
        }
    }
    let live = matches!(req.facts, Facts::Live(_));
    let (snapshot, name) = match &req.facts {
        Facts::Snapshot(path) => load_snapshot(Some(path))?,
        Facts::Sample => load_snapshot(None)?,
        Facts::Live(opts) => {
            let snapshot = collect_live(opts, verbose, &mut diag)?;
            let name = snapshot.accounts_label();
            (snapshot, name)
        }
    };
    if !live {
        for line in snapshot.not_collected_lines() {
            diag.carry_not_collected(line);
        }
    }
    let (snapshot, window_warning) = if live {
        (snapshot, None)
    } else {
        select_window(req.span, snapshot)?
    };
    if let Some(w) = window_warning {
        diag.warn(w);
    }
    let mut regions: Vec<String> = snapshot.regions.iter().map(|r| r.region.clone()).collect();
    regions.sort();
    regions.dedup();
    let prices = load_prices(
        &req.prices,
        regions,
        req.profile.clone(),
        req.endpoint_url.clone(),
    )?;
    if let Some(w) = &prices.warning {
        diag.warn(w);
    }
    let remote = crate::aws::session::Lazy::new(crate::flows::inputs::access(
        req.profile.as_deref(),
        req.endpoint_url.as_deref(),
        &snapshot,
    ));
    let flows =
        crate::flows::inputs::attribute(&req.flows, flow_plan, &snapshot, &remote, verbose)?;
    for unread in &flows.unread {
        diag.not_collected(unread);
    }
    let mut report = Report::build_with(
        &snapshot,
        &prices.book,
        &name,
        flows.attribution,
        &req.allocation,
    )?;
    for (action, n) in prices.api_calls.iter().chain(&flows.calls) {
        *report.api_calls.entry(action.clone()).or_default() += n;
    }
    if let Some(source) = &req.bill {
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
        reconcile(&mut report, source, &remote, &collected, &mut diag)?;
    }
    if verbose > 0 && !prices.api_calls.is_empty() {
        let calls: Vec<String> = prices
            .api_calls
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        eprintln!("AWS calls for prices: {}", calls.join(", "));
    }
    report.fx = req.fx.clone();
    // What the run said comes first, then what the model found.
    report
        .warnings
        .splice(0..0, diag.warnings().iter().cloned());
    report.not_collected = diag.not_collected_list().to_vec();
    Ok(Built {
        report,
        book: prices.book,
        snapshot,
        live,
        name,
        outcome: diag.outcome(),
    })
}

/// Reads the bill and sets the model against it. A bill that cannot be reached (denied, no
/// credentials) leaves the rest of the report, said as not collected; Cost and Usage Report
/// files that are not a readable report are an error (nothing is written).
fn reconcile(
    report: &mut Report,
    source: &crate::bill::Source,
    remote: &crate::aws::session::Lazy,
    collected: &std::collections::BTreeSet<(String, String)>,
    diag: &mut Diagnostics,
) -> Result<()> {
    use crate::bill::{cur, Source};
    let what = match source {
        Source::CostExplorer => "the bill (Cost Explorer)".to_string(),
        Source::Cur(l) => format!("the bill ({})", l.label()),
    };
    let mut not_collected = |why: String| diag.not_collected(format_args!("{what}: {why}"));
    let needs_aws = !matches!(source, Source::Cur(cur::Location::Path(_)));
    let remote = match (needs_aws, remote.get()) {
        (true, Err(e)) => {
            not_collected(e.to_string());
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
            // Only requests AWS received are billed (and said).
            if requests > 0 {
                eprintln!(
                    "Cost Explorer: {requests} request(s) × {} USD = {cost} USD",
                    crate::bill::ce::USD_PER_REQUEST
                );
            }
            match billed {
                Ok((billed, adjustments)) => {
                    let rows =
                        crate::bill::reconcile(&report.bill_model(), &billed, &months, collected);
                    crate::bill::Reconciliation {
                        source:
                            "Cost Explorer (GetCostAndUsage, MONTHLY, usage records, unblended cost)"
                                .into(),
                        net_rate: crate::bill::NetRate::of(&rows, &adjustments),
                        rows,
                        requests,
                        request_cost_usd: cost,
                        adjustments,
                        notes: Vec::new(),
                    }
                }
                Err(e) => {
                    not_collected(format!("{e:#}"));
                    return Ok(());
                }
            }
        }
        (Source::Cur(location), remote) => {
            let read = match cur::read(location, &months, remote) {
                Ok(read) => read,
                Err(cur::Failure::Unreachable(why)) => {
                    not_collected(why);
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
        messages::note(format_args!("the bill: {n}"));
    }
    for r in reconciliation.rows.iter().filter(|r| r.flagged) {
        diag.warn(format_args!(
            "the bill: {} {} {} {}{}: {}",
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
        ));
    }
    report.reconcile = Some(reconciliation);
    Ok(())
}

/// `--days`, `--month` or `--months` applied to a snapshot: that part of it, ending at the
/// snapshot's end. A window with no hour in the snapshot is a usage error; one that only
/// partly overlaps is cut to the snapshot, with a warning.
fn select_window(
    span: Option<window::Span>,
    snapshot: Snapshot,
) -> Result<(Snapshot, Option<String>)> {
    let Some(span) = span else {
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

/// Collects the snapshot live (read-only), saying what could not be read.
pub fn collect_live(
    opts: &collect::Options,
    verbose: u8,
    diag: &mut Diagnostics,
) -> Result<Snapshot> {
    let snapshot = crate::aws::session::runtime()?.block_on(collect::collect(opts))?;
    if verbose > 0 {
        let calls: Vec<String> = snapshot
            .api_calls
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        eprintln!("AWS calls: {}", calls.join(", "));
    }
    for line in snapshot.not_collected_lines() {
        diag.not_collected(line);
    }
    Ok(snapshot)
}

/// The price book asked for, for these regions (the Pricing API with `profile`).
pub fn load_prices(
    p: &Prices,
    regions: Vec<String>,
    profile: Option<String>,
    endpoint_url: Option<String>,
) -> Result<source::Loaded> {
    source::load(&source::Options {
        mode: p.mode.clone(),
        regions,
        cache_dir: source::default_cache_dir(),
        max_age_days: p.cache_days,
        profile,
        endpoint_url,
        pricing_region: p.pricing_region.clone(),
    })
}

/// A snapshot file and its name, or the bundled sample ("sample").
pub fn load_snapshot(path: Option<&Path>) -> Result<(Snapshot, String)> {
    match path {
        Some(path) => Ok((Snapshot::load(path)?, snapshot_name(path))),
        None => Ok((
            Snapshot::from_json(crate::SAMPLE_SNAPSHOT).context("bundled sample")?,
            "sample".to_string(),
        )),
    }
}

fn snapshot_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "snapshot".into())
}

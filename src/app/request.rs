//! The command line as plain inputs: clap's types stop here (fd's split). Flags that would be
//! silently ignored, and account lists that are not account IDs, are refused before anything
//! is read.

use anyhow::Result;

use crate::cli::{CollectArgs, FlowArgs, PriceArgs, ReportArgs, SnapshotArgs};
use crate::collect::{self, window};
use crate::exit::Usage;
use crate::flows::inputs::FlowInputs;
use crate::pipeline::{self, Facts, Request};
use crate::price::source::Mode;

/// The span the window flags ask for; None when none is given.
pub(super) fn span(args: &CollectArgs) -> Option<window::Span> {
    match (args.days, &args.month, args.months) {
        (_, Some(m), _) => Some(window::Span::Month(*m)),
        (_, _, Some(n)) => Some(window::Span::Months(n)),
        (Some(d), _, _) => Some(window::Span::Days(d)),
        _ => None,
    }
}

/// What `report` and `reconcile` read, as a plain request. Flags that would be silently
/// ignored are refused here, before anything is read.
pub(super) fn request(
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
    // Live prices are read from the Pricing API, with --profile and --endpoint-url too.
    let default_mode = if source.sample {
        Mode::Bundled
    } else {
        Mode::Live
    };
    let live_prices = price.prices.as_ref().unwrap_or(&default_mode) == &Mode::Live;
    if !live && !remote_flows && !live_prices {
        // Without AWS to talk to, these would be silently ignored.
        let unused = match (source.sample, &collect.profile, &collect.endpoint_url) {
            (true, Some(_), _) => Some("--sample cannot be used with --profile"),
            (_, _, Some(_)) => {
                Some("--endpoint-url needs --region, --prices live, --athena-table, or --flow-logs from S3, a log group or auto")
            }
            _ => None,
        };
        if let Some(why) = unused {
            return Err(Usage(format!(
                "{why}: nothing is read from AWS (--profile and --endpoint-url serve live collection, live prices, --athena-table and --flow-logs s3://…, log-group:…, auto)"
            ))
            .into());
        }
    }
    if let Some(p) = &collect.profile {
        crate::aws::session::check_profile(p)?;
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
    Ok(Request {
        facts,
        span: if live { None } else { span(collect) },
        prices: prices_asked(price, default_mode),
        profile: collect.profile.clone(),
        endpoint_url: collect.endpoint_url.clone(),
        flows,
        bill,
        fx,
        allocation: crate::allocation::Options::default(),
        window_note,
    })
}

/// `--prices` (or `default`), `--price-cache-days`, `--pricing-region`.
pub(super) fn prices_asked(args: &PriceArgs, default: Mode) -> pipeline::Prices {
    pipeline::Prices {
        mode: args.prices.clone().unwrap_or(default),
        cache_days: args.price_cache_days,
        pricing_region: args.pricing_region.clone(),
    }
}

/// What to collect, and a note when the window asked for is cut to what CloudWatch keeps.
pub(super) fn collect_options(args: &CollectArgs) -> Result<(collect::Options, Option<String>)> {
    let span = span(args).unwrap_or(window::Span::Days(30));
    let (window, note) = window::window(span, chrono::Utc::now())?;
    let options = collect::Options {
        regions: once_each(&args.regions),
        all_regions: args.all_regions,
        window,
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
        progress: !args.quiet,
        accounts: accounts(args)?,
        concurrency: args.concurrency as usize,
        tags: args.tags,
    };
    Ok((options, note))
}

/// `--region a --region a` reads `a` once: a region collected twice would count twice.
fn once_each(regions: &[String]) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    regions
        .iter()
        .filter(|r| seen.insert(r.as_str()))
        .cloned()
        .collect()
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

/// `--currency CODE --fx-rate RATE`, shown beside USD.
pub(super) fn fx(args: &ReportArgs) -> Option<crate::fx::Fx> {
    let (Some(currency), Some(rate)) = (&args.currency, args.fx_rate) else {
        return None;
    };
    Some(crate::fx::Fx {
        currency: currency.clone(),
        rate,
        source: "--fx-rate, as given".into(),
    })
}

/// `--flow-logs` and its companions as plain inputs.
pub(super) fn flow_inputs(args: &FlowArgs) -> Result<FlowInputs> {
    let inputs = args.inputs();
    if inputs.is_empty() && inputs.ip_ranges.is_some() {
        return Err(Usage("--ip-ranges is used with --flow-logs or --athena-table".into()).into());
    }
    Ok(inputs)
}

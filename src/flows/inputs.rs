//! What `--flow-logs` names (files, S3 locations, log groups, `auto`), and reading all of it
//! into one attribution: local files are checked before anything is collected, remote ones
//! once the snapshot says which accounts, regions and window to read.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};

use super::configs::{self, Destination};
use super::{athena, insights, s3, Attribution, Input, Source};
use crate::aws::session::{Access, Lazy, Remote};
use crate::snapshot::Snapshot;

/// The flow-log inputs of a run, as the command line gave them (`--flow-logs`, `--athena-*`,
/// `--ip-ranges`).
#[derive(Debug, Clone, Default)]
pub struct FlowInputs {
    pub flow_logs: Vec<Input>,
    pub athena_table: Option<String>,
    pub athena_workgroup: Option<String>,
    pub athena_output: Option<String>,
    pub athena_partitions: athena::Partitions,
    pub ip_ranges: Option<PathBuf>,
    /// Route 53 Resolver query logs, which name the services behind AMAZON addresses.
    pub resolver_logs: Vec<super::resolver::ResolverInput>,
}

impl FlowInputs {
    /// Nothing to read: no flow logs and no Athena table.
    pub fn is_empty(&self) -> bool {
        self.flow_logs.is_empty() && self.athena_table.is_none()
    }
}

/// What `--flow-logs` asks to read: the local files (listed and checked before anything is
/// collected), S3 locations, log groups, and whether to follow the snapshot's configurations
/// (`auto`).
#[derive(Default)]
pub struct Plan {
    files: Vec<PathBuf>,
    /// Entries in the folders named that are not regular files: never read, said.
    skipped: Vec<String>,
    locations: Vec<s3::Location>,
    log_groups: Vec<String>,
    athena: Option<athena::Table>,
    auto: bool,
}

impl Plan {
    fn is_empty(&self) -> bool {
        self.files.is_empty()
            && self.locations.is_empty()
            && self.log_groups.is_empty()
            && self.athena.is_none()
            && !self.auto
    }
}

pub fn plan(args: &FlowInputs) -> Result<Plan> {
    let mut plan = Plan {
        athena: args.athena_table.as_ref().map(|name| athena::Table {
            name: name.clone(),
            workgroup: args.athena_workgroup.clone().unwrap_or_default(),
            output: args.athena_output.clone(),
            partitions: args.athena_partitions,
        }),
        ..Plan::default()
    };
    if args.is_empty() {
        return Ok(plan);
    }
    let mut paths = Vec::new();
    for input in &args.flow_logs {
        match input {
            Input::Path(p) => paths.push(p.clone()),
            Input::S3(l) => plan.locations.push(l.clone()),
            Input::LogGroup(g) => plan.log_groups.push(g.clone()),
            Input::Auto => plan.auto = true,
        }
    }
    if !paths.is_empty() {
        let found = super::list_files(&paths)?;
        plan.files = found.files;
        plan.skipped = found.skipped;
        if plan.files.is_empty() {
            bail!(
                "no flow-log files under {}",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(plan)
}

/// The attribution (None when nothing was read), what could not be read, and the AWS calls.
#[derive(Default)]
pub struct Outcome {
    pub attribution: Option<Attribution>,
    pub unread: Vec<String>,
    pub calls: BTreeMap<String, u64>,
    /// What was read, for the report.
    read_from: Vec<String>,
}

/// Reads the flow logs (if any) and attributes them against the snapshot; what could not be
/// read is in `unread`, for the caller to say.
pub fn attribute(
    args: &FlowInputs,
    plan: Plan,
    snapshot: &Snapshot,
    aws: &Lazy,
    verbose: u8,
) -> Result<Outcome> {
    if plan.is_empty() {
        return Ok(Outcome::default());
    }
    let mut out = Outcome::default();
    read(args, &plan, snapshot, aws, verbose, &mut out)?;
    Ok(out)
}

fn read(
    args: &FlowInputs,
    plan: &Plan,
    snapshot: &Snapshot,
    aws: &Lazy,
    verbose: u8,
    out: &mut Outcome,
) -> Result<()> {
    let mut locations = plan.locations.clone();
    out.unread.extend(
        plan.skipped
            .iter()
            .map(|s| format!("flow logs {s}: never read")),
    );
    let configured = if plan.auto {
        configs::covering_nats(snapshot)
    } else {
        Vec::new()
    };
    if plan.auto && configured.is_empty() {
        out.unread.push(
            "flow logs (auto): no flow-log configuration in the snapshot covers a NAT gateway's VPC, subnet or interface".into(),
        );
    }
    for c in &configured {
        match &c.destination {
            // Only that flow log's files: another one may deliver to the same folders.
            Destination::S3(l) => match locations
                .iter_mut()
                .find(|m| (&m.bucket, &m.prefix) == (&l.bucket, &l.prefix))
            {
                Some(m) => {
                    if let Some(ids) = m.only.as_mut() {
                        ids.insert(c.flow_log_id.clone());
                    }
                }
                None => locations.push(s3::Location {
                    only: Some([c.flow_log_id.clone()].into()),
                    ..l.clone()
                }),
            },
            Destination::Unreadable(why) => out
                .unread
                .push(format!("flow logs: {}: not read: {why}", c.label)),
            Destination::LogGroup(_) => {}
        }
    }
    let groups = insights::groups(snapshot, &configured, &plan.log_groups);
    let mut sources: Vec<Source> = plan.files.iter().cloned().map(Source::File).collect();
    if !plan.files.is_empty() {
        out.read_from
            .push(format!("{} local file(s)", plan.files.len()));
    }
    let remote_resolver = args
        .resolver_logs
        .iter()
        .any(|r| matches!(r, super::resolver::ResolverInput::S3(_)));
    let remote =
        if locations.is_empty() && groups.is_empty() && plan.athena.is_none() && !remote_resolver {
            None
        } else {
            match aws.get() {
                Ok(r) => Some(r),
                Err(e) => {
                    // The local files, and the rest of the report, still count.
                    out.unread.push(format!("flow logs in AWS: not read: {e}"));
                    None
                }
            }
        };
    let store = remote.map(s3::Store::new);
    if let (Some(store), false) = (&store, locations.is_empty()) {
        // Overlapping prefixes (or a prefix named twice) list an object more than once.
        let mut seen = std::collections::BTreeSet::new();
        sources.extend(
            list_s3(store, snapshot, &locations, &configured, out)
                .into_iter()
                .filter(|s| seen.insert(s.name())),
        );
    }
    let mut rows = match &remote {
        Some(remote) if !groups.is_empty() => query(remote, snapshot, &groups, verbose, out),
        _ => Vec::new(),
    };
    if let (Some(remote), Some(table)) = (&remote, &plan.athena) {
        rows.extend(query_athena(remote, snapshot, table, verbose, out));
    }
    if sources.is_empty() && rows.is_empty() {
        if let Some(store) = &store {
            out.calls.extend(store.calls());
        }
        for r in &out.read_from {
            eprintln!("flow logs: read {r}");
        }
        out.unread.push(
            "flow logs: no file, object or query row found to read, so no attribution".into(),
        );
        return Ok(());
    }
    let ranges = match &args.ip_ranges {
        Some(p) => super::ipranges::IpRanges::load(p)?,
        None => {
            let cache = crate::price::source::default_cache_dir()
                .parent()
                .map(|d| d.join("ip-ranges.json"))
                .unwrap_or_else(|| PathBuf::from("ip-ranges.json"));
            super::ipranges::cached_or_download(&cache)?
        }
    };
    let ranges = if args.resolver_logs.is_empty() {
        ranges
    } else {
        let (names, unread) = super::resolver::read_all(&args.resolver_logs, store.as_ref())?;
        out.unread.extend(unread);
        out.read_from.push(format!(
            "Route 53 Resolver query logs: {} file(s), {} queries, {} AWS address(es) named{}",
            names.files,
            names.queries,
            names.addresses(),
            if names.corrupt > 0 {
                format!(", {} line(s) not a query record skipped", names.corrupt)
            } else {
                String::new()
            }
        ));
        ranges.with_names(names)
    };
    let mut a = super::attribute_sources(snapshot, &sources, store.as_ref(), &rows, &ranges, true)?;
    a.read_from = std::mem::take(&mut out.read_from);
    let s = &a.stats;
    if s.corrupt_lines > 0 {
        crate::messages::warn(format_args!(
            "flow logs: {} corrupt line(s) skipped (e.g. {})",
            s.corrupt_lines,
            s.corrupt_examples.first().map(String::as_str).unwrap_or("")
        ));
    }
    // A file that cannot be read to its end (truncated, a bad gzip checksum, an I/O error)
    // counts for nothing: its traffic is missing, as an object S3 would not give.
    if let Some(first) = s.failed_files.first() {
        out.unread.push(format!(
            "flow logs: {} file(s) could not be read, none of their records counted, e.g. {first}",
            s.failed_files.len()
        ));
    }
    // An object S3 would not give (denied, a KMS key not allowed) is missing data, not a
    // corrupt file.
    if let Some(first) = s.failed_gets.first() {
        out.unread.push(format!(
            "flow logs: {} object(s) could not be fetched from S3, e.g. {first}",
            s.failed_gets.len()
        ));
    }
    if s.records == 0 {
        crate::messages::warn(format_args!(
            "flow logs: none of {} line(s) in {} file(s) is on a NAT gateway interface inside the window",
            s.lines, s.files
        ));
    }
    if let Some(store) = &store {
        out.calls.extend(store.calls());
    }
    a.api_calls = out.calls.clone();
    out.attribution = Some(a);
    Ok(())
}

/// The objects under the S3 locations; says what each held, or why it could not be listed.
fn list_s3(
    store: &s3::Store,
    snapshot: &Snapshot,
    locations: &[s3::Location],
    configured: &[configs::Configured],
    out: &mut Outcome,
) -> Vec<Source> {
    let listing = store.list(snapshot, locations);
    for l in &listing.locations {
        let used_by: Vec<&str> = configured
            .iter()
            .filter(|c| matches!(&c.destination, Destination::S3(d) if d.url() == l.url))
            .map(|c| c.label.as_str())
            .collect();
        let by = if used_by.is_empty() {
            String::new()
        } else {
            format!(" (for {})", used_by.join("; "))
        };
        for why in &l.errors {
            out.unread
                .push(format!("flow logs: {}{by}: not read: {why}", l.url));
        }
        if l.errors.is_empty() || l.objects > 0 {
            out.read_from.push(format!(
                "{}{by}: {} object(s), {:.1} MB",
                l.url,
                l.objects,
                l.bytes as f64 / 1e6
            ));
        }
    }
    listing.objects.into_iter().map(Source::Object).collect()
}

/// The rows Logs Insights aggregated for each log group; counts the calls.
fn query(
    remote: &Remote,
    snapshot: &Snapshot,
    groups: &[insights::Group],
    verbose: u8,
    out: &mut Outcome,
) -> Vec<super::Row> {
    let found = insights::run(remote, snapshot, groups);
    if verbose > 0 {
        for t in &found.texts {
            eprintln!("Logs Insights query, {t}");
        }
    }
    out.read_from.extend(found.read);
    out.unread
        .extend(found.unread.into_iter().map(|u| format!("flow logs: {u}")));
    for (action, n) in [
        ("logs:StartQuery", found.start_queries),
        ("logs:GetQueryResults", found.get_results),
    ] {
        if n > 0 {
            out.calls.insert(action.to_string(), n);
        }
    }
    found.rows
}

/// The rows Athena aggregated; counts the calls, states the bytes scanned and their cost.
fn query_athena(
    remote: &Remote,
    snapshot: &Snapshot,
    table: &athena::Table,
    verbose: u8,
    out: &mut Outcome,
) -> Vec<super::Row> {
    if verbose > 0 {
        if let Ok(sql) = athena::sql(snapshot, table) {
            eprintln!("Athena query, workgroup {}:\n{sql}", table.workgroup);
        }
    }
    let found = athena::run(remote, snapshot, table);
    let (calls, result) = found;
    for (action, n) in calls {
        if n > 0 {
            *out.calls.entry(action.to_string()).or_default() += n;
        }
    }
    match result {
        Ok(done) => {
            out.read_from.push(done.summary);
            done.rows
        }
        Err(e) => {
            out.unread.push(format!(
                "flow logs: Athena table {}: not read: {e:#}",
                table.name
            ));
            Vec::new()
        }
    }
}

/// Where flow-log calls go: the run's profile and endpoint, and the snapshot's first region with
/// NAT gateways to start in.
pub fn access<'a>(
    profile: Option<&'a str>,
    endpoint_url: Option<&'a str>,
    snapshot: &'a Snapshot,
) -> Access<'a> {
    Access {
        profile,
        endpoint_url,
        region: snapshot
            .regions
            .iter()
            .find(|r| !r.nat_gateways.is_empty())
            .map(|r| r.region.as_str()),
    }
}

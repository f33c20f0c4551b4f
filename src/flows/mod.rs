//! Who sends the bytes: NAT gateway traffic attributed from VPC Flow Logs, by destination
//! (ip-ranges.json, longest prefix) and by source (the functions behind each ENI).
//!
//! One connection through a NAT shows up on several ENIs; each byte is counted once:
//! destinations from the NAT ENI's outside leg (remote address outside the VPC), sources from
//! the NAT ENI's inside leg (client address inside the VPC).

pub mod athena;
pub mod configs;
pub mod inputs;
pub mod insights;
pub mod ipranges;
pub mod parquet;
pub mod parse;
pub mod remote;
pub mod s3;
#[cfg(any(test, feature = "synth"))]
pub mod synth;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use chrono::DateTime;
use rustc_hash::FxHashMap;

pub use crate::traffic::{
    Attribution, Destination, FlowStats, NatTraffic, SharedSplit, SplitShare, MEASURED_MIN_DAYS,
    MEASURED_MIN_SHARE,
};

use crate::snapshot::{LambdaFunction, RegionSnapshot, Snapshot};
use ipranges::IpRanges;
use parse::{Format, Line};

impl Destination {
    fn classify(ranges: &IpRanges, region: &str, ip: IpAddr) -> Destination {
        match ranges.lookup(ip) {
            None => Destination::Internet,
            Some(r) if r.region != region => Destination::AwsElsewhere,
            Some(r) => match r.service.as_str() {
                "S3" => Destination::S3,
                "DYNAMODB" => Destination::DynamoDb,
                other => Destination::AwsService(other.to_string()),
            },
        }
    }
}

/// What a shared ENI's bytes are split by.
pub const SPLIT_METHOD: &str =
    "estimated: each function's share of the functions' summed AWS/Lambda Duration over the window";

/// `bytes` split in proportion to `weights`, in whole bytes that add up to `bytes` exactly (the
/// remainder goes to the largest weight).
fn split(bytes: u64, weights: &[f64]) -> Vec<u64> {
    let total: f64 = weights.iter().sum();
    let mut out: Vec<u64> = weights
        .iter()
        .map(|w| (bytes as f64 * w / total).floor() as u64)
        .collect();
    let rest = bytes - out.iter().sum::<u64>().min(bytes);
    // max_by keeps the last of equals: reversed, that is the first.
    if let Some(i) = (0..weights.len())
        .rev()
        .max_by(|a, b| weights[*a].total_cmp(&weights[*b]))
    {
        out[i] += rest;
    }
    out
}

/// A NAT gateway's ENI as flow logs see it.
struct NatSide {
    region: usize,
    nat_gateway_id: String,
    ips: Vec<IpAddr>,
    vpc_cidrs: Vec<(u32, u32)>,
    /// The VPC's subnets: (network, mask, subnet id), to place a client.
    subnets: Vec<(u32, u32, String)>,
}

impl NatSide {
    fn subnet_of(&self, ip: IpAddr) -> Option<&str> {
        let IpAddr::V4(a) = ip else { return None };
        let a = u32::from(a);
        self.subnets
            .iter()
            .filter(|(net, mask, _)| a & mask == *net)
            .max_by_key(|(_, mask, _)| *mask)
            .map(|(_, _, id)| id.as_str())
    }

    fn in_vpc(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.vpc_cidrs.iter().any(|(net, mask)| a & mask == *net)
            }
            IpAddr::V6(_) => false,
        }
    }
}

/// Per region, the S3 and DynamoDB prefix lists the snapshot holds, as (network, mask,
/// destination): what a gateway endpoint would take, so they win over ip-ranges.json.
fn prefix_list_nets(snapshot: &Snapshot) -> Vec<Vec<(u32, u32, Destination)>> {
    snapshot
        .regions
        .iter()
        .map(|r| {
            r.prefix_lists
                .iter()
                .filter_map(|pl| {
                    let d = match pl.service() {
                        "s3" => Destination::S3,
                        "dynamodb" => Destination::DynamoDb,
                        _ => return None,
                    };
                    Some(
                        pl.cidrs
                            .iter()
                            .filter_map(move |c| cidr(c).map(|(net, mask)| (net, mask, d.clone()))),
                    )
                })
                .flatten()
                .collect()
        })
        .collect()
}

fn in_prefix_list(nets: &[(u32, u32, Destination)], ip: IpAddr) -> Option<Destination> {
    let IpAddr::V4(a) = ip else { return None };
    let a = u32::from(a);
    nets.iter()
        .find(|(net, mask, _)| a & mask == *net)
        .map(|(_, _, d)| d.clone())
}

#[cfg(test)]
mod split_tests {
    use super::*;

    /// One plain file read in ranges of a few KB (cut mid-line, on a line start, inside
    /// the header) counts every line exactly once, as the whole file does.
    #[test]
    fn byte_ranges_count_every_line_once() {
        let dir = std::env::temp_dir().join(format!("natcost-ranges-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let snapshot = Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
        let text = include_str!("../../tests/data/ip-ranges-fixture.json");
        let ranges = IpRanges::parse(text).unwrap();
        for custom in [false, true] {
            let opts = synth::Options {
                custom_format: custom,
                target_bytes: 200_000,
                files: 1,
                gzip: false,
                corrupt_lines: 3,
                seed: 11,
            };
            let out = dir.join(custom.to_string());
            let truth = synth::generate(&snapshot, &ranges, text, &out, &opts).unwrap();
            let files: Vec<Source> = truth.files.iter().cloned().map(Source::File).collect();
            let whole = attribute_in_ranges(&snapshot, &files, None, &[], &ranges, false, u64::MAX);
            let whole = serde_json::to_value(whole.unwrap()).unwrap();
            assert_eq!(whole["stats"]["corrupt_lines"], 3);
            for range in [7, 97, 4093, 65_536] {
                let cut = attribute_in_ranges(&snapshot, &files, None, &[], &ranges, false, range);
                let cut = serde_json::to_value(cut.unwrap()).unwrap();
                assert_eq!(cut["nats"], whole["nats"], "ranges of {range} bytes");
                for k in [
                    "files",
                    "bytes_read",
                    "lines",
                    "records",
                    "skipped",
                    "corrupt_lines",
                ] {
                    assert_eq!(
                        cut["stats"][k], whole["stats"][k],
                        "{k}, ranges of {range} bytes"
                    );
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_split_adds_up_to_the_byte() {
        assert_eq!(split(100, &[3.0, 1.0]), [75, 25]);
        assert_eq!(split(10, &[1.0, 1.0, 1.0]), [4, 3, 3]);
        assert_eq!(split(7, &[0.0, 2.0]), [0, 7]);
    }
}

fn cidr(s: &str) -> Option<(u32, u32)> {
    let (a, l) = s.split_once('/')?;
    let a: std::net::Ipv4Addr = a.parse().ok()?;
    let l: u32 = l.parse().ok().filter(|l| *l <= 32)?;
    let mask = if l == 0 { 0 } else { u32::MAX << (32 - l) };
    Some((u32::from(a) & mask, mask))
}

#[derive(Default)]
struct Partial {
    dest: FxHashMap<(usize, IpAddr), u64>,
    src: FxHashMap<(usize, IpAddr), u64>,
    pairs: FxHashMap<(usize, IpAddr, IpAddr), u64>,
    /// Per NAT side: the first and last record start (epoch seconds).
    span: FxHashMap<usize, (i64, i64)>,
    stats: FlowStats,
}

fn widen(span: &mut FxHashMap<usize, (i64, i64)>, n: usize, from: i64, to: i64) {
    let e = span.entry(n).or_insert((from, to));
    e.0 = e.0.min(from);
    e.1 = e.1.max(to);
}

impl Partial {
    fn merge(&mut self, o: Partial) {
        for (k, v) in o.dest {
            *self.dest.entry(k).or_default() += v;
        }
        for (k, v) in o.src {
            *self.src.entry(k).or_default() += v;
        }
        for (k, v) in o.pairs {
            *self.pairs.entry(k).or_default() += v;
        }
        for (n, (a, b)) in o.span {
            widen(&mut self.span, n, a, b);
        }
        let s = &mut self.stats;
        s.files += o.stats.files;
        s.bytes_read += o.stats.bytes_read;
        s.lines += o.stats.lines;
        s.records += o.stats.records;
        s.skipped += o.stats.skipped;
        s.outside_window += o.stats.outside_window;
        s.corrupt_lines += o.stats.corrupt_lines;
        s.corrupt_examples.extend(o.stats.corrupt_examples);
        s.failed_files.extend(o.stats.failed_files);
        s.failed_gets.extend(o.stats.failed_gets);
    }
}

/// The files named, and the `*.log` / `*.gz` files under the folders named, in a stable order.
pub fn list_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .with_context(|| format!("cannot read flow logs {}", p.display()))?;
        if meta.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                for e in
                    std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?
                {
                    let path = e?.path();
                    let name = path.file_name().unwrap_or_default().to_string_lossy();
                    if path.is_dir() {
                        stack.push(path);
                    } else if name.ends_with(".log")
                        || name.ends_with(".gz")
                        || name.ends_with(".parquet")
                    {
                        // As delivered to S3: *.log.gz (or plain *.log), or *.parquet; other
                        // files in a folder are not flow logs.
                        out.push(path);
                    }
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    Ok(out)
}

/// One `--flow-logs` value: a local file or folder, an S3 location, or `auto`.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Path(PathBuf),
    S3(s3::Location),
    /// A CloudWatch Logs group (`log-group:NAME`), queried with Logs Insights in each region of
    /// the snapshot with NAT gateways.
    LogGroup(String),
    /// The destinations of the snapshot's flow-log configurations on the NAT gateways.
    Auto,
}

impl Input {
    /// For clap: `auto`, `s3://BUCKET/PREFIX/`, `log-group:NAME`, else a path.
    pub fn parse(arg: &str) -> std::result::Result<Input, String> {
        if arg == "auto" {
            Ok(Input::Auto)
        } else if let Some(name) = arg.strip_prefix("log-group:") {
            if name.is_empty() {
                return Err("log-group: names no group (log-group:NAME)".into());
            }
            Ok(Input::LogGroup(name.to_string()))
        } else if arg.starts_with("s3://") {
            s3::Location::parse(arg)
                .map(Input::S3)
                .map_err(|e| e.to_string())
        } else if arg.is_empty() {
            Err("empty: give a file, a folder, s3://BUCKET/PREFIX/ or auto".into())
        } else {
            Ok(Input::Path(PathBuf::from(arg)))
        }
    }
}

/// One row aggregated in AWS (Logs Insights, Athena): the bytes of one interface, source and
/// destination (and the packet's own addresses when the format has them) over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub interface_id: String,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub pkt_src: Option<IpAddr>,
    pub pkt_dst: Option<IpAddr>,
    pub bytes: u64,
    pub records: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
}

/// Where flow-log lines come from: a local file, or an S3 object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Object(s3::Object),
}

impl Source {
    /// As messages name it: the path, or `s3://bucket/key`.
    pub fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Object(o) => o.url(),
        }
    }
}

/// Counts bytes as they are read, for progress, up to a budget (a byte range reads a little
/// past its end to finish its last line; the next range counts those bytes).
struct Counting<R> {
    inner: R,
    bar: indicatif::ProgressBar,
    budget: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let counted = (n as u64).min(self.budget);
        self.budget -= counted;
        self.bar.inc(counted);
        Ok(n)
    }
}

/// Plain files are split into byte ranges of about this size so that one large file uses every
/// core; a range reads the lines that start in it.
const RANGE_BYTES: u64 = 64 << 20;
/// Plain files smaller than this are read whole when they fit in one range.
const MIN_SPLIT: u64 = 8 << 20;
/// Parquet objects up to this size are fetched in one GET; larger ones by ranges, so memory
/// holds at most this much per stream ($NATCOST_PARQUET_WHOLE_MB, default 4).
fn parquet_whole() -> u64 {
    static WHOLE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *WHOLE.get_or_init(|| {
        std::env::var("NATCOST_PARQUET_WHOLE_MB")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(4)
            << 20
    })
}
/// A line longer than this is corrupt (flow-log lines are a few hundred bytes).
const MAX_LINE: usize = 1 << 20;

/// A piece of work: a whole file (gzip, or small), or the lines starting in `start..end` of a
/// plain file.
struct Unit {
    file: usize,
    start: u64,
    end: u64,
    /// A Parquet file (read by its footer, whole), as its first bytes or its key say.
    parquet: bool,
}

/// Cuts the files into units: gzip files whole (a stream cannot be entered midway), plain
/// files in ranges, at least one per worker when a file is large.
fn plan_units(sources: &[Source], workers: usize, range_bytes: u64) -> (Vec<Unit>, u64) {
    let mut units = Vec::new();
    let mut total = 0;
    for (i, source) in sources.iter().enumerate() {
        let path = match source {
            Source::File(p) => p,
            Source::Object(o) => {
                // Objects are streamed whole.
                total += o.size;
                units.push(Unit {
                    file: i,
                    start: 0,
                    end: u64::MAX,
                    parquet: o.key.ends_with(".parquet"),
                });
                continue;
            }
        };
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        total += size;
        let mut magic = [0u8; 4];
        let read = std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok();
        // gzip and Parquet are read whole.
        let is_parquet = read && &magic == parquet::MAGIC;
        let whole = is_parquet || (read && magic[..2] == [0x1f, 0x8b]);
        let pieces = if whole || size == 0 {
            1
        } else if size < MIN_SPLIT {
            size.div_ceil(range_bytes)
        } else {
            size.div_ceil(range_bytes).max(workers as u64)
        };
        let step = size.div_ceil(pieces).max(1);
        let mut start = 0;
        loop {
            let end = if pieces == 1 {
                u64::MAX
            } else {
                (start + step).min(size)
            };
            units.push(Unit {
                file: i,
                start,
                end,
                parquet: is_parquet,
            });
            if end >= size {
                break;
            }
            start = end;
        }
    }
    (units, total)
}

/// Reads plain or gzip flow-log files in parallel and attributes the NAT gateways' bytes.
pub fn attribute(
    snapshot: &Snapshot,
    files: &[PathBuf],
    ranges: &IpRanges,
    progress: bool,
) -> Result<Attribution> {
    let sources: Vec<Source> = files.iter().cloned().map(Source::File).collect();
    attribute_in_ranges(snapshot, &sources, None, &[], ranges, progress, RANGE_BYTES)
}

/// Reads local files and S3 objects (through `store`), adds rows aggregated by Logs Insights,
/// and attributes the NAT gateways' bytes.
pub fn attribute_sources(
    snapshot: &Snapshot,
    sources: &[Source],
    store: Option<&s3::Store<'_>>,
    rows: &[Row],
    ranges: &IpRanges,
    progress: bool,
) -> Result<Attribution> {
    attribute_in_ranges(
        snapshot,
        sources,
        store,
        rows,
        ranges,
        progress,
        RANGE_BYTES,
    )
}

fn attribute_in_ranges(
    snapshot: &Snapshot,
    files: &[Source],
    store: Option<&s3::Store<'_>>,
    rows: &[Row],
    ranges: &IpRanges,
    progress: bool,
    range_bytes: u64,
) -> Result<Attribution> {
    let mut sides = Vec::new();
    let mut by_eni: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
    for (ri, r) in snapshot.regions.iter().enumerate() {
        for nat in &r.nat_gateways {
            let vpc_cidrs = r
                .vpcs
                .iter()
                .filter(|v| v.vpc_id == nat.vpc_id)
                .flat_map(|v| v.cidr_blocks.iter().filter_map(|c| cidr(c)))
                .collect();
            let ips = nat
                .addresses
                .iter()
                .filter_map(|a| a.private_ip.as_deref()?.parse().ok())
                .collect();
            for eni in nat
                .addresses
                .iter()
                .filter_map(|a| a.network_interface_id.as_deref())
            {
                by_eni.insert(eni.as_bytes().to_vec(), sides.len());
            }
            let subnets = r
                .subnets
                .iter()
                .filter(|s| s.vpc_id == nat.vpc_id)
                .filter_map(|s| {
                    let (net, mask) = cidr(s.cidr_block.as_deref()?)?;
                    Some((net, mask, s.subnet_id.clone()))
                })
                .collect();
            sides.push(NatSide {
                region: ri,
                nat_gateway_id: nat.nat_gateway_id.clone(),
                ips,
                vpc_cidrs,
                subnets,
            });
        }
    }
    if by_eni.is_empty() {
        bail!("the snapshot names no NAT gateway network interface: nothing to attribute");
    }
    let window = (
        snapshot.window.start.timestamp(),
        snapshot.window.end.timestamp(),
    );
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let (units, total) = plan_units(files, cores, range_bytes);
    let bar = if progress && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new(total).with_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} flow logs",
            )
            .expect("valid template"),
        )
    } else {
        indicatif::ProgressBar::hidden()
    };
    let next = AtomicUsize::new(0);
    let merged = Mutex::new(Partial::default());
    // Objects wait on the network: more streams than cores keep the cores busy.
    let wanted = if store.is_some() && files.iter().any(|s| matches!(s, Source::Object(_))) {
        cores.max(s3::CONCURRENCY)
    } else {
        cores
    };
    let workers = wanted.min(units.len().max(1));
    let scan = Scan {
        by_eni: &by_eni,
        sides: &sides,
        window,
        store,
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut part = Partial::default();
                let mut buf = vec![0u8; MAX_LINE];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(unit) = units.get(i) else { break };
                    let source = &files[unit.file];
                    if unit.start == 0 {
                        part.stats.files += 1;
                    }
                    if let Err(e) = scan.unit(source, unit, &bar, &mut part, &mut buf) {
                        part.stats
                            .failed_files
                            .push(format!("{}: {e:#}", source.name()));
                    }
                }
                merged.lock().unwrap().merge(part);
            });
        }
    });
    bar.finish_and_clear();
    let mut part = merged.into_inner().unwrap();
    for row in rows {
        let records = row.records.max(1);
        part.stats.lines += records;
        let rec = parse::Record {
            interface_id: row.interface_id.as_bytes(),
            src: row.src,
            dst: row.dst,
            pkt_src: row.pkt_src,
            pkt_dst: row.pkt_dst,
            bytes: row.bytes,
            start: None,
        };
        let span = row.first.map(|a| (a, row.last.unwrap_or(a)));
        scan.count(&rec, records, span, &mut part);
    }
    Ok(finish(snapshot, sides, part, ranges))
}

/// What every unit needs to count a record.
struct Scan<'a> {
    by_eni: &'a FxHashMap<Vec<u8>, usize>,
    sides: &'a [NatSide],
    window: (i64, i64),
    store: Option<&'a s3::Store<'a>>,
}

impl Scan<'_> {
    fn unit(
        &self,
        source: &Source,
        unit: &Unit,
        bar: &indicatif::ProgressBar,
        part: &mut Partial,
        buf: &mut [u8],
    ) -> Result<()> {
        let name = source.name();
        let path = match source {
            Source::File(p) => p,
            Source::Object(o) => {
                let store = self.store.context("no S3 access to read it with")?;
                part.stats.bytes_read += o.size;
                if unit.parquet && o.size > parquet_whole() {
                    // Parquet is read from its end (the footer), then column chunk by chunk.
                    bar.inc(o.size);
                    return self.parquet(store.ranged(o), part);
                }
                let mut body = match store.open(o) {
                    Ok(b) => b,
                    Err(e) => {
                        part.stats.failed_gets.push(format!("{name}: {e:#}"));
                        return Ok(());
                    }
                };
                if unit.parquet {
                    // A small one in one GET, held whole.
                    let mut all = Vec::with_capacity(o.size as usize);
                    body.read_to_end(&mut all).context("read failed")?;
                    bar.inc(o.size);
                    return self.parquet(bytes::Bytes::from(all), part);
                }
                return self.read(unit, &name, body, None, false, bar, part, buf);
            }
        };
        let mut file = std::fs::File::open(path).context("cannot open")?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if unit.parquet {
            part.stats.bytes_read += size;
            bar.inc(size);
            return self.parquet(file, part);
        }
        let whole = unit.end == u64::MAX;
        let mut format = None;
        let mut skip_first = false;
        if !whole {
            part.stats.bytes_read += unit.end - unit.start;
            if unit.start > 0 {
                // The range's format is the file's: read its first line. Only the first
                // range reports a file whose format is unknown.
                let mut first = Vec::new();
                BufReader::new(&mut file)
                    .take(MAX_LINE as u64)
                    .read_until(b'\n', &mut first)?;
                let text = first.strip_suffix(b"\n").unwrap_or(&first);
                let Ok((f, _)) = Format::detect(text.strip_suffix(b"\r").unwrap_or(text)) else {
                    return Ok(());
                };
                format = Some(f);
                // From the byte before the range: the line that byte ends is the previous
                // range's, so a line starting exactly at `start` is read here.
                file.seek(SeekFrom::Start(unit.start - 1))?;
                skip_first = true;
            }
        } else {
            part.stats.bytes_read += size;
        }
        self.read(unit, &name, file, format, skip_first, bar, part, buf)
    }

    /// Counts every row of a Parquet file.
    fn parquet<R: ::parquet::file::reader::ChunkReader + 'static>(
        &self,
        reader: R,
        part: &mut Partial,
    ) -> Result<()> {
        parquet::for_each(reader, |row| {
            part.stats.lines += 1;
            match row {
                parquet::Row::Record(rec) => self.count(&rec, 1, None, part),
                parquet::Row::Skip => part.stats.skipped += 1,
            }
        })?;
        Ok(())
    }

    /// Reads a unit's lines from `input` (positioned at the unit's start, or the byte before
    /// it when `skip_first`).
    #[allow(clippy::too_many_arguments)]
    fn read(
        &self,
        unit: &Unit,
        name: &str,
        input: impl Read,
        format: Option<Format>,
        mut skip_first: bool,
        bar: &indicatif::ProgressBar,
        part: &mut Partial,
        buf: &mut [u8],
    ) -> Result<()> {
        let whole = unit.end == u64::MAX;
        let budget = if whole {
            u64::MAX
        } else {
            unit.end - unit.start
        };
        let mut raw = BufReader::with_capacity(
            1 << 16,
            Counting {
                inner: input,
                bar: bar.clone(),
                budget,
            },
        );
        let gzip = whole && raw.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let mut reader: Box<dyn Read> = if gzip {
            Box::new(flate2::bufread::MultiGzDecoder::new(raw))
        } else {
            Box::new(raw)
        };
        let base = if unit.start > 0 { unit.start - 1 } else { 0 };
        let mut lines = LineState {
            name,
            format,
            number: (unit.start == 0).then_some(0),
            fields: Vec::with_capacity(32),
        };
        let mut filled = 0;
        let mut buf_offset = base;
        let mut too_long = false;
        loop {
            let n = reader
                .read(&mut buf[filled..])
                .context("read failed (truncated or corrupt?)")?;
            filled += n;
            let mut at = 0;
            while let Some(nl) = memchr::memchr(b'\n', &buf[at..filled]) {
                let line = &buf[at..at + nl];
                let offset = buf_offset + at as u64;
                at += nl + 1;
                if std::mem::take(&mut skip_first) || std::mem::take(&mut too_long) {
                    continue;
                }
                if offset >= unit.end {
                    return Ok(());
                }
                self.line(&mut lines, line, offset, part)?;
            }
            if n == 0 {
                if at < filled && !skip_first && !too_long && buf_offset + (at as u64) < unit.end {
                    let offset = buf_offset + at as u64;
                    self.line(&mut lines, &buf[at..filled], offset, part)?;
                }
                return Ok(());
            }
            buf.copy_within(at..filled, 0);
            buf_offset += at as u64;
            filled -= at;
            if filled == buf.len() {
                // No newline in a whole buffer: not a flow-log line. Drop it up to its end.
                if !skip_first && !too_long && buf_offset < unit.end {
                    lines.corrupt(part, buf_offset, "line longer than 1 MiB");
                }
                too_long = !skip_first;
                buf_offset += filled as u64;
                filled = 0;
            }
        }
    }

    /// One line; `offset` is where it starts in the file (for files read whole, of the text).
    fn line(&self, st: &mut LineState, line: &[u8], offset: u64, part: &mut Partial) -> Result<()> {
        if let Some(n) = st.number.as_mut() {
            *n += 1;
        }
        let text = line.strip_suffix(b"\r").unwrap_or(line);
        if text.is_empty() {
            return Ok(());
        }
        let fmt = match &st.format {
            Some(f) => f,
            None => {
                let (f, header) = Format::detect(text)?;
                st.format = Some(f);
                if header {
                    return Ok(());
                }
                st.format.as_ref().unwrap()
            }
        };
        part.stats.lines += 1;
        let rec = match fmt.parse(text, &mut st.fields) {
            Line::Record(r) => r,
            Line::Skip => {
                part.stats.skipped += 1;
                return Ok(());
            }
            Line::Corrupt(why) => {
                let place = match st.number {
                    Some(n) => format!("{}:{n}", st.name),
                    None => format!("{} (byte {offset})", st.name),
                };
                part.stats.corrupt_lines += 1;
                if part.stats.corrupt_examples.len() < 5 {
                    part.stats.corrupt_examples.push(format!("{place}: {why}"));
                }
                return Ok(());
            }
        };
        self.count(&rec, 1, None, part);
        Ok(())
    }

    /// Counts one record, or `records` aggregated ones (already inside the window) whose starts
    /// span `span`.
    fn count(
        &self,
        rec: &parse::Record,
        records: u64,
        span: Option<(i64, i64)>,
        part: &mut Partial,
    ) {
        let Some(&n) = self.by_eni.get(rec.interface_id) else {
            part.stats.skipped += records;
            return;
        };
        if rec
            .start
            .is_some_and(|s| s < self.window.0 || s >= self.window.1)
        {
            part.stats.outside_window += records;
            part.stats.skipped += records;
            return;
        }
        let side = &self.sides[n];
        let src_is_nat = side.ips.contains(&rec.src);
        let dst_is_nat = side.ips.contains(&rec.dst);
        part.stats.records += records;
        if let Some((a, b)) = span.or(rec.start.map(|t| (t, t))) {
            widen(&mut part.span, n, a, b);
        }
        match (src_is_nat, dst_is_nat) {
            // Outside leg: the remote end is outside the VPC.
            (true, false) if !side.in_vpc(rec.dst) => {
                *part.dest.entry((n, rec.dst)).or_default() += rec.bytes
            }
            (false, true) if !side.in_vpc(rec.src) => {
                *part.dest.entry((n, rec.src)).or_default() += rec.bytes
            }
            // Inside leg: the client is in the VPC.
            (false, true) => {
                *part.src.entry((n, rec.src)).or_default() += rec.bytes;
                if let Some(remote) = rec.pkt_dst.filter(|d| !side.ips.contains(d)) {
                    *part.pairs.entry((n, rec.src, remote)).or_default() += rec.bytes;
                }
            }
            (true, false) => {
                *part.src.entry((n, rec.dst)).or_default() += rec.bytes;
                if let Some(remote) = rec.pkt_src.filter(|d| !side.ips.contains(d)) {
                    *part.pairs.entry((n, rec.dst, remote)).or_default() += rec.bytes;
                }
            }
            _ => {
                part.stats.records -= records;
                part.stats.skipped += records;
            }
        }
    }
}

/// Where a unit is in its file's lines.
struct LineState<'a> {
    name: &'a str,
    format: Option<Format>,
    /// The line number, when the unit starts at the top of the file.
    number: Option<u64>,
    fields: parse::Spans,
}

impl LineState<'_> {
    fn corrupt(&self, part: &mut Partial, offset: u64, why: &str) {
        part.stats.corrupt_lines += 1;
        if part.stats.corrupt_examples.len() < 5 {
            part.stats
                .corrupt_examples
                .push(format!("{} (byte {offset}): {why}", self.name));
        }
    }
}

/// Names the owner of a client address: the Lambda functions behind its ENI, or the ENI.
struct Owners {
    by_ip: HashMap<IpAddr, String>,
    /// Why an address's label names several functions (shared Lambda ENIs not split).
    ambiguous: HashMap<IpAddr, String>,
    /// Shared Lambda ENIs whose functions' Durations are known: ENI id, (function, ms).
    shared: HashMap<IpAddr, (String, Vec<(String, f64)>)>,
}

impl Owners {
    fn new(r: &RegionSnapshot) -> Owners {
        let mut by_ip = HashMap::new();
        let mut ambiguous = HashMap::new();
        let mut shared = HashMap::new();
        for e in &r.network_interfaces {
            let Some(ip) = e
                .private_ip_address
                .as_deref()
                .and_then(|i| i.parse::<IpAddr>().ok())
            else {
                continue;
            };
            let label = if e.interface_type.eq_ignore_ascii_case("lambda") {
                // Lambda shares an ENI between every function with the same subnet and
                // security groups, and its description names only the one that made it: the
                // grouping decides, the description only when the grouping finds nobody.
                let mut sgs = e.security_group_ids.clone();
                sgs.sort();
                let fns: Vec<&LambdaFunction> = r
                    .lambda_functions
                    .iter()
                    .filter(|f| {
                        f.vpc_config.as_ref().is_some_and(|c| {
                            let mut s = c.security_group_ids.clone();
                            s.sort();
                            c.subnet_ids.contains(&e.subnet_id) && s == sgs
                        })
                    })
                    .collect();
                match fns.len() {
                    0 => {
                        let desc = e.description.as_deref().unwrap_or_default();
                        r.lambda_functions
                            .iter()
                            .filter(|f| {
                                let p = format!("AWS Lambda VPC ENI-{}", f.function_name);
                                desc == p || desc.starts_with(&format!("{p}-"))
                            })
                            .max_by_key(|f| f.function_name.len())
                            .map(|f| f.function_name.clone())
                            .unwrap_or_else(|| format!("Lambda ENI {}", e.network_interface_id))
                    }
                    1 => fns[0].function_name.clone(),
                    _ => {
                        let names: Vec<&str> =
                            fns.iter().map(|f| f.function_name.as_str()).collect();
                        let label = format!("{} (shared ENI)", names.join(" + "));
                        let durations: Option<Vec<f64>> =
                            fns.iter().map(|f| f.duration_ms).collect();
                        match durations.filter(|d| d.iter().sum::<f64>() > 0.0) {
                            Some(d) => {
                                shared.insert(
                                    ip,
                                    (
                                        e.network_interface_id.clone(),
                                        names.iter().map(|n| n.to_string()).zip(d).collect(),
                                    ),
                                );
                            }
                            None => {
                                ambiguous.insert(
                                    ip,
                                    format!(
                                        "{} is shared by {}: without their Lambda Duration its bytes cannot be split between them",
                                        e.network_interface_id,
                                        names.join(" + ")
                                    ),
                                );
                            }
                        }
                        label
                    }
                }
            } else {
                let subnet = r
                    .subnets
                    .iter()
                    .find(|s| s.subnet_id == e.subnet_id)
                    .and_then(|s| s.tags.get("Name"))
                    .unwrap_or(&e.subnet_id);
                format!("other ENIs in {subnet}")
            };
            by_ip.insert(ip, label);
        }
        Owners {
            by_ip,
            ambiguous,
            shared,
        }
    }

    fn name(&self, ip: IpAddr) -> String {
        self.by_ip
            .get(&ip)
            .cloned()
            .unwrap_or_else(|| format!("{ip} (unknown interface)"))
    }
}

fn finish(
    snapshot: &Snapshot,
    sides: Vec<NatSide>,
    part: Partial,
    ranges: &IpRanges,
) -> Attribution {
    let owners: Vec<Owners> = snapshot.regions.iter().map(Owners::new).collect();
    let mut nats: Vec<NatTraffic> = sides
        .iter()
        .map(|s| NatTraffic {
            region: snapshot.regions[s.region].region.clone(),
            nat_gateway_id: s.nat_gateway_id.clone(),
            destination_bytes: 0,
            destinations: BTreeMap::new(),
            source_bytes: 0,
            sources: Vec::new(),
            pairs: Vec::new(),
            first_seen: None,
            last_seen: None,
            source_subnets: BTreeMap::new(),
            shared_splits: Vec::new(),
        })
        .collect();
    for (n, (a, b)) in &part.span {
        nats[*n].first_seen = DateTime::from_timestamp(*a, 0);
        nats[*n].last_seen = DateTime::from_timestamp(*b, 0);
    }
    let gateway_lists = prefix_list_nets(snapshot);
    let mut class_cache: HashMap<(usize, IpAddr), Destination> = HashMap::new();
    let mut classify = |n: usize, ip: IpAddr| {
        let ri = sides[n].region;
        let region = &snapshot.regions[ri].region;
        class_cache
            .entry((ri, ip))
            .or_insert_with(|| {
                in_prefix_list(&gateway_lists[ri], ip)
                    .unwrap_or_else(|| Destination::classify(ranges, region, ip))
            })
            .clone()
    };
    for ((n, ip), bytes) in part.dest {
        let d = classify(n, ip);
        nats[n].destination_bytes += bytes;
        *nats[n].destinations.entry(d).or_default() += bytes;
    }
    let mut sources: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); nats.len()];
    // Only the shared ENIs that actually sent traffic are worth a note.
    let mut ambiguous: Vec<String> = Vec::new();
    for ((n, ip), bytes) in part.src {
        nats[n].source_bytes += bytes;
        if let Some(subnet) = sides[n].subnet_of(ip) {
            *nats[n]
                .source_subnets
                .entry(subnet.to_string())
                .or_default() += bytes;
        }
        let owner = &owners[sides[n].region];
        ambiguous.extend(owner.ambiguous.get(&ip).cloned());
        match owner.shared.get(&ip) {
            Some((eni, fns)) => {
                let weights: Vec<f64> = fns.iter().map(|(_, d)| *d).collect();
                let total: f64 = weights.iter().sum();
                let parts = split(bytes, &weights);
                let mut shares = Vec::new();
                for ((name, ms), b) in fns.iter().zip(parts) {
                    *sources[n]
                        .entry(format!("{name} (est., shared ENI)"))
                        .or_default() += b;
                    shares.push(SplitShare {
                        function_name: name.clone(),
                        duration_ms: *ms,
                        share: ms / total,
                        bytes: b,
                    });
                }
                nats[n].shared_splits.push(SharedSplit {
                    network_interface_id: eni.clone(),
                    bytes,
                    method: SPLIT_METHOD,
                    functions: shares,
                });
            }
            None => *sources[n].entry(owner.name(ip)).or_default() += bytes,
        }
    }
    let mut pairs: Vec<BTreeMap<(String, Destination), u64>> = vec![BTreeMap::new(); nats.len()];
    for ((n, client, remote), bytes) in part.pairs {
        let key = (owners[sides[n].region].name(client), classify(n, remote));
        *pairs[n].entry(key).or_default() += bytes;
    }
    for (i, nat) in nats.iter_mut().enumerate() {
        let mut s: Vec<(String, u64)> = std::mem::take(&mut sources[i]).into_iter().collect();
        s.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        nat.sources = s;
        let mut p: Vec<(String, Destination, u64)> = std::mem::take(&mut pairs[i])
            .into_iter()
            .map(|((s, d), b)| (s, d, b))
            .collect();
        p.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        nat.pairs = p;
    }
    nats.retain(|n| n.destination_bytes > 0 || n.source_bytes > 0);
    ambiguous.sort();
    ambiguous.dedup();
    let mut stats = part.stats;
    stats.corrupt_examples.sort();
    stats.corrupt_examples.truncate(5);
    stats.failed_files.sort();
    stats.failed_gets.sort();
    Attribution {
        nats,
        stats,
        ambiguous,
        ip_ranges: format!(
            "ip-ranges.json of {} (syncToken {})",
            ranges.create_date, ranges.sync_token
        ),
        read_from: Vec::new(),
        api_calls: BTreeMap::new(),
    }
}

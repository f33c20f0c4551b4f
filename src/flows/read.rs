//! Reading flow logs in parallel: local files and S3 objects cut into units of work (gzip and
//! Parquet whole, plain files in byte ranges so that one large file uses every core), each
//! line parsed and its record counted into the tallies.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};

use super::files::Source;
use super::parse::{self, Format, Line};
use super::scan::{Partial, Scan};
use super::{parquet, s3};

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
pub(super) const RANGE_BYTES: u64 = 64 << 20;
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
        let is_parquet = read && &magic == crate::parquet_columns::MAGIC;
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

/// Reads the sources in parallel, through `store` for S3 objects, and tallies their records.
pub(super) fn read_all(
    scan: &Scan,
    files: &[Source],
    store: Option<&s3::Store<'_>>,
    progress: bool,
    range_bytes: u64,
) -> Partial {
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
    let reader = Reader { scan, store };
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
                    // Counted apart, then added whole: a unit that fails part way (a bad gzip
                    // checksum is only seen at the end) counts none of its records.
                    let mut counted = Partial::default();
                    match reader.unit(source, unit, &bar, &mut counted, &mut buf) {
                        Ok(()) => part.merge(counted),
                        Err(e) => {
                            part.stats.bytes_read += counted.stats.bytes_read;
                            part.stats
                                .failed_files
                                .push(format!("{}: {e:#}", source.name()));
                        }
                    }
                }
                merged.lock().unwrap().merge(part);
            });
        }
    });
    bar.finish_and_clear();
    merged.into_inner().unwrap()
}

/// What every unit needs to read its records and count them.
struct Reader<'a> {
    scan: &'a Scan,
    store: Option<&'a s3::Store<'a>>,
}

impl Reader<'_> {
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
                parquet::Row::Record(rec) => self.scan.count(&rec, 1, None, true, part),
                parquet::Row::Skip => part.stats.skipped += 1,
                parquet::Row::Corrupt(why) => {
                    part.stats.corrupt_lines += 1;
                    if part.stats.corrupt_examples.len() < 5 {
                        let row = part.stats.lines;
                        part.stats
                            .corrupt_examples
                            .push(format!("Parquet row {row}: {why}"));
                    }
                }
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
        self.scan.count(&rec, 1, None, true, part);
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::attribute::attribute_in_ranges;
    use crate::flows::{ipranges::IpRanges, synth};
    use crate::snapshot::Snapshot;

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
}

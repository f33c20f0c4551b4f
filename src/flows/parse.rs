//! VPC Flow Log lines: the default version-2 format, or any custom format whose first line
//! names the fields (as AWS writes them to S3).

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{bail, Result};

/// The default (version 2) fields, in order.
pub const DEFAULT_FIELDS: &[&str] = &[
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// Where the fields natcost reads sit in a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Format {
    pub width: usize,
    interface_id: usize,
    srcaddr: usize,
    dstaddr: usize,
    bytes: usize,
    start: Option<usize>,
    end: Option<usize>,
    action: Option<usize>,
    log_status: Option<usize>,
    pkt_srcaddr: Option<usize>,
    pkt_dstaddr: Option<usize>,
}

impl Format {
    pub fn from_fields<S: AsRef<str>>(fields: &[S]) -> Result<Format> {
        let pos = |name: &str| fields.iter().position(|f| f.as_ref() == name);
        let need = |name: &str| match pos(name) {
            Some(i) => Ok(i),
            None => bail!("the flow-log format has no {name} field"),
        };
        Ok(Format {
            width: fields.len(),
            interface_id: need("interface-id")?,
            srcaddr: need("srcaddr")?,
            dstaddr: need("dstaddr")?,
            bytes: need("bytes")?,
            start: pos("start"),
            end: pos("end"),
            action: pos("action"),
            log_status: pos("log-status"),
            pkt_srcaddr: pos("pkt-srcaddr"),
            pkt_dstaddr: pos("pkt-dstaddr"),
        })
    }

    pub fn default_v2() -> Format {
        Format::from_fields(DEFAULT_FIELDS).expect("the default format has every field")
    }

    /// The format of a file from its first line: a header names the fields; a record (first
    /// field a number) means the default format. Returns whether the line was a header.
    pub fn detect(first_line: &[u8]) -> Result<(Format, bool)> {
        let first = first_line.split(|b| *b == b' ').next().unwrap_or_default();
        if !first.is_empty() && first.iter().all(u8::is_ascii_digit) {
            return Ok((Format::default_v2(), false));
        }
        let text = std::str::from_utf8(first_line)
            .map_err(|_| anyhow::anyhow!("the header line is not text"))?;
        let fields: Vec<&str> = text
            .split_whitespace()
            .map(|f| f.trim_start_matches("${").trim_end_matches('}'))
            .collect();
        Ok((Format::from_fields(&fields)?, true))
    }
}

/// One accepted record with data, reduced to what attribution needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record<'a> {
    pub interface_id: &'a [u8],
    pub src: IpAddr,
    pub dst: IpAddr,
    pub pkt_src: Option<IpAddr>,
    pub pkt_dst: Option<IpAddr>,
    pub bytes: u64,
    pub start: Option<i64>,
}

#[derive(Debug, PartialEq)]
pub enum Line<'a> {
    Record(Record<'a>),
    /// NODATA / SKIPDATA, REJECT, or a record without addresses: valid, but nothing to count.
    Skip,
    /// Not a flow-log line of this format.
    Corrupt(&'static str),
}

/// Dotted IPv4 straight from bytes (the common case), else any IP address.
pub fn parse_ip(s: &[u8]) -> Option<IpAddr> {
    let mut parts = [0u32; 4];
    let mut i = 0;
    let mut digits = 0;
    for &b in s {
        match b {
            b'0'..=b'9' => {
                parts[i] = parts[i] * 10 + (b - b'0') as u32;
                digits += 1;
                if digits > 3 {
                    return parse_slow(s);
                }
            }
            b'.' if digits > 0 && i < 3 => {
                i += 1;
                digits = 0;
            }
            _ => return parse_slow(s),
        }
    }
    if i != 3 || digits == 0 || parts.iter().any(|p| *p > 255) {
        return parse_slow(s);
    }
    Some(IpAddr::V4(Ipv4Addr::new(
        parts[0] as u8,
        parts[1] as u8,
        parts[2] as u8,
        parts[3] as u8,
    )))
}

fn parse_slow(s: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (b - b'0') as u64;
    }
    Some(n)
}

/// Start and end of each space-separated field of a line, reused from line to line.
pub type Spans = Vec<(usize, usize)>;

fn split(line: &[u8], spans: &mut Spans) {
    spans.clear();
    // AWS separates fields with one space. Find the spaces eight bytes at a time (SWAR), and
    // fall back to the general split only when that finds an empty field.
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut start = 0;
    let mut push = |i: usize, spans: &mut Spans| {
        if i == start {
            return false;
        }
        spans.push((start, i));
        start = i + 1;
        true
    };
    let chunks = line.chunks_exact(8);
    let rest = chunks.remainder();
    for (k, c) in chunks.enumerate() {
        let x = u64::from_le_bytes(c.try_into().expect("8 bytes")) ^ 0x2020_2020_2020_2020;
        // The high bit of each byte of x that is zero, i.e. of each space, exactly.
        let mut spaces = !(((x & LOW7) + LOW7) | x | LOW7);
        while spaces != 0 {
            let i = k * 8 + (spaces.trailing_zeros() / 8) as usize;
            if !push(i, spans) {
                return split_any(line, spans);
            }
            spaces &= spaces - 1;
        }
    }
    let base = line.len() - rest.len();
    for (j, &b) in rest.iter().enumerate() {
        if b == b' ' && !push(base + j, spans) {
            return split_any(line, spans);
        }
    }
    if start == line.len() && start > 0 {
        return split_any(line, spans);
    }
    spans.push((start, line.len()));
}

/// Fields separated by runs of spaces.
fn split_any(line: &[u8], spans: &mut Spans) {
    spans.clear();
    let mut start = None;
    for (i, &b) in line.iter().enumerate() {
        match (b == b' ', start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, line.len()));
    }
}

impl Format {
    pub fn parse<'a>(&self, line: &'a [u8], spans: &mut Spans) -> Line<'a> {
        split(line, spans);
        if spans.len() != self.width {
            return Line::Corrupt("wrong number of fields");
        }
        let field = |i: usize| &line[spans[i].0..spans[i].1];
        if let Some(i) = self.log_status {
            if field(i) != b"OK" {
                return if matches!(field(i), b"NODATA" | b"SKIPDATA") {
                    Line::Skip
                } else {
                    Line::Corrupt("unknown log-status")
                };
            }
        }
        if let Some(i) = self.action {
            match field(i) {
                b"ACCEPT" => {}
                b"REJECT" | b"-" => return Line::Skip,
                _ => return Line::Corrupt("unknown action"),
            }
        }
        let (src, dst, bytes) = (field(self.srcaddr), field(self.dstaddr), field(self.bytes));
        if src == b"-" || dst == b"-" || bytes == b"-" {
            return Line::Skip;
        }
        let (Some(src), Some(dst)) = (parse_ip(src), parse_ip(dst)) else {
            return Line::Corrupt("bad address");
        };
        let Some(bytes) = parse_u64(bytes) else {
            return Line::Corrupt("bad byte count");
        };
        let start = self.start.and_then(|i| parse_u64(field(i)));
        let end = self.end.and_then(|i| parse_u64(field(i)));
        if bytes > most_bytes(start, end) {
            return Line::Corrupt("more bytes than a NAT gateway carries in the record's interval");
        }
        let optional_ip = |i: Option<usize>| i.and_then(|i| parse_ip(field(i)));
        Line::Record(Record {
            interface_id: field(self.interface_id),
            src,
            dst,
            pkt_src: optional_ip(self.pkt_srcaddr),
            pkt_dst: optional_ip(self.pkt_dstaddr),
            bytes,
            start: start.map(|v| v as i64),
        })
    }
}

/// The most bytes one record can hold: a NAT gateway carries at most 100 Gbps (12.5 GB/s), over
/// the record's start to end: 10 minutes (the longest aggregation interval) unless its own
/// times say longer, and an hour at most (a record spans one capture window, never more).
pub(super) fn most_bytes(start: Option<u64>, end: Option<u64>) -> u64 {
    const BYTES_PER_SECOND: u64 = 12_500_000_000;
    let seconds = match (start, end) {
        (Some(s), Some(e)) => e.saturating_sub(s).clamp(600, 3600),
        _ => 600,
    };
    BYTES_PER_SECOND.saturating_mul(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<'a>(f: &Format, line: &'a str) -> Line<'a> {
        let mut v = Vec::new();
        f.parse(line.as_bytes(), &mut v)
    }

    #[test]
    fn default_format_records() {
        let (f, header) = Format::detect(b"2 123456789012 eni-0a1 10.0.1.5 52.92.1.2 443 49152 6 10 5000 1761955200 1761955260 ACCEPT OK").unwrap();
        assert!(!header);
        let Line::Record(r) = parse(&f, "2 123456789012 eni-0a1 10.0.1.5 52.92.1.2 443 49152 6 10 5000 1761955200 1761955260 ACCEPT OK") else {
            panic!()
        };
        assert_eq!(r.interface_id, b"eni-0a1");
        assert_eq!(r.src.to_string(), "10.0.1.5");
        assert_eq!(r.bytes, 5000);
        assert_eq!(r.start, Some(1761955200));
        assert_eq!(
            parse(
                &f,
                "2 123456789012 eni-0a1 - - - - - - - 1761955200 1761955260 - NODATA"
            ),
            Line::Skip
        );
        assert_eq!(
            parse(
                &f,
                "2 123456789012 eni-0a1 10.0.1.5 52.92.1.2 443 49152 6 10 5000 1 2 REJECT OK"
            ),
            Line::Skip
        );
        assert_eq!(
            parse(&f, "2 123456789012 eni-0a1 10.0.1.5"),
            Line::Corrupt("wrong number of fields")
        );
        assert_eq!(
            parse(
                &f,
                "2 1 eni-0a1 10.0.1.999 52.92.1.2 443 49152 6 10 5000 1 2 ACCEPT OK"
            ),
            Line::Corrupt("bad address")
        );
        assert_eq!(
            parse(
                &f,
                "2 1 eni-0a1 10.0.1.9 52.92.1.2 443 49152 6 10 5x00 1 2 ACCEPT OK"
            ),
            Line::Corrupt("bad byte count")
        );
        // 100 Gbps for the 60 s the record covers, or for 10 minutes: any more is not a record.
        let at = |bytes: u64, start: u64, end: u64| {
            let line = format!(
                "2 1 eni-0a1 10.0.1.9 52.92.1.2 443 49152 6 10 {bytes} {start} {end} ACCEPT OK"
            );
            match parse(&f, &line) {
                Line::Record(r) => Ok(r.bytes),
                Line::Corrupt(why) => Err(why),
                Line::Skip => Err("skipped"),
            }
        };
        let implausible = Err("more bytes than a NAT gateway carries in the record's interval");
        assert_eq!(
            at(7_500_000_000_000, 1761955200, 1761955260),
            Ok(7_500_000_000_000)
        );
        assert_eq!(at(7_500_000_000_001, 1761955200, 1761955260), implausible);
        assert_eq!(
            at(9_999_999_999_999_999_999, 1761955200, 1761955260),
            implausible
        );
        assert_eq!(
            at(15_000_000_000_000, 1761955200, 1761956400),
            Ok(15_000_000_000_000)
        );
    }

    #[test]
    fn custom_format_from_the_header() {
        let (f, header) = Format::detect(b"version interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr bytes flow-direction traffic-path pkt-dst-aws-service").unwrap();
        assert!(header);
        assert!(f.pkt_srcaddr.is_some() && f.pkt_dstaddr.is_some());
        let Line::Record(r) = parse(
            &f,
            "5 eni-1 10.0.1.5 10.0.0.10 10.0.1.5 52.92.1.2 900 ingress - S3",
        ) else {
            panic!()
        };
        assert_eq!(r.pkt_dst.unwrap().to_string(), "52.92.1.2");
        assert_eq!(r.start, None);
        assert!(
            Format::detect(b"version srcaddr dstaddr").is_err(),
            "no interface-id or bytes"
        );
    }

    #[test]
    fn fields_split_on_single_or_repeated_spaces() {
        let mut v = Vec::new();
        for line in [
            "a bb c",
            " a  bb c ",
            "a bb   c",
            "aaaaaaa bbbbbbbb c",
            "aaaaaaaa  bb c ",
            "x yyyyyyyyyyyyyyy z",
        ] {
            split(line.as_bytes(), &mut v);
            let fields: Vec<&str> = v.iter().map(|&(a, b)| &line[a..b]).collect();
            assert_eq!(
                fields,
                line.split_whitespace().collect::<Vec<_>>(),
                "{line:?}"
            );
        }
        split(b"", &mut v);
        assert!(v.len() <= 1 && v.iter().all(|&(a, b)| a == b));
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_ip(b"10.0.0.1").unwrap().to_string(), "10.0.0.1");
        assert_eq!(
            parse_ip(b"2406:da00::1").unwrap().to_string(),
            "2406:da00::1"
        );
        assert_eq!(parse_ip(b"10.0.0"), None);
        assert_eq!(parse_ip(b"256.0.0.1"), None);
        assert_eq!(parse_ip(b"1.2.3.4.5"), None);
    }
}

/// Arbitrary lines never panic the parser; a record's byte count is the one written, or the
/// line is corrupt when no NAT gateway could carry it.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_line_parses_or_is_corrupt(line in prop::collection::vec(any::<u8>(), 0..300)) {
            let f = Format::default_v2();
            let mut spans = Vec::new();
            let _ = f.parse(&line, &mut spans);
            let _ = Format::detect(&line);
        }

        #[test]
        fn byte_counts_are_read_exactly(bytes in any::<u64>(), start in 0u64..4_000_000_000, len in 0u64..100_000) {
            let f = Format::default_v2();
            let line = format!(
                "2 123456789012 eni-0a1 10.0.1.5 52.92.1.2 443 49152 6 10 {bytes} {start} {} ACCEPT OK",
                start + len
            );
            let mut spans = Vec::new();
            // The reference: 12.5 GB/s for the record's interval, at least 10 minutes.
            let most = 12_500_000_000u128 * u128::from(len.clamp(600, 3600));
            match f.parse(line.as_bytes(), &mut spans) {
                Line::Record(r) => {
                    prop_assert_eq!(r.bytes, bytes);
                    prop_assert!(u128::from(bytes) <= most);
                }
                Line::Corrupt(why) => {
                    prop_assert!(u128::from(bytes) > most || bytes.to_string().len() > 19, "{}", why);
                }
                Line::Skip => prop_assert!(false, "an ACCEPT record is never skipped"),
            }
        }
    }
}

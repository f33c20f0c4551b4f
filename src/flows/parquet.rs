//! Flow logs delivered as Parquet (an option of S3 destinations, Gzip-compressed inside): the
//! same records as the text format, read by column name with the `parquet` crate's row API.

use std::net::IpAddr;

use ::parquet::file::reader::{ChunkReader, FileReader, SerializedFileReader};
use ::parquet::record::Field;
use anyhow::{Context, Result};

use super::parse::Record;

/// Parquet files start (and end) with these bytes.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// One row: a record to count, or a valid row with nothing to count (REJECT, NODATA, SKIPDATA,
/// no addresses).
pub enum Row<'a> {
    Record(Record<'a>),
    Skip,
}

/// Calls `each` for every row of the file; returns how many there were.
pub fn for_each<R: ChunkReader + 'static>(reader: R, mut each: impl FnMut(Row)) -> Result<u64> {
    let file = SerializedFileReader::new(reader).context("not a readable Parquet file")?;
    let mut rows = 0;
    for row in file.get_row_iter(None).context("cannot read its rows")? {
        let row = row.context("corrupt row")?;
        rows += 1;
        let mut f = Fields::default();
        for (name, value) in row.get_column_iter() {
            // Columns are named as the text format's fields, with `_` (AWS) or `-`.
            match name.replace('-', "_").as_str() {
                "interface_id" => f.interface_id = text(value),
                "srcaddr" => f.src = address(value),
                "dstaddr" => f.dst = address(value),
                "pkt_srcaddr" => f.pkt_src = address(value),
                "pkt_dstaddr" => f.pkt_dst = address(value),
                "bytes" => f.bytes = number(value),
                "start" => f.start = number(value),
                "action" => f.action = text(value),
                "log_status" => f.status = text(value),
                _ => {}
            }
        }
        let counted =
            f.action.as_deref() != Some("REJECT") && f.status.as_deref().is_none_or(|s| s == "OK");
        match (counted, &f.interface_id, f.src, f.dst, f.bytes) {
            (true, Some(eni), Some(src), Some(dst), Some(bytes)) => each(Row::Record(Record {
                interface_id: eni.as_bytes(),
                src,
                dst,
                pkt_src: f.pkt_src,
                pkt_dst: f.pkt_dst,
                bytes: bytes.max(0) as u64,
                start: f.start,
            })),
            _ => each(Row::Skip),
        }
    }
    Ok(rows)
}

#[derive(Default)]
struct Fields {
    interface_id: Option<String>,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    pkt_src: Option<IpAddr>,
    pkt_dst: Option<IpAddr>,
    bytes: Option<i64>,
    start: Option<i64>,
    action: Option<String>,
    status: Option<String>,
}

fn text(v: &Field) -> Option<String> {
    match v {
        Field::Str(s) if s != "-" => Some(s.clone()),
        _ => None,
    }
}

fn address(v: &Field) -> Option<IpAddr> {
    match v {
        Field::Str(s) => s.parse().ok(),
        _ => None,
    }
}

fn number(v: &Field) -> Option<i64> {
    match v {
        Field::Long(n) => Some(*n),
        Field::Int(n) => Some(*n as i64),
        Field::Str(s) => s.parse().ok(),
        _ => None,
    }
}

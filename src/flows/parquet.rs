//! Flow logs delivered as Parquet (an option of S3 destinations, Gzip-compressed inside): the
//! same records as the text format, read by column name through [`crate::parquet_columns`].

use std::net::IpAddr;

use ::parquet::file::reader::{ChunkReader, FileReader};
use anyhow::{Context, Result};
use rust_decimal::prelude::ToPrimitive;

use super::parse::Record;
use crate::parquet_columns::{self, Column, Reader, Value, BATCH};

/// One row: a record to count, or a valid row with nothing to count (REJECT, NODATA, SKIPDATA,
/// no addresses).
pub enum Row<'a> {
    Record(Record<'a>),
    Skip,
}

/// The fields read, named as the text format's (AWS's Parquet names use `_`; `-` is accepted).
const FIELDS: [&str; 9] = [
    "interface_id",
    "srcaddr",
    "dstaddr",
    "pkt_srcaddr",
    "pkt_dstaddr",
    "bytes",
    "start",
    "action",
    "log_status",
];
const ENI: usize = 0;
const SRC: usize = 1;
const DST: usize = 2;
const PKT_SRC: usize = 3;
const PKT_DST: usize = 4;
const BYTES: usize = 5;
const START: usize = 6;
const ACTION: usize = 7;
const STATUS: usize = 8;

/// Calls `each` for every row of the file; returns how many there were.
pub fn for_each<R: ChunkReader + 'static>(reader: R, mut each: impl FnMut(Row)) -> Result<u64> {
    let file = parquet_columns::open(reader).context("not a readable Parquet file")?;
    let leaves: Vec<Option<usize>> = FIELDS
        .iter()
        .map(|f| {
            parquet_columns::leaf(&file, f)
                .or_else(|| parquet_columns::leaf(&file, &f.replace('_', "-")))
        })
        .collect();
    let mut rows = 0u64;
    for g in 0..file.num_row_groups() {
        let group = file
            .get_row_group(g)
            .with_context(|| format!("row group {g}"))?;
        let n_rows = usize::try_from(group.metadata().num_rows())
            .with_context(|| format!("row group {g} has a negative row count"))?;
        let max = parquet_columns::max_group_bytes();
        parquet_columns::check_group(&*group, leaves.iter().flatten().copied(), max)
            .with_context(|| format!("row group {g}"))?;
        let mut readers: Vec<Option<Reader>> = Vec::with_capacity(FIELDS.len());
        for (field, leaf) in FIELDS.iter().zip(&leaves) {
            readers.push(match leaf {
                Some(l) => Some(
                    Reader::open(&*group, *l)
                        .with_context(|| format!("row group {g}, column {field}"))?,
                ),
                None => None,
            });
        }
        let mut done = 0;
        while done < n_rows {
            let n = BATCH.min(n_rows - done);
            let mut columns: Vec<Option<Column>> = Vec::with_capacity(FIELDS.len());
            for (field, r) in FIELDS.iter().zip(&mut readers) {
                columns.push(match r {
                    Some(r) => Some(
                        r.next(n)
                            .with_context(|| format!("row group {g}, column {field}: corrupt"))?,
                    ),
                    None => None,
                });
            }
            for r in 0..n {
                each(row(&columns, r));
            }
            done += n;
        }
        rows += n_rows as u64;
    }
    Ok(rows)
}

/// Row `r` of a batch.
fn row(columns: &[Option<Column>], r: usize) -> Row<'_> {
    let text = |i: usize| {
        columns[i]
            .as_ref()
            .and_then(|c| c.text(r))
            .filter(|s| *s != "-")
    };
    let address = |i: usize| text(i).and_then(|s| s.parse::<IpAddr>().ok());
    let number = |i: usize| match columns[i].as_ref().map(|c| c.value(r)) {
        Some(Value::Number(n)) => n.to_i64(),
        Some(Value::Text(s)) => s.parse().ok(),
        _ => None,
    };
    let counted = text(ACTION) != Some("REJECT") && text(STATUS).is_none_or(|s| s == "OK");
    match (
        counted,
        text(ENI),
        address(SRC),
        address(DST),
        number(BYTES),
    ) {
        (true, Some(eni), Some(src), Some(dst), Some(bytes)) => Row::Record(Record {
            interface_id: eni.as_bytes(),
            src,
            dst,
            pkt_src: address(PKT_SRC),
            pkt_dst: address(PKT_DST),
            bytes: bytes.max(0) as u64,
            start: number(START),
        }),
        _ => Row::Skip,
    }
}

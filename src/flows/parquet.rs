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
    /// Not a record any NAT gateway could make (more bytes than it carries in the interval).
    Corrupt(&'static str),
}

/// The fields read, named as the text format's (AWS's Parquet names use `_`; `-` is accepted).
const FIELDS: [&str; 10] = [
    "interface_id",
    "srcaddr",
    "dstaddr",
    "pkt_srcaddr",
    "pkt_dstaddr",
    "bytes",
    "start",
    "action",
    "log_status",
    "end",
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
const END: usize = 9;

/// Calls `each` for every row of the file; returns how many there were.
pub fn for_each<R: ChunkReader + 'static>(reader: R, each: impl FnMut(Row)) -> Result<u64> {
    parquet_columns::guarded(|| read_rows(reader, each))
}

fn read_rows<R: ChunkReader + 'static>(reader: R, mut each: impl FnMut(Row)) -> Result<u64> {
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
        (true, Some(eni), Some(src), Some(dst), Some(bytes)) => {
            let bytes = bytes.max(0) as u64;
            let time = |i| number(i).and_then(|t| u64::try_from(t).ok());
            if bytes > super::parse::most_bytes(time(START), time(END)) {
                return Row::Corrupt(
                    "more bytes than a NAT gateway carries in the record's interval",
                );
            }
            Row::Record(Record {
                interface_id: eni.as_bytes(),
                src,
                dst,
                pkt_src: address(PKT_SRC),
                pkt_dst: address(PKT_DST),
                bytes,
                start: number(START),
            })
        }
        _ => Row::Skip,
    }
}

/// Mutated Parquet files never panic the reader: each is read or refused.
#[cfg(test)]
mod fuzz {
    use std::sync::Arc;

    use ::parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use ::parquet::file::properties::WriterProperties;
    use ::parquet::file::writer::SerializedFileWriter;
    use ::parquet::schema::parser::parse_message_type;
    use proptest::prelude::*;

    /// A small flow-log Parquet file: `rows` records of 100 bytes each, Gzip inside.
    fn sample(rows: usize) -> Vec<u8> {
        let schema = Arc::new(
            parse_message_type(
                "message flows { required binary interface_id (UTF8); required binary srcaddr (UTF8); \
                 required binary dstaddr (UTF8); required int64 bytes; required int64 start; }",
            )
            .unwrap(),
        );
        let props = Arc::new(
            WriterProperties::builder()
                .set_compression(::parquet::basic::Compression::GZIP(Default::default()))
                .build(),
        );
        let mut out = Vec::new();
        let mut w = SerializedFileWriter::new(&mut out, schema, props).unwrap();
        let mut group = w.next_row_group().unwrap();
        let text = |s: &str| vec![ByteArray::from(s); rows];
        for values in [text("eni-0a1"), text("10.0.1.5"), text("52.92.1.2")] {
            let mut c = group.next_column().unwrap().unwrap();
            c.typed::<ByteArrayType>()
                .write_batch(&values, None, None)
                .unwrap();
            c.close().unwrap();
        }
        for values in [vec![100i64; rows], vec![1_761_955_200i64; rows]] {
            let mut c = group.next_column().unwrap().unwrap();
            c.typed::<Int64Type>()
                .write_batch(&values, None, None)
                .unwrap();
            c.close().unwrap();
        }
        group.close().unwrap();
        w.close().unwrap();
        out
    }

    #[test]
    fn the_sample_reads_whole() {
        let mut total = 0;
        let rows = super::for_each(bytes::Bytes::from(sample(50)), |row| {
            if let super::Row::Record(r) = row {
                total += r.bytes;
            }
        })
        .unwrap();
        assert_eq!((rows, total), (50, 5000));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn mutated_files_are_read_or_refused(
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut file = sample(50);
            for (at, b) in flips {
                let i = at.index(file.len());
                file[i] = b;
            }
            if truncate {
                file.truncate(cut.index(file.len()));
            }
            let mut total = 0u64;
            if let Ok(rows) = super::for_each(bytes::Bytes::from(file), |row| {
                if let super::Row::Record(r) = row {
                    total = total.saturating_add(r.bytes);
                }
            }) {
                prop_assert!(rows <= 1 << 20);
            }
        }
    }
}

//! Reading named columns of a Parquet file, a batch of rows at a time: only the columns asked
//! for are decoded, and a batch's values at once (the row API assembles every row). Cost and
//! Usage Reports and flow logs both read their Parquet files through it.

use std::str::FromStr;

use ::parquet::basic::{ConvertedType, LogicalType, TimeUnit};
use ::parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use ::parquet::data_type::{ByteArray, DataType, FixedLenByteArray, Int96};
use ::parquet::file::reader::{ChunkReader, RowGroupReader, SerializedFileReader};
use anyhow::{bail, Result};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

/// Parquet files start (and end) with these bytes.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// Runs `read` (decoding a Parquet file) so that a panic of the parquet crate on a corrupt file
/// (a fuzzed footer makes it overflow a capacity) is an error naming it, not a crash, and says
/// nothing on stderr itself.
pub fn guarded<T>(read: impl FnOnce() -> Result<T>) -> Result<T> {
    match crate::messages::caught(read) {
        Ok(r) => r,
        Err(why) => bail!("not a readable Parquet file (the parquet reader failed: {why})"),
    }
}

/// A Parquet file, its footer read.
pub fn open<R: ChunkReader + 'static>(reader: R) -> Result<SerializedFileReader<R>> {
    Ok(SerializedFileReader::new(reader)?)
}

/// The leaf (column chunk index) of the top-level column `name`, if the file has one.
pub fn leaf<R: ChunkReader + 'static>(file: &SerializedFileReader<R>, name: &str) -> Option<usize> {
    use ::parquet::file::reader::FileReader;
    file.metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.path().parts().len() == 1 && c.path().parts()[0] == name)
}

/// One value, as the file gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Empty,
    Text(String),
    Number(Decimal),
    Time(DateTime<Utc>),
    /// A value that is none of these (bytes, a date out of range), shown as read.
    Other(String),
}

/// Rows decoded at once per column.
pub const BATCH: usize = 65_536;

/// The longest value natcost reads: ids, addresses, usage types and dates are short; a longer
/// value is not a flow-log or bill field.
pub const MAX_VALUE: usize = 1 << 20;

/// The most bytes a row group may hold, uncompressed, in the columns natcost reads
/// ($NATCOST_PARQUET_GROUP_MB, default 128): a row group's columns are held at once, so memory
/// stays under (files read at once) × this.
pub fn max_group_bytes() -> u64 {
    static MAX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| {
        std::env::var("NATCOST_PARQUET_GROUP_MB")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(128)
            << 20
    })
}

/// Refuses a row group whose columns `leaves` hold more than `max` bytes uncompressed, before
/// any of it is read.
pub fn check_group(
    group: &dyn RowGroupReader,
    leaves: impl Iterator<Item = usize>,
    max: u64,
) -> Result<()> {
    let md = group.metadata();
    let total: u64 = leaves
        .map(|l| u64::try_from(md.column(l).uncompressed_size()).unwrap_or(u64::MAX))
        .fold(0, u64::saturating_add);
    if total > max {
        bail!(
            "its columns hold {} MiB uncompressed, more than the {} MiB natcost holds at once (NATCOST_PARQUET_GROUP_MB raises it)",
            total >> 20,
            max >> 20
        );
    }
    Ok(())
}

/// One column of a row group being read: its reader, and how its values read.
pub struct Reader {
    reader: ColumnReader,
    max_def: i16,
    logical: Logical,
}

/// A batch of a column's values (None: null), and what its logical type says.
pub struct Column {
    values: Values,
    logical: Logical,
}

enum Values {
    Bytes(Vec<Option<ByteArray>>),
    Fixed(Vec<Option<FixedLenByteArray>>),
    Double(Vec<Option<f64>>),
    Float(Vec<Option<f32>>),
    Int32(Vec<Option<i32>>),
    Int64(Vec<Option<i64>>),
    Int96(Vec<Option<Int96>>),
}

/// How a column's physical values read.
#[derive(Clone, Copy)]
enum Logical {
    Plain,
    /// UINT_32 / UINT_64: read back as unsigned.
    Unsigned,
    Date,
    /// Microseconds per unit (a timestamp in milliseconds: 1,000); nanoseconds apart.
    Timestamp {
        micros_per_unit: i64,
        nanos: bool,
    },
    Decimal {
        scale: u32,
    },
}

/// The next `rows` values of a column, with its nulls in place.
fn chunk<T: DataType>(
    r: &mut ColumnReaderImpl<T>,
    rows: usize,
    max_def: i16,
) -> Result<Vec<Option<T::T>>> {
    let mut defs = Vec::with_capacity(rows);
    let mut values = Vec::with_capacity(rows);
    let levels = (max_def > 0).then_some(&mut defs);
    let (read, _, _) = r.read_records(rows, levels, None, &mut values)?;
    if read != rows {
        bail!("{read} of {rows} rows");
    }
    if max_def == 0 {
        return Ok(values.into_iter().map(Some).collect());
    }
    let mut values = values.into_iter();
    Ok(defs
        .iter()
        .map(|d| if *d == max_def { values.next() } else { None })
        .collect())
}

impl Reader {
    /// The reader of column chunk `leaf` of a row group: one value per row (not repeated), not
    /// BOOLEAN.
    pub fn open(group: &dyn RowGroupReader, leaf: usize) -> Result<Reader> {
        let d = group.metadata().schema_descr().column(leaf);
        let max_def = d.max_def_level();
        let scale = || u32::try_from(d.type_scale()).unwrap_or(0);
        let logical = match (d.logical_type_ref(), d.converted_type()) {
            (Some(LogicalType::Decimal { scale, .. }), _) => Logical::Decimal {
                scale: u32::try_from(*scale).unwrap_or(0),
            },
            (_, ConvertedType::DECIMAL) => Logical::Decimal { scale: scale() },
            (Some(LogicalType::Date), _) | (_, ConvertedType::DATE) => Logical::Date,
            (Some(LogicalType::Timestamp { unit, .. }), _) => match unit {
                TimeUnit::MILLIS => Logical::Timestamp {
                    micros_per_unit: 1000,
                    nanos: false,
                },
                TimeUnit::MICROS => Logical::Timestamp {
                    micros_per_unit: 1,
                    nanos: false,
                },
                TimeUnit::NANOS => Logical::Timestamp {
                    micros_per_unit: 1,
                    nanos: true,
                },
            },
            (_, ConvertedType::TIMESTAMP_MILLIS) => Logical::Timestamp {
                micros_per_unit: 1000,
                nanos: false,
            },
            (_, ConvertedType::TIMESTAMP_MICROS) => Logical::Timestamp {
                micros_per_unit: 1,
                nanos: false,
            },
            (
                Some(LogicalType::Integer {
                    is_signed: false, ..
                }),
                _,
            )
            | (_, ConvertedType::UINT_32 | ConvertedType::UINT_64) => Logical::Unsigned,
            _ => Logical::Plain,
        };
        if d.max_rep_level() > 0 {
            bail!("a repeated column, not one value per row");
        }
        let reader = group.get_column_reader(leaf)?;
        if matches!(reader, ColumnReader::BoolColumnReader(_)) {
            bail!("BOOLEAN");
        }
        Ok(Reader {
            reader,
            max_def,
            logical,
        })
    }

    /// The next `n` rows' values.
    pub fn next(&mut self, n: usize) -> Result<Column> {
        let d = self.max_def;
        let too_long = |len: usize| {
            anyhow::anyhow!("a value of {len} bytes, more than the 1 MiB any field may hold")
        };
        let values = match &mut self.reader {
            ColumnReader::ByteArrayColumnReader(r) => {
                let v = chunk(r, n, d)?;
                if let Some(b) = v.iter().flatten().find(|b| b.len() > MAX_VALUE) {
                    return Err(too_long(b.len()));
                }
                Values::Bytes(v)
            }
            ColumnReader::FixedLenByteArrayColumnReader(r) => {
                let v = chunk(r, n, d)?;
                if let Some(b) = v.iter().flatten().find(|b| b.len() > MAX_VALUE) {
                    return Err(too_long(b.len()));
                }
                Values::Fixed(v)
            }
            ColumnReader::DoubleColumnReader(r) => Values::Double(chunk(r, n, d)?),
            ColumnReader::FloatColumnReader(r) => Values::Float(chunk(r, n, d)?),
            ColumnReader::Int32ColumnReader(r) => Values::Int32(chunk(r, n, d)?),
            ColumnReader::Int64ColumnReader(r) => Values::Int64(chunk(r, n, d)?),
            ColumnReader::Int96ColumnReader(r) => Values::Int96(chunk(r, n, d)?),
            ColumnReader::BoolColumnReader(_) => bail!("BOOLEAN"),
        };
        Ok(Column {
            values,
            logical: self.logical,
        })
    }

    /// Passes over `n` rows none of which is read.
    pub fn skip(&mut self, n: usize) -> Result<()> {
        let skipped = match &mut self.reader {
            ColumnReader::ByteArrayColumnReader(r) => r.skip_records(n)?,
            ColumnReader::FixedLenByteArrayColumnReader(r) => r.skip_records(n)?,
            ColumnReader::DoubleColumnReader(r) => r.skip_records(n)?,
            ColumnReader::FloatColumnReader(r) => r.skip_records(n)?,
            ColumnReader::Int32ColumnReader(r) => r.skip_records(n)?,
            ColumnReader::Int64ColumnReader(r) => r.skip_records(n)?,
            ColumnReader::Int96ColumnReader(r) => r.skip_records(n)?,
            ColumnReader::BoolColumnReader(r) => r.skip_records(n)?,
        };
        if skipped != n {
            bail!("{skipped} of {n} rows");
        }
        Ok(())
    }
}

impl Column {
    /// A row's text, without copying it; None: null, or not text.
    pub fn text(&self, row: usize) -> Option<&str> {
        match &self.values {
            Values::Bytes(v) => v
                .get(row)?
                .as_ref()
                .and_then(|b| std::str::from_utf8(b.data()).ok()),
            _ => None,
        }
    }

    /// A row's value, as its logical type reads.
    pub fn value(&self, row: usize) -> Value {
        let number =
            |d: Option<Decimal>, shown: String| d.map_or(Value::Other(shown), Value::Number);
        // The shortest decimal that reads back as the same float: 0.059, not 0.0589999…
        let float = |x: f64| number(Decimal::from_str(&x.to_string()).ok(), x.to_string());
        let time = |micros: Option<i64>, shown: String| {
            micros
                .and_then(DateTime::from_timestamp_micros)
                .map_or(Value::Other(shown), Value::Time)
        };
        match (&self.values, self.logical) {
            (Values::Bytes(v), Logical::Decimal { scale }) => match v.get(row).cloned().flatten() {
                Some(b) => number(decimal(b.data(), scale), format!("{:?}", b.data())),
                None => Value::Empty,
            },
            (Values::Bytes(v), _) => match v.get(row).cloned().flatten() {
                Some(b) if b.data().is_empty() => Value::Empty,
                Some(b) => Value::Text(String::from_utf8_lossy(b.data()).into_owned()),
                None => Value::Empty,
            },
            (Values::Fixed(v), Logical::Decimal { scale }) => match v.get(row).cloned().flatten() {
                Some(b) => number(decimal(b.data(), scale), format!("{:?}", b.data())),
                None => Value::Empty,
            },
            // A UUID or FLOAT16 is no text: shown as its bytes.
            (Values::Fixed(v), _) => match v.get(row).cloned().flatten() {
                Some(b) => Value::Other(format!("{:?}", b.data())),
                None => Value::Empty,
            },
            (Values::Double(v), _) => v.get(row).copied().flatten().map_or(Value::Empty, float),
            (Values::Float(v), _) => v.get(row).copied().flatten().map_or(Value::Empty, |x| {
                number(Decimal::from_str(&x.to_string()).ok(), x.to_string())
            }),
            (Values::Int32(v), logical) => match (v.get(row).copied().flatten(), logical) {
                (None, _) => Value::Empty,
                (Some(days), Logical::Date) => days
                    .checked_add(719_163)
                    .and_then(NaiveDate::from_num_days_from_ce_opt)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map_or(Value::Other(format!("date {days}")), |t| {
                        Value::Time(t.and_utc())
                    }),
                (Some(x), Logical::Decimal { scale }) => number(
                    Decimal::try_from_i128_with_scale(x.into(), scale).ok(),
                    format!("{x}e-{scale}"),
                ),
                (Some(x), Logical::Unsigned) => Value::Number((x as u32).into()),
                (Some(x), _) => Value::Number(x.into()),
            },
            (Values::Int64(v), logical) => match (v.get(row).copied().flatten(), logical) {
                (None, _) => Value::Empty,
                (
                    Some(x),
                    Logical::Timestamp {
                        micros_per_unit,
                        nanos,
                    },
                ) => time(
                    if nanos {
                        Some(x / 1000)
                    } else {
                        x.checked_mul(micros_per_unit)
                    },
                    format!("timestamp {x}"),
                ),
                (Some(x), Logical::Decimal { scale }) => number(
                    Decimal::try_from_i128_with_scale(x.into(), scale).ok(),
                    format!("{x}e-{scale}"),
                ),
                (Some(x), Logical::Unsigned) => Value::Number((x as u64).into()),
                (Some(x), _) => Value::Number(x.into()),
            },
            (Values::Int96(v), _) => match v.get(row).cloned().flatten() {
                Some(t) => time(Some(t.to_micros()), format!("{t:?}")),
                None => Value::Empty,
            },
        }
    }
}

/// A Parquet DECIMAL's bytes: big-endian two's complement, with its scale.
fn decimal(bytes: &[u8], scale: u32) -> Option<Decimal> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut all = [fill; 16];
    all[16 - bytes.len()..].copy_from_slice(bytes);
    Decimal::try_from_i128_with_scale(i128::from_be_bytes(all), scale).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parquet_decimals_keep_their_sign_and_scale() {
        let d = ::parquet::data_type::Decimal::from_i64(-12345, 10, 3);
        assert_eq!(decimal(d.data(), 3), Some(Decimal::new(-12345, 3)));
        assert_eq!(decimal(&[0x01, 0x00], 2), Some(Decimal::new(256, 2)));
        assert_eq!(decimal(&[], 2), None);
    }
}

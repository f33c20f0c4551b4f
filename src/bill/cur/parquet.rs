//! Parquet files: only the columns read are decoded, column by column and a batch of rows at
//! a time.

use std::str::FromStr;

use ::parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
use ::parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use ::parquet::data_type::{ByteArray, DataType, FixedLenByteArray, Int96};
use ::parquet::file::reader::{ChunkReader, FileReader, RowGroupReader, SerializedFileReader};
use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;

use super::columns::{
    generation, resolve, At, Cell, Totals, ACCOUNT, AMOUNT, COLUMNS, COST, PERIOD, RESOURCE, USAGE,
};
use super::locating::Found;
use crate::bill;

/// A Parquet file: only the columns read are decoded. Returns its format (None: not a report).
pub(super) fn read<R: ChunkReader + 'static>(
    reader: R,
    f: &Found,
    totals: &mut Totals,
) -> Result<Option<String>> {
    let name = f.name.as_str();
    let file = SerializedFileReader::new(reader)
        .map_err(|e| anyhow!("{name}: not a readable Parquet file ({e})"))?;
    let schema = file.metadata().file_metadata().schema();
    let fields = schema.get_fields();
    let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
    let Some(index) = resolve(f, &names)? else {
        return Ok(None);
    };
    // A column whose type can never hold what it should.
    for (i, at) in index.iter().enumerate() {
        let Some(at) = at else { continue };
        let field = &fields[*at];
        let ok = field.is_primitive()
            && match (i, field.get_physical_type()) {
                (_, Physical::BOOLEAN) => false,
                (AMOUNT | COST | PERIOD | ACCOUNT, _) => true,
                (_, t) => t == Physical::BYTE_ARRAY,
            };
        if !ok {
            bail!(
                "{name}: column {} is {}, not {}",
                COLUMNS[i].0,
                if field.is_primitive() {
                    field.get_physical_type().to_string()
                } else {
                    "a group".into()
                },
                match i {
                    AMOUNT | COST => "a number",
                    PERIOD => "a date",
                    _ => "text",
                }
            );
        }
    }
    // Decoded column by column, a batch of rows at a time: the usage type first, and the other
    // columns only for a batch that has NAT-related rows (the row API assembled every row).
    let descr = file.metadata().file_metadata().schema_descr_ptr();
    let leaf = |name: &str| {
        descr
            .columns()
            .iter()
            .position(|c| c.path().parts().len() == 1 && c.path().parts()[0] == name)
    };
    let mut leaves = [None; 8];
    for (i, at) in index.iter().enumerate() {
        if let Some(at) = at {
            leaves[i] = Some(
                leaf(names[*at])
                    .with_context(|| format!("{name}: column {} has no values", names[*at]))?,
            );
        }
    }
    let usage_leaf = leaves[USAGE].with_context(|| format!("{name}: no usage type column"))?;
    let mut first_row = 0u64;
    for g in 0..file.num_row_groups() {
        let group = file
            .get_row_group(g)
            .map_err(|e| anyhow!("{name}: row group {g}: {e}"))?;
        let rows = usize::try_from(group.metadata().num_rows())
            .map_err(|_| anyhow!("{name}: row group {g} has a negative row count"))?;
        let at = |leaf: usize, e: anyhow::Error| {
            anyhow!(
                "{name}: row group {g}, column {}: {e}",
                descr.column(leaf).name()
            )
        };
        let mut readers: Vec<(usize, usize, Reader)> = Vec::new();
        for (i, l) in leaves.iter().enumerate() {
            if let Some(l) = l.filter(|l| *l != usage_leaf) {
                readers.push((i, l, Reader::open(&*group, l).map_err(|e| at(l, e))?));
            }
        }
        let mut usage = Reader::open(&*group, usage_leaf).map_err(|e| at(usage_leaf, e))?;
        // A batch at a time, so that memory holds a batch whatever the row group's size.
        let mut done = 0;
        while done < rows {
            let n = BATCH.min(rows - done);
            let types = usage.next(n).map_err(|e| at(usage_leaf, e))?;
            let nat: Vec<usize> = (0..n)
                .filter(|&r| {
                    types
                        .text(r)
                        .is_some_and(|u| bill::is_nat_related(u.trim()))
                })
                .collect();
            if nat.is_empty() {
                for (_, l, r) in &mut readers {
                    r.skip(n).map_err(|e| at(*l, e))?;
                }
            } else {
                let mut columns: [Option<Column>; 8] = std::array::from_fn(|_| None);
                for (i, l, r) in &mut readers {
                    columns[*i] = Some(r.next(n).map_err(|e| at(*l, e))?);
                }
                columns[USAGE] = Some(types);
                for r in nat {
                    let cells: [Cell; 8] = std::array::from_fn(|i| {
                        columns[i].as_ref().map_or(Cell::Empty, |c| c.cell(r))
                    });
                    let row = first_row + (done + r) as u64 + 1;
                    totals.add(&At { file: name, row }, &cells)?;
                }
            }
            done += n;
        }
        totals.rows += rows as u64;
        first_row += rows as u64;
    }
    if index[RESOURCE].is_some() {
        totals.resource_ids = true;
    }
    Ok(Some(format!("{}, Parquet", generation(&names))))
}

/// Rows decoded at once per column.
const BATCH: usize = 65_536;

/// One column of a row group being read: its reader, and how its values read.
struct Reader {
    reader: ColumnReader,
    max_def: i16,
    logical: Logical,
}

/// A batch of a column's values (None: null), and what its logical type says.
struct Column {
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
    fn open(group: &dyn RowGroupReader, leaf: usize) -> Result<Reader> {
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
            bail!("a repeated column, not one value per line item");
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

    fn next(&mut self, n: usize) -> Result<Column> {
        let d = self.max_def;
        let values = match &mut self.reader {
            ColumnReader::ByteArrayColumnReader(r) => Values::Bytes(chunk(r, n, d)?),
            ColumnReader::FixedLenByteArrayColumnReader(r) => Values::Fixed(chunk(r, n, d)?),
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
    fn skip(&mut self, n: usize) -> Result<()> {
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
    /// A row's text, for the usage type test.
    fn text(&self, row: usize) -> Option<&str> {
        match &self.values {
            Values::Bytes(v) => v
                .get(row)?
                .as_ref()
                .and_then(|b| std::str::from_utf8(b.data()).ok()),
            _ => None,
        }
    }

    fn cell(&self, row: usize) -> Cell {
        let number = |d: Option<Decimal>, shown: String| d.map_or(Cell::Other(shown), Cell::Number);
        // The shortest decimal that reads back as the same float: 0.059, not 0.0589999…
        let float = |x: f64| number(Decimal::from_str(&x.to_string()).ok(), x.to_string());
        let time = |micros: Option<i64>, shown: String| {
            micros
                .and_then(DateTime::from_timestamp_micros)
                .map_or(Cell::Other(shown), Cell::Time)
        };
        match (&self.values, self.logical) {
            (Values::Bytes(v), Logical::Decimal { scale }) => match v.get(row).cloned().flatten() {
                Some(b) => number(decimal(b.data(), scale), format!("{:?}", b.data())),
                None => Cell::Empty,
            },
            (Values::Bytes(v), _) => match v.get(row).cloned().flatten() {
                Some(b) if b.data().is_empty() => Cell::Empty,
                Some(b) => Cell::Text(String::from_utf8_lossy(b.data()).into_owned()),
                None => Cell::Empty,
            },
            (Values::Fixed(v), Logical::Decimal { scale }) => match v.get(row).cloned().flatten() {
                Some(b) => number(decimal(b.data(), scale), format!("{:?}", b.data())),
                None => Cell::Empty,
            },
            // A UUID or FLOAT16 is no text: shown as its bytes.
            (Values::Fixed(v), _) => match v.get(row).cloned().flatten() {
                Some(b) => Cell::Other(format!("{:?}", b.data())),
                None => Cell::Empty,
            },
            (Values::Double(v), _) => v.get(row).copied().flatten().map_or(Cell::Empty, float),
            (Values::Float(v), _) => v.get(row).copied().flatten().map_or(Cell::Empty, |x| {
                number(Decimal::from_str(&x.to_string()).ok(), x.to_string())
            }),
            (Values::Int32(v), logical) => match (v.get(row).copied().flatten(), logical) {
                (None, _) => Cell::Empty,
                (Some(days), Logical::Date) => days
                    .checked_add(719_163)
                    .and_then(NaiveDate::from_num_days_from_ce_opt)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map_or(Cell::Other(format!("date {days}")), |t| {
                        Cell::Time(t.and_utc())
                    }),
                (Some(x), Logical::Decimal { scale }) => number(
                    Decimal::try_from_i128_with_scale(x.into(), scale).ok(),
                    format!("{x}e-{scale}"),
                ),
                (Some(x), Logical::Unsigned) => Cell::Number((x as u32).into()),
                (Some(x), _) => Cell::Number(x.into()),
            },
            (Values::Int64(v), logical) => match (v.get(row).copied().flatten(), logical) {
                (None, _) => Cell::Empty,
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
                (Some(x), Logical::Unsigned) => Cell::Number((x as u64).into()),
                (Some(x), _) => Cell::Number(x.into()),
            },
            (Values::Int96(v), _) => match v.get(row).cloned().flatten() {
                Some(t) => time(Some(t.to_micros()), format!("{t:?}")),
                None => Cell::Empty,
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

//! Cost and Usage Reports as Parquet: the report's columns found by name, and only the rows of
//! NAT-related usage types decoded beyond their usage type.

use ::parquet::basic::Type as Physical;
use ::parquet::file::reader::{ChunkReader, FileReader};
use anyhow::{anyhow, bail, Context, Result};

use super::columns::{
    generation, resolve, At, Cell, Totals, ACCOUNT, AMOUNT, COLUMNS, COST, PERIOD, RESOURCE, USAGE,
};
use super::locating::Found;
use crate::bill;
use crate::parquet_columns::{self, Column, Reader, BATCH};

/// A Parquet file: only the columns read are decoded. Returns its format (None: not a report).
pub(super) fn read<R: ChunkReader + 'static>(
    reader: R,
    f: &Found,
    totals: &mut Totals,
) -> Result<Option<String>> {
    // The reader's own errors name the file; a panic caught by the guard does not.
    parquet_columns::guarded(|| read_report(reader, f, totals)).map_err(|e| {
        if e.to_string().starts_with(&f.name) {
            e
        } else {
            anyhow!("{}: {e:#}", f.name)
        }
    })
}

fn read_report<R: ChunkReader + 'static>(
    reader: R,
    f: &Found,
    totals: &mut Totals,
) -> Result<Option<String>> {
    let name = f.name.as_str();
    let file = parquet_columns::open(reader)
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
    let mut leaves = [None; 8];
    for (i, at) in index.iter().enumerate() {
        if let Some(at) = at {
            leaves[i] = Some(
                parquet_columns::leaf(&file, names[*at])
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
        // Twice a flow-log file's room (report rows are wider); up to eight files are read at
        // once (one per core), so memory stays under cores × this.
        let max = 2 * parquet_columns::max_group_bytes();
        parquet_columns::check_group(&*group, leaves.iter().flatten().copied(), max)
            .map_err(|e| anyhow!("{name}: row group {g}: {e}"))?;
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
                        columns[i].as_ref().map_or(Cell::Empty, |c| c.value(r))
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

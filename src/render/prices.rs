//! `natcost prices`: the price book as a table, CSV or JSON (the bundled table's format).

use std::io::Write;

use anyhow::Result;

use crate::price::PriceBook;

/// The book in the bundled table's format, dated as of its oldest source.
pub fn json(book: &PriceBook, mut out: impl Write) -> Result<()> {
    let file = book.to_dated_file(&book.label());
    writeln!(out, "{}", serde_json::to_string_pretty(&file)?)?;
    Ok(())
}

/// One row per price: region, usage type, unit, USD, source.
pub fn csv(book: &PriceBook, out: impl Write) -> Result<()> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(["region", "usage_type", "unit", "usd", "source"])?;
    for p in book.all() {
        w.write_record([
            &p.region,
            &p.usage_type,
            &p.unit,
            &p.usd.normalize().to_string(),
            &p.origin,
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Aligned columns for the terminal.
pub fn table(book: &PriceBook, mut out: impl Write) -> Result<()> {
    writeln!(
        out,
        "{:<16} {:<36} {:<6} {:>10}  source",
        "region", "usage type", "unit", "USD"
    )?;
    for p in book.all() {
        writeln!(
            out,
            "{:<16} {:<36} {:<6} {:>10}  {}",
            // A price file's text is shown, never obeyed by the terminal.
            crate::shown::clipped(&p.region, 40),
            crate::shown::clipped(&p.usage_type, 80),
            crate::shown::clipped(&p.unit, 20),
            p.usd.normalize().to_string(),
            crate::shown::clipped(&p.origin, 120)
        )?;
    }
    Ok(())
}

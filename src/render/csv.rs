//! The finance tables (`render::tables`) as CSV files: text a spreadsheet would run as a
//! formula is neutralised, natcost's own prose is ASCII, figures are exact decimals.

use std::io::Write;

use anyhow::Result;

use super::tables::{Kind, Table};

/// natcost's own prose (risk, action, evidence, notes, explanations): ASCII punctuation, so a
/// spreadsheet that opens the file in another code page shows it as written, and safe.
fn prose(text: &str) -> String {
    safe(&crate::shown::ascii_punctuation(text))
}

/// Text a spreadsheet would run as a formula gets a leading apostrophe.
pub fn safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// `table` as CSV: its header, then its rows.
pub fn write<W: Write>(table: &Table, out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(table.header())?;
    for row in &table.rows {
        w.write_record(row.iter().zip(table.columns).map(|(cell, c)| match c.kind {
            Kind::Text => safe(cell),
            Kind::Prose => prose(cell),
            _ => cell.clone(),
        }))?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe("+1"), "'+1");
        assert_eq!(safe("-1"), "'-1");
        assert_eq!(safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe("\tx"), "'\tx");
        assert_eq!(safe("\rx"), "'\rx");
        assert_eq!(safe("nat-prod"), "nat-prod");
        assert_eq!(safe(""), "");
    }
}

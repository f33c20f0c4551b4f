//! The finance exports: costs.csv, recommendations.csv, lambdas.csv.

use std::io::Write;

use anyhow::Result;

use super::{exact, money};
use crate::report::Report;

pub const COSTS_HEADER: [&str; 14] = [
    "period_start",
    "period_end",
    "account_id",
    "region",
    "vpc_id",
    "resource_type",
    "resource_id",
    "resource_name",
    "availability_zone",
    "usage_type",
    "quantity",
    "unit",
    "unit_price_usd",
    "cost_usd",
];

pub const RECOMMENDATIONS_HEADER: [&str; 12] = [
    "rank",
    "region",
    "vpc_id",
    "resource_id",
    "alternative",
    "monthly_cost_before_usd",
    "monthly_cost_after_usd",
    "monthly_saving_usd",
    "confidence",
    "risk",
    "action",
    "evidence",
];

pub const LAMBDAS_HEADER: [&str; 7] = [
    "region",
    "function_name",
    "vpc_id",
    "subnet_ids",
    "availability_zones",
    "nat_gateway_ids",
    "cross_az",
];

/// Text a spreadsheet would run as a formula gets a leading apostrophe.
pub fn safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

pub fn costs<W: Write>(report: &Report, out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COSTS_HEADER)?;
    for nat in &report.nats {
        for line in &nat.lines {
            let c = &line.charge;
            w.write_record([
                line.period_start.to_rfc3339(),
                line.period_end.to_rfc3339(),
                safe(&report.account_id),
                safe(&nat.region),
                safe(&nat.vpc_id),
                "nat-gateway".to_string(),
                safe(&nat.nat_gateway_id),
                safe(nat.name.as_deref().unwrap_or("")),
                safe(&nat.availability_zone),
                safe(&c.usage_type),
                exact(c.quantity),
                safe(&c.unit),
                exact(c.unit_price),
                exact(c.cost),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

pub fn recommendations<W: Write>(report: &Report, out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(RECOMMENDATIONS_HEADER)?;
    for (i, s) in report.recommendations.iter().enumerate() {
        // Rounded once, so that before − after = saving holds in the file as written.
        let before = s.monthly_before.round_dp(2);
        let after = s.monthly_after.round_dp(2);
        w.write_record([
            (i + 1).to_string(),
            safe(&s.region),
            safe(&s.vpc_id),
            safe(&s.resource_id),
            s.alternative.to_string(),
            money(before),
            money(after),
            money(before - after),
            s.confidence.as_str().to_string(),
            safe(&s.risk_text()),
            safe(&s.action),
            safe(&s.evidence.join("; ")),
        ])?;
    }
    w.flush()?;
    Ok(())
}

pub fn lambdas<W: Write>(report: &Report, out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(LAMBDAS_HEADER)?;
    for l in &report.lambdas {
        w.write_record([
            safe(&l.region),
            safe(&l.function_name),
            safe(l.vpc_id.as_deref().unwrap_or("")),
            safe(&l.subnet_ids.join(";")),
            safe(&l.availability_zones.join(";")),
            safe(&l.nat_gateway_ids.join(";")),
            l.cross_az.to_string(),
        ])?;
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

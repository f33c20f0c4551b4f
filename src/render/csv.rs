//! The finance exports: costs.csv, recommendations.csv, lambdas.csv.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Result;
use rust_decimal::Decimal;

use super::{exact, money};
use crate::advise::Tier;
use crate::report::Report;

pub const COSTS_HEADER: [&str; 16] = [
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
    "basis",
    "month",
];

pub const RECOMMENDATIONS_HEADER: [&str; 19] = [
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
    "tier",
    "in_plan",
    "conflicts_with",
    "account_id",
    "resource_name",
    "notes",
    "monthly_saving_on_top_of_plan_usd",
];

pub const LAMBDAS_HEADER: [&str; 11] = [
    "region",
    "function_name",
    "vpc_id",
    "subnet_ids",
    "availability_zones",
    "nat_gateway_ids",
    "cross_az",
    "account_id",
    "monthly_gb",
    "monthly_cost_usd",
    "basis",
];

/// The columns of allocation_by_team.csv, as the issue spells them.
pub const TEAMS_HEADER: [&str; 6] = ["month", "account_id", "team", "gb", "cost_usd", "basis"];

/// The columns of allocation.csv, as the issue spells them.
pub const ALLOCATION_HEADER: [&str; 16] = [
    "month",
    "account_id",
    "region",
    "vpc_id",
    "nat_gateway_id",
    "nat_name",
    "source_kind",
    "source",
    "source_name",
    "team",
    "gb",
    "data_processing_usd",
    "fixed_share_usd",
    "inter_az_usd",
    "cost_usd",
    "basis",
];

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

pub fn costs<W: Write>(report: &Report, out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COSTS_HEADER)?;
    for nat in &report.nats {
        for line in &nat.lines {
            let c = &line.charge;
            w.write_record([
                line.period_start.to_rfc3339(),
                line.period_end.to_rfc3339(),
                safe(&nat.account_id),
                safe(&nat.region),
                safe(&nat.vpc_id),
                "nat-gateway".to_string(),
                safe(&nat.nat_gateway_id),
                safe(nat.name.as_deref().unwrap_or("")),
                safe(&nat.availability_zone),
                safe(&c.usage_type),
                c.quantity.map(exact).unwrap_or_default(),
                safe(&c.unit),
                exact(c.unit_price),
                c.cost.map(exact).unwrap_or_default(),
                line.basis.to_string(),
                line.period_start.format("%Y-%m").to_string(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// The columns of reconcile.csv, as the issue spells them.
pub const RECONCILE_HEADER: [&str; 11] = [
    "month",
    "account_id",
    "region",
    "usage_type",
    "resource_id",
    "billed_quantity",
    "billed_cost_usd",
    "modelled_quantity",
    "modelled_cost_usd",
    "difference_pct",
    "explanation",
];

pub fn reconcile<W: Write>(rows: &[crate::bill::Row], out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(RECONCILE_HEADER)?;
    let num = |d: Option<rust_decimal::Decimal>| d.map(exact).unwrap_or_default();
    for r in rows {
        w.write_record([
            r.month.clone(),
            safe(&r.account_id),
            safe(&r.region),
            safe(&r.usage_type),
            safe(&r.resource_id),
            num(r.billed_quantity),
            num(r.billed_cost_usd),
            num(r.modelled_quantity),
            num(r.modelled_cost_usd),
            num(r.difference_pct),
            prose(&r.explanation),
        ])?;
    }
    w.flush()?;
    Ok(())
}

pub fn recommendations<W: Write>(report: &Report, out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(RECOMMENDATIONS_HEADER)?;
    let step_saving: HashMap<&str, Decimal> = report
        .plan
        .steps
        .iter()
        .zip(&report.plan.step_savings)
        .map(|(id, x)| (id.as_str(), *x))
        .collect();
    for (i, s) in report.recommendations.iter().enumerate() {
        // Adds up without double counting: a step's saving after the steps before it, or what
        // a scenario adds to the whole plan (on top of it, or instead of the steps it
        // conflicts with).
        let on_top = step_saving
            .get(s.id.as_str())
            .copied()
            .or(s.saving_after_plan)
            .or(s.instead_of.as_ref().map(|x| x.plan_change))
            .map(money)
            .unwrap_or_default();
        // Scenario money is rounded to cents once, so before − after = saving as written. A
        // measure-first scenario claims no saving: its after and saving cells stay empty and
        // its evidence states what it would be worth.
        // A step whose saving is a range claims none either: its evidence gives the range.
        let claims_none = s.tier == Tier::MeasureFirst || s.saving_up_to.is_some();
        let (after, saving) = if claims_none {
            (String::new(), String::new())
        } else {
            (money(s.monthly_after), money(s.saving()))
        };
        let mut evidence = s.evidence.clone();
        if let Some(x) = &s.sensitivity {
            evidence.insert(
                0,
                format!(
                    "measure first: {} is worth {} USD/month",
                    x.per,
                    money(x.monthly_usd)
                ),
            );
            evidence.push(format!("how to measure: {}", x.how_to_measure));
        }
        w.write_record([
            (i + 1).to_string(),
            safe(&s.region),
            safe(&s.vpc_id),
            safe(&s.resource_id),
            s.alternative.to_string(),
            money(s.monthly_before),
            after,
            saving,
            s.confidence.as_str().to_string(),
            prose(&s.risk_text()),
            prose(&s.action),
            prose(&evidence.join("; ")),
            s.tier.as_str().to_string(),
            if s.in_plan { "yes" } else { "no" }.to_string(),
            safe(&s.conflicts_with.join(";")),
            safe(&s.account_id),
            safe(&report.names_only(&s.resource_id)),
            prose(&s.notes.join("; ")),
            on_top,
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
            safe(&l.account_id),
            l.monthly_gb.map(exact).unwrap_or_default(),
            l.monthly_cost.map(exact).unwrap_or_default(),
            l.basis.map(|b| b.as_str()).unwrap_or_default().to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Every NAT-related dollar per month × NAT gateway × source: the rows of one NAT gateway and
/// month add up to its lines in costs.csv. Unknown amounts (no byte metrics) are empty.
pub fn allocation<W: Write>(report: &Report, out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(ALLOCATION_HEADER)?;
    for r in &report.allocation.rows {
        w.write_record([
            r.month
                .map(|m| m.format("%Y-%m").to_string())
                .unwrap_or_default(),
            safe(&r.account_id),
            safe(&r.region),
            safe(&r.vpc_id),
            safe(&r.nat_gateway_id),
            safe(&r.nat_name),
            r.source.kind.as_str().to_string(),
            safe(&r.source.id),
            safe(&r.source.name),
            safe(&r.team),
            r.gb.map(exact).unwrap_or_default(),
            r.data_processing_usd.map(exact).unwrap_or_default(),
            exact(r.fixed_share_usd),
            r.inter_az_usd.map(exact).unwrap_or_default(),
            r.cost_usd().map(exact).unwrap_or_default(),
            r.basis.as_str().to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// allocation.csv summed per month × account × team (`--allocate-by`).
pub fn teams<W: Write>(report: &Report, out: W) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(TEAMS_HEADER)?;
    for t in crate::allocation::by_team(&report.allocation.rows, true) {
        w.write_record([
            t.month
                .map(|m| m.format("%Y-%m").to_string())
                .unwrap_or_default(),
            safe(&t.account_id),
            safe(&t.team),
            t.gb.map(exact).unwrap_or_default(),
            t.cost_usd.map(exact).unwrap_or_default(),
            t.basis.as_str().to_string(),
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

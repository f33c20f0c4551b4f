//! The finance tables (costs, recommendations, lambdas, allocation, teams, reconcile): their
//! columns as the issues spell them, each with what it holds, and their rows as exact text.
//! The CSV files and the workbook are both written from these, so they cannot disagree.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::{exact, money};
use crate::advise::Tier;
use crate::report::Report;

/// What a column holds: how a CSV writes it and a spreadsheet shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ids, names and words from AWS or files: shown as written.
    Text,
    /// natcost's own sentences (evidence, risk, notes, commands).
    Prose,
    /// USD, exact.
    Usd,
    /// GB, exact.
    Gb,
    /// A usage quantity (hours, GB, requests).
    Quantity,
    /// A unit price in USD.
    Price,
    /// A percentage.
    Percent,
    /// A whole number (a rank, a step).
    Count,
}

impl Kind {
    pub fn is_figure(self) -> bool {
        !matches!(self, Kind::Text | Kind::Prose)
    }
}

pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column { name, kind }
}

/// A table: its columns and its rows, one text per column (figures as exact decimals, empty
/// when unknown).
pub struct Table {
    pub columns: &'static [Column],
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn header(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.columns.iter().map(|c| c.name)
    }
    /// The column called `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

use Kind::*;

pub const COSTS: &[Column] = &[
    col("period_start", Text),
    col("period_end", Text),
    col("account_id", Text),
    col("region", Text),
    col("vpc_id", Text),
    col("resource_type", Text),
    col("resource_id", Text),
    col("resource_name", Text),
    col("availability_zone", Text),
    col("usage_type", Text),
    col("quantity", Quantity),
    col("unit", Text),
    col("unit_price_usd", Price),
    col("cost_usd", Usd),
    col("basis", Text),
    col("month", Text),
];

pub const RECOMMENDATIONS: &[Column] = &[
    col("rank", Count),
    col("region", Text),
    col("vpc_id", Text),
    col("resource_id", Text),
    col("alternative", Text),
    col("monthly_cost_before_usd", Usd),
    col("monthly_cost_after_usd", Usd),
    col("monthly_saving_usd", Usd),
    col("confidence", Text),
    col("risk", Prose),
    col("action", Prose),
    col("evidence", Prose),
    col("tier", Text),
    col("in_plan", Text),
    col("conflicts_with", Text),
    col("account_id", Text),
    col("resource_name", Text),
    col("notes", Prose),
    col("monthly_saving_on_top_of_plan_usd", Usd),
];

pub const LAMBDAS: &[Column] = &[
    col("region", Text),
    col("function_name", Text),
    col("vpc_id", Text),
    col("subnet_ids", Text),
    col("availability_zones", Text),
    col("nat_gateway_ids", Text),
    col("cross_az", Text),
    col("account_id", Text),
    col("monthly_gb", Gb),
    col("monthly_cost_usd", Usd),
    col("basis", Text),
];

/// allocation_by_team.csv, as issue 24 spells it.
pub const TEAMS: &[Column] = &[
    col("month", Text),
    col("account_id", Text),
    col("team", Text),
    col("gb", Gb),
    col("cost_usd", Usd),
    col("basis", Text),
];

/// allocation.csv, as issue 24 spells it.
pub const ALLOCATION: &[Column] = &[
    col("month", Text),
    col("account_id", Text),
    col("region", Text),
    col("vpc_id", Text),
    col("nat_gateway_id", Text),
    col("nat_name", Text),
    col("source_kind", Text),
    col("source", Text),
    col("source_name", Text),
    col("team", Text),
    col("gb", Gb),
    col("data_processing_usd", Usd),
    col("fixed_share_usd", Usd),
    col("inter_az_usd", Usd),
    col("cost_usd", Usd),
    col("basis", Text),
];

/// reconcile.csv, as its issue spells it.
pub const RECONCILE: &[Column] = &[
    col("month", Text),
    col("account_id", Text),
    col("region", Text),
    col("usage_type", Text),
    col("resource_id", Text),
    col("billed_quantity", Quantity),
    col("billed_cost_usd", Usd),
    col("modelled_quantity", Quantity),
    col("modelled_cost_usd", Usd),
    col("difference_pct", Percent),
    col("explanation", Prose),
];

fn opt(d: Option<Decimal>) -> String {
    d.map(exact).unwrap_or_default()
}

fn month(m: Option<chrono::DateTime<chrono::Utc>>) -> String {
    m.map(|m| m.format("%Y-%m").to_string()).unwrap_or_default()
}

/// One row per calendar month × NAT gateway × cost component.
pub fn costs(report: &Report) -> Table {
    let mut rows = Vec::new();
    for nat in &report.nats {
        for line in &nat.lines {
            let c = &line.charge;
            rows.push(vec![
                line.period_start.to_rfc3339(),
                line.period_end.to_rfc3339(),
                nat.account_id.clone(),
                nat.region.clone(),
                nat.vpc_id.clone(),
                "nat-gateway".to_string(),
                nat.nat_gateway_id.clone(),
                nat.name.clone().unwrap_or_default(),
                nat.availability_zone.clone(),
                c.usage_type.clone(),
                opt(c.quantity),
                c.unit.clone(),
                exact(c.unit_price),
                opt(c.cost),
                line.basis.to_string(),
                line.period_start.format("%Y-%m").to_string(),
            ]);
        }
    }
    Table {
        columns: COSTS,
        rows,
    }
}

/// The bill against the model, line by line.
pub fn reconcile(rows: &[crate::bill::Row]) -> Table {
    let rows = rows
        .iter()
        .map(|r| {
            vec![
                r.month.clone(),
                r.account_id.clone(),
                r.region.clone(),
                r.usage_type.clone(),
                r.resource_id.clone(),
                opt(r.billed_quantity),
                opt(r.billed_cost_usd),
                opt(r.modelled_quantity),
                opt(r.modelled_cost_usd),
                opt(r.difference_pct),
                r.explanation.clone(),
            ]
        })
        .collect();
    Table {
        columns: RECONCILE,
        rows,
    }
}

/// Every scenario worth something: the plan's steps first.
pub fn recommendations(report: &Report) -> Table {
    let step_saving: HashMap<&str, Decimal> = report
        .plan
        .steps
        .iter()
        .zip(&report.plan.step_savings)
        .map(|(id, x)| (id.as_str(), *x))
        .collect();
    let mut rows = Vec::new();
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
        rows.push(vec![
            (i + 1).to_string(),
            s.region.clone(),
            s.vpc_id.clone(),
            s.resource_id.clone(),
            s.alternative.to_string(),
            money(s.monthly_before),
            after,
            saving,
            s.confidence.as_str().to_string(),
            s.risk_text(),
            s.action.clone(),
            evidence.join("; "),
            s.tier.as_str().to_string(),
            if s.in_plan { "yes" } else { "no" }.to_string(),
            s.conflicts_with.join(";"),
            s.account_id.clone(),
            report.names_only(&s.resource_id),
            s.notes.join("; "),
            on_top,
        ]);
    }
    Table {
        columns: RECOMMENDATIONS,
        rows,
    }
}

/// Every Lambda function of the regions read whole, and its part of the monthly run-rate.
pub fn lambdas(report: &Report) -> Table {
    let rows = report
        .lambdas
        .iter()
        .map(|l| {
            vec![
                l.region.clone(),
                l.function_name.clone(),
                l.vpc_id.clone().unwrap_or_default(),
                l.subnet_ids.join(";"),
                l.availability_zones.join(";"),
                l.nat_gateway_ids.join(";"),
                l.cross_az.to_string(),
                l.account_id.clone(),
                opt(l.monthly_gb),
                opt(l.monthly_cost),
                l.basis.map(|b| b.as_str()).unwrap_or_default().to_string(),
            ]
        })
        .collect();
    Table {
        columns: LAMBDAS,
        rows,
    }
}

/// Every NAT-related dollar per month × NAT gateway × source: the rows of one NAT gateway and
/// month add up to its lines in costs. Unknown amounts (no byte metrics) are empty.
pub fn allocation(report: &Report) -> Table {
    let rows = report
        .allocation
        .rows
        .iter()
        .map(|r| {
            vec![
                month(r.month),
                r.account_id.clone(),
                r.region.clone(),
                r.vpc_id.clone(),
                r.nat_gateway_id.clone(),
                r.nat_name.clone(),
                r.source.kind.as_str().to_string(),
                r.source.id.clone(),
                r.source.name.clone(),
                r.team.clone(),
                opt(r.gb),
                opt(r.data_processing_usd),
                exact(r.fixed_share_usd),
                opt(r.inter_az_usd),
                opt(r.cost_usd()),
                r.basis.as_str().to_string(),
            ]
        })
        .collect();
    Table {
        columns: ALLOCATION,
        rows,
    }
}

/// The allocation summed per month × account × team (`--allocate-by`).
pub fn teams(report: &Report) -> Table {
    let rows = crate::allocation::by_team(&report.allocation.rows, true)
        .into_iter()
        .map(|t| {
            vec![
                month(t.month),
                t.account_id.clone(),
                t.team.clone(),
                opt(t.gb),
                opt(t.cost_usd),
                t.basis.as_str().to_string(),
            ]
        })
        .collect();
    Table {
        columns: TEAMS,
        rows,
    }
}

//! The columns read, by their names in the three generations (CUR 2.0, the legacy CUR's
//! CSV, its Parquet and Athena form), their cells, and the sums the rows add up to.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use anyhow::{anyhow, bail, Result};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::locating::Found;
use crate::bill;

/// The columns read, by their CUR 2.0 names and the legacy CUR's; whether a file must have it.
pub(super) const COLUMNS: [(&str, &[&str], bool); 8] = [
    (
        "bill_billing_period_start_date",
        &[
            "bill_billing_period_start_date",
            "bill/BillingPeriodStartDate",
        ],
        true,
    ),
    (
        "line_item_usage_account_id",
        &["line_item_usage_account_id", "lineItem/UsageAccountId"],
        true,
    ),
    (
        "product_region_code",
        &[
            "product_region_code",
            "product/regionCode",
            "product_region",
            "product/region",
        ],
        false,
    ),
    (
        "line_item_usage_type",
        &["line_item_usage_type", "lineItem/UsageType"],
        true,
    ),
    (
        "line_item_resource_id",
        &["line_item_resource_id", "lineItem/ResourceId"],
        false,
    ),
    (
        "line_item_usage_amount",
        &["line_item_usage_amount", "lineItem/UsageAmount"],
        true,
    ),
    (
        "line_item_unblended_cost",
        &["line_item_unblended_cost", "lineItem/UnblendedCost"],
        true,
    ),
    (
        "line_item_line_item_type",
        &["line_item_line_item_type", "lineItem/LineItemType"],
        true,
    ),
];
pub(super) const PERIOD: usize = 0;
pub(super) const ACCOUNT: usize = 1;
const REGION: usize = 2;
pub(super) const USAGE: usize = 3;
pub(super) const RESOURCE: usize = 4;
pub(super) const AMOUNT: usize = 5;
pub(super) const COST: usize = 6;
const KIND: usize = 7;

/// The sums read so far.
#[derive(Default)]
pub(super) struct Totals {
    /// By month, account, region, usage type and resource.
    pub(super) usage: BTreeMap<bill::Key, (Decimal, Decimal)>,
    /// By month, account, region, usage type and line item type.
    pub(super) adjustments: BTreeMap<bill::Key, Decimal>,
    pub(super) rows: u64,
    pub(super) resource_ids: bool,
    pub(super) formats: BTreeSet<String>,
    /// Files found in a folder that have none of a report's columns.
    pub(super) skipped: Vec<String>,
}

/// One cell, as a file gives it: a CSV field read as Parquet values are.
pub(super) use crate::parquet_columns::Value as Cell;

impl Cell {
    fn describe(&self) -> String {
        match self {
            Cell::Empty => "nothing".into(),
            Cell::Text(s) => format!("{s:?}"),
            Cell::Number(n) => n.to_string(),
            Cell::Time(t) => t.to_rfc3339(),
            Cell::Other(s) => s.clone(),
        }
    }
}

/// Where a bad value was.
pub(super) struct At<'a> {
    pub(super) file: &'a str,
    pub(super) row: u64,
}

impl At<'_> {
    fn bad(&self, column: usize, want: &str, cell: &Cell) -> anyhow::Error {
        anyhow!(
            "{}: column {}, row {}: expected {want}, found {}",
            self.file,
            COLUMNS[column].0,
            self.row,
            cell.describe()
        )
    }

    fn text(&self, cells: &[Cell; 8], column: usize) -> Result<String> {
        match &cells[column] {
            Cell::Text(s) => Ok(s.trim().to_string()),
            Cell::Empty => Ok(String::new()),
            // An account id written as a number.
            Cell::Number(n) if column == ACCOUNT && n.fract().is_zero() => Ok(format!("{n:012}")),
            c => Err(self.bad(column, "text", c)),
        }
    }

    /// A number; an empty cell is an error, never a zero.
    fn number(&self, cells: &[Cell; 8], column: usize) -> Result<Decimal> {
        let n = match &cells[column] {
            Cell::Number(n) => *n,
            Cell::Text(s) => Decimal::from_str(s.trim())
                .or_else(|_| Decimal::from_scientific(s.trim()))
                .map_err(|_| self.bad(column, "a number", &cells[column]))?,
            c => return Err(self.bad(column, "a number", c)),
        };
        crate::bill::plausible(n)
            .ok_or_else(|| self.bad(column, "a number within ±1e15", &cells[column]))
    }

    /// YYYY-MM of the billing period's start.
    fn month(&self, cells: &[Cell; 8]) -> Result<String> {
        match &cells[PERIOD] {
            Cell::Time(t) => Ok(t.format("%Y-%m").to_string()),
            Cell::Text(s) => s
                .get(..10)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .map(|d| d.format("%Y-%m").to_string())
                .ok_or_else(|| self.bad(PERIOD, "a date", &cells[PERIOD])),
            c => Err(self.bad(PERIOD, "a date", c)),
        }
    }
}

/// `a + b`, or an error: a sum beyond what a decimal holds is a broken file, not a panic.
fn plus(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_add(b)
        .ok_or_else(|| anyhow!("the sum of its amounts overflows ({a} + {b})"))
}

impl Totals {
    pub(super) fn merge(&mut self, other: Totals) -> Result<()> {
        for (k, (q, c)) in other.usage {
            let e = self.usage.entry(k).or_default();
            *e = (plus(e.0, q)?, plus(e.1, c)?);
        }
        for (k, c) in other.adjustments {
            let e = self.adjustments.entry(k).or_default();
            *e = plus(*e, c)?;
        }
        self.rows += other.rows;
        self.resource_ids |= other.resource_ids;
        self.formats.extend(other.formats);
        self.skipped.extend(other.skipped);
        Ok(())
    }

    pub(super) fn add(&mut self, at: &At, cells: &[Cell; 8]) -> Result<()> {
        let usage = at.text(cells, USAGE)?;
        if !bill::is_nat_related(&usage) {
            return Ok(());
        }
        let month = at.month(cells)?;
        let account = at.text(cells, ACCOUNT)?;
        let mut region = at.text(cells, REGION)?;
        if region.is_empty() {
            region = bill::region_of_usage(&usage).unwrap_or_default();
        }
        let kind = at.text(cells, KIND)?;
        let cost = at.number(cells, COST)?;
        let sum = |a, b| plus(a, b).map_err(|e| anyhow!("{}: row {}: {e}", at.file, at.row));
        if kind == "Usage" {
            let amount = at.number(cells, AMOUNT)?;
            // Only NAT hours and bytes are compared per resource: an id per address or
            // interface would only multiply the sums.
            let resource = if bill::per_nat(&usage) {
                at.text(cells, RESOURCE)?
            } else {
                String::new()
            };
            let e = self
                .usage
                .entry((month, account, region, usage, resource))
                .or_default();
            *e = (sum(e.0, amount)?, sum(e.1, cost)?);
        } else {
            let e = self
                .adjustments
                .entry((month, account, region, usage, kind))
                .or_default();
            *e = sum(*e, cost)?;
        }
        Ok(())
    }
}

/// `legacy CUR` for `lineItem/…` columns, or snake_case ones with the legacy `product_region`
/// (its Parquet and Athena form); `CUR 2.0` otherwise.
pub(super) fn generation(names: &[&str]) -> &'static str {
    if names
        .iter()
        .any(|n| n.contains('/') || *n == "product_region")
    {
        "legacy CUR"
    } else {
        "CUR 2.0"
    }
}

/// Which of a file's columns are the ones read (by the first accepted name it has); a required
/// one missing is an error. None: a file found in a folder with none of them (not a report).
pub(super) fn resolve(f: &Found, names: &[&str]) -> Result<Option<[Option<usize>; 8]>> {
    let mut index = [None; 8];
    for (i, (_, accepted, _)) in COLUMNS.iter().enumerate() {
        index[i] = accepted
            .iter()
            .find_map(|a| names.iter().position(|n| n == a));
    }
    if !f.named && index.iter().all(Option::is_none) {
        return Ok(None);
    }
    for (i, (key, accepted, required)) in COLUMNS.iter().enumerate() {
        if index[i].is_none() && *required {
            bail!(
                "{}: column {key} is missing (legacy name {}): not a Cost and Usage Report, or one exported without it",
                f.name,
                accepted[1]
            );
        }
    }
    Ok(Some(index))
}

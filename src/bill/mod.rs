//! Does the model match the bill? Billed lines (Cost Explorer) set against the modelled ones,
//! month by month, per account, region and usage type, with the difference explained where
//! natcost can compute why.

pub mod ce;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::report::Report;

/// A difference within this share is a match.
pub const TOLERANCE_PCT: Decimal = rust_decimal_macros::dec!(1);

/// One billed line: what the bill says for a month, account, region and usage type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Billed {
    /// YYYY-MM.
    pub month: String,
    pub account_id: String,
    pub region: String,
    pub usage_type: String,
    /// Empty for Cost Explorer (no resource level).
    pub resource_id: String,
    pub quantity: Decimal,
    pub cost: Decimal,
}

/// A row of reconcile.csv.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub month: String,
    pub account_id: String,
    pub region: String,
    pub usage_type: String,
    pub resource_id: String,
    pub billed_quantity: Option<Decimal>,
    pub billed_cost_usd: Option<Decimal>,
    pub modelled_quantity: Option<Decimal>,
    pub modelled_cost_usd: Option<Decimal>,
    /// (modelled − billed) / billed, in %, on cost; None when nothing was billed.
    pub difference_pct: Option<Decimal>,
    pub explanation: String,
    /// Off by more than [`TOLERANCE_PCT`] with nothing to explain it.
    pub flagged: bool,
}

/// The reconciliation, and what the bill cost to read.
#[derive(Debug, Clone, Serialize)]
pub struct Reconciliation {
    /// `Cost Explorer (GetCostAndUsage, MONTHLY, Usage records)`.
    pub source: String,
    pub rows: Vec<Row>,
    /// Requests made and what they cost (0.01 USD each for Cost Explorer).
    pub requests: u64,
    pub request_cost_usd: Decimal,
}

/// The modelled quantity and cost per month, account, region and usage type.
fn modelled(report: &Report) -> BTreeMap<(String, String, String, String), (Decimal, Decimal)> {
    let mut out: BTreeMap<_, (Decimal, Decimal)> = BTreeMap::new();
    for n in &report.nats {
        for l in &n.lines {
            let key = (
                l.period_start.format("%Y-%m").to_string(),
                n.account_id.clone(),
                n.region.clone(),
                l.charge.usage_type.clone(),
            );
            let e = out.entry(key).or_default();
            e.0 += l.charge.quantity;
            e.1 += l.charge.cost;
        }
    }
    out
}

/// Days of a YYYY-MM month, and how many of them the window covers.
fn coverage(report: &Report, month: &str) -> Option<(i64, i64)> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)?
    };
    let start = first.and_hms_opt(0, 0, 0)?.and_utc();
    let end = next.and_hms_opt(0, 0, 0)?.and_utc();
    let from = start.max(report.window.start);
    let to = end.min(report.window.end);
    let hours = |a: chrono::DateTime<chrono::Utc>, b: chrono::DateTime<chrono::Utc>| {
        (b - a).num_hours().max(0)
    };
    Some((hours(from, to), hours(start, end)))
}

/// Sets the billed lines against the model.
pub fn reconcile(report: &Report, billed: &[Billed]) -> Vec<Row> {
    let model = modelled(report);
    let collected: BTreeSet<(&str, &str)> = report
        .accounts
        .iter()
        .flat_map(|a| {
            report
                .regions
                .iter()
                .map(move |r| (a.account_id.as_str(), r.as_str()))
        })
        .collect();
    let mut keys: BTreeSet<(String, String, String, String, String)> = billed
        .iter()
        .map(|b| {
            (
                b.month.clone(),
                b.account_id.clone(),
                b.region.clone(),
                b.usage_type.clone(),
                b.resource_id.clone(),
            )
        })
        .collect();
    // Modelled lines the bill does not have are rows too (only for months the bill covers).
    let months: BTreeSet<&str> = billed.iter().map(|b| b.month.as_str()).collect();
    for (m, a, r, u) in model.keys() {
        if months.contains(m.as_str()) {
            keys.insert((m.clone(), a.clone(), r.clone(), u.clone(), String::new()));
        }
    }
    let mut rows = Vec::new();
    for (month, account, region, usage, resource) in keys {
        let bill: Vec<&Billed> = billed
            .iter()
            .filter(|b| {
                (
                    &b.month,
                    &b.account_id,
                    &b.region,
                    &b.usage_type,
                    &b.resource_id,
                ) == (&month, &account, &region, &usage, &resource)
            })
            .collect();
        let billed_q = (!bill.is_empty()).then(|| bill.iter().map(|b| b.quantity).sum::<Decimal>());
        let billed_c = (!bill.is_empty()).then(|| bill.iter().map(|b| b.cost).sum::<Decimal>());
        let m = model.get(&(
            month.clone(),
            account.clone(),
            region.clone(),
            usage.clone(),
        ));
        let diff = match (billed_c, m) {
            (Some(b), Some((_, c))) if !b.is_zero() => {
                Some(((*c - b) / b * Decimal::from(100)).round_dp(2))
            }
            (Some(b), None) if !b.is_zero() => Some(Decimal::from(-100)),
            _ => None,
        };
        let off = diff.is_some_and(|d| d.abs() > TOLERANCE_PCT);
        let mut why = Vec::new();
        if let Some((covered, all)) = coverage(report, &month) {
            if covered < all {
                why.push(format!(
                    "partial month: the window covers {covered} of its {all} hours"
                ));
            }
        }
        if !collected.contains(&(account.as_str(), region.as_str())) {
            why.push(format!("account {account} in {region} was not collected"));
        } else if usage.ends_with("DataTransfer-Regional-Bytes") {
            // AWS bills every inter-AZ byte of the account under this usage type.
            let share = match (billed_q, m) {
                (Some(b), Some((q, _))) if !b.is_zero() => {
                    format!("{}%", (*q / b * Decimal::from(100)).round_dp(1))
                }
                _ => "none".into(),
            };
            why.push(format!(
                "DataTransfer-Regional-Bytes also bills other inter-AZ traffic: natcost's estimated NAT share explains {share} of it"
            ));
        } else if m.is_none() && usage.contains("NatGateway") {
            why.push(
                "billed for a NAT gateway the snapshot does not have: deleted before collection?"
                    .into(),
            );
        } else if billed_c.is_none() {
            why.push("modelled, but not on the bill for this month".into());
        }
        let flagged = off && why.is_empty();
        if flagged {
            why.push(format!(
                "off by {}%: not explained",
                diff.unwrap_or_default()
            ));
        }
        rows.push(Row {
            month,
            account_id: account,
            region,
            usage_type: usage,
            resource_id: resource,
            billed_quantity: billed_q,
            billed_cost_usd: billed_c,
            modelled_quantity: m.map(|x| x.0),
            modelled_cost_usd: m.map(|x| x.1),
            difference_pct: diff,
            explanation: why.join("; "),
            flagged,
        });
    }
    rows
}

/// The region of a usage type, from its billing prefix (none: us-east-1); None for a prefix
/// natcost does not know.
pub fn region_of_usage(usage_type: &str) -> Option<String> {
    if let Some((prefix, _)) = usage_type.split_once('-') {
        if let Some(r) = crate::regions::codes().find(|r| crate::regions::prefix(r) == Some(prefix))
        {
            return Some(r.to_string());
        }
        if prefix
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return None;
        }
    }
    Some("us-east-1".into())
}

/// The NAT-related usage types of a region: what the bill is asked for.
pub fn usage_types(region: &str) -> Vec<String> {
    let prefix = crate::regions::prefix(region)
        .map(|p| format!("{p}-"))
        .unwrap_or_default();
    [
        "NatGateway-Hours",
        "NatGateway-Bytes",
        "RegionalNatGateway-Hours",
        "RegionalNatGateway-Bytes",
        "PublicIPv4:InUseAddress",
        "PublicIPv4:IdleAddress",
        "DataTransfer-Regional-Bytes",
    ]
    .iter()
    .map(|u| format!("{prefix}{u}"))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_types_name_their_region() {
        assert_eq!(
            region_of_usage("APN2-NatGateway-Hours").as_deref(),
            Some("ap-northeast-2")
        );
        assert_eq!(
            region_of_usage("NatGateway-Hours").as_deref(),
            Some("us-east-1")
        );
        assert_eq!(usage_types("ap-northeast-2")[0], "APN2-NatGateway-Hours");
    }
}

//! Renderers: each reads only the [`Report`](crate::report::Report) (`prices`: the price book).

pub mod chart;
pub mod csv;
pub mod folder;
pub mod json;
pub mod markdown;
pub mod prices;
pub mod table;

use rust_decimal::Decimal;

pub use crate::shown::{fixed, money};

/// An exact decimal without trailing zeros, as written to CSV.
pub fn exact(d: Decimal) -> String {
    d.normalize().to_string()
}

/// "Plan: save 59.95 USD/month (8.6% of 696.23 USD/month) in 2 steps: 719.40 USD/year"
pub fn plan_headline(report: &crate::report::Report) -> String {
    let p = &report.plan;
    if p.steps.is_empty() {
        return format!(
            "Plan: no low-risk step saves money on this history (today {} USD/month)",
            money(p.monthly_before)
        );
    }
    let pct = if p.monthly_before.is_zero() {
        Decimal::ZERO
    } else {
        (p.monthly_saving * Decimal::ONE_HUNDRED / p.monthly_before).round_dp(1)
    };
    let year = p.monthly_saving * Decimal::from(12);
    format!(
        "Plan: save {} USD/month{} ({pct}% of {} USD/month) in {} step{}: {} USD/year{}",
        money(p.monthly_saving),
        report.also(p.monthly_saving),
        money(p.monthly_before),
        p.steps.len(),
        if p.steps.len() == 1 { "" } else { "s" },
        money(year),
        report.also(year)
    )
}

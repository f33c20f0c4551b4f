//! Renderers: each reads only the [`Report`](crate::report::Report).

pub mod chart;
pub mod csv;
pub mod json;
pub mod markdown;
pub mod table;

use rust_decimal::Decimal;

/// Money as shown to people: two decimals.
pub fn money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

/// An exact decimal without trailing zeros, as written to CSV.
pub fn exact(d: Decimal) -> String {
    d.normalize().to_string()
}

//! Days whose NAT bytes jump: above a stated factor of the NAT gateway's trailing median and
//! an absolute floor, so a quiet NAT gateway's small swings are not news.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::price::model::{Component, NatCost};

/// A day is an anomaly when its GB exceed this many times the trailing median...
pub const ANOMALY_FACTOR: f64 = 3.0;
/// ...and the median by at least this many GB.
pub const ANOMALY_FLOOR_GB: f64 = 10.0;
/// The days before it that the median is taken over (all of them needed).
pub const TRAILING_DAYS: usize = 14;

#[derive(Debug, Clone, Serialize)]
pub struct Anomaly {
    pub nat_gateway_id: String,
    pub nat_label: String,
    pub date: NaiveDate,
    pub gb: Decimal,
    pub median_gb: Decimal,
    /// The day's data processing: gb × the NAT gateway's per-GB price.
    pub usd: Decimal,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn gb(v: f64) -> Decimal {
    Decimal::try_from(v).unwrap_or_default().round_dp(3)
}

/// Every NAT gateway's anomalous days, in date order.
pub fn anomalies(nats: &[NatCost]) -> Vec<Anomaly> {
    let mut out = Vec::new();
    for nat in nats {
        let price = nat
            .lines
            .iter()
            .find(|l| l.charge.component == Component::NatBytes)
            .map(|l| l.charge.unit_price)
            .unwrap_or_default();
        let days = &nat.daily_gb;
        for i in TRAILING_DAYS..days.len() {
            let trailing: Vec<f64> = days[i - TRAILING_DAYS..i].iter().map(|(_, v)| *v).collect();
            let m = median(&trailing);
            let (date, v) = days[i];
            if v > ANOMALY_FACTOR * m && v - m >= ANOMALY_FLOOR_GB {
                let day_gb = gb(v);
                out.push(Anomaly {
                    nat_gateway_id: nat.nat_gateway_id.clone(),
                    nat_label: nat.label().to_string(),
                    date,
                    gb: day_gb,
                    median_gb: gb(m),
                    usd: day_gb * price,
                });
            }
        }
    }
    out.sort_by(|a, b| {
        a.date
            .cmp(&b.date)
            .then_with(|| a.nat_gateway_id.cmp(&b.nat_gateway_id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}

#[cfg(test)]
mod day_tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::fixture::Fixture;
    use crate::price::{model, PriceBook};

    #[test]
    fn a_day_far_above_the_trailing_median_and_the_floor_is_an_anomaly() {
        let m = model::price(&Fixture::spiky().snapshot(), &PriceBook::bundled()).unwrap();
        let found = anomalies(&m.nats);
        assert_eq!(found.len(), 1, "{found:?}");
        let a = &found[0];
        assert_eq!(a.nat_gateway_id, "busy-nat");
        assert_eq!(a.date, NaiveDate::from_ymd_opt(2026, 10, 16).unwrap());
        assert_eq!((a.gb, a.median_gb), (dec!(240), dec!(24)));
        assert_eq!(a.usd, dec!(14.16));
    }
}

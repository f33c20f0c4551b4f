//! Days whose NAT bytes jump: above a stated factor of the NAT gateway's trailing median and
//! an absolute floor, so a quiet NAT gateway's small swings are not news.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::price::model::{Component, NatCost};
use crate::snapshot::Snapshot;
use crate::traffic::{Attribution, NatTraffic, SourceRef, BYTES_PER_GB};

/// A day is an anomaly when its GB exceed this many times the trailing median...
pub const ANOMALY_FACTOR: f64 = 3.0;
/// ...and the median by more than this many GB.
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
    /// What the flow logs dated to that day saw from sources, in GB; None: no record of it.
    pub logged_gb: Option<Decimal>,
    /// The day's largest sources in those logs, largest first.
    pub top_sources: Vec<DaySource>,
}

/// How many sources an anomalous day names.
pub const DAY_SOURCES: usize = 3;

/// One source's bytes on an anomalous day, as flow logs saw them.
#[derive(Debug, Clone, Serialize)]
pub struct DaySource {
    pub source: SourceRef,
    pub label: String,
    pub gb: Decimal,
    /// Its share of the day's logged bytes.
    pub share: f64,
}

/// The day's sources behind `nat`, largest first, and their GB in all.
fn day_sources(t: &NatTraffic, date: NaiveDate, nat: &str) -> Option<(Decimal, Vec<DaySource>)> {
    let list = t.daily_sources.get(&date)?;
    let mut by: HashMap<&SourceRef, u64> = HashMap::new();
    for b in list {
        *by.entry(&b.source).or_default() += b.bytes;
    }
    let total: u64 = by.values().sum();
    if total == 0 {
        return None;
    }
    let mut ranked: Vec<(&SourceRef, u64)> = by.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let gb = |bytes: u64| (Decimal::from(bytes) / Decimal::from(BYTES_PER_GB)).round_dp(3);
    let top = ranked
        .into_iter()
        .take(DAY_SOURCES)
        .map(|(s, bytes)| DaySource {
            label: super::source_label(s.kind, &s.id, &s.name, nat),
            source: s.clone(),
            gb: gb(bytes),
            share: bytes as f64 / total as f64,
        })
        .collect();
    Some((gb(total), top))
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

/// Every NAT gateway's anomalous days, in date order. Only whole days of its life count, the
/// day and the days of its median: a NAT gateway created mid-window is not "new traffic" every
/// day, nor a window starting at noon a quiet first day.
pub fn anomalies(
    snapshot: &Snapshot,
    nats: &[NatCost],
    flows: Option<&Attribution>,
) -> Vec<Anomaly> {
    let traffic: HashMap<&str, &NatTraffic> = flows
        .iter()
        .flat_map(|f| &f.nats)
        .map(|t| (t.nat_gateway_id.as_str(), t))
        .collect();
    type Life = (DateTime<Utc>, Option<DateTime<Utc>>);
    let lives: HashMap<(&str, &str, &str), Life> = snapshot
        .regions
        .iter()
        .flat_map(|r| {
            r.nat_gateways.iter().map(move |n| {
                (
                    (
                        r.account_id.as_str(),
                        r.region.as_str(),
                        n.nat_gateway_id.as_str(),
                    ),
                    (n.create_time, n.delete_time),
                )
            })
        })
        .collect();
    let w = snapshot.window;
    let mut out = Vec::new();
    for nat in nats {
        let key = (
            nat.account_id.as_str(),
            nat.region.as_str(),
            nat.nat_gateway_id.as_str(),
        );
        let (from, to) = match lives.get(&key) {
            Some((c, d)) => ((*c).max(w.start), d.map_or(w.end, |d| d.min(w.end))),
            None => (w.start, w.end),
        };
        let whole = |d: NaiveDate| {
            let start = d.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
            start >= from && start + chrono::Duration::days(1) <= to
        };
        let price = nat
            .lines
            .iter()
            .find(|l| l.charge.component == Component::NatBytes)
            .map(|l| l.charge.unit_price)
            .unwrap_or_default();
        let days = &nat.daily_gb;
        for i in TRAILING_DAYS..days.len() {
            let span = &days[i - TRAILING_DAYS..=i];
            if !span.iter().all(|(d, _)| whole(*d)) {
                continue;
            }
            let trailing: Vec<f64> = span[..TRAILING_DAYS].iter().map(|(_, v)| *v).collect();
            let m = median(&trailing);
            let (date, v) = days[i];
            if v > ANOMALY_FACTOR * m && v - m > ANOMALY_FLOOR_GB {
                let day_gb = gb(v);
                let seen = traffic
                    .get(nat.nat_gateway_id.as_str())
                    .and_then(|t| day_sources(t, date, nat.label()));
                let (logged_gb, top_sources) = match seen {
                    Some((g, top)) => (Some(g), top),
                    None => (None, Vec::new()),
                };
                out.push(Anomaly {
                    nat_gateway_id: nat.nat_gateway_id.clone(),
                    nat_label: nat.label().to_string(),
                    date,
                    gb: day_gb,
                    median_gb: gb(m),
                    usd: day_gb * price,
                    logged_gb,
                    top_sources,
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
        // And new-nat, created on day 8 at noon and busy from then on: its first busy days
        // are not news (days before it existed are no median).
        let mut f = Fixture::spiky();
        f.nat("new-nat", "vpc-1", "ap-northeast-2a", 1.0);
        let born = crate::fixture::start() + chrono::Duration::hours(7 * 24 + 12);
        f.r.nat_gateways.last_mut().unwrap().create_time = born;
        for m in
            f.r.metrics
                .iter_mut()
                .filter(|m| m.nat_gateway_id == "new-nat")
        {
            let v: Vec<Option<f64>> = (0..f.hours)
                .map(|h| m.values.get(h).filter(|_| h >= 7 * 24 + 12))
                .collect();
            m.values = v.into();
        }
        let snap = f.snapshot();
        let m = model::price(&snap, &PriceBook::bundled()).unwrap();
        let found = anomalies(&snap, &m.nats, None);
        assert_eq!(found.len(), 1, "{found:?}");
        let a = &found[0];
        assert_eq!(a.nat_gateway_id, "busy-nat");
        assert_eq!(a.date, NaiveDate::from_ymd_opt(2026, 10, 16).unwrap());
        assert_eq!((a.gb, a.median_gb), (dec!(240), dec!(24)));
        assert_eq!(a.usd, dec!(14.16));
    }
}

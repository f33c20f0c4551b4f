//! What changed between two periods (the last two whole months of a report, or two saved
//! reports): the total change explained by NAT gateway, by cost component and by source, each
//! list adding up to the total change; and days whose bytes jump (anomalies).

mod anomalies;
pub mod saved;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::allocation::{Allocation, Row};
use crate::price::model::{Component, CostModel};
use crate::traffic::SourceKind;
pub use anomalies::{anomalies, Anomaly, ANOMALY_FACTOR, ANOMALY_FLOOR_GB, TRAILING_DAYS};

/// How many movers each list names; the rest are one "others" line, so the list still adds up.
pub const MOVERS: usize = 10;

/// One thing's cost and GB in a period.
#[derive(Debug, Clone, Default)]
pub struct Part {
    pub label: String,
    /// The NAT gateways it went through (sources).
    pub via: Vec<String>,
    pub cost: Decimal,
    pub gb: Decimal,
}

/// A period's cost, by NAT gateway, component and source (what a change is explained by).
#[derive(Debug, Clone, Default)]
pub struct Period {
    pub label: String,
    pub nats: BTreeMap<String, Part>,
    pub components: BTreeMap<Component, Part>,
    /// Empty when the sources are not measured (no flow logs cover them).
    pub sources: BTreeMap<String, Part>,
}

impl Period {
    pub fn total(&self) -> Decimal {
        self.nats.values().map(|p| p.cost).sum()
    }

    fn add_line(
        &mut self,
        id: &str,
        label: &str,
        component: Component,
        gb: Option<Decimal>,
        cost: Option<Decimal>,
    ) {
        let cost = cost.unwrap_or_default();
        let gb = if component == Component::NatBytes {
            gb.unwrap_or_default()
        } else {
            Decimal::ZERO
        };
        let n = self.nats.entry(id.to_string()).or_insert_with(|| Part {
            label: label.to_string(),
            ..Part::default()
        });
        n.cost += cost;
        n.gb += gb;
        let c = self.components.entry(component).or_insert_with(|| Part {
            label: component.label().to_string(),
            ..Part::default()
        });
        c.cost += cost;
        c.gb += gb;
    }

    /// Adds an allocation row's cost and GB to its source (a source per NAT gateway for what
    /// is not one), named as a change names it.
    fn add_allocated(
        &mut self,
        (account, region): (&str, &str),
        (kind, id, name): (SourceKind, &str, &str),
        (nat_id, nat_name): (&str, &str),
        cost: Decimal,
        gb: Decimal,
    ) {
        let nat = if nat_name.is_empty() {
            nat_id
        } else {
            nat_name
        };
        let s = self
            .sources
            .entry(source_key(account, region, kind, id, nat_id))
            .or_insert_with(|| Part {
                label: source_label(kind, id, name, nat),
                ..Part::default()
            });
        if !s.via.iter().any(|v| v == nat) {
            s.via.push(nat.to_string());
        }
        s.cost += cost;
        s.gb += gb;
    }
}

/// A source's key across NAT gateways: a function or interface once; what is no source (idle,
/// shared, unattributed) once per NAT gateway.
fn source_key(account: &str, region: &str, kind: SourceKind, id: &str, nat: &str) -> String {
    match kind {
        SourceKind::Idle | SourceKind::Shared | SourceKind::Unattributed => {
            format!("{account}/{region}/{}:{id}@{nat}", kind.as_str())
        }
        _ => format!("{account}/{region}/{}:{id}", kind.as_str()),
    }
}

/// A source as a change names it: a function by its name, an interface by its description
/// and id, what is no source by what it is and its NAT gateway.
fn source_label(kind: SourceKind, id: &str, name: &str, nat: &str) -> String {
    match kind {
        SourceKind::Lambda => name.to_string(),
        SourceKind::Eni => format!("{name} ({id})"),
        SourceKind::Subnet => format!("{id} ({name})"),
        _ => format!("{} of {nat}", kind.as_str()),
    }
}

/// One mover: what it cost before and after.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub label: String,
    pub via: Vec<String>,
    pub before: Decimal,
    pub after: Decimal,
    pub change: Decimal,
    pub gb_change: Decimal,
}

/// The change from one period to the next, explained three ways.
#[derive(Debug, Clone, Serialize)]
pub struct Changes {
    pub before: String,
    pub after: String,
    pub total_before: Decimal,
    pub total_after: Decimal,
    pub change: Decimal,
    pub by_nat: Vec<Change>,
    pub by_component: Vec<Change>,
    /// Empty when the sources are not measured in both periods.
    pub by_source: Vec<Change>,
}

/// Movers largest first (by the size of the change), the rest summed on one "others" line.
fn movers<K: Ord>(
    before: &BTreeMap<K, Part>,
    after: &BTreeMap<K, Part>,
    others: &str,
) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    let keys: std::collections::BTreeSet<&K> = before.keys().chain(after.keys()).collect();
    for k in keys {
        let (b, a) = (before.get(k), after.get(k));
        let part = a.or(b).expect("a key of either");
        let zero = Decimal::ZERO;
        let before_cost = b.map_or(zero, |p| p.cost);
        let after_cost = a.map_or(zero, |p| p.cost);
        let mut via: Vec<String> = b
            .iter()
            .chain(a.iter())
            .flat_map(|p| p.via.clone())
            .collect();
        via.sort();
        via.dedup();
        out.push(Change {
            label: part.label.clone(),
            via,
            before: before_cost,
            after: after_cost,
            change: after_cost - before_cost,
            gb_change: a.map_or(zero, |p| p.gb) - b.map_or(zero, |p| p.gb),
        });
    }
    // Unchanged lines stay (last), so that each column adds up to its total.
    out.retain(|c| !(c.before.is_zero() && c.after.is_zero() && c.gb_change.is_zero()));
    out.sort_by(|x, y| {
        y.change
            .abs()
            .cmp(&x.change.abs())
            .then_with(|| x.label.cmp(&y.label))
    });
    if out.len() > MOVERS {
        let rest = out.split_off(MOVERS - 1);
        let sum = |f: fn(&Change) -> Decimal| rest.iter().map(f).sum::<Decimal>();
        out.push(Change {
            label: format!("{} {others}", rest.len()),
            via: Vec::new(),
            before: sum(|c| c.before),
            after: sum(|c| c.after),
            change: sum(|c| c.change),
            gb_change: sum(|c| c.gb_change),
        });
    }
    out
}

/// The change from `before` to `after`; each list adds up to the total change.
pub fn explain(before: &Period, after: &Period) -> Changes {
    let by_source = if before.sources.is_empty() || after.sources.is_empty() {
        Vec::new()
    } else {
        movers(&before.sources, &after.sources, "other sources")
    };
    Changes {
        before: before.label.clone(),
        after: after.label.clone(),
        total_before: before.total(),
        total_after: after.total(),
        change: after.total() - before.total(),
        by_nat: movers(&before.nats, &after.nats, "other NAT gateways"),
        by_component: movers(&before.components, &after.components, "other components"),
        by_source,
    }
}

/// One month of a report: its cost lines, and its allocation rows when every one is measured.
fn month(model: &CostModel, allocation: &Allocation, start: DateTime<Utc>) -> Period {
    let mut p = Period {
        label: start.format("%Y-%m").to_string(),
        ..Period::default()
    };
    for nat in &model.nats {
        for l in nat.lines.iter().filter(|l| l.period_start == start) {
            p.add_line(
                &nat.nat_gateway_id,
                nat.label(),
                l.charge.component,
                l.charge.quantity,
                l.charge.cost,
            );
        }
    }
    let rows: Vec<&Row> = allocation
        .rows
        .iter()
        .filter(|r| r.month == Some(start))
        .collect();
    if rows
        .iter()
        .all(|r| r.basis == crate::allocation::Basis::Measured)
    {
        for r in rows {
            p.add_allocated(
                (&r.account_id, &r.region),
                (r.source.kind, &r.source.id, &r.source.name),
                (&r.nat_gateway_id, &r.nat_name),
                r.known_cost(),
                r.gb.unwrap_or_default(),
            );
        }
    }
    p
}

/// The change between the report's last two whole months; None with fewer than two.
pub fn last_two_months(model: &CostModel, allocation: &Allocation) -> Option<Changes> {
    let whole: Vec<DateTime<Utc>> = crate::price::model::months(model.window)
        .into_iter()
        .filter(|(s, e)| crate::price::model::is_whole_month(*s, *e))
        .map(|(s, _)| s)
        .collect();
    let [.., before, after] = whole.as_slice() else {
        return None;
    };
    Some(explain(
        &month(model, allocation, *before),
        &month(model, allocation, *after),
    ))
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::fixture::Fixture;
    use crate::price::{model, PriceBook};

    #[test]
    fn the_last_two_whole_months_are_explained_and_each_list_adds_up() {
        let snap = Fixture::two_months().snapshot();
        let m = model::price(&snap, &PriceBook::bundled()).unwrap();
        let a = crate::allocation::allocate(&snap, &m, None, Default::default());
        let c = last_two_months(&m, &a).expect("two whole months");
        assert_eq!(
            (c.before.as_str(), c.after.as_str()),
            ("2026-10", "2026-11")
        );
        // October: 744 h × 0.059 = 43.896, 744 × 0.005 = 3.72, 744 GB × 0.059 = 43.896,
        // inter-AZ 744 GB × 0.01 = 7.44. November (720 h, twice the bytes): 42.48, 3.60,
        // 1440 GB × 0.059 = 84.96, 14.40.
        assert_eq!(c.total_before, dec!(98.952));
        assert_eq!(c.total_after, dec!(145.44));
        assert_eq!(c.change, dec!(46.488));
        let by: Vec<(&str, Decimal, Decimal)> = c
            .by_component
            .iter()
            .map(|x| (x.label.as_str(), x.change, x.gb_change))
            .collect();
        assert_eq!(
            by,
            [
                ("NAT data processed", dec!(41.064), dec!(696)),
                ("Inter-AZ transfer (est.)", dec!(6.96), dec!(0)),
                ("NAT hours", dec!(-1.416), dec!(0)),
                ("Public IPv4", dec!(-0.12), dec!(0)),
            ]
        );
        assert_eq!(c.by_nat.len(), 1);
        assert_eq!(c.by_nat[0].change, c.change);
        // Sources are estimated without flow logs: not an explanation.
        assert!(c.by_source.is_empty());
    }

    #[test]
    fn measured_sources_explain_the_change_too() {
        let mut f = Fixture::two_months();
        f.eni("s-a", "vpc-1");
        let snap = f.snapshot();
        let book = PriceBook::bundled();
        let flows = f.measured_flows();
        let m = model::price_with_flows(&snap, &book, Some(&flows)).unwrap();
        let a = crate::allocation::allocate(&snap, &m, Some(&flows), Default::default());
        let c = last_two_months(&m, &a).unwrap();
        let names: Vec<&str> = c.by_source.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(names, ["fn-a", "network interface (eni-s-a)", "fn-c"]);
        assert_eq!(
            c.by_source.iter().map(|s| s.change).sum::<Decimal>(),
            c.change
        );
        assert_eq!(c.by_source[0].via, ["nat-a"]);
        // fn-a: 60% of the bytes' growth, 696 GB.
        assert_eq!(c.by_source[0].gb_change, dec!(417.6));
    }

    #[test]
    fn one_whole_month_has_nothing_to_compare() {
        let snap = crate::snapshot::Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
        let m = model::price(&snap, &PriceBook::bundled()).unwrap();
        let a = crate::allocation::allocate(&snap, &m, None, Default::default());
        assert!(last_two_months(&m, &a).is_none());
    }

    #[test]
    fn a_long_tail_of_movers_is_one_line_and_still_adds_up() {
        let part = |cost: i64| Part {
            label: format!("n{cost}"),
            via: vec![],
            cost: Decimal::from(cost),
            gb: Decimal::ZERO,
        };
        let before: BTreeMap<i64, Part> = (1..=15).map(|i| (i, part(i))).collect();
        let after: BTreeMap<i64, Part> = (1..=15).map(|i| (i, part(2 * i))).collect();
        let m = movers(&before, &after, "others");
        assert_eq!(m.len(), MOVERS);
        assert_eq!(m[0].label, "n30");
        assert_eq!(m[MOVERS - 1].label, "6 others");
        assert_eq!(
            m.iter().map(|c| c.change).sum::<Decimal>(),
            Decimal::from(120)
        );
    }
}

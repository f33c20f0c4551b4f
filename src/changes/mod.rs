//! What changed between two periods (the last two whole months of a report, or two saved
//! reports): the total change explained by NAT gateway, by cost component and by source, each
//! list adding up to the total change; and days whose bytes jump (anomalies).

mod anomalies;
pub mod saved;

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::allocation::{Allocation, Basis, FixedCosts, Row};
use crate::price::model::{Component, CostModel};
use crate::traffic::{SourceKind, MEASURED_MIN_DAYS, MEASURED_MIN_SHARE};
pub use anomalies::{anomalies, Anomaly, ANOMALY_FACTOR, ANOMALY_FLOOR_GB, TRAILING_DAYS};

/// How many movers each list names; the rest are one "others" line, so the list still adds up.
pub const MOVERS: usize = 10;

/// One thing's cost and GB in a period.
#[derive(Debug, Clone, Default)]
pub struct Part {
    pub label: String,
    /// The NAT gateways it went through (sources).
    pub via: Vec<String>,
    /// What is known of its cost.
    pub cost: Decimal,
    pub gb: Decimal,
    /// Some of its cost is unknown (byte metrics missing).
    pub unknown: bool,
}

/// A period's cost, by NAT gateway, component and source (what a change is explained by).
#[derive(Debug, Clone, Default)]
pub struct Period {
    pub label: String,
    /// The span it covers, when known (a saved report's window).
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// How its allocation placed fixed costs, when known.
    pub fixed_costs: Option<FixedCosts>,
    pub nats: BTreeMap<String, Part>,
    pub components: BTreeMap<Component, Part>,
    /// Measured sources, and one line per NAT gateway whose sources are not measured.
    pub sources: BTreeMap<String, Part>,
    /// Whether any NAT gateway's sources are measured (by flow logs).
    pub measured_sources: bool,
}

impl Period {
    pub fn total(&self) -> Decimal {
        self.nats.values().map(|p| p.cost).sum()
    }

    fn complete(&self) -> bool {
        !self.nats.values().any(|p| p.unknown)
    }

    fn add_line(
        &mut self,
        (id, label): (&str, &str),
        component: Component,
        gb: Option<Decimal>,
        cost: Option<Decimal>,
    ) {
        let gb = match component {
            Component::NatBytes => gb.unwrap_or_default(),
            _ => Decimal::ZERO,
        };
        for part in [
            self.nats.entry(id.to_string()).or_insert_with(|| Part {
                label: label.to_string(),
                ..Part::default()
            }),
            self.components.entry(component).or_insert_with(|| Part {
                label: component.label().to_string(),
                ..Part::default()
            }),
        ] {
            part.cost += cost.unwrap_or_default();
            part.gb += gb;
            part.unknown |= cost.is_none();
        }
    }

    /// Adds an allocation row: to its source when flow logs measured it, else to one line for
    /// its NAT gateway (so the sources still add up to the total).
    fn add_allocated(&mut self, r: &Row) {
        self.add_allocated_as(r, r.basis == Basis::Measured);
    }

    /// The same, `measured` saying whether the row's split is measured in this period.
    fn add_allocated_as(&mut self, r: &Row, measured: bool) {
        let nat = if r.nat_name.is_empty() {
            r.nat_gateway_id.as_str()
        } else {
            r.nat_name.as_str()
        };
        let s = &r.source;
        let (key, label) = if measured {
            // An idle NAT gateway's row is "measured" too (no traffic), but no source is.
            self.measured_sources |= !matches!(s.kind, SourceKind::Idle | SourceKind::Shared);
            match s.ecs_group() {
                // One line per ECS service or task family, not per task's interface.
                Some(group) => (
                    format!("{}/{}/ecs:{group}", r.account_id, r.region),
                    s.name.clone(),
                ),
                None => (
                    source_key(&r.account_id, &r.region, s.kind, &s.id, &r.nat_gateway_id),
                    source_label(s.kind, &s.id, &s.name, nat),
                ),
            }
        } else {
            (
                format!("unmeasured@{}", r.nat_gateway_id),
                format!("{nat}: sources not measured"),
            )
        };
        let part = self.sources.entry(key).or_insert_with(|| Part {
            label,
            ..Part::default()
        });
        if !part.via.iter().any(|v| v == nat) {
            part.via.push(nat.to_string());
        }
        part.cost += r.known_cost();
        part.gb += r.gb.unwrap_or_default();
        part.unknown |= r.cost_usd().is_none();
    }
}

/// A source's key across NAT gateways: a function or interface once; what is no source (idle,
/// shared, unattributed) once per NAT gateway.
fn source_key(account: &str, region: &str, kind: SourceKind, id: &str, nat: &str) -> String {
    if kind.is_per_nat() {
        format!("{account}/{region}/{}:{id}@{nat}", kind.as_str())
    } else {
        format!("{account}/{region}/{}:{id}", kind.as_str())
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
    /// Part of its cost is unknown in either period: its change is not shown as a number.
    pub unknown: bool,
}

/// The change from one period to the next, explained three ways.
#[derive(Debug, Clone, Serialize)]
pub struct Changes {
    pub before: String,
    pub after: String,
    pub total_before: Decimal,
    pub total_after: Decimal,
    pub change: Decimal,
    /// No cost is unknown in either period (else the totals are what is known).
    pub complete: bool,
    pub by_nat: Vec<Change>,
    pub by_component: Vec<Change>,
    /// Empty when no source is measured in both periods (`sources_note` says why).
    pub by_source: Vec<Change>,
    pub sources_note: Option<String>,
    /// What makes the comparison weaker: unknown costs, windows that overlap or differ.
    pub notes: Vec<String>,
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
            unknown: b.is_some_and(|p| p.unknown) || a.is_some_and(|p| p.unknown),
        });
    }
    // Unchanged lines stay (last), so that each column adds up to its total.
    out.retain(|c| {
        !(c.before.is_zero() && c.after.is_zero() && c.gb_change.is_zero() && !c.unknown)
    });
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
            unknown: rest.iter().any(|c| c.unknown),
        });
    }
    out
}

/// What makes two saved reports' windows a weak comparison, if anything.
fn window_notes(before: &Period, after: &Period) -> Vec<String> {
    let (Some((b0, b1)), Some((a0, a1))) = (before.window, after.window) else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    if a0 < b0 {
        notes.push(
            "the NEW report's window starts before the OLD one's: give the earlier report first"
                .to_string(),
        );
    }
    if a0 < b1 && b0 < a1 {
        notes.push(
            "the two windows overlap: the change counts their shared hours on both sides"
                .to_string(),
        );
    }
    let (hb, ha) = ((b1 - b0).num_hours(), (a1 - a0).num_hours());
    if (hb - ha).abs() > 24 {
        notes.push(format!(
            "the windows differ in length ({hb} h and {ha} h): part of the change is the length; compare reports of the same length, e.g. one calendar month each"
        ));
    }
    notes
}

/// The change from `before` to `after`; each list adds up to the total change.
pub fn explain(before: &Period, after: &Period) -> Changes {
    let mut notes = window_notes(before, after);
    let complete = before.complete() && after.complete();
    if !complete {
        notes.push(
            "some costs are unknown (byte metrics missing): the totals count what is known, and lines marked unknown are what it leaves out".into(),
        );
    }
    let sources_note = if !(before.measured_sources && after.measured_sources) {
        Some(
            "by source: needs flow logs measuring the sources in both periods (--flow-logs)"
                .to_string(),
        )
    } else if before.fixed_costs != after.fixed_costs {
        Some("by source: the two reports place fixed costs differently (--fixed-costs), so their sources do not compare".to_string())
    } else {
        None
    };
    Changes {
        before: before.label.clone(),
        after: after.label.clone(),
        total_before: before.total(),
        total_after: after.total(),
        change: after.total() - before.total(),
        complete,
        by_nat: movers(&before.nats, &after.nats, "other NAT gateways"),
        by_component: movers(&before.components, &after.components, "other components"),
        by_source: match sources_note {
            None => movers(&before.sources, &after.sources, "other sources"),
            Some(_) => Vec::new(),
        },
        sources_note,
        notes,
    }
}

/// One month of a report: its cost lines, and its allocation rows by source, measured for the
/// NAT gateways in `measured` (those whose two months are each split by their own flow logs).
fn month(
    model: &CostModel,
    allocation: &Allocation,
    measured: &HashSet<&str>,
    start: DateTime<Utc>,
) -> Period {
    let mut p = Period {
        label: start.format("%Y-%m").to_string(),
        fixed_costs: Some(allocation.fixed_costs),
        ..Period::default()
    };
    for nat in &model.nats {
        for l in nat.lines.iter().filter(|l| l.period_start == start) {
            let c = &l.charge;
            p.add_line(
                (&nat.nat_gateway_id, nat.label()),
                c.component,
                c.quantity,
                c.cost,
            );
        }
    }
    for r in allocation.rows.iter().filter(|r| r.month == Some(start)) {
        // A month split by the window's shares (its own logs too few) explains nothing of it,
        // nor one month measured against the other not; what is no source (idle, fixed costs
        // kept apart) does not depend on the split.
        let own = matches!(r.source.kind, SourceKind::Idle | SourceKind::Shared)
            || measured.contains(r.nat_gateway_id.as_str());
        p.add_allocated_as(r, r.basis == Basis::Measured && own);
    }
    p
}

/// The change between the report's last two whole months; None with fewer than two. By source
/// for the NAT gateways whose two months are each split by their own flow logs (else one line
/// per NAT gateway).
pub fn last_two_months(model: &CostModel, allocation: &Allocation) -> Option<Changes> {
    let whole: Vec<DateTime<Utc>> = crate::price::model::months(model.window)
        .into_iter()
        .filter(|(s, e)| crate::price::model::is_whole_month(*s, *e))
        .map(|(s, _)| s)
        .collect();
    let [.., before, after] = whole.as_slice() else {
        return None;
    };
    let in_month = |m: &DateTime<Utc>| -> HashSet<&str> {
        allocation
            .months_measured
            .iter()
            .filter(|(_, month)| month == m)
            .map(|(nat, _)| nat.as_str())
            .collect()
    };
    let measured: HashSet<&str> = in_month(before)
        .intersection(&in_month(after))
        .copied()
        .collect();
    let mut c = explain(
        &month(model, allocation, &measured, *before),
        &month(model, allocation, &measured, *after),
    );
    if c.by_source.is_empty() {
        let flows = allocation
            .rows
            .iter()
            .any(|r| r.basis == Basis::Measured && !r.source.kind.is_per_nat());
        c.sources_note = Some(if flows {
            format!("by source: the flow logs do not measure both months on their own (a NAT gateway's month needs records on {MEASURED_MIN_DAYS} of its days, or {}% of its bytes); make one report per month with --flow-logs and compare them with `natcost diff`", MEASURED_MIN_SHARE * 100.0)
        } else {
            "by source: needs flow logs (--flow-logs) covering both months, or one report per month compared with `natcost diff`".into()
        });
    }
    Some(c)
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
        let a = crate::allocation::allocate(&snap, &m, None, &Default::default());
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

    /// two_months with flow logs on nat-a, by day: October 270 bytes a day from fn-a (s-a) and
    /// 180 from fn-c (s-c, another AZ), November 31 and 124: 60/40 then 20/80, half from each
    /// subnet over the window (as the head-count estimate). Each month's own records measure
    /// it, so its inter-AZ line takes its own share: 744 GB × 0.4 × 2 × 0.01 = 5.952 in
    /// October, 1440 × 0.8 × 0.02 = 23.04 in November (7.44 and 14.40 at the window's half).
    fn two_months_flows(f: &Fixture) -> crate::traffic::Attribution {
        use crate::traffic::{SourceBytes, SourceRef};
        let function = |name: &str| {
            SourceRef::lambda(
                f.r.lambda_functions
                    .iter()
                    .find(|x| x.function_name == name)
                    .unwrap(),
            )
        };
        let by = |name: &str, subnet: &str, bytes| SourceBytes {
            source: function(name),
            subnet: Some(subnet.into()),
            bytes,
        };
        let mut a =
            crate::fixture::nat_a_flows(60, vec![by("fn-a", "s-a", 9300), by("fn-c", "s-c", 9300)]);
        let t = &mut a.nats[0];
        t.source_subnets = [("s-a".to_string(), 9300), ("s-c".to_string(), 9300)]
            .into_iter()
            .collect();
        for day in 0..61 {
            let date = (crate::fixture::start() + chrono::Duration::days(day)).date_naive();
            let (fa, fc) = if day < 31 { (270, 180) } else { (31, 124) };
            t.daily_sources
                .insert(date, vec![by("fn-a", "s-a", fa), by("fn-c", "s-c", fc)]);
        }
        a
    }

    /// The first NAT gateway's inter-AZ cost, month by month.
    fn inter_az_costs(m: &CostModel) -> Vec<Option<Decimal>> {
        m.nats[0]
            .lines
            .iter()
            .filter(|l| l.charge.component == Component::InterAz)
            .map(|l| l.charge.cost)
            .collect()
    }

    #[test]
    fn each_months_own_flow_logs_split_it_and_explain_the_change_by_source() {
        let f = Fixture::two_months();
        let snap = f.snapshot();
        let flows = two_months_flows(&f);
        let m = model::price_with_flows(&snap, &PriceBook::bundled(), Some(&flows)).unwrap();
        assert_eq!(inter_az_costs(&m), [Some(dec!(5.952)), Some(dec!(23.04))]);
        let a = crate::allocation::allocate(&snap, &m, Some(&flows), &Default::default());
        let gb = |month: u32, name: &str| {
            a.rows
                .iter()
                .find(|r| {
                    r.source.name == name
                        && r.month
                            .is_some_and(|m| chrono::Datelike::month(&m) == month)
                })
                .and_then(|r| r.gb)
                .unwrap()
                .round_dp(6)
        };
        // October's 744 GB 60/40, November's 1440 GB 20/80.
        assert_eq!(
            [
                gb(10, "fn-a"),
                gb(10, "fn-c"),
                gb(11, "fn-a"),
                gb(11, "fn-c")
            ],
            [dec!(446.4), dec!(297.6), dec!(288), dec!(1152)]
        );
        assert_eq!(a.months_measured.len(), 2);
        let c = last_two_months(&m, &a).unwrap();
        assert!(c.sources_note.is_none(), "{:?}", c.sources_note);
        let by: Vec<(&str, Decimal, Decimal)> = c
            .by_source
            .iter()
            .map(|x| (x.label.as_str(), x.before.round_dp(6), x.after.round_dp(6)))
            .collect();
        // fn-c: October 0.4 × (43.896 + 3.72) fixed + 297.6 GB × 0.059 + all 5.952 inter-AZ
        // = 42.5568; November 0.8 × (42.48 + 3.60) + 1152 × 0.059 + 23.04 = 127.872.
        // fn-a: 0.6 × 47.616 + 446.4 × 0.059 = 54.9072; 0.2 × 46.08 + 288 × 0.059 = 26.208.
        assert_eq!(
            by,
            [
                ("fn-c", dec!(42.5568), dec!(127.872)),
                ("fn-a", dec!(54.9072), dec!(26.208)),
            ]
        );
        // 97.464 (43.896 + 3.72 + 43.896 + 5.952) to 154.08 (42.48 + 3.60 + 84.96 + 23.04).
        assert_eq!(c.change, dec!(56.616));
        assert_eq!(
            c.by_source.iter().map(|x| x.change).sum::<Decimal>(),
            c.change
        );

        // Without records dated in the months, the window's split is no explanation of them.
        let mut undated = flows.clone();
        undated.nats[0].daily_sources.clear();
        let a = crate::allocation::allocate(&snap, &m, Some(&undated), &Default::default());
        assert!(a.months_measured.is_empty());
        let c = last_two_months(&m, &a).unwrap();
        assert!(c.by_source.is_empty());
        let note = c.sources_note.unwrap();
        assert!(note.contains("do not measure both months"), "{note}");
    }

    /// A month its own records do not measure (November: 3 days, a sliver of its bytes; then
    /// October's clients not placed in any subnet) takes the window's inter-AZ share, as
    /// allocation takes the window's split for it; a measured month its own.
    #[test]
    fn only_a_month_measured_by_its_own_placed_records_takes_its_own_inter_az_share() {
        let f = Fixture::two_months();
        let snap = f.snapshot();
        let mut flows = two_months_flows(&f);
        let t = &mut flows.nats[0];
        let november = (crate::fixture::start() + chrono::Duration::days(31)).date_naive();
        t.daily_sources
            .retain(|d, _| *d < november + chrono::Duration::days(3));
        let inter_az = |flows: &crate::traffic::Attribution| {
            let m = model::price_with_flows(&snap, &PriceBook::bundled(), Some(flows)).unwrap();
            let a = crate::allocation::allocate(&snap, &m, Some(flows), &Default::default());
            (inter_az_costs(&m), a.months_measured.len())
        };
        assert_eq!(
            inter_az(&flows),
            (vec![Some(dec!(5.952)), Some(dec!(14.40))], 1)
        );
        // October's records name no subnet: who crosses is not known from them.
        for list in flows.nats[0].daily_sources.values_mut() {
            for b in list {
                b.subnet = None;
            }
        }
        assert_eq!(
            inter_az(&flows),
            (vec![Some(dec!(7.44)), Some(dec!(14.40))], 0)
        );
    }

    #[test]
    fn a_nat_gateway_measured_in_one_month_only_is_one_unmeasured_line() {
        // nat-a as above (both months measured); nat-b's logs (fn-b) cover October only.
        let mut f = Fixture::two_months();
        f.subnet("s-b", "vpc-1", "ap-northeast-2a")
            .nat("nat-b", "vpc-1", "ap-northeast-2a", 1.0)
            .route("rtb-b", "vpc-1", &["s-b"], "nat-b")
            .lambda("fn-b", &["s-b"]);
        let snap = f.snapshot();
        let mut flows = two_months_flows(&f);
        let fn_b = crate::traffic::SourceBytes {
            source: crate::traffic::SourceRef::lambda(f.r.lambda_functions.last().unwrap()),
            subnet: Some("s-b".into()),
            bytes: 100,
        };
        let mut b = flows.nats[0].clone();
        b.nat_gateway_id = "nat-b".into();
        b.by_source = vec![fn_b.clone()];
        b.source_subnets = [("s-b".to_string(), 100)].into_iter().collect();
        b.daily_sources = (0..31)
            .map(|d| {
                let date = (crate::fixture::start() + chrono::Duration::days(d)).date_naive();
                (date, vec![fn_b.clone()])
            })
            .collect();
        flows.nats.push(b);
        let m = model::price_with_flows(&snap, &PriceBook::bundled(), Some(&flows)).unwrap();
        let a = crate::allocation::allocate(&snap, &m, Some(&flows), &Default::default());
        assert_eq!(a.months_measured.len(), 3, "nat-a twice, nat-b in October");
        let c = last_two_months(&m, &a).unwrap();
        let labels: Vec<&str> = c.by_source.iter().map(|x| x.label.as_str()).collect();
        assert_eq!(labels, ["fn-c", "fn-a", "nat-b: sources not measured"]);
        let nat_b = m.nats.iter().find(|n| n.nat_gateway_id == "nat-b").unwrap();
        let month_cost = |month: u32| -> Decimal {
            nat_b
                .lines
                .iter()
                .filter(|l| chrono::Datelike::month(&l.period_start) == month)
                .filter_map(|l| l.charge.cost)
                .sum()
        };
        let line = &c.by_source[2];
        assert_eq!((line.before, line.after), (month_cost(10), month_cost(11)));
        assert_eq!(
            c.by_source.iter().map(|x| x.change).sum::<Decimal>(),
            c.change
        );
    }

    fn allocated(id: &str, nat: &str, measured: bool, cost: i64) -> Row {
        Row {
            month: None,
            account_id: "1".into(),
            region: "r".into(),
            vpc_id: "vpc-1".into(),
            nat_gateway_id: nat.into(),
            nat_name: String::new(),
            source: crate::traffic::SourceRef {
                kind: SourceKind::Lambda,
                id: id.into(),
                name: id.into(),
            },
            team: String::new(),
            gb: Some(Decimal::ZERO),
            data_processing_usd: Some(Decimal::from(cost)),
            fixed_share_usd: Decimal::ZERO,
            inter_az_usd: Some(Decimal::ZERO),
            basis: if measured {
                Basis::Measured
            } else {
                Basis::EstimatedHeadcount
            },
        }
    }

    /// Two periods: nat-1's sources measured (f1, f2), nat-2's not.
    fn period(f1: i64, f2: i64, other: i64) -> Period {
        let mut p = Period::default();
        p.add_line(
            ("nat-1", "nat-1"),
            Component::NatBytes,
            Some(Decimal::ZERO),
            Some(Decimal::from(f1 + f2)),
        );
        p.add_line(
            ("nat-2", "nat-2"),
            Component::NatBytes,
            Some(Decimal::ZERO),
            Some(Decimal::from(other)),
        );
        p.add_allocated(&allocated("f1", "nat-1", true, f1));
        p.add_allocated(&allocated("f2", "nat-1", true, f2));
        p.add_allocated(&allocated("x", "nat-2", false, other));
        p
    }

    #[test]
    fn measured_sources_explain_the_change_and_the_rest_is_per_nat_gateway() {
        let c = explain(&period(10, 5, 7), &period(30, 4, 8));
        let by: Vec<(&str, Decimal)> = c
            .by_source
            .iter()
            .map(|s| (s.label.as_str(), s.change))
            .collect();
        assert_eq!(
            by,
            [
                ("f1", dec!(20)),
                ("f2", dec!(-1)),
                ("nat-2: sources not measured", dec!(1)),
            ]
        );
        assert_eq!(c.change, dec!(20));
        assert!(c.sources_note.is_none());
        // Fixed costs placed differently: sources do not compare.
        let mut before = period(10, 5, 7);
        before.fixed_costs = Some(FixedCosts::Separate);
        let c = explain(&before, &period(30, 4, 8));
        assert!(c.by_source.is_empty());
        assert!(c.sources_note.unwrap().contains("--fixed-costs"));
        // No source measured in one of them.
        let mut after = Period::default();
        after.add_line(("nat-1", "nat-1"), Component::NatHours, None, Some(dec!(1)));
        let c = explain(&period(10, 5, 7), &after);
        assert!(c.by_source.is_empty());
        assert!(c.sources_note.unwrap().contains("needs flow logs"));
    }

    #[test]
    fn an_ecs_services_interfaces_are_one_line_across_deployments() {
        let task = |eni: &str, nat: &str, cost: i64| {
            let mut r = allocated(eni, nat, true, cost);
            r.source.kind = SourceKind::Eni;
            r.source.name = "ECS prod/service:orders".into();
            r
        };
        let mut before = period(10, 5, 7);
        before.add_allocated(&task("eni-old1", "nat-1", 6));
        before.add_allocated(&task("eni-old2", "nat-1", 4));
        // Redeployed: new tasks, new interfaces.
        let mut after = period(10, 5, 7);
        after.add_allocated(&task("eni-new1", "nat-1", 9));
        after.add_allocated(&task("eni-new2", "nat-1", 3));
        let c = explain(&before, &after);
        let ecs: Vec<(&str, Decimal, Decimal)> = c
            .by_source
            .iter()
            .filter(|s| s.label.contains("ECS"))
            .map(|s| (s.label.as_str(), s.before, s.after))
            .collect();
        assert_eq!(ecs, [("ECS prod/service:orders", dec!(10), dec!(12))]);
    }

    #[test]
    fn unknown_costs_and_odd_windows_are_said() {
        let at = |d: u32| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 10, d, 0, 0, 0).unwrap();
        let mut before = Period {
            window: Some((at(1), at(15))),
            ..Period::default()
        };
        before.add_line(("nat-1", "nat-1"), Component::NatBytes, None, None);
        let mut after = Period {
            window: Some((at(10), at(31))),
            ..Period::default()
        };
        after.add_line(
            ("nat-1", "nat-1"),
            Component::NatBytes,
            Some(dec!(1)),
            Some(dec!(0.059)),
        );
        let c = explain(&before, &after);
        assert!(!c.complete);
        assert!(c.by_nat[0].unknown);
        let notes = c.notes.join("\n");
        assert!(notes.contains("overlap"), "{notes}");
        assert!(
            notes.contains("differ in length (336 h and 504 h)"),
            "{notes}"
        );
        assert!(notes.contains("some costs are unknown"), "{notes}");
    }

    #[test]
    fn one_whole_month_has_nothing_to_compare() {
        let snap = crate::snapshot::Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
        let m = model::price(&snap, &PriceBook::bundled()).unwrap();
        let a = crate::allocation::allocate(&snap, &m, None, &Default::default());
        assert!(last_two_months(&m, &a).is_none());
    }

    #[test]
    fn a_long_tail_of_movers_is_one_line_and_still_adds_up() {
        let part = |cost: i64| Part {
            label: format!("n{cost}"),
            cost: Decimal::from(cost),
            ..Part::default()
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

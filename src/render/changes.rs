//! What changed: a change explained by NAT gateway, component and source, as terminal text or
//! Markdown (report.md, `natcost diff`). Amounts are rounded to cents once, as everywhere
//! (`shown::round_shown`); a change shown is the after shown minus the before shown, and when a
//! column's lines do not add up to its total a rounding line says by how much, so every column
//! adds up as shown.

use std::fmt::Write;

use rust_decimal::Decimal;

use super::{cell, fixed, money, signed};
use crate::changes::{Anomaly, Change, Changes, ANOMALY_FACTOR, ANOMALY_FLOOR_GB, TRAILING_DAYS};
use crate::shown::{clipped, round_shown, rounding as rounding_of};

/// How many anomalous days the terminal lists (report.md lists more, report.json all).
pub const ANOMALIES_SHOWN: usize = 5;
/// How many anomalous days report.md lists.
pub const ANOMALIES_LISTED: usize = 50;

fn cents(d: Decimal) -> Decimal {
    round_shown(d, 2)
}

/// A change as shown: the after shown minus the before shown.
fn shown_change(before: Decimal, after: Decimal) -> Decimal {
    cents(after) - cents(before)
}

fn change_cell(c: &Change) -> String {
    if c.unknown {
        "unknown".into()
    } else {
        signed(shown_change(c.before, c.after))
    }
}

/// "orders-api +41.20 USD: +698.00 GB through prod-nat-a" (no GB for a change in hours).
pub fn sentence(c: &Change) -> String {
    let through = if c.via.is_empty() {
        String::new()
    } else {
        format!(" through {}", c.via.join(", "))
    };
    let gb = if c.gb_change.is_zero() {
        String::new()
    } else {
        format!(": {} GB", signed(c.gb_change))
    };
    let usd = if c.unknown {
        "unknown (byte metrics missing)".to_string()
    } else {
        format!("{} USD", change_cell(c))
    };
    format!("{} {usd}{gb}{through}", c.label)
}

/// What the lines shown leave of the totals shown (before, after, change), if anything. With
/// unknown costs the lines cannot add up, and a note says so instead.
fn rounding(lines: &[Change], c: &Changes) -> Option<[Decimal; 3]> {
    if !c.complete {
        return None;
    }
    let before = rounding_of(lines.iter().map(|l| l.before), c.total_before, 2);
    let after = rounding_of(lines.iter().map(|l| l.after), c.total_after, 2);
    let r = [before, after, after - before];
    r.iter().any(|d| !d.is_zero()).then_some(r)
}

fn lists(c: &Changes) -> Vec<(&'static str, &[Change])> {
    let mut l: Vec<(&str, &[Change])> = vec![
        ("By NAT gateway", &c.by_nat),
        ("By component", &c.by_component),
    ];
    if !c.by_source.is_empty() {
        l.push(("By source (flow logs)", &c.by_source));
    }
    l
}

/// The headline: "2026-10 → 2026-11: 850.68 → 891.88 USD (+41.20)".
pub fn headline(c: &Changes) -> String {
    format!(
        "{} → {}: {} → {} USD ({}){}",
        c.before,
        c.after,
        money(c.total_before),
        money(c.total_after),
        signed(shown_change(c.total_before, c.total_after)),
        if c.complete {
            ""
        } else {
            ", at least: some costs are unknown"
        }
    )
}

/// What weakens the comparison, and why sources are not given.
fn notes(c: &Changes) -> impl Iterator<Item = &String> {
    c.notes.iter().chain(c.sources_note.iter())
}

pub fn table(c: &Changes) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "What changed, {}", clipped(&headline(c), 200));
    for (title, lines) in lists(c) {
        let _ = writeln!(o, "  {title}:");
        for l in lines {
            let _ = writeln!(o, "    {}", clipped(&sentence(l), 160));
        }
        if let Some(r) = rounding(lines, c).filter(|r| !r[2].is_zero()) {
            let _ = writeln!(o, "    (rounding of the lines above: {} USD)", signed(r[2]));
        }
    }
    for n in notes(c) {
        let _ = writeln!(o, "  note: {n}");
    }
    o
}

pub fn markdown_section(c: &Changes, heading: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{heading}\n");
    let _ = writeln!(o, "{}\n", crate::shown::markdown(&headline(c)));
    for n in notes(c) {
        let _ = writeln!(o, "- {}", crate::shown::markdown(n));
    }
    if notes(c).next().is_some() {
        let _ = writeln!(o);
    }
    for (title, lines) in lists(c) {
        let _ = writeln!(o, "**{title}**, largest movers first:\n");
        let _ = writeln!(
            o,
            "| What | Before USD | After USD | Change USD | Change GB | Through |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---|");
        for l in lines {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&l.label),
                money(l.before),
                money(l.after),
                change_cell(l),
                if l.gb_change.is_zero() {
                    String::new()
                } else {
                    signed(l.gb_change)
                },
                cell(&l.via.join(", "))
            );
        }
        if let Some(r) = rounding(lines, c) {
            let _ = writeln!(
                o,
                "| (rounding of the lines above) | {} | {} | {} | | |",
                signed(r[0]),
                signed(r[1]),
                signed(r[2])
            );
        }
        let _ = writeln!(
            o,
            "| **Total** | {} | {} | {} | | |\n",
            money(c.total_before),
            money(c.total_after),
            signed(shown_change(c.total_before, c.total_after))
        );
    }
    o
}

/// The rule anomalies are found by.
pub fn anomaly_rule() -> String {
    format!(
        "a whole day of the NAT gateway's life whose GB exceed {ANOMALY_FACTOR}× its median over the {TRAILING_DAYS} whole days before it, and that median by more than {ANOMALY_FLOOR_GB} GB"
    )
}

pub fn anomaly_line(a: &Anomaly) -> String {
    format!(
        "{} {}: {} GB (median {} GB) = {} USD data processing",
        a.date,
        a.nat_label,
        fixed(a.gb, 2),
        fixed(a.median_gb, 2),
        money(a.usd)
    )
}

/// Who sent the day's bytes, as flow logs dated to it saw them; None without flow logs.
pub fn anomaly_sources(a: &Anomaly, flows: bool) -> Option<String> {
    let logged = match a.logged_gb {
        Some(gb) => gb,
        None if flows => return Some("no flow-log record dated to the day".into()),
        None => return None,
    };
    let top: Vec<String> = a
        .top_sources
        .iter()
        .map(|s| {
            format!(
                "{} {} GB ({:.0}%)",
                s.label,
                fixed(s.gb, 2),
                100.0 * s.share
            )
        })
        .collect();
    Some(format!(
        "flow logs of the day ({} GB from sources): {}",
        fixed(logged, 2),
        top.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use crate::fixture::Fixture;
    use crate::price::PriceBook;
    use crate::report::Report;

    #[test]
    fn the_report_says_what_changed_and_which_days_jumped() {
        let snap = Fixture::two_months().snapshot();
        let report = Report::build(&snap, &PriceBook::bundled(), "test", None).unwrap();
        let md = crate::render::markdown::render(&report, &[]);
        assert!(md.contains("## What changed since last month"), "{md}");
        assert!(
            md.contains("| NAT data processed | 43.90 | 84.96 | +41.06 | +696.00 |  |"),
            "{md}"
        );
        let text = crate::render::table::render(&report, None);
        assert!(
            text.contains("NAT data processed +41.06 USD: +696.00 GB"),
            "{text}"
        );

        let report = Report::build(
            &Fixture::spiky().snapshot(),
            &PriceBook::bundled(),
            "t",
            None,
        )
        .unwrap();
        assert_eq!(report.anomalies.len(), 1);
        let md = crate::render::markdown::render(&report, &[]);
        assert!(
            md.contains(
                "- 2026-10-16 busy-nat: 240.00 GB (median 24.00 GB) = 14.16 USD data processing"
            ),
            "{md}"
        );
        // Ringed on daily_gb.png.
        let mut svg = String::new();
        crate::render::chart::daily_gb_svg(&report, &mut svg).unwrap();
        assert!(svg.contains("a day whose bytes jumped"), "no legend");
        assert_eq!(svg.matches("<circle").count(), 1, "one ring on the line");
    }

    #[test]
    fn a_jumping_day_names_its_top_sources_from_the_flow_logs_of_that_day() {
        use crate::traffic::{SourceBytes, SourceRef};
        let gib = 1u64 << 30;
        let eni = |id: &str, name: &str, gib_n: u64| SourceBytes {
            source: SourceRef {
                kind: crate::traffic::SourceKind::Eni,
                id: id.into(),
                name: name.into(),
            },
            subnet: None,
            bytes: gib_n * gib,
        };
        let mut flows = crate::fixture::nat_a_flows(20, vec![]);
        flows.nats[0].nat_gateway_id = "busy-nat".into();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 16).unwrap();
        flows.nats[0].daily_sources.insert(
            day,
            vec![
                eni("eni-d", "d", 2),
                eni("eni-a", "batch", 150),
                eni("eni-c", "c", 4),
                eni("eni-b", "web", 44),
            ],
        );
        let snap = Fixture::spiky().snapshot();
        let report = Report::build(&snap, &PriceBook::bundled(), "t", Some(flows.clone())).unwrap();
        let a = &report.anomalies[0];
        assert_eq!(a.logged_gb, Some(rust_decimal_macros::dec!(200)));
        let top: Vec<(&str, f64)> = a
            .top_sources
            .iter()
            .map(|s| (s.label.as_str(), s.share))
            .collect();
        assert_eq!(
            top,
            [
                ("batch (eni-a)", 0.75),
                ("web (eni-b)", 0.22),
                ("c (eni-c)", 0.02)
            ]
        );
        let md = crate::render::markdown::render(&report, &[]);
        assert!(
            md.contains("  - flow logs of the day (200.00 GB from sources): batch (eni-a) 150.00 GB (75%), web (eni-b) 44.00 GB (22%), c (eni-c) 4.00 GB (2%)\n"),
            "{md}"
        );
        let text = crate::render::table::render(&report, None);
        assert!(
            text.contains("\n    flow logs of the day (200.00 GB from sources): batch (eni-a) 150.00 GB (75%)"),
            "{text}"
        );
        // Flow logs with nothing dated that day say so.
        flows.nats[0].daily_sources.clear();
        let report = Report::build(&snap, &PriceBook::bundled(), "t", Some(flows)).unwrap();
        assert!(report.anomalies[0].top_sources.is_empty());
        let md = crate::render::markdown::render(&report, &[]);
        assert!(
            md.contains("  - no flow-log record dated to the day\n"),
            "{md}"
        );
    }

    #[test]
    fn half_cents_round_one_way_and_every_column_adds_up_as_shown() {
        use crate::changes::{Change, Changes};
        use rust_decimal_macros::dec;
        // 25 h × 0.005 = 0.125 before (shown 0.13, away from zero), nothing after.
        let line = |label: &str, before, after| Change {
            label: label.into(),
            via: vec![],
            before,
            after,
            change: after - before,
            gb_change: dec!(0),
            unknown: false,
        };
        let lines = vec![
            line("a", dec!(0.125), dec!(0)),
            line("b", dec!(0.125), dec!(1)),
        ];
        let c = Changes {
            before: "A".into(),
            after: "B".into(),
            total_before: dec!(0.25),
            total_after: dec!(1),
            change: dec!(0.75),
            complete: true,
            by_nat: lines,
            by_component: vec![],
            by_source: vec![],
            sources_note: None,
            notes: vec![],
        };
        let md = super::markdown_section(&c, "# t");
        assert!(md.contains("| a | 0.13 | 0.00 | -0.13 |"), "{md}");
        // 0.13 + 0.13 = 0.26 shown against a total of 0.25: the rounding line says so.
        assert!(
            md.contains("| (rounding of the lines above) | -0.01 | 0.00 | +0.01 | | |"),
            "{md}"
        );
        assert!(
            md.contains("| **Total** | 0.25 | 1.00 | +0.75 | | |"),
            "{md}"
        );
    }
}

//! What changed: a change explained by NAT gateway, component and source, as terminal text or
//! Markdown (report.md, `natcost diff`). Amounts are rounded to cents once; a change shown is
//! the after shown minus the before shown, and when a column's lines do not add up to its total
//! a rounding line says by how much, so every column adds up as shown.

use std::fmt::Write;

use rust_decimal::Decimal;

use super::{fixed, money};
use crate::changes::{Anomaly, Change, Changes, ANOMALY_FACTOR, ANOMALY_FLOOR_GB, TRAILING_DAYS};
use crate::shown::{clipped, markdown};

/// "+41.20" / "-3.05" / "0.00".
fn signed(d: Decimal) -> String {
    let shown = money(d);
    if d.round_dp(2) > Decimal::ZERO {
        format!("+{shown}")
    } else {
        shown
    }
}

fn signed_gb(d: Decimal) -> String {
    let shown = fixed(d, 2);
    if d.round_dp(2) > Decimal::ZERO {
        format!("+{shown}")
    } else {
        shown
    }
}

/// A change as shown: the after shown minus the before shown.
fn shown_change(before: Decimal, after: Decimal) -> Decimal {
    after.round_dp(2) - before.round_dp(2)
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
        format!(": {} GB", signed_gb(c.gb_change))
    };
    format!(
        "{} {} USD{gb}{through}",
        c.label,
        signed(shown_change(c.before, c.after))
    )
}

/// What the lines shown leave of the totals shown (before, after, change), if anything.
fn rounding(lines: &[Change], c: &Changes) -> Option<[Decimal; 3]> {
    let before =
        c.total_before.round_dp(2) - lines.iter().map(|l| l.before.round_dp(2)).sum::<Decimal>();
    let after =
        c.total_after.round_dp(2) - lines.iter().map(|l| l.after.round_dp(2)).sum::<Decimal>();
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
        "{} → {}: {} → {} USD ({})",
        c.before,
        c.after,
        money(c.total_before),
        money(c.total_after),
        signed(shown_change(c.total_before, c.total_after))
    )
}

pub fn table(c: &Changes) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "What changed, {}", headline(c));
    for (title, lines) in lists(c) {
        let _ = writeln!(o, "  {title}:");
        for l in lines {
            let _ = writeln!(o, "    {}", clipped(&sentence(l), 160));
        }
        if let Some(r) = rounding(lines, c) {
            let _ = writeln!(o, "    (rounding of the lines above: {} USD)", signed(r[2]));
        }
    }
    if c.by_source.is_empty() {
        let _ = writeln!(
            o,
            "  By source: needs flow logs covering both periods (--flow-logs)"
        );
    }
    o
}

pub fn markdown_section(c: &Changes, heading: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{heading}\n");
    let _ = writeln!(o, "{}\n", markdown(&headline(c)));
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
                markdown(&l.label),
                money(l.before),
                money(l.after),
                signed(shown_change(l.before, l.after)),
                if l.gb_change.is_zero() {
                    String::new()
                } else {
                    signed_gb(l.gb_change)
                },
                markdown(&l.via.join(", "))
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
    if c.by_source.is_empty() {
        let _ = writeln!(
            o,
            "By source: needs flow logs that cover the NAT gateways in both periods (`--flow-logs`); the head-count estimate would only repeat each NAT gateway's change.\n"
        );
    }
    o
}

/// How many anomalous days the terminal lists (report.md has all).
pub const ANOMALIES_SHOWN: usize = 5;

/// The rule anomalies are found by.
pub fn anomaly_rule() -> String {
    format!(
        "a day whose GB exceed {ANOMALY_FACTOR}× the NAT gateway's median over the {TRAILING_DAYS} days before it, and that median by at least {ANOMALY_FLOOR_GB} GB"
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
        assert_eq!(
            svg.matches("<circle").count(),
            2,
            "one ring on the line, one in the legend"
        );
    }
}

use anyhow::Result;
use chrono::Datelike;
use plotters::prelude::*;
use rust_decimal::Decimal;

use super::frame::{
    err, f, legend_column, month_bars, month_labels, slide_notes, slide_page, subtitle, text,
    OTHERS, PALETTE, SLIDE,
};
use crate::price::model::{Component, NatCost};
use crate::render::money;
use crate::report::Report;

/// NAT gateways monthly_cost.png draws one by one; the rest are one grey "others" on top.
const TOP: usize = 8;

/// A stack of a month bar: its name in the legend, its colour, and its USD in each month of
/// the window (`report.monthly_totals`).
pub(super) struct Stack {
    pub label: String,
    pub color: RGBColor,
    pub by_month: Vec<Decimal>,
}

/// The month as a bar's label: "2026-10", or "2026-09*" for a month the window covers in part
/// (with the footnote that says which part).
pub(super) fn month_label(report: &Report, notes: &mut Vec<String>) -> Vec<String> {
    report
        .monthly_totals
        .iter()
        .map(|m| {
            let first = m.period_start.date_naive();
            if m.partial {
                notes.push(format!(
                    "* {}: only {} to {} UTC is in the window",
                    first.format("%Y-%m"),
                    m.period_start.format("%m-%d %H:%M"),
                    m.period_end.format("%m-%d %H:%M")
                ));
                format!("{}*", first.format("%Y-%m"))
            } else {
                first.format("%Y-%m").to_string()
            }
        })
        .collect()
}

/// Cost per month, one stacked bar a month by NAT gateway: the eight costliest in the window,
/// then "others" in grey on top; with a bill, the month's billed total marked on its bar.
pub(super) fn monthly_cost(report: &Report, svg: &mut String) -> Result<()> {
    let title = super::MONTHLY_CHART.1;
    let mut by_cost: Vec<&NatCost> = report
        .nats
        .iter()
        .filter(|n| n.window_cost() > Decimal::ZERO)
        .collect();
    by_cost.sort_by_key(|n| std::cmp::Reverse(n.window_cost()));
    let rest = by_cost.split_off(by_cost.len().min(TOP));
    let month_cost = |n: &NatCost| -> Vec<Decimal> {
        report
            .monthly_totals
            .iter()
            .map(|m| {
                n.lines
                    .iter()
                    .filter(|l| l.period_start == m.period_start)
                    .filter_map(|l| l.charge.cost)
                    .sum()
            })
            .collect()
    };
    let mut stacks: Vec<Stack> = by_cost
        .iter()
        .zip(PALETTE)
        .map(|(n, color)| Stack {
            label: super::frame::nat_label(n),
            color,
            by_month: month_cost(n),
        })
        .collect();
    let mut notes = Vec::new();
    if !rest.is_empty() {
        let mut sum = vec![Decimal::ZERO; report.monthly_totals.len()];
        for n in &rest {
            for (s, c) in sum.iter_mut().zip(month_cost(n)) {
                *s += c;
            }
        }
        stacks.push(Stack {
            label: format!("{} others", rest.len()),
            color: OTHERS,
            by_month: sum,
        });
        notes.push(format!(
            "The {} costliest NAT gateways in the window have a colour each; grey adds up the other {} (every one is in costs.csv and report.md).",
            by_cost.len(),
            rest.len()
        ));
    }
    draw_months(report, svg, title, "NAT gateway", stacks, notes, true)
}

/// Cost per month by component (hours, data processing, public IPv4, inter-AZ), all NAT
/// gateways together.
pub(super) fn monthly_components(report: &Report, svg: &mut String) -> Result<()> {
    let title = super::COMPONENTS_CHART.1;
    let stacks = Component::ALL
        .iter()
        .zip([PALETTE[0], PALETTE[1], PALETTE[6], PALETTE[4]])
        .map(|(c, color)| Stack {
            label: c.label().to_string(),
            color,
            by_month: report
                .monthly_totals
                .iter()
                .map(|m| {
                    report
                        .nats
                        .iter()
                        .flat_map(|n| &n.lines)
                        .filter(|l| l.period_start == m.period_start && l.charge.component == *c)
                        .filter_map(|l| l.charge.cost)
                        .sum()
                })
                .collect(),
        })
        .collect();
    draw_months(report, svg, title, "Component", stacks, Vec::new(), false)
}

/// One bar a month, stacked in the order given (the first at the bottom), its total above it
/// and the month under it; with `billed` and a bill, the month's billed total marked on it.
pub(super) fn draw_months(
    report: &Report,
    svg: &mut String,
    title: &str,
    legend_heading: &str,
    stacks: Vec<Stack>,
    mut notes: Vec<String>,
    billed: bool,
) -> Result<()> {
    let months = month_label(report, &mut notes);
    let bill = if billed {
        billed_by_month(report)
    } else {
        Default::default()
    };
    let billed_of = |i: usize| {
        let m = report.monthly_totals[i].period_start.date_naive();
        bill.get(&format!("{}-{:02}", m.year(), m.month())).copied()
    };
    if !bill.is_empty() {
        notes.push("Black line: the month's billed total for the NAT-related lines of the accounts and regions collected (reconcile.png splits it by usage type).".into());
    }
    let root = SVGBackend::with_string(svg, SLIDE).into_drawing_area();
    let body = slide_page(&root, title, &subtitle(report))?;
    let totals: Vec<Decimal> = (0..months.len())
        .map(|i| stacks.iter().map(|s| s.by_month[i]).sum())
        .collect();
    if totals.iter().all(|t| t.is_zero()) {
        body.draw(&Text::new(
            "No NAT gateway cost in this window.".to_string(),
            (48, 60),
            text(28),
        ))
        .map_err(err(title))?;
        return root.present().map_err(err(title));
    }
    let (w, h) = body.dim_in_pixel();
    let foot = 20 + 30 * notes.len() as u32;
    let (upper, below) = body.split_vertically(h - foot);
    let (plot, legend) = upper.split_horizontally(w - 560);
    let max = totals
        .iter()
        .map(|t| f(*t))
        .chain((0..months.len()).filter_map(billed_of).map(f))
        .fold(0.0, f64::max)
        * 1.12;
    let mut chart = month_bars(&plot, title, months.len(), max, "Month (UTC)")?;
    for (i, _) in months.iter().enumerate() {
        let mut lo = 0.0;
        for s in &stacks {
            let v = f(s.by_month[i]);
            if v > 0.0 {
                let x = i as f64;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x + 0.2, lo), (x + 0.8, lo + v)],
                        s.color.filled(),
                    )))
                    .map_err(err(title))?;
            }
            lo += v;
        }
        let mut under = vec![months[i].clone()];
        if let Some(b) = billed_of(i) {
            let x = i as f64;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x + 0.12, f(b)), (x + 0.88, f(b))],
                    BLACK.stroke_width(5),
                )))
                .map_err(err(title))?;
            under.push(format!("billed {}", money(b)));
        }
        month_labels(
            &root,
            &chart,
            title,
            (i, f(totals[i])),
            &money(totals[i]),
            &under,
        )?;
    }
    let mut items: Vec<(String, ShapeStyle)> = stacks
        .iter()
        .map(|s| (s.label.clone(), s.color.filled()))
        .collect();
    // Top of the stack first, as the bars read.
    items.reverse();
    if !bill.is_empty() {
        items.push(("Billed total".into(), BLACK.filled()));
    }
    legend_column(&legend, title, legend_heading, &items)?;
    slide_notes(&below, title, &notes)?;
    root.present().map_err(err(title))
}

/// With a bill: each month's billed cost of the accounts and regions collected (YYYY-MM).
fn billed_by_month(report: &Report) -> std::collections::BTreeMap<String, Decimal> {
    let mut out = std::collections::BTreeMap::new();
    let Some(r) = &report.reconcile else {
        return out;
    };
    for row in r.rows.iter().filter(|x| x.collected) {
        if let Some(c) = row.billed_cost_usd {
            *out.entry(row.month.clone()).or_default() += c;
        }
    }
    out
}

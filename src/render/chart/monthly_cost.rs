use anyhow::Result;
use chrono::Datelike;
use plotters::prelude::*;
use rust_decimal::Decimal;

use super::frame::{
    bar_labels, empty_chart, err, f, font, footnotes, legend, page, subtitle, text_width, usd_bars,
    HEADER, TOP_NATS,
};
use super::CHARTS;
use crate::price::model::{Component, NatCost};
use crate::render::money;
use crate::report::Report;

const COMPONENT_COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

/// Bars monthly_cost.png aims at, all months together.
const MONTHLY_BARS: usize = 24;

/// The `k` NAT gateways that cost the most in the window.
fn top_nats(report: &Report, k: usize) -> std::collections::HashSet<&str> {
    let mut by_cost: Vec<&NatCost> = report.nats.iter().collect();
    by_cost.sort_by_key(|n| std::cmp::Reverse(n.window_cost()));
    by_cost
        .into_iter()
        .take(k)
        .map(|n| n.nat_gateway_id.as_str())
        .collect()
}

/// Stacked bars: one per NAT gateway and month, stacked by cost component.
pub(super) fn monthly_cost(report: &Report, svg: &mut String) -> Result<()> {
    let title = CHARTS[0].1;
    // The costliest NAT gateways get a bar each; the rest one "others" bar a month (the CSVs
    // and report.md have every one).
    // About two dozen bars in all, however many months the window spans.
    let per_month = (MONTHLY_BARS / report.monthly_totals.len().max(1)).saturating_sub(1);
    let top = top_nats(report, per_month.clamp(3, TOP_NATS));
    let others = report.nats.len() - top.len();
    // (label lines, [cost per component]): exact, so labels round as every table does.
    let mut bars: Vec<(Vec<String>, [Decimal; 4])> = Vec::new();
    let mut notes = Vec::new();
    let parts_of = |n: &NatCost, start| {
        let mut parts = [Decimal::ZERO; 4];
        for l in n.lines.iter().filter(|l| l.period_start == start) {
            if let Some(i) = Component::ALL.iter().position(|c| *c == l.charge.component) {
                parts[i] += l.charge.cost.unwrap_or_default();
            }
        }
        parts
    };
    // Each month's bars, first and last index: where its billed total is marked.
    let mut groups: Vec<(String, usize, usize)> = Vec::new();
    for m in &report.monthly_totals {
        let first = m.period_start.date_naive();
        let from = bars.len();
        let whole = first.day() == 1
            && m.period_end.date_naive() == first + chrono::Months::new(1)
            && m.period_end.time() == chrono::NaiveTime::MIN;
        let month = if whole {
            first.format("%Y-%m").to_string()
        } else {
            notes.push(format!(
                "* {}: only {} to {} UTC is in the window",
                first.format("%Y-%m"),
                m.period_start.format("%m-%d %H:%M"),
                m.period_end.format("%m-%d %H:%M")
            ));
            format!("{}*", first.format("%Y-%m"))
        };
        let mut rest = [Decimal::ZERO; 4];
        for n in &report.nats {
            let parts = parts_of(n, m.period_start);
            if !top.contains(n.nat_gateway_id.as_str()) {
                for (r, p) in rest.iter_mut().zip(parts) {
                    *r += p;
                }
            } else if parts.iter().any(|v| *v > Decimal::ZERO) {
                let mut lines = vec![n.label().to_string(), month.clone()];
                if !n.active_at_end {
                    lines.push("(deleted)".into());
                }
                bars.push((lines, parts));
            }
        }
        if rest.iter().any(|v| *v > Decimal::ZERO) {
            bars.push((vec![format!("{others} others"), month.clone()], rest));
        }
        if bars.len() > from {
            groups.push((first.format("%Y-%m").to_string(), from, bars.len()));
        }
    }
    let billed = billed_by_month(report);
    if !billed.is_empty() {
        notes.push(
            "Black line: the month's billed total for all its NAT gateways (the NAT-related lines of the accounts and regions collected).".into(),
        );
        notes.push(
            "Inter-AZ and PublicIPv4 lines also bill other traffic and addresses: reconcile.png splits the bill by usage type.".into(),
        );
    }
    if others > 0 {
        notes.push(format!(
            "The {} costliest NAT gateways have a bar each; \"others\" adds up the other {others} (every one is in costs.csv and report.md).",
            top.len()
        ));
    }
    // Each bar is as wide as its longest label line, so no name is cut.
    let slot = bars
        .iter()
        .flat_map(|(lines, _)| lines.iter().map(|l| text_width(l, 13) + 16))
        .max()
        .unwrap_or(110)
        .max(90);
    let width = (160 + slot as u32 * bars.len() as u32).max(1000);
    let foot = 30 + 20 * notes.len() as u32;
    let height = 720 + foot;
    let root = SVGBackend::with_string(svg, (width, height)).into_drawing_area();
    let body = page(&root, title, &subtitle(report))?;
    if bars.is_empty() {
        empty_chart(&body, title, "No NAT gateway cost in this window.")?;
        return root.present().map_err(err(title));
    }
    let (plot, below) = body.split_vertically(height - HEADER - foot);
    let (plot, legend_area) = plot.split_vertically(height - HEADER - foot - 40);
    let max = bars
        .iter()
        .map(|(_, p)| f(p.iter().sum()))
        .chain(billed.values().map(|b| f(*b)))
        .fold(0.0, f64::max)
        * 1.12;
    let mut chart = usd_bars(
        &plot,
        title,
        bars.len(),
        max,
        "Cost in the month (USD; bar labels: total)",
    )?;
    for (ci, _) in Component::ALL.iter().enumerate() {
        let color = COMPONENT_COLORS[ci];
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, parts))| {
                let lo = f(parts[..ci].iter().sum());
                let x = i as f64;
                Rectangle::new(
                    [(x + 0.15, lo), (x + 0.85, lo + f(parts[ci]))],
                    color.filled(),
                )
            }))
            .map_err(err(title))?;
    }
    for (i, (lines, parts)) in bars.iter().enumerate() {
        let total: Decimal = parts.iter().sum();
        bar_labels(&root, &chart, title, i, f(total), money(total), lines)?;
    }
    // Drawn over the bars: each month's billed total, beside what the model has for it.
    for (month, from, to) in &groups {
        let Some(total) = billed.get(month) else {
            continue;
        };
        let modelled: Decimal = bars[*from..*to].iter().flat_map(|(_, p)| p.iter()).sum();
        let (from, to) = (*from as f64 + 0.05, *to as f64 - 0.05);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(from, f(*total)), (to, f(*total))],
                BLACK.stroke_width(3),
            )))
            .map_err(err(title))?;
        let (x, y) = chart.backend_coord(&(from, f(*total)));
        root.draw(&Text::new(
            format!("billed {} · modelled {}", money(*total), money(modelled)),
            (x + 4, y - 18),
            font(13),
        ))
        .map_err(err(title))?;
    }
    // The legend sits under the plot, never on the bars.
    let mut items: Vec<(&str, RGBColor)> = Component::ALL
        .iter()
        .zip(COMPONENT_COLORS)
        .map(|(c, color)| (c.label(), color))
        .collect();
    if !billed.is_empty() {
        items.push(("Billed", BLACK));
    }
    legend(&legend_area, title, &items)?;
    footnotes(&below, title, &notes)?;
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

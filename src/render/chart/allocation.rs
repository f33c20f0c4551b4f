use std::collections::BTreeMap;

use anyhow::Result;
use plotters::prelude::*;
use rust_decimal::Decimal;

use super::frame::{
    bar_labels, empty_chart, err, f, font, footnotes, page, subtitle, text_width, usd_bars, HEADER,
    SERIES_COLORS,
};
use super::ALLOCATION_CHART;
use crate::render::money;
use crate::report::Report;

/// Teams drawn one by one; the rest are one grey "others" part of each bar.
const TEAMS: usize = 12;
const OTHERS: RGBColor = RGBColor(170, 170, 170);

/// Colours for up to 12 teams: the series palette, then its lighter shades.
fn color(i: usize) -> RGBColor {
    let c = SERIES_COLORS[i % SERIES_COLORS.len()];
    if i < SERIES_COLORS.len() {
        c
    } else {
        let lighter = |v: u8| v + (255 - v) / 2;
        RGBColor(lighter(c.0), lighter(c.1), lighter(c.2))
    }
}

/// One bar per month, stacked by team (`--allocate-by`): the costliest 12 teams over the window
/// and the rest as "others", in grey, on top.
pub(super) fn allocation(report: &Report, svg: &mut String) -> Result<()> {
    let title = ALLOCATION_CHART.1;
    let rows = crate::allocation::by_team(&report.allocation.rows, true);
    let mut months: BTreeMap<String, BTreeMap<&str, Decimal>> = BTreeMap::new();
    let mut totals: BTreeMap<&str, Decimal> = BTreeMap::new();
    let mut unknown: Vec<String> = Vec::new();
    for t in &rows {
        let month = t
            .month
            .map(|m| m.format("%Y-%m").to_string())
            .unwrap_or_default();
        if t.cost_usd.is_none() {
            unknown.push(format!("{month} {}", t.team));
        }
        // What is known of it: the footnote names what is not.
        let cost = t.cost_usd.unwrap_or_default();
        *months.entry(month).or_default().entry(&t.team).or_default() += cost;
        *totals.entry(&t.team).or_default() += cost;
    }
    let mut ranked: Vec<(&str, Decimal)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    // One team past the limit is drawn itself rather than as "1 others".
    let limit = if ranked.len() == TEAMS + 1 {
        TEAMS + 1
    } else {
        TEAMS
    };
    let shown: Vec<&str> = ranked.iter().take(limit).map(|(t, _)| *t).collect();
    let others = ranked.len().saturating_sub(limit);
    // Per month: each shown team's cost, then the others'.
    let bars: Vec<(String, Vec<Decimal>)> = months
        .iter()
        .map(|(m, by)| {
            let mut parts: Vec<Decimal> = shown
                .iter()
                .map(|t| by.get(t).copied().unwrap_or_default())
                .collect();
            parts.push(
                by.iter()
                    .filter(|(t, _)| !shown.contains(t))
                    .map(|(_, c)| *c)
                    .sum(),
            );
            (m.clone(), parts)
        })
        .collect();
    let mut notes = vec![format!(
        "Teams from the tag{} {} (the first a source has); untagged sources are \"{}\". allocation_by_team.csv has every team.",
        if report.allocation.team_tags.len() == 1 { "" } else { "s" },
        report.allocation.team_tags.join(", "),
        crate::allocation::UNTAGGED
    )];
    if others > 0 {
        notes.push(format!(
            "The {limit} costliest teams have a colour each; \"others\" (grey, on top) adds up the other {others}."
        ));
    }
    if !unknown.is_empty() {
        unknown.truncate(5);
        notes.push(format!(
            "Some cost is unknown (byte metrics missing) and left out of the bars: {}.",
            crate::shown::clipped(&unknown.join(", "), 200)
        ));
    }
    let mut labels: Vec<(String, RGBColor)> = shown
        .iter()
        .enumerate()
        .map(|(i, t)| (crate::shown::clipped(t, 40), color(i)))
        .collect();
    if others > 0 {
        labels.push((format!("{others} others"), OTHERS));
    }
    // Listed top down as stacked: the last part drawn (on top) first.
    labels.reverse();
    let legend_w = labels
        .iter()
        .map(|(l, _)| text_width(l, 15) + 60)
        .max()
        .unwrap_or(200)
        .max(200) as u32;
    let width = (300 + 140 * bars.len() as u32).max(900) + legend_w;
    let foot = 30 + 20 * notes.len() as u32;
    let height = (720u32).max(HEADER + 40 + 24 * labels.len() as u32) + foot;
    let root = SVGBackend::with_string(svg, (width, height)).into_drawing_area();
    let body = page(&root, title, &subtitle(report))?;
    if bars.is_empty() {
        empty_chart(&body, title, "No NAT gateway cost in this window.")?;
        return root.present().map_err(err(title));
    }
    let (top, below) = body.split_vertically(height - HEADER - foot);
    let (plot, legend) = top.split_horizontally(width - legend_w);
    let max = bars
        .iter()
        .map(|(_, p)| f(p.iter().sum()))
        .fold(0.0, f64::max)
        * 1.12;
    let mut chart = usd_bars(&plot, title, bars.len(), max, "Cost in the month (USD)")?;
    for k in 0..=shown.len() {
        let c = if k < shown.len() { color(k) } else { OTHERS };
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, parts))| {
                let lo = f(parts[..k].iter().sum());
                let x = i as f64;
                Rectangle::new([(x + 0.2, lo), (x + 0.8, lo + f(parts[k]))], c.filled())
            }))
            .map_err(err(title))?;
    }
    for (i, (month, parts)) in bars.iter().enumerate() {
        let total: Decimal = parts.iter().sum();
        bar_labels(
            &root,
            &chart,
            title,
            i,
            f(total),
            money(total),
            std::slice::from_ref(month),
        )?;
    }
    legend
        .draw(&Text::new(
            "Team".to_string(),
            (10, 12),
            font(15).color(&RGBColor(70, 70, 70)),
        ))
        .map_err(err(title))?;
    for (i, (label, c)) in labels.iter().enumerate() {
        let y = 40 + 24 * i as i32;
        legend
            .draw(&Rectangle::new([(10, y + 2), (24, y + 16)], c.filled()))
            .map_err(err(title))?;
        legend
            .draw(&Text::new(label.clone(), (32, y), font(15)))
            .map_err(err(title))?;
    }
    footnotes(&below, title, &notes)?;
    root.present().map_err(err(title))
}

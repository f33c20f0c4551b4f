use std::collections::BTreeMap;

use anyhow::Result;
use plotters::prelude::*;
use rust_decimal::Decimal;

use super::frame::{OTHERS, PALETTE};
use super::monthly_cost::{draw_months, Stack};
use super::ALLOCATION_CHART;
use crate::report::Report;

/// Teams drawn one by one; the rest are one grey "others" part of each bar.
const TEAMS: usize = 12;

/// Colours for up to 13 teams: the palette, then lighter shades of it.
fn color(i: usize) -> RGBColor {
    let c = PALETTE[i % PALETTE.len()];
    if i < PALETTE.len() {
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
    let mut notes = vec![format!(
        "Teams from the tag{} {} (the first a source has); untagged sources are \"{}\". allocation_by_team.csv has every team.",
        if report.allocation.team_tags.len() == 1 { "" } else { "s" },
        report.allocation.team_tags.join(", "),
        crate::allocation::UNTAGGED
    )];
    if others > 0 {
        notes.push(format!(
            "The {limit} costliest teams have a colour each; grey adds up the other {others}."
        ));
    }
    if !unknown.is_empty() {
        unknown.truncate(5);
        notes.push(format!(
            "Some cost is unknown (byte metrics missing) and left out of the bars: {}.",
            unknown.join(", ")
        ));
    }
    // Each team's cost in each month of the window, the others' summed on top.
    let month_keys: Vec<String> = report
        .monthly_totals
        .iter()
        .map(|m| m.period_start.format("%Y-%m").to_string())
        .collect();
    let in_month = |keep: &dyn Fn(&str) -> bool| -> Vec<Decimal> {
        month_keys
            .iter()
            .map(|m| {
                months
                    .get(m)
                    .map(|by| by.iter().filter(|(t, _)| keep(t)).map(|(_, c)| *c).sum())
                    .unwrap_or_default()
            })
            .collect()
    };
    let mut stacks: Vec<Stack> = shown
        .iter()
        .enumerate()
        .map(|(i, team)| Stack {
            label: team.to_string(),
            color: color(i),
            by_month: in_month(&|t| t == *team),
        })
        .collect();
    if others > 0 {
        stacks.push(Stack {
            label: format!("{others} others"),
            color: OTHERS,
            by_month: in_month(&|t| !shown.contains(&t)),
        });
    }
    draw_months(report, svg, title, "Team", stacks, notes, false)
}

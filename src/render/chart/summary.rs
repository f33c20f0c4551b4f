//! summary.png: the first slide of a review. The cost per month, what the plan saves, and the
//! costliest NAT gateways and sources, in large type.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::Decimal;

use super::frame::{
    err, f, fit_chars, month_bars, month_labels, slide_notes, slide_page, subtitle, text, PALETTE,
    SLIDE,
};
use super::monthly_cost::month_label;
use super::SUMMARY_CHART;
use crate::render::money;
use crate::report::Report;

/// Lines in each top list.
const TOP: usize = 5;
const GREY: RGBColor = RGBColor(80, 80, 80);

pub(super) fn summary(report: &Report, svg: &mut String) -> Result<()> {
    let title = SUMMARY_CHART.1;
    let root = SVGBackend::with_string(svg, SLIDE).into_drawing_area();
    let body = slide_page(&root, title, &subtitle(report))?;
    let (w, h) = body.dim_in_pixel();
    let mut notes = Vec::new();
    let months = month_label(report, &mut notes);
    let (upper, below) = body.split_vertically(h - 20 - 30 * notes.len() as u32);
    let (left, right) = upper.split_horizontally(w * 13 / 24);

    // The months: one bar each, its total above it.
    let totals: Vec<Decimal> = report.monthly_totals.iter().map(|m| m.cost).collect();
    let max = totals.iter().map(|t| f(*t)).fold(0.0, f64::max) * 1.15;
    let (head, plot) = left.split_vertically(50);
    head.draw(&Text::new(
        "Cost per month".to_string(),
        (48, 8),
        text(30).color(&GREY),
    ))
    .map_err(err(title))?;
    if !months.is_empty() {
        let mut chart = month_bars(&plot, title, months.len(), max, "Month (UTC)")?;
        for (i, t) in totals.iter().enumerate() {
            let x = i as f64;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x + 0.2, 0.0), (x + 0.8, f(*t))],
                    PALETTE[0].filled(),
                )))
                .map_err(err(title))?;
            month_labels(&root, &chart, title, (i, f(*t)), &money(*t), &months[i..=i])?;
        }
    }

    // The plan, then the costliest NAT gateways and sources.
    let width = right.dim_in_pixel().0;
    let at = |area: &DrawingArea<_, _>, s: String, (x, y): (i32, i32), style| {
        area.draw(&Text::new(s, (x, y), style)).map_err(err(title))
    };
    let p = &report.plan;
    at(
        &right,
        "The plan saves".into(),
        (24, 10),
        text(30).color(&GREY),
    )?;
    let saving = match p.monthly_saving_up_to {
        Some(most) if most > p.monthly_saving => {
            format!("{} to {}", money(p.monthly_saving), money(most))
        }
        _ => money(p.monthly_saving),
    };
    // As large as fits the column.
    let px = (64.0_f64).min((width - 48) as f64 / (saving.chars().count() as f64 * 0.62)) as u32;
    at(&right, saving, (24, 54), text(px).color(&PALETTE[3]))?;
    let mut under = vec![format!(
        "USD/month, of {} USD/month today",
        money(p.monthly_before)
    )];
    if p.monthly_saving_up_to.is_some() {
        under.push("a range until the traffic is measured".into());
    }
    for (i, line) in under.into_iter().enumerate() {
        let line = crate::shown::clipped(&line, fit_chars(width - 48, 24));
        at(&right, line, (24, 130 + 34 * i as i32), text(24))?;
    }
    let right_aligned = text(26).pos(Pos::new(HPos::Right, VPos::Top));
    let name_chars = fit_chars(width - 48 - 190, 26);
    let mut nats: Vec<_> = report
        .nats
        .iter()
        .filter(|n| n.monthly() > Decimal::ZERO)
        .collect();
    nats.sort_by_key(|n| std::cmp::Reverse(n.monthly()));
    let lists: [(&str, Vec<(String, Decimal)>); 2] = [
        (
            "Costliest NAT gateways, USD/month",
            nats.iter()
                .take(TOP)
                .map(|n| (n.label().to_string(), n.monthly()))
                .collect(),
        ),
        (
            "Costliest sources, USD/month",
            report
                .top_sources(TOP)
                .iter()
                .map(|t| (crate::render::source_label(&t.source), t.monthly_cost))
                .collect(),
        ),
    ];
    let mut y = 224;
    for (heading, lines) in lists {
        at(&right, heading.into(), (24, y), text(28).color(&GREY))?;
        y += 48;
        if lines.is_empty() {
            at(&right, "none".into(), (24, y), text(26))?;
            y += 40;
        }
        for (label, usd) in lines {
            at(
                &right,
                crate::shown::clipped(&label, name_chars),
                (24, y),
                text(26),
            )?;
            at(
                &right,
                money(usd),
                (width as i32 - 24, y),
                right_aligned.clone(),
            )?;
            y += 40;
        }
        y += 24;
    }
    slide_notes(&below, title, &notes)?;
    root.present().map_err(err(title))
}

use anyhow::Result;
use plotters::prelude::*;

use super::frame::{
    err, f, month_bars, month_labels, slide_notes, slide_page, subtitle, text, text_width,
    MIN_TEXT, PALETTE, SLIDE,
};
use super::RECONCILE_CHART;
use crate::report::Report;

/// Bar pairs: per month and usage type (summed over accounts and regions), billed and
/// modelled cost; the costliest 12 pairs, the rest in reconcile.csv.
pub(super) fn reconcile(report: &Report, svg: &mut String) -> Result<()> {
    let title = RECONCILE_CHART.1;
    let Some(r) = &report.reconcile else {
        return Ok(());
    };
    // (month, usage type without its region prefix) → (billed, modelled, flagged)
    type Pair = ((String, String), (f64, f64, bool));
    let mut pairs: std::collections::BTreeMap<(String, String), (f64, f64, bool)> =
        Default::default();
    for row in &r.rows {
        let usage = crate::bill::usage_name(&row.usage_type).to_string();
        let e = pairs.entry((row.month.clone(), usage)).or_default();
        e.0 += row.billed_cost_usd.map(f).unwrap_or(0.0);
        e.1 += row.modelled_cost_usd.map(f).unwrap_or(0.0);
        e.2 |= row.flagged;
    }
    let mut bars: Vec<Pair> = pairs.into_iter().collect();
    let kept = 8;
    let mut notes = vec![format!(
        "{} line(s) in reconcile.csv, {} flagged (a difference nothing explains: marked *).",
        r.rows.len(),
        r.flagged()
    )];
    let mut partial: Vec<&str> = r
        .rows
        .iter()
        .filter(|x| x.explanation.contains("partial month"))
        .map(|x| x.month.as_str())
        .collect();
    partial.dedup();
    if !partial.is_empty() {
        notes.push(format!(
            "Partial months ({}): the model covers only the window's part of them, the bill the whole month.",
            partial.join(", ")
        ));
    }
    if bars.len() > kept {
        bars.sort_by(|a, b| (b.1 .0.max(b.1 .1)).total_cmp(&a.1 .0.max(a.1 .1)));
        notes.push(format!(
            "The {kept} costliest of {} month × usage type pairs are drawn; reconcile.csv has every one.",
            bars.len()
        ));
        bars.truncate(kept);
        bars.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let root = SVGBackend::with_string(svg, SLIDE).into_drawing_area();
    let body = slide_page(&root, title, &subtitle(report))?;
    if bars.is_empty() {
        body.draw(&Text::new(
            "Nothing billed or modelled in these months.".to_string(),
            (48, 60),
            text(28),
        ))
        .map_err(err(title))?;
        return root.present().map_err(err(title));
    }
    let height = body.dim_in_pixel().1;
    let foot = 70 + 30 * notes.len() as u32;
    let (plot, below) = body.split_vertically(height - foot);
    let max = bars
        .iter()
        .map(|(_, (b, m, _))| b.max(*m))
        .fold(0.0, f64::max)
        * 1.15;
    let mut chart = month_bars(&plot, title, bars.len(), max, "Usage type and month (UTC)")?;
    let billed = RGBColor(120, 120, 120);
    let modelled = PALETTE[0];
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, (b, _, _)))| {
            let x = i as f64;
            Rectangle::new([(x + 0.12, 0.0), (x + 0.5, *b)], billed.filled())
        }))
        .map_err(err(title))?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, (_, m, _)))| {
            let x = i as f64;
            Rectangle::new([(x + 0.5, 0.0), (x + 0.88, *m)], modelled.filled())
        }))
        .map_err(err(title))?;
    for (i, ((month, usage), (b, m, flagged))) in bars.iter().enumerate() {
        let label = format!("{:.0} / {:.0}{}", b, m, if *flagged { " *" } else { "" });
        month_labels(
            &root,
            &chart,
            title,
            (i, b.max(*m)),
            &label,
            &[usage.clone(), month.clone()],
        )?;
    }
    let mut x = 48;
    for (label, color) in [
        ("billed (label above a pair: billed / modelled USD)", billed),
        ("modelled", modelled),
    ] {
        below
            .draw(&Rectangle::new([(x, 12), (x + 22, 34)], color.filled()))
            .map_err(err(title))?;
        below
            .draw(&Text::new(label.to_string(), (x + 32, 12), text(MIN_TEXT)))
            .map_err(err(title))?;
        x += 80 + text_width(label, MIN_TEXT);
    }
    let (_, notes_area) = below.split_vertically(54);
    slide_notes(&notes_area, title, &notes)?;
    root.present().map_err(err(title))
}

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::Decimal;

use super::frame::{
    err, f, fit_chars, slide_notes, slide_page, subtitle, text, text_width, MIN_TEXT, SLIDE,
};
use super::ALTERNATIVES_CHART;
use crate::advise::Tier;
use crate::render::money;
use crate::report::Report;

/// The names of a scenario's resources, whole; past three, the first two and how many more
/// (report.md lists them all).
fn few_names(report: &Report, ids: &str) -> String {
    let ids: Vec<&str> = ids.split(';').collect();
    if ids.len() <= 3 {
        return report.name_of(&ids.join(";"));
    }
    format!(
        "{} and {} more (listed in report.md)",
        report.name_of(&ids[..2].join(";")),
        ids.len() - 2
    )
}

/// One bar of alternatives.png.
struct Bar {
    label: String,
    before: f64,
    after: f64,
    note: String,
    color: RGBColor,
    /// Hypothetical (measure-first): drawn as an outline, never as a filled saving.
    hypothetical: bool,
}

/// Horizontal bars, the plan first: today's monthly cost (grey) against the plan, then each
/// `consider` scenario on top of the plan, then `measure-first` sensitivities in outline.
pub(super) fn alternatives(report: &Report, svg: &mut String) -> Result<()> {
    let title = ALTERNATIVES_CHART.1;
    let green = RGBColor(44, 160, 44);
    let orange = RGBColor(230, 130, 20);
    let blue = RGBColor(60, 110, 200);
    let grey = RGBColor(190, 190, 190);
    let p = &report.plan;
    let mut bars = vec![Bar {
        label: format!("Plan: {} step(s) (all NATs)", p.steps.len()),
        before: f(p.monthly_before),
        after: f(p.monthly_after),
        note: match p.monthly_saving_up_to.filter(|m| *m > p.monthly_saving) {
            Some(most) => format!(
                "saves at least {}{}, up to {} USD/month{}",
                money(p.monthly_saving),
                report.also(p.monthly_saving),
                money(most),
                report.also(most)
            ),
            None => format!(
                "saves {} USD/month{} ({} USD/year)",
                money(p.monthly_saving),
                report.also(p.monthly_saving),
                money(p.monthly_saving * Decimal::from(12))
            ),
        },
        color: green,
        hypothetical: false,
    }];
    // What each adds to the plan: on top of its steps, or instead of the steps it conflicts
    // with; only those that add something.
    let beside = |s: &crate::advise::Scenario| {
        s.saving_after_plan
            .or(s.instead_of.as_ref().map(|x| x.plan_change))
            .filter(|x| *x > Decimal::ZERO)
    };
    for (s, gain) in report
        .recommendations
        .iter()
        .filter(|s| s.tier == Tier::Consider)
        .filter_map(|s| Some((s, beside(s)?)))
        .take(6)
    {
        let how = match &s.instead_of {
            Some(x) => format!(
                "instead of plan step {}",
                x.steps
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "on top of the plan".to_string(),
        };
        bars.push(Bar {
            label: format!(
                "consider: {} {} ({})",
                s.alternative,
                few_names(report, &s.resource_id),
                s.scope
            ),
            before: f(s.monthly_before),
            after: f(s.monthly_before - gain),
            note: format!(
                "+{} USD/month{} {how} ({})",
                money(gain),
                report.also(gain),
                s.confidence.as_str()
            ),
            color: orange,
            hypothetical: false,
        });
    }
    let mut measures = Vec::new();
    for s in report
        .recommendations
        .iter()
        .filter(|s| s.tier == Tier::MeasureFirst)
        .take(5)
    {
        let Some(x) = &s.sensitivity else { continue };
        measures.push(format!(
            "[{}] {} {}: {}",
            measures.len() + 1,
            s.alternative,
            few_names(report, &s.resource_id),
            x.per
        ));
        bars.push(Bar {
            label: format!(
                "measure first [{}]: {} {} ({})",
                measures.len(),
                s.alternative,
                few_names(report, &s.resource_id),
                s.scope
            ),
            before: f(s.monthly_before),
            after: f(s.monthly_before - x.monthly_usd),
            note: format!("hypothetical: {} USD/month", money(x.monthly_usd)),
            color: blue,
            hypothetical: true,
        });
    }
    let (label_w, note_w) = (600, 560);
    let foot = 70 + 30 * measures.len() as u32;
    let root = SVGBackend::with_string(svg, SLIDE).into_drawing_area();
    let body = slide_page(&root, title, &subtitle(report))?;
    let height = body.dim_in_pixel().1;
    let (plot, below) = body.split_vertically(height - foot);
    let max = bars.iter().map(|b| b.before).fold(0.0, f64::max) * 1.05;
    let n = bars.len() as f64;
    let mut chart = ChartBuilder::on(&plot)
        .margin_top(10)
        .margin_right(note_w)
        .x_label_area_size(90)
        .y_label_area_size(label_w)
        .build_cartesian_2d(0f64..max.max(0.01), 0f64..n)
        .map_err(err(title))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("USD per month")
        .x_labels(8)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(text(22))
        .axis_desc_style(text(24))
        .draw()
        .map_err(err(title))?;
    let row = |i: usize| n - 1.0 - i as f64;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            Rectangle::new(
                [(0.0, row(i) + 0.1), (b.before, row(i) + 0.9)],
                grey.filled(),
            )
        }))
        .map_err(err(title))?;
    let right = |px| text(px).pos(Pos::new(HPos::Right, VPos::Center));
    let left = |px| text(px).pos(Pos::new(HPos::Left, VPos::Center));
    let label_chars = fit_chars(label_w as u32 - 36, MIN_TEXT);
    for (i, b) in bars.iter().enumerate() {
        let style = if b.hypothetical {
            b.color.stroke_width(3)
        } else {
            b.color.filled()
        };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, row(i) + 0.3), (b.after.max(0.0), row(i) + 0.7)],
                style,
            )))
            .map_err(err(title))?;
        let (x, y) = chart.backend_coord(&(0.0, row(i) + 0.5));
        let label = crate::shown::clipped(&b.label, label_chars);
        root.draw(&Text::new(label, (x - 12, y), right(MIN_TEXT)))
            .map_err(err(title))?;
        let (bx, _) = chart.backend_coord(&(b.before, 0.0));
        let room = (SLIDE.0 as i32 - 24 - bx - 8).max(0) as u32;
        let note = crate::shown::clipped(&b.note, fit_chars(room, MIN_TEXT));
        root.draw(&Text::new(note, (bx + 8, y), left(MIN_TEXT)))
            .map_err(err(title))?;
    }
    // The legend goes under the plot, never over a bar.
    let legend = [
        (grey, false, "today"),
        (green, false, "after the plan"),
        (orange, false, "consider: after the plan and this step"),
        (blue, true, "measure first: hypothetical, not a saving"),
    ];
    let mut x = 48;
    for (color, outline, label) in legend {
        let style = if outline {
            color.stroke_width(3)
        } else {
            color.filled()
        };
        below
            .draw(&Rectangle::new([(x, 12), (x + 22, 34)], style))
            .map_err(err(title))?;
        below
            .draw(&Text::new(label.to_string(), (x + 32, 12), text(MIN_TEXT)))
            .map_err(err(title))?;
        x += 80 + text_width(label, MIN_TEXT);
    }
    let (_, notes) = below.split_vertically(54);
    slide_notes(&notes, title, &measures)?;
    root.present().map_err(err(title))
}

//! What every chart shares: the embedded font, the colours, a 16:9 slide (title and subtitle),
//! notes, legends and the month bars with their labels.

use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::price::model::NatCost;
use crate::report::Report;

const FONT: &str = "sans-serif";
pub(super) const FONT_FILE: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Average advance of a character at 1 px of font size, for laying out labels (DejaVu Sans).
const CHAR_WIDTH: f64 = 0.62;

pub(super) fn register_font() -> Result<()> {
    let mut result = Ok(());
    REGISTER.call_once(|| {
        result = plotters::style::register_font(FONT, FontStyle::Normal, FONT_FILE)
            .map_err(|_| anyhow!("the embedded chart font is invalid"));
    });
    result
}

pub(super) fn err<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> anyhow::Error + '_ {
    move |e| anyhow!("drawing {what}: {e:?}")
}

/// Text width in pixels, as laid out in the embedded font (close enough to place labels).
pub(super) fn text_width(text: &str, size: u32) -> i32 {
    (text.chars().count() as f64 * size as f64 * CHAR_WIDTH).ceil() as i32
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

pub(super) fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// "account 123456789012 · ap-northeast-2 · 2026-09-26 to 2026-11-01 UTC (864 h)"
pub(super) fn subtitle(report: &Report) -> String {
    let w = report.window;
    let fx = report
        .fx
        .as_ref()
        .map(|fx| format!(" · 1 USD = {} {}", fx.rate.normalize(), fx.currency))
        .unwrap_or_default();
    format!(
        "{} · {} · {} to {} UTC ({} h){fx}",
        report.scope(),
        report.region_list(),
        w.start.format("%Y-%m-%d %H:%M"),
        w.end.format("%Y-%m-%d %H:%M"),
        w.hours()
    )
}

type Bars<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A NAT gateway's name with its state: deleted ones and NATs that moved nothing are marked.
pub(super) fn nat_label(n: &NatCost) -> String {
    if !n.active_at_end {
        format!("{} (deleted)", n.label())
    } else {
        n.label().to_string()
    }
}

/// Every slide chart's canvas: a 16:9 slide at 1920×1080 (the SVG has the same size).
pub(super) const SLIDE: (u32, u32) = (1920, 1080);
/// Height of a slide's title and subtitle band.
pub(super) const SLIDE_HEADER: u32 = 140;
/// The smallest text a slide chart draws, in pixels at 1920×1080.
pub(super) const MIN_TEXT: u32 = 20;

/// A text style `px` pixels high in the SVG (plotters writes a font's size ÷ 1.24).
pub(super) fn text(px: u32) -> TextStyle<'static> {
    (FONT, px as f64 * 1.24).into_font().color(&BLACK)
}

/// Paul Tol's "muted" palette: nine colours told apart with any colour vision; "others" is
/// [`OTHERS`] grey.
pub(super) const PALETTE: [RGBColor; 9] = [
    RGBColor(51, 34, 136),
    RGBColor(136, 204, 238),
    RGBColor(68, 170, 153),
    RGBColor(17, 119, 51),
    RGBColor(153, 153, 51),
    RGBColor(221, 204, 119),
    RGBColor(204, 102, 119),
    RGBColor(136, 34, 85),
    RGBColor(170, 68, 153),
];
pub(super) const OTHERS: RGBColor = RGBColor(160, 160, 160);

/// White background, title and subtitle on top of a slide; returns the area below them.
pub(super) fn slide_page<'a>(root: &Area<'a>, title: &str, sub: &str) -> Result<Area<'a>> {
    root.fill(&WHITE).map_err(err(title))?;
    let (head, body) = root.split_vertically(SLIDE_HEADER);
    head.draw(&Text::new(title.to_string(), (48, 24), text(44)))
        .map_err(err(title))?;
    head.draw(&Text::new(
        crate::shown::clipped(sub, fit_chars(SLIDE.0 - 96, 24)),
        (48, 86),
        text(24).color(&RGBColor(80, 80, 80)),
    ))
    .map_err(err(title))?;
    Ok(body)
}

/// How many characters of `px`-high text fit in `width` pixels.
pub(super) fn fit_chars(width: u32, px: u32) -> usize {
    (width as f64 / (px as f64 * CHAR_WIDTH)).floor() as usize
}

/// A legend in a column: a heading, then a colour square and a label per item (clipped to the
/// column's width), one under the other.
pub(super) fn legend_column(
    area: &Area,
    title: &str,
    heading: &str,
    items: &[(String, ShapeStyle)],
) -> Result<()> {
    let width = area.dim_in_pixel().0;
    area.draw(&Text::new(
        heading.to_string(),
        (16, 24),
        text(22).color(&RGBColor(70, 70, 70)),
    ))
    .map_err(err(title))?;
    for (i, (label, style)) in items.iter().enumerate() {
        let y = 70 + 40 * i as i32;
        area.draw(&Rectangle::new([(16, y), (40, y + 24)], *style))
            .map_err(err(title))?;
        let label = crate::shown::clipped(label, fit_chars(width.saturating_sub(72), 22));
        area.draw(&Text::new(label, (52, y), text(22)))
            .map_err(err(title))?;
    }
    Ok(())
}

/// Notes under a slide chart, one line each, clipped to the slide's width.
pub(super) fn slide_notes(area: &Area, title: &str, lines: &[String]) -> Result<()> {
    for (i, line) in lines.iter().enumerate() {
        area.draw(&Text::new(
            crate::shown::clipped(line, fit_chars(SLIDE.0 - 96, MIN_TEXT)),
            (48, 8 + 30 * i as i32),
            text(MIN_TEXT).color(&RGBColor(70, 70, 70)),
        ))
        .map_err(err(title))?;
    }
    Ok(())
}

/// Months on x, USD on y, for stacked month bars: `n` slots; no x labels (each bar's are drawn
/// under it).
pub(super) fn month_bars<'a, 'b>(
    plot: &'a Area<'b>,
    title: &str,
    n: usize,
    max: f64,
    x_desc: &str,
) -> Result<Bars<'a, 'b>> {
    let mut chart = ChartBuilder::on(plot)
        .margin_left(24)
        .margin_right(24)
        .margin_top(40)
        .x_label_area_size(120)
        .y_label_area_size(130)
        .build_cartesian_2d(0f64..n as f64, 0f64..max.max(0.01))
        .map_err(err(title))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(8)
        .x_desc(x_desc)
        .y_desc("USD per month")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(text(22))
        .axis_desc_style(text(24))
        .draw()
        .map_err(err(title))?;
    Ok(chart)
}

/// The lines of a month bar: `above` over bar `i` (top at `top`), `under` below it, centred and
/// clipped to the bar's slot.
pub(super) fn month_labels(
    root: &Area,
    chart: &Bars,
    title: &str,
    (i, top): (usize, f64),
    above: &str,
    under: &[String],
) -> Result<()> {
    let centred = |px| text(px).pos(Pos::new(HPos::Center, VPos::Top));
    let (left, _) = chart.backend_coord(&(i as f64, 0.0));
    let (right, _) = chart.backend_coord(&(i as f64 + 1.0, 0.0));
    let fit = fit_chars((right - left).max(0) as u32, MIN_TEXT);
    let (x, y) = chart.backend_coord(&(i as f64 + 0.5, top));
    root.draw(&Text::new(
        crate::shown::clipped(above, fit),
        (x, y - 30),
        centred(MIN_TEXT),
    ))
    .map_err(err(title))?;
    let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
    for (k, line) in under.iter().enumerate() {
        root.draw(&Text::new(
            crate::shown::clipped(line, fit),
            (x, y + 10 + 28 * k as i32),
            centred(MIN_TEXT),
        ))
        .map_err(err(title))?;
    }
    Ok(())
}

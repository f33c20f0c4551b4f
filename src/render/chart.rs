//! Charts for finance reviews: drawn as SVG with plotters, then rasterised to PNG with resvg,
//! both with the embedded font (no system fonts needed). Every chart ships as `.png` and as
//! `.svg` (a vector for slides), titled with the account, the region(s) and the period.

use std::sync::{Arc, Once};

use anyhow::{anyhow, Context, Result};
use chrono::{Datelike, Duration};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::money;
use crate::advise::Tier;
use crate::output::Staging;
use crate::price::model::{Component, NatCost};
use crate::report::Report;

const FONT: &str = "sans-serif";
const FONT_FILE: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// The font's family name, which the SVG's generic `sans-serif` is mapped to when rasterised.
const FONT_FAMILY: &str = "DejaVu Sans";
static REGISTER: Once = Once::new();

/// The charts a report has: PNG file name and title. Each also ships as `<name>.svg`.
pub const CHARTS: [(&str, &str); 4] = [
    (
        "monthly_cost.png",
        "Cost per NAT gateway and month, by component",
    ),
    ("daily_gb.png", "Data processed per NAT gateway per day"),
    (
        "alternatives.png",
        "Monthly cost today vs. the plan and each alternative",
    ),
    ("topology.png", "Lambda functions → NAT gateways"),
];

/// `monthly_cost.svg` for `monthly_cost.png`.
pub fn svg_name(png: &str) -> String {
    format!("{}.svg", png.trim_end_matches(".png"))
}

const COMPONENT_COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];
const SERIES_COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];
/// Height of the title and subtitle band on top of every chart.
const HEADER: u32 = 84;
/// Average advance of a character at 1 px of font size, for laying out labels (DejaVu Sans).
const CHAR_WIDTH: f64 = 0.62;

fn register_font() -> Result<()> {
    let mut result = Ok(());
    REGISTER.call_once(|| {
        result = plotters::style::register_font(FONT, FontStyle::Normal, FONT_FILE)
            .map_err(|_| anyhow!("the embedded chart font is invalid"));
    });
    result
}

fn err<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> anyhow::Error + '_ {
    move |e| anyhow!("drawing {what}: {e:?}")
}

fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// Text width in pixels, as laid out in the embedded font (close enough to place labels).
fn text_width(text: &str, size: u32) -> i32 {
    (text.chars().count() as f64 * size as f64 * CHAR_WIDTH).ceil() as i32
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Draws every chart, as `.svg` and `.png`, into the staged report folder.
pub fn render_all(report: &Report, stage: &Staging) -> Result<()> {
    register_font()?;
    let charts: [fn(&Report, &mut String) -> Result<()>; 4] =
        [monthly_cost, daily_gb, alternatives, topology];
    for (&chart, draw) in CHARTS.iter().zip(charts) {
        write_chart(report, stage, chart, draw)?;
    }
    if report.reconcile.is_some() {
        write_chart(report, stage, RECONCILE_CHART, reconcile)?;
    }
    Ok(())
}

/// One chart, drawn as SVG and rasterised, both staged.
fn write_chart(
    report: &Report,
    stage: &Staging,
    (png, title): (&str, &str),
    draw: fn(&Report, &mut String) -> Result<()>,
) -> Result<()> {
    let mut svg = String::new();
    draw(report, &mut svg)?;
    let raster = rasterise(&svg).with_context(|| format!("rasterising {title}"))?;
    stage.write(&svg_name(png), &svg)?;
    stage.write(png, raster)
}

/// The chart of `--bill`: billed against modelled per month and usage type.
pub const RECONCILE_CHART: (&str, &str) = (
    "reconcile.png",
    "Billed vs. modelled, per month and usage type",
);

/// Bar pairs: per month and usage type (summed over accounts and regions), billed and
/// modelled cost; the costliest 12 pairs, the rest in reconcile.csv.
fn reconcile(report: &Report, svg: &mut String) -> Result<()> {
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
    let kept = 12;
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
    let slot = bars
        .iter()
        .map(|((_, u), _)| text_width(u, 13) + 24)
        .max()
        .unwrap_or(120)
        .max(120);
    let width = (160 + slot as u32 * bars.len() as u32).max(1000);
    let foot = 30 + 20 * notes.len() as u32;
    let height = 680 + foot;
    let root = SVGBackend::with_string(svg, (width, height)).into_drawing_area();
    let body = page(&root, title, &subtitle(report))?;
    if bars.is_empty() {
        empty_chart(&body, title, "Nothing billed or modelled in these months.")?;
        return root.present().map_err(err(title));
    }
    let (plot, below) = body.split_vertically(height - HEADER - foot);
    let (plot, legend_area) = plot.split_vertically(height - HEADER - foot - 40);
    let max = bars
        .iter()
        .map(|(_, (b, m, _))| b.max(*m))
        .fold(0.0, f64::max)
        * 1.15;
    let mut chart = usd_bars(&plot, title, bars.len(), max, "Cost in the month (USD)")?;
    let billed = RGBColor(120, 120, 120);
    let modelled = SERIES_COLORS[0];
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
        bar_labels(
            &root,
            &chart,
            title,
            i,
            b.max(*m),
            label,
            &[usage.clone(), month.clone()],
        )?;
    }
    legend(
        &legend_area,
        title,
        &[
            ("billed (bar label: billed / modelled USD)", billed),
            ("modelled", modelled),
        ],
    )?;
    footnotes(&below, title, &notes)?;
    root.present().map_err(err(title))
}

/// The SVG as a PNG, its text in the embedded font.
pub fn rasterise(svg: &str) -> Result<Vec<u8>> {
    use resvg::{tiny_skia, usvg};
    let mut fonts = usvg::fontdb::Database::new();
    fonts.load_font_data(FONT_FILE.to_vec());
    fonts.set_sans_serif_family(FONT_FAMILY);
    let options = usvg::Options {
        fontdb: Arc::new(fonts),
        ..Default::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).context("the chart is not valid SVG")?;
    let size = tree.size().to_int_size();
    let mut pixmap =
        tiny_skia::Pixmap::new(size.width(), size.height()).context("the chart has no area")?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().context("encoding the PNG")
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// "account 123456789012 · ap-northeast-2 · 2026-09-26 to 2026-11-01 UTC (864 h)"
fn subtitle(report: &Report) -> String {
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

/// White background, title and subtitle on top; returns the area below them.
fn page<'a>(root: &Area<'a>, title: &str, sub: &str) -> Result<Area<'a>> {
    root.fill(&WHITE).map_err(err(title))?;
    let (head, body) = root.split_vertically(HEADER);
    head.draw(&Text::new(title.to_string(), (24, 14), font(26)))
        .map_err(err(title))?;
    head.draw(&Text::new(
        sub.to_string(),
        (24, 52),
        font(15).color(&RGBColor(80, 80, 80)),
    ))
    .map_err(err(title))?;
    Ok(body)
}

fn empty_chart(body: &Area, title: &str, note: &str) -> Result<()> {
    body.draw(&Text::new(note.to_string(), (60, 60), font(18)))
        .map_err(err(title))?;
    Ok(())
}

/// Notes under a chart, one line each.
fn footnotes(area: &Area, title: &str, lines: &[String]) -> Result<()> {
    for (i, line) in lines.iter().enumerate() {
        area.draw(&Text::new(
            line.clone(),
            (24, 6 + 20 * i as i32),
            font(14).color(&RGBColor(70, 70, 70)),
        ))
        .map_err(err(title))?;
    }
    Ok(())
}

/// A bar chart's plot: `n` bar slots across, USD up to `max` up; no x labels (each bar's are
/// drawn under it by [`bar_labels`]).
fn usd_bars<'a, 'b>(
    plot: &'a Area<'b>,
    title: &str,
    n: usize,
    max: f64,
    y_desc: &str,
) -> Result<Bars<'a, 'b>> {
    let mut chart = ChartBuilder::on(plot)
        .margin_left(20)
        .margin_right(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..n as f64, 0f64..max.max(0.01))
        .map_err(err(title))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(y_desc)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(font(15))
        .axis_desc_style(font(17))
        .draw()
        .map_err(err(title))?;
    Ok(chart)
}

type Bars<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// `above` over bar `i` (whose top is at `top`) and `lines` under it, in backend (whole-picture)
/// coordinates, so drawn on the root.
fn bar_labels(
    root: &Area,
    chart: &Bars,
    title: &str,
    i: usize,
    top: f64,
    above: String,
    lines: &[String],
) -> Result<()> {
    let centred = |size| font(size).pos(Pos::new(HPos::Center, VPos::Top));
    let (x, y) = chart.backend_coord(&(i as f64 + 0.5, top));
    root.draw(&Text::new(above, (x, y - 18), centred(13)))
        .map_err(err(title))?;
    let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
    for (k, line) in lines.iter().cloned().enumerate() {
        root.draw(&Text::new(line, (x, y + 6 + 16 * k as i32), centred(13)))
            .map_err(err(title))?;
    }
    Ok(())
}

/// A colour square and its label per item, left to right.
fn legend(area: &Area, title: &str, items: &[(&str, RGBColor)]) -> Result<()> {
    let mut x = 110;
    for (label, color) in items {
        area.draw(&Rectangle::new([(x, 14), (x + 14, 28)], color.filled()))
            .map_err(err(title))?;
        area.draw(&Text::new(label.to_string(), (x + 20, 13), font(15)))
            .map_err(err(title))?;
        x += 40 + text_width(label, 15);
    }
    Ok(())
}

/// How many NAT gateways a chart draws one by one; the rest are summed as "others".
const TOP_NATS: usize = 20;
/// Bars monthly_cost.png aims at, all months together.
const MONTHLY_BARS: usize = 24;
/// Lines daily_gb.png draws one by one (its colours stay apart up to about this many).
const DAILY_LINES: usize = 10;

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

/// A NAT gateway's name with its state: deleted ones and NATs that moved nothing are marked.
fn nat_label(n: &NatCost) -> String {
    if !n.active_at_end {
        format!("{} (deleted)", n.label())
    } else {
        n.label().to_string()
    }
}

/// Stacked bars: one per NAT gateway and month, stacked by cost component.
fn monthly_cost(report: &Report, svg: &mut String) -> Result<()> {
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
                parts[i] += l.charge.cost;
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

/// One line per NAT gateway: GB processed per UTC day; the legend in a column of its own.
fn daily_gb(report: &Report, svg: &mut String) -> Result<()> {
    let title = CHARTS[1].1;
    // One line per NAT gateway among the busiest few; the rest summed day by day as "others".
    let mut with_bytes: Vec<&NatCost> = report
        .nats
        .iter()
        .filter(|n| !n.daily_gb.is_empty())
        .collect();
    with_bytes.sort_by_key(|n| std::cmp::Reverse(n.processed_gb.unwrap_or_default()));
    let rest = with_bytes.split_off(with_bytes.len().min(DAILY_LINES));
    with_bytes.sort_by_key(|n| {
        report
            .nats
            .iter()
            .position(|m| m.nat_gateway_id == n.nat_gateway_id)
    });
    let mut series: Vec<(String, Vec<(chrono::NaiveDate, f64)>)> = with_bytes
        .iter()
        .map(|n| {
            (
                format!("{} ({})", nat_label(n), n.availability_zone),
                n.daily_gb.clone(),
            )
        })
        .collect();
    if !rest.is_empty() {
        let mut sum: std::collections::BTreeMap<chrono::NaiveDate, f64> = Default::default();
        for n in &rest {
            for (d, v) in &n.daily_gb {
                *sum.entry(*d).or_default() += v;
            }
        }
        series.push((
            format!("{} others, summed", rest.len()),
            sum.into_iter().collect(),
        ));
    }
    let labels: Vec<String> = series.iter().map(|(l, _)| l.clone()).collect();
    let legend_w = labels
        .iter()
        .map(|l| text_width(l, 15) + 60)
        .max()
        .unwrap_or(200)
        .max(200) as u32;
    let legend_h = 40 + 24 * labels.len() as u32;
    let width = 1100 + legend_w;
    let height = (720u32).max(HEADER + legend_h + 40);
    let root = SVGBackend::with_string(svg, (width, height)).into_drawing_area();
    let body = page(&root, title, &subtitle(report))?;
    if series.is_empty() {
        empty_chart(&body, title, "No CloudWatch byte metrics in this snapshot.")?;
        return root.present().map_err(err(title));
    }
    let (plot, legend) = body.split_horizontally(width - legend_w);
    let start = report.window.start.date_naive();
    let days = series.iter().map(|(_, d)| d.len()).max().unwrap_or(1) as f64;
    let max = series
        .iter()
        .flat_map(|(_, d)| d.iter().map(|(_, v)| *v))
        .fold(0.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&plot)
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..(days - 1.0).max(1.0), 0f64..max.max(0.01))
        .map_err(err(title))?;
    let date_label = |v: &f64| {
        (start + Duration::days(v.round() as i64))
            .format("%m-%d")
            .to_string()
    };
    chart
        .configure_mesh()
        .x_labels(12)
        .x_label_formatter(&date_label)
        .x_desc("Day (UTC)")
        .y_desc("GB processed per day")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(font(15))
        .axis_desc_style(font(17))
        .draw()
        .map_err(err(title))?;
    for (i, (_, daily)) in series.iter().enumerate() {
        let color = SERIES_COLORS[i % SERIES_COLORS.len()];
        let points: Vec<(f64, f64)> = daily
            .iter()
            .map(|(d, v)| ((*d - start).num_days() as f64, *v))
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(err(title))?;
        let y = 40 + 24 * i as i32;
        legend
            .draw(&PathElement::new(
                vec![(10, y + 8), (38, y + 8)],
                color.stroke_width(3),
            ))
            .map_err(err(title))?;
        legend
            .draw(&Text::new(labels[i].clone(), (46, y), font(15)))
            .map_err(err(title))?;
    }
    legend
        .draw(&Text::new(
            "NAT gateway (AZ)".to_string(),
            (10, 12),
            font(15).color(&RGBColor(70, 70, 70)),
        ))
        .map_err(err(title))?;
    root.present().map_err(err(title))
}

/// What a scenario's before/after bars cover.
fn scope(alternative: &str) -> &'static str {
    match alternative {
        "delete-idle-nat" | "nat-instance" => "one NAT",
        "consolidate-nat" | "regional-nat" => "the VPC's NATs",
        "fix-cross-az-route" => "one subnet's inter-AZ",
        "centralized-egress-tgw" => "the region's NATs",
        _ => "the VPC's NATs",
    }
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
fn alternatives(report: &Report, svg: &mut String) -> Result<()> {
    let title = CHARTS[2].1;
    let green = RGBColor(44, 160, 44);
    let orange = RGBColor(230, 130, 20);
    let blue = RGBColor(60, 110, 200);
    let grey = RGBColor(190, 190, 190);
    let p = &report.plan;
    let mut bars = vec![Bar {
        label: format!("Plan: {} step(s) (all NATs)", p.steps.len()),
        before: f(p.monthly_before),
        after: f(p.monthly_after),
        note: format!(
            "saves {} USD/month{} ({} USD/year)",
            money(p.monthly_saving),
            report.also(p.monthly_saving),
            money(p.monthly_saving * Decimal::from(12))
        ),
        color: green,
        hypothetical: false,
    }];
    for s in report
        .recommendations
        .iter()
        .filter(|s| s.tier == Tier::Consider && s.saving_after_plan > Some(Decimal::ZERO))
        .take(6)
    {
        let on_top = s.saving_after_plan.unwrap_or_default();
        bars.push(Bar {
            label: format!(
                "consider: {} {} ({})",
                s.alternative,
                few_names(report, &s.resource_id),
                scope(s.alternative)
            ),
            before: f(s.monthly_before),
            after: f(s.monthly_before - on_top),
            note: format!(
                "+{} USD/month{} on top of the plan ({})",
                money(on_top),
                report.also(on_top),
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
                scope(s.alternative)
            ),
            before: f(s.monthly_before),
            after: f(s.monthly_before - x.monthly_usd),
            note: format!("hypothetical: {} USD/month", money(x.monthly_usd)),
            color: blue,
            hypothetical: true,
        });
    }
    let label_w = bars
        .iter()
        .map(|b| text_width(&b.label, 15))
        .max()
        .unwrap_or(300)
        + 30;
    let note_w = bars
        .iter()
        .map(|b| text_width(&b.note, 14))
        .max()
        .unwrap_or(300)
        + 30;
    let plot_w = 700;
    let width = (label_w + plot_w + note_w + 40) as u32;
    let foot = 50 + 20 * measures.len() as u32;
    let height = HEADER + 80 + 56 * bars.len() as u32 + foot;
    let root = SVGBackend::with_string(svg, (width.max(1200), height)).into_drawing_area();
    let body = page(&root, title, &subtitle(report))?;
    let (plot, below) = body.split_vertically(height - HEADER - foot);
    let max = bars.iter().map(|b| b.before).fold(0.0, f64::max) * 1.05;
    let n = bars.len() as f64;
    let mut chart = ChartBuilder::on(&plot)
        .margin_top(10)
        .margin_right(note_w)
        .x_label_area_size(50)
        .y_label_area_size(label_w)
        .build_cartesian_2d(0f64..max.max(0.01), 0f64..n)
        .map_err(err(title))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("USD per month")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(font(15))
        .axis_desc_style(font(17))
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
    let right = |size| font(size).pos(Pos::new(HPos::Right, VPos::Center));
    let left = |size| font(size).pos(Pos::new(HPos::Left, VPos::Center));
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
        root.draw(&Text::new(b.label.clone(), (x - 12, y), right(15)))
            .map_err(err(title))?;
        let (bx, _) = chart.backend_coord(&(b.before, 0.0));
        root.draw(&Text::new(b.note.clone(), (bx + 8, y), left(14)))
            .map_err(err(title))?;
    }
    // The legend goes under the plot, never over a bar.
    let legend = [
        (grey, false, "today"),
        (green, false, "after the plan"),
        (orange, false, "consider: after the plan and this step"),
        (blue, true, "measure first: hypothetical, not a saving"),
    ];
    let mut x = 24;
    for (color, outline, text) in legend {
        let style = if outline {
            color.stroke_width(2)
        } else {
            color.filled()
        };
        below
            .draw(&Rectangle::new([(x, 10), (x + 14, 24)], style))
            .map_err(err(title))?;
        below
            .draw(&Text::new(text.to_string(), (x + 20, 9), font(15)))
            .map_err(err(title))?;
        x += 44 + text_width(text, 15);
    }
    let (_, notes) = below.split_vertically(40);
    footnotes(&notes, title, &measures)?;
    root.present().map_err(err(title))
}

/// A label's box, to keep labels from overlapping.
#[derive(Clone, Copy)]
struct Placed {
    x: i32,
    y: i32,
    w: i32,
    h: i32,
}

impl Placed {
    fn overlaps(&self, o: &Placed) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// Functions on the left, NAT gateways on the right (idle ones too, up to TOP_NATS: those of
/// the biggest links first, then the costliest), links labelled with GB and data processing
/// cost per month where a label fits.
fn topology(report: &Report, svg: &mut String) -> Result<()> {
    let title = CHARTS[3].1;
    let mut links: Vec<_> = report.links.iter().filter(|l| l.share > 0.0).collect();
    links.sort_by_key(|l| std::cmp::Reverse(l.monthly_gb));
    let mut shown: Vec<&str> = Vec::new();
    for l in &links {
        if shown.len() < TOP_NATS && !shown.contains(&l.nat_gateway_id.as_str()) {
            shown.push(&l.nat_gateway_id);
        }
    }
    let mut by_cost: Vec<&NatCost> = report.nats.iter().collect();
    by_cost.sort_by_key(|n| std::cmp::Reverse(n.window_cost()));
    for n in by_cost {
        if shown.len() < TOP_NATS && !shown.contains(&n.nat_gateway_id.as_str()) {
            shown.push(&n.nat_gateway_id);
        }
    }
    let nats_hidden = report.nats.len() - shown.len();
    links.retain(|l| shown.contains(&l.nat_gateway_id.as_str()));
    let hidden = links.len().saturating_sub(80);
    links.truncate(80);
    let nats: Vec<&NatCost> = report
        .nats
        .iter()
        .filter(|n| shown.contains(&n.nat_gateway_id.as_str()))
        .collect();
    let nat_index = |id: &str| {
        nats.iter()
            .position(|n| n.nat_gateway_id == id)
            .unwrap_or(0)
    };
    // Each source sits level with its main NAT gateway, so that links cross as little as possible.
    let mut sources: Vec<(&str, usize, Decimal, Decimal)> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for l in &links {
        match seen.get(l.from.as_str()) {
            Some(&i) => {
                let s: &mut (&str, usize, Decimal, Decimal) = &mut sources[i];
                s.2 += l.monthly_gb;
                s.3 += l.monthly_cost;
            }
            None => {
                seen.insert(l.from.as_str(), sources.len());
                sources.push((
                    &l.from,
                    nat_index(&l.nat_gateway_id),
                    l.monthly_gb,
                    l.monthly_cost,
                ));
            }
        }
    }
    sources.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)));
    let source_text: Vec<String> = sources
        .iter()
        .map(|s| format!("{} {:.0} GB · {} USD", s.0, f(s.2), money(s.3)))
        .collect();
    let nat_text: Vec<String> = nats
        .iter()
        .map(|n| {
            let traffic = match n.processed_gb {
                Some(gb) if gb.is_zero() => Some("no traffic"),
                None => Some("no byte metrics"),
                _ => None,
            };
            // A NAT gateway known only by its metrics has no AZ.
            let about: Vec<&str> = [Some(n.availability_zone.as_str()), traffic]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect();
            let about = if about.is_empty() {
                String::new()
            } else {
                format!(" ({})", about.join(", "))
            };
            format!("{}{about} {} USD/mo", nat_label(n), money(n.monthly()))
        })
        .collect();
    let box_w = source_text
        .iter()
        .map(|t| text_width(t, 14) + 16)
        .max()
        .unwrap_or(300)
        .max(300);
    let nat_w = nat_text
        .iter()
        .map(|t| text_width(t, 14) + 16)
        .max()
        .unwrap_or(300)
        .max(300);
    let gap = 640;
    let width = (40 + box_w + gap + nat_w) as u32;
    let rows = sources.len().max(nats.len()).max(1) as i32;
    let height = (HEADER as i32 + 110 + 34 * rows) as u32;
    let root = SVGBackend::with_string(svg, (width.max(1200), height.max(480))).into_drawing_area();
    let body = page(&root, title, &subtitle(report))?;
    if nats.is_empty() {
        empty_chart(&body, title, "No NAT gateway in this snapshot.")?;
        return root.present().map_err(err(title));
    }
    body.draw(&Text::new(
        if report.flows.is_some() {
            "GB/month and NAT data processing USD/month per source, measured with VPC flow logs; labels where they fit".to_string()
        } else {
            "Estimated GB/month and NAT data processing USD/month per function, split by who sits in each subnet until flow logs measure it; labels where they fit".to_string()
        },
        (24, 0),
        font(14),
    ))
    .map_err(err(title))?;
    let top = 30;
    let (left_x, right_x) = (20, 20 + box_w + gap);
    let src_y = |i: usize| top + 34 * i as i32 * rows / sources.len().max(1) as i32;
    let nat_y = |i: usize| top + 34 * i as i32 * rows / nats.len() as i32;
    let max_gb = links
        .iter()
        .map(|l| f(l.monthly_gb))
        .fold(0.0, f64::max)
        .max(1e-9);
    // Boxes first in the placement list, so link labels never cover a name.
    let mut placed: Vec<Placed> = (0..sources.len())
        .map(|i| Placed {
            x: left_x,
            y: src_y(i),
            w: box_w,
            h: 26,
        })
        .chain((0..nats.len()).map(|i| Placed {
            x: right_x,
            y: nat_y(i),
            w: nat_w,
            h: 26,
        }))
        .collect();
    let mut per_source = vec![0usize; sources.len()];
    let mut labelled = 0;
    for l in &links {
        let Some(si) = sources.iter().position(|s| s.0 == l.from) else {
            continue;
        };
        let ni = nat_index(&l.nat_gateway_id);
        let color = SERIES_COLORS[ni % SERIES_COLORS.len()];
        let from = (left_x + box_w, src_y(si) + 13);
        let to = (right_x, nat_y(ni) + 13);
        let width = 1 + (7.0 * f(l.monthly_gb) / max_gb).round() as u32;
        body.draw(&PathElement::new(
            vec![from, to],
            color.mix(0.6).stroke_width(width),
        ))
        .map_err(err(title))?;
        // Along the link, a little further for each further link of the same source; a label
        // that would cover another label or a box is left out (the numbers are in the boxes).
        let text = format!("{:.1} GB · {} USD", f(l.monthly_gb), money(l.monthly_cost));
        let k = per_source[si];
        per_source[si] += 1;
        let t = 0.12 + 0.18 * (k % 4) as f64;
        let at = (
            from.0 + ((to.0 - from.0) as f64 * t) as i32,
            from.1 + ((to.1 - from.1) as f64 * t) as i32 - 16,
        );
        let label = Placed {
            x: at.0 - 2,
            y: at.1 - 1,
            w: text_width(&text, 12) + 4,
            h: 16,
        };
        if placed.iter().any(|p| p.overlaps(&label)) {
            continue;
        }
        placed.push(label);
        labelled += 1;
        body.draw(&Rectangle::new(
            [(label.x, label.y), (label.x + label.w, label.y + label.h)],
            WHITE.mix(0.85).filled(),
        ))
        .map_err(err(title))?;
        body.draw(&Text::new(text, at, font(12).color(&color)))
            .map_err(err(title))?;
    }
    for (i, text) in source_text.iter().enumerate() {
        let y = src_y(i);
        body.draw(&Rectangle::new(
            [(left_x, y), (left_x + box_w, y + 26)],
            RGBColor(230, 238, 248).filled(),
        ))
        .map_err(err(title))?;
        body.draw(&Text::new(text.clone(), (left_x + 8, y + 5), font(14)))
            .map_err(err(title))?;
    }
    for (i, text) in nat_text.iter().enumerate() {
        let y = nat_y(i);
        let color = SERIES_COLORS[i % SERIES_COLORS.len()];
        body.draw(&Rectangle::new(
            [(right_x, y), (right_x + nat_w, y + 26)],
            color.mix(0.25).filled(),
        ))
        .map_err(err(title))?;
        body.draw(&Text::new(text.clone(), (right_x + 8, y + 5), font(14)))
            .map_err(err(title))?;
    }
    let mut foot = Vec::new();
    if nats_hidden > 0 {
        foot.push(format!(
            "{nats_hidden} more NAT gateways, and their links, are in report.md and lambdas.csv"
        ));
    }
    if hidden > 0 {
        foot.push(format!("{hidden} smaller links not shown"));
    }
    if labelled < links.len() {
        foot.push(format!(
            "{} of {} links labelled (the others' numbers are in the boxes and lambdas.csv)",
            labelled,
            links.len()
        ));
    }
    for (i, line) in foot.iter().enumerate() {
        body.draw(&Text::new(
            line.clone(),
            (24, height as i32 - HEADER as i32 - 24 - 20 * i as i32),
            font(14).color(&RGBColor(70, 70, 70)),
        ))
        .map_err(err(title))?;
    }
    root.present().map_err(err(title))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chart_is_in_the_list_of_report_files() {
        for (file, _) in CHARTS {
            let svg = svg_name(file);
            for name in [file, svg.as_str()] {
                assert!(crate::output::REPORT_FILES.contains(&name), "{name}");
            }
        }
    }

    /// The embedded font reaches the rasteriser: text alone paints pixels.
    #[test]
    fn text_is_rasterised_in_the_embedded_font() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="4" y="28" font-family="sans-serif" font-size="20">NAT hours 217.83</text></svg>"#;
        let png = rasterise(svg).unwrap();
        let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
        assert_eq!((pixmap.width(), pixmap.height()), (200, 40));
        let inked = pixmap.pixels().iter().filter(|p| p.alpha() > 0).count();
        assert!(inked > 300, "{inked} pixels of text");
        assert!(rasterise("not svg").is_err());
    }

    #[test]
    fn label_boxes_overlap_only_when_they_share_area() {
        let a = Placed {
            x: 0,
            y: 0,
            w: 10,
            h: 10,
        };
        assert!(a.overlaps(&Placed {
            x: 9,
            y: 9,
            w: 5,
            h: 5
        }));
        assert!(!a.overlaps(&Placed {
            x: 10,
            y: 0,
            w: 5,
            h: 5
        }));
        assert!(!a.overlaps(&Placed {
            x: 0,
            y: 10,
            w: 5,
            h: 5
        }));
    }
}

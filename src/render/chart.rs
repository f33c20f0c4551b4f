//! PNG charts for finance reviews, drawn with plotters and an embedded font (no system
//! fonts needed).

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use chrono::Duration;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::money;
use crate::advise::Tier;
use crate::price::model::Component;
use crate::report::Report;

const FONT: &str = "sans-serif";
static REGISTER: Once = Once::new();

/// The charts a report has: file name and title.
pub const CHARTS: [(&str, &str); 4] = [
    (
        "monthly_cost.png",
        "Cost per NAT gateway and month, by component",
    ),
    ("daily_gb.png", "Data processed per NAT gateway per day"),
    (
        "alternatives.png",
        "Monthly cost today vs. each alternative",
    ),
    ("topology.png", "Lambda functions → NAT gateways"),
];

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

fn register_font() -> Result<()> {
    let mut result = Ok(());
    REGISTER.call_once(|| {
        result = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../../assets/DejaVuSans.ttf"),
        )
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

/// Draws every chart into `dir`; returns their file names.
pub fn render_all(report: &Report, dir: &Path) -> Result<()> {
    register_font()?;
    monthly_cost(report, &dir.join(CHARTS[0].0))?;
    daily_gb(report, &dir.join(CHARTS[1].0))?;
    alternatives(report, &dir.join(CHARTS[2].0))?;
    topology(report, &dir.join(CHARTS[3].0))?;
    Ok(())
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

fn empty_chart(root: &DrawingArea<BitMapBackend, Shift>, title: &str, note: &str) -> Result<()> {
    root.titled(title, font(26)).map_err(err(title))?;
    root.draw(&Text::new(note.to_string(), (60, 120), font(18)))
        .map_err(err(title))?;
    Ok(())
}

/// Stacked bars: one per NAT gateway and month, stacked by cost component.
fn monthly_cost(report: &Report, path: &Path) -> Result<()> {
    let title = CHARTS[0].1;
    // (label, [cost per component])
    let mut bars: Vec<(String, [f64; 4])> = Vec::new();
    for m in &report.monthly_totals {
        for n in &report.nats {
            let mut parts = [0.0; 4];
            for l in n.lines.iter().filter(|l| l.period_start == m.period_start) {
                let i = Component::ALL
                    .iter()
                    .position(|c| *c == l.charge.component)
                    .unwrap();
                parts[i] += f(l.charge.cost);
            }
            if parts.iter().any(|v| *v > 0.0) {
                bars.push((
                    format!(
                        "{} {}",
                        shorten(n.label(), 16),
                        m.period_start.format("%Y-%m")
                    ),
                    parts,
                ));
            }
        }
    }
    let width = (220 + 110 * bars.len() as u32).clamp(1000, 3000);
    let root = BitMapBackend::new(path, (width, 720)).into_drawing_area();
    root.fill(&WHITE).map_err(err(title))?;
    if bars.is_empty() {
        empty_chart(&root, title, "No NAT gateway cost in this window.")?;
        return root.present().map_err(err(title));
    }
    let max = bars
        .iter()
        .map(|(_, p)| p.iter().sum::<f64>())
        .fold(0.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, font(26))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..bars.len() as f64, 0f64..max.max(0.01))
        .map_err(err(title))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("Cost (USD)")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(font(15))
        .axis_desc_style(font(17))
        .draw()
        .map_err(err(title))?;
    for (ci, component) in Component::ALL.iter().enumerate() {
        let color = COMPONENT_COLORS[ci];
        let rects: Vec<_> = bars
            .iter()
            .enumerate()
            .map(|(i, (_, parts))| {
                let lo: f64 = parts[..ci].iter().sum();
                let x = i as f64;
                Rectangle::new([(x + 0.15, lo), (x + 0.85, lo + parts[ci])], color.filled())
            })
            .collect();
        chart
            .draw_series(rects)
            .map_err(err(title))?
            .label(component.label())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
    }
    for (i, (label, parts)) in bars.iter().enumerate() {
        let total: f64 = parts.iter().sum();
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, total));
        let text = format!("{total:.2}");
        root.draw(&Text::new(
            text.clone(),
            (x - 4 * text.len() as i32, y - 20),
            font(14),
        ))
        .map_err(err(title))?;
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        for (k, part) in label
            .rsplitn(2, ' ')
            .collect::<Vec<_>>()
            .iter()
            .rev()
            .enumerate()
        {
            root.draw(&Text::new(
                part.to_string(),
                (x - 4 * part.chars().count() as i32, y + 8 + 18 * k as i32),
                font(13),
            ))
            .map_err(err(title))?;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(font(15))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err(title))?;
    root.present().map_err(err(title))
}

/// One line per NAT gateway: GB processed per UTC day.
fn daily_gb(report: &Report, path: &Path) -> Result<()> {
    let title = CHARTS[1].1;
    let root = BitMapBackend::new(path, (1400, 720)).into_drawing_area();
    root.fill(&WHITE).map_err(err(title))?;
    let series: Vec<_> = report
        .nats
        .iter()
        .filter(|n| !n.daily_gb.is_empty())
        .collect();
    if series.is_empty() {
        empty_chart(&root, title, "No CloudWatch byte metrics in this snapshot.")?;
        return root.present().map_err(err(title));
    }
    let start = report.window.start.date_naive();
    let days = series.iter().map(|n| n.daily_gb.len()).max().unwrap_or(1) as f64;
    let max = series
        .iter()
        .flat_map(|n| n.daily_gb.iter().map(|(_, v)| *v))
        .fold(0.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, font(26))
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
    for (i, n) in series.iter().enumerate() {
        let color = SERIES_COLORS[i % SERIES_COLORS.len()];
        let points: Vec<(f64, f64)> = n
            .daily_gb
            .iter()
            .map(|(d, v)| ((*d - start).num_days() as f64, *v))
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(err(title))?
            .label(format!("{} ({})", n.label(), n.availability_zone))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(font(15))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err(title))?;
    root.present().map_err(err(title))
}

/// What a scenario's before/after bars cover.
fn scope(alternative: &str) -> &'static str {
    match alternative {
        "delete-idle-nat" | "nat-instance" => "one NAT",
        "consolidate-nat" => "the VPC's NATs",
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
fn alternatives(report: &Report, path: &Path) -> Result<()> {
    let title = CHARTS[2].1;
    let green = RGBColor(44, 160, 44);
    let orange = RGBColor(230, 130, 20);
    let blue = RGBColor(60, 110, 200);
    let p = &report.plan;
    let mut bars = vec![Bar {
        label: format!("Plan: {} step(s) (all NATs)", p.steps.len()),
        before: f(p.monthly_before),
        after: f(p.monthly_after),
        note: format!("saves {} USD/month", money(p.monthly_saving)),
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
                shorten(&report.name_of(&s.resource_id), 18),
                scope(s.alternative)
            ),
            before: f(s.monthly_before),
            after: f(s.monthly_before - on_top),
            note: format!(
                "+{} USD/month on top of the plan ({})",
                money(on_top),
                s.confidence.as_str()
            ),
            color: orange,
            hypothetical: false,
        });
    }
    for s in report
        .recommendations
        .iter()
        .filter(|s| s.tier == Tier::MeasureFirst)
        .take(5)
    {
        let Some(x) = &s.sensitivity else { continue };
        bars.push(Bar {
            label: format!(
                "measure first: {} {} ({})",
                s.alternative,
                shorten(&report.name_of(&s.resource_id), 14),
                scope(s.alternative)
            ),
            before: f(s.monthly_before),
            after: f(s.monthly_before - x.monthly_usd),
            note: format!(
                "hypothetical: {} USD/month, {}",
                money(x.monthly_usd),
                shorten(&x.per, 44)
            ),
            color: blue,
            hypothetical: true,
        });
    }
    let height = (220 + 56 * bars.len() as u32).max(480);
    let root = BitMapBackend::new(path, (1500, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err(title))?;
    let max = bars.iter().map(|b| b.before).fold(0.0, f64::max) * 1.6;
    let n = bars.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, font(26))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(470)
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
    let grey = RGBColor(190, 190, 190);
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            Rectangle::new(
                [(0.0, row(i) + 0.1), (b.before, row(i) + 0.9)],
                grey.filled(),
            )
        }))
        .map_err(err(title))?
        .label("today")
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], grey.filled()));
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
        root.draw(&Text::new(b.label.clone(), (x - 460, y - 8), font(15)))
            .map_err(err(title))?;
        let (bx, _) = chart.backend_coord(&(b.before, 0.0));
        root.draw(&Text::new(b.note.clone(), (bx + 8, y - 8), font(14)))
            .map_err(err(title))?;
    }
    let legend = [
        (green, false, "after the plan"),
        (orange, false, "consider: after the plan and this step"),
        (blue, true, "measure first: hypothetical, not a saving"),
    ];
    for (color, outline, text) in legend {
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
            .map_err(err(title))?
            .label(text)
            .legend(move |(x, y)| {
                let style = if outline {
                    color.stroke_width(2)
                } else {
                    color.filled()
                };
                Rectangle::new([(x, y - 4), (x + 14, y + 4)], style)
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(font(15))
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(err(title))?;
    root.present().map_err(err(title))
}

/// Functions on the left, NAT gateways on the right, links labelled with estimated GB and
/// data processing cost per month.
fn topology(report: &Report, path: &Path) -> Result<()> {
    let title = CHARTS[3].1;
    let mut links: Vec<_> = report.links.iter().filter(|l| l.share > 0.0).collect();
    links.sort_by_key(|l| std::cmp::Reverse(l.monthly_gb));
    let hidden = links.len().saturating_sub(80);
    links.truncate(80);
    let nats: Vec<_> = report
        .nats
        .iter()
        .filter(|n| links.iter().any(|l| l.nat_gateway_id == n.nat_gateway_id))
        .collect();
    let nat_index = |id: &str| {
        nats.iter()
            .position(|n| n.nat_gateway_id == id)
            .unwrap_or(0)
    };
    // Each source sits level with its main NAT gateway, so that links cross as little as possible.
    let mut sources: Vec<(&str, usize, Decimal, Decimal)> = Vec::new();
    for l in &links {
        match sources.iter_mut().find(|s| s.0 == l.from) {
            Some(s) => {
                s.2 += l.monthly_gb;
                s.3 += l.monthly_cost;
            }
            None => sources.push((
                &l.from,
                nat_index(&l.nat_gateway_id),
                l.monthly_gb,
                l.monthly_cost,
            )),
        }
    }
    sources.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)));
    let rows = sources.len().max(nats.len()).max(1) as i32;
    let height = (140 + 34 * rows) as u32;
    let root = BitMapBackend::new(path, (1500, height.max(480))).into_drawing_area();
    root.fill(&WHITE).map_err(err(title))?;
    if links.is_empty() {
        empty_chart(
            &root,
            title,
            "No Lambda function or network interface routes to a NAT gateway.",
        )?;
        return root.present().map_err(err(title));
    }
    root.draw(&Text::new(title.to_string(), (20, 16), font(26)))
        .map_err(err(title))?;
    root.draw(&Text::new(
        if report.flows.is_some() {
            "GB/month and NAT data processing USD/month per source, measured with VPC flow logs (the 10 largest links labelled)".to_string()
        } else {
            "Estimated GB/month and NAT data processing USD/month per function (the 10 largest links labelled); traffic is split by who sits in each subnet until flow logs measure it".to_string()
        },
        (20, 52),
        font(14),
    ))
    .map_err(err(title))?;
    let top = 90;
    let (left_x, box_w, right_x, nat_w) = (20, 380, 1080, 400);
    let src_y = |i: usize| top + 34 * i as i32 * rows / sources.len() as i32;
    let nat_y = |i: usize| top + 34 * i as i32 * rows / nats.len() as i32;
    let max_gb = links
        .iter()
        .map(|l| f(l.monthly_gb))
        .fold(0.0, f64::max)
        .max(1e-9);
    for (li, l) in links.iter().enumerate() {
        let si = sources.iter().position(|s| s.0 == l.from).unwrap();
        let ni = nats
            .iter()
            .position(|n| n.nat_gateway_id == l.nat_gateway_id)
            .unwrap();
        let color = SERIES_COLORS[ni % SERIES_COLORS.len()];
        let from = (left_x + box_w, src_y(si) + 13);
        let to = (right_x, nat_y(ni) + 13);
        let width = 1 + (7.0 * f(l.monthly_gb) / max_gb).round() as u32;
        root.draw(&PathElement::new(
            vec![from, to],
            color.mix(0.6).stroke_width(width),
        ))
        .map_err(err(title))?;
        // Links are sorted by GB: label the largest only.
        if li >= 10 {
            continue;
        }
        // Labels spread along the link so neighbours do not overlap.
        let t = 0.15 + 0.5 * (li % 4) as f64 / 3.0;
        let at = (
            from.0 + ((to.0 - from.0) as f64 * t) as i32,
            from.1 + ((to.1 - from.1) as f64 * t) as i32 - 14,
        );
        root.draw(&Text::new(
            format!("{:.1} GB · {} USD", f(l.monthly_gb), money(l.monthly_cost)),
            at,
            font(12).color(&color),
        ))
        .map_err(err(title))?;
    }
    for (i, s) in sources.iter().enumerate() {
        let y = src_y(i);
        root.draw(&Rectangle::new(
            [(left_x, y), (left_x + box_w, y + 26)],
            RGBColor(230, 238, 248).filled(),
        ))
        .map_err(err(title))?;
        let text = format!("{} {:.0} GB · {} USD", shorten(s.0, 24), f(s.2), money(s.3));
        root.draw(&Text::new(text, (left_x + 6, y + 5), font(14)))
            .map_err(err(title))?;
    }
    for (i, n) in nats.iter().enumerate() {
        let y = nat_y(i);
        let color = SERIES_COLORS[i % SERIES_COLORS.len()];
        root.draw(&Rectangle::new(
            [(right_x, y), (right_x + nat_w, y + 26)],
            color.mix(0.25).filled(),
        ))
        .map_err(err(title))?;
        let text = format!(
            "{} ({}) {} USD/mo",
            shorten(n.label(), 22),
            n.availability_zone,
            money(n.monthly())
        );
        root.draw(&Text::new(text, (right_x + 6, y + 5), font(14)))
            .map_err(err(title))?;
    }
    if hidden > 0 {
        root.draw(&Text::new(
            format!("{hidden} smaller links not shown"),
            (20, height as i32 - 24),
            font(14),
        ))
        .map_err(err(title))?;
    }
    root.present().map_err(err(title))
}

use anyhow::Result;
use chrono::Duration;
use plotters::prelude::*;

use super::frame::{
    err, legend_column, nat_label, slide_page, subtitle, text, OTHERS, PALETTE, SLIDE,
};
use super::DAILY_CHART;
use crate::price::model::NatCost;
use crate::report::Report;

/// Lines daily_gb.png draws one by one, each in a colour of the palette; the rest are one grey
/// "others" line.
const DAILY_LINES: usize = 9;
/// Anomalous days ringed at most (report.json lists every one).
const MARKED: usize = 100;

/// One line per NAT gateway: GB processed per UTC day; the legend in a column of its own.
pub(crate) fn daily_gb(report: &Report, svg: &mut String) -> Result<()> {
    let title = DAILY_CHART.1;
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
    // Which line each NAT gateway is on: its own, or "others".
    let mut line_of: std::collections::HashMap<&str, usize> = with_bytes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.nat_gateway_id.as_str(), i))
        .collect();
    for n in &rest {
        line_of.insert(n.nat_gateway_id.as_str(), with_bytes.len());
    }
    let labels: Vec<String> = series.iter().map(|(l, _)| l.clone()).collect();
    let color_of = |i: usize| {
        if i < with_bytes.len() {
            PALETTE[i % PALETTE.len()]
        } else {
            OTHERS
        }
    };
    let root = SVGBackend::with_string(svg, SLIDE).into_drawing_area();
    let body = slide_page(&root, title, &subtitle(report))?;
    if series.is_empty() {
        body.draw(&Text::new(
            "No CloudWatch byte metrics in this snapshot.".to_string(),
            (48, 60),
            text(28),
        ))
        .map_err(err(title))?;
        return root.present().map_err(err(title));
    }
    let width = body.dim_in_pixel().0;
    let (plot, legend) = body.split_horizontally(width - 560);
    let start = report.window.start.date_naive();
    let days = series.iter().map(|(_, d)| d.len()).max().unwrap_or(1) as f64;
    let max = series
        .iter()
        .flat_map(|(_, d)| d.iter().map(|(_, v)| *v))
        .fold(0.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .x_label_area_size(90)
        .y_label_area_size(130)
        .build_cartesian_2d(0f64..(days - 1.0).max(1.0), 0f64..max.max(0.01))
        .map_err(err(title))?;
    let date_label = |v: &f64| {
        (start + Duration::days(v.round() as i64))
            .format("%m-%d")
            .to_string()
    };
    chart
        .configure_mesh()
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&date_label)
        .x_desc("Day (UTC)")
        .y_desc("GB processed per day")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(text(22))
        .axis_desc_style(text(24))
        .draw()
        .map_err(err(title))?;
    for (i, (_, daily)) in series.iter().enumerate() {
        let color = color_of(i);
        let points: Vec<(f64, f64)> = daily
            .iter()
            .map(|(d, v)| ((*d - start).num_days() as f64, *v))
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(4)))
            .map_err(err(title))?;
    }
    let mut items: Vec<(String, ShapeStyle)> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), color_of(i).filled()))
        .collect();
    // Days whose bytes jumped (report.md lists them): a ring on the line that carries them.
    let mut marked = 0;
    for a in report.anomalies.iter().take(MARKED) {
        let Some(&i) = line_of.get(a.nat_gateway_id.as_str()) else {
            continue;
        };
        let Some(&(_, v)) = series[i].1.iter().find(|(d, _)| *d == a.date) else {
            continue;
        };
        let x = (a.date - start).num_days() as f64;
        chart
            .draw_series(std::iter::once(Circle::new(
                (x, v),
                9,
                BLACK.stroke_width(3),
            )))
            .map_err(err(title))?;
        marked += 1;
    }
    if marked > 0 {
        items.push((
            "a day whose bytes jumped (ringed)".into(),
            BLACK.stroke_width(3),
        ));
    }
    legend_column(&legend, title, "NAT gateway (AZ)", &items)?;
    root.present().map_err(err(title))
}

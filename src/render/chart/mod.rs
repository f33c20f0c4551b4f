//! Charts for finance reviews: drawn as SVG with plotters, then rasterised to PNG with resvg,
//! both with the embedded font (no system fonts needed). Every chart ships as `.png` and as
//! `.svg` (a vector for slides), titled with the account, the region(s) and the period.
//!
//! Each chart is drawn in a file of its own, on what `frame` shares.

mod allocation;
mod alternatives;
mod daily_gb;
mod frame;
mod monthly_cost;
mod reconcile;
mod summary;
mod topology;

use std::sync::Arc;

use anyhow::{Context, Result};

use crate::output::Staging;
use crate::report::Report;
use allocation::allocation;
use alternatives::alternatives;
use daily_gb::daily_gb;
#[cfg(test)]
pub(crate) use daily_gb::daily_gb as daily_gb_svg;
use frame::{register_font, FONT_FILE};
use monthly_cost::{monthly_components, monthly_cost};
use reconcile::reconcile;
use summary::summary;
use topology::topology;

/// summary.png: one picture for a review's first slide.
pub const SUMMARY_CHART: (&str, &str) = ("summary.png", "NAT gateway cost at a glance");
pub const MONTHLY_CHART: (&str, &str) = ("monthly_cost.png", "Cost per month, by NAT gateway");
pub const COMPONENTS_CHART: (&str, &str) =
    ("monthly_components.png", "Cost per month, by component");
pub const DAILY_CHART: (&str, &str) = ("daily_gb.png", "Data processed per NAT gateway per day");
pub const ALTERNATIVES_CHART: (&str, &str) = (
    "alternatives.png",
    "Monthly cost today vs. the plan and each alternative",
);
pub const TOPOLOGY_CHART: (&str, &str) = ("topology.png", "Lambda functions → NAT gateways");

/// The charts a report has: PNG file name and title. Each also ships as `<name>.svg`.
pub const CHARTS: [(&str, &str); 6] = [
    SUMMARY_CHART,
    MONTHLY_CHART,
    COMPONENTS_CHART,
    DAILY_CHART,
    ALTERNATIVES_CHART,
    TOPOLOGY_CHART,
];

/// The charts natcost.xlsx's Summary sheet shows, in order.
pub const XLSX_IMAGES: [&str; 2] = ["summary.png", "monthly_cost.png"];

/// The chart of `--bill`: billed against modelled per month and usage type.
pub const RECONCILE_CHART: (&str, &str) = (
    "reconcile.png",
    "Billed vs. modelled, per month and usage type",
);

/// The chart of `--allocate-by`: cost per team and month.
pub const ALLOCATION_CHART: (&str, &str) = ("allocation.png", "Cost per team and month");

/// `monthly_cost.svg` for `monthly_cost.png`.
pub fn svg_name(png: &str) -> String {
    format!("{}.svg", png.trim_end_matches(".png"))
}

/// Draws every chart, as `.svg` and `.png`, into the staged report folder.
pub fn render_all(report: &Report, stage: &Staging) -> Result<()> {
    register_font()?;
    let report = &short_labels(report);
    let charts: [fn(&Report, &mut String) -> Result<()>; 6] = [
        summary,
        monthly_cost,
        monthly_components,
        daily_gb,
        alternatives,
        topology,
    ];
    for (&chart, draw) in CHARTS.iter().zip(charts) {
        write_chart(report, stage, chart, draw)?;
    }
    if report.reconcile.is_some() {
        write_chart(report, stage, RECONCILE_CHART, reconcile)?;
    }
    if !report.allocation.team_tags.is_empty() {
        write_chart(report, stage, ALLOCATION_CHART, allocation)?;
    }
    Ok(())
}

/// The longest name a chart shows; the CSVs keep every name whole.
const LABEL_CHARS: usize = 48;

/// The report as charts show it: every name from AWS or files clipped to `LABEL_CHARS`, so that
/// a 30,000-character tag cannot stretch a canvas (or the time and memory drawing it takes).
fn short_labels(report: &Report) -> Report {
    let mut r = report.clone();
    let clip = |s: &mut String| *s = crate::shown::clipped(s, LABEL_CHARS);
    r.names.values_mut().for_each(clip);
    for n in &mut r.nats {
        n.name.iter_mut().for_each(clip);
    }
    for l in &mut r.links {
        clip(&mut l.from);
    }
    r
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
    // Control characters in a name (XML refuses them) never reach the file.
    let svg = crate::shown::printable(&svg);
    let raster = rasterise(&svg).with_context(|| format!("rasterising {title}"))?;
    stage.write(&svg_name(png), svg.as_bytes())?;
    stage.write(png, raster)
}

/// The font's family name, which the SVG's generic `sans-serif` is mapped to when rasterised.
const FONT_FAMILY: &str = "DejaVu Sans";

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
}

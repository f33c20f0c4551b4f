use anyhow::Result;
use plotters::prelude::*;
use rust_decimal::Decimal;

use super::frame::{
    empty_chart, err, f, font, nat_label, page, subtitle, text_width, HEADER, SERIES_COLORS,
    TOP_NATS,
};
use super::TOPOLOGY_CHART;
use crate::price::model::NatCost;
use crate::render::money;
use crate::report::Report;

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
pub(super) fn topology(report: &Report, svg: &mut String) -> Result<()> {
    let title = TOPOLOGY_CHART.1;
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
            "{nats_hidden} more NAT gateways, and their links, are in report.md and allocation.csv"
        ));
    }
    if hidden > 0 {
        foot.push(format!("{hidden} smaller links not shown"));
    }
    if labelled < links.len() {
        foot.push(format!(
            "{} of {} links labelled (the others' numbers are in the boxes and allocation.csv)",
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

//! topology.png: who reaches the internet through which NAT gateway. Sources (functions, other
//! interfaces) on the left, NAT gateways on the right, a link between them as thick as its
//! bytes; beside the graph, a table of the largest links with their GB and USD a month, so no
//! label sits on a line. The costliest sources and NAT gateways are drawn one by one, the rest
//! summed as "others" (allocation.csv has every one).

use std::collections::HashMap;

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::Decimal;

use super::frame::{
    err, f, fit_chars, nat_label, slide_notes, slide_page, subtitle, text, MIN_TEXT, OTHERS,
    PALETTE, SLIDE,
};
use super::TOPOLOGY_CHART;
use crate::price::model::NatCost;
use crate::render::money;
use crate::report::Report;

/// Sources drawn one by one; the rest are one "others" box.
const SOURCES: usize = 16;
/// NAT gateways drawn one by one (a colour of the palette each); the rest are one grey box.
const NATS: usize = 8;
/// Rows of the table of links.
const TABLE_ROWS: usize = 18;

/// A box of the graph: its label, a line under it (a NAT gateway's AZ and traffic), and USD a
/// month.
struct Node {
    label: String,
    detail: String,
    usd: Decimal,
}

/// "ap-northeast-2b, no traffic": where a NAT gateway is, and whether it moved anything.
fn about(n: &NatCost) -> String {
    let traffic = match n.processed_gb {
        Some(gb) if gb.is_zero() => Some("no traffic"),
        None => Some("no byte metrics"),
        _ => None,
    };
    // A NAT gateway known only by its metrics has no AZ.
    [Some(n.availability_zone.as_str()), traffic]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A box of the graph at `(x, y)`, `w` × `h`: its label on the left, its USD a month on the
/// right, and its detail line under them.
fn draw_node(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    title: &str,
    node: &Node,
    (x, y): (i32, i32),
    (w, h): (i32, i32),
    fill: ShapeStyle,
) -> Result<()> {
    area.draw(&Rectangle::new([(x, y), (x + w, y + h)], fill))
        .map_err(err(title))?;
    let line = money(node.usd);
    let chars = fit_chars(w as u32 - 30, MIN_TEXT);
    let label = crate::shown::clipped(&node.label, chars.saturating_sub(line.len() + 1));
    area.draw(&Text::new(label, (x + 10, y + 11), text(MIN_TEXT)))
        .map_err(err(title))?;
    area.draw(&Text::new(
        line,
        (x + w - 10, y + 11),
        text(MIN_TEXT).pos(Pos::new(HPos::Right, VPos::Top)),
    ))
    .map_err(err(title))?;
    if !node.detail.is_empty() {
        area.draw(&Text::new(
            crate::shown::clipped(&node.detail, chars),
            (x + 10, y + 40),
            text(MIN_TEXT).color(&RGBColor(70, 70, 70)),
        ))
        .map_err(err(title))?;
    }
    Ok(())
}

pub(super) fn topology(report: &Report, svg: &mut String) -> Result<()> {
    let title = TOPOLOGY_CHART.1;
    let root = SVGBackend::with_string(svg, SLIDE).into_drawing_area();
    let body = slide_page(&root, title, &subtitle(report))?;
    if report.nats.is_empty() {
        body.draw(&Text::new(
            "No NAT gateway in this snapshot.".to_string(),
            (48, 60),
            text(28),
        ))
        .map_err(err(title))?;
        return root.present().map_err(err(title));
    }
    let links: Vec<_> = report.links.iter().filter(|l| l.share > 0.0).collect();

    // NAT gateways: those with the most linked bytes, then the costliest (idle ones too).
    let mut linked: HashMap<&str, Decimal> = HashMap::new();
    for l in &links {
        *linked.entry(l.nat_gateway_id.as_str()).or_default() += l.monthly_gb;
    }
    let mut nats: Vec<&NatCost> = report.nats.iter().collect();
    nats.sort_by_key(|n| {
        (
            std::cmp::Reverse(
                linked
                    .get(n.nat_gateway_id.as_str())
                    .copied()
                    .unwrap_or_default(),
            ),
            std::cmp::Reverse(n.monthly()),
        )
    });
    let nat_rest = nats.split_off(nats.len().min(NATS));
    let nat_of: HashMap<&str, usize> = nats
        .iter()
        .enumerate()
        .map(|(i, n)| (n.nat_gateway_id.as_str(), i))
        .chain(nat_rest.iter().map(|n| (n.nat_gateway_id.as_str(), NATS)))
        .collect();
    let mut nat_nodes: Vec<Node> = nats
        .iter()
        .map(|n| Node {
            label: nat_label(n),
            detail: about(n),
            usd: n.monthly(),
        })
        .collect();
    if !nat_rest.is_empty() {
        nat_nodes.push(Node {
            label: format!("{} other NAT gateways", nat_rest.len()),
            detail: String::new(),
            usd: nat_rest.iter().map(|n| n.monthly()).sum(),
        });
    }

    // Sources: the costliest by their links' USD a month.
    let mut by_source: Vec<(&str, Decimal, Decimal)> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for l in &links {
        let i = *at.entry(l.from.as_str()).or_insert_with(|| {
            by_source.push((l.from.as_str(), Decimal::ZERO, Decimal::ZERO));
            by_source.len() - 1
        });
        by_source[i].1 += l.monthly_gb;
        by_source[i].2 += l.monthly_cost;
    }
    by_source.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(b.0)));
    let source_rest = by_source.split_off(by_source.len().min(SOURCES));
    let source_of: HashMap<&str, usize> = by_source
        .iter()
        .enumerate()
        .map(|(i, s)| (s.0, i))
        .chain(source_rest.iter().map(|s| (s.0, SOURCES)))
        .collect();
    let mut source_nodes: Vec<Node> = by_source
        .iter()
        .map(|s| Node {
            label: s.0.to_string(),
            detail: String::new(),
            usd: s.2,
        })
        .collect();
    if !source_rest.is_empty() {
        source_nodes.push(Node {
            label: format!("{} other sources", source_rest.len()),
            detail: String::new(),
            usd: source_rest.iter().map(|s| s.2).sum(),
        });
    }
    // Links between the boxes drawn: those of "others" summed.
    let mut edges: HashMap<(usize, usize), (Decimal, Decimal)> = HashMap::new();
    for l in &links {
        let (Some(&s), Some(&n)) = (
            source_of.get(l.from.as_str()),
            nat_of.get(l.nat_gateway_id.as_str()),
        ) else {
            continue;
        };
        let e = edges.entry((s, n.min(nat_nodes.len() - 1))).or_default();
        e.0 += l.monthly_gb;
        e.1 += l.monthly_cost;
    }

    let (w, h) = body.dim_in_pixel();
    let mut notes = vec![if report.flows.is_some() {
        "Each source's part of its NAT gateways' monthly cost, measured with VPC flow logs; allocation.csv has every one.".to_string()
    } else {
        "Each source's part of its NAT gateways' monthly cost, estimated by who sits in each subnet (flow logs measure it); allocation.csv has every one.".to_string()
    }];
    let mut edge_list: Vec<((usize, usize), (Decimal, Decimal))> = edges.into_iter().collect();
    edge_list.sort_by(|a, b| {
        b.1 .1
            .cmp(&a.1 .1)
            .then(b.1 .0.cmp(&a.1 .0))
            .then(a.0.cmp(&b.0))
    });
    if edge_list.len() > TABLE_ROWS {
        notes.push(format!(
            "The table lists the {TABLE_ROWS} largest of {} links.",
            edge_list.len()
        ));
    }
    let (upper, below) = body.split_vertically(h - 20 - 30 * notes.len() as u32);
    let (graph, table) = upper.split_horizontally(w - 660);
    let (gw, gh) = graph.dim_in_pixel();

    // The graph: boxes in two columns, links between them.
    let (box_w, nat_w) = (540, 400);
    let (left_x, right_x) = (24, gw as i32 - nat_w - 24);
    let (row_h, nat_h) = (44, 72);
    let top = 50;
    let head = text(22).color(&RGBColor(70, 70, 70));
    for (label, x) in [
        ("Source, USD/month", left_x),
        ("NAT gateway, USD/month", right_x),
    ] {
        graph
            .draw(&Text::new(label.to_string(), (x, 10), head.clone()))
            .map_err(err(title))?;
    }
    let slots = |n: usize| (gh as i32 - top - 10) / n.max(1) as i32;
    let src_y = |i: usize| top + i as i32 * slots(source_nodes.len()).min(row_h + 8);
    let nat_y = |i: usize| top + i as i32 * slots(nat_nodes.len()).min(nat_h + 24);
    let color_of = |n: usize| {
        if n < NATS {
            PALETTE[n % PALETTE.len()]
        } else {
            OTHERS
        }
    };
    let max_gb = edge_list
        .iter()
        .map(|(_, (gb, _))| f(*gb))
        .fold(0.0, f64::max)
        .max(1e-9);
    for ((s, n), (gb, _)) in &edge_list {
        let from = (left_x + box_w, src_y(*s) + row_h / 2);
        let to = (right_x, nat_y(*n) + row_h / 2);
        let stroke = 2 + (10.0 * f(*gb) / max_gb).round() as u32;
        graph
            .draw(&PathElement::new(
                vec![from, to],
                color_of(*n).mix(0.55).stroke_width(stroke),
            ))
            .map_err(err(title))?;
    }
    for (i, node) in source_nodes.iter().enumerate() {
        let fill = RGBColor(230, 238, 248).filled();
        draw_node(
            &graph,
            title,
            node,
            (left_x, src_y(i)),
            (box_w, row_h),
            fill,
        )?;
    }
    for (i, node) in nat_nodes.iter().enumerate() {
        let h = if node.detail.is_empty() { row_h } else { nat_h };
        let fill = color_of(i).mix(0.3).filled();
        draw_node(&graph, title, node, (right_x, nat_y(i)), (nat_w, h), fill)?;
    }

    // The table: the largest links, source → NAT gateway, GB and USD a month.
    let (tw, _) = table.dim_in_pixel();
    table
        .draw(&Text::new(
            "Largest links".to_string(),
            (10, top),
            head.clone(),
        ))
        .map_err(err(title))?;
    table
        .draw(&Text::new(
            "GB/mo".to_string(),
            (tw as i32 - 150, top),
            head.clone().pos(Pos::new(HPos::Right, VPos::Top)),
        ))
        .map_err(err(title))?;
    table
        .draw(&Text::new(
            "USD/mo".to_string(),
            (tw as i32 - 20, top),
            head.pos(Pos::new(HPos::Right, VPos::Top)),
        ))
        .map_err(err(title))?;
    let link_chars = fit_chars(tw - 10 - 300, MIN_TEXT);
    for (k, ((s, n), (gb, usd))) in edge_list.iter().take(TABLE_ROWS).enumerate() {
        let y = top + 40 + 38 * k as i32;
        table
            .draw(&Rectangle::new(
                [(10, y + 2), (26, y + 18)],
                color_of(*n).filled(),
            ))
            .map_err(err(title))?;
        let label = format!("{} → {}", source_nodes[*s].label, nat_nodes[*n].label);
        table
            .draw(&Text::new(
                crate::shown::clipped(&label, link_chars),
                (34, y),
                text(MIN_TEXT),
            ))
            .map_err(err(title))?;
        for (value, x) in [(format!("{:.1}", f(*gb)), 150), (money(*usd), 20)] {
            table
                .draw(&Text::new(
                    value,
                    (tw as i32 - x, y),
                    text(MIN_TEXT).pos(Pos::new(HPos::Right, VPos::Top)),
                ))
                .map_err(err(title))?;
        }
    }
    if edge_list.is_empty() {
        table
            .draw(&Text::new(
                "no source seen".to_string(),
                (10, top + 40),
                text(MIN_TEXT),
            ))
            .map_err(err(title))?;
    }
    slide_notes(&below, title, &notes)?;
    root.present().map_err(err(title))
}

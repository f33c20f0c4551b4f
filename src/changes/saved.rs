//! A saved report.json read back as a period, for `natcost diff`: only what a change is
//! explained by (its NAT gateways' cost lines, its allocation over the window).

use anyhow::{bail, Context, Result};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{Allocated, Period};
use crate::price::model::Component;
use crate::traffic::SourceKind;

#[derive(Deserialize)]
struct Saved {
    report_version: u32,
    window: SavedWindow,
    nats: Vec<SavedNat>,
    allocation: Option<SavedAllocation>,
}

#[derive(Deserialize)]
struct SavedWindow {
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
}

#[derive(Deserialize)]
struct SavedNat {
    nat_gateway_id: String,
    name: Option<String>,
    lines: Vec<SavedLine>,
}

#[derive(Deserialize)]
struct SavedLine {
    charge: SavedCharge,
}

#[derive(Deserialize)]
struct SavedCharge {
    component: Component,
    quantity: Option<Decimal>,
    cost: Option<Decimal>,
}

#[derive(Deserialize)]
struct SavedAllocation {
    fixed_costs: String,
    window: Vec<SavedRow>,
}

#[derive(Deserialize)]
struct SavedRow {
    account_id: String,
    region: String,
    nat_gateway_id: String,
    nat_name: String,
    source: SavedSource,
    gb: Option<Decimal>,
    data_processing_usd: Option<Decimal>,
    fixed_share_usd: Decimal,
    inter_az_usd: Option<Decimal>,
    basis: String,
}

#[derive(Deserialize)]
struct SavedSource {
    kind: SourceKind,
    id: String,
    name: String,
}

/// `path`'s report (of `version`, the report_version this natcost writes) as a period labelled
/// with its window; its sources only when all of them are measured.
pub fn read(path: &std::path::Path, version: u32) -> Result<Period> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let saved: Saved = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a natcost report.json (written by `natcost report`)",
            path.display()
        )
    })?;
    if saved.report_version != version {
        bail!(
            "{} is a report of version {}; this natcost reads version {version}: make both reports with the same natcost",
            path.display(),
            saved.report_version,
        );
    }
    let w = &saved.window;
    let mut p = Period {
        label: format!(
            "{} to {}",
            w.start.format("%Y-%m-%d %H:%M"),
            w.end.format("%Y-%m-%d %H:%M UTC")
        ),
        window: Some((w.start, w.end)),
        fixed_costs: saved.allocation.as_ref().map(|a| a.fixed_costs.clone()),
        ..Period::default()
    };
    for nat in &saved.nats {
        let label = nat.name.as_deref().unwrap_or(&nat.nat_gateway_id);
        for l in &nat.lines {
            let c = &l.charge;
            p.add_line(
                (&nat.nat_gateway_id, label),
                c.component,
                c.quantity,
                c.cost,
            );
        }
    }
    for r in saved.allocation.iter().flat_map(|a| &a.window) {
        let cost = r
            .data_processing_usd
            .zip(r.inter_az_usd)
            .map(|(d, i)| d + r.fixed_share_usd + i);
        p.add_allocated(&Allocated {
            account: &r.account_id,
            region: &r.region,
            kind: r.source.kind,
            id: &r.source.id,
            name: &r.source.name,
            nat_id: &r.nat_gateway_id,
            nat_name: &r.nat_name,
            measured: r.basis == "measured",
            cost,
            gb: r.gb,
        });
    }
    Ok(p)
}

//! A saved report.json read back as a period, for `natcost diff`: only what a change is
//! explained by (its NAT gateways' cost lines, its allocation over the window).

use anyhow::{bail, Context, Result};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::Period;
use crate::price::model::Component;
use crate::traffic::SourceKind;

#[derive(Deserialize)]
struct Saved {
    report_version: u32,
    window: SavedWindow,
    nats: Vec<SavedNat>,
    #[serde(default)]
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
    #[serde(default)]
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
    let mut p = Period {
        label: format!(
            "{} to {}",
            saved.window.start.format("%Y-%m-%d %H:%M"),
            saved.window.end.format("%Y-%m-%d %H:%M UTC")
        ),
        ..Period::default()
    };
    for nat in &saved.nats {
        let label = nat.name.as_deref().unwrap_or(&nat.nat_gateway_id);
        for l in &nat.lines {
            let c = &l.charge;
            p.add_line(&nat.nat_gateway_id, label, c.component, c.quantity, c.cost);
        }
    }
    let rows = saved.allocation.map(|a| a.window).unwrap_or_default();
    if !rows.is_empty() && rows.iter().all(|r| r.basis == "measured") {
        for r in rows {
            let cost = r.data_processing_usd.unwrap_or_default()
                + r.fixed_share_usd
                + r.inter_az_usd.unwrap_or_default();
            p.add_allocated(
                (&r.account_id, &r.region),
                (r.source.kind, &r.source.id, &r.source.name),
                (&r.nat_gateway_id, &r.nat_name),
                cost,
                r.gb.unwrap_or_default(),
            );
        }
    }
    Ok(p)
}

//! A saved report.json read back as a period, for `natcost diff`: only what a change is
//! explained by (its NAT gateways' cost lines, its allocation over the window).

use anyhow::{bail, Context, Result};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::Period;
use crate::allocation::{FixedCosts, Row};
use crate::price::model::Component;

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
    fixed_costs: FixedCosts,
    window: Vec<Row>,
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
        fixed_costs: saved.allocation.as_ref().map(|a| a.fixed_costs),
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
        p.add_allocated(r);
    }
    Ok(p)
}

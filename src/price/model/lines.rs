//! A NAT gateway's cost components, each declared once, and the two figures derived from
//! them: the cost lines of each calendar month and the monthly run-rate.

use std::collections::BTreeSet;

use anyhow::Result;
use rust_decimal::Decimal;

use super::cross_az::CrossAz;
use super::lifetime::Month;
use super::series::Series;
use super::{gb, per_month, Basis, Charge, Component, CostLine, HOURS_PER_MONTH};
use crate::price::{Item, PriceBook};
use crate::snapshot::{NatGateway, Window};
use crate::topology::Topology;

/// One cost component of a NAT gateway: the price it is billed at and how its use is measured.
pub(super) struct Meter<'a> {
    item: Item,
    component: Component,
    usage: Usage<'a>,
}

/// How a cost component's quantity is measured.
enum Usage<'a> {
    /// This many units (AZs) for each started clock hour.
    StartedHours(Decimal),
    /// This many units (addresses) for each exact hour.
    ExactHours(Decimal),
    /// GB of the hourly processed bytes; None: not collected, so unknown.
    Processed(Option<&'a [f64]>),
    /// GB of the hourly bytes between clients and the NAT, times the month's cross-AZ share;
    /// None: not collected, so unknown.
    CrossAz {
        bytes: Option<&'a [f64]>,
        cross: &'a CrossAz,
    },
}

impl Usage<'_> {
    /// The quantity in one calendar month of the NAT gateway's life; None: unknown.
    fn in_month(&self, month: &Month, window: Window) -> Option<Decimal> {
        match *self {
            Usage::StartedHours(units) => Some(Decimal::from(month.started_hours()) * units),
            Usage::ExactHours(units) => Some(month.exact_hours() * units),
            Usage::Processed(bytes) => bytes.map(|b| gb(b[month.hours(window)].iter().sum())),
            Usage::CrossAz { bytes, cross } => bytes.map(|b| {
                let share = cross.in_month(month.start);
                // Billed on both sides of the AZ boundary: 0.01/GB out of one AZ and 0.01/GB into the other.
                gb(b[month.hours(window)].iter().sum::<f64>() * share) * Decimal::TWO
            }),
        }
    }

    /// The run-rate line of this component: its quantity in a 730-hour month at the window's
    /// rate, from `in_window` (the quantity of its lines) over `observed` hours. None: the
    /// component has no run-rate line; Some(None): it has one, of unknown quantity.
    fn per_month(&self, in_window: Option<Decimal>, observed: i64) -> Option<Option<Decimal>> {
        match *self {
            Usage::StartedHours(units) | Usage::ExactHours(units) => {
                Some(Some(Decimal::from(HOURS_PER_MONTH) * units))
            }
            // From the window's total bytes (the processed GB the report shows), not the sum
            // of the monthly lines, which are rounded month by month.
            Usage::Processed(bytes) => Some(bytes.map(|b| per_month(gb(b.iter().sum()), observed))),
            Usage::CrossAz { .. } => match in_window {
                None => Some(None),
                Some(q) if q.is_zero() => None,
                Some(q) => Some(Some(per_month(q, observed))),
            },
        }
    }

    fn basis(&self) -> Basis {
        match *self {
            Usage::CrossAz { cross, .. } => cross.basis,
            _ => Basis::Measured,
        }
    }
}

/// The NAT gateway's cost components, in the order its lines are listed.
pub(super) fn meters<'a>(
    nat: &NatGateway,
    active_azs: usize,
    public_ips: usize,
    series: &'a Series,
    cross: &'a CrossAz,
) -> Vec<Meter<'a>> {
    let (hours, bytes) = if nat.is_regional() {
        (Item::RegionalNatHours, Item::RegionalNatBytes)
    } else {
        (Item::NatHours, Item::NatBytes)
    };
    let meter = |item, component, usage| Meter {
        item,
        component,
        usage,
    };
    let mut meters = vec![meter(
        hours,
        Component::NatHours,
        Usage::StartedHours(Decimal::from(active_azs)),
    )];
    meters.push(meter(
        bytes,
        Component::NatBytes,
        Usage::Processed(series.processed.as_deref()),
    ));
    // A public regional NAT gateway holds at least one address in each AZ it is configured in.
    let public_ips = if nat.is_regional() && nat.is_public() {
        public_ips.max(active_azs)
    } else {
        public_ips
    };
    if public_ips > 0 {
        meters.push(meter(
            Item::PublicIpv4Hours,
            Component::PublicIpv4,
            Usage::ExactHours(Decimal::from(public_ips)),
        ));
    }
    if cross.share > 0.0 {
        meters.push(meter(
            Item::InterAzBytes,
            Component::InterAz,
            Usage::CrossAz {
                bytes: series.crossing.as_deref(),
                cross,
            },
        ));
    }
    meters
}

/// AZs whose hours are billed: 1 for a zonal NAT gateway. A regional one is billed for each
/// hour it is configured in each AZ (AWS's pricing text: three AZs for an hour are three NAT
/// gateway-hours): see [`regional_azs`].
pub(super) fn active_azs(nat: &NatGateway, topo: &Topology) -> usize {
    if !nat.is_regional() {
        return 1;
    }
    regional_azs(nat, topo).len().max(1)
}

/// The AZs a regional NAT gateway is configured in: in automatic mode (AWS's default) every AZ
/// where its VPC has subnets, and any it holds addresses in; in manual mode the AZs it was
/// given addresses in.
pub(super) fn regional_azs<'a>(nat: &'a NatGateway, topo: &Topology<'a>) -> BTreeSet<&'a str> {
    let mut azs = nat.address_azs();
    if !nat.is_manual_mode() {
        azs.extend(topo.vpc_azs(&nat.vpc_id));
    }
    azs
}

/// Each component's charge in each calendar month the NAT gateway lived, month by month.
pub(super) fn lines(
    meters: &[Meter],
    months: &[Month],
    window: Window,
    book: &PriceBook,
    region: &str,
) -> Result<Vec<CostLine>> {
    let mut lines = Vec::new();
    for month in months {
        for m in meters {
            let quantity = m.usage.in_month(month, window);
            lines.push(CostLine {
                period_start: month.start,
                period_end: month.end,
                charge: Charge::new(book, region, m.item, m.component, quantity)?,
                basis: m.usage.basis(),
            });
        }
    }
    Ok(lines)
}

/// Each component's charge in a 730-hour month at the window's rate, `observed` hours long.
pub(super) fn run_rate(
    meters: &[Meter],
    lines: &[CostLine],
    observed: i64,
    book: &PriceBook,
    region: &str,
) -> Result<Vec<Charge>> {
    let mut run_rate = Vec::new();
    for m in meters {
        let in_window: Option<Decimal> = lines
            .iter()
            .filter(|l| l.charge.component == m.component)
            .map(|l| l.charge.quantity)
            .sum();
        if let Some(quantity) = m.usage.per_month(in_window, observed) {
            run_rate.push(Charge::new(book, region, m.item, m.component, quantity)?);
        }
    }
    Ok(run_rate)
}

//! The cost model: what each NAT gateway cost in the window, month by month, and its
//! monthly run-rate, as cost components a reader can check by multiplication.

use std::collections::HashMap;

use anyhow::Result;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use rust_decimal::prelude::*;
use serde::Serialize;

use crate::price::{Item, PriceBook};
use crate::snapshot::{
    Hourly, Metrics, NatGateway, RegionSnapshot, Snapshot, Window, BUSIEST_MINUTE,
    DATAPOINTS_PER_HOUR,
};
use crate::topology::Topology;
use crate::traffic::{Attribution, NatTraffic};

pub use crate::traffic::BYTES_PER_GB;
/// AWS's convention for a month of hours in price comparisons.
pub const HOURS_PER_MONTH: i64 = 730;
/// Decimals kept in quantities, so that quantity × unit price is exact in the cost.
const QUANTITY_DP: u32 = 9;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    NatHours,
    NatBytes,
    PublicIpv4,
    InterAz,
}

impl Component {
    pub const ALL: [Component; 4] = [
        Component::NatHours,
        Component::NatBytes,
        Component::PublicIpv4,
        Component::InterAz,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Component::NatHours => "NAT hours",
            Component::NatBytes => "NAT data processed",
            Component::PublicIpv4 => "Public IPv4",
            Component::InterAz => "Inter-AZ transfer (est.)",
        }
    }
}

/// quantity × unit price = cost, for one usage type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Charge {
    pub component: Component,
    pub usage_type: String,
    pub quantity: Decimal,
    pub unit: String,
    pub unit_price: Decimal,
    pub cost: Decimal,
}

impl Charge {
    fn new(
        book: &PriceBook,
        region: &str,
        item: Item,
        component: Component,
        quantity: Decimal,
    ) -> Result<Charge> {
        let price = book.get(region, item)?;
        let quantity = quantity.round_dp(QUANTITY_DP);
        Ok(Charge {
            component,
            usage_type: price.usage_type.clone(),
            quantity,
            unit: price.unit.clone(),
            unit_price: price.usd,
            cost: quantity * price.usd,
        })
    }
}

/// One row of the finance export: a charge in one calendar month (UTC) for one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostLine {
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub charge: Charge,
    /// `measured` (measured usage under AWS's billing rule) or `estimated` (inter-AZ transfer
    /// estimated from who sits in each subnet): finance sees which lines cannot match the bill.
    pub basis: &'static str,
}

/// The metrics the cost model and the advisor read; any of them missing is said, never zero.
pub const NEEDED_METRICS: [&str; 8] = [
    "BytesInFromSource",
    "BytesInFromDestination",
    "BytesOutToSource",
    "BytesOutToDestination",
    "ConnectionAttemptCount",
    "ActiveConnectionCount",
    "PacketsInFromSource",
    "PacketsInFromDestination",
];

/// AWS's own idle rule (Compute Optimizer "unused NAT gateway"): this many days with no active
/// connection and no packet in, and no route.
pub const IDLE_RULE_DAYS: i64 = 32;

/// Everything the report and the advisor need to know about one NAT gateway.
#[derive(Debug, Clone, Serialize)]
pub struct NatCost {
    pub account_id: String,
    pub region: String,
    pub vpc_id: String,
    pub nat_gateway_id: String,
    pub name: Option<String>,
    /// The AZ of a zonal NAT gateway; `regional` for a regional one.
    pub availability_zone: String,
    /// `zonal` or `regional`.
    pub availability_mode: &'static str,
    /// AZs whose hours are billed: 1 for a zonal NAT gateway; for a regional one, the AZs it
    /// has addresses in or clients in, whichever is more.
    pub active_azs: usize,
    pub state: String,
    pub connectivity_type: String,
    pub public_ips: Vec<String>,
    /// Billed (started) hours inside the window.
    pub billed_hours: i64,
    pub active_at_end: bool,
    /// GB processed in the window (BytesInFromSource + BytesInFromDestination); None: no metrics.
    pub processed_gb: Option<Decimal>,
    /// GB sent to destinations (BytesOutToDestination): the most that can be internet egress.
    pub egress_gb: Option<Decimal>,
    /// Bytes between client subnets and the NAT in the window (BytesInFromSource +
    /// BytesOutToSource): what crosses AZs when the clients sit in another AZ. None: a metric
    /// is missing.
    pub crossing_bytes: Option<f64>,
    /// Share of traffic estimated to come from subnets in another AZ.
    pub cross_az_share: f64,
    /// Busiest hour's processed bytes, for capacity checks.
    pub peak_hour_bytes: Option<f64>,
    pub connection_attempts: Option<f64>,
    pub max_active_connections: Option<f64>,
    /// Busiest minute's processed bytes (BytesInFromSource + BytesInFromDestination), for
    /// sizing a NAT instance; None when the snapshot cannot tell (busiest_minute_basis says why).
    pub busiest_minute_bytes: Option<f64>,
    /// How busiest_minute_bytes was measured, or why it is unknown.
    pub busiest_minute_basis: String,
    /// Whether AWS's idle rule holds over the last 32 days of the window (no active connection,
    /// no packet in); None when the window is shorter or a metric is missing.
    pub idle_by_aws_rule: Option<bool>,
    /// Metrics of NEEDED_METRICS the snapshot lacks for this NAT gateway.
    pub missing_metrics: Vec<String>,
    pub lambdas: Vec<String>,
    pub other_enis: usize,
    pub routed_subnets: Vec<String>,
    pub lines: Vec<CostLine>,
    pub run_rate: Vec<Charge>,
    /// Processed GB per UTC day, for charts.
    pub daily_gb: Vec<(NaiveDate, f64)>,
    /// Deleted before collection and found this way (`cloudwatch:ListMetrics`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_by: Option<String>,
}

impl NatCost {
    /// Whether this NAT gateway is one of this account × region's.
    pub fn is_in(&self, r: &crate::snapshot::RegionSnapshot) -> bool {
        self.region == r.region && self.account_id == r.account_id
    }
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.nat_gateway_id)
    }
    pub fn window_cost(&self) -> Decimal {
        self.lines.iter().map(|l| l.charge.cost).sum()
    }
    pub fn monthly(&self) -> Decimal {
        self.run_rate.iter().map(|c| c.cost).sum()
    }
    pub fn monthly_of(&self, component: Component) -> Decimal {
        self.run_rate
            .iter()
            .filter(|c| c.component == component)
            .map(|c| c.cost)
            .sum()
    }
    /// Processed GB per month at the window's rate.
    pub fn monthly_gb(&self) -> Decimal {
        self.run_rate
            .iter()
            .find(|c| c.component == Component::NatBytes)
            .map(|c| c.quantity)
            .unwrap_or_default()
    }
    pub fn monthly_egress_gb(&self, window: &Window) -> Decimal {
        match (self.egress_gb, self.active_at_end, self.billed_hours) {
            (Some(gb), true, h) if h > 0 => per_month(gb, h.min(window.hours())),
            _ => Decimal::ZERO,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CostModel {
    pub window: Window,
    pub nats: Vec<NatCost>,
    pub warnings: Vec<String>,
}

impl CostModel {
    pub fn total_window_cost(&self) -> Decimal {
        self.nats.iter().map(NatCost::window_cost).sum()
    }
    pub fn total_monthly(&self) -> Decimal {
        self.nats.iter().map(NatCost::monthly).sum()
    }
}

pub fn price(snapshot: &Snapshot, book: &PriceBook) -> Result<CostModel> {
    price_with_flows(snapshot, book, None)
}

/// One region's facts, indexed once for every NAT gateway priced in it.
struct Region<'a> {
    snapshot: &'a RegionSnapshot,
    topo: Topology<'a>,
    metrics: Metrics<'a>,
    /// Flow-log attribution by NAT gateway id, when flow logs were given.
    flows: HashMap<&'a str, &'a NatTraffic>,
}

/// The cost model; with flow logs, inter-AZ transfer uses each client subnet's measured share.
pub fn price_with_flows(
    snapshot: &Snapshot,
    book: &PriceBook,
    flows: Option<&Attribution>,
) -> Result<CostModel> {
    let mut nats = Vec::new();
    let mut warnings = Vec::new();
    for region in &snapshot.regions {
        let view = Region {
            snapshot: region,
            topo: Topology::new(region),
            metrics: Metrics::new(region),
            flows: flows
                .iter()
                .flat_map(|f| &f.nats)
                .filter(|t| t.region == region.region)
                .map(|t| (t.nat_gateway_id.as_str(), t))
                .collect(),
        };
        for nat in &region.nat_gateways {
            let found = price_nat(snapshot.window, &view, nat, book, &mut warnings)?;
            if let Some(cost) = found {
                nats.push(cost);
            }
        }
    }
    Ok(CostModel {
        window: snapshot.window,
        nats,
        warnings,
    })
}

fn price_nat(
    window: Window,
    view: &Region,
    nat: &NatGateway,
    book: &PriceBook,
    warnings: &mut Vec<String>,
) -> Result<Option<NatCost>> {
    let (region, topo, metrics) = (view.snapshot, &view.topo, &view.metrics);
    let r = region.region.as_str();
    let id = nat.nat_gateway_id.as_str();
    let alive_from = nat.create_time;
    let alive_to = match (nat.delete_time, nat.state.as_str()) {
        (_, "failed") => return Ok(None),
        (Some(d), _) => d,
        (None, "deleted" | "deleting") => {
            warnings.push(format!(
                "{id} ({r}) is {} but AWS gave no delete time: its hours are not counted",
                nat.state
            ));
            return Ok(None);
        }
        (None, _) => window.end,
    };
    if alive_to <= window.start || alive_from >= window.end {
        return Ok(None);
    }
    if let Some(how) = &nat.found_by {
        warnings.push(format!(
            "{id} ({r}): deleted before collection, found through {how}: priced from its first to its last hour with a datapoint ({} to {})",
            alive_from.format("%Y-%m-%d %H:%M"),
            alive_to.format("%Y-%m-%d %H:%M UTC")
        ));
    }

    let bytes_in = |name: &str| metrics.get(id, name).map(|m| &m.values);
    let from_src = bytes_in("BytesInFromSource");
    let from_dst = bytes_in("BytesInFromDestination");
    let out_src = bytes_in("BytesOutToSource");
    let out_dst = bytes_in("BytesOutToDestination");
    let processed: Option<Vec<f64>> = match (from_src, from_dst) {
        (Some(a), Some(b)) => {
            if a.iter().chain(b.iter()).all(|v| v.is_none()) {
                warnings.push(format!(
                    "{id} ({r}): CloudWatch has no byte datapoints in the window (none are published without traffic): counted as 0 GB"
                ));
            }
            Some(add_series(a, b))
        }
        _ => {
            warnings.push(format!(
                "{id} ({r}): no BytesInFromSource/BytesInFromDestination metrics: its data processing cost is unknown, not zero"
            ));
            None
        }
    };
    // Bytes that travel between the client subnets and the NAT: these cross AZs for cross-AZ subnets.
    let crossing: Option<Vec<f64>> = match (from_src, out_src) {
        (Some(a), Some(b)) => Some(add_series(a, b)),
        _ => None,
    };
    // Who crosses AZs: measured per client subnet when flow logs saw the NAT's clients, else
    // estimated from who sits in each subnet. A regional NAT gateway has no other AZ.
    let measured = view
        .flows
        .get(id)
        .and_then(|t| t.subnet_shares().map(|shares| (*t, shares)));
    let (cross_share, inter_az_basis) = match measured {
        Some((t, shares)) if !nat.is_regional() => {
            let share: f64 = shares
                .iter()
                .filter(|(s, _)| topo.az_of(s).is_some_and(|az| az != nat.availability_zone))
                .map(|(_, v)| v)
                .sum();
            let gb = processed
                .as_ref()
                .map(|p| p.iter().sum::<f64>() / BYTES_PER_GB as f64);
            (
                share,
                if t.covers(gb) {
                    "measured"
                } else {
                    "estimated"
                },
            )
        }
        _ => (topo.cross_az_share(id), "estimated"),
    };
    if cross_share > 0.0 && crossing.is_none() {
        warnings.push(format!(
            "{id} ({r}): subnets in another AZ route to it but BytesInFromSource/BytesOutToSource are missing: inter-AZ cost unknown"
        ));
    }
    let missing_metrics: Vec<String> = NEEDED_METRICS
        .iter()
        .filter(|m| metrics.get(id, m).is_none())
        .map(|m| m.to_string())
        .collect();
    if !missing_metrics.is_empty() {
        warnings.push(format!(
            "{id} ({r}): the snapshot has no {} metric(s): what depends on them is unknown, not zero, and the scenarios that need them are needs-data",
            missing_metrics.join(", ")
        ));
    }
    let public_ips: Vec<String> = if nat.is_public() {
        nat.addresses
            .iter()
            .filter_map(|a| a.public_ip.clone())
            .collect()
    } else {
        Vec::new()
    };

    // A regional NAT gateway is billed for each AZ it is active in (AWS's pricing page, as
    // quoted: not confirmed from AWS directly; the report's assumptions say so).
    let regional = nat.is_regional();
    let (hours_item, bytes_item) = if regional {
        (Item::RegionalNatHours, Item::RegionalNatBytes)
    } else {
        (Item::NatHours, Item::NatBytes)
    };
    let active_azs = if regional {
        let azs = nat.address_azs().len();
        let clients: std::collections::BTreeSet<&str> = topo
            .subnets_routed_to(id)
            .iter()
            .map(|s| s.availability_zone.as_str())
            .collect();
        azs.max(clients.len()).max(1)
    } else {
        1
    };
    let az_hours = Decimal::from(active_azs);
    let mut lines = Vec::new();
    let mut billed_hours = 0;
    for (ps, pe) in months(window) {
        let a = alive_from.max(ps);
        let b = alive_to.min(pe);
        if b <= a {
            continue;
        }
        let hours = started_hours(a, b);
        billed_hours += hours;
        let mut push = |item, component, qty: Decimal| -> Result<()> {
            lines.push(CostLine {
                period_start: ps,
                period_end: pe,
                charge: Charge::new(book, r, item, component, qty)?,
                basis: if component == Component::InterAz {
                    inter_az_basis
                } else {
                    "measured"
                },
            });
            Ok(())
        };
        push(
            hours_item,
            Component::NatHours,
            Decimal::from(hours) * az_hours,
        )?;
        let range = hour_index(window, ps)..hour_index(window, pe);
        if let Some(p) = &processed {
            push(
                bytes_item,
                Component::NatBytes,
                gb(p[range.clone()].iter().sum()),
            )?;
        }
        if !public_ips.is_empty() {
            let exact_hours = Decimal::from((b - a).num_seconds()) / Decimal::from(3600);
            push(
                Item::PublicIpv4Hours,
                Component::PublicIpv4,
                exact_hours * Decimal::from(public_ips.len()),
            )?;
        }
        if let (Some(c), true) = (&crossing, cross_share > 0.0) {
            // Billed on both sides of the AZ boundary: 0.01/GB out of one AZ and 0.01/GB into the other.
            let crossing_gb = gb(c[range].iter().sum::<f64>() * cross_share);
            push(
                Item::InterAzBytes,
                Component::InterAz,
                crossing_gb * Decimal::TWO,
            )?;
        }
    }

    let active_at_end =
        alive_to >= window.end && nat.is_active_at(window.end - Duration::seconds(1));
    let processed_gb = processed.as_ref().map(|p| gb(p.iter().sum()));
    let egress_gb = out_dst.map(|v| gb(v.iter().flatten().sum()));
    let mut run_rate = Vec::new();
    if active_at_end {
        let month = Decimal::from(HOURS_PER_MONTH);
        let observed = billed_hours.min(window.hours());
        run_rate.push(Charge::new(
            book,
            r,
            hours_item,
            Component::NatHours,
            month * az_hours,
        )?);
        if let Some(gb) = processed_gb {
            run_rate.push(Charge::new(
                book,
                r,
                bytes_item,
                Component::NatBytes,
                per_month(gb, observed),
            )?);
        }
        if !public_ips.is_empty() {
            let qty = month * Decimal::from(public_ips.len());
            run_rate.push(Charge::new(
                book,
                r,
                Item::PublicIpv4Hours,
                Component::PublicIpv4,
                qty,
            )?);
        }
        let window_inter_az: Decimal = lines
            .iter()
            .filter(|l| l.charge.component == Component::InterAz)
            .map(|l| l.charge.quantity)
            .sum();
        if !window_inter_az.is_zero() {
            let qty = per_month(window_inter_az, observed);
            run_rate.push(Charge::new(
                book,
                r,
                Item::InterAzBytes,
                Component::InterAz,
                qty,
            )?);
        }
    }

    let conn = |name: &str| metrics.get(id, name).map(|m| m.values.iter().flatten());
    let idle_hours = (IDLE_RULE_DAYS * 24) as usize;
    let idle_by_aws_rule = if window.hours() as usize >= idle_hours {
        [
            "ActiveConnectionCount",
            "PacketsInFromSource",
            "PacketsInFromDestination",
        ]
        .iter()
        .map(|name| {
            metrics.get(id, name).map(|m| {
                m.values
                    .iter()
                    .skip(m.values.len() - idle_hours)
                    .flatten()
                    .all(|v| v == 0.0)
            })
        })
        .collect::<Option<Vec<bool>>>()
        .map(|all| all.into_iter().all(|quiet| quiet))
    } else {
        None
    };
    let (busiest_minute_bytes, busiest_minute_basis) = busiest_minute(metrics, id);
    Ok(Some(NatCost {
        account_id: region.account_id.clone(),
        region: r.to_string(),
        vpc_id: nat.vpc_id.clone(),
        nat_gateway_id: id.to_string(),
        name: nat.name().map(str::to_string),
        availability_zone: if regional {
            "regional".into()
        } else {
            nat.availability_zone.clone()
        },
        availability_mode: if regional { "regional" } else { "zonal" },
        active_azs,
        found_by: nat.found_by.clone(),
        state: nat.state.clone(),
        connectivity_type: if nat.is_public() { "public" } else { "private" }.to_string(),
        public_ips,
        billed_hours,
        active_at_end,
        processed_gb,
        egress_gb,
        crossing_bytes: crossing.as_ref().map(|c| c.iter().sum()),
        cross_az_share: cross_share,
        peak_hour_bytes: processed
            .as_ref()
            .map(|p| p.iter().copied().fold(0.0, f64::max)),
        connection_attempts: conn("ConnectionAttemptCount").map(|v| v.sum()),
        max_active_connections: conn("ActiveConnectionCount").map(|v| v.fold(0.0, f64::max)),
        idle_by_aws_rule,
        busiest_minute_bytes,
        busiest_minute_basis,
        missing_metrics,
        lambdas: topo
            .lambdas_behind(id)
            .iter()
            .map(|f| f.function_name.clone())
            .collect(),
        other_enis: topo.other_enis_behind(id),
        routed_subnets: topo
            .subnets_routed_to(id)
            .iter()
            .map(|s| s.subnet_id.clone())
            .collect(),
        lines,
        run_rate,
        daily_gb: processed
            .as_ref()
            .map(|p| daily(window, p))
            .unwrap_or_default(),
    }))
}

/// The busiest minute's processed bytes over the window, and how it was found.
///
/// The hourly `Maximum` of a byte metric is its largest datapoint in the hour; it is one
/// minute's bytes only while SampleCount stays at or under 60 an hour. The two directions'
/// maxima may fall in different minutes, so their sum is an upper bound: safe for sizing.
/// Hours with more datapoints need the collector's 1-minute sums, which CloudWatch keeps only
/// 15 days: a dense hour without them leaves the busiest minute unknown.
fn busiest_minute(metrics: &Metrics, id: &str) -> (Option<f64>, String) {
    let (Some(src), Some(dst), Some(samples)) = (
        metrics.stat(id, "BytesInFromSource", "Maximum"),
        metrics.stat(id, "BytesInFromDestination", "Maximum"),
        metrics.stat(id, "BytesInFromSource", "SampleCount"),
    ) else {
        return (
            None,
            "the snapshot has no Maximum/SampleCount byte metrics (snapshots from before natcost sized NAT instances): the busiest minute is unknown; collect again".into(),
        );
    };
    let minutes = metrics.stat(id, BUSIEST_MINUTE.0, BUSIEST_MINUTE.1);
    let mut busiest: f64 = 0.0;
    let mut dense = 0;
    let mut uncovered = false;
    for (h, n) in samples.values.iter().enumerate() {
        if n.is_some_and(|n| n > DATAPOINTS_PER_HOUR) {
            dense += 1;
            match minutes.and_then(|m| m.values.get(h)) {
                Some(v) => busiest = busiest.max(v),
                None => uncovered = true,
            }
        } else {
            let a = src.values.get(h).unwrap_or(0.0);
            let b = dst.values.get(h).unwrap_or(0.0);
            busiest = busiest.max(a + b);
        }
    }
    if uncovered {
        return (
            None,
            "some hours had more than 60 datapoints (so their Maximum is not one minute) and no 1-minute Sums, which CloudWatch keeps only 15 days: the busiest minute is unknown".into(),
        );
    }
    let mut basis = "busiest minute from the hourly Maximum of BytesInFromSource + BytesInFromDestination over the whole window (SampleCount ≤ 60 an hour: one datapoint a minute; the two maxima may be different minutes, so this is an upper bound)".to_string();
    if dense > 0 {
        basis.push_str("; hours with more than 60 datapoints from 1-minute Sums");
    }
    (Some(busiest), basis)
}

/// Hour-by-hour sum of two series; a missing datapoint adds nothing.
fn add_series(a: &Hourly, b: &Hourly) -> Vec<f64> {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| x.unwrap_or(0.0) + y.unwrap_or(0.0))
        .collect()
}

/// Bytes (a CloudWatch sum) to GB of 2^30 bytes.
pub fn gb(bytes: f64) -> Decimal {
    let bytes = Decimal::from_f64(bytes.round()).unwrap_or(Decimal::MAX);
    (bytes / Decimal::from(BYTES_PER_GB)).round_dp(QUANTITY_DP)
}

/// A quantity observed over `hours` scaled to a 730-hour month.
pub fn per_month(quantity: Decimal, hours: i64) -> Decimal {
    if hours <= 0 {
        return Decimal::ZERO;
    }
    (quantity * Decimal::from(HOURS_PER_MONTH) / Decimal::from(hours)).round_dp(QUANTITY_DP)
}

/// Hours billed for a resource alive in `[from, to)`: each started clock hour counts in full.
pub fn started_hours(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    if to <= from {
        return 0;
    }
    let floor = from
        .with_minute(0)
        .unwrap()
        .with_second(0)
        .unwrap()
        .with_nanosecond(0)
        .unwrap();
    let secs = (to - floor).num_seconds();
    (secs + 3599) / 3600
}

/// The calendar months (UTC) the window touches, clipped to it.
pub fn months(window: Window) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut start = window.start;
    while start < window.end {
        let (y, m) = (start.year(), start.month());
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let next = Utc.with_ymd_and_hms(ny, nm, 1, 0, 0, 0).unwrap();
        let end = next.min(window.end);
        out.push((start, end));
        start = end;
    }
    out
}

fn hour_index(window: Window, t: DateTime<Utc>) -> usize {
    ((t - window.start).num_hours().max(0) as usize).min(window.hours() as usize)
}

fn daily(window: Window, hourly: &[f64]) -> Vec<(NaiveDate, f64)> {
    let mut out: Vec<(NaiveDate, f64)> = Vec::new();
    for (i, v) in hourly.iter().enumerate() {
        let day = (window.start + Duration::hours(i as i64)).date_naive();
        match out.last_mut() {
            Some((d, sum)) if *d == day => *sum += v / BYTES_PER_GB as f64,
            _ => out.push((day, v / BYTES_PER_GB as f64)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn charge(region: &str, item: Item, qty: Decimal) -> Charge {
        Charge::new(
            &PriceBook::bundled(),
            region,
            item,
            Component::NatHours,
            qty,
        )
        .unwrap()
    }

    #[test]
    fn seoul_bill_lines_to_the_cent() {
        // Published Seoul bill: 44 h = 2.5960; 1.691 GB = 0.0998; IPv4 43.148 h = 0.2157.
        let hours = charge("ap-northeast-2", Item::NatHours, dec!(44));
        assert_eq!(hours.usage_type, "APN2-NatGateway-Hours");
        assert_eq!(hours.cost.round_dp(4), dec!(2.5960));
        let bytes = charge("ap-northeast-2", Item::NatBytes, dec!(1.691));
        assert_eq!(bytes.usage_type, "APN2-NatGateway-Bytes");
        assert_eq!(bytes.cost.round_dp(4), dec!(0.0998));
        let ip = charge("ap-northeast-2", Item::PublicIpv4Hours, dec!(43.148));
        assert_eq!(ip.usage_type, "APN2-PublicIPv4:InUseAddress");
        assert_eq!(ip.cost.round_dp(4), dec!(0.2157));
    }

    #[test]
    fn seoul_752_hours_and_us_east_1_month() {
        assert_eq!(
            charge("ap-northeast-2", Item::NatHours, dec!(752))
                .cost
                .round_dp(2),
            dec!(44.37)
        );
        assert_eq!(
            charge("ap-northeast-2", Item::PublicIpv4Hours, dec!(752))
                .cost
                .round_dp(2),
            dec!(3.76)
        );
        let h = charge("us-east-1", Item::NatHours, dec!(730)).cost;
        let b = charge("us-east-1", Item::NatBytes, dec!(100)).cost;
        assert_eq!(h, dec!(32.850));
        assert_eq!(b, dec!(4.500));
        assert_eq!(h + b, dec!(37.35));
    }

    #[test]
    fn ohio_one_gb_through_a_same_az_nat() {
        assert_eq!(
            charge("us-east-2", Item::NatBytes, dec!(1)).cost,
            dec!(0.045)
        );
        assert_eq!(
            charge("us-east-2", Item::NatHours, dec!(1)).cost,
            dec!(0.045)
        );
    }

    #[test]
    fn every_started_hour_counts() {
        assert_eq!(
            started_hours(t("2026-10-01T10:30:00Z"), t("2026-10-01T10:45:00Z")),
            1
        );
        assert_eq!(
            started_hours(t("2026-10-01T10:30:00Z"), t("2026-10-01T11:00:00Z")),
            1
        );
        assert_eq!(
            started_hours(t("2026-10-01T10:30:00Z"), t("2026-10-01T11:00:01Z")),
            2
        );
        assert_eq!(
            started_hours(t("2026-10-01T10:00:00Z"), t("2026-10-02T10:00:00Z")),
            24
        );
        assert_eq!(
            started_hours(t("2026-10-01T10:00:00Z"), t("2026-10-01T10:00:00Z")),
            0
        );
    }

    #[test]
    fn months_split_the_window_on_utc_calendar_months() {
        let w = Window {
            start: t("2026-09-26T00:00:00Z"),
            end: t("2026-11-01T00:00:00Z"),
        };
        let m = months(w);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], (t("2026-09-26T00:00:00Z"), t("2026-10-01T00:00:00Z")));
        assert_eq!(m[1], (t("2026-10-01T00:00:00Z"), t("2026-11-01T00:00:00Z")));
        let dec = Window {
            start: t("2026-12-31T23:00:00Z"),
            end: t("2027-01-01T01:00:00Z"),
        };
        assert_eq!(months(dec).len(), 2);
    }

    #[test]
    fn gb_is_two_to_the_thirty_bytes() {
        assert_eq!(gb(1073741824.0), dec!(1));
        assert_eq!(gb(3.0 * 1073741824.0 / 2.0), dec!(1.5));
        assert_eq!(per_month(dec!(10), 365), dec!(20));
    }
}

//! The cost model: what each NAT gateway cost in the window, month by month, and its
//! monthly run-rate, as cost components a reader can check by multiplication.

mod cross_az;
mod lifetime;
mod lines;
mod series;

use std::collections::HashMap;

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::*;
use serde::Serialize;

use crate::price::{Item, PriceBook};
use crate::snapshot::{Metrics, NatGateway, RegionSnapshot, Snapshot, Window};
use crate::topology::Topology;
use crate::traffic::{Attribution, NatTraffic};
use cross_az::CrossAz;
use lifetime::{Lifetime, Month};
use series::Series;

pub use crate::traffic::BYTES_PER_GB;
pub use lifetime::{is_whole_month, months};
/// AWS's convention for a month of hours in price comparisons.
pub const HOURS_PER_MONTH: i64 = 730;
/// Decimals kept in quantities, so that quantity × unit price is exact in the cost.
const QUANTITY_DP: u32 = 9;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
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

/// quantity × unit price = cost, for one usage type. Quantity and cost are None when the
/// usage was not collected: unknown, which is not zero (shown empty).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Charge {
    pub component: Component,
    pub usage_type: String,
    pub quantity: Option<Decimal>,
    pub unit: String,
    pub unit_price: Decimal,
    pub cost: Option<Decimal>,
}

impl Charge {
    fn new(
        book: &PriceBook,
        region: &str,
        item: Item,
        component: Component,
        quantity: Option<Decimal>,
    ) -> Result<Charge> {
        let price = book.get(region, item)?;
        let quantity = quantity.map(|q| q.round_dp(QUANTITY_DP));
        Ok(Charge {
            component,
            usage_type: price.usage_type.clone(),
            quantity,
            unit: price.unit.clone(),
            unit_price: price.usd,
            cost: quantity.map(|q| q * price.usd),
        })
    }
}

/// One row of the finance export: a charge in one calendar month (UTC) for one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostLine {
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub charge: Charge,
    /// Measured (usage under AWS's billing rule) or estimated (inter-AZ transfer estimated from
    /// who sits in each subnet): finance sees which lines cannot match the bill.
    pub basis: Basis,
}

/// How a quantity is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    Measured,
    Estimated,
}

/// Where a NAT gateway lives: one AZ, or the whole region (a regional NAT gateway).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    Zonal,
    Regional,
}

/// Whether a NAT gateway reaches the internet (public) or only other networks (private).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Connectivity {
    Public,
    Private,
}

impl std::fmt::Display for Basis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Basis::Measured => "measured",
            Basis::Estimated => "estimated",
        })
    }
}

impl std::fmt::Display for Connectivity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Connectivity::Public => "public",
            Connectivity::Private => "private",
        })
    }
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
    pub availability_mode: Placement,
    /// AZs whose hours are billed: 1 for a zonal NAT gateway; for a regional one, the AZs it
    /// has addresses in or clients in, whichever is more.
    pub active_azs: usize,
    pub state: String,
    pub connectivity_type: Connectivity,
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
    /// The cost of the window's lines whose usage is known (the report names what is not).
    pub fn window_cost(&self) -> Decimal {
        self.lines.iter().filter_map(|l| l.charge.cost).sum()
    }
    /// The monthly run-rate of the components whose usage is known.
    pub fn monthly(&self) -> Decimal {
        self.run_rate.iter().filter_map(|c| c.cost).sum()
    }
    pub fn monthly_of(&self, component: Component) -> Decimal {
        self.run_rate
            .iter()
            .filter(|c| c.component == component)
            .filter_map(|c| c.cost)
            .sum()
    }
    /// Processed GB per month at the window's rate; 0 when not collected (processed_gb is
    /// None then, and the report says so).
    pub fn monthly_gb(&self) -> Decimal {
        self.run_rate
            .iter()
            .find(|c| c.component == Component::NatBytes)
            .and_then(|c| c.quantity)
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
    /// Elastic IPs associated with nothing at collection (often left behind by a deleted NAT
    /// gateway), still billed by the hour.
    pub idle_addresses: Vec<IdleAddress>,
    pub warnings: Vec<String>,
}

/// An Elastic IP associated with nothing: its monthly run-rate. When it was allocated is not
/// in the snapshot, so it has no window cost, only a run-rate.
#[derive(Debug, Clone, Serialize)]
pub struct IdleAddress {
    pub account_id: String,
    pub region: String,
    pub allocation_id: String,
    pub public_ip: String,
    pub name: Option<String>,
    /// The NAT gateway (deleted, or no longer using it) that had this address, when the
    /// snapshot shows one.
    pub left_by: Option<String>,
    /// 730 h × the public IPv4 hourly price (idle and in-use addresses cost the same).
    pub run_rate: Charge,
}

impl IdleAddress {
    pub fn monthly(&self) -> Decimal {
        self.run_rate.cost.unwrap_or_default()
    }
}

impl CostModel {
    /// The NAT gateways' cost in the window (idle addresses have only a run-rate).
    pub fn total_window_cost(&self) -> Decimal {
        self.nats.iter().map(NatCost::window_cost).sum()
    }
    /// The NAT gateways' monthly run-rate and their idle addresses'.
    pub fn total_monthly(&self) -> Decimal {
        self.nats.iter().map(NatCost::monthly).sum::<Decimal>() + self.idle_addresses_monthly()
    }
    pub fn idle_addresses_monthly(&self) -> Decimal {
        self.idle_addresses.iter().map(IdleAddress::monthly).sum()
    }
}

/// The cost model without flow logs (what tests price the sample with).
#[cfg(test)]
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
    let mut idle_addresses = Vec::new();
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
        idle_addresses.extend(idle_addresses_of(region, book)?);
    }
    Ok(CostModel {
        window: snapshot.window,
        nats,
        idle_addresses,
        warnings,
    })
}

/// The region's Elastic IPs associated with nothing, each at 730 h × the public IPv4 price,
/// named by the NAT gateway that had it when the snapshot shows one.
fn idle_addresses_of(region: &RegionSnapshot, book: &PriceBook) -> Result<Vec<IdleAddress>> {
    let r = region.region.as_str();
    let idle: Vec<&crate::snapshot::ElasticIp> = region
        .elastic_ips
        .iter()
        .filter(|e| e.association_id.is_none() && e.network_interface_id.is_none())
        .collect();
    if idle.is_empty() {
        return Ok(Vec::new());
    }
    let had: HashMap<&str, &str> = region
        .nat_gateways
        .iter()
        .flat_map(|n| {
            n.addresses
                .iter()
                .filter_map(|a| a.allocation_id.as_deref())
                .map(move |a| (a, n.nat_gateway_id.as_str()))
        })
        .collect();
    let mut out = Vec::new();
    for e in idle {
        let mut run_rate = Charge::new(
            book,
            r,
            Item::PublicIpv4Hours,
            Component::PublicIpv4,
            Some(Decimal::from(HOURS_PER_MONTH)),
        )?;
        run_rate.usage_type = run_rate.usage_type.replace("InUseAddress", "IdleAddress");
        out.push(IdleAddress {
            account_id: region.account_id.clone(),
            region: r.to_string(),
            allocation_id: e.allocation_id.clone(),
            public_ip: e.public_ip.clone(),
            name: e.tags.get("Name").cloned(),
            left_by: had.get(e.allocation_id.as_str()).map(|n| n.to_string()),
            run_rate,
        });
    }
    Ok(out)
}

/// What NAT gateway `nat` cost in the window and costs a month; None when none of its life
/// is billed in the window.
fn price_nat(
    window: Window,
    view: &Region,
    nat: &NatGateway,
    book: &PriceBook,
    warnings: &mut Vec<String>,
) -> Result<Option<NatCost>> {
    let r = view.snapshot.region.as_str();
    let Some(life) = Lifetime::of(window, r, nat, warnings) else {
        unbilled_traffic(view, nat, warnings);
        return Ok(None);
    };
    let readings = Readings::of(view, nat, (&life.months(window), window), warnings);
    let costs = Costs::of(window, view, nat, life, &readings, book)?;
    Ok(Some(nat_cost(window, view, nat, readings, costs)))
}

/// A NAT gateway none of whose life is in the window, yet with bytes in it (a `create_time`
/// after the window, say): named, so its traffic is not lost without a word.
fn unbilled_traffic(view: &Region, nat: &NatGateway, warnings: &mut Vec<String>) {
    let bytes: f64 = ["BytesInFromSource", "BytesInFromDestination"]
        .iter()
        .filter_map(|m| view.metrics.get(&nat.nat_gateway_id, m))
        .map(|m| m.values.iter().flatten().sum::<f64>())
        .sum();
    if bytes > 0.0 {
        warnings.push(format!(
            "{} ({}): CloudWatch has {} GB for it in the window, but its create_time {} and delete_time {} put none of its life there: not priced; check the snapshot",
            nat.nat_gateway_id,
            view.snapshot.region,
            crate::shown::fixed(gb(bytes), 2),
            nat.create_time.format("%Y-%m-%d %H:%M UTC"),
            nat.delete_time
                .map_or("(none)".to_string(), |d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        ));
    }
}

/// What the metrics and flow logs say of one NAT gateway.
struct Readings {
    series: Series,
    cross: CrossAz,
    /// Metrics of NEEDED_METRICS the snapshot lacks.
    missing_metrics: Vec<String>,
}

impl Readings {
    /// The readings of `nat`; what is missing from them is warned.
    fn of(
        view: &Region,
        nat: &NatGateway,
        months: (&[Month], Window),
        warnings: &mut Vec<String>,
    ) -> Readings {
        let (id, r) = (nat.nat_gateway_id.as_str(), view.snapshot.region.as_str());
        let series = Series::read(&view.metrics, id, r, warnings);
        let cross = CrossAz::of(view, nat, &series, months, warnings);
        let mut missing_metrics = series::missing_metrics(&view.metrics, id, r, warnings);
        missing_metrics.extend(series.inconsistent.iter().cloned());
        Readings {
            series,
            cross,
            missing_metrics,
        }
    }
}

/// One NAT gateway's cost: its lines month by month, its run-rate, and what they count.
struct Costs {
    active_azs: usize,
    public_ips: Vec<String>,
    billed_hours: i64,
    active_at_end: bool,
    lines: Vec<CostLine>,
    run_rate: Vec<Charge>,
}

impl Costs {
    /// The cost of `nat`, alive for `life`; only a NAT gateway active at the window's end has
    /// a run-rate.
    fn of(
        window: Window,
        view: &Region,
        nat: &NatGateway,
        life: Lifetime,
        readings: &Readings,
        book: &PriceBook,
    ) -> Result<Costs> {
        let r = view.snapshot.region.as_str();
        let public_ips = public_ips(nat);
        let active_azs = lines::active_azs(nat, &view.topo);
        let (series, cross) = (&readings.series, &readings.cross);
        let meters = lines::meters(nat, active_azs, public_ips.len(), series, cross);
        let months = life.months(window);
        let lines = lines::lines(&meters, &months, window, book, r)?;
        let billed_hours: i64 = months.iter().map(Month::started_hours).sum();
        let active_at_end = life.active_at_end(nat, window);
        let run_rate = if active_at_end {
            let observed = billed_hours.min(window.hours());
            lines::run_rate(&meters, &lines, observed, book, r)?
        } else {
            Vec::new()
        };
        Ok(Costs {
            active_azs,
            public_ips,
            billed_hours,
            active_at_end,
            lines,
            run_rate,
        })
    }
}

/// Everything the report and the advisor need to know about `nat`, from its costs and
/// readings.
fn nat_cost(
    window: Window,
    view: &Region,
    nat: &NatGateway,
    readings: Readings,
    costs: Costs,
) -> NatCost {
    let (id, topo, metrics) = (nat.nat_gateway_id.as_str(), &view.topo, &view.metrics);
    let Readings {
        series,
        cross,
        missing_metrics,
    } = readings;
    let (busiest_minute_bytes, busiest_minute_basis) = series::busiest_minute(metrics, id);
    let regional = nat.is_regional();
    NatCost {
        account_id: view.snapshot.account_id.clone(),
        region: view.snapshot.region.clone(),
        vpc_id: nat.vpc_id.clone(),
        nat_gateway_id: id.to_string(),
        name: nat.name().map(str::to_string),
        availability_zone: if regional {
            "regional".into()
        } else {
            nat.availability_zone.clone()
        },
        availability_mode: if regional {
            Placement::Regional
        } else {
            Placement::Zonal
        },
        active_azs: costs.active_azs,
        found_by: nat.found_by.clone(),
        state: nat.state.clone(),
        connectivity_type: if nat.is_public() {
            Connectivity::Public
        } else {
            Connectivity::Private
        },
        public_ips: costs.public_ips,
        billed_hours: costs.billed_hours,
        active_at_end: costs.active_at_end,
        processed_gb: series.processed_gb(),
        egress_gb: series.egress_gb,
        crossing_bytes: series.crossing_bytes(),
        cross_az_share: cross.share,
        peak_hour_bytes: series.peak_hour_bytes(),
        connection_attempts: series.connection_attempts,
        max_active_connections: series.max_active_connections,
        idle_by_aws_rule: series::idle_by_aws_rule(window, metrics, id),
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
        lines: costs.lines,
        run_rate: costs.run_rate,
        daily_gb: series.daily_gb(window),
    }
}

/// The public addresses of a public NAT gateway; none for a private one.
fn public_ips(nat: &NatGateway) -> Vec<String> {
    if nat.is_public() {
        nat.addresses
            .iter()
            .filter_map(|a| a.public_ip.clone())
            .collect()
    } else {
        Vec::new()
    }
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

#[cfg(test)]
mod tests {
    use super::lifetime::started_hours;
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
            Some(qty),
        )
        .unwrap()
    }

    #[test]
    fn seoul_bill_lines_to_the_cent() {
        // Published Seoul bill: 44 h = 2.5960; 1.691 GB = 0.0998; IPv4 43.148 h = 0.2157.
        let hours = charge("ap-northeast-2", Item::NatHours, dec!(44));
        assert_eq!(hours.usage_type, "APN2-NatGateway-Hours");
        assert_eq!(hours.cost.unwrap().round_dp(4), dec!(2.5960));
        let bytes = charge("ap-northeast-2", Item::NatBytes, dec!(1.691));
        assert_eq!(bytes.usage_type, "APN2-NatGateway-Bytes");
        assert_eq!(bytes.cost.unwrap().round_dp(4), dec!(0.0998));
        let ip = charge("ap-northeast-2", Item::PublicIpv4Hours, dec!(43.148));
        assert_eq!(ip.usage_type, "APN2-PublicIPv4:InUseAddress");
        assert_eq!(ip.cost.unwrap().round_dp(4), dec!(0.2157));
    }

    #[test]
    fn seoul_752_hours_and_us_east_1_month() {
        assert_eq!(
            charge("ap-northeast-2", Item::NatHours, dec!(752))
                .cost
                .unwrap()
                .round_dp(2),
            dec!(44.37)
        );
        assert_eq!(
            charge("ap-northeast-2", Item::PublicIpv4Hours, dec!(752))
                .cost
                .unwrap()
                .round_dp(2),
            dec!(3.76)
        );
        let h = charge("us-east-1", Item::NatHours, dec!(730)).cost.unwrap();
        let b = charge("us-east-1", Item::NatBytes, dec!(100)).cost.unwrap();
        assert_eq!(h, dec!(32.850));
        assert_eq!(b, dec!(4.500));
        assert_eq!(h + b, dec!(37.35));
    }

    #[test]
    fn ohio_one_gb_through_a_same_az_nat() {
        assert_eq!(
            charge("us-east-2", Item::NatBytes, dec!(1)).cost.unwrap(),
            dec!(0.045)
        );
        assert_eq!(
            charge("us-east-2", Item::NatHours, dec!(1)).cost.unwrap(),
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

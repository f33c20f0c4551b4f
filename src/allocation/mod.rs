//! Cost allocation: every NAT-related dollar of costs.csv split between the sources behind each
//! NAT gateway (functions, other interfaces, subnets), month by month, and the monthly run-rate
//! the same way. The rows of one NAT gateway and month add up to its costs.csv lines exactly.

mod sources;
mod split;
mod teams;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::price::model::{Charge, Component, CostModel, NatCost};
use crate::snapshot::Snapshot;
use crate::topology::Topology;
use crate::traffic::{Attribution, NatTraffic, SourceKind, SourceRef};
use sources::{Sources, Weighted};
use split::split;
pub use teams::UNTAGGED;

/// Where a NAT gateway's fixed cost (hours, public IPv4) goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FixedCosts {
    /// Split between the sources in proportion to their bytes.
    #[default]
    Proportional,
    /// Kept on one `shared` row per NAT gateway and month.
    Separate,
}

/// How allocation splits: where fixed costs go, and which tags name a source's team.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub fixed_costs: FixedCosts,
    /// Tag keys, in order: a source's team is the value of the first one it has.
    pub team_tags: Vec<String>,
}

/// How a row's split is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// Flow logs that meet the coverage rule.
    Measured,
    /// Lambda Insights' per-function bytes (rx + tx), the rest by head count.
    EstimatedInsights,
    /// Who sits in each subnet routed to the NAT gateway.
    EstimatedHeadcount,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Measured => "measured",
            Basis::EstimatedInsights => "estimated-insights",
            Basis::EstimatedHeadcount => "estimated-headcount",
        }
    }
}

/// One source's part of one NAT gateway's cost in one month (or a month of run-rate); read
/// back from a saved report.json by `natcost diff`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// `YYYY-MM` (UTC), as costs.csv; the run-rate's rows have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<DateTime<Utc>>,
    pub account_id: String,
    pub region: String,
    pub vpc_id: String,
    pub nat_gateway_id: String,
    pub nat_name: String,
    pub source: SourceRef,
    /// The team from the source's tags; empty until teams are read (issue 24 §3).
    pub team: String,
    /// None: the NAT gateway's byte metrics are missing, so its data processing is unknown.
    pub gb: Option<Decimal>,
    pub data_processing_usd: Option<Decimal>,
    pub fixed_share_usd: Decimal,
    pub inter_az_usd: Option<Decimal>,
    pub basis: Basis,
}

impl Row {
    /// What is known of this row's cost (what costs.csv's totals count).
    pub fn known_cost(&self) -> Decimal {
        self.data_processing_usd.unwrap_or_default()
            + self.fixed_share_usd
            + self.inter_az_usd.unwrap_or_default()
    }

    /// The row's cost; None when a part is unknown (no byte metrics).
    pub fn cost_usd(&self) -> Option<Decimal> {
        Some(self.data_processing_usd? + self.fixed_share_usd + self.inter_az_usd?)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Allocation {
    pub fixed_costs: FixedCosts,
    /// The tag keys teams come from (`--allocate-by tag:KEY`); empty: no teams.
    pub team_tags: Vec<String>,
    /// Per calendar month (UTC) × NAT gateway × source, in costs.csv's order of NAT gateways:
    /// allocation.csv (not in report.json, where thousands of NAT gateways would swell it).
    #[serde(skip)]
    pub rows: Vec<Row>,
    /// The whole window, per NAT × source: the months' rows summed (what `natcost diff` reads).
    pub window: Vec<Row>,
    /// A month at the run-rate (730 hours, bytes at the window's average), per NAT × source.
    pub run_rate: Vec<Row>,
    /// The functions behind a NAT gateway whose Lambda Insights bytes the split uses.
    pub insights: Vec<String>,
    /// The (NAT gateway, month) whose rows are split by that month's own flow logs (they cover
    /// it); a measured NAT gateway's other months are split by the window's.
    #[serde(skip)]
    pub months_measured: HashSet<(String, DateTime<Utc>)>,
}

/// A source's monthly run-rate over every NAT gateway it uses.
#[derive(Debug, Clone, Serialize)]
pub struct SourceTotal {
    pub account_id: String,
    pub region: String,
    pub source: SourceRef,
    pub nat_gateway_ids: Vec<String>,
    /// What is known: with `gb_known` or `complete` false, a NAT gateway's bytes are unknown
    /// and these are the least the source moves and costs.
    pub monthly_gb: Decimal,
    pub monthly_cost: Decimal,
    pub gb_known: bool,
    pub complete: bool,
    /// The least certain basis of its rows.
    pub basis: Basis,
}

impl Allocation {
    /// The run-rate per source, in first-seen order: a function or interface once over its
    /// NAT gateways, what is no source once per NAT gateway.
    pub fn run_rate_by_source(&self) -> Vec<SourceTotal> {
        type Key<'a> = (&'a str, &'a str, &'a SourceRef, &'a str);
        let mut index: HashMap<Key, usize> = HashMap::new();
        let mut out: Vec<SourceTotal> = Vec::new();
        for r in &self.run_rate {
            let nat = if r.source.kind.is_per_nat() {
                r.nat_gateway_id.as_str()
            } else {
                ""
            };
            let i = *index
                .entry((&r.account_id, &r.region, &r.source, nat))
                .or_insert_with(|| {
                    out.push(SourceTotal {
                        account_id: r.account_id.clone(),
                        region: r.region.clone(),
                        source: r.source.clone(),
                        nat_gateway_ids: Vec::new(),
                        monthly_gb: Decimal::ZERO,
                        monthly_cost: Decimal::ZERO,
                        gb_known: true,
                        complete: true,
                        basis: r.basis,
                    });
                    out.len() - 1
                });
            let t = &mut out[i];
            t.nat_gateway_ids.push(r.nat_gateway_id.clone());
            t.monthly_gb += r.gb.unwrap_or_default();
            t.monthly_cost += r.known_cost();
            t.gb_known &= r.gb.is_some();
            t.complete &= r.cost_usd().is_some();
            t.basis = t.basis.max(r.basis);
        }
        out
    }
}

/// One team's cost in one month (or a month of run-rate) in one account.
#[derive(Debug, Clone, Serialize)]
pub struct TeamRow {
    pub month: Option<DateTime<Utc>>,
    pub account_id: String,
    pub team: String,
    /// None when a NAT gateway's bytes are unknown.
    pub gb: Option<Decimal>,
    pub cost_usd: Option<Decimal>,
    /// The least certain basis of its rows.
    pub basis: Basis,
}

/// `rows` summed per month × account × team (with `per_account` false, per month × team, the
/// account left empty), in first-seen order.
pub fn by_team(rows: &[Row], per_account: bool) -> Vec<TeamRow> {
    let mut out: Vec<TeamRow> = Vec::new();
    let mut index: HashMap<(Option<DateTime<Utc>>, &str, &str), usize> = HashMap::new();
    for r in rows {
        let account = if per_account {
            r.account_id.as_str()
        } else {
            ""
        };
        let i = *index.entry((r.month, account, &r.team)).or_insert_with(|| {
            out.push(TeamRow {
                month: r.month,
                account_id: account.to_string(),
                team: r.team.clone(),
                gb: Some(Decimal::ZERO),
                cost_usd: Some(Decimal::ZERO),
                basis: r.basis,
            });
            out.len() - 1
        });
        let t = &mut out[i];
        t.gb = t.gb.zip(r.gb).map(|(a, b)| a + b);
        t.cost_usd = t.cost_usd.zip(r.cost_usd()).map(|(a, b)| a + b);
        t.basis = t.basis.max(r.basis);
    }
    out
}

/// A NAT gateway's charges of one month (or its run-rate), by component.
struct Charges {
    fixed: Decimal,
    gb: Option<Decimal>,
    data: Option<Decimal>,
    inter_az: Option<Decimal>,
    /// The per-GB price when every data processing line has the same one: each row's data
    /// processing is then its GB × that price, which a reader can check by multiplication.
    per_gb: Option<Decimal>,
}

impl Charges {
    fn of<'a>(charges: impl Iterator<Item = &'a Charge>) -> Charges {
        // No line of a component is none of it; a line whose usage is unknown makes it unknown.
        let mut c = Charges {
            fixed: Decimal::ZERO,
            gb: Some(Decimal::ZERO),
            data: Some(Decimal::ZERO),
            inter_az: Some(Decimal::ZERO),
            per_gb: None,
        };
        let mut prices: Vec<Decimal> = Vec::new();
        let add = |a: &mut Option<Decimal>, b: Option<Decimal>| {
            *a = a.zip(b).map(|(a, b)| a + b);
        };
        for charge in charges {
            match charge.component {
                Component::NatHours | Component::PublicIpv4 => {
                    c.fixed += charge.cost.unwrap_or_default()
                }
                Component::NatBytes => {
                    add(&mut c.gb, charge.quantity);
                    add(&mut c.data, charge.cost);
                    prices.push(charge.unit_price);
                }
                Component::InterAz => add(&mut c.inter_az, charge.cost),
            }
        }
        prices.dedup();
        if let [price] = prices.as_slice() {
            c.per_gb = Some(*price);
        }
        c
    }

    fn idle(&self) -> bool {
        self.gb.is_some_and(|g| g.is_zero()) && self.inter_az.unwrap_or_default().is_zero()
    }
}

/// Every NAT gateway's cost, split between its sources.
pub fn allocate(
    snapshot: &Snapshot,
    model: &CostModel,
    flows: Option<&Attribution>,
    options: &Options,
) -> Allocation {
    let fixed = options.fixed_costs;
    let traffic: HashMap<&str, &NatTraffic> = flows
        .iter()
        .flat_map(|f| &f.nats)
        .map(|t| (t.nat_gateway_id.as_str(), t))
        .collect();
    let mut out = Allocation {
        fixed_costs: fixed,
        team_tags: options.team_tags.clone(),
        ..Allocation::default()
    };
    let months = crate::price::model::months(model.window);
    for region in &snapshot.regions {
        let topo = Topology::new(region);
        let teams = teams::Teams::new(region, &options.team_tags);

        for nat in model.nats.iter().filter(|n| n.is_in(region)) {
            let sources = sources::of(
                &topo,
                nat,
                traffic.get(nat.nat_gateway_id.as_str()).copied(),
            );
            for w in sources.list.iter().filter(|w| {
                w.basis == Basis::EstimatedInsights && w.source.kind == SourceKind::Lambda
            }) {
                if !out.insights.contains(&w.source.name) {
                    out.insights.push(w.source.name.clone());
                }
            }
            let first = out.rows.len();
            let measured = (sources.basis == Basis::Measured)
                .then(|| traffic.get(nat.nat_gateway_id.as_str()).copied())
                .flatten();
            for &(month, end) in &months {
                let mut lines = nat
                    .lines
                    .iter()
                    .filter(|l| l.period_start == month)
                    .peekable();
                // Not there this month (created later, deleted earlier): nothing to allocate.
                if lines.peek().is_none() {
                    continue;
                }
                let charges = Charges::of(lines.map(|l| &l.charge));
                // The month's own flow logs, when they cover it: its sources, not the window's.
                let own = measured
                    .map(|t| t.sources_between(month, end))
                    .filter(|d| d.measures_period(charges.gb.and_then(|g| g.to_f64())))
                    .map(|d| sources::measured_by(&topo, nat, &d.sources));
                if own.is_some() {
                    out.months_measured
                        .insert((nat.nat_gateway_id.clone(), month));
                }
                let split_by = own.as_ref().unwrap_or(&sources);
                out.rows
                    .extend(rows(nat, (split_by, &teams), &charges, fixed, Some(month)));
            }
            out.window.extend(summed(&out.rows[first..]));
            if !nat.run_rate.is_empty() {
                let charges = Charges::of(nat.run_rate.iter());
                out.run_rate
                    .extend(rows(nat, (&sources, &teams), &charges, fixed, None));
            }
        }
    }
    out
}

/// One NAT gateway's rows of several months, summed per source (unknown stays unknown).
fn summed(rows: &[Row]) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    let mut index: HashMap<(&SourceRef, Basis), usize> = HashMap::new();
    for r in rows {
        let i = *index.entry((&r.source, r.basis)).or_insert_with(|| {
            out.push(Row {
                month: None,
                gb: Some(Decimal::ZERO),
                data_processing_usd: Some(Decimal::ZERO),
                fixed_share_usd: Decimal::ZERO,
                inter_az_usd: Some(Decimal::ZERO),
                ..r.clone()
            });
            out.len() - 1
        });
        let s = &mut out[i];
        let add = |a: Option<Decimal>, b: Option<Decimal>| a.zip(b).map(|(a, b)| a + b);
        s.gb = add(s.gb, r.gb);
        s.data_processing_usd = add(s.data_processing_usd, r.data_processing_usd);
        s.fixed_share_usd += r.fixed_share_usd;
        s.inter_az_usd = add(s.inter_az_usd, r.inter_az_usd);
    }
    out
}

/// One NAT gateway's rows for one month: its charges split between its sources, each with
/// its team.
fn rows(
    nat: &NatCost,
    (sources, teams): (&Sources, &teams::Teams),
    c: &Charges,
    fixed: FixedCosts,
    month: Option<DateTime<Utc>>,
) -> Vec<Row> {
    let row = |source: SourceRef, basis: Basis| Row {
        month,
        account_id: nat.account_id.clone(),
        region: nat.region.clone(),
        vpc_id: nat.vpc_id.clone(),
        nat_gateway_id: nat.nat_gateway_id.clone(),
        nat_name: nat.name.clone().unwrap_or_default(),
        team: teams.of(&source, &nat.nat_gateway_id),
        source,
        gb: Some(Decimal::ZERO),
        data_processing_usd: Some(Decimal::ZERO),
        fixed_share_usd: Decimal::ZERO,
        inter_az_usd: Some(Decimal::ZERO),
        basis,
    };
    if c.idle() {
        let mut idle = row(
            SourceRef {
                kind: SourceKind::Idle,
                id: "idle".into(),
                name: "no traffic: the NAT gateway's fixed cost".into(),
            },
            Basis::Measured,
        );
        idle.fixed_share_usd = c.fixed;
        idle.inter_az_usd = c.inter_az;
        return vec![idle];
    }
    let unattributed = [Weighted {
        source: SourceRef::unattributed("no known source behind the NAT gateway"),
        weight: 1.0,
        cross_az: 0.0,
        basis: sources.basis,
    }];
    let list: &[Weighted] = if sources.list.is_empty() {
        &unattributed
    } else {
        &sources.list
    };
    let weights: Vec<f64> = list.iter().map(|w| w.weight).collect();
    let cross: Vec<f64> = list.iter().map(|w| w.cross_az).collect();
    let cross = if cross.iter().sum::<f64>() > 0.0 {
        cross
    } else {
        weights.clone()
    };
    let parts = |total: Option<Decimal>, by: &[f64]| match total {
        Some(t) => split(t, by).into_iter().map(Some).collect(),
        None => vec![None; by.len()],
    };
    let gb = parts(c.gb, &weights);
    // Σ(GB part × price) = GB × price = the line's cost exactly, as the GB parts add up exactly.
    let data: Vec<Option<Decimal>> = match c.per_gb {
        Some(price) => gb.iter().map(|g| g.map(|g| g * price)).collect(),
        None => parts(c.data, &weights),
    };
    let inter_az = parts(c.inter_az, &cross);
    let fixed_parts = match fixed {
        FixedCosts::Proportional => split(c.fixed, &weights),
        FixedCosts::Separate => vec![Decimal::ZERO; weights.len()],
    };
    let mut out: Vec<Row> = list
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let mut r = row(w.source.clone(), w.basis);
            r.gb = gb[i];
            r.data_processing_usd = data[i];
            r.fixed_share_usd = fixed_parts[i];
            r.inter_az_usd = inter_az[i];
            r
        })
        .collect();
    if fixed == FixedCosts::Separate && !c.fixed.is_zero() {
        let mut shared = row(
            SourceRef {
                kind: SourceKind::Shared,
                id: "shared".into(),
                name: "NAT hours and public IPv4, kept apart".into(),
            },
            sources.basis,
        );
        shared.fixed_share_usd = c.fixed;
        out.push(shared);
    }
    out
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::fixture::{start, Fixture, GIB};
    use crate::price::{model, PriceBook};

    /// (source name, gb, data processing, fixed share, inter-AZ, cost, basis) per row.
    type Expect<'a> = (
        &'a str,
        Decimal,
        Decimal,
        Decimal,
        Decimal,
        Decimal,
        &'a str,
    );

    fn rows_of(f: &Fixture, flows: Option<&Attribution>, fixed: FixedCosts) -> Vec<Row> {
        let snap = f.snapshot();
        let m = model::price_with_flows(&snap, &PriceBook::bundled(), flows).unwrap();
        let out = allocate(
            &snap,
            &m,
            flows,
            &Options {
                fixed_costs: fixed,
                ..Options::default()
            },
        );
        // The rows of each NAT gateway add up to its cost lines exactly.
        for nat in &m.nats {
            let allocated: Decimal = out
                .rows
                .iter()
                .filter(|r| r.nat_gateway_id == nat.nat_gateway_id)
                .map(Row::known_cost)
                .sum();
            assert_eq!(allocated, nat.window_cost(), "{}", nat.nat_gateway_id);
        }
        // Each row's data processing is its GB × the per-GB price (0.059 in Seoul).
        for r in &out.rows {
            if let (Some(gb), Some(usd)) = (r.gb, r.data_processing_usd) {
                assert_eq!(gb * dec!(0.059), usd, "{r:?}");
            }
        }
        out.rows
    }

    fn check(rows: &[Row], want: &[Expect]) {
        let got: Vec<Expect> = rows
            .iter()
            .map(|r| {
                (
                    r.source.name.as_str(),
                    r.gb.unwrap(),
                    r.data_processing_usd.unwrap(),
                    r.fixed_share_usd,
                    r.inter_az_usd.unwrap(),
                    r.cost_usd().unwrap(),
                    r.basis.as_str(),
                )
            })
            .collect();
        assert_eq!(got, want);
    }

    /// Fixture::two_functions over 240 h: hours 240 × 0.059 = 14.16, public IPv4 240 × 0.005
    /// = 1.20, bytes 240 GB × 0.059 = 14.16, inter-AZ (half the clients cross, both directions
    /// counted) 240 GB × 0.01 = 2.40: 31.92 in all.
    fn two_functions() -> Fixture {
        Fixture::two_functions(crate::fixture::HOURS)
    }

    #[test]
    fn head_count_splits_bytes_and_fixed_cost_and_inter_az_goes_to_who_crosses() {
        let rows = rows_of(&two_functions(), None, FixedCosts::Proportional);
        let h = "estimated-headcount";
        check(
            &rows,
            &[
                (
                    "fn-a",
                    dec!(120),
                    dec!(7.08),
                    dec!(7.68),
                    dec!(0),
                    dec!(14.76),
                    h,
                ),
                (
                    "fn-c",
                    dec!(120),
                    dec!(7.08),
                    dec!(7.68),
                    dec!(2.40),
                    dec!(17.16),
                    h,
                ),
            ],
        );
        assert_eq!(rows[0].month, Some(start()));
        assert_eq!(rows[0].source.kind, SourceKind::Lambda);
        assert_eq!(
            rows[0].source.id,
            "arn:aws:lambda:ap-northeast-2:123456789012:function:fn-a"
        );
        let rows = rows_of(&two_functions(), None, FixedCosts::Separate);
        check(
            &rows,
            &[
                (
                    "fn-a",
                    dec!(120),
                    dec!(7.08),
                    dec!(0),
                    dec!(0),
                    dec!(7.08),
                    h,
                ),
                (
                    "fn-c",
                    dec!(120),
                    dec!(7.08),
                    dec!(0),
                    dec!(2.40),
                    dec!(9.48),
                    h,
                ),
                (
                    "NAT hours and public IPv4, kept apart",
                    dec!(0),
                    dec!(0),
                    dec!(15.36),
                    dec!(0),
                    dec!(15.36),
                    h,
                ),
            ],
        );
        assert_eq!(rows[2].source.kind, SourceKind::Shared);
    }

    #[test]
    fn flow_logs_measure_each_source() {
        // 8 days of logs: fn-a 60% and an ECS task 30% from 2a, fn-c 10% from 2c. Inter-AZ is
        // measured: 240 GiB × 0.1 × 2 = 48 GB × 0.01 = 0.48, all fn-c's.
        let mut f = two_functions();
        f.eni("s-a", "vpc-1");
        let flows = f.measured_flows();
        let rows = rows_of(&f, Some(&flows), FixedCosts::Proportional);
        let m = "measured";
        check(
            &rows,
            &[
                (
                    "fn-a",
                    dec!(144),
                    dec!(8.496),
                    dec!(9.216),
                    dec!(0),
                    dec!(17.712),
                    m,
                ),
                (
                    "network interface",
                    dec!(72),
                    dec!(4.248),
                    dec!(4.608),
                    dec!(0),
                    dec!(8.856),
                    m,
                ),
                (
                    "fn-c",
                    dec!(24),
                    dec!(1.416),
                    dec!(1.536),
                    dec!(0.48),
                    dec!(3.432),
                    m,
                ),
            ],
        );
        assert_eq!(rows[1].source.kind, SourceKind::Eni);
        assert_eq!(rows[1].source.id, "eni-s-a");
    }

    #[test]
    fn lambda_insights_bytes_split_the_nat_and_head_count_splits_the_rest() {
        // fn-a moved 72 GiB (30% of nat-a's 240): the other 70% is fn-c's by head count, the
        // only one left (and its row says so); fn-c sits in 2c, so the inter-AZ line is all its.
        let mut f = two_functions();
        f.r.lambda_functions[0].insights_bytes = Some(72.0 * GIB);
        let rows = rows_of(&f, None, FixedCosts::Proportional);
        let i = "estimated-insights";
        check(
            &rows,
            &[
                (
                    "fn-c",
                    dec!(168),
                    dec!(9.912),
                    dec!(10.752),
                    dec!(2.40),
                    dec!(23.064),
                    "estimated-headcount",
                ),
                (
                    "fn-a",
                    dec!(72),
                    dec!(4.248),
                    dec!(4.608),
                    dec!(0),
                    dec!(8.856),
                    i,
                ),
            ],
        );
        // More than the NAT gateway processed (Insights counts every byte): fn-a's share is
        // the whole, and nobody is left for the head count.
        f.r.lambda_functions[0].insights_bytes = Some(480.0 * GIB);
        let rows = rows_of(&f, None, FixedCosts::Proportional);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].gb, Some(dec!(240)));
        let snap = f.snapshot();
        let m = model::price(&snap, &PriceBook::bundled()).unwrap();
        assert_eq!(
            allocate(&snap, &m, None, &Options::default()).insights,
            ["fn-a"]
        );
    }

    #[test]
    fn teams_come_from_the_first_tag_a_source_has() {
        // fn-a: team=payments; fn-c: only cost-center=cc-7; the ECS task's interface has no
        // tag but its instance has team=data; a load balancer's interface has none, its ALB
        // has team=web; nat-idle (no traffic): team=platform.
        let mut f = two_functions();
        f.eni("s-a", "vpc-1")
            .eni("s-c", "vpc-1")
            .nat("nat-idle", "vpc-1", "ap-northeast-2a", 0.0);
        f.r.network_interfaces[0].instance_id = Some("i-1".into());
        f.r.network_interfaces[1].description = Some("ELB app/web/50dc6c495c0c9188".into());
        f.r.nat_gateways[1]
            .tags
            .insert("team".into(), "platform".into());
        let tag = |k: &str, v: &str| [(k.to_string(), v.to_string())].into_iter().collect();
        f.r.resource_tags = [
            (
                f.r.lambda_functions[0].function_arn.clone(),
                tag("team", "payments"),
            ),
            (
                f.r.lambda_functions[1].function_arn.clone(),
                tag("cost-center", "cc-7"),
            ),
            (
                "arn:aws:ec2:ap-northeast-2:123456789012:instance/i-1".to_string(),
                tag("team", "data"),
            ),
            (
                "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/web/50dc6c495c0c9188".to_string(),
                tag("team", "web"),
            ),
        ]
        .into_iter()
        .collect();
        let snap = f.snapshot();
        let m = model::price(&snap, &PriceBook::bundled()).unwrap();
        let options = Options {
            team_tags: vec!["team".into(), "cost-center".into()],
            ..Options::default()
        };
        let a = allocate(&snap, &m, None, &options);
        let teams: Vec<(&str, &str)> = a
            .rows
            .iter()
            .map(|r| (r.source.name.as_str(), r.team.as_str()))
            .collect();
        assert_eq!(
            teams,
            [
                ("fn-a", "payments"),
                ("fn-c", "cc-7"),
                ("network interface", "data"),
                ("ELB app/web/50dc6c495c0c9188", "web"),
                ("no traffic: the NAT gateway's fixed cost", "platform"),
            ]
        );
        // Per team, the rows add up; without a tag key no team is named.
        let by = by_team(&a.rows, true);
        assert_eq!(by.len(), 5);
        let all: Decimal = by.iter().map(|t| t.cost_usd.unwrap()).sum();
        assert_eq!(all, m.total_window_cost());
        let plain = allocate(&snap, &m, None, &Options::default());
        assert!(plain.rows.iter().all(|r| r.team.is_empty()));
        f.r.resource_tags.clear();
        let snap = f.snapshot();
        let a = allocate(&snap, &m, None, &options);
        assert_eq!(a.rows[0].team, UNTAGGED);
    }

    #[test]
    fn idle_and_unexplained_traffic_have_rows_of_their_own() {
        let mut f = Fixture::new();
        f.vpc("vpc-1")
            .subnet("s-a", "vpc-1", "ap-northeast-2a")
            .nat("nat-idle", "vpc-1", "ap-northeast-2a", 0.0)
            .nat("nat-orphan", "vpc-1", "ap-northeast-2a", 1.0);
        let rows = rows_of(&f, None, FixedCosts::Separate);
        let kinds: Vec<(&str, SourceKind)> = rows
            .iter()
            .map(|r| (r.nat_gateway_id.as_str(), r.source.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("nat-idle", SourceKind::Idle),
                ("nat-orphan", SourceKind::Unattributed),
                ("nat-orphan", SourceKind::Shared),
            ]
        );
        assert_eq!(rows[0].fixed_share_usd, dec!(15.36));
        assert_eq!(rows[0].basis, Basis::Measured);
        assert_eq!(rows[1].data_processing_usd, Some(dec!(14.16)));
    }

    #[test]
    fn unknown_bytes_stay_unknown_and_the_known_cost_is_still_split() {
        let mut f = two_functions();
        f.r.metrics.retain(|m| {
            !m.metric_name.starts_with("BytesIn") && m.metric_name != "BytesOutToSource"
        });
        let rows = rows_of(&f, None, FixedCosts::Proportional);
        assert_eq!(rows.len(), 2);
        for r in &rows {
            assert_eq!(
                (r.gb, r.data_processing_usd, r.inter_az_usd),
                (None, None, None)
            );
            assert_eq!(r.fixed_share_usd, dec!(7.68));
            assert_eq!(r.cost_usd(), None);
        }
        // Unknown is not zero in lambdas.csv either.
        let report =
            crate::report::Report::build(&f.snapshot(), &PriceBook::bundled(), "test", None)
                .unwrap();
        assert_eq!(report.lambdas[0].monthly_gb, None);
        assert_eq!(report.lambdas[0].monthly_cost, None);
        assert!(!report.top_sources(1)[0].complete);
    }

    #[test]
    fn the_run_rate_is_split_the_same_way() {
        let snap = two_functions().snapshot();
        let report =
            crate::report::Report::build(&snap, &PriceBook::bundled(), "test", None).unwrap();
        // fn-c: half of 730 GB × 0.059 = 21.535, half of 46.72 = 23.36, all of 7.30 inter-AZ.
        let fn_c = &report.lambdas[1];
        assert_eq!(fn_c.function_name, "fn-c");
        assert_eq!(fn_c.monthly_gb, Some(dec!(365)));
        assert_eq!(fn_c.monthly_cost, Some(dec!(52.195)));
        assert_eq!(fn_c.basis, Some(Basis::EstimatedHeadcount));
        let top = report.top_sources(10);
        let names: Vec<&str> = top.iter().map(|t| t.source.name.as_str()).collect();
        assert_eq!(names, ["fn-c", "fn-a"]);
        assert_eq!(top[1].monthly_cost, dec!(21.535) + dec!(23.36));
    }
}

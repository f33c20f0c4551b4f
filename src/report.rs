//! The report: a versioned data type holding everything a renderer shows.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Result;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::advise::plan::{self, Baseline};
use crate::advise::{self, Context, Plan, Scenario, Tier};
use crate::allocation::{self, Allocation};
use crate::fx::Fx;
use crate::price::model::{self, Component, Connectivity, CostModel, NatCost};
use crate::price::{Item, PriceBook};
use crate::snapshot::{Snapshot, Window};
use crate::topology::Topology;
use crate::traffic::Attribution;

pub const REPORT_VERSION: u32 = 3;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub report_version: u32,
    pub tool_version: String,
    /// What the report was made from: a snapshot file name, "sample", or "live".
    pub source: String,
    /// The account id, or "N-accounts".
    pub account_id: String,
    /// Per account: what it costs and what the plan saves there.
    pub accounts: Vec<AccountSummary>,
    pub regions: Vec<String>,
    pub window: Window,
    pub prices: PriceInfo,
    pub nats: Vec<NatCost>,
    /// Elastic IPs associated with nothing, with their monthly run-rate (in
    /// `total_monthly_run_rate`, not in the window's cost).
    pub idle_addresses: Vec<model::IdleAddress>,
    pub monthly_totals: Vec<MonthTotal>,
    pub total_window_cost: Decimal,
    pub total_monthly_run_rate: Decimal,
    /// Some line's usage is unknown (a byte metric not collected): the totals count only the
    /// known lines, so they are the least the NAT gateways cost.
    pub total_is_lower_bound: bool,
    /// The part of `total_window_cost` that is estimated, not measured (inter-AZ transfer
    /// estimated from who sits in each subnet).
    pub estimated_window_cost: Decimal,
    /// Do-now scenarios that can all be done together, chosen to save the most.
    pub plan: Plan,
    /// Scenarios that save money (or, measure-first, would be worth something), in the order
    /// a reader should take them: the plan's steps, other do-now, consider, measure-first
    /// (rank = index + 1).
    pub recommendations: Vec<Scenario>,
    /// Scenarios that were evaluated and do not save money.
    pub not_worth_it: Vec<Scenario>,
    pub lambdas: Vec<LambdaRow>,
    /// Every NAT-related dollar split between the sources behind each NAT gateway.
    pub allocation: Allocation,
    /// The change between the last two whole months, explained; None with fewer than two.
    pub changes: Option<crate::changes::Changes>,
    /// Days whose bytes jump above the NAT gateway's trailing median.
    pub anomalies: Vec<crate::changes::Anomaly>,
    pub links: Vec<Link>,
    pub egress: Vec<Egress>,
    pub assumptions: Vec<String>,
    pub warnings: Vec<String>,
    /// "region: what: why", for data the run could not read (the collector, flow logs, the
    /// bill): what makes the result partial.
    pub not_collected: Vec<String>,
    pub api_calls: BTreeMap<String, u64>,
    /// Name tags of NAT gateways, VPCs and subnets, for display.
    pub names: BTreeMap<String, String>,
    /// Who sends the bytes, from flow logs (when given).
    pub flows: Option<Attribution>,
    /// Per NAT gateway: CloudWatch processed bytes / flow-log outside-leg bytes in the window.
    pub flow_scale: BTreeMap<String, f64>,
    /// Flow logs configured in the account ("fl-… on vpc-… → s3 arn:…"), to find them.
    pub flow_log_configs: Vec<String>,
    /// A second currency shown beside USD (`--currency`, `--fx-rate`).
    pub fx: Option<Fx>,
    /// The model set against the bill (`--bill`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconcile: Option<crate::bill::Reconciliation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountSummary {
    pub account_id: String,
    pub name: Option<String>,
    /// Regions read in this account.
    pub regions: usize,
    pub nat_gateways: usize,
    pub window_cost: Decimal,
    pub monthly_run_rate: Decimal,
    /// What the plan's steps in this account save a month.
    pub plan_saving: Decimal,
    /// What could not be read in this account (the account itself, or a region or call).
    pub not_collected: usize,
}

/// Per account, in the snapshot's order.
fn account_summaries(
    snapshot: &Snapshot,
    model: &crate::price::model::CostModel,
    plan: &Plan,
    scenarios: &[Scenario],
) -> Vec<AccountSummary> {
    let mut out: Vec<AccountSummary> = snapshot
        .accounts
        .iter()
        .map(|a| AccountSummary {
            account_id: a.account_id.clone(),
            name: a.name.clone(),
            regions: 0,
            nat_gateways: 0,
            window_cost: Decimal::ZERO,
            monthly_run_rate: Decimal::ZERO,
            plan_saving: Decimal::ZERO,
            not_collected: a.not_collected.len(),
        })
        .collect();
    let index: HashMap<String, usize> = out
        .iter()
        .enumerate()
        .map(|(i, a)| (a.account_id.clone(), i))
        .collect();
    for r in &snapshot.regions {
        if let Some(&i) = index.get(&r.account_id) {
            out[i].regions += 1;
            out[i].not_collected += r.not_collected.len();
        }
    }
    for n in &model.nats {
        if let Some(&i) = index.get(&n.account_id) {
            out[i].nat_gateways += 1;
            out[i].window_cost += n.window_cost();
            out[i].monthly_run_rate += n.monthly();
        }
    }
    for a in &model.idle_addresses {
        if let Some(&i) = index.get(&a.account_id) {
            out[i].monthly_run_rate += a.monthly();
        }
    }
    for (_, s, saving) in plan.numbered_steps(scenarios) {
        if let Some(&i) = index.get(&s.account_id) {
            out[i].plan_saving += saving;
        }
    }
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct PriceInfo {
    /// Source and date, e.g. "bundled table of 2026-11-01" or "Pricing API of 2026-11-27".
    pub label: String,
    /// Usage types used here whose bundled price is not yet confirmed against the Price List.
    pub unconfirmed: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthTotal {
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub cost: Decimal,
    /// GB the NAT gateways processed in the period (NAT data processing quantity); None when
    /// some NAT gateway's byte metrics are missing.
    pub processed_gb: Option<Decimal>,
    /// The period does not cover its whole calendar month (the window starts or ends in it).
    pub partial: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LambdaRow {
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    pub vpc_id: Option<String>,
    pub subnet_ids: Vec<String>,
    pub availability_zones: Vec<String>,
    pub nat_gateway_ids: Vec<String>,
    pub cross_az: bool,
    /// The function's part of its NAT gateways' monthly run-rate (allocation), None when no NAT
    /// gateway serves it.
    pub monthly_gb: Option<Decimal>,
    pub monthly_cost: Option<Decimal>,
    /// The least certain basis of its NAT gateways' splits.
    pub basis: Option<allocation::Basis>,
}

/// Estimated traffic from a function (or the other network interfaces) to a NAT gateway.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub region: String,
    pub from: String,
    pub nat_gateway_id: String,
    pub share: f64,
    pub monthly_gb: Decimal,
    pub monthly_cost: Decimal,
}

/// Internet egress through a public NAT: paid whatever carries it, so the same under every
/// alternative; shown apart from the NAT's own cost.
#[derive(Debug, Clone, Serialize)]
pub struct Egress {
    pub region: String,
    pub nat_gateway_id: String,
    pub monthly_gb_upper_bound: Decimal,
    pub unit_price: Decimal,
    pub usage_type: String,
    pub monthly_cost_upper_bound: Decimal,
}

impl Report {
    /// The cost model as the bill is set against it.
    pub fn bill_model(&self) -> crate::bill::Model<'_> {
        crate::bill::Model {
            window: self.window,
            nats: &self.nats,
            accounts: self
                .accounts
                .iter()
                .map(|a| a.account_id.as_str())
                .collect(),
            regions: &self.regions,
        }
    }

    /// "account 123456789012", or "3 accounts".
    pub fn scope(&self) -> String {
        match self.accounts.len() {
            0 | 1 => format!("account {}", self.account_id),
            n => format!("{n} accounts"),
        }
    }

    /// " in ACCOUNT" after a scenario's resource when the report has several accounts.
    pub fn in_account(&self, s: &Scenario) -> String {
        if self.accounts.len() > 1 && !s.account_id.is_empty() {
            format!(" in {}", s.account_id)
        } else {
            String::new()
        }
    }

    /// A scenario's resources by name, and its account when there are several.
    pub fn scenario_label(&self, s: &Scenario) -> String {
        format!("{}{}", self.name_of(&s.resource_id), self.in_account(s))
    }

    /// The regions, each once (several accounts may share one).
    pub fn region_list(&self) -> String {
        let mut regions: Vec<&str> = self.regions.iter().map(String::as_str).collect();
        regions.sort_unstable();
        regions.dedup();
        regions.join(", ")
    }

    pub fn build(
        snapshot: &Snapshot,
        book: &PriceBook,
        source: &str,
        flows: Option<Attribution>,
    ) -> Result<Report> {
        Report::build_with(
            snapshot,
            book,
            source,
            flows,
            &allocation::Options::default(),
        )
    }

    /// The report, with the NAT gateways' costs allocated as `options` says.
    pub fn build_with(
        snapshot: &Snapshot,
        book: &PriceBook,
        source: &str,
        flows: Option<Attribution>,
        options: &allocation::Options,
    ) -> Result<Report> {
        let model = model::price_with_flows(snapshot, book, flows.as_ref())?;
        let Advice {
            plan,
            recommendations,
            not_worth_it,
            needs_data,
        } = advice(snapshot, book, &model, flows.as_ref())?;
        let mut warnings = model.warnings.clone();
        if !options.team_tags.is_empty()
            && snapshot.regions.iter().all(|r| r.resource_tags.is_empty())
        {
            warnings.push(
                "--allocate-by: the snapshot holds no tags of functions, interfaces or instances (collected without --tags or --allocate-by, or tag:GetResources denied): every source is (untagged) but a NAT gateway's own".into(),
            );
        }
        warnings.extend(needs_data);
        let flow_scale = flow_scale(&model, flows.as_ref());
        let allocation = allocation::allocate(snapshot, &model, flows.as_ref(), options);
        let changes = crate::changes::last_two_months(&model, &allocation);
        let anomalies = crate::changes::anomalies(snapshot, &model.nats, flows.as_ref());
        let lambdas = lambda_rows(snapshot, &allocation);
        let links = links(snapshot, &model, flows.as_ref());
        let egress = egress(snapshot.window, book, &model)?;
        let accounts = account_summaries(snapshot, &model, &plan, &recommendations);

        Ok(Report {
            report_version: REPORT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            source: source.to_string(),
            account_id: snapshot.accounts_label(),
            accounts,
            regions: regions(snapshot),
            window: snapshot.window,
            prices: price_info(book, &model),
            monthly_totals: month_totals(&model),
            total_window_cost: model.total_window_cost(),
            total_monthly_run_rate: model.total_monthly(),
            total_is_lower_bound: model.nats.iter().any(|n| {
                n.lines.iter().any(|l| l.charge.cost.is_none())
                    || n.run_rate.iter().any(|c| c.cost.is_none())
            }),
            estimated_window_cost: model
                .nats
                .iter()
                .flat_map(|n| &n.lines)
                .filter(|l| l.basis == model::Basis::Estimated)
                .filter_map(|l| l.charge.cost)
                .sum(),
            assumptions: assumptions(&model),
            warnings,
            nats: model.nats,
            idle_addresses: model.idle_addresses,
            plan,
            recommendations,
            not_worth_it,
            lambdas,
            allocation,
            changes,
            anomalies,
            links,
            egress,
            // What could not be read is the run's to say: the pipeline fills it in.
            not_collected: Vec::new(),
            api_calls: snapshot.api_calls.clone(),
            names: names(snapshot),
            flows,
            flow_scale,
            fx: None,
            reconcile: None,
            flow_log_configs: flow_log_configs(snapshot),
        })
    }

    /// The `n` costliest sources by monthly run-rate, over every NAT gateway each uses (idle
    /// NAT gateways and fixed costs kept apart are not sources; what no source explains is
    /// one per NAT gateway).
    pub fn top_sources(&self, n: usize) -> Vec<allocation::SourceTotal> {
        let mut out = self.allocation.run_rate_by_source();
        out.retain(|t| {
            !matches!(
                t.source.kind,
                crate::traffic::SourceKind::Idle | crate::traffic::SourceKind::Shared
            )
        });
        out.sort_by(|a, b| {
            b.monthly_cost
                .cmp(&a.monthly_cost)
                .then_with(|| a.source.cmp(&b.source))
        });
        out.truncate(n);
        out
    }

    /// Each team's monthly run-rate (`--allocate-by`), costliest first; empty without teams.
    pub fn team_totals(&self) -> Vec<allocation::TeamRow> {
        if self.allocation.team_tags.is_empty() {
            return Vec::new();
        }
        let mut merged = allocation::by_team(&self.allocation.run_rate, false);
        merged.sort_by(|a, b| {
            b.cost_usd
                .unwrap_or_default()
                .cmp(&a.cost_usd.unwrap_or_default())
                .then_with(|| a.team.cmp(&b.team))
        });
        merged
    }

    /// A resource's Name tag, or its id; lists joined with `;` are named one by one.
    pub fn name_of(&self, ids: &str) -> String {
        ids.split(';')
            .map(|id| self.names.get(id).map(String::as_str).unwrap_or(id))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// ` (974,722 KRW)` beside a USD amount when a second currency is asked for, else "".
    pub fn also(&self, usd: Decimal) -> String {
        self.fx
            .as_ref()
            .map(|fx| format!(" ({})", fx.show(usd)))
            .unwrap_or_default()
    }

    /// The names of `;`-joined resource ids, or "" when none of them has one.
    pub fn names_only(&self, ids: &str) -> String {
        if ids.split(';').any(|id| self.names.contains_key(id)) {
            self.name_of(ids)
        } else {
            String::new()
        }
    }
}

/// What the advisor found: the plan, and the scenarios split by whether they are worth it.
struct Advice {
    plan: Plan,
    recommendations: Vec<Scenario>,
    not_worth_it: Vec<Scenario>,
    /// One warning per missing thing, naming every scenario that needs it.
    needs_data: Vec<String>,
}

/// The scenarios on the cost model, the plan chosen among them, each list ranked.
fn advice(
    snapshot: &Snapshot,
    book: &PriceBook,
    model: &CostModel,
    flows: Option<&Attribution>,
) -> Result<Advice> {
    let mut scenarios = advise::advise(&Context::new(snapshot, book, model, flows))?;
    let plan = plan::choose(&mut scenarios, &Baseline::new(model));
    let needs_data = needs_data(&scenarios);
    let (mut recommendations, mut not_worth_it): (Vec<_>, Vec<_>) =
        scenarios.into_iter().partition(|s| match s.tier {
            Tier::MeasureFirst => s
                .sensitivity
                .as_ref()
                .is_some_and(|x| x.monthly_usd > Decimal::ZERO),
            // Worth nothing on top of the plan: the plan already does what it would.
            Tier::Consider if s.saving_after_plan.is_some_and(|x| x <= Decimal::ZERO) => false,
            // Done instead of steps, the plan would save less.
            Tier::Consider
                if s.instead_of
                    .as_ref()
                    .is_some_and(|x| x.plan_change < Decimal::ZERO) =>
            {
                false
            }
            _ => s.saving() > Decimal::ZERO || s.saving_up_to > Some(Decimal::ZERO),
        });
    advise::rank(&mut recommendations, &plan);
    advise::rank(&mut not_worth_it, &plan);
    Ok(Advice {
        plan,
        recommendations,
        not_worth_it,
        needs_data,
    })
}

/// One line per missing thing, naming every scenario that needs it.
fn needs_data(scenarios: &[Scenario]) -> Vec<String> {
    let mut needs: Vec<(String, Vec<&str>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for s in scenarios.iter().filter(|s| !s.missing_data.is_empty()) {
        let missing = s.missing_data.join(", ");
        match index.get(&missing) {
            Some(&i) => needs[i].1.push(&s.id),
            None => {
                index.insert(missing.clone(), needs.len());
                needs.push((missing, vec![&s.id]));
            }
        }
    }
    needs
        .into_iter()
        .map(|(missing, ids)| {
            format!(
                "{} {} needs-data: missing {missing}",
                ids.join(", "),
                if ids.len() == 1 { "is" } else { "are" }
            )
        })
        .collect()
}

/// Per NAT gateway the flow logs saw: CloudWatch processed bytes / flow-log outside-leg bytes.
fn flow_scale(model: &CostModel, flows: Option<&Attribution>) -> BTreeMap<String, f64> {
    let mut flow_scale = BTreeMap::new();
    for t in flows.iter().flat_map(|f| &f.nats) {
        let cw = model
            .nats
            .iter()
            .find(|n| n.nat_gateway_id == t.nat_gateway_id)
            .and_then(|n| n.processed_gb);
        if let (Some(gb), true) = (cw, t.destination_bytes > 0) {
            let bytes = rust_decimal::prelude::ToPrimitive::to_f64(&gb).unwrap_or(0.0)
                * model::BYTES_PER_GB as f64;
            flow_scale.insert(t.nat_gateway_id.clone(), bytes / t.destination_bytes as f64);
        }
    }
    flow_scale
}

/// Name tags of NAT gateways, VPCs and subnets, region by region.
fn names(snapshot: &Snapshot) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for region in &snapshot.regions {
        let tagged = region
            .nat_gateways
            .iter()
            .map(|n| (&n.nat_gateway_id, &n.tags))
            .chain(region.vpcs.iter().map(|v| (&v.vpc_id, &v.tags)))
            .chain(region.subnets.iter().map(|s| (&s.subnet_id, &s.tags)))
            .chain(
                region
                    .elastic_ips
                    .iter()
                    .map(|e| (&e.allocation_id, &e.tags)),
            );
        for (id, tags) in tagged {
            if let Some(name) = tags.get("Name") {
                names.insert(id.clone(), name.clone());
            }
        }
    }
    names
}

/// Every Lambda function, with its subnets' AZs, the NAT gateways it routes to and its part of
/// their run-rate.
fn lambda_rows(snapshot: &Snapshot, allocation: &Allocation) -> Vec<LambdaRow> {
    // Unknown bytes make the function's figures unknown, not smaller.
    let totals = allocation.run_rate_by_source();
    let run_rate: HashMap<(&str, &str, &str), &allocation::SourceTotal> = totals
        .iter()
        .filter(|t| t.source.kind == crate::traffic::SourceKind::Lambda)
        .map(|t| {
            (
                (
                    t.account_id.as_str(),
                    t.region.as_str(),
                    t.source.id.as_str(),
                ),
                t,
            )
        })
        .collect();
    let mut lambdas = Vec::new();
    for region in &snapshot.regions {
        let topo = Topology::new(region);
        for f in &region.lambda_functions {
            let mut azs: Vec<String> = f
                .subnet_ids()
                .iter()
                .filter_map(|s| topo.az_of(s).map(str::to_string))
                .collect();
            azs.sort();
            azs.dedup();
            let allocated = run_rate.get(&(
                region.account_id.as_str(),
                region.region.as_str(),
                f.function_arn.as_str(),
            ));
            lambdas.push(LambdaRow {
                account_id: region.account_id.clone(),
                region: region.region.clone(),
                function_name: f.function_name.clone(),
                vpc_id: topo.lambda_vpc(f).map(str::to_string),
                subnet_ids: f.subnet_ids().to_vec(),
                availability_zones: azs,
                nat_gateway_ids: topo
                    .lambda_nats(f)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                cross_az: topo.lambda_cross_az(f),
                monthly_gb: allocated.and_then(|a| a.gb_known.then_some(a.monthly_gb)),
                monthly_cost: allocated.and_then(|a| a.complete.then_some(a.monthly_cost)),
                basis: allocated.map(|a| a.basis),
            });
        }
    }
    lambdas
}

/// Who sends each NAT gateway's traffic: measured when flow logs saw its sources, else
/// estimated from who sits in the subnets routed to it.
fn links(snapshot: &Snapshot, model: &CostModel, flows: Option<&Attribution>) -> Vec<Link> {
    let mut links = Vec::new();
    for region in &snapshot.regions {
        let topo = Topology::new(region);
        for nat in model.nats.iter().filter(|n| n.is_in(region)) {
            match flows
                .and_then(|f| f.nat(&nat.nat_gateway_id))
                .filter(|t| t.source_bytes > 0)
            {
                Some(t) => links.extend(measured_links(nat, t)),
                None => links.extend(nat_links(&topo, nat)),
            }
        }
    }
    links
}

/// Internet egress a month through each public NAT gateway active at the window's end.
fn egress(window: Window, book: &PriceBook, model: &CostModel) -> Result<Vec<Egress>> {
    let mut egress = Vec::new();
    for nat in model
        .nats
        .iter()
        .filter(|n| n.connectivity_type == Connectivity::Public && n.active_at_end)
    {
        let price = book.get(&nat.region, Item::InternetEgressBytes)?;
        let gb = nat.monthly_egress_gb(&window);
        egress.push(Egress {
            region: nat.region.clone(),
            nat_gateway_id: nat.nat_gateway_id.clone(),
            monthly_gb_upper_bound: gb,
            unit_price: price.usd,
            usage_type: price.usage_type.clone(),
            monthly_cost_upper_bound: gb * price.usd,
        });
    }
    Ok(egress)
}

/// Each region once, in the order first collected (accounts share regions).
fn regions(snapshot: &Snapshot) -> Vec<String> {
    let mut seen = BTreeSet::new();
    snapshot
        .regions
        .iter()
        .filter(|r| seen.insert(r.region.as_str()))
        .map(|r| r.region.clone())
        .collect()
}

/// The flow logs configured in the account: "region: fl-… on vpc-… (traffic) → type destination".
fn flow_log_configs(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .regions
        .iter()
        .flat_map(|r| {
            r.flow_logs.iter().map(move |f| {
                format!(
                    "{}: {} on {} ({} traffic) → {} {}",
                    r.region,
                    f.flow_log_id,
                    f.resource_id,
                    f.traffic_type.as_deref().unwrap_or("?"),
                    f.log_destination_type.as_deref().unwrap_or("?"),
                    f.log_destination
                        .as_deref()
                        .or(f.log_group_name.as_deref())
                        .unwrap_or("")
                )
            })
        })
        .collect()
}

fn nat_links(topo: &Topology, nat: &NatCost) -> Vec<Link> {
    let shares = topo.subnet_shares(&nat.nat_gateway_id);
    let mut by_source: BTreeMap<String, f64> = BTreeMap::new();
    for (subnet, share) in &shares {
        // The same weights as Topology::subnet_shares: each function 1 over its subnets, each
        // other client interface 1.
        let functions = topo.lambdas_in_subnet(&subnet.subnet_id);
        let others = topo.other_clients_in(&subnet.subnet_id) as f64;
        let weights: f64 = functions
            .iter()
            .map(|f| 1.0 / f.subnet_ids().len() as f64)
            .sum::<f64>()
            + others;
        if weights == 0.0 {
            *by_source
                .entry(format!("other in {}", subnet.subnet_id))
                .or_default() += share;
            continue;
        }
        for f in functions {
            *by_source.entry(f.function_name.clone()).or_default() +=
                share * (1.0 / f.subnet_ids().len() as f64) / weights;
        }
        if others > 0.0 {
            let vpc = topo
                .region
                .vpcs
                .iter()
                .find(|v| v.vpc_id == subnet.vpc_id)
                .and_then(|v| v.tags.get("Name"))
                .unwrap_or(&subnet.vpc_id);
            *by_source.entry(format!("other ENIs in {vpc}")).or_default() +=
                share * others / weights;
        }
    }
    let gb = nat.monthly_gb();
    let cost = nat.monthly_of(Component::NatBytes);
    by_source
        .into_iter()
        .map(|(from, share)| {
            let d = Decimal::try_from(share).unwrap_or_default().round_dp(6);
            Link {
                region: nat.region.clone(),
                from,
                nat_gateway_id: nat.nat_gateway_id.clone(),
                share,
                monthly_gb: (gb * d).round_dp(9),
                monthly_cost: (cost * d).round_dp(9),
            }
        })
        .collect()
}

/// Links from the sources flow logs saw, their share applied to the NAT's monthly GB and cost.
fn measured_links(nat: &NatCost, t: &crate::traffic::NatTraffic) -> Vec<Link> {
    let gb = nat.monthly_gb();
    let cost = nat.monthly_of(Component::NatBytes);
    t.sources
        .iter()
        .map(|(from, bytes)| {
            let share = *bytes as f64 / t.source_bytes as f64;
            let d = Decimal::try_from(share).unwrap_or_default().round_dp(6);
            Link {
                region: nat.region.clone(),
                from: from.clone(),
                nat_gateway_id: nat.nat_gateway_id.clone(),
                share,
                monthly_gb: (gb * d).round_dp(9),
                monthly_cost: (cost * d).round_dp(9),
            }
        })
        .collect()
}

fn month_totals(model: &CostModel) -> Vec<MonthTotal> {
    let months = model::months(model.window);
    let index: HashMap<DateTime<Utc>, usize> = months
        .iter()
        .enumerate()
        .map(|(i, (ps, _))| (*ps, i))
        .collect();
    let mut cost = vec![Decimal::ZERO; months.len()];
    let mut gb = vec![Decimal::ZERO; months.len()];
    for l in model.nats.iter().flat_map(|n| &n.lines) {
        if let Some(&i) = index.get(&l.period_start) {
            // Unknown lines are left out; bytes_known (below) and the warnings say so.
            cost[i] += l.charge.cost.unwrap_or_default();
            if l.charge.component == Component::NatBytes {
                gb[i] += l.charge.quantity.unwrap_or_default();
            }
        }
    }
    let bytes_known = model.nats.iter().all(|n| n.processed_gb.is_some());
    months
        .into_iter()
        .enumerate()
        .map(|(i, (ps, pe))| MonthTotal {
            period_start: ps,
            period_end: pe,
            cost: cost[i],
            processed_gb: bytes_known.then_some(gb[i]),
            partial: !model::is_whole_month(ps, pe),
        })
        .collect()
}

fn price_info(book: &PriceBook, model: &CostModel) -> PriceInfo {
    let mut unconfirmed: Vec<String> = book
        .all()
        .filter(|p| !p.checked && model.nats.iter().any(|n| n.region == p.region))
        .map(|p| format!("{} = {} USD/{}", p.usage_type, p.usd, p.unit))
        .collect();
    unconfirmed.sort();
    PriceInfo {
        label: book.label(),
        unconfirmed,
    }
}

fn assumptions(model: &CostModel) -> Vec<String> {
    let mut a = vec![
        format!(
            "Window: {} to {} ({} hours); costs are split by calendar month (UTC).",
            model.window.start.format("%Y-%m-%d %H:%M"),
            model.window.end.format("%Y-%m-%d %H:%M UTC"),
            model.window.hours()
        ),
        "NAT hours: every clock hour in which the NAT gateway existed counts in full (AWS bills each started hour).".into(),
        "NAT data processed: BytesInFromSource + BytesInFromDestination (CloudWatch, Sum, 1 h); 1 GB = 2^30 bytes. Summing all four byte metrics would count each byte twice.".into(),
        "Public IPv4: each public address of a public NAT gateway, for the exact time the gateway existed.".into(),
        "Monthly run-rate: 730 hours for hourly charges; per-GB charges at the window's average rate. NAT gateways deleted before the end of the window have none.".into(),
        "Inter-AZ transfer (estimated): traffic between clients and the NAT (BytesInFromSource + BytesOutToSource) from subnets routed to a NAT gateway in another AZ, billed 0.01 USD/GB on each side of the AZ boundary (so quantity = 2 × GB). Without flow logs a subnet's share of the NAT's traffic is estimated from who lives there: each Lambda function counts 1, split over its subnets, and each other network interface 1. With flow logs it is each client subnet's share of the bytes the logs saw (basis measured when they cover 7 days or 25% of the window's bytes).".into(),
        "Internet egress is paid whatever carries it (NAT gateway, NAT instance, IPv6), so it is the same under every alternative and is shown apart; BytesOutToDestination is its upper bound (it also counts traffic to AWS services, and the monthly free tier is not deducted).".into(),
        "Scenarios marked needs-data (tier measure-first) depend on data natcost does not have (traffic by destination, which needs VPC flow logs, or a missing metric); they are stated as what they would be worth (per 10% of the NAT's traffic), never as a saving.".into(),
        "Cost allocation (allocation.csv, Top sources): each NAT gateway's data processing is split between its sources by their bytes, its inter-AZ transfer between the sources in subnets of another AZ, and its fixed cost (hours, public IPv4) by bytes too (--fixed-costs proportional) or on a `shared` row (--fixed-costs separate). The bytes are measured when flow logs cover the NAT gateway's traffic (7 days or 25% of its bytes; each month is split by the sources' shares over the whole span the logs cover); else, where Lambda Insights is on, each such function's rx_bytes + tx_bytes over the window (split over its subnets) is its share of the NAT gateway's processed bytes, scaled down when they add up to more (Insights counts every byte, through a NAT gateway or not), and the rest goes by head count (estimated-insights); else estimated from who sits in each subnet (estimated-headcount: each function 1 over its subnets, each other interface 1). A NAT gateway with no traffic in a month is one `idle` row.".into(),
        "The plan: low-risk (do-now) scenarios with no conflict between them, chosen to save the most; its saving is priced on the state after all its steps, so overlapping savings count once. Riskier (consider) scenarios show their saving on top of the plan.".into(),
    ];
    a.extend(advise::assumptions(model));
    if model.nats.iter().any(|n| n.processed_gb.is_none()) {
        a.push(
            "NAT gateways without byte metrics have an unknown data processing cost, not zero."
                .into(),
        );
    }
    a
}

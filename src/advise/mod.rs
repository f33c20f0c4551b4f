//! The advisor: each alternative is one module that looks at the priced snapshot and
//! returns scenarios (or none) computed on the same measured history.

mod centralized_egress;
mod consolidate_nat;
mod delete_idle_nat;
mod fix_cross_az_route;
mod gateway_endpoint;
mod interface_endpoint;
mod ipv6_egress;
mod lambda_out_of_vpc;
mod nat_instance;
pub mod plan;
mod regional_nat;
mod release_idle_address;

use std::collections::HashMap;

use anyhow::Result;
use rust_decimal::Decimal;
use serde::Serialize;

use plan::Phase;
pub use plan::{Changes, Effect, Plan};

use crate::price::model::{Component, CostModel, NatCost};
use crate::price::{Item, PriceBook};
use crate::snapshot::{NatGateway, RegionSnapshot, RouteTable, Snapshot};
use crate::topology::Topology;
use crate::traffic::{Attribution, NatTraffic};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// Computed from measured usage alone.
    Measured,
    /// Measured usage plus an estimate (traffic split, cross-AZ share).
    Estimated,
    /// Depends on data natcost does not have yet (traffic by destination, a missing metric).
    #[default]
    NeedsData,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Measured => "measured",
            Confidence::Estimated => "estimated",
            Confidence::NeedsData => "needs-data",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    Low,
    Medium,
    #[default]
    High,
}

/// How a team should treat a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// Measured or estimated, low risk: a candidate for the plan. Also a free, low-risk step
    /// whose saving is a range until measured (`saving_up_to`).
    DoNow,
    /// Medium or high risk: shown with its saving on top of the plan.
    Consider,
    /// Needs data natcost does not have: a sensitivity, never a saving.
    #[default]
    MeasureFirst,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::DoNow => "do-now",
            Tier::Consider => "consider",
            Tier::MeasureFirst => "measure-first",
        }
    }
    fn of(confidence: Confidence, risk: RiskLevel) -> Tier {
        match (confidence, risk) {
            (Confidence::NeedsData, _) => Tier::MeasureFirst,
            (_, RiskLevel::Low) => Tier::DoNow,
            _ => Tier::Consider,
        }
    }
}

/// What a measure-first scenario would be worth, stated per unit of what is not known yet.
#[derive(Debug, Clone, Serialize)]
pub struct Sensitivity {
    /// "each 10% of prod's NAT bytes that goes to S3"
    pub per: String,
    pub monthly_usd: Decimal,
    /// The cheapest way to find out.
    pub how_to_measure: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// The account of the scenario's VPC.
    pub account_id: String,
    /// `<alternative>:<resource_id>`, stable across runs (several resources joined by `+`).
    pub id: String,
    pub tier: Tier,
    pub alternative: &'static str,
    pub region: String,
    pub vpc_id: String,
    pub resource_id: String,
    pub monthly_before: Decimal,
    pub monthly_after: Decimal,
    pub confidence: Confidence,
    pub risk_level: RiskLevel,
    pub risk: String,
    /// AWS CLI commands, joined with ` && `, in the order to run them (with waits where AWS
    /// needs them): nothing but `aws …`, `VAR=$(aws …)` and `for V in $(aws …); do aws …; done`.
    pub action: String,
    /// Steps that need a human decision or a template, kept out of `action`.
    pub notes: Vec<String>,
    pub evidence: Vec<String>,
    /// What the action changes and relies on.
    pub changes: Changes,
    /// What the action does to today's monthly run-rate (the plan prices them together).
    #[serde(skip)]
    pub effects: Vec<Effect>,
    /// When the plan does it, among its steps.
    #[serde(skip)]
    phase: Phase,
    /// What its before and after cover: "one NAT", "the VPC's NATs", ...
    #[serde(skip)]
    pub scope: &'static str,
    /// Metrics this scenario needs that the snapshot lacks.
    pub missing_data: Vec<String>,
    /// Ids of the scenarios that cannot be done together with this one.
    pub conflicts_with: Vec<String>,
    pub in_plan: bool,
    /// For `consider` scenarios that conflict with no step: what they save on top of the
    /// plan's steps.
    pub saving_after_plan: Option<Decimal>,
    /// For scenarios that conflict with steps of the plan: doing them instead of those steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instead_of: Option<plan::InsteadOf>,
    /// For `measure-first` scenarios: what they would be worth, instead of a saving.
    pub sensitivity: Option<Sensitivity>,
    /// For a free step whose saving is not measured yet (a gateway endpoint without flow
    /// logs): the most it can save a month; `saving()` is the least (0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saving_up_to: Option<Decimal>,
    /// What it does to the run-rate at that most (the plan's upper bound prices them).
    #[serde(skip)]
    pub effects_up_to: Vec<Effect>,
}

impl Scenario {
    /// A scenario of `alternative` about `resource_id` (several joined by `;`): its id and tier
    /// follow from them, its phase and scope from the alternative.
    fn new(
        alternative: &dyn Alternative,
        region: &str,
        vpc_id: &str,
        resource_id: String,
        confidence: Confidence,
        risk_level: RiskLevel,
    ) -> Scenario {
        Scenario {
            account_id: String::new(),
            // Several resources join with '+' so that ids can be listed with ';'.
            id: format!("{}:{}", alternative.id(), resource_id.replace(';', "+")),
            tier: Tier::of(confidence, risk_level),
            alternative: alternative.id(),
            region: region.to_string(),
            vpc_id: vpc_id.to_string(),
            resource_id,
            monthly_before: Decimal::ZERO,
            monthly_after: Decimal::ZERO,
            confidence,
            risk_level,
            risk: String::new(),
            action: String::new(),
            notes: Vec::new(),
            evidence: Vec::new(),
            changes: Changes::default(),
            effects: Vec::new(),
            phase: alternative.phase(),
            scope: alternative.scope(),
            missing_data: Vec::new(),
            conflicts_with: Vec::new(),
            in_plan: false,
            saving_after_plan: None,
            instead_of: None,
            sensitivity: None,
            saving_up_to: None,
            effects_up_to: Vec::new(),
        }
    }

    pub fn saving(&self) -> Decimal {
        self.monthly_before - self.monthly_after
    }
    /// "medium: one NAT for every AZ"
    pub fn risk_text(&self) -> String {
        let level = match self.risk_level {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        };
        format!("{level}: {}", self.risk)
    }
}

/// What every alternative may look at.
pub struct Context<'a> {
    pub snapshot: &'a Snapshot,
    pub book: &'a PriceBook,
    pub model: &'a CostModel,
    /// Traffic attributed from flow logs, when given.
    pub flows: Option<&'a Attribution>,
    nat_gateways: HashMap<&'a str, &'a NatGateway>,
    /// The cost model's NAT gateways, by id.
    nat_costs: HashMap<&'a str, &'a NatCost>,
    /// The account × regions with NAT gateways and their topology, built once.
    topologies: Vec<(&'a RegionSnapshot, Topology<'a>)>,
    /// VPC → its NAT gateways still running at the end of the window, in model order.
    vpc_nats: HashMap<&'a str, Vec<&'a NatCost>>,
}

/// A VPC with NAT gateways still running at the end of the window.
struct VpcNats<'c, 'a> {
    region: &'a RegionSnapshot,
    topo: &'c Topology<'a>,
    vpc: &'a str,
    /// In model order.
    nats: Vec<&'a NatCost>,
}

/// What every [`Removal`] relies on, as the report's assumptions say it.
const REMOVAL_ASSUMPTION: &str = "Deleting a NAT gateway keeps its Elastic IP (still billed as an idle address): every action that deletes one waits until it is deleted and releases the address, and only then counts it as saved.";

/// What deleting a NAT gateway takes: the commands (delete, wait until it is gone, release its
/// Elastic IPs: deleting a NAT gateway keeps its addresses, still billed, and release-address
/// fails while it is deleting), the changes, and the effects on its hours and addresses.
pub struct Removal {
    pub commands: Vec<String>,
    pub changes: Changes,
    pub effects: Vec<Effect>,
    /// Public addresses that stay billed because natcost cannot name their allocation.
    pub kept_addresses: usize,
}

impl Removal {
    /// Adds this removal to a scenario that removes several NAT gateways.
    pub fn append_to(
        self,
        commands: &mut Vec<String>,
        changes: &mut Changes,
        effects: &mut Vec<Effect>,
    ) {
        commands.extend(self.commands);
        changes.nats_deleted.extend(self.changes.nats_deleted);
        changes
            .addresses_released
            .extend(self.changes.addresses_released);
        effects.extend(self.effects);
    }
}

/// Points the default route of every route table that sends it to `nat_id` at `target` (e.g.
/// `--nat-gateway-id nat-…`): the commands, recorded as routes changed.
pub fn reroute(topo: &Topology, nat_id: &str, target: &str, changes: &mut Changes) -> Vec<String> {
    reroute_by(topo, nat_id, |_| target.to_string(), changes)
}

/// [`reroute`] with a target chosen per route table (e.g. the NAT instance of its AZ).
pub fn reroute_by(
    topo: &Topology,
    nat_id: &str,
    target: impl Fn(&RouteTable) -> String,
    changes: &mut Changes,
) -> Vec<String> {
    let r = &topo.region.region;
    let mut commands = Vec::new();
    for rt in topo.tables_routing_to(nat_id) {
        commands.push(format!(
            "aws ec2 replace-route --region {r} --route-table-id {} --destination-cidr-block 0.0.0.0/0 {}",
            rt.route_table_id,
            target(rt)
        ));
        changes.routes_changed.push(plan::RouteChange::route(
            &rt.route_table_id,
            plan::RouteTo::DefaultIpv4,
        ));
    }
    commands
}

/// The AZ's letter(s) for shell variable names: `A` for ap-northeast-2a, `USE1_AZ4` for an
/// AZ id.
pub fn az_suffix(region: &str, az: &str) -> String {
    az.strip_prefix(region)
        .unwrap_or(az)
        .to_uppercase()
        .replace('-', "_")
}

/// How to fill in a metric the snapshot lacks.
pub fn recollect(region: &str) -> String {
    format!("collect the missing metrics again: natcost collect --region {region}")
}

impl<'a> Context<'a> {
    pub fn new(
        snapshot: &'a Snapshot,
        book: &'a PriceBook,
        model: &'a CostModel,
        flows: Option<&'a Attribution>,
    ) -> Context<'a> {
        let nat_gateways = snapshot
            .regions
            .iter()
            .flat_map(|r| &r.nat_gateways)
            .map(|n| (n.nat_gateway_id.as_str(), n))
            .collect();
        let topologies = snapshot
            .regions
            .iter()
            .filter(|r| !r.nat_gateways.is_empty())
            .map(|r| (r, Topology::new(r)))
            .collect();
        let nat_costs = model
            .nats
            .iter()
            .map(|n| (n.nat_gateway_id.as_str(), n))
            .collect();
        let mut vpc_nats: HashMap<&str, Vec<&NatCost>> = HashMap::new();
        for n in model.nats.iter().filter(|n| n.active_at_end) {
            vpc_nats.entry(n.vpc_id.as_str()).or_default().push(n);
        }
        Context {
            snapshot,
            book,
            model,
            flows,
            nat_gateways,
            nat_costs,
            topologies,
            vpc_nats,
        }
    }

    /// The snapshot's record of a NAT gateway, by id.
    pub fn nat_gateway(&self, id: &str) -> Option<&'a NatGateway> {
        self.nat_gateways.get(id).copied()
    }
    /// Allocation ids of a public NAT gateway's Elastic IPs.
    pub fn allocations(&self, nat: &NatCost) -> Vec<&'a str> {
        if nat.public_ips.is_empty() {
            return Vec::new();
        }
        self.nat_gateways
            .get(nat.nat_gateway_id.as_str())
            .into_iter()
            .flat_map(|n| &n.addresses)
            .filter(|a| a.public_ip.is_some())
            .filter_map(|a| a.allocation_id.as_deref())
            .collect()
    }

    /// Deleting a NAT gateway and releasing its addresses.
    pub fn removal(&self, nat: &NatCost) -> Removal {
        let r = &nat.region;
        let id = &nat.nat_gateway_id;
        let mut commands = vec![
            format!("aws ec2 delete-nat-gateway --region {r} --nat-gateway-id {id}"),
            format!("aws ec2 wait nat-gateway-deleted --region {r} --nat-gateway-ids {id}"),
        ];
        let mut changes = Changes {
            nats_deleted: vec![id.clone()],
            ..Default::default()
        };
        let allocations = self.allocations(nat);
        for a in &allocations {
            commands.push(format!(
                "aws ec2 release-address --region {r} --allocation-id {a}"
            ));
            changes.addresses_released.push(a.to_string());
        }
        let kept = nat.public_ips.len().saturating_sub(allocations.len());
        let mut effects = vec![Effect::drop(id, Component::NatHours)];
        if kept == 0 {
            effects.push(Effect::drop(id, Component::PublicIpv4));
        } else if !allocations.is_empty() {
            let line = nat.monthly_of(Component::PublicIpv4);
            let released = line * Decimal::from(allocations.len() as u64)
                / Decimal::from(nat.public_ips.len() as u64);
            effects.push(Effect::cut(id, Component::PublicIpv4, released));
        }
        Removal {
            commands,
            changes,
            effects,
            kept_addresses: kept,
        }
    }

    /// The account × regions with NAT gateways (the others have nothing to advise on, and
    /// need no price), with their topology.
    pub fn regions(&self) -> impl Iterator<Item = (&'a RegionSnapshot, &Topology<'a>)> {
        self.topologies.iter().map(|(r, t)| (*r, t))
    }
    /// Every VPC with NAT gateways still running at the end of the window: account × region
    /// as [`Context::regions`], then by VPC id.
    fn vpcs_with_nats(&self) -> impl Iterator<Item = VpcNats<'_, 'a>> + '_ {
        self.regions().flat_map(move |(region, topo)| {
            topo.vpcs_with_nats().into_iter().filter_map(move |vpc| {
                let nats = self.active_nats(&region.region, vpc);
                (!nats.is_empty()).then_some(VpcNats {
                    region,
                    topo,
                    vpc,
                    nats,
                })
            })
        })
    }
    /// NAT gateways still running at the end of the window, in one VPC.
    pub fn active_nats(&self, region: &str, vpc_id: &str) -> Vec<&'a NatCost> {
        self.vpc_nats
            .get(vpc_id)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .copied()
            .filter(|n| n.region == region)
            .collect()
    }
    /// Flow-log attribution for a NAT gateway, if any bytes of it were seen.
    pub fn traffic(&self, nat_id: &str) -> Option<&'a NatTraffic> {
        self.flows
            .and_then(|f| f.nat(nat_id))
            .filter(|t| t.destination_bytes > 0)
    }

    /// Each client subnet's share of a NAT gateway's traffic: measured by flow logs when they
    /// cover its traffic (a thinner sample does not replace the estimate), else estimated from
    /// who sits in each subnet.
    pub fn subnet_shares<'t>(
        &self,
        topo: &Topology<'t>,
        nat_id: &str,
    ) -> Vec<(&'t crate::snapshot::Subnet, f64)> {
        let covering = self.traffic(nat_id).filter(|t| {
            let gb = self
                .nat_costs
                .get(nat_id)
                .and_then(|n| n.processed_gb)
                .and_then(|g| rust_decimal::prelude::ToPrimitive::to_f64(&g));
            t.covers(gb)
        });
        match covering.and_then(|t| t.subnet_shares()) {
            Some(shares) => shares
                .into_iter()
                .filter_map(|(id, share)| topo.subnet(id).map(|s| (s, share)))
                .collect(),
            None => topo.subnet_shares(nat_id),
        }
    }

    pub fn price(&self, region: &str, item: Item) -> Result<Decimal> {
        self.book.usd(region, item)
    }
    pub fn window_text(&self) -> String {
        let w = self.snapshot.window;
        format!(
            "{} h ({} to {})",
            w.hours(),
            w.start.format("%Y-%m-%d %H:%M"),
            w.end.format("%Y-%m-%d %H:%M UTC")
        )
    }
}

/// One way to pay less for NAT gateways, and what the plan, the charts and the report need to
/// know about it.
trait Alternative {
    /// What its scenario ids start with: `delete-idle-nat`.
    fn id(&self) -> &'static str;
    /// When the plan does its scenarios, among its steps.
    fn phase(&self) -> Phase {
        Phase::Last
    }
    /// What a scenario's before and after cover (alternatives.png says it beside its bar).
    fn scope(&self) -> &'static str;
    /// What the report's assumptions say about it.
    fn assumptions(&self, _model: &CostModel) -> Vec<String> {
        Vec::new()
    }
    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>>;
}

fn all() -> Vec<Box<dyn Alternative>> {
    vec![
        Box::new(delete_idle_nat::DeleteIdleNat),
        Box::new(gateway_endpoint::GatewayEndpoint::S3),
        Box::new(gateway_endpoint::GatewayEndpoint::DYNAMODB),
        Box::new(interface_endpoint::InterfaceEndpoint),
        Box::new(lambda_out_of_vpc::LambdaOutOfVpc),
        Box::new(consolidate_nat::ConsolidateNat),
        Box::new(centralized_egress::CentralizedEgress),
        Box::new(nat_instance::NatInstance),
        Box::new(regional_nat::RegionalNat),
        Box::new(ipv6_egress::Ipv6EgressOnly),
        Box::new(fix_cross_az_route::FixCrossAzRoute),
        Box::new(release_idle_address::ReleaseIdleAddress),
    ]
}

/// Every scenario of every alternative, with its account, money rounded to cents once (so
/// every output shows the same cents), best saving first.
pub fn advise(ctx: &Context) -> Result<Vec<Scenario>> {
    let mut out = Vec::new();
    for alt in all() {
        out.extend(alt.evaluate(ctx)?);
    }
    // A scenario's VPC names its account: the account whose NAT gateways are in it (a shared
    // VPC is also listed by the accounts it is shared with, but its NAT gateways only by their
    // owner).
    let account_of: HashMap<&str, &str> = ctx
        .snapshot
        .regions
        .iter()
        .flat_map(|r| {
            r.nat_gateways
                .iter()
                .map(|n| (n.vpc_id.as_str(), r.account_id.as_str()))
        })
        .collect();
    for s in &mut out {
        if let Some(a) = account_of.get(s.vpc_id.as_str()) {
            s.account_id = a.to_string();
        } else if let [only] = ctx.snapshot.accounts.as_slice() {
            s.account_id = only.account_id.clone();
        }
        debug_assert!(
            s.tier == Tier::of(s.confidence, s.risk_level) || s.saving_up_to.is_some(),
            "{}",
            s.id
        );
        // An address a NAT gateway's deletion leaves: keeping the allocation is the alternative.
        if s.action.contains("aws ec2 release-address ") && !s.changes.nats_deleted.is_empty() {
            let month = Decimal::from(crate::price::model::HOURS_PER_MONTH)
                * ctx.price(&s.region, Item::PublicIpv4Hours)?;
            s.notes.push(format!(
                "release-address cannot be undone: the address goes back to AWS and cannot be recovered; if partners may allowlist it, leave that command out: the allocation stays yours (the NAT gateway's deletion disassociates it) at {}/month",
                usd(month)
            ));
        }
        s.monthly_before = crate::shown::round_shown(s.monthly_before, 2);
        s.monthly_after = crate::shown::round_shown(s.monthly_after, 2);
        s.saving_up_to = s.saving_up_to.map(|x| crate::shown::round_shown(x, 2));
        if let Some(sens) = &mut s.sensitivity {
            sens.monthly_usd = crate::shown::round_shown(sens.monthly_usd, 2);
        }
    }
    out.sort_by(|a, b| {
        b.saving()
            .cmp(&a.saving())
            .then_with(|| a.alternative.cmp(b.alternative))
            .then_with(|| a.resource_id.cmp(&b.resource_id))
    });
    Ok(out)
}

/// What the alternatives assume, each alternative's in turn.
pub fn assumptions(model: &CostModel) -> Vec<String> {
    all().iter().flat_map(|a| a.assumptions(model)).collect()
}

/// Orders scenarios for the reader: the plan's steps in plan order, other do-now scenarios,
/// then `consider` by their saving on top of the plan, then `measure-first` by what they
/// would be worth.
pub fn rank(scenarios: &mut [Scenario], plan: &Plan) {
    let steps: HashMap<&str, usize> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let step = |s: &Scenario| steps.get(s.id.as_str()).copied();
    let worth = |s: &Scenario| match s.tier {
        Tier::DoNow => s.saving_up_to.unwrap_or_else(|| s.saving()),
        Tier::Consider => s
            .saving_after_plan
            .or(s.instead_of.as_ref().map(|x| x.plan_change))
            .unwrap_or_else(|| s.saving()),
        Tier::MeasureFirst => s
            .sensitivity
            .as_ref()
            .map(|x| x.monthly_usd)
            .unwrap_or_default(),
    };
    scenarios.sort_by(|a, b| {
        let group = |s: &Scenario| match step(s) {
            Some(i) => (0, i),
            None => (1 + s.tier as usize, 0),
        };
        group(a)
            .cmp(&group(b))
            .then_with(|| worth(b).cmp(&worth(a)))
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// A measure-first scenario: no saving is claimed (after = before); what it would be worth is
/// stated as a sensitivity.
pub fn measure_first(s: &mut Scenario, per: String, worth: Decimal, how_to_measure: String) {
    s.confidence = Confidence::NeedsData;
    s.tier = Tier::of(s.confidence, s.risk_level);
    s.monthly_after = s.monthly_before;
    s.sensitivity = Some(Sensitivity {
        per,
        monthly_usd: worth,
        how_to_measure,
    });
}

/// A free, low-risk step whose saving is not measured yet: in the plan, saving at least 0 and
/// at most `up_to` a month, which `effects_up_to` do to the run-rate.
pub fn bounded(s: &mut Scenario, up_to: Decimal, effects_up_to: Vec<Effect>) {
    s.confidence = Confidence::NeedsData;
    s.tier = Tier::DoNow;
    s.monthly_after = s.monthly_before;
    s.effects = Vec::new();
    s.saving_up_to = Some(up_to);
    s.effects_up_to = effects_up_to;
}

/// Money for evidence text: two decimals, with USD.
pub fn usd(d: Decimal) -> String {
    format!("{} USD", crate::shown::money(d))
}

/// A quantity for evidence text: two decimals.
pub fn num(d: Decimal) -> String {
    crate::shown::fixed(d, 2)
}

fn sum<'a>(
    nats: impl IntoIterator<Item = &'a NatCost>,
    f: impl Fn(&NatCost) -> Decimal,
) -> Decimal {
    nats.into_iter().map(f).sum()
}

#[cfg(test)]
mod tests;

/// Flow-log fields the attribution reads: the default ones plus the original addresses and
/// the direction, so sources pair with their real destinations.
pub const FLOW_LOG_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction}";
/// Days of flow logs that cover a weekly cycle.
pub const MEASURE_DAYS: u32 = 7;
/// Bytes of one record in FLOW_LOG_FORMAT (about 140 for IPv4).
const RECORD_BYTES: f64 = 140.0;

/// The flow logs in the region that already capture every one of these NAT gateways (on its
/// VPC, subnet or interface; accepted or all traffic; to S3 or CloudWatch Logs), or None when
/// one of them has none.
fn existing_flow_logs<'r>(
    ctx: &Context,
    region: &'r RegionSnapshot,
    nats: &[&NatCost],
) -> Option<Vec<&'r crate::snapshot::FlowLog>> {
    let mut found: Vec<&crate::snapshot::FlowLog> = Vec::new();
    for n in nats {
        let gateway = ctx.nat_gateways.get(n.nat_gateway_id.as_str())?;
        let resources: Vec<&str> = gateway.flow_log_resources().collect();
        let log = region.flow_logs.iter().find(|f| {
            resources.contains(&f.resource_id.as_str())
                && f.captures_billed_traffic()
                && matches!(
                    f.log_destination_type.as_deref(),
                    Some("s3") | Some("cloud-watch-logs")
                )
        })?;
        if !found.iter().any(|f| f.flow_log_id == log.flow_log_id) {
            found.push(log);
        }
    }
    (!found.is_empty()).then_some(found)
}

/// The cheapest way to measure traffic by destination: the flow logs that already capture
/// these NAT gateways (`--flow-logs auto`), else flow logs on the NAT gateways' own
/// interfaces only, for a week, with what they would cost.
pub fn how_to_measure(ctx: &Context, region: &RegionSnapshot, nats: &[&NatCost]) -> String {
    let r = region.region.as_str();
    if let Some(logs) = existing_flow_logs(ctx, region, nats) {
        let named: Vec<String> = logs
            .iter()
            .map(|f| {
                format!(
                    "{} on {} ({} traffic, to {})",
                    f.flow_log_id,
                    f.resource_id,
                    f.traffic_type.as_deref().unwrap_or("?"),
                    f.log_destination_type.as_deref().unwrap_or("?")
                )
            })
            .collect();
        return format!(
            "flow logs already capture these NAT gateways: {}; read them with natcost report --flow-logs auto (no new logs, no wait; measured once they cover {MEASURE_DAYS} days or 25% of the window's bytes)",
            named.join(", ")
        );
    }
    let enis: Vec<&str> = nats
        .iter()
        .filter_map(|n| ctx.nat_gateways.get(n.nat_gateway_id.as_str()))
        .flat_map(|n| n.enis())
        .collect();
    let enis = if enis.is_empty() {
        "NAT-ENI-IDS".to_string()
    } else {
        enis.join(" ")
    };
    // Each connection shows as ~4 records (two legs, two directions) per 10-minute interval.
    let days = (ctx.snapshot.window.hours() as f64 / 24.0).max(1.0 / 24.0);
    let mut records_per_day = 0.0;
    let mut unknown = Vec::new();
    for n in nats {
        match (n.connection_attempts, n.max_active_connections) {
            (Some(c), Some(a)) => records_per_day += 4.0 * (c / days + a * 144.0),
            _ => unknown.push(n.nat_gateway_id.as_str()),
        }
    }
    let gb = records_per_day * RECORD_BYTES * MEASURE_DAYS as f64
        / crate::price::model::BYTES_PER_GB as f64;
    let cost = match ctx.book.get(r, Item::FlowLogS3Bytes) {
        _ if !unknown.is_empty() => format!(
            "cost unknown: no connection metrics for {}",
            unknown.join(", ")
        ),
        Ok(p) => {
            let gb_dec = Decimal::try_from(gb).unwrap_or_default().round_dp(3);
            format!(
                "about {gb_dec} GB of logs × {} USD/GB ({}) = {}, estimated from ConnectionAttemptCount and ActiveConnectionCount at ~4 records of {RECORD_BYTES} bytes per connection per 10 minutes",
                p.usd,
                p.usage_type,
                usd(gb_dec * p.usd)
            )
        }
        Err(_) => format!(
            "about {gb:.3} GB of logs; no S3-Egress-Bytes (vended logs) price for {r} in the price book"
        ),
    };
    format!(
        "flow logs on the NAT gateways' interfaces only, for {MEASURE_DAYS} days: aws ec2 create-flow-logs --region {r} --resource-type NetworkInterface --resource-ids {enis} --traffic-type ALL --log-destination-type s3 --log-destination arn:aws:s3:::BUCKET/natcost/ --max-aggregation-interval 600 --log-format '{FLOW_LOG_FORMAT}'; then run natcost report --flow-logs s3://BUCKET/natcost/ (or --flow-logs auto); stop them with aws ec2 delete-flow-logs --region {r} --flow-log-ids FLOW-LOG-IDS; {cost}"
    )
}

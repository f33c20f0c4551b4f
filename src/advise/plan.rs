//! The plan: do-now scenarios that can all be done together, chosen to save the most and
//! priced on the state after all of them, so that overlapping savings count once.
//!
//! Each scenario declares what it changes and what it relies on (`Changes`), and what it does
//! to today's monthly run-rate (`Effect`s on the cost model's lines). Two scenarios conflict when
//! they change the same thing, or one changes what the other relies on.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::Decimal;
use serde::Serialize;

use super::{Scenario, Tier};
use crate::price::model::{Component, CostModel, NatCost};

/// What a scenario changes in the account, and what it needs to stay as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    pub nats_deleted: Vec<String>,
    pub nats_added: Vec<String>,
    /// Routes whose target is set, and subnets moved to another route table.
    pub routes_changed: Vec<RouteChange>,
    /// `vpc-… s3`
    pub endpoints_added: Vec<String>,
    pub functions_moved: Vec<String>,
    pub addresses_released: Vec<String>,
    /// Things that must stay as they are.
    pub relies_on: Vec<Key>,
}

/// One thing a scenario changes or relies on: two scenarios conflict when one changes what the
/// other changes or relies on. Typed, so that a misspelt kind cannot silently mean "no
/// conflict". Shown (and serialised) as `kind:name`, e.g. `nat:nat-0a1`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// A NAT gateway deleted (or kept as the one others move to).
    Nat(String),
    /// A NAT gateway (or NAT instance) added.
    NewNat(String),
    /// One route of a route table, or one subnet's association.
    Route(RouteChange),
    Endpoint(String),
    Function(String),
    Address(String),
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Nat(x) => write!(f, "nat:{x}"),
            Key::NewNat(x) => write!(f, "new:{x}"),
            Key::Route(x) => write!(f, "route:{x}"),
            Key::Endpoint(x) => write!(f, "endpoint:{x}"),
            Key::Function(x) => write!(f, "function:{x}"),
            Key::Address(x) => write!(f, "address:{x}"),
        }
    }
}

/// A change to routing that only one step may make: a route of a table has one target, a subnet
/// one route table. Two gateway endpoints in one table are two routes (each its own prefix
/// list), so they do not conflict. Shown (and serialised) as `rtb-… 0.0.0.0/0`,
/// `rtb-… s3 prefix list`, `subnet-… association`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteChange {
    /// The route of `table` to `to`: added, or its target replaced.
    Route { table: String, to: RouteTo },
    /// The route table `subnet` is associated with.
    Association { subnet: String },
}

/// Where a route goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteTo {
    /// 0.0.0.0/0
    DefaultIpv4,
    /// ::/0
    DefaultIpv6,
    /// The prefix list of a gateway endpoint's service.
    Gateway(GatewayService),
}

/// The services with gateway endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GatewayService {
    S3,
    DynamoDb,
}

impl GatewayService {
    /// The service's part of `com.amazonaws.<region>.<service>`.
    pub fn name(self) -> &'static str {
        match self {
            GatewayService::S3 => "s3",
            GatewayService::DynamoDb => "dynamodb",
        }
    }
}

impl RouteChange {
    pub fn route(table: &str, to: RouteTo) -> RouteChange {
        RouteChange::Route {
            table: table.to_string(),
            to,
        }
    }
    pub fn association(subnet: &str) -> RouteChange {
        RouteChange::Association {
            subnet: subnet.to_string(),
        }
    }
}

impl std::fmt::Display for RouteChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RouteChange::Route { table, to } => match to {
                RouteTo::DefaultIpv4 => write!(f, "{table} 0.0.0.0/0"),
                RouteTo::DefaultIpv6 => write!(f, "{table} ::/0"),
                RouteTo::Gateway(s) => write!(f, "{table} {} prefix list", s.name()),
            },
            RouteChange::Association { subnet } => write!(f, "{subnet} association"),
        }
    }
}

impl Serialize for RouteChange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Changes {
    /// Every change as a key comparable with `relies_on`.
    pub fn keys(&self) -> BTreeSet<Key> {
        type Kind<'a> = (fn(String) -> Key, &'a Vec<String>);
        let kinds: [Kind; 5] = [
            (Key::Nat, &self.nats_deleted),
            (Key::NewNat, &self.nats_added),
            (Key::Endpoint, &self.endpoints_added),
            (Key::Function, &self.functions_moved),
            (Key::Address, &self.addresses_released),
        ];
        kinds
            .iter()
            .flat_map(|(key, v)| v.iter().map(move |x| key(x.clone())))
            .chain(self.routes_changed.iter().cloned().map(Key::Route))
            .collect()
    }

    /// The pairwise rule `conflict_lists` applies through its key index, for tests.
    #[cfg(test)]
    pub fn conflicts(&self, other: &Changes) -> bool {
        let (a, b) = (self.keys(), other.keys());
        !a.is_disjoint(&b)
            || other.relies_on.iter().any(|k| a.contains(k))
            || self.relies_on.iter().any(|k| b.contains(k))
    }
}

/// The order the plan's steps are done in: take idle NATs away, add the free gateway endpoints,
/// fix routes (a new route table joins the endpoints its old table has by then), then add
/// interface endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Phase {
    DeleteIdle,
    GatewayEndpoints,
    FixRoutes,
    InterfaceEndpoints,
    /// Alternatives whose steps need no place of their own.
    Last,
}

/// What a scenario does to the monthly run-rate.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A NAT gateway's line goes entirely (its hours, its data processing, its address).
    Drop { nat: String, component: Component },
    /// Part of a NAT gateway's line goes: traffic that no longer passes through it.
    Cut {
        nat: String,
        component: Component,
        usd: Decimal,
    },
    /// A new monthly cost. The same key counts once however many scenarios add it.
    Add { key: String, usd: Decimal },
}

impl Effect {
    pub fn drop(nat: &str, component: Component) -> Effect {
        Effect::Drop {
            nat: nat.to_string(),
            component,
        }
    }
    pub fn cut(nat: &str, component: Component, usd: Decimal) -> Effect {
        Effect::Cut {
            nat: nat.to_string(),
            component,
            usd,
        }
    }
    pub fn add(key: impl Into<String>, usd: Decimal) -> Effect {
        Effect::Add {
            key: key.into(),
            usd,
        }
    }
}

/// Today's monthly run-rate, line by line: the state every saving is measured against.
pub struct Baseline {
    lines: HashMap<(String, Component), Decimal>,
    pub total: Decimal,
}

impl Baseline {
    /// Every NAT gateway's run-rate, and every idle address's (keyed by its allocation id).
    pub fn new(model: &CostModel) -> Baseline {
        let mut b = Baseline::of(&model.nats);
        for a in &model.idle_addresses {
            let cost = a.monthly();
            *b.lines
                .entry((a.allocation_id.clone(), Component::PublicIpv4))
                .or_insert(Decimal::ZERO) += cost;
            b.total += cost;
        }
        b
    }

    /// The run-rate of some NAT gateways only: what one scenario's before and after are about.
    pub fn of<'n>(nats: impl IntoIterator<Item = &'n NatCost>) -> Baseline {
        let mut lines = HashMap::new();
        let mut total = Decimal::ZERO;
        for n in nats {
            // A line of unknown usage has no known cost to save.
            for c in &n.run_rate {
                let Some(cost) = c.cost else { continue };
                *lines
                    .entry((n.nat_gateway_id.clone(), c.component))
                    .or_insert(Decimal::ZERO) += cost;
                total += cost;
            }
        }
        Baseline { lines, total }
    }

    /// A baseline from (NAT gateway, component, USD/month) lines.
    #[cfg(test)]
    pub fn from_lines(lines: impl IntoIterator<Item = (String, Component, Decimal)>) -> Baseline {
        let mut map = HashMap::new();
        let mut total = Decimal::ZERO;
        for (n, c, v) in lines {
            *map.entry((n, c)).or_insert(Decimal::ZERO) += v;
            total += v;
        }
        Baseline { lines: map, total }
    }

    /// The run-rate left after these effects.
    pub fn after<'e>(&self, effects: impl IntoIterator<Item = &'e Effect>) -> Decimal {
        self.total - self.saving(effects)
    }

    /// What doing all these effects together saves a month. A line dropped by one effect and
    /// cut by another is saved once; cuts never take a line below zero.
    pub fn saving<'e>(&self, effects: impl IntoIterator<Item = &'e Effect>) -> Decimal {
        let mut touched: HashMap<(&str, Component), (bool, Decimal)> = HashMap::new();
        let mut added: BTreeMap<&str, Decimal> = BTreeMap::new();
        for e in effects {
            match e {
                Effect::Drop { nat, component } => {
                    touched.entry((nat, *component)).or_default().0 = true;
                }
                Effect::Cut {
                    nat,
                    component,
                    usd,
                } => touched.entry((nat, *component)).or_default().1 += *usd,
                Effect::Add { key, usd } => {
                    let v = added.entry(key).or_insert(*usd);
                    *v = (*v).max(*usd);
                }
            }
        }
        let saved: Decimal = touched
            .into_iter()
            .map(|((nat, c), (dropped, cut))| {
                let line = self
                    .lines
                    .get(&(nat.to_string(), c))
                    .copied()
                    .unwrap_or_default();
                if dropped {
                    line
                } else {
                    cut.min(line).max(Decimal::ZERO)
                }
            })
            .sum();
        saved - added.values().copied().sum::<Decimal>()
    }
}

/// The plan a team can act on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// Scenario ids, in the order to do them.
    pub steps: Vec<String>,
    /// What each step saves on top of the steps before it (adds up to `monthly_saving`).
    pub step_savings: Vec<Decimal>,
    /// Today's monthly run-rate of every NAT gateway in the report and of its idle Elastic IPs.
    pub monthly_before: Decimal,
    pub monthly_after: Decimal,
    /// The least the steps save together: steps whose saving is a range count at their least.
    pub monthly_saving: Decimal,
    /// With steps whose saving is a range: the most the steps save together (each range at
    /// its most, overlaps counted once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_saving_up_to: Option<Decimal>,
}

impl Plan {
    /// Each step numbered from 1, with its scenario (found in `scenarios`) and what it saves
    /// on top of the steps before it.
    pub fn numbered_steps<'a>(
        &self,
        scenarios: &'a [Scenario],
    ) -> Vec<(usize, &'a Scenario, Decimal)> {
        let by_id: HashMap<&str, &Scenario> =
            scenarios.iter().map(|s| (s.id.as_str(), s)).collect();
        self.steps
            .iter()
            .zip(&self.step_savings)
            .enumerate()
            .filter_map(|(i, (id, saving))| Some((i + 1, *by_id.get(id.as_str())?, *saving)))
            .collect()
    }
}

/// A scenario that conflicts with steps of the plan, done instead of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InsteadOf {
    /// The plan's steps it cannot be done with, numbered from 1.
    pub steps: Vec<usize>,
    /// What those steps save in the plan (their step savings, added).
    pub steps_saving: Decimal,
    /// How the plan's saving changes when the scenario replaces them: negative when the plan
    /// would save less.
    pub plan_change: Decimal,
}

/// Above this many do-now scenarios tied together by conflicts, the best set is found greedily.
const EXACT_LIMIT: usize = 16;

/// Fills `conflicts_with`, `in_plan` and `saving_after_plan` of every scenario and returns the
/// plan: the conflict-free set of do-now scenarios that saves the most.
pub fn choose(scenarios: &mut [Scenario], baseline: &Baseline) -> Plan {
    let conflicts = conflict_lists(scenarios);
    let ids: Vec<String> = scenarios.iter().map(|s| s.id.clone()).collect();
    for (s, c) in scenarios.iter_mut().zip(&conflicts) {
        let mut names: Vec<String> = c.iter().map(|&j| ids[j].clone()).collect();
        names.sort();
        s.conflicts_with = names;
    }

    let candidate: Vec<bool> = scenarios
        .iter()
        .map(|s| s.tier == Tier::DoNow && s.saving() > Decimal::ZERO)
        .collect();
    let mut chosen: Vec<usize> = Vec::new();
    for component in components(&candidate, &conflicts) {
        chosen.extend(best_set(&component, scenarios, &conflicts, baseline));
    }
    // Free steps whose saving is a range (at least 0) join every plan they do not conflict with.
    let mut ranges: Vec<usize> = (0..scenarios.len())
        .filter(|&i| {
            let s = &scenarios[i];
            s.tier == Tier::DoNow && s.saving_up_to.is_some_and(|x| x > Decimal::ZERO)
        })
        .collect();
    ranges.sort_by(|&a, &b| {
        let up_to = |i: usize| scenarios[i].saving_up_to.unwrap_or_default();
        up_to(b)
            .cmp(&up_to(a))
            .then_with(|| scenarios[a].id.cmp(&scenarios[b].id))
    });
    for i in ranges {
        if chosen.iter().all(|c| !conflicts[i].contains(c)) {
            chosen.push(i);
        }
    }
    chosen.sort_by(|&a, &b| {
        let (x, y) = (&scenarios[a], &scenarios[b]);
        x.phase
            .cmp(&y.phase)
            .then_with(|| y.saving().cmp(&x.saving()))
            .then_with(|| y.saving_up_to.cmp(&x.saving_up_to))
            .then_with(|| x.id.cmp(&y.id))
    });

    let scenarios_effects: Vec<Vec<Effect>> = chosen
        .iter()
        .map(|&i| scenarios[i].effects.clone())
        .collect();
    let before = crate::shown::round_shown(baseline.total, 2);
    let mut effects: Vec<Effect> = Vec::new();
    let mut step_savings = Vec::new();
    let mut after = before;
    for &i in &chosen {
        effects.extend(scenarios[i].effects.iter().cloned());
        let now = crate::shown::round_shown(baseline.after(&effects), 2);
        step_savings.push(after - now);
        after = now;
    }
    let plan_saving = baseline.saving(&effects);
    let up_to = chosen
        .iter()
        .any(|&i| scenarios[i].saving_up_to.is_some())
        .then(|| {
            let most = chosen.iter().flat_map(|&i| {
                scenarios[i]
                    .effects
                    .iter()
                    .chain(&scenarios[i].effects_up_to)
            });
            before - crate::shown::round_shown(baseline.after(most), 2)
        });
    let in_plan: BTreeSet<usize> = chosen.iter().copied().collect();
    for (i, s) in scenarios.iter_mut().enumerate() {
        s.in_plan = in_plan.contains(&i);
        if s.in_plan || s.tier == Tier::MeasureFirst {
            continue;
        }
        let replaced: Vec<usize> = (0..chosen.len())
            .filter(|&n| conflicts[i].contains(&chosen[n]))
            .collect();
        if !replaced.is_empty() {
            let kept: Vec<&Effect> = (0..chosen.len())
                .filter(|n| !replaced.contains(n))
                .flat_map(|n| &scenarios_effects[n])
                .collect();
            // Its own (rounded) saving less the steps' (rounded) savings, so that the figures
            // shown add up, plus what it and the kept steps share (priced together).
            let kept_saving = baseline.saving(kept.iter().copied());
            let with = baseline.saving(kept.iter().copied().chain(&s.effects));
            let shared = with - kept_saving - baseline.saving(&s.effects);
            let steps_saving: Decimal = replaced.iter().map(|&n| step_savings[n]).sum();
            s.instead_of = Some(InsteadOf {
                steps: replaced.iter().map(|n| n + 1).collect(),
                steps_saving,
                plan_change: s.saving() - steps_saving + crate::shown::round_shown(shared, 2),
            });
        } else if s.tier == Tier::Consider {
            // The part of its saving the plan already takes, subtracted from its own (rounded)
            // saving, so a scenario the plan does not touch shows the same cents everywhere.
            let with = baseline.saving(effects.iter().chain(&s.effects));
            let overlap = baseline.saving(&s.effects) + plan_saving - with;
            s.saving_after_plan = Some(s.saving() - crate::shown::round_shown(overlap, 2));
        }
    }
    Plan {
        steps: chosen.iter().map(|&i| scenarios[i].id.clone()).collect(),
        step_savings,
        monthly_before: before,
        monthly_after: after,
        monthly_saving: before - after,
        monthly_saving_up_to: up_to,
    }
}

/// For each scenario, the indices of the scenarios it conflicts with, found through an index of
/// the keys each one changes and relies on (no pairwise scan).
fn conflict_lists(scenarios: &[Scenario]) -> Vec<BTreeSet<usize>> {
    let keys: Vec<BTreeSet<Key>> = scenarios.iter().map(|s| s.changes.keys()).collect();
    let mut changers: HashMap<&Key, Vec<usize>> = HashMap::new();
    let mut reliers: HashMap<&Key, Vec<usize>> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        for key in k {
            changers.entry(key).or_default().push(i);
        }
        for key in &scenarios[i].changes.relies_on {
            reliers.entry(key).or_default().push(i);
        }
    }
    let mut out = vec![BTreeSet::new(); scenarios.len()];
    for (i, k) in keys.iter().enumerate() {
        for key in k {
            let others = changers.get(key).into_iter().flatten();
            let relying = reliers.get(key).into_iter().flatten();
            for &j in others.chain(relying) {
                if j != i {
                    out[i].insert(j);
                    out[j].insert(i);
                }
            }
        }
    }
    out
}

/// Groups of candidates tied together by conflicts; each group is chosen on its own.
fn components(candidate: &[bool], conflicts: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    let mut seen = vec![false; candidate.len()];
    let mut out = Vec::new();
    for start in 0..candidate.len() {
        if !candidate[start] || seen[start] {
            continue;
        }
        let mut group = Vec::new();
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(i) = stack.pop() {
            group.push(i);
            for &j in &conflicts[i] {
                if candidate[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        group.sort_unstable();
        out.push(group);
    }
    out
}

/// The conflict-free subset of a group that saves the most: exact for small groups (branch and
/// bound: a set saves at most the sum of its members' savings), greedy by marginal saving above.
fn best_set(
    group: &[usize],
    scenarios: &[Scenario],
    conflicts: &[BTreeSet<usize>],
    baseline: &Baseline,
) -> Vec<usize> {
    let value = |set: &[usize]| baseline.saving(set.iter().flat_map(|&i| &scenarios[i].effects));
    let mut order = group.to_vec();
    order.sort_by(|&a, &b| scenarios[b].saving().cmp(&scenarios[a].saving()));
    if group.len() > EXACT_LIMIT {
        let mut chosen: Vec<usize> = Vec::new();
        loop {
            let base = value(&chosen);
            let next = order
                .iter()
                .filter(|&&i| !chosen.contains(&i))
                .filter(|&&i| chosen.iter().all(|c| !conflicts[i].contains(c)))
                .map(|&i| {
                    let mut with = chosen.clone();
                    with.push(i);
                    (value(&with) - base, i)
                })
                .filter(|(gain, _)| *gain > Decimal::ZERO)
                .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)));
            match next {
                Some((_, i)) => chosen.push(i),
                None => return chosen,
            }
        }
    }
    let upper: Vec<Decimal> = order
        .iter()
        .map(|&i| scenarios[i].saving().max(Decimal::ZERO))
        .collect();
    let mut best = (Decimal::ZERO, Vec::new());
    let mut current = Vec::new();
    search(
        0,
        &order,
        &upper,
        conflicts,
        &mut current,
        &value,
        &mut best,
    );
    best.1
}

fn search(
    at: usize,
    order: &[usize],
    upper: &[Decimal],
    conflicts: &[BTreeSet<usize>],
    current: &mut Vec<usize>,
    value: &dyn Fn(&[usize]) -> Decimal,
    best: &mut (Decimal, Vec<usize>),
) {
    let here = value(current);
    if here > best.0 {
        *best = (here, current.clone());
    }
    if at == order.len() || here + upper[at..].iter().copied().sum::<Decimal>() <= best.0 {
        return;
    }
    let i = order[at];
    if current.iter().all(|c| !conflicts[i].contains(c)) {
        current.push(i);
        search(at + 1, order, upper, conflicts, current, value, best);
        current.pop();
    }
    search(at + 1, order, upper, conflicts, current, value, best);
}

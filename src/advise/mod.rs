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

use anyhow::Result;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::flows::{Attribution, NatTraffic};
use crate::price::model::{CostModel, NatCost};
use crate::price::{Item, PriceBook};
use crate::snapshot::{RegionSnapshot, Snapshot};
use crate::topology::Topology;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// Computed from measured usage alone.
    Measured,
    /// Measured usage plus an estimate (traffic split, cross-AZ share).
    Estimated,
    /// Depends on data natcost does not have yet (traffic by destination).
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub alternative: &'static str,
    pub region: String,
    pub vpc_id: String,
    pub resource_id: String,
    pub monthly_before: Decimal,
    pub monthly_after: Decimal,
    pub confidence: Confidence,
    pub risk_level: RiskLevel,
    pub risk: String,
    pub action: String,
    pub evidence: Vec<String>,
}

impl Scenario {
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
}

impl<'a> Context<'a> {
    pub fn regions(&self) -> impl Iterator<Item = (&'a RegionSnapshot, Topology<'a>)> {
        self.snapshot.regions.iter().map(|r| (r, Topology::new(r)))
    }
    /// NAT gateways still running at the end of the window, in one VPC.
    pub fn active_nats(&self, region: &str, vpc_id: &str) -> Vec<&'a NatCost> {
        self.model
            .nats
            .iter()
            .filter(|n| n.region == region && n.vpc_id == vpc_id && n.active_at_end)
            .collect()
    }
    /// Flow-log attribution for a NAT gateway, if any bytes of it were seen.
    pub fn traffic(&self, nat_id: &str) -> Option<&'a NatTraffic> {
        self.flows
            .and_then(|f| f.nat(nat_id))
            .filter(|t| t.destination_bytes > 0)
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

pub trait Alternative {
    fn id(&self) -> &'static str;
    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>>;
}

pub fn all() -> Vec<Box<dyn Alternative>> {
    vec![
        Box::new(delete_idle_nat::DeleteIdleNat),
        Box::new(gateway_endpoint::GatewayEndpoint::S3),
        Box::new(gateway_endpoint::GatewayEndpoint::DYNAMODB),
        Box::new(interface_endpoint::InterfaceEndpoint),
        Box::new(lambda_out_of_vpc::LambdaOutOfVpc),
        Box::new(consolidate_nat::ConsolidateNat),
        Box::new(centralized_egress::CentralizedEgress),
        Box::new(nat_instance::NatInstance),
        Box::new(ipv6_egress::Ipv6EgressOnly),
        Box::new(fix_cross_az_route::FixCrossAzRoute),
    ]
}

/// Every scenario of every alternative, best saving first.
pub fn advise(ctx: &Context) -> Result<Vec<Scenario>> {
    let mut out = Vec::new();
    for alt in all() {
        out.extend(alt.evaluate(ctx)?);
    }
    out.sort_by(|a, b| {
        b.saving()
            .cmp(&a.saving())
            .then_with(|| a.alternative.cmp(b.alternative))
            .then_with(|| a.resource_id.cmp(&b.resource_id))
    });
    Ok(out)
}

/// Money for evidence text: two decimals, with USD.
pub fn usd(d: Decimal) -> String {
    format!("{:.2} USD", d.round_dp(2))
}

/// A quantity for evidence text: two decimals.
pub fn num(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

fn sum<'a>(
    nats: impl IntoIterator<Item = &'a NatCost>,
    f: impl Fn(&NatCost) -> Decimal,
) -> Decimal {
    nats.into_iter().map(f).sum()
}

#[cfg(test)]
mod tests;

//! `s3-gateway-endpoint` / `dynamodb-gateway-endpoint`: free gateway endpoints take that
//! traffic off the NAT gateway.

use anyhow::Result;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::plan::{GatewayService, Phase, RouteChange, RouteTo};
use super::{
    bounded, num, sum, usd, Alternative, Changes, Confidence, Context, Effect, RiskLevel, Scenario,
    VpcNats,
};
use crate::price::model::{Component, NatCost};
use crate::traffic::{Destination, MEASURED_MIN_DAYS, MEASURED_MIN_SHARE};
use rust_decimal::prelude::ToPrimitive;

pub struct GatewayEndpoint {
    id: &'static str,
    service: GatewayService,
    label: &'static str,
}

impl GatewayEndpoint {
    pub const S3: GatewayEndpoint = GatewayEndpoint {
        id: "s3-gateway-endpoint",
        service: GatewayService::S3,
        label: "S3",
    };
    pub const DYNAMODB: GatewayEndpoint = GatewayEndpoint {
        id: "dynamodb-gateway-endpoint",
        service: GatewayService::DynamoDb,
        label: "DynamoDB",
    };
}

/// Without traffic attribution the saving is stated per tenth of the NAT traffic.
const SHARE: Decimal = dec!(0.1);

impl GatewayEndpoint {
    fn destination(&self) -> Destination {
        match self.service {
            GatewayService::S3 => Destination::S3,
            GatewayService::DynamoDb => Destination::DynamoDb,
        }
    }
}

/// A saving measured from flow logs, and the facts behind it.
pub(super) struct Measured {
    pub saving: Decimal,
    /// Data processing each NAT gateway no longer does.
    pub cuts: Vec<Effect>,
    pub gb: Decimal,
    pub confidence: Confidence,
    pub evidence: Vec<String>,
    /// Some NAT gateway's logs are a sample (under 7 days and 25% of its bytes): the figure
    /// is shown beside the estimate, never in its place.
    pub sample: bool,
}

/// What moving a destination's traffic off these NAT gateways saves in data processing, from
/// each NAT's flow-log share applied to its CloudWatch bytes; None without flow logs.
pub(super) fn measured(ctx: &Context, nats: &[&NatCost], dest: &Destination) -> Option<Measured> {
    let mut saving = Decimal::ZERO;
    let mut gb = Decimal::ZERO;
    let mut evidence = Vec::new();
    let mut unseen = Vec::new();
    let mut thin = Vec::new();
    let mut cuts = Vec::new();
    for n in nats {
        let Some(t) = ctx.traffic(&n.nat_gateway_id) else {
            unseen.push(n.nat_gateway_id.as_str());
            continue;
        };
        // A few hours of logs scaled up to the window are a sample, not a measurement.
        let cloudwatch_gb = n.processed_gb.and_then(|gb| gb.to_f64());
        if !t.covers(cloudwatch_gb) {
            thin.push(format!(
                "flow logs cover {} of the bytes CloudWatch counted for {} (measured needs {MEASURED_MIN_DAYS} days or {:.0}%): estimated",
                t.coverage(cloudwatch_gb),
                n.label(),
                100.0 * MEASURED_MIN_SHARE
            ));
        }
        let share = Decimal::try_from(t.share(dest))
            .unwrap_or_default()
            .round_dp(6);
        let nat_gb = (n.monthly_gb() * share).round_dp(9);
        let cut = (n.monthly_of(Component::NatBytes) * share).round_dp(9);
        saving += cut;
        cuts.push(Effect::cut(&n.nat_gateway_id, Component::NatBytes, cut));
        gb += nat_gb;
        let top = t
            .pairs
            .iter()
            .find(|(_, d, _)| d == dest)
            .map(|(src, _, _)| format!(", mostly from {src}"))
            .unwrap_or_default();
        evidence.push(format!(
            "{}% of {}'s traffic went to {} (flow logs, {} GB seen): {} of its {} GB/month{top}",
            (share * Decimal::ONE_HUNDRED).round_dp(1),
            n.label(),
            dest.label(),
            num(Decimal::from(t.destination_bytes)
                / Decimal::from(crate::price::model::BYTES_PER_GB)),
            num(nat_gb),
            num(n.monthly_gb())
        ));
    }
    if evidence.is_empty() {
        return None;
    }
    let sample = !thin.is_empty();
    let confidence = if unseen.is_empty() && thin.is_empty() {
        Confidence::Measured
    } else if unseen.is_empty() {
        evidence.extend(thin);
        Confidence::Estimated
    } else {
        evidence.extend(thin);
        evidence.push(format!(
            "no flow logs for {}: counted as none",
            unseen.join(", ")
        ));
        Confidence::Estimated
    };
    Some(Measured {
        saving,
        cuts,
        gb,
        confidence,
        evidence,
        sample,
    })
}

impl Alternative for GatewayEndpoint {
    fn id(&self) -> &'static str {
        self.id
    }

    fn phase(&self) -> Phase {
        Phase::GatewayEndpoints
    }

    fn scope(&self) -> &'static str {
        "the VPC's NATs"
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for VpcNats {
            region,
            topo,
            vpc,
            nats,
        } in ctx.vpcs_with_nats()
        {
            // Whoever sends the traffic (Lambda, ECS tasks pulling images from S3, EC2, EMR):
            // NAT cost is NAT cost.
            let r = region.region.as_str();
            let nat_tables: Vec<&str> = topo
                .nat_route_tables(vpc)
                .iter()
                .map(|rt| rt.route_table_id.as_str())
                .collect();
            let endpoint = topo.gateway_endpoint(vpc, self.service.name());
            let missing: Vec<&str> = match endpoint {
                None => nat_tables.clone(),
                Some(e) => nat_tables
                    .iter()
                    .copied()
                    .filter(|t| !e.route_table_ids.iter().any(|x| x == t))
                    .collect(),
            };
            if missing.is_empty() {
                continue;
            }
            let bytes_cost = sum(nats.iter().copied(), |n| n.monthly_of(Component::NatBytes));
            let gb = sum(nats.iter().copied(), NatCost::monthly_gb);
            let before = sum(nats.iter().copied(), NatCost::monthly);
            // A sample too thin to measure leaves the range in place, its figure beside it.
            let (measured, sample) = match measured(ctx, &nats, &self.destination()) {
                Some(m) if m.sample => (None, Some(m)),
                m => (m, None),
            };
            let (saving, effects) = match &measured {
                Some(m) => (m.saving, m.cuts.clone()),
                None => (
                    (bytes_cost * SHARE).round_dp(9),
                    nats.iter()
                        .map(|n| {
                            let cut = (n.monthly_of(Component::NatBytes) * SHARE).round_dp(9);
                            Effect::cut(&n.nat_gateway_id, Component::NatBytes, cut)
                        })
                        .collect(),
                ),
            };
            let changes = Changes {
                endpoints_added: match endpoint {
                    None => vec![format!("{vpc} {}", self.service.name())],
                    Some(_) => Vec::new(),
                },
                routes_changed: missing
                    .iter()
                    .map(|t| RouteChange::route(t, RouteTo::Gateway(self.service)))
                    .collect(),
                ..Default::default()
            };
            let lambdas: usize = count_lambdas(&nats);
            let others: usize = nats.iter().map(|n| n.other_enis).sum();
            let mut evidence = vec![match endpoint {
                None => format!("no {} gateway endpoint in {vpc}", self.label),
                Some(e) => format!(
                    "{} is not associated with route tables {}",
                    e.vpc_endpoint_id,
                    missing.join(", ")
                ),
            }];
            evidence.push(format!(
                "{lambdas} Lambda function(s) and {others} other network interface(s) reach the internet through {} NAT gateway(s) here",
                nats.len()
            ));
            match &measured {
                Some(m) => {
                    evidence.extend(m.evidence.iter().cloned());
                    evidence.push(format!(
                        "{} GB/month × {} per GB of NAT processing = {}/month saved",
                        num(m.gb),
                        nats[0]
                            .run_rate
                            .iter()
                            .find(|c| c.component == Component::NatBytes)
                            .map(|c| c.unit_price)
                            .unwrap_or_default(),
                        usd(m.saving)
                    ));
                }
                None => {
                    evidence.insert(
                        0,
                        format!(
                            "saves at least 0 and at most {}/month: free, so nothing to lose; traffic by destination is not measured, so the most is all of these NAT gateways' data processing ({} GB/month × their per-GB price), the case where all of it is {} traffic in this region",
                            usd(bytes_cost),
                            num(gb),
                            self.label,
                        ),
                    );
                    evidence.push(format!(
                        "each 10% of that data processing which is {} traffic saves {}",
                        self.label,
                        usd(saving)
                    ));
                    if let Some(m) = &sample {
                        evidence.push(format!(
                            "a flow-log sample, beside the range and not in its place, suggests {}/month: {}",
                            usd(m.saving),
                            m.evidence.join("; ")
                        ));
                    }
                    evidence.push(format!(
                        "to know the saving: {}",
                        super::how_to_measure(ctx, region, &nats)
                    ));
                }
            }
            let action = match endpoint {
                None => format!(
                    "aws ec2 create-vpc-endpoint --region {r} --vpc-id {vpc} --vpc-endpoint-type Gateway --service-name com.amazonaws.{r}.{} --route-table-ids {}",
                    self.service.name(),
                    missing.join(" ")
                ),
                Some(e) => format!(
                    "aws ec2 modify-vpc-endpoint --region {r} --vpc-endpoint-id {} --add-route-table-ids {}",
                    e.vpc_endpoint_id,
                    missing.join(" ")
                ),
            };
            let addresses: Vec<&str> = nats
                .iter()
                .flat_map(|n| n.public_ips.iter().map(String::as_str))
                .collect();
            let (resource, policies) = match self.service {
                GatewayService::S3 => ("bucket", "bucket policies"),
                GatewayService::DynamoDb => ("table", "table resource policies"),
            };
            let mut s = Scenario {
                monthly_before: before,
                monthly_after: before - saving,
                risk: format!(
                    "{policies} that allow by aws:SourceIp (the NAT gateways' public address{}: {}) stop matching through the endpoint: allow aws:SourceVpce or aws:SourceVpc as well first; a {resource} in another region is still reached through the NAT gateway",
                    if addresses.len() == 1 { "" } else { "es" },
                    if addresses.is_empty() {
                        "none known".to_string()
                    } else {
                        addresses.join(", ")
                    }
                ),
                action,
                evidence,
                changes,
                effects,
                ..Scenario::new(
                    self,
                    r,
                    vpc,
                    endpoint
                        .map(|e| e.vpc_endpoint_id.clone())
                        .unwrap_or_else(|| vpc.to_string()),
                    measured
                        .as_ref()
                        .map(|m| m.confidence)
                        .unwrap_or(Confidence::NeedsData),
                    RiskLevel::Low,
                )
            };
            if measured.is_none() {
                let all_bytes = nats
                    .iter()
                    .map(|n| {
                        let line = n.monthly_of(Component::NatBytes);
                        Effect::cut(&n.nat_gateway_id, Component::NatBytes, line)
                    })
                    .collect();
                bounded(&mut s, bytes_cost, all_bytes);
            }
            out.push(s);
        }
        Ok(out)
    }
}

pub(super) fn count_lambdas(nats: &[&NatCost]) -> usize {
    let mut names: Vec<&str> = nats
        .iter()
        .flat_map(|n| n.lambdas.iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

/// A VPC's Name tag, or its id.
pub(super) fn vpc_label<'a>(region: &'a crate::snapshot::RegionSnapshot, vpc: &'a str) -> &'a str {
    region
        .vpcs
        .iter()
        .find(|v| v.vpc_id == vpc)
        .and_then(|v| v.tags.get("Name"))
        .map(String::as_str)
        .unwrap_or(vpc)
}

//! `interface-endpoint`: PrivateLink endpoints for AWS APIs the VPC's clients call through its
//! NAT gateways (SQS, STS, Secrets Manager, ...): an hourly fee per AZ, against the NAT's per-GB
//! fee. Created with one subnet per AZ and a security group of its own that admits 443 from the
//! VPC's CIDRs.

use anyhow::Result;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::gateway_endpoint::vpc_label;
use super::gateway_endpoint::{count_lambdas, measured};
use super::plan::Phase;
use super::{
    how_to_measure, measure_first, num, sum, usd, Alternative, Changes, Confidence, Context,
    Effect, RiskLevel, Scenario, VpcNats,
};
use crate::price::model::{NatCost, HOURS_PER_MONTH};
use crate::price::Item;
use crate::snapshot::Subnet;
use crate::topology::Topology;
use crate::traffic::{Destination, MEASURED_MIN_DAYS, MEASURED_MIN_SHARE};

pub struct InterfaceEndpoint;

/// Lambda ships a function's logs and pulls its image outside the function's network interface:
/// where only Lambda functions use the NAT, these endpoints would carry nothing.
const NOT_FROM_LAMBDA: &[&str] = &["logs", "ecr.api", "ecr.dkr"];

/// APIs Lambda functions commonly call through a NAT gateway.
const CANDIDATES: &[&str] = &[
    "sqs",
    "sts",
    "secretsmanager",
    "logs",
    "kms",
    "sns",
    "ecr.api",
    "ecr.dkr",
];

/// Where an endpoint goes and who may reach it.
struct Placement<'a> {
    /// One client subnet per AZ: an interface endpoint takes at most one subnet in each AZ.
    subnets: Vec<&'a Subnet>,
    /// The VPC's IPv4 CIDRs, admitted on 443 (empty: not in the snapshot).
    cidrs: Vec<String>,
}

impl<'a> Placement<'a> {
    /// The subnets routed to these NAT gateways (whoever sits in them), the first of each AZ.
    fn of(
        topo: &Topology<'a>,
        region: &crate::snapshot::RegionSnapshot,
        vpc: &str,
        nats: &[&NatCost],
    ) -> Placement<'a> {
        let mut by_az: std::collections::BTreeMap<&str, &Subnet> = Default::default();
        let mut clients: Vec<&Subnet> = nats
            .iter()
            .flat_map(|n| topo.subnets_routed_to(&n.nat_gateway_id))
            .collect();
        clients.sort_by(|a, b| a.subnet_id.cmp(&b.subnet_id));
        for s in clients {
            by_az.entry(s.availability_zone.as_str()).or_insert(s);
        }
        let cidrs = region
            .vpcs
            .iter()
            .find(|v| v.vpc_id == vpc)
            .map(|v| v.cidr_blocks.clone())
            .unwrap_or_default();
        Placement {
            subnets: by_az.into_values().collect(),
            cidrs,
        }
    }

    fn azs(&self) -> usize {
        self.subnets.len()
    }

    /// Creates the endpoint's security group (443 from the VPC's CIDRs), then the endpoint in
    /// one subnet per AZ with private DNS. `service` may be a shell expression (`$SERVICE`).
    fn commands(&self, r: &str, vpc: &str, service: &str) -> Vec<String> {
        let cidrs: Vec<&str> = if self.cidrs.is_empty() {
            vec!["\"$VPC_CIDR\""]
        } else {
            self.cidrs.iter().map(String::as_str).collect()
        };
        let mut out = vec![format!(
            "SG=$(aws ec2 create-security-group --region {r} --vpc-id {vpc} --group-name \"natcost-vpce-{service}\" --description \"HTTPS from {vpc} to its {service} endpoint\" --query GroupId --output text)"
        )];
        for c in cidrs {
            out.push(format!(
                "aws ec2 authorize-security-group-ingress --region {r} --group-id \"$SG\" --protocol tcp --port 443 --cidr {c}"
            ));
        }
        let subnets: Vec<&str> = self.subnets.iter().map(|s| s.subnet_id.as_str()).collect();
        out.push(format!(
            "aws ec2 create-vpc-endpoint --region {r} --vpc-id {vpc} --vpc-endpoint-type Interface --service-name \"com.amazonaws.{r}.{service}\" --subnet-ids {} --security-group-ids \"$SG\" --private-dns-enabled",
            subnets.join(" ")
        ));
        out
    }

    /// What must be filled in by hand, if anything.
    fn notes(&self, vpc: &str) -> Vec<String> {
        if self.cidrs.is_empty() {
            vec![format!(
                "set VPC_CIDR to {vpc}'s IPv4 CIDR (the snapshot does not have it); add one authorize-security-group-ingress per CIDR if it has several"
            )]
        } else {
            Vec::new()
        }
    }

    /// The risk of moving a service's callers to the endpoint.
    fn risk(&self, service: &str) -> String {
        format!(
            "with private DNS every client in the VPC that calls {service} (not only the functions) moves to the endpoint at once; its own security group admits 443 from {}, so they are let in; a client outside those ranges (a peered VPC) loses the service until admitted",
            if self.cidrs.is_empty() {
                "the VPC's CIDR (VPC_CIDR)".to_string()
            } else {
                self.cidrs.join(", ")
            }
        )
    }
}

impl InterfaceEndpoint {
    /// One scenario per AWS service the flow logs saw these NAT gateways reach in the region.
    fn measured(
        &self,
        ctx: &Context,
        r: &str,
        vpc: &str,
        nats: &[&NatCost],
        place: &Placement,
    ) -> Result<Vec<Scenario>> {
        let azs = place.azs();
        let mut services: Vec<String> = nats
            .iter()
            .filter_map(|n| ctx.traffic(&n.nat_gateway_id))
            .flat_map(|t| t.destinations.keys())
            // Bytes to prefixes listed only as AMAZON are many services, not one endpoint's.
            .filter_map(|d| match d {
                Destination::AwsService(s) if s != "EC2" && s != "AMAZON" => Some(s.clone()),
                _ => None,
            })
            .collect();
        services.sort();
        services.dedup();
        let vpce_gb = ctx.price(r, Item::EndpointBytes)?;
        let vpce_hour = ctx.price(r, Item::EndpointHours)?;
        let fixed = Decimal::from(azs as u64) * Decimal::from(HOURS_PER_MONTH) * vpce_hour;
        let before = sum(nats.iter().copied(), NatCost::monthly);
        let mut out = Vec::new();
        for svc in services {
            let Some(m) = measured(ctx, nats, &Destination::AwsService(svc.clone())) else {
                continue;
            };
            let endpoint_cost = (fixed + m.gb * vpce_gb).round_dp(9);
            let mut effects = m.cuts.clone();
            let service = endpoint_service(&svc);
            effects.push(Effect::add(format!("vpce:{vpc}:{service}"), endpoint_cost));
            let saving = m.saving - endpoint_cost;
            let mut evidence = m.evidence.clone();
            evidence.push(format!(
                "{} of NAT processing saved − ({} GB/month × {vpce_gb} + one endpoint in {azs} AZ × 730 h × {vpce_hour} = {}) = {}/month",
                usd(m.saving),
                num(m.gb),
                usd(endpoint_cost),
                usd(saving)
            ));
            let private_dns_risk = service == "execute-api";
            // Low only with its own security group admitting the VPC (a CIDR to fill in is
            // not in place yet).
            let risk_level = if private_dns_risk {
                RiskLevel::High
            } else if place.cidrs.is_empty() {
                RiskLevel::Medium
            } else {
                RiskLevel::Low
            };
            let mut s = Scenario {
                monthly_before: before,
                monthly_after: before - saving,
                risk: if private_dns_risk {
                    "with private DNS, execute-api resolves to the endpoint for every API: calls to public (non-private) API Gateway APIs from the VPC break".into()
                } else {
                    place.risk(&service)
                },
                action: place.commands(r, vpc, &service).join(" && "),
                notes: place.notes(vpc),
                evidence,
                changes: Changes {
                    endpoints_added: vec![format!("{vpc} {service}")],
                    ..Default::default()
                },
                effects,
                ..Scenario::new(
                    self,
                    r,
                    vpc,
                    format!("{vpc};{}", svc.to_lowercase()),
                    m.confidence,
                    risk_level,
                )
            };
            if m.sample {
                // A sample scaled to the window is a sensitivity, not a saving.
                measure_first(
                    &mut s,
                    format!("if the flow-log sample's share of {svc} traffic holds"),
                    saving,
                    format!(
                        "keep the flow logs until they cover {MEASURED_MIN_DAYS} days or {:.0}% of the NAT gateways' bytes, then read them again with --flow-logs",
                        100.0 * MEASURED_MIN_SHARE
                    ),
                );
            }
            out.push(s);
        }
        out.extend(self.unnamed(ctx, r, vpc, nats, fixed, before)?);
        Ok(out)
    }

    /// The bytes to addresses ip-ranges.json lists only as AMAZON: many services share those
    /// prefixes, so no endpoint can be set against them until Route 53 Resolver query logs
    /// name the service. Measure-first: what one endpoint would save if they were one service.
    fn unnamed(
        &self,
        ctx: &Context,
        r: &str,
        vpc: &str,
        nats: &[&NatCost],
        fixed: Decimal,
        before: Decimal,
    ) -> Result<Option<Scenario>> {
        let Some(m) = measured(ctx, nats, &Destination::AwsService("AMAZON".into())) else {
            return Ok(None);
        };
        if m.gb.is_zero() {
            return Ok(None);
        }
        let margin = ctx.price(r, Item::NatBytes)? - ctx.price(r, Item::EndpointBytes)?;
        let mut evidence = vec![format!(
            "{} GB/month of these NAT gateways' traffic goes to addresses ip-ranges.json lists only as AMAZON, which SQS, STS, KMS, Secrets Manager, SNS, CloudWatch Logs and the ECR API share: {}/month of data processing no endpoint can be set against until the service is named",
            num(m.gb),
            usd(m.saving)
        )];
        evidence.extend(m.evidence.iter().cloned());
        let mut s = Scenario {
            monthly_before: before,
            monthly_after: before,
            risk: "unknown until the service is named".into(),
            evidence,
            ..Scenario::new(
                self,
                r,
                vpc,
                format!("{vpc};amazon"),
                Confidence::NeedsData,
                RiskLevel::Medium,
            )
        };
        measure_first(
            &mut s,
            format!(
                "the {} GB/month to AMAZON-only addresses, if one service's (one endpoint: {}/month)",
                num(m.gb),
                usd(fixed)
            ),
            (m.gb * margin - fixed).round_dp(9),
            format!(
                "name the services with Route 53 Resolver query logs on {vpc} (each answer joins an address to the name looked up, e.g. sqs.{r}.amazonaws.com): aws route53resolver create-resolver-query-log-config --region {r} --name natcost-dns --destination-arn arn:aws:s3:::BUCKET/natcost-dns && aws route53resolver associate-resolver-query-log-config --region {r} --resolver-query-log-config-id QUERY-LOG-CONFIG-ID --resource-id {vpc}; then natcost report --flow-logs … --resolver-logs s3://BUCKET/natcost-dns/"
            ),
        );
        Ok(Some(s))
    }
}

/// The endpoint service name of an ip-ranges service name.
fn endpoint_service(ip_ranges_service: &str) -> String {
    match ip_ranges_service {
        "API_GATEWAY" => "execute-api".into(),
        "KINESIS_VIDEO_STREAMS" => "kinesisvideo".into(),
        "EC2_INSTANCE_CONNECT" => "ec2-instance-connect".into(),
        other => other.to_lowercase().replace('_', "-"),
    }
}

impl Alternative for InterfaceEndpoint {
    fn id(&self) -> &'static str {
        "interface-endpoint"
    }

    fn phase(&self) -> Phase {
        Phase::InterfaceEndpoints
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
            // Whoever sends the traffic through the NAT (Lambda, ECS, EC2) is a client.
            let r = region.region.as_str();
            let place = Placement::of(topo, region, vpc, &nats);
            let azs: Vec<&str> = place
                .subnets
                .iter()
                .map(|s| s.availability_zone.as_str())
                .collect();
            let existing: Vec<&str> = topo
                .endpoints_in(vpc)
                .iter()
                .filter(|e| !e.is_gateway())
                .map(|e| e.service())
                .collect();
            let lambda_only = nats.iter().all(|n| n.other_enis == 0);
            let missing: Vec<&str> = CANDIDATES
                .iter()
                .copied()
                .filter(|c| !existing.contains(c))
                .filter(|c| !(lambda_only && NOT_FROM_LAMBDA.contains(c)))
                .collect();
            if missing.is_empty() || azs.is_empty() {
                continue;
            }
            if nats
                .iter()
                .any(|n| ctx.traffic(&n.nat_gateway_id).is_some())
            {
                out.extend(self.measured(ctx, r, vpc, &nats, &place)?);
                continue;
            }
            let nat_gb = ctx.price(r, Item::NatBytes)?;
            let vpce_gb = ctx.price(r, Item::EndpointBytes)?;
            let vpce_hour = ctx.price(r, Item::EndpointHours)?;
            let fixed =
                Decimal::from(azs.len() as u64) * Decimal::from(HOURS_PER_MONTH) * vpce_hour;
            let margin = nat_gb - vpce_gb;
            let gb = sum(nats.iter().copied(), NatCost::monthly_gb);
            let before = sum(nats.iter().copied(), NatCost::monthly);
            let tenth = gb * dec!(0.1);
            let saving = (tenth * margin - fixed).round_dp(9);
            let mut evidence = vec![format!(
                "{} Lambda function(s) and {} other network interface(s) in {} AZ(s) ({}) use NAT gateways here: one endpoint subnet per AZ ({})",
                count_lambdas(&nats),
                nats.iter().map(|n| n.other_enis).sum::<usize>(),
                azs.len(),
                azs.join(", "),
                place
                    .subnets
                    .iter()
                    .map(|s| s.subnet_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )];
            if margin > Decimal::ZERO {
                evidence.push(format!(
                    "one endpoint costs {} AZ × 730 h × {vpce_hour} = {}/month; it pays off above {} GB/month of that service's traffic ({} − {} per GB saved)",
                    azs.len(),
                    usd(fixed),
                    num(fixed / margin),
                    nat_gb,
                    vpce_gb
                ));
            }
            evidence.push(format!(
                "NAT processes {} GB/month in this VPC; if 10% ({} GB) went to one service, an endpoint would save {}",
                num(gb),
                num(tenth),
                usd(saving)
            ));
            if !existing.is_empty() {
                evidence.push(format!(
                    "interface endpoints already here: {}",
                    existing.join(", ")
                ));
            }
            if lambda_only {
                evidence.push("only Lambda functions use these NAT gateways: logs, ecr.api and ecr.dkr are not candidates (Lambda ships logs and pulls images outside the function's network interface)".into());
            }
            evidence.push("traffic by service unknown: measure it with flow logs on the NAT gateways' interfaces (--flow-logs)".into());
            let action = place.commands(r, vpc, "$SERVICE").join(" && ");
            let mut notes = vec![format!(
                "set SERVICE to the service the flow logs show most bytes to (candidates: {})",
                missing.join(", ")
            )];
            notes.extend(place.notes(vpc));
            let effects: Vec<Effect> = nats
                .iter()
                .map(|n| {
                    let cut = (n.monthly_of(crate::price::model::Component::NatBytes) * dec!(0.1))
                        .round_dp(9);
                    Effect::cut(
                        &n.nat_gateway_id,
                        crate::price::model::Component::NatBytes,
                        cut,
                    )
                })
                .chain([Effect::add(
                    format!("vpce:{vpc}:SERVICE"),
                    fixed + tenth * vpce_gb,
                )])
                .collect();
            let mut s = Scenario {
                monthly_before: before,
                monthly_after: before - saving,
                risk: format!(
                    "{}; execute-api with private DNS breaks calls to public APIs",
                    place.risk("the service")
                ),
                action,
                notes,
                evidence,
                changes: Changes {
                    endpoints_added: vec![format!("{vpc} SERVICE")],
                    ..Default::default()
                },
                effects,
                ..Scenario::new(
                    self,
                    r,
                    vpc,
                    vpc.to_string(),
                    Confidence::NeedsData,
                    if place.cidrs.is_empty() {
                        RiskLevel::Medium
                    } else {
                        RiskLevel::Low
                    },
                )
            };
            measure_first(
                &mut s,
                format!(
                    "each 10% of {}'s NAT bytes that goes to one service ({})",
                    vpc_label(region, vpc),
                    missing.join(", ")
                ),
                saving,
                how_to_measure(ctx, region, &nats),
            );
            out.push(s);
        }
        Ok(out)
    }
}

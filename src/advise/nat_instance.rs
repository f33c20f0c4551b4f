//! `nat-instance`: NAT instances (fck-nat on t4g) instead of a NAT gateway: a cheap hour, no
//! per-GB processing fee, but you operate them. Sized from the busiest minute with 2×
//! headroom, one instance per AZ that has clients.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use anyhow::Result;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::Deserialize;

use super::plan::Baseline;
use super::{
    az_suffix, measure_first, recollect, reroute_by, usd, Alternative, Changes, Confidence,
    Context, Effect, RiskLevel, Scenario,
};
use crate::price::model::{Component, Connectivity, CostModel, NatCost, HOURS_PER_MONTH};
use crate::price::Item;
use crate::snapshot::RegionSnapshot;
use crate::topology::Topology;

pub struct NatInstance;

/// fck-nat's root volume.
const ROOT_VOLUME_GB: Decimal = dec!(8);
/// An instance's baseline bandwidth must be this many times the busiest minute's rate.
const HEADROOM: f64 = 2.0;

/// `data/nat_instances.json`: the instance sizes a NAT instance is chosen from (its `as_of`
/// dates the table for people; natcost does not read it).
#[derive(Debug, Deserialize)]
struct SizeTable {
    source: String,
    image: String,
    /// The AWS account that publishes the image, and its name pattern.
    ami_owner: String,
    ami_name: String,
    /// Smallest first.
    sizes: Vec<Size>,
}

#[derive(Debug, Deserialize)]
struct Size {
    instance_type: String,
    #[serde(with = "rust_decimal::serde::str")]
    baseline_gbps: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    burst_gbps: Decimal,
    /// The hour's price as a multiple of t4g.nano's (T4g sizes double in price).
    nano_hours: u32,
}

impl Size {
    fn baseline_mbits(&self) -> f64 {
        (self.baseline_gbps * dec!(1000)).try_into().unwrap_or(0.0)
    }
}

static SIZES: LazyLock<SizeTable> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../data/nat_instances.json"))
        .expect("data/nat_instances.json is checked by a unit test")
});

/// The smallest size whose baseline covers `mbits` with HEADROOM; None when none does.
fn size_for(mbits: f64) -> Option<&'static Size> {
    SIZES
        .sizes
        .iter()
        .find(|s| s.baseline_mbits() >= mbits * HEADROOM)
}

/// Megabits a second of a minute that moved this many bytes.
fn minute_mbits(bytes: f64) -> f64 {
    bytes * 8.0 / 60.0 / 1e6
}

impl Alternative for NatInstance {
    fn id(&self) -> &'static str {
        "nat-instance"
    }

    fn scope(&self) -> &'static str {
        "one NAT"
    }

    fn assumptions(&self, model: &CostModel) -> Vec<String> {
        let mut sizing: BTreeMap<&str, usize> = BTreeMap::new();
        for n in model.nats.iter().filter(|n| n.active_at_end) {
            *sizing.entry(n.busiest_minute_basis.as_str()).or_default() += 1;
        }
        vec![format!(
            "NAT instances are sized so the baseline bandwidth is {HEADROOM}× the busiest minute, one per AZ with clients; T4g sizes from data/nat_instances.json ({}). Busiest minute: {}.",
            SIZES.source,
            sizing
                .iter()
                .map(|(basis, k)| format!("{basis} ({k} NAT gateway(s))"))
                .collect::<Vec<_>>()
                .join("; ")
        )]
    }

    fn evaluate(&self, ctx: &Context) -> Result<Vec<Scenario>> {
        let mut out = Vec::new();
        for (region, topo) in ctx.regions() {
            for nat in ctx.model.nats.iter().filter(|n| {
                n.is_in(region)
                    && n.active_at_end
                    && n.connectivity_type == Connectivity::Public
                    && n.availability_mode == crate::price::model::Placement::Zonal
                    // Replacing a NAT no route sends to changes nothing: delete-idle-nat's.
                    && topo.is_route_target(&n.nat_gateway_id)
            }) {
                out.push(self.scenario(ctx, region, topo, nat)?);
            }
        }
        Ok(out)
    }
}

/// Where the instances go: the AZ each of the NAT's route tables sends its traffic to.
struct Placement<'a> {
    /// route table → the AZ of the instance it will use.
    table_az: BTreeMap<&'a str, &'a str>,
    /// AZs that get an instance.
    azs: BTreeSet<&'a str>,
    /// Some route table serves subnets in several AZs: their cross-AZ traffic stays.
    mixed: bool,
}

fn placement<'a>(topo: &Topology<'a>, nat: &'a NatCost) -> Placement<'a> {
    let mut azs_of_table: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in &nat.routed_subnets {
        if let Some(subnet) = topo.subnet(s) {
            if let Some(rt) = topo.route_table_of(subnet) {
                azs_of_table
                    .entry(rt.route_table_id.as_str())
                    .or_default()
                    .insert(subnet.availability_zone.as_str());
            }
        }
    }
    let own = nat.availability_zone.as_str();
    let mut p = Placement {
        table_az: BTreeMap::new(),
        azs: BTreeSet::new(),
        mixed: false,
    };
    for rt in topo.tables_routing_to(&nat.nat_gateway_id) {
        let azs = azs_of_table.get(rt.route_table_id.as_str());
        let az = match azs {
            Some(set) if set.len() == 1 => set.first().copied().unwrap_or(own),
            Some(set) if !set.is_empty() => {
                p.mixed = true;
                if set.contains(own) {
                    own
                } else {
                    set.first().copied().unwrap_or(own)
                }
            }
            _ => own,
        };
        p.table_az.insert(rt.route_table_id.as_str(), az);
        p.azs.insert(az);
    }
    if p.azs.is_empty() {
        p.azs.insert(own);
    }
    p
}

/// `INSTANCE_A` for ap-northeast-2a.
fn instance_var(region: &str, az: &str) -> String {
    format!("INSTANCE_{}", az_suffix(region, az))
}

/// A name tag value from a label: letters, digits and dashes only.
fn tag_safe(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

impl NatInstance {
    fn scenario(
        &self,
        ctx: &Context,
        region: &RegionSnapshot,
        topo: &Topology,
        nat: &NatCost,
    ) -> Result<Scenario> {
        let r = nat.region.as_str();
        let id = &nat.nat_gateway_id;
        let place = placement(topo, nat);
        let count = Decimal::from(place.azs.len());
        let month = Decimal::from(HOURS_PER_MONTH);

        // The rate to size for: the busiest minute, or (risk high) the busiest hour's average.
        let busiest = nat
            .busiest_minute_bytes
            .map(minute_mbits)
            .or(nat.peak_hour_bytes.map(|b| b * 8.0 / 3600.0 / 1e6));
        let largest = SIZES.sizes.last().expect("the size table is not empty");
        let size = busiest.and_then(size_for);
        let chosen = size.unwrap_or(largest);

        let nano = ctx.price(r, Item::NatInstanceHours)?;
        let hour = nano * Decimal::from(chosen.nano_hours);
        let ebs = ctx.price(r, Item::EbsGbMonth)?;
        let ipv4 = ctx.price(r, Item::PublicIpv4Hours)?;
        let instances = count * month * hour;
        let volumes = count * ROOT_VOLUME_GB * ebs;
        let extra_addresses = (count - Decimal::ONE) * month * ipv4;
        let mut effects = vec![
            Effect::drop(id, Component::NatHours),
            Effect::drop(id, Component::NatBytes),
            Effect::add(
                format!("nat-instance:{id}"),
                instances + volumes + extra_addresses,
            ),
        ];
        if !place.mixed {
            effects.push(Effect::drop(id, Component::InterAz));
        }
        let before = nat.monthly();
        let after = Baseline::of([nat]).after(&effects);

        let n = place.azs.len();
        let azs: Vec<&str> = place.azs.iter().copied().collect();
        let mut evidence = vec![
            format!(
                "no per-GB processing fee: the NAT gateway's {} of data processing a month is not paid",
                usd(nat.monthly_of(Component::NatBytes))
            ),
            format!(
                "{n} × {} ({}): {n} × 730 h × {hour} ({} × t4g.nano's {nano}) = {}; {n} × 8 GB gp3 × {ebs} = {}",
                chosen.instance_type,
                azs.join(", "),
                chosen.nano_hours,
                usd(instances),
                usd(volumes)
            ),
        ];
        if n > 1 {
            evidence.push(format!(
                "one instance in each AZ with clients, so no client crosses an AZ; the {} further instance(s) need public addresses: {} × 730 h × {ipv4} = {}, and these are new egress IPs that partners who allowlist yours must add",
                n - 1,
                n - 1,
                usd(extra_addresses)
            ));
        }
        if place.mixed {
            evidence.push("a route table serves subnets in several AZs: its cross-AZ traffic stays (inter-AZ cost kept)".into());
        }
        evidence.push(format!(
            "the NAT's Elastic IP moves to the instance in {}, so its egress address and public IPv4 cost ({}/month) stay",
            place
                .azs
                .get(nat.availability_zone.as_str())
                .copied()
                .unwrap_or(azs[0]),
            usd(nat.monthly_of(Component::PublicIpv4))
        ));
        let mut missing = Vec::new();
        match (nat.busiest_minute_bytes, busiest) {
            (Some(bytes), _) => evidence.push(format!(
                "busiest minute {:.1} Mbit/s ({}); with {HEADROOM}× headroom it needs {:.1} Mbit/s of baseline bandwidth: {}",
                minute_mbits(bytes),
                nat.busiest_minute_basis,
                minute_mbits(bytes) * HEADROOM,
                fit(size, largest)
            )),
            (None, Some(avg)) => evidence.push(format!(
                "busiest minute unknown ({}); sized from the busiest hour's average, {avg:.1} Mbit/s, which a busy minute can far exceed: {}",
                nat.busiest_minute_basis,
                fit(size, largest)
            )),
            (None, None) => {
                missing.push(format!("BytesInFromSource/BytesInFromDestination of {id}"));
                evidence.push("no byte metrics: the instances cannot be sized".into());
            }
        }
        evidence.push("t4g instances run on CPU credits: sustained load above the baseline adds credit charges in unlimited mode (not counted here) or throttles in standard mode".into());

        let mut changes = Changes {
            nats_deleted: vec![id.clone()],
            nats_added: azs
                .iter()
                .map(|az| format!("nat-instance {} {az}", nat.vpc_id))
                .collect(),
            ..Default::default()
        };
        let table = &*SIZES;
        let cidrs: Vec<&str> = region
            .vpcs
            .iter()
            .filter(|v| v.vpc_id == nat.vpc_id)
            .flat_map(|v| v.cidr_blocks.iter().map(String::as_str))
            .collect();
        let mut action = vec![
            format!(
                "AMI=$(aws ec2 describe-images --region {r} --owners {} --filters 'Name=name,Values={}' --query 'sort_by(Images,&CreationDate)[-1].ImageId' --output text)",
                table.ami_owner, table.ami_name
            ),
            format!(
                "SG=$(aws ec2 create-security-group --region {r} --vpc-id {} --group-name natcost-fck-nat-{id} --description 'fck-nat instances replacing {id}' --query GroupId --output text)",
                nat.vpc_id
            ),
        ];
        for cidr in &cidrs {
            action.push(format!(
                "aws ec2 authorize-security-group-ingress --region {r} --group-id \"$SG\" --protocol -1 --cidr {cidr}"
            ));
        }
        let mut notes = vec![
            format!(
                "the image is {}'s, published by AWS account {}: check it is one you trust",
                table.image, table.ami_owner
            ),
            "the security group lets the whole VPC CIDR through: narrow it to the private subnets if you prefer".into(),
            "one instance per AZ is a single point of failure for its AZ: fck-nat's high-availability mode runs each in an Auto Scaling group of one".into(),
        ];
        let own_subnet = ctx.nat_gateway(id).map(|g| g.subnet_id.as_str());
        for az in &azs {
            let var = instance_var(r, az);
            let subnet = match (own_subnet, topo.public_subnet_in(&nat.vpc_id, az)) {
                (Some(s), _) if *az == nat.availability_zone && !s.is_empty() => s.to_string(),
                (_, Some(s)) => s.subnet_id.clone(),
                _ => {
                    let placeholder = format!("PUBLIC_SUBNET_{}", az_suffix(r, az));
                    notes.push(format!(
                        "{} has no public subnet in {az}: create one (its route table sending 0.0.0.0/0 to the internet gateway) and set {placeholder} to its id first",
                        nat.vpc_id
                    ));
                    format!("\"${placeholder}\"")
                }
            };
            action.push(format!(
                "{var}=$(aws ec2 run-instances --region {r} --image-id \"$AMI\" --instance-type {} --subnet-id {subnet} --security-group-ids \"$SG\" --associate-public-ip-address --tag-specifications 'ResourceType=instance,Tags=[{{Key=Name,Value=fck-nat-{}-{az}}}]' --query 'Instances[0].InstanceId' --output text)",
                chosen.instance_type,
                tag_safe(nat.label())
            ));
            action.push(format!(
                "aws ec2 wait instance-running --region {r} --instance-ids \"${var}\""
            ));
            action.push(format!(
                "aws ec2 modify-instance-attribute --region {r} --instance-id \"${var}\" --no-source-dest-check"
            ));
            // Routes switch only to an instance whose status checks pass.
            action.push(format!(
                "aws ec2 wait instance-status-ok --region {r} --instance-ids \"${var}\""
            ));
        }
        let home = if place.azs.contains(nat.availability_zone.as_str()) {
            nat.availability_zone.as_str()
        } else {
            azs[0]
        };
        // The other AZs' instances get Elastic IPs of their own before any route reaches them,
        // so their egress address is stable from the first packet.
        for az in azs.iter().filter(|az| **az != home) {
            let eip = format!("EIP_{}", az_suffix(r, az));
            action.push(format!(
                "{eip}=$(aws ec2 allocate-address --region {r} --domain vpc --tag-specifications 'ResourceType=elastic-ip,Tags=[{{Key=Name,Value=fck-nat-{}-{az}}}]' --query AllocationId --output text)",
                tag_safe(nat.label())
            ));
            action.push(format!(
                "aws ec2 associate-address --region {r} --allocation-id \"${eip}\" --instance-id \"${}\"",
                instance_var(r, az)
            ));
        }
        action.extend(reroute_by(
            topo,
            id,
            |rt| {
                let az = place
                    .table_az
                    .get(rt.route_table_id.as_str())
                    .copied()
                    .unwrap_or(azs[0]);
                format!("--instance-id \"${}\"", instance_var(r, az))
            },
            &mut changes,
        ));
        action.push(format!(
            "aws ec2 delete-nat-gateway --region {r} --nat-gateway-id {id}"
        ));
        action.push(format!(
            "aws ec2 wait nat-gateway-deleted --region {r} --nat-gateway-ids {id}"
        ));
        if let Some(address) = nat.public_ips.first() {
            notes.push(format!(
                "from the route switch until associate-address (while the NAT gateway is deleted: a few minutes), {home}'s traffic leaves from its instance's temporary public address, not {address}: a partner that allowlists {address} sees those minutes fail. A NAT gateway's primary address cannot move before it is deleted, so plan the switch for a quiet window"
            ));
        }
        for a in ctx.allocations(nat).iter().take(1) {
            action.push(format!(
                "aws ec2 associate-address --region {r} --allocation-id {a} --instance-id \"${}\"",
                instance_var(r, home)
            ));
        }
        // Replacing a NAT gateway that carries production traffic is a high-risk change.
        let high = size.is_none() || nat.busiest_minute_bytes.is_none();
        let risk_level = RiskLevel::High;
        let mut s = Scenario {
            monthly_before: before,
            monthly_after: after,
            risk: if size.is_none() {
                format!("replaces a NAT gateway in production: no T4g size covers the busiest minute with {HEADROOM}× headroom, so the instance would throttle; and you patch, monitor and fail over the instances yourself")
            } else if high {
                "replaces a NAT gateway in production: sized without the busiest minute, it may throttle; and you patch, monitor and fail over the instances yourself".into()
            } else {
                "replaces a NAT gateway in production: its egress stops for the minutes of the switch if an instance fails its checks, and you patch, monitor and fail over the instances yourself".into()
            },
            action: action.join(" && "),
            notes,
            evidence,
            changes,
            effects,
            missing_data: missing.clone(),
            ..Scenario::new(
                self,
                r,
                &nat.vpc_id,
                id.clone(),
                Confidence::Estimated,
                risk_level,
            )
        };
        if !missing.is_empty() {
            let worth = s.saving();
            measure_first(
                &mut s,
                "if the byte metrics show NAT instances can carry the traffic".into(),
                worth,
                recollect(r),
            );
        }
        Ok(s)
    }
}

fn fit(size: Option<&Size>, largest: &Size) -> String {
    match size {
        Some(s) => format!(
            "{} has {:.0} Mbit/s baseline ({} Gbit/s burst)",
            s.instance_type,
            s.baseline_mbits(),
            s.burst_gbps
        ),
        None => format!(
            "more than {}'s {:.0} Mbit/s baseline, the largest in data/nat_instances.json",
            largest.instance_type,
            largest.baseline_mbits()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_table_reads_smallest_first() {
        assert_eq!(SIZES.sizes.len(), 7);
        assert!(SIZES
            .sizes
            .windows(2)
            .all(|w| w[0].baseline_gbps < w[1].baseline_gbps
                && w[0].nano_hours * 2 == w[1].nano_hours));
        assert_eq!(SIZES.sizes[0].instance_type, "t4g.nano");
        assert_eq!(SIZES.sizes[0].baseline_mbits(), 32.0);
    }

    #[test]
    fn sizes_from_the_busiest_minute_with_double_headroom() {
        // 25.3 Mbit/s needs 50.6: t4g.nano's 32 is too small, t4g.micro's 64 covers it.
        assert_eq!(size_for(25.3).unwrap().instance_type, "t4g.micro");
        assert_eq!(size_for(16.0).unwrap().instance_type, "t4g.nano");
        assert_eq!(size_for(16.1).unwrap().instance_type, "t4g.micro");
        assert_eq!(size_for(1024.0).unwrap().instance_type, "t4g.2xlarge");
        assert!(size_for(1024.1).is_none());
        // 300 MB in a minute is 40 Mbit/s.
        assert_eq!(minute_mbits(300e6), 40.0);
    }

    #[test]
    fn instance_variables_name_the_az() {
        assert_eq!(
            instance_var("ap-northeast-2", "ap-northeast-2a"),
            "INSTANCE_A"
        );
        assert_eq!(instance_var("us-east-1", "use1-az4"), "INSTANCE_USE1_AZ4");
    }
}

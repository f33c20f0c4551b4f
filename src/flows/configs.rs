//! `--flow-logs auto`: the flow-log configurations (DescribeFlowLogs, in the snapshot) that
//! capture the NAT gateways' traffic, and where each delivers.

use crate::aws::s3::Location;
use crate::snapshot::Snapshot;

/// One configuration that covers a NAT gateway, and where natcost can read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Configured {
    /// `ap-northeast-2 fl-… on vpc-… (ALL traffic)`, with the account when there are several.
    pub label: String,
    pub account_id: String,
    pub region: String,
    /// Its log format (`${version} ${account-id} …`), when DescribeFlowLogs gave it.
    pub format: Option<String>,
    pub flow_log_id: String,
    /// The NAT gateways' network interfaces whose traffic it captures.
    pub enis: Vec<String>,
    pub destination: Destination,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Destination {
    S3(Location),
    /// A CloudWatch Logs group, read with a Logs Insights query.
    LogGroup(String),
    /// Why natcost cannot read it.
    Unreadable(String),
}

/// The configurations on a NAT gateway's VPC, subnet or network interface, in snapshot order,
/// with one read per NAT interface: a configuration whose interfaces another one already
/// captures (a VPC's and an interface's flow log, or one to S3 and one to CloudWatch Logs) is
/// named, not read, so that no byte is counted twice.
pub fn covering_nats(snapshot: &Snapshot) -> Vec<Configured> {
    let mut all = every_covering(snapshot);
    // Readable ones first, S3 before log groups, the widest first.
    let rank = |c: &Configured| match c.destination {
        Destination::S3(_) => 0,
        Destination::LogGroup(_) => 1,
        Destination::Unreadable(_) => 2,
    };
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|&i| (rank(&all[i]), std::cmp::Reverse(all[i].enis.len())));
    let mut read_by: std::collections::HashMap<(String, String), String> = Default::default();
    for i in order {
        let c = &all[i];
        if matches!(c.destination, Destination::Unreadable(_)) {
            continue;
        }
        let key = |e: &String| (c.account_id.clone(), e.clone());
        if let Some(other) = c.enis.iter().find_map(|e| read_by.get(&key(e))) {
            let why = format!(
                "its NAT interfaces are also captured by {other}, which is read: reading both would count their bytes twice"
            );
            all[i].destination = Destination::Unreadable(why);
            continue;
        }
        for e in &c.enis {
            read_by.insert(key(e), c.flow_log_id.clone());
        }
    }
    all
}

fn every_covering(snapshot: &Snapshot) -> Vec<Configured> {
    let several = snapshot.accounts.len() > 1;
    let mut out = Vec::new();
    for r in &snapshot.regions {
        // Resource (VPC, subnet, interface) → the NAT interfaces behind it.
        let mut covered: std::collections::HashMap<&str, Vec<String>> = Default::default();
        for n in &r.nat_gateways {
            for resource in n.flow_log_resources() {
                // An interface captures only itself; a VPC or subnet every NAT interface in it.
                let enis = n
                    .enis()
                    .filter(|e| *e == resource || !resource.starts_with("eni-"));
                covered
                    .entry(resource)
                    .or_default()
                    .extend(enis.map(str::to_string));
            }
        }
        for f in r
            .flow_logs
            .iter()
            .filter(|f| covered.contains_key(f.resource_id.as_str()))
        {
            let traffic = f.traffic_type.as_deref().unwrap_or("?");
            let label = format!(
                "{}{} {} on {} ({traffic} traffic)",
                if several {
                    format!("{} ", r.account_id)
                } else {
                    String::new()
                },
                r.region,
                f.flow_log_id,
                f.resource_id
            );
            let destination = f
                .log_destination
                .as_deref()
                .or(f.log_group_name.as_deref())
                .unwrap_or("?");
            let destination = match f.log_destination_type.as_deref() {
                _ if !f.captures_billed_traffic() => Destination::Unreadable(
                    "captures only rejected traffic, which a NAT gateway does not bill".into(),
                ),
                Some("s3") => match Location::from_arn(destination) {
                    Some(l) => Destination::S3(l),
                    None => Destination::Unreadable(format!("{destination}: not an S3 bucket ARN")),
                },
                Some("cloud-watch-logs") => match f.log_group_name.as_deref() {
                    Some(g) => Destination::LogGroup(g.to_string()),
                    // Newer flow logs name the group only by its ARN.
                    None => match destination.split(":log-group:").nth(1) {
                        Some(g) => Destination::LogGroup(g.trim_end_matches(":*").to_string()),
                        None => {
                            Destination::Unreadable(format!("{destination}: no log group named"))
                        }
                    },
                },
                other => Destination::Unreadable(format!(
                    "{} destination {destination}: natcost reads S3, CloudWatch Logs and files",
                    other.unwrap_or("unknown")
                )),
            };
            out.push(Configured {
                label,
                account_id: r.account_id.clone(),
                region: r.region.clone(),
                format: f.log_format.clone(),
                flow_log_id: f.flow_log_id.clone(),
                enis: covered[f.resource_id.as_str()].clone(),
                destination,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::FlowLog;

    #[test]
    fn configurations_on_a_nat_gateways_vpc_are_found_and_sorted_by_destination() {
        let mut s = Snapshot::from_json(crate::SAMPLE_SNAPSHOT).unwrap();
        let r = &mut s.regions[0];
        let vpc = r.nat_gateways[0].vpc_id.clone();
        // A NAT gateway of another VPC.
        let eni = r.nat_gateways[3].addresses[0]
            .network_interface_id
            .clone()
            .unwrap();
        let eni_id = eni.clone();
        r.flow_logs.push(FlowLog {
            flow_log_id: "fl-cw".into(),
            resource_id: eni,
            traffic_type: Some("ALL".into()),
            log_destination_type: Some("cloud-watch-logs".into()),
            log_group_name: Some("/vpc/nat".into()),
            ..Default::default()
        });
        r.flow_logs.push(FlowLog {
            flow_log_id: "fl-reject".into(),
            resource_id: vpc.clone(),
            traffic_type: Some("REJECT".into()),
            log_destination_type: Some("s3".into()),
            log_destination: Some("arn:aws:s3:::other".into()),
            ..Default::default()
        });
        r.flow_logs.push(FlowLog {
            flow_log_id: "fl-elsewhere".into(),
            resource_id: "vpc-not-a-nat-vpc".into(),
            traffic_type: Some("ALL".into()),
            log_destination_type: Some("s3".into()),
            log_destination: Some("arn:aws:s3:::x".into()),
            ..Default::default()
        });
        let got = covering_nats(&s);
        let ids: Vec<&str> = got
            .iter()
            .map(|c| c.label.split(' ').nth(1).unwrap())
            .collect();
        assert_eq!(ids, ["fl-005bab700399ef826", "fl-cw", "fl-reject"]);
        assert_eq!(
            got[0].destination,
            Destination::S3(Location::parse("s3://acme-flow-logs/prod/").unwrap())
        );
        assert_eq!(got[1].destination, Destination::LogGroup("/vpc/nat".into()));
        assert_eq!(got[1].enis, std::slice::from_ref(&eni_id));
        assert!(
            matches!(&got[2].destination, Destination::Unreadable(why) if why.contains("rejected"))
        );
        // The log group captures one of the interfaces the VPC's S3 flow log does: only the
        // S3 one is read.
        let eni = &s.regions[0].nat_gateways[0].addresses[0];
        let eni = eni.network_interface_id.clone().unwrap();
        s.regions[0].flow_logs[1].resource_id = eni;
        let got = covering_nats(&s);
        assert!(matches!(&got[0].destination, Destination::S3(_)));
        assert_eq!(got[0].enis.len(), 3, "the VPC's three NAT gateways");
        assert!(
            matches!(&got[1].destination, Destination::Unreadable(why) if why.contains("also captured by fl-005bab700399ef826")),
            "{:?}",
            got[1].destination
        );
    }
}

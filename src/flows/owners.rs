//! Who is behind a client address: the Lambda functions behind its ENI (a shared ENI names
//! them all, with their Durations when known, so its bytes can be split), or the subnet of
//! another ENI.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use chrono::NaiveDate;

use crate::snapshot::RegionSnapshot;
use crate::traffic::{SourceKind, SourceRef};

/// A client address in its VPC: VPCs may reuse the same ranges (10.0.0.0/16 in each), so an
/// address alone names no interface.
pub(super) type At<'a> = (&'a str, IpAddr);

/// A shared Lambda ENI whose bytes are split between its functions by their Duration.
pub(super) struct Shared<'a> {
    pub(super) eni: String,
    /// (function, Duration over the window in ms)
    pub(super) fns: Vec<(String, f64)>,
    /// The same functions' Durations by day, where collected by day for every one that ran.
    by_day: Option<Vec<&'a BTreeMap<NaiveDate, f64>>>,
}

impl Shared<'_> {
    /// What the ENI's bytes of `day` are split by: its functions' Durations that day; None
    /// where they were not collected by day or are all 0 (the window's split then).
    pub(super) fn on(&self, day: NaiveDate) -> Option<Vec<(String, f64)>> {
        let days = self.by_day.as_ref()?;
        let weights: Vec<(String, f64)> = self
            .fns
            .iter()
            .zip(days)
            .map(|((name, _), d)| (name.clone(), d.get(&day).copied().unwrap_or(0.0)))
            .collect();
        (weights.iter().map(|(_, ms)| ms).sum::<f64>() > 0.0).then_some(weights)
    }
}

/// Names the owner of a client address: the Lambda functions behind its ENI, or the ENI.
pub(super) struct Owners<'a> {
    by_ip: HashMap<At<'a>, String>,
    /// Why an address's label names several functions (shared Lambda ENIs not split).
    pub(super) ambiguous: HashMap<At<'a>, String>,
    /// Shared Lambda ENIs whose functions' Durations are known.
    pub(super) shared: HashMap<At<'a>, Shared<'a>>,
    /// The source behind each address, by kind and id (a shared ENI's functions: `functions`).
    refs: HashMap<At<'a>, SourceRef>,
    /// Each function by name, as a source.
    pub(super) functions: HashMap<String, SourceRef>,
}

impl<'a> Owners<'a> {
    pub(super) fn new(r: &'a RegionSnapshot) -> Owners<'a> {
        let mut by_ip = HashMap::new();
        let mut ambiguous = HashMap::new();
        let mut shared = HashMap::new();
        let mut refs = HashMap::new();
        for e in &r.network_interfaces {
            let Some(ip) = e
                .private_ip_address
                .as_deref()
                .and_then(|i| i.parse::<IpAddr>().ok())
            else {
                continue;
            };
            let at = (e.vpc_id.as_str(), ip);
            let eni_ref = |name: String| SourceRef {
                kind: SourceKind::Eni,
                id: e.network_interface_id.clone(),
                name,
            };
            let label = if e.interface_type.eq_ignore_ascii_case("lambda") {
                // The grouping decides, the description only when the grouping finds nobody.
                let fns = r.lambda_functions_on(e);
                match fns.len() {
                    0 => {
                        let desc = e.description.as_deref().unwrap_or_default();
                        let found = r
                            .lambda_functions
                            .iter()
                            .filter(|f| {
                                let p = format!("AWS Lambda VPC ENI-{}", f.function_name);
                                desc == p || desc.starts_with(&format!("{p}-"))
                            })
                            .max_by_key(|f| f.function_name.len());
                        refs.insert(
                            at,
                            found.map(SourceRef::lambda).unwrap_or_else(|| {
                                eni_ref("Lambda ENI of no function in the snapshot".into())
                            }),
                        );
                        found
                            .map(|f| f.function_name.clone())
                            .unwrap_or_else(|| format!("Lambda ENI {}", e.network_interface_id))
                    }
                    1 => {
                        refs.insert(at, SourceRef::lambda(fns[0]));
                        fns[0].function_name.clone()
                    }
                    _ => {
                        let names: Vec<&str> =
                            fns.iter().map(|f| f.function_name.as_str()).collect();
                        let label = format!("{} (shared ENI)", names.join(" + "));
                        refs.insert(
                            at,
                            eni_ref(format!("{} (shared Lambda ENI)", names.join(" + "))),
                        );
                        let durations: Option<Vec<f64>> =
                            fns.iter().map(|f| f.duration_ms).collect();
                        match durations.filter(|d| d.iter().sum::<f64>() > 0.0) {
                            Some(d) => {
                                // Collected by day for every function that ran at all.
                                let by_day = fns
                                    .iter()
                                    .all(|f| {
                                        !f.duration_ms_by_day.is_empty()
                                            || f.duration_ms == Some(0.0)
                                    })
                                    .then(|| fns.iter().map(|f| &f.duration_ms_by_day).collect());
                                shared.insert(
                                    at,
                                    Shared {
                                        eni: e.network_interface_id.clone(),
                                        fns: names.iter().map(|n| n.to_string()).zip(d).collect(),
                                        by_day,
                                    },
                                );
                            }
                            None => {
                                ambiguous.insert(at,
                                    format!(
                                        "{} is shared by {}: without their Lambda Duration its bytes cannot be split between them",
                                        e.network_interface_id,
                                        names.join(" + ")
                                    ),
                                );
                            }
                        }
                        label
                    }
                }
            } else {
                let subnet = r
                    .subnets
                    .iter()
                    .find(|s| s.subnet_id == e.subnet_id)
                    .and_then(|s| s.tags.get("Name"))
                    .unwrap_or(&e.subnet_id);
                refs.insert(at, SourceRef::eni(e));
                format!("other ENIs in {subnet}")
            };
            by_ip.insert(at, label);
        }
        Owners {
            by_ip,
            ambiguous,
            shared,
            refs,
            functions: r
                .lambda_functions
                .iter()
                .map(|f| (f.function_name.clone(), SourceRef::lambda(f)))
                .collect(),
        }
    }

    /// The source behind an address: its interface's, else its subnet's, else unattributed.
    pub(super) fn source(&self, at: At, subnet: Option<&str>) -> SourceRef {
        if let Some(r) = self.refs.get(&at) {
            return r.clone();
        }
        match subnet {
            Some(s) => SourceRef::subnet(s),
            None => SourceRef::unattributed("an address in none of the VPC's subnets"),
        }
    }

    pub(super) fn name(&self, at: At) -> String {
        self.by_ip
            .get(&at)
            .cloned()
            .unwrap_or_else(|| format!("{} (unknown interface)", at.1))
    }
}

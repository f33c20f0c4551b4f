//! Which team a source belongs to, from tags (`--allocate-by tag:KEY`): a function's own tags;
//! an interface's, else those of the instance it is attached to or of the load balancer it
//! belongs to; what is no source (idle, shared, unattributed, a subnet) belongs to the NAT
//! gateway's team.

use std::collections::{BTreeMap, HashMap};

use crate::snapshot::{NetworkInterface, RegionSnapshot};
use crate::traffic::{SourceKind, SourceRef};

/// What a source without any of the tags is called.
pub const UNTAGGED: &str = "(untagged)";

type Tags = BTreeMap<String, String>;

pub(super) struct Teams<'a> {
    keys: &'a [String],
    /// By ARN, by the id at the end of an EC2 ARN (`eni-…`, `i-…`), and by a load balancer's
    /// resource (`loadbalancer/app/NAME/ID`).
    tags: HashMap<&'a str, &'a Tags>,
    enis: HashMap<&'a str, &'a NetworkInterface>,
    nats: HashMap<&'a str, &'a Tags>,
}

impl<'a> Teams<'a> {
    pub(super) fn new(r: &'a RegionSnapshot, keys: &'a [String]) -> Teams<'a> {
        let mut tags = HashMap::new();
        for (arn, t) in &r.resource_tags {
            tags.insert(arn.as_str(), t);
            if arn.starts_with("arn:aws") && arn.contains(":ec2:") {
                if let Some((_, id)) = arn.rsplit_once('/') {
                    tags.insert(id, t);
                }
            }
            if arn.contains(":elasticloadbalancing:") {
                if let Some(resource) = crate::snapshot::arn_resource(arn) {
                    tags.insert(resource, t);
                }
            }
        }
        Teams {
            keys,
            tags,
            enis: r
                .network_interfaces
                .iter()
                .map(|e| (e.network_interface_id.as_str(), e))
                .collect(),
            nats: r
                .nat_gateways
                .iter()
                .map(|n| (n.nat_gateway_id.as_str(), &n.tags))
                .collect(),
        }
    }

    /// The value of the first key a set of tags has.
    fn value(&self, tags: Option<&Tags>) -> Option<String> {
        let tags = tags?;
        // An empty value names no team: the next key is asked.
        self.keys
            .iter()
            .find_map(|k| tags.get(k).filter(|v| !v.trim().is_empty()))
            .cloned()
    }

    /// The team of `source` behind `nat`; empty when no key was asked for.
    pub(super) fn of(&self, source: &SourceRef, nat: &str) -> String {
        if self.keys.is_empty() {
            return String::new();
        }
        let own = |id: &str| self.tags.get(id).copied();
        let found = match source.kind {
            SourceKind::Lambda => self.value(own(&source.id)),
            SourceKind::Eni => self.value(own(&source.id)).or_else(|| {
                let eni = self.enis.get(source.id.as_str())?;
                let instance = eni.instance_id.as_deref().and_then(|i| self.value(own(i)));
                instance.or_else(|| self.value(own(&eni.load_balancer()?)))
            }),
            _ => self.value(self.nats.get(nat).copied()),
        };
        found.unwrap_or_else(|| UNTAGGED.to_string())
    }
}

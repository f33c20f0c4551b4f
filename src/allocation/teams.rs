//! Which team a source belongs to, from tags (`--allocate-by tag:KEY`): a function's own tags;
//! an interface's, else those of its ECS task, of the instance it is attached to, of the load balancer it
//! belongs to, or the one team of the functions a shared Lambda interface serves; what is no
//! source (idle, shared, unattributed, a subnet) belongs to the NAT
//! gateway's team.

use std::collections::{BTreeMap, HashMap};

use crate::snapshot::{NetworkInterface, RegionSnapshot};
use crate::traffic::{SourceKind, SourceRef};

/// What a source without any of the tags is called.
pub const UNTAGGED: &str = "(untagged)";

type Tags = BTreeMap<String, String>;

pub(super) struct Teams<'a> {
    region: &'a RegionSnapshot,
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
            region: r,
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

    /// A Lambda interface's team when every function it serves has the same one (a shared
    /// interface whose bytes are not split between its functions).
    fn shared_lambda(&self, eni: &NetworkInterface) -> Option<String> {
        if !eni.interface_type.eq_ignore_ascii_case("lambda") {
            return None;
        }
        let teams: Option<Vec<String>> = self
            .region
            .lambda_functions_on(eni)
            .iter()
            .map(|f| self.value(self.tags.get(f.function_arn.as_str()).copied()))
            .collect();
        let mut teams = teams?;
        teams.sort();
        teams.dedup();
        match teams.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
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
                let task = eni.ecs_task_arn.as_deref().and_then(|t| self.value(own(t)));
                task.or_else(|| self.value(own(eni.instance_id.as_deref()?)))
                    .or_else(|| self.value(own(&eni.load_balancer()?)))
                    .or_else(|| self.shared_lambda(eni))
            }),
            _ => self.value(self.nats.get(nat).copied()),
        };
        found.unwrap_or_else(|| UNTAGGED.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Fixture;

    #[test]
    fn a_shared_lambda_interface_has_the_team_its_functions_agree_on() {
        // fn-a and fn-b share eni-s-a (same subnet, no security groups): both payments.
        let mut f = Fixture::new();
        f.vpc("vpc-1")
            .subnet("s-a", "vpc-1", "ap-northeast-2a")
            .lambda("fn-a", &["s-a"])
            .lambda("fn-b", &["s-a"])
            .eni("s-a", "vpc-1");
        f.r.network_interfaces[0].interface_type = "lambda".into();
        let tag = |team: &str| -> Tags { [("team".to_string(), team.to_string())].into() };
        let arn = |i: usize| f.r.lambda_functions[i].function_arn.clone();
        f.r.resource_tags = [(arn(0), tag("payments")), (arn(1), tag("payments"))].into();
        let keys = vec!["team".to_string()];
        let shared = SourceRef::eni(&f.r.network_interfaces[0]);
        assert_eq!(Teams::new(&f.r, &keys).of(&shared, "nat-a"), "payments");
        // They disagree, or one has no team: the interface is nobody's.
        f.r.resource_tags.insert(arn(1), tag("search"));
        assert_eq!(Teams::new(&f.r, &keys).of(&shared, "nat-a"), UNTAGGED);
        f.r.resource_tags.remove(&arn(1));
        assert_eq!(Teams::new(&f.r, &keys).of(&shared, "nat-a"), UNTAGGED);
    }

    #[test]
    fn an_ecs_task_interface_has_its_task_team_before_its_instance_team() {
        // An awsvpc task on the EC2 launch type: its interface is attached to a cluster
        // instance tagged with the platform team, the task with its own.
        let mut f = Fixture::new();
        f.vpc("vpc-1")
            .subnet("s-a", "vpc-1", "ap-northeast-2a")
            .eni("s-a", "vpc-1");
        let task = "arn:aws:ecs:ap-northeast-2:111122223333:task/prod/0123abcd".to_string();
        let e = &mut f.r.network_interfaces[0];
        e.instance_id = Some("i-0abc".into());
        e.ecs_task_arn = Some(task.clone());
        e.ecs_group = Some("service:orders-api".into());
        let tag = |team: &str| -> Tags { [("team".to_string(), team.to_string())].into() };
        let instance = "arn:aws:ec2:ap-northeast-2:111122223333:instance/i-0abc".to_string();
        f.r.resource_tags = [(task.clone(), tag("orders")), (instance, tag("platform"))].into();
        let keys = vec!["team".to_string()];
        let source = SourceRef::eni(&f.r.network_interfaces[0]);
        assert_eq!(source.name, "ECS prod/service:orders-api");
        assert_eq!(Teams::new(&f.r, &keys).of(&source, "nat-a"), "orders");
        // The task has no such tag: the instance's team.
        f.r.resource_tags.remove(&task);
        assert_eq!(Teams::new(&f.r, &keys).of(&source, "nat-a"), "platform");
    }
}

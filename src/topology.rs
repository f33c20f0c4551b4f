//! Who is behind each NAT gateway: Lambda → subnet → route table → NAT, in one region.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::snapshot::{
    LambdaFunction, NatGateway, NetworkInterface, RegionSnapshot, RouteTable, Subnet, TargetType,
    VpcEndpoint,
};

/// The region's relations, indexed once by id: a report on thousands of NAT gateways asks
/// each of these per NAT gateway, and a scan per question made it cubic.
pub struct Topology<'a> {
    pub region: &'a RegionSnapshot,
    subnets: BTreeMap<&'a str, &'a Subnet>,
    /// subnet → the NAT its default IPv4 route points at
    subnet_nat: BTreeMap<&'a str, &'a str>,
    nats: HashMap<&'a str, &'a NatGateway>,
    /// NAT → the subnets routed to it, by subnet id.
    nat_subnets: HashMap<&'a str, Vec<&'a Subnet>>,
    /// NAT gateways any route (default or not) targets.
    route_targets: HashSet<&'a str>,
    /// NAT → the functions with a subnet routed to it, in snapshot order.
    nat_lambdas: HashMap<&'a str, Vec<&'a LambdaFunction>>,
    /// subnet → summed weight of its functions (each function 1, split over its subnets).
    lambda_weight: HashMap<&'a str, f64>,
    /// subnet → interfaces other than Lambda's, endpoints' and NAT gateways'.
    other_enis: HashMap<&'a str, Vec<&'a NetworkInterface>>,
    /// VPC → its functions (by their subnets), in snapshot order.
    vpc_lambdas: HashMap<&'a str, Vec<&'a LambdaFunction>>,
    /// subnet → the functions in it, in snapshot order.
    subnet_lambdas: HashMap<&'a str, Vec<&'a LambdaFunction>>,
    /// VPC → its network interfaces, in snapshot order.
    vpc_interfaces: HashMap<&'a str, Vec<&'a NetworkInterface>>,
    tables: RouteTables<'a>,
    /// VPC → its subnets, in snapshot order.
    vpc_subnets: HashMap<&'a str, Vec<&'a Subnet>>,
    /// VPC → its endpoints, in snapshot order.
    vpc_endpoints: HashMap<&'a str, Vec<&'a VpcEndpoint>>,
    /// Route target → the route tables whose default IPv4 route goes to it, in snapshot order.
    default_route_tables: HashMap<&'a str, Vec<&'a RouteTable>>,
    /// VPC → its route tables, in snapshot order.
    vpc_tables: HashMap<&'a str, Vec<&'a RouteTable>>,
}

impl<'a> Topology<'a> {
    pub fn new(region: &'a RegionSnapshot) -> Topology<'a> {
        let subnets: BTreeMap<&str, &Subnet> = region
            .subnets
            .iter()
            .map(|s| (s.subnet_id.as_str(), s))
            .collect();
        let tables = RouteTables::new(region);
        let mut subnet_nat = BTreeMap::new();
        for s in &region.subnets {
            if let Some(nat) = tables.of(s).and_then(default_nat) {
                subnet_nat.insert(s.subnet_id.as_str(), nat);
            }
        }
        let mut nat_subnets: HashMap<&str, Vec<&Subnet>> = HashMap::new();
        for (s, n) in &subnet_nat {
            if let Some(subnet) = subnets.get(s) {
                nat_subnets.entry(*n).or_default().push(subnet);
            }
        }
        let route_targets = region
            .route_tables
            .iter()
            .flat_map(|rt| &rt.routes)
            .filter(|r| r.target_type == TargetType::NatGateway)
            .map(|r| r.target_id.as_str())
            .collect();
        let mut nat_lambdas: HashMap<&str, Vec<&LambdaFunction>> = HashMap::new();
        let mut lambda_weight: HashMap<&str, f64> = HashMap::new();
        for f in &region.lambda_functions {
            let ids = f.subnet_ids();
            let mut seen: Vec<&str> = Vec::new();
            for s in ids {
                *lambda_weight.entry(s.as_str()).or_default() += 1.0 / ids.len() as f64;
                if let Some(n) = subnet_nat.get(s.as_str()) {
                    if !seen.contains(n) {
                        seen.push(n);
                        nat_lambdas.entry(*n).or_default().push(f);
                    }
                }
            }
        }
        let mut other_enis: HashMap<&str, Vec<&NetworkInterface>> = HashMap::new();
        let mut vpc_interfaces: HashMap<&str, Vec<&NetworkInterface>> = HashMap::new();
        for e in &region.network_interfaces {
            if is_other_client(e) {
                other_enis.entry(e.subnet_id.as_str()).or_default().push(e);
            }
            vpc_interfaces.entry(e.vpc_id.as_str()).or_default().push(e);
        }
        let mut vpc_lambdas: HashMap<&str, Vec<&LambdaFunction>> = HashMap::new();
        let mut subnet_lambdas: HashMap<&str, Vec<&LambdaFunction>> = HashMap::new();
        for f in &region.lambda_functions {
            let mut seen: Vec<&str> = Vec::new();
            for s in f.subnet_ids() {
                if !seen.contains(&s.as_str()) {
                    seen.push(s);
                    subnet_lambdas.entry(s.as_str()).or_default().push(f);
                }
            }
            if let Some(vpc) = f
                .subnet_ids()
                .iter()
                .find_map(|s| subnets.get(s.as_str()))
                .map(|s| s.vpc_id.as_str())
            {
                vpc_lambdas.entry(vpc).or_default().push(f);
            }
        }
        let mut vpc_subnets: HashMap<&str, Vec<&Subnet>> = HashMap::new();
        for s in &region.subnets {
            vpc_subnets.entry(s.vpc_id.as_str()).or_default().push(s);
        }
        let mut vpc_endpoints: HashMap<&str, Vec<&VpcEndpoint>> = HashMap::new();
        for e in &region.vpc_endpoints {
            vpc_endpoints.entry(e.vpc_id.as_str()).or_default().push(e);
        }
        let mut default_route_tables: HashMap<&str, Vec<&RouteTable>> = HashMap::new();
        let mut vpc_tables: HashMap<&str, Vec<&RouteTable>> = HashMap::new();
        for rt in &region.route_tables {
            vpc_tables.entry(rt.vpc_id.as_str()).or_default().push(rt);
            let mut targets: Vec<&str> = rt
                .routes
                .iter()
                .filter(|x| x.is_default_ipv4())
                .map(|x| x.target_id.as_str())
                .collect();
            targets.dedup();
            for t in targets {
                default_route_tables.entry(t).or_default().push(rt);
            }
        }
        Topology {
            region,
            subnets,
            subnet_nat,
            nats: region
                .nat_gateways
                .iter()
                .map(|n| (n.nat_gateway_id.as_str(), n))
                .collect(),
            nat_subnets,
            route_targets,
            nat_lambdas,
            lambda_weight,
            other_enis,
            vpc_lambdas,
            subnet_lambdas,
            vpc_interfaces,
            tables,
            vpc_subnets,
            vpc_endpoints,
            default_route_tables,
            vpc_tables,
        }
    }

    /// The route table that serves a subnet: its explicit one, else its VPC's main table.
    pub fn route_table_of(&self, subnet: &Subnet) -> Option<&'a RouteTable> {
        self.tables.of(subnet)
    }

    /// A subnet whose route table sends 0.0.0.0/0 to an internet gateway.
    pub fn is_public(&self, s: &Subnet) -> bool {
        self.route_table_of(s).is_some_and(|t| {
            t.routes
                .iter()
                .any(|x| x.is_default_ipv4() && x.target_type == TargetType::InternetGateway)
        })
    }

    /// A public subnet of the VPC in this AZ, if it has one.
    pub fn public_subnet_in(&self, vpc: &str, az: &str) -> Option<&'a Subnet> {
        self.vpc_subnets
            .get(vpc)?
            .iter()
            .copied()
            .find(|s| s.availability_zone == az && self.is_public(s))
    }

    /// The AZs where a VPC has subnets.
    pub fn vpc_azs(&self, vpc: &str) -> BTreeSet<&'a str> {
        self.vpc_subnets
            .get(vpc)
            .into_iter()
            .flatten()
            .map(|s| s.availability_zone.as_str())
            .collect()
    }

    /// A VPC's endpoints (gateway and interface), in snapshot order.
    pub fn endpoints_in(&self, vpc: &str) -> &[&'a VpcEndpoint] {
        self.vpc_endpoints.get(vpc).map_or(&[], Vec::as_slice)
    }

    /// The route tables whose default IPv4 route goes to this target (e.g. a NAT gateway).
    pub fn tables_routing_to(&self, target: &str) -> &[&'a RouteTable] {
        self.default_route_tables
            .get(target)
            .map_or(&[], Vec::as_slice)
    }

    /// The functions with this subnet among theirs, in snapshot order.
    pub fn lambdas_in_subnet(&self, subnet_id: &str) -> &[&'a LambdaFunction] {
        self.subnet_lambdas
            .get(subnet_id)
            .map_or(&[], Vec::as_slice)
    }

    /// Interfaces in this subnet that may send through a NAT and are not Lambda's.
    pub fn other_clients_in(&self, subnet_id: &str) -> usize {
        self.other_clients(subnet_id).len()
    }

    /// The interfaces in this subnet that may send through a NAT and are not Lambda's.
    pub fn other_clients(&self, subnet_id: &str) -> &[&'a NetworkInterface] {
        self.other_enis.get(subnet_id).map_or(&[], Vec::as_slice)
    }

    /// The functions in a VPC (by their subnets), in snapshot order.
    pub fn lambdas_in_vpc(&self, vpc_id: &str) -> &[&'a LambdaFunction] {
        self.vpc_lambdas.get(vpc_id).map_or(&[], Vec::as_slice)
    }

    /// The network interfaces in a VPC, in snapshot order.
    pub fn interfaces_in_vpc(&self, vpc_id: &str) -> &[&'a NetworkInterface] {
        self.vpc_interfaces.get(vpc_id).map_or(&[], Vec::as_slice)
    }

    pub fn subnet(&self, id: &str) -> Option<&'a Subnet> {
        self.subnets.get(id).copied()
    }

    pub fn az_of(&self, subnet_id: &str) -> Option<&'a str> {
        self.subnet(subnet_id).map(|s| s.availability_zone.as_str())
    }

    pub fn nat(&self, id: &str) -> Option<&'a NatGateway> {
        self.nats.get(id).copied()
    }

    /// The NAT gateway a subnet's default route sends to, if any.
    pub fn nat_for_subnet(&self, subnet_id: &str) -> Option<&'a str> {
        self.subnet_nat.get(subnet_id).copied()
    }

    /// Subnets whose default route points at this NAT, by subnet id.
    pub fn subnets_routed_to(&self, nat_id: &str) -> Vec<&'a Subnet> {
        self.nat_subnets.get(nat_id).cloned().unwrap_or_default()
    }

    /// Whether any route table (associated or not) sends anything to this NAT.
    pub fn is_route_target(&self, nat_id: &str) -> bool {
        self.route_targets.contains(nat_id)
    }

    /// The VPC of a Lambda function, from its subnets (the API's VpcId is not trusted).
    pub fn lambda_vpc(&self, f: &LambdaFunction) -> Option<&'a str> {
        f.subnet_ids()
            .iter()
            .find_map(|s| self.subnet(s))
            .map(|s| s.vpc_id.as_str())
    }

    /// NAT gateways a function's subnets route to.
    pub fn lambda_nats(&self, f: &LambdaFunction) -> BTreeSet<&'a str> {
        f.subnet_ids()
            .iter()
            .filter_map(|s| self.nat_for_subnet(s))
            .collect()
    }

    /// Functions with at least one subnet routed to this NAT.
    pub fn lambdas_behind(&self, nat_id: &str) -> Vec<&'a LambdaFunction> {
        self.nat_lambdas.get(nat_id).cloned().unwrap_or_default()
    }

    /// Whether a function has a subnet routed to a NAT in another AZ.
    pub fn lambda_cross_az(&self, f: &LambdaFunction) -> bool {
        f.subnet_ids().iter().any(|s| self.subnet_is_cross_az(s))
    }

    pub fn subnet_is_cross_az(&self, subnet_id: &str) -> bool {
        match (
            self.nat_for_subnet(subnet_id).and_then(|n| self.nat(n)),
            self.az_of(subnet_id),
        ) {
            // A regional NAT gateway serves each AZ from that AZ.
            (Some(nat), Some(az)) => !nat.is_regional() && nat.availability_zone != az,
            _ => false,
        }
    }

    /// Network interfaces other than Lambda's in subnets routed to this NAT (EC2, ECS, ...).
    /// Endpoint and NAT gateway interfaces send nothing through it.
    pub fn other_enis_behind(&self, nat_id: &str) -> usize {
        self.subnets_routed_to(nat_id)
            .iter()
            .map(|s| self.other_clients_in(&s.subnet_id))
            .sum()
    }

    /// Estimated share of a NAT's traffic from each subnet routed to it. Without flow logs the
    /// only evidence is who lives there: each function counts 1 (split over its subnets), each
    /// other network interface 1; with nobody known, subnets share equally.
    pub fn subnet_shares(&self, nat_id: &str) -> Vec<(&'a Subnet, f64)> {
        let subnets = self.subnets_routed_to(nat_id);
        let weight: BTreeMap<&str, f64> = subnets
            .iter()
            .map(|s| {
                let id = s.subnet_id.as_str();
                let functions = self.lambda_weight.get(id).copied().unwrap_or(0.0);
                let others = self.other_clients_in(id) as f64;
                (id, functions + others)
            })
            .collect();
        let total: f64 = weight.values().sum();
        subnets
            .into_iter()
            .map(|s| {
                let share = if total > 0.0 {
                    weight[s.subnet_id.as_str()] / total
                } else {
                    1.0 / weight.len() as f64
                };
                (s, share)
            })
            .collect()
    }

    /// Fraction of a NAT's traffic estimated to come from subnets in another AZ.
    pub fn cross_az_share(&self, nat_id: &str) -> f64 {
        let Some(nat) = self.nat(nat_id).filter(|n| !n.is_regional()) else {
            return 0.0;
        };
        self.subnet_shares(nat_id)
            .iter()
            .filter(|(s, _)| s.availability_zone != nat.availability_zone)
            .map(|(_, share)| share)
            .sum()
    }

    /// The VPC ids that have at least one NAT gateway, in order.
    pub fn vpcs_with_nats(&self) -> BTreeSet<&'a str> {
        self.region
            .nat_gateways
            .iter()
            .map(|n| n.vpc_id.as_str())
            .collect()
    }

    /// Gateway endpoints for a service (`s3`, `dynamodb`) in a VPC.
    pub fn gateway_endpoint(
        &self,
        vpc_id: &str,
        service: &str,
    ) -> Option<&'a crate::snapshot::VpcEndpoint> {
        self.endpoints_in(vpc_id)
            .iter()
            .copied()
            .find(|e| e.is_gateway() && e.service() == service)
    }

    /// Route tables in a VPC that send the default route to a NAT gateway.
    pub fn nat_route_tables(&self, vpc_id: &str) -> Vec<&'a RouteTable> {
        self.vpc_tables
            .get(vpc_id)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .copied()
            .filter(|rt| default_nat(rt).is_some())
            .collect()
    }
}

/// Route tables by explicitly associated subnet, and each VPC's main table.
struct RouteTables<'a> {
    by_subnet: HashMap<&'a str, &'a RouteTable>,
    main: HashMap<&'a str, &'a RouteTable>,
}

impl<'a> RouteTables<'a> {
    fn new(region: &'a RegionSnapshot) -> RouteTables<'a> {
        let mut by_subnet = HashMap::new();
        let mut main = HashMap::new();
        for rt in &region.route_tables {
            for s in &rt.subnet_ids {
                by_subnet.entry(s.as_str()).or_insert(rt);
            }
            if rt.main {
                main.entry(rt.vpc_id.as_str()).or_insert(rt);
            }
        }
        RouteTables { by_subnet, main }
    }

    /// The subnet's explicitly associated table, else its VPC's main one.
    fn of(&self, subnet: &Subnet) -> Option<&'a RouteTable> {
        self.by_subnet
            .get(subnet.subnet_id.as_str())
            .or_else(|| self.main.get(subnet.vpc_id.as_str()))
            .copied()
    }
}

/// An interface that may send traffic through a NAT and is not a Lambda function's (those are
/// counted by function): EC2, ECS, RDS... Endpoint and NAT gateway interfaces send none.
fn is_other_client(e: &NetworkInterface) -> bool {
    !matches!(
        e.interface_type.as_str(),
        "lambda" | "vpc_endpoint" | "nat_gateway"
    )
}

fn default_nat(rt: &RouteTable) -> Option<&str> {
    rt.routes
        .iter()
        .find(|r| r.is_default_ipv4() && r.target_type == TargetType::NatGateway)
        .map(|r| r.target_id.as_str())
}

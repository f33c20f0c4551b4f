//! natcost: what AWS NAT gateways really cost, who causes it, and what to do instead.
//!
//! collect → snapshot → price → advise → report → render. AWS is reached only through `aws`
//! (by collect, live prices, remote flow logs and the bill); pricing, advice and rendering run
//! offline from a snapshot. docs/ARCHITECTURE.md maps the modules.

pub mod advise;
pub mod app;
pub mod aws;
pub mod bill;
pub mod cli;
pub mod collect;
pub mod exit;
pub mod flows;
pub mod fx;
pub mod messages;
pub mod output;
pub mod pipeline;
pub mod policy;
pub mod price;
pub mod regions;
pub mod render;
pub mod report;
pub mod shown;
pub mod snapshot;
pub mod topology;
pub mod traffic;

/// The bundled sample snapshot: a Seoul account, used by `natcost report --sample`.
pub const SAMPLE_SNAPSHOT: &str = include_str!("../data/samples/seoul.json");

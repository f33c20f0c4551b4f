//! natcost: what AWS NAT gateways really cost, who causes it, and what to do instead.
//!
//! collect → snapshot → price → advise → report → render. AWS is reached only through `aws`
//! (by collect, live prices, remote flow logs and the bill); pricing, advice and rendering run
//! offline from a snapshot. docs/ARCHITECTURE.md maps the modules.

pub(crate) mod advise;
pub(crate) mod allocation;
pub mod app;
pub(crate) mod aws;
pub(crate) mod bill;
pub(crate) mod changes;
pub mod cli;
pub(crate) mod collect;
pub mod exit;
#[cfg(test)]
mod fixture;
pub(crate) mod flows;
pub(crate) mod fx;
pub(crate) mod ids;
pub(crate) mod interrupt;
pub(crate) mod messages;
pub(crate) mod output;
pub(crate) mod parquet_columns;
pub(crate) mod pipeline;
pub(crate) mod policy;
pub(crate) mod price;
pub(crate) mod regions;
pub(crate) mod render;
pub(crate) mod report;
pub(crate) mod shown;
pub mod snapshot;
pub(crate) mod topology;
pub(crate) mod traffic;
pub(crate) mod walk;

// What the binary, the examples and the integration tests use; everything else is the crate's own.
pub use aws::calls::Calls;
pub use collect::queries_per_call;
pub use flows::ipranges::IpRanges;
#[cfg(any(test, feature = "synth"))]
pub use flows::synth;
pub use flows::Destination;
pub use price::{live as live_prices, Item, PriceBook};
pub use regions::{all_codes as all_region_codes, codes as region_codes, prefix as region_prefix};
pub use render::chart::{svg_name, CHARTS};
pub use shown::{money, one_line};

/// The bundled sample snapshot: a Seoul account, used by `natcost report --sample`.
pub const SAMPLE_SNAPSHOT: &str = include_str!("../data/samples/seoul.json");

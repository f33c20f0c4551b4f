//! Who sends the bytes: NAT gateway traffic attributed from VPC Flow Logs, by destination
//! (ip-ranges.json, longest prefix) and by source (the functions behind each ENI).
//!
//! One connection through a NAT shows up on several ENIs; each byte is counted once:
//! destinations from the NAT ENI's outside leg (remote address outside the VPC), sources from
//! the NAT ENI's inside leg (client address inside the VPC).
//!
//! - `files`: the local flow-log files named or under the folders named, and `Source` (a file
//!   or an S3 object);
//! - `read`: reading sources in parallel (byte ranges, gzip, Parquet) into tallies;
//! - `scan`: the tallies per NAT gateway ENI, each record counted once per leg;
//! - `owners`: who is behind a client address (Lambda functions, shared ENIs, other ENIs);
//! - `attribute`: the entry points, and tallies turned into an `Attribution`.

pub mod athena;
mod attribute;
pub mod configs;
mod files;
pub mod inputs;
pub mod insights;
pub mod ipranges;
mod owners;
pub mod parquet;
pub mod parse;
mod read;
pub mod resolver;
mod scan;
#[cfg(any(test, feature = "synth"))]
pub mod synth;

use std::path::PathBuf;

use crate::aws::s3;

pub use crate::traffic::{
    Attribution, Destination, FlowStats, NatTraffic, SharedSplit, SplitShare,
};

pub use attribute::attribute_sources;
pub use files::{list_files, Source};
pub use scan::Row;

/// One `--flow-logs` value: a local file or folder, an S3 location, or `auto`.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Path(PathBuf),
    S3(s3::Location),
    /// A CloudWatch Logs group (`log-group:NAME`), queried with Logs Insights in each region of
    /// the snapshot with NAT gateways.
    LogGroup(String),
    /// The destinations of the snapshot's flow-log configurations on the NAT gateways.
    Auto,
}

impl Input {
    /// For clap: `auto`, `s3://BUCKET/PREFIX/`, `log-group:NAME`, else a path.
    pub fn parse(arg: &str) -> std::result::Result<Input, String> {
        if arg == "auto" {
            Ok(Input::Auto)
        } else if let Some(name) = arg.strip_prefix("log-group:") {
            if name.is_empty() {
                return Err("log-group: names no group (log-group:NAME)".into());
            }
            Ok(Input::LogGroup(name.to_string()))
        } else if arg.starts_with("s3://") {
            s3::Location::parse(arg)
                .map(Input::S3)
                .map_err(|e| e.to_string())
        } else if arg.is_empty() {
            Err("empty: give a file, a folder, s3://BUCKET/PREFIX/ or auto".into())
        } else {
            Ok(Input::Path(PathBuf::from(arg)))
        }
    }
}

//! What flow logs are read from: the local files found under the paths `--flow-logs` names,
//! and a `Source`, a local file or an S3 object.

use std::path::PathBuf;

use anyhow::Result;

use crate::aws::s3;
use crate::walk;

/// The files named, and the `*.log`, `*.gz` and `*.parquet` files under the folders named, each
/// once and in a stable order; what was left out (FIFOs, devices, dangling links) is in `skipped`.
pub fn list_files(paths: &[PathBuf]) -> Result<walk::Found> {
    // As delivered to S3: *.log.gz (or plain *.log), or *.parquet; other files in a folder are
    // not flow logs.
    walk::regular_files(paths, "flow logs", |path| {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        name.ends_with(".log") || name.ends_with(".gz") || name.ends_with(".parquet")
    })
}

/// Where flow-log lines come from: a local file, or an S3 object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Object(s3::Object),
}

impl Source {
    /// As messages name it: the path, or `s3://bucket/key`.
    pub fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Object(o) => o.url(),
        }
    }
}

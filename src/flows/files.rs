//! What flow logs are read from: the local files found under the paths `--flow-logs` names,
//! and a `Source`, a local file or an S3 object.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::aws::s3;

/// The files named, and the `*.log` / `*.gz` files under the folders named, in a stable order.
pub fn list_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .with_context(|| format!("cannot read flow logs {}", p.display()))?;
        if meta.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                for e in
                    std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?
                {
                    let path = e?.path();
                    let name = path.file_name().unwrap_or_default().to_string_lossy();
                    if path.is_dir() {
                        stack.push(path);
                    } else if name.ends_with(".log")
                        || name.ends_with(".gz")
                        || name.ends_with(".parquet")
                    {
                        // As delivered to S3: *.log.gz (or plain *.log), or *.parquet; other
                        // files in a folder are not flow logs.
                        out.push(path);
                    }
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    Ok(out)
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

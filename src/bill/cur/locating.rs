//! Where the report's files are: a file, every report file under a folder, or an S3 listing;
//! and, by the billing period and version their folders name, which of them are read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};

use super::Failure;
use crate::aws::s3;
use crate::aws::session::Remote;
use crate::walk;

/// Where the report's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Path(PathBuf),
    S3(s3::Location),
}

impl Location {
    /// `PATH` or `s3://BUCKET/PREFIX/` (what follows `cur:`).
    pub fn parse(s: &str) -> Result<Location, String> {
        if s.starts_with("s3://") {
            let mut l = s3::Location::parse(s).map_err(|e| e.to_string())?;
            // A folder, not every key that starts the same (`cur/nat` would also read
            // `cur/nat-old/`); a key naming one report file stays as it is.
            if !l.prefix.is_empty() && !l.prefix.ends_with('/') && !is_report_file(&l.prefix) {
                l.prefix.push('/');
            }
            Ok(Location::S3(l))
        } else if s.is_empty() {
            Err("cur: needs a file, a folder or s3://BUCKET/PREFIX/ after it".into())
        } else {
            Ok(Location::Path(PathBuf::from(s)))
        }
    }

    pub fn label(&self) -> String {
        match self {
            Location::Path(p) => p.display().to_string(),
            Location::S3(l) => l.url(),
        }
    }
}

/// One file to read.
#[derive(Debug, Clone)]
pub(super) struct Found {
    /// Path or URL, as said in messages.
    pub(super) name: String,
    /// The whole path or S3 key, `/`-separated: where the billing period and version show,
    /// even when the location is a period folder itself.
    pub(super) key: String,
    /// Seconds since the epoch.
    pub(super) modified: i64,
    pub(super) object: Option<s3::Object>,
    /// Named on the command line (not found in a folder): it must be a report.
    pub(super) named: bool,
}

/// The report files at a location.
pub(super) struct Listing<'a> {
    pub(super) found: Vec<Found>,
    /// What to read them with: None for a path.
    pub(super) store: Option<s3::Store<'a>>,
    /// What a folder holds that is not a regular file, never read.
    pub(super) skipped: Vec<String>,
}

#[cfg(test)]
impl Found {
    /// A local file found in a folder, as the readers' tests name one.
    pub(super) fn local(name: &str) -> Found {
        Found {
            name: name.into(),
            key: name.into(),
            modified: 0,
            object: None,
            named: false,
        }
    }
}

/// Every report file at `location`.
pub(super) fn find<'a>(
    location: &Location,
    remote: Option<&'a Remote>,
) -> std::result::Result<Listing<'a>, Failure> {
    let (found, store, skipped) = match location {
        Location::Path(p) => {
            let (found, skipped) = local_files(p).map_err(Failure::Bad)?;
            (found, None, skipped)
        }
        Location::S3(l) => {
            let remote = remote.ok_or_else(|| Failure::Unreachable("no AWS access".into()))?;
            let store = s3::Store::new(remote);
            let found = store
                .list_all(l)
                .map_err(|e| Failure::Unreachable(format!("{e:#}")))?
                .into_iter()
                .filter(|o| is_report_file(&o.key))
                .map(|o| Found {
                    name: o.url(),
                    key: o.key.clone(),
                    modified: o.modified,
                    named: o.key == l.prefix,
                    object: Some(o),
                })
                .collect();
            (found, Some(store), Vec::new())
        }
    };
    if found.is_empty() {
        return Err(Failure::Bad(anyhow!(
            "{}: no Cost and Usage Report file (.parquet, .csv, .csv.gz) in it",
            location.label()
        )));
    }
    Ok(Listing {
        found,
        store,
        skipped,
    })
}

fn is_report_file(name: &str) -> bool {
    // The legacy CUR's Athena integration writes a status table beside the data.
    [".parquet", ".csv", ".csv.gz"]
        .iter()
        .any(|e| name.ends_with(e))
        && !name.contains("cost_and_usage_data_status")
}

/// A file, or every report file under a folder (each once, FIFOs and devices left out: said in
/// the second list).
fn local_files(path: &Path) -> Result<(Vec<Found>, Vec<String>)> {
    let modified = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64)
    };
    let key = |p: &Path| {
        p.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    let named = std::fs::metadata(path)
        .with_context(|| format!("{}", path.display()))?
        .is_file();
    let found = walk::regular_files(&[path.to_path_buf()], "Cost and Usage Report", |p| {
        is_report_file(&p.to_string_lossy())
    })?;
    let mut out: Vec<Found> = found
        .files
        .iter()
        .map(|p| Found {
            name: p.display().to_string(),
            key: key(p),
            modified: modified(p),
            object: None,
            named,
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok((out, found.skipped))
}

/// The billing period a file's folder names (`BILLING_PERIOD=2026-10` in CUR 2.0,
/// `20261001-20261101` in the legacy CUR) and the version folder under it, if any.
fn period_of(key: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = key.split('/').collect();
    for (i, p) in parts.iter().enumerate() {
        let month = if let Some(m) = p.strip_prefix("BILLING_PERIOD=") {
            m.get(..7).map(str::to_string)
        } else if p.len() == 17
            && p.as_bytes()[8] == b'-'
            && p.bytes().filter(u8::is_ascii_digit).count() == 16
        {
            Some(format!("{}-{}", &p[..4], &p[4..6]))
        } else {
            None
        };
        if let Some(month) = month {
            // A file directly in the period folder has no version folder.
            let version = if i + 2 < parts.len() {
                parts[i + 1].to_string()
            } else {
                String::new()
            };
            return Some((parts[..=i].join("/"), month, version));
        }
    }
    None
}

/// The files to read: those of the months asked for (when their folder names the billing
/// period) and, where a period holds several versions of the report (each a whole copy), the
/// newest only.
pub(super) fn select(found: Vec<Found>, months: &BTreeSet<&str>) -> (Vec<Found>, Vec<String>) {
    let mut notes = Vec::new();
    // Period folder → version → newest modification.
    let mut versions: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for f in &found {
        if let Some((folder, _, version)) =
            period_of(&f.key).filter(|(_, month, _)| months.contains(month.as_str()))
        {
            let e = versions
                .entry(folder)
                .or_default()
                .entry(version)
                .or_insert(f.modified);
            *e = (*e).max(f.modified);
        }
    }
    let newest: BTreeMap<&String, &String> = versions
        .iter()
        .filter_map(|(folder, v)| {
            let best = v.iter().max_by_key(|(name, t)| (**t, (*name).clone()))?.0;
            if v.len() > 1 {
                notes.push(format!(
                    "{folder}: {} versions of the report; read the newest ({}) only",
                    v.len(),
                    if best.is_empty() {
                        "the files directly in it"
                    } else {
                        best
                    }
                ));
            }
            Some((folder, best))
        })
        .collect();
    let kept = found
        .into_iter()
        .filter(|f| match period_of(&f.key) {
            Some((folder, month, version)) => {
                months.contains(month.as_str()) && newest.get(&folder) == Some(&&version)
            }
            None => true,
        })
        .collect();
    (one_per_export(kept, &mut notes), notes)
}

/// `X.csv` beside `X.csv.gz` is the same export, once unpacked: read the `.gz` only.
fn one_per_export(found: Vec<Found>, notes: &mut Vec<String>) -> Vec<Found> {
    let packed: BTreeSet<String> = found
        .iter()
        .filter_map(|f| f.key.strip_suffix(".gz").map(str::to_string))
        .collect();
    found
        .into_iter()
        .filter(|f| {
            let twin = packed.contains(&f.key);
            if twin {
                notes.push(format!(
                    "{}: the same export as {}.gz beside it: read once, from the .gz",
                    f.name, f.name
                ));
            }
            !twin
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(key: &str, modified: i64) -> Found {
        Found {
            modified,
            ..Found::local(key)
        }
    }

    #[test]
    fn billing_periods_and_versions_are_read_from_folders() {
        assert_eq!(
            period_of("nat/data/BILLING_PERIOD=2026-10/nat-00001.snappy.parquet"),
            Some((
                "nat/data/BILLING_PERIOD=2026-10".into(),
                "2026-10".into(),
                String::new()
            ))
        );
        assert_eq!(
            period_of("cur/20261001-20261101/6d3f-41a2/cur-1.csv.gz"),
            Some((
                "cur/20261001-20261101".into(),
                "2026-10".into(),
                "6d3f-41a2".into()
            ))
        );
        assert_eq!(period_of("loose.csv.gz"), None);
    }

    #[test]
    fn only_the_newest_version_of_a_period_and_the_months_asked_are_read() {
        let files = vec![
            found("cur/20261001-20261101/old/cur-1.csv.gz", 100),
            found("cur/20261001-20261101/new/cur-1.csv.gz", 200),
            found("cur/20261001-20261101/new/cur-2.csv.gz", 150),
            found("cur/20260901-20261001/v/cur-1.csv.gz", 50),
            found("loose.parquet", 1),
        ];
        let months = BTreeSet::from(["2026-10"]);
        let (kept, notes) = select(files, &months);
        let keys: Vec<&str> = kept.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "cur/20261001-20261101/new/cur-1.csv.gz",
                "cur/20261001-20261101/new/cur-2.csv.gz",
                "loose.parquet"
            ]
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("2 versions"), "{notes:?}");
    }

    #[test]
    fn an_export_beside_its_unpacked_copy_is_read_once() {
        let files = vec![
            found("cur/nat.csv", 1),
            found("cur/nat.csv.gz", 1),
            found("cur/other.csv", 1),
        ];
        let (kept, notes) = select(files, &BTreeSet::new());
        let keys: Vec<&str> = kept.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["cur/nat.csv.gz", "cur/other.csv"]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("cur/nat.csv: the same export"),
            "{notes:?}"
        );
    }
}

//! The regular files under the paths a user names: each read once, whatever the paths overlap
//! in (the same path twice, a folder and its subfolder, symlinks inside a folder), folders
//! followed through symlinks but never twice (a symlink loop ends at once), and FIFOs, devices
//! and sockets left alone (reading one would hang or never end).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The files found, sorted by path, and what was left out (not regular files).
#[derive(Debug, Default)]
pub struct Found {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<String>,
}

/// Every regular file under `paths` whose path `wanted` accepts (a path named directly is taken
/// whatever its name), each once by its canonical path. `what` names the files in errors.
pub fn regular_files(
    paths: &[PathBuf],
    what: &str,
    wanted: impl Fn(&Path) -> bool,
) -> Result<Found> {
    let mut out = Found::default();
    let mut files_seen = BTreeSet::new();
    let mut dirs_seen = BTreeSet::new();
    for p in paths {
        let meta =
            std::fs::metadata(p).with_context(|| format!("cannot read {what} {}", p.display()))?;
        if meta.is_dir() {
            walk(p, &wanted, &mut dirs_seen, &mut files_seen, &mut out)?;
        } else if meta.is_file() {
            if files_seen.insert(canonical(p)?) {
                out.files.push(p.clone());
            }
        } else {
            bail!(
                "{what} {}: not a regular file (a FIFO, device or socket is never read)",
                p.display()
            );
        }
    }
    out.files.sort();
    Ok(out)
}

fn canonical(p: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(p).with_context(|| format!("cannot resolve {}", p.display()))
}

fn walk(
    root: &Path,
    wanted: &impl Fn(&Path) -> bool,
    dirs_seen: &mut BTreeSet<PathBuf>,
    files_seen: &mut BTreeSet<PathBuf>,
    out: &mut Found,
) -> Result<()> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        if !dirs_seen.insert(canonical(&d)?) {
            continue;
        }
        let entries =
            std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?;
        for e in entries {
            let path = e
                .with_context(|| format!("cannot read {}", d.display()))?
                .path();
            // Follows symlinks; one that leads nowhere is left out, as is anything not a file or
            // folder: said only when its name is one natcost would read.
            let meta = match std::fs::metadata(&path) {
                Ok(meta) => meta,
                Err(e) => {
                    if wanted(&path) {
                        let link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink());
                        let why = if link && e.kind() == std::io::ErrorKind::NotFound {
                            "a link to nothing".to_string()
                        } else {
                            format!("cannot read it ({e})")
                        };
                        out.skipped.push(format!("{}: {why}", path.display()));
                    }
                    continue;
                }
            };
            if meta.is_dir() {
                stack.push(path);
            } else if !wanted(&path) {
            } else if !meta.is_file() {
                out.skipped
                    .push(format!("{}: not a regular file", path.display()));
            } else if files_seen.insert(canonical(&path)?) {
                out.files.push(path);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(_: &Path) -> bool {
        true
    }

    #[cfg(unix)]
    #[test]
    fn overlaps_links_loops_and_fifos_give_each_file_once() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("d");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("a.log"), "x").unwrap();
        std::fs::write(d.join("sub/b.log"), "y").unwrap();
        std::os::unix::fs::symlink(".", d.join("self")).unwrap();
        std::os::unix::fs::symlink("..", d.join("sub/up")).unwrap();
        std::os::unix::fs::symlink("a.log", d.join("again.log")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", d.join("zero.log")).unwrap();
        std::os::unix::fs::symlink("nowhere", d.join("gone.log")).unwrap();
        // Not a name natcost reads: not said either.
        std::os::unix::fs::symlink("nowhere", d.join("notes.txt")).unwrap();
        let fifo = d.join("pipe.log");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let logs = |p: &Path| p.extension().is_some_and(|e| e == "log");
        let found =
            regular_files(&[d.clone(), d.clone(), d.join("sub")], "flow logs", logs).unwrap();
        let names: Vec<String> = found
            .files
            .iter()
            .map(|p| std::fs::canonicalize(p).unwrap().display().to_string())
            .collect();
        let canon = std::fs::canonicalize(&d).unwrap();
        assert_eq!(
            names,
            [
                canon.join("a.log").display().to_string(),
                canon.join("sub/b.log").display().to_string()
            ]
        );
        assert_eq!(found.skipped.len(), 3, "{:?}", found.skipped);
        let err = regular_files(&[fifo], "flow logs", any).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
}

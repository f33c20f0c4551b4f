//! Writing a report folder all at once: files go to a temporary sibling folder, which
//! replaces the target only when everything is written.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

pub fn write_dir(target: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .with_context(|| format!("output folder {} has no name", target.display()))?
        .to_string_lossy()
        .to_string();
    if target.exists() && !target.is_dir() {
        bail!("output {} exists and is not a folder", target.display());
    }
    fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.tmp-{pid}"));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    if let Err(e) = fill(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if target.exists() {
        let old = parent.join(format!(".{name}.old-{pid}"));
        let _ = fs::remove_dir_all(&old);
        fs::rename(target, &old).with_context(|| format!("cannot replace {}", target.display()))?;
        if let Err(e) = fs::rename(&tmp, target) {
            let _ = fs::rename(&old, target);
            let _ = fs::remove_dir_all(&tmp);
            return Err(e).with_context(|| format!("cannot write {}", target.display()));
        }
        let _ = fs::remove_dir_all(&old);
    } else if let Err(e) = fs::rename(&tmp, target) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", target.display()));
    }
    Ok(())
}

/// Writes one file so that a reader never sees it half-written.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| {
        let _ = fs::remove_file(&tmp);
        format!("cannot write {}", path.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_leaves_nothing_and_keeps_the_old_folder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        write_dir(&target, |d| Ok(fs::write(d.join("a.txt"), "one")?)).unwrap();
        let err = write_dir(&target, |d| {
            fs::write(d.join("a.txt"), "two")?;
            bail!("chart failed")
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "chart failed");
        assert_eq!(fs::read_to_string(target.join("a.txt")).unwrap(), "one");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out")]);
        write_dir(&target, |d| Ok(fs::write(d.join("b.txt"), "new")?)).unwrap();
        assert!(!target.join("a.txt").exists());
        assert_eq!(fs::read_to_string(target.join("b.txt")).unwrap(), "new");
    }
}

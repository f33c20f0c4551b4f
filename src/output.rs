//! Writing a report folder without ever losing a user's files.
//!
//! natcost replaces only a folder it wrote itself, marked with a `.natcost-report` file and
//! holding nothing but the files named in [`REPORT_FILES`]: the new report is staged in a
//! temporary sibling folder and swapped in only when every file is written. Any other
//! existing folder is refused unless `--force`, which adds natcost's files to it and leaves
//! everything else as it is. The current folder, its parents and the snapshot being read are
//! never written over, even with `--force`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The file that marks a folder natcost wrote (and may therefore replace).
pub const MARKER: &str = ".natcost-report";

/// Every file natcost writes into a report folder, and the only ones it stages: the writer
/// refuses any other name (an internal error), so a new file (an `.svg` chart, ...) must be
/// added here. A marked folder holding only these names is natcost's to replace.
pub const REPORT_FILES: [&str; 28] = [
    "summary.png",
    "summary.svg",
    "monthly_components.png",
    "monthly_components.svg",
    "costs.csv",
    "natcost.xlsx",
    "allocation.csv",
    "allocation_by_team.csv",
    "allocation.png",
    "allocation.svg",
    "reconcile.csv",
    "reconcile.png",
    "reconcile.svg",
    "recommendations.csv",
    "lambdas.csv",
    "report.md",
    "report.json",
    "prices.json",
    "snapshot.json",
    "monthly_cost.png",
    "daily_gb.png",
    "alternatives.png",
    "topology.png",
    "monthly_cost.svg",
    "daily_gb.svg",
    "alternatives.svg",
    "topology.svg",
    MARKER,
];

/// What the marker file says.
pub fn marker_text() -> String {
    format!(
        "written by natcost {}; natcost may replace this folder. Delete this file to protect it.\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn is_report_file(name: &str) -> bool {
    REPORT_FILES.contains(&name)
}

fn ensure_listed(name: &str) -> Result<()> {
    if !is_report_file(name) {
        bail!("internal error: natcost staged {name}, which is not in its list of report files (output::REPORT_FILES)");
    }
    Ok(())
}

/// What the writer must protect.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Write into a folder natcost did not write: add or replace natcost's files there and
    /// leave every other file and subfolder as it is.
    pub force: bool,
    /// The snapshot this run reads: never deleted or overwritten.
    pub reading: Option<PathBuf>,
    /// The current folder: it and its parents are never written into.
    pub cwd: Option<PathBuf>,
}

impl Guard {
    pub fn new(force: bool, reading: Option<&Path>) -> Guard {
        Guard {
            force,
            reading: reading.map(Path::to_path_buf),
            cwd: std::env::current_dir().ok(),
        }
    }
}

/// The folder being filled; only names from [`REPORT_FILES`] may be written into it.
pub struct Staging {
    dir: PathBuf,
    /// Held while the folder is in use: a later run leaves a locked one alone.
    _lock: fs::File,
    /// Removed if natcost is interrupted while it is filled.
    _filling: crate::interrupt::Filling,
}

impl Staging {
    /// Where a report file goes, once its name is checked against [`REPORT_FILES`].
    pub fn path(&self, name: &str) -> Result<PathBuf> {
        ensure_listed(name)?;
        Ok(self.dir.join(name))
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> Result<()> {
        let path = self.path(name)?;
        fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    }

    /// The folder itself: whatever lands there is checked against [`REPORT_FILES`] before the
    /// folder is used (a test writes there directly to show it).
    #[cfg(test)]
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// What is at the target today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Missing,
    Empty,
    /// Marked, and holding only report files: replaced whole.
    Ours,
    /// Anything else, with `--force`: natcost's files are merged in.
    Merge,
}

#[derive(Debug)]
struct Target {
    /// The folder as resolved (canonical when it exists).
    path: PathBuf,
    parent: PathBuf,
    name: String,
    state: State,
    /// The snapshot being read, canonical.
    reading: Option<PathBuf>,
}

fn refuse(target: &Path, why: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "refusing to write the report into {}: {why}",
        target.display()
    )
}

/// Names in a folder natcost did not write (subfolders end with `/`), sorted.
fn foreign_entries(dir: &Path) -> Result<(Vec<String>, bool)> {
    let mut foreign = Vec::new();
    let mut marked = false;
    for e in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let e = e.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = e.file_name().to_string_lossy().to_string();
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(true);
        if is_dir {
            foreign.push(format!("{name}/"));
        } else if !is_report_file(&name) {
            foreign.push(name);
        } else if name == MARKER {
            marked = true;
        }
    }
    foreign.sort();
    Ok((foreign, marked))
}

fn list_some(names: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut s = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(", …");
    }
    s
}

/// Checks the target against the rules, before anything is written.
fn inspect(target: &Path, guard: &Guard) -> Result<Target> {
    // A snapshot that cannot be resolved cannot be overwritten; its reader says what is wrong.
    let reading = guard
        .reading
        .as_ref()
        .and_then(|p| fs::canonicalize(p).ok());
    if !target.exists() {
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .with_context(|| format!("output folder {} has no name", target.display()))?
            .to_string_lossy()
            .to_string();
        return Ok(Target {
            path: parent.join(&name),
            parent,
            name,
            state: State::Missing,
            reading,
        });
    }
    if !target.is_dir() {
        bail!("output {} exists and is not a folder", target.display());
    }
    let path =
        fs::canonicalize(target).with_context(|| format!("cannot resolve {}", target.display()))?;
    if let Some(cwd) = guard.cwd.as_ref().and_then(|c| fs::canonicalize(c).ok()) {
        if cwd == path {
            return Err(refuse(
                target,
                "it is the current folder; choose another --out",
            ));
        }
        if cwd.starts_with(&path) {
            return Err(refuse(
                target,
                "it holds the current folder; choose another --out",
            ));
        }
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(refuse(target, "it is a root folder; choose another --out"));
    };
    let (parent, name) = (parent.to_path_buf(), name.to_string_lossy().to_string());
    // Files natcost always writes must not be the snapshot being read (snapshot.json is
    // written only by live runs: checked once the files are staged).
    if let Some(r) = &reading {
        for n in REPORT_FILES.iter().filter(|n| **n != "snapshot.json") {
            if fs::canonicalize(path.join(n)).is_ok_and(|p| &p == r) {
                return Err(refuse(
                    target,
                    &format!("{n} there is the snapshot being read; choose another --out"),
                ));
            }
        }
    }
    let (foreign, marked) = foreign_entries(&path)?;
    let empty = foreign.is_empty()
        && fs::read_dir(&path)
            .with_context(|| format!("cannot read {}", target.display()))?
            .next()
            .is_none();
    let state = if empty {
        State::Empty
    } else if marked && foreign.is_empty() {
        State::Ours
    } else if guard.force {
        if let Some(n) = REPORT_FILES.iter().find(|n| path.join(n).is_dir()) {
            return Err(refuse(
                target,
                &format!("{n} there is a folder; choose another --out"),
            ));
        }
        State::Merge
    } else if !foreign.is_empty() {
        return Err(refuse(
            target,
            &format!(
                "it holds files natcost did not write ({}); choose another --out or pass --force",
                list_some(&foreign)
            ),
        ));
    } else {
        return Err(refuse(
            target,
            &format!(
                "it was not written by natcost (no {MARKER}); choose another --out or pass --force"
            ),
        ));
    };
    Ok(Target {
        path,
        parent,
        name,
        state,
        reading,
    })
}

/// Refuses, before anything is written, an output folder the writer would refuse.
pub fn check(target: &Path, guard: &Guard) -> Result<()> {
    inspect(target, guard).map(|_| ())
}

/// Writes a report folder: `fill` writes the files into a staging folder, then they replace
/// the target (a folder natcost wrote, an empty one, or none) all at once, or, with `--force`
/// on any other folder, are moved into it one by one. A failure changes nothing.
pub fn write_dir(
    target: &Path,
    guard: &Guard,
    fill: impl FnOnce(&Staging) -> Result<()>,
) -> Result<()> {
    let t = inspect(target, guard)?;
    let (home, prefix) = match t.state {
        State::Merge => (t.path.clone(), MERGE_PREFIX.to_string()),
        _ => {
            fs::create_dir_all(&t.parent)
                .with_context(|| format!("cannot create {}", t.parent.display()))?;
            (t.parent.clone(), format!(".{}.tmp-", t.name))
        }
    };
    remove_stale(&home, &prefix);
    remove_stale(&t.parent, &format!(".{}.old-", t.name));
    let (filling, lock) = crate::interrupt::Filling::create(|| new_locked_dir(&home, &prefix))?;
    let stage = Staging {
        dir: filling.dir().to_path_buf(),
        _filling: filling,
        _lock: lock,
    };
    let staged = fill(&stage)
        .and_then(|()| stage.write(MARKER, marker_text()))
        .and_then(|()| staged_names(&stage.dir))
        .and_then(|names| {
            check_not_reading(target, &t, &names)?;
            Ok(names)
        });
    let staged = match staged {
        Ok(names) => names,
        Err(e) => {
            let _ = fs::remove_dir_all(&stage.dir);
            return Err(e);
        }
    };
    let _hold = crate::interrupt::hold();
    match t.state {
        State::Missing => {
            if let Err(e) = fs::rename(&stage.dir, &t.path) {
                let _ = fs::remove_dir_all(&stage.dir);
                return Err(e).with_context(|| format!("cannot write {}", target.display()));
            }
            Ok(())
        }
        State::Empty | State::Ours => swap(target, &t, &stage.dir, &staged),
        State::Merge => merge(target, &t, &stage.dir, &staged),
    }
}

/// The names staged, each checked against [`REPORT_FILES`].
fn staged_names(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for e in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let e = e.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = e.file_name().to_string_lossy().to_string();
        ensure_listed(&name)?;
        if e.file_type().map(|t| t.is_dir()).unwrap_or(true) {
            bail!("internal error: natcost staged {name} as a folder");
        }
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// A staged file may not land on the snapshot being read.
fn check_not_reading(target: &Path, t: &Target, staged: &[String]) -> Result<()> {
    let Some(r) = &t.reading else {
        return Ok(());
    };
    if t.state == State::Missing {
        return Ok(());
    }
    for n in staged {
        if fs::canonicalize(t.path.join(n)).is_ok_and(|p| &p == r) {
            return Err(refuse(
                target,
                &format!("{n} there is the snapshot being read; choose another --out"),
            ));
        }
    }
    Ok(())
}

/// Replaces the target with the staged folder; a snapshot being read from the old folder
/// moves into the new one first, so it is never deleted.
fn swap(target: &Path, t: &Target, stage: &Path, staged: &[String]) -> Result<()> {
    let carry = t.reading.as_ref().and_then(|r| {
        let inside = t.path.join("snapshot.json");
        (t.state == State::Ours
            && !staged.iter().any(|n| n == "snapshot.json")
            && fs::canonicalize(&inside).is_ok_and(|p| &p == r))
        .then_some(inside)
    });
    let carried = stage.join("snapshot.json");
    // Puts the carried snapshot back where it was; the staging folder is removed only then.
    let undo = |stage_has_it: bool| {
        if stage_has_it {
            if let Some(c) = &carry {
                if fs::rename(&carried, c).is_err() {
                    return;
                }
            }
        }
        let _ = fs::remove_dir_all(stage);
    };
    if let Some(c) = &carry {
        if let Err(e) = fs::rename(c, &carried) {
            undo(false);
            return Err(e).with_context(|| format!("cannot move {}", c.display()));
        }
    }
    // An empty folder of a name no one else has, which the rename replaces.
    // Locked until removed: another run's stale cleanup leaves it alone meanwhile.
    let (old, _old_lock) = match new_locked_dir(&t.parent, &format!(".{}.old-", t.name)) {
        Ok(made) => made,
        Err(e) => {
            undo(true);
            return Err(e);
        }
    };
    if let Err(e) = fs::rename(&t.path, &old) {
        let _ = fs::remove_dir(&old);
        undo(true);
        return Err(e).with_context(|| format!("cannot replace {}", target.display()));
    }
    if let Err(e) = fs::rename(stage, &t.path) {
        let _ = fs::rename(&old, &t.path);
        undo(true);
        return Err(e).with_context(|| format!("cannot write {}", target.display()));
    }
    if let Err(e) = remove_own(&old) {
        crate::messages::warn(format_args!("{e:#}"));
    }
    Ok(())
}

/// Removes a replaced report folder: only the files natcost writes, then the folder if that
/// left it empty (a file someone added meanwhile keeps it).
fn remove_own(old: &Path) -> Result<()> {
    for n in REPORT_FILES {
        let p = old.join(n);
        if p.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
            let _ = fs::remove_file(&p);
        }
    }
    fs::remove_dir(old).with_context(|| {
        format!(
            "kept {}: it holds files natcost did not write",
            old.display()
        )
    })
}

/// Moves the staged files into a folder natcost did not write, the marker last; every other
/// file there stays as it is.
fn merge(target: &Path, t: &Target, stage: &Path, staged: &[String]) -> Result<()> {
    let order = staged
        .iter()
        .filter(|n| *n != MARKER)
        .chain(staged.iter().filter(|n| *n == MARKER));
    for n in order {
        if let Err(e) = fs::rename(stage.join(n), t.path.join(n)) {
            let _ = fs::remove_dir_all(stage);
            return Err(e).with_context(|| format!("cannot write {}", target.join(n).display()));
        }
    }
    fs::remove_dir(stage).with_context(|| format!("cannot remove {}", stage.display()))
}

/// Refuses, before anything is collected, a snapshot file `-o` names that exists and is not a
/// natcost snapshot (unless `force`), or that is a folder.
pub fn check_snapshot_target(path: &Path, force: bool) -> Result<()> {
    let Ok(meta) = fs::metadata(path) else {
        return Ok(());
    };
    if !meta.is_file() {
        bail!(
            "refusing to write the snapshot to {}: it is not a regular file",
            path.display()
        );
    }
    if force {
        return Ok(());
    }
    let mut head = Vec::new();
    fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 256), &mut head))
        .with_context(|| format!("cannot read {}", path.display()))?;
    // A snapshot starts with its schema version (compact or pretty JSON).
    let text = String::from_utf8_lossy(&head);
    let text = text.trim_start();
    let ours = text
        .strip_prefix('{')
        .is_some_and(|rest| rest.trim_start().starts_with("\"schema_version\""));
    if !ours {
        bail!(
            "refusing to overwrite {}: it is not a natcost snapshot; choose another -o or pass --force",
            path.display()
        );
    }
    Ok(())
}

/// Writes one file so that a reader never sees it half-written: written beside it under a
/// name no one can predict, then renamed over it.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!(".{name}.tmp-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // As fs::write would create it (0666 less the umask), not tempfile's owner-only 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder
        .tempfile_in(parent)
        .with_context(|| format!("cannot write {}", path.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    tmp.persist(path)
        .map(|_| ())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The prefix of a staging folder inside a folder natcost did not write (`--force`).
const MERGE_PREFIX: &str = ".natcost-tmp-";

/// A new, empty folder in `parent` named `prefix` and random characters (it cannot exist
/// before), locked while the returned file is open.
fn new_locked_dir(parent: &Path, prefix: &str) -> Result<(PathBuf, fs::File)> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(parent)
        .with_context(|| format!("cannot create a folder in {}", parent.display()))?
        .keep();
    let lock = fs::File::open(&dir)
        .and_then(|f| f.lock().map(|()| f))
        .with_context(|| format!("cannot lock {}", dir.display()));
    match lock {
        Ok(lock) => Ok((dir, lock)),
        Err(e) => {
            let _ = fs::remove_dir(&dir);
            Err(e)
        }
    }
}

/// Removes what an interrupted run left in `dir`: folders named `prefix…` that no running
/// natcost holds locked, and only natcost's files in them (a folder with anything else stays).
fn remove_stale(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(prefix) || !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = e.path();
        // A folder made this minute may be another run's, between its creation and its lock.
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() >= 60);
        // Held while removing: no run can take it meanwhile.
        let lock = fs::File::open(&path).ok().filter(|f| f.try_lock().is_ok());
        let ours = foreign_entries(&path).is_ok_and(|(foreign, _)| foreign.is_empty());
        if let (true, Some(_lock), true) = (old, lock, ours) {
            if let Err(e) = remove_own(&path) {
                crate::messages::warn(format_args!("{e:#}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Every file and folder under `dir` (relative path → contents; folders end with `/`).
    fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
            for e in fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                if p.is_dir() {
                    out.insert(format!("{rel}/"), Vec::new());
                    walk(root, &p, out);
                } else {
                    out.insert(rel, fs::read(&p).unwrap());
                }
            }
        }
        walk(dir, dir, &mut out);
        out
    }

    fn guard(force: bool) -> Guard {
        Guard {
            force,
            reading: None,
            cwd: None,
        }
    }

    fn costs(text: &'static str) -> impl FnOnce(&Staging) -> Result<()> {
        move |s| s.write("costs.csv", text)
    }

    #[test]
    fn failure_leaves_nothing_and_keeps_the_old_folder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        write_dir(&target, &guard(false), costs("one")).unwrap();
        assert_eq!(
            fs::read_to_string(target.join(MARKER)).unwrap(),
            marker_text()
        );
        let err = write_dir(&target, &guard(false), |s| {
            s.write("costs.csv", "two")?;
            bail!("chart failed")
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "chart failed");
        assert_eq!(fs::read_to_string(target.join("costs.csv")).unwrap(), "one");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out")]);
        write_dir(&target, &guard(false), |s| s.write("report.md", "new")).unwrap();
        assert!(!target.join("costs.csv").exists());
        assert_eq!(fs::read_to_string(target.join("report.md")).unwrap(), "new");
    }

    #[test]
    fn a_file_not_in_the_list_is_an_internal_error() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let err = write_dir(&target, &guard(false), |s| s.write("notes.svg", "x")).unwrap_err();
        assert!(err.to_string().starts_with("internal error"), "{err}");
        // Written straight into the folder, it is caught before the folder is used.
        let err = write_dir(&target, &guard(false), |s| {
            Ok(fs::write(s.dir().join("chart.svg"), "x")?)
        })
        .unwrap_err();
        assert!(err.to_string().contains("chart.svg"), "{err}");
        assert!(!target.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn foreign_or_unmarked_folders_are_refused_then_merged_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        fs::create_dir_all(target.join("sub")).unwrap();
        fs::write(target.join("notes.txt"), "mine").unwrap();
        fs::write(target.join("sub/deep.txt"), "deeper").unwrap();
        fs::write(target.join("costs.csv"), "their costs").unwrap();
        let before = tree(&target);
        let err = write_dir(&target, &guard(false), costs("one")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "refusing to write the report into {}: it holds files natcost did not write (notes.txt, sub/); choose another --out or pass --force",
                target.display()
            )
        );
        assert_eq!(tree(&target), before);

        write_dir(&target, &guard(true), costs("one")).unwrap();
        let after = tree(&target);
        assert_eq!(after["notes.txt"], b"mine");
        assert_eq!(after["sub/deep.txt"], b"deeper");
        assert_eq!(after["costs.csv"], b"one");
        assert_eq!(after[MARKER], marker_text().as_bytes());
        assert_eq!(after.len(), before.len() + 1, "{:?}", after.keys());
        // Marked now, but still holding other files: refused again without --force.
        assert!(write_dir(&target, &guard(false), costs("two")).is_err());

        let unmarked = dir.path().join("old-report");
        fs::create_dir(&unmarked).unwrap();
        fs::write(unmarked.join("costs.csv"), "old").unwrap();
        let err = write_dir(&unmarked, &guard(false), costs("one")).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("it was not written by natcost (no .natcost-report); choose another --out or pass --force"),
            "{err}"
        );
        assert_eq!(
            fs::read_to_string(unmarked.join("costs.csv")).unwrap(),
            "old"
        );
    }

    #[test]
    fn the_current_folder_and_its_parents_are_refused_even_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().join("a/b");
        fs::create_dir_all(&cwd).unwrap();
        fs::write(cwd.join("x"), "x").unwrap();
        let before = tree(dir.path());
        let g = Guard {
            force: true,
            reading: None,
            cwd: Some(cwd.clone()),
        };
        for (t, why) in [
            (cwd.clone(), "it is the current folder"),
            (cwd.join(".."), "it holds the current folder"),
            (dir.path().to_path_buf(), "it holds the current folder"),
        ] {
            let err = write_dir(&t, &g, costs("one")).unwrap_err();
            assert!(err.to_string().contains(why), "{t:?}: {err}");
        }
        assert_eq!(tree(dir.path()), before);
        // A folder inside it is fine.
        write_dir(&cwd.join("rep"), &g, costs("one")).unwrap();
    }

    #[test]
    fn the_snapshot_being_read_is_kept_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        write_dir(&target, &guard(false), costs("one")).unwrap();
        let snap = target.join("snapshot.json");
        fs::write(&snap, "{snapshot}").unwrap();
        let g = Guard {
            force: false,
            reading: Some(snap.clone()),
            cwd: None,
        };
        // Not written by this run: carried into the new folder.
        write_dir(&target, &g, costs("two")).unwrap();
        assert_eq!(fs::read_to_string(&snap).unwrap(), "{snapshot}");
        assert_eq!(fs::read_to_string(target.join("costs.csv")).unwrap(), "two");
        // Written by this run: refused, even with --force.
        for force in [false, true] {
            let g = Guard { force, ..g.clone() };
            let err = write_dir(&target, &g, |s| s.write("snapshot.json", "new")).unwrap_err();
            assert!(
                err.to_string()
                    .contains("snapshot.json there is the snapshot being read"),
                "{err}"
            );
            assert_eq!(fs::read_to_string(&snap).unwrap(), "{snapshot}");
        }
        // A snapshot under another report name is refused before anything is written.
        let as_costs = target.join("costs.csv");
        let g = Guard {
            force: true,
            reading: Some(as_costs.clone()),
            cwd: None,
        };
        let err = write_dir(&target, &g, costs("three")).unwrap_err();
        assert!(
            err.to_string().contains("costs.csv there is the snapshot"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&as_costs).unwrap(), "two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_empty_folder_is_written_and_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        fs::create_dir(&target).unwrap();
        write_dir(&target, &guard(false), costs("one")).unwrap();
        assert_eq!(fs::read_to_string(target.join("costs.csv")).unwrap(), "one");
        let file = dir.path().join("file");
        fs::write(&file, "f").unwrap();
        let err = write_dir(&file, &guard(true), costs("one")).unwrap_err();
        assert!(err.to_string().contains("is not a folder"), "{err}");
    }

    #[test]
    fn staging_names_cannot_be_predicted_and_stale_ones_are_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        // The old predictable name, holding someone's file: never touched.
        let theirs = dir.path().join(format!(".out.tmp-{}", std::process::id()));
        fs::create_dir(&theirs).unwrap();
        fs::write(theirs.join("notes.txt"), "mine").unwrap();
        // Left by an interrupted run: natcost's files only, locked by no one.
        let stale = dir.path().join(".out.tmp-a1b2c3");
        fs::create_dir(&stale).unwrap();
        fs::write(stale.join("costs.csv"), "partial").unwrap();
        let stale_old = dir.path().join(".out.old-d4e5f6");
        fs::create_dir(&stale_old).unwrap();
        fs::write(stale_old.join("report.md"), "old").unwrap();
        // Left an hour ago: one made this minute may be another run's, not yet locked.
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for d in [&stale, &stale_old] {
            fs::File::open(d).unwrap().set_modified(hour_ago).unwrap();
        }
        let young = dir.path().join(".out.tmp-g7h8i9");
        fs::create_dir(&young).unwrap();
        // Stamped by this process's clock, as the ages above (the file system's may differ
        // when the clock is moved).
        fs::File::open(&young)
            .unwrap()
            .set_modified(std::time::SystemTime::now())
            .unwrap();
        // In use by a run still writing (it holds the lock).
        let (busy, _lock) = new_locked_dir(dir.path(), ".out.tmp-").unwrap();
        fs::write(busy.join("costs.csv"), "being written").unwrap();

        write_dir(&target, &guard(false), costs("one")).unwrap();
        assert_eq!(fs::read_to_string(target.join("costs.csv")).unwrap(), "one");
        assert_eq!(
            fs::read_to_string(theirs.join("notes.txt")).unwrap(),
            "mine"
        );
        assert!(!stale.exists() && !stale_old.exists());
        assert!(busy.join("costs.csv").exists());
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let busy_name = busy.file_name().unwrap().to_string_lossy().into_owned();
        let mut want = vec![
            "out".to_string(),
            theirs.file_name().unwrap().to_string_lossy().into_owned(),
            busy_name,
            ".out.tmp-g7h8i9".to_string(),
        ];
        want.sort();
        assert_eq!(names, want);
    }

    #[test]
    fn only_a_snapshot_is_overwritten_by_collect() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        check_snapshot_target(&p, false).unwrap();
        fs::write(&p, "{\n  \"schema_version\": 2,\n  \"accounts\": []\n}").unwrap();
        check_snapshot_target(&p, false).unwrap();
        fs::write(&p, "my thesis").unwrap();
        let err = check_snapshot_target(&p, false).unwrap_err().to_string();
        assert!(err.contains("it is not a natcost snapshot"), "{err}");
        check_snapshot_target(&p, true).unwrap();
        let err = check_snapshot_target(dir.path(), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }
}

//! Ctrl-C (SIGINT) or SIGTERM while a report is written: the folders being filled are removed
//! before natcost exits (130 or 143, as a shell reports a signal), so an interrupted run leaves
//! nothing half-written behind.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

static FILLING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn list() -> MutexGuard<'static, Vec<PathBuf>> {
    FILLING.lock().unwrap_or_else(|e| e.into_inner())
}

/// While it lives, its folder is removed if natcost is interrupted.
pub struct Filling(PathBuf);

impl Filling {
    /// The folder `make` creates, registered before a signal can come between: `make` returns
    /// it and whatever else it made.
    pub fn create<T, E>(make: impl FnOnce() -> Result<(PathBuf, T), E>) -> Result<(Filling, T), E> {
        watch();
        let mut list = list();
        let (dir, made) = make()?;
        list.push(dir.clone());
        Ok((Filling(dir), made))
    }

    pub fn dir(&self) -> &Path {
        &self.0
    }
}

impl Drop for Filling {
    fn drop(&mut self) {
        list().retain(|p| p != &self.0);
    }
}

/// Holds an interruption back while renames that belong together run: an interrupted run
/// exits before them or after them, never between.
pub fn hold() -> MutexGuard<'static, Vec<PathBuf>> {
    list()
}

/// Removes a folder another thread may still be writing into: renamed away first, so that no
/// new file can land in it, then removed.
fn remove(dir: &Path) {
    let mut away = dir.as_os_str().to_owned();
    away.push(".removing");
    let away = PathBuf::from(away);
    let target = if std::fs::rename(dir, &away).is_ok() {
        away
    } else {
        dir.to_path_buf()
    };
    for _ in 0..5 {
        match std::fs::remove_dir_all(&target) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => continue,
            _ => return,
        }
    }
}

/// Starts, once, the thread that waits for the signals, and returns once they are watched (a
/// signal from then on cleans up).
fn watch() {
    static WATCHING: OnceLock<()> = OnceLock::new();
    WATCHING.get_or_init(|| {
        let (ready, watched) = std::sync::mpsc::channel();
        let started = std::thread::Builder::new()
            .name("natcost-signals".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    let _ = ready.send(());
                    return;
                };
                if let Some(code) = rt.block_on(signalled(ready)) {
                    let filling = list();
                    for dir in filling.iter() {
                        remove(dir);
                    }
                    if !filling.is_empty() {
                        eprintln!("natcost: interrupted: the partial report files were removed");
                    }
                    std::process::exit(code);
                }
            });
        if started.is_ok() {
            let _ = watched.recv();
        }
    });
}

/// The exit code of the first SIGINT (130) or SIGTERM (143); None if neither can be watched.
/// `ready` is told once they are.
#[cfg(unix)]
async fn signalled(ready: std::sync::mpsc::Sender<()>) -> Option<i32> {
    use tokio::signal::unix::{signal, SignalKind};
    let int = signal(SignalKind::interrupt());
    let term = signal(SignalKind::terminate());
    let _ = ready.send(());
    match (int, term) {
        (Ok(mut int), Ok(mut term)) => tokio::select! {
            _ = int.recv() => Some(130),
            _ = term.recv() => Some(143),
        },
        (Ok(mut int), Err(_)) => int.recv().await.map(|()| 130),
        (Err(_), Ok(mut term)) => term.recv().await.map(|()| 143),
        (Err(_), Err(_)) => None,
    }
}

#[cfg(not(unix))]
async fn signalled(ready: std::sync::mpsc::Sender<()>) -> Option<i32> {
    let ctrl_c = tokio::signal::ctrl_c();
    let _ = ready.send(());
    ctrl_c.await.ok().map(|()| 130)
}

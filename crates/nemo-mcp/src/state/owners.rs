//! Which server processes are alive, decided by a lock the OS releases when a process ends.
//!
//! Each process makes `processes/<id>.lock` in the state folder and holds an exclusive lock on
//! it for as long as it runs. Another process asks "is `id` alive?" by trying that lock: held
//! means alive; free (or no file) means the process exited, crashed or was killed with
//! `kill -9`, since the OS drops a dead process's locks. No clock and no timeout is involved,
//! so a slow process is never mistaken for a dead one, and a dead one is known at once.
//! (Advisory `flock` on Unix, `LockFileEx` on Windows, through `std::fs::File::try_lock`.)

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A process as a runner of jobs: 32 hex digits, made at start.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProcessId(String);

impl ProcessId {
    fn new() -> ProcessId {
        ProcessId(uuid::Uuid::new_v4().simple().to_string())
    }

    /// An id read back from the database; `None` for what this server never makes.
    pub fn parse(s: &str) -> Option<ProcessId> {
        (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| ProcessId(s.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProcessId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn folder(dir: &Path) -> PathBuf {
    dir.join("processes")
}

fn lock_file(dir: &Path, id: &ProcessId) -> PathBuf {
    folder(dir).join(format!("{}.lock", id.0))
}

/// This process: its id and the lock it holds while it runs.
pub(super) struct Me {
    id: ProcessId,
    file: Mutex<Option<File>>,
}

impl Me {
    pub(super) fn register(dir: &Path) -> std::io::Result<Me> {
        if !folder(dir).exists() {
            std::fs::create_dir_all(folder(dir))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ =
                    std::fs::set_permissions(folder(dir), std::fs::Permissions::from_mode(0o700));
            }
        }
        // Another process's sweep may find our file in the moment between its creation and
        // our lock, take it for a dead process's and remove it: we would then hold a lock on
        // a file nobody can find, and read as dead from then on. So the file is checked to be
        // still ours once locked, and made afresh under a new id if it is not.
        for _ in 0..8 {
            let id = ProcessId::new();
            let path = lock_file(dir, &id);
            let Some(file) = create_locked(&path)? else {
                continue;
            };
            #[cfg(test)]
            tests::between_lock_and_check(dir);
            if still_named(&path, &file) {
                sweep(dir, &id);
                return Ok(Me {
                    id,
                    file: Mutex::new(Some(file)),
                });
            }
            tracing::debug!("our new lock file was swept away before we held it; making another");
        }
        Err(std::io::Error::other(
            "could not keep a lock file in the state folder's processes/ folder",
        ))
    }

    pub(super) fn id(&self) -> &ProcessId {
        &self.id
    }

    pub(super) fn holding(&self) -> bool {
        crate::support::sync::lock(&self.file).is_some()
    }

    /// Drop the lock (the file stays until another process finds it free and removes it).
    pub(super) fn release(&self) {
        crate::support::sync::lock(&self.file).take();
    }
}

/// A new lock file at `path`, locked; `None` when another process was trying it in the same
/// moment (it took us for dead for that instant): the caller makes another.
fn create_locked(path: &Path) -> std::io::Result<Option<File>> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::Error(e)) => Err(e),
        Err(TryLockError::WouldBlock) => {
            drop(file);
            let _ = std::fs::remove_file(path);
            Ok(None)
        }
    }
}

/// `path` still names the file `file` has open (not removed, not replaced).
#[cfg(unix)]
fn still_named(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// On Windows an open file cannot be removed (no `FILE_SHARE_DELETE`): the name is ours.
#[cfg(not(unix))]
fn still_named(path: &Path, _file: &File) -> bool {
    path.exists()
}

/// Whether `id` is alive: its lock is held by someone. A lock that cannot be tried for another
/// reason counts as alive, so a job is never run twice on a doubt.
pub fn alive(dir: &Path, id: &ProcessId) -> bool {
    let file = match OpenOptions::new()
        .read(true)
        .write(true)
        .open(lock_file(dir, id))
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return false,
        Err(e) => {
            tracing::warn!(process = %id, "cannot open its lock file, taking it for alive: {e}");
            return true;
        }
    };
    match file.try_lock() {
        // Free: the process is gone. The lock is ours until `file` drops, right below.
        Ok(()) => false,
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(e)) => {
            tracing::warn!(process = %id, "cannot try its lock, taking it for alive: {e}");
            true
        }
    }
}

/// Whether any registered process but `me` is alive (`me`: `None` before this one registers).
pub fn others_alive(dir: &Path, me: Option<&ProcessId>) -> bool {
    let Ok(entries) = std::fs::read_dir(folder(dir)) else {
        return false;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.path()
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(ProcessId::parse)
        })
        .any(|id| Some(&id) != me && alive(dir, &id))
}

/// Remove the lock files of processes that are gone (each removed while holding its lock, so a
/// live process's file is never removed).
fn sweep(dir: &Path, me: &ProcessId) {
    let Ok(entries) = std::fs::read_dir(folder(dir)) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let Some(id) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(ProcessId::parse)
        else {
            continue;
        };
        if &id == me {
            continue;
        }
        if let Ok(f) = OpenOptions::new().read(true).write(true).open(&path) {
            if f.try_lock().is_ok() {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// A sweep to run in the moment between a new lock file's lock and its check.
        static SWEEP_BETWEEN: Cell<bool> = const { Cell::new(false) };
    }

    pub(super) fn between_lock_and_check(dir: &Path) {
        if SWEEP_BETWEEN.with(|s| s.replace(false)) {
            // What another process's sweep does to a file it can lock: removes it. (Ours is
            // locked by us, so the sweep's own try fails; it is removed as a racing sweep would
            // have removed it a moment before our lock.)
            if let Ok(entries) = std::fs::read_dir(folder(dir)) {
                for e in entries.flatten() {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }

    /// The lock file is removed by another process's sweep between its creation and its
    /// check: registration notices (the name no longer names our file) and makes another,
    /// so the process reads as alive, where it used to read as dead from then on.
    #[test]
    fn a_lock_file_swept_before_it_is_checked_is_made_again() {
        let dir = tempfile::tempdir().unwrap();
        SWEEP_BETWEEN.with(|s| s.set(true));
        let a = Me::register(dir.path()).unwrap();
        assert!(lock_file(dir.path(), a.id()).exists());
        assert!(alive(dir.path(), a.id()), "alive, not taken for dead");
    }

    #[test]
    fn a_process_is_alive_while_it_holds_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let a = Me::register(dir.path()).unwrap();
        assert!(alive(dir.path(), a.id()));
        assert!(!alive(dir.path(), &ProcessId::new()), "never registered");
        a.release();
        assert!(!alive(dir.path(), a.id()));
        // A later start removes the lock files of the processes that are gone.
        let b = Me::register(dir.path()).unwrap();
        assert!(!lock_file(dir.path(), a.id()).exists());
        assert!(lock_file(dir.path(), b.id()).exists());
        assert!(ProcessId::parse("../../x").is_none());
    }
}

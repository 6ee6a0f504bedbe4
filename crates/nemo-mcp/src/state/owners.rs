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
        let id = ProcessId::new();
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(lock_file(dir, &id))?;
        file.try_lock().map_err(|e| match e {
            TryLockError::Error(e) => e,
            TryLockError::WouldBlock => std::io::Error::other("a new lock file was already locked"),
        })?;
        sweep(dir, &id);
        Ok(Me {
            id,
            file: Mutex::new(Some(file)),
        })
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

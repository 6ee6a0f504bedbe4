//! Private, atomic files: credentials and journals are written to a temporary file with mode
//! 0600 in a 0700 directory, synced, then renamed over the old one, so a crash never leaves a
//! torn or world-readable file.

use std::io::Write;
use std::path::Path;

/// Create `dir` (and missing parents) readable by the owner only. A folder that already
/// exists keeps its permissions: it may be shared, and it is not ours to change.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Write `bytes` to `path` atomically with mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    off_the_workers(|| write_private_now(path, bytes))
}

/// Run a durable write (it waits for `fsync`) where it does not hold up other requests: on a
/// multi-threaded runtime the worker hands its other tasks over first. The write stays
/// synchronous on purpose: what it records (a render id before the render is submitted) must
/// be on disk before the caller goes on.
fn off_the_workers<T>(write: impl FnOnce() -> T) -> T {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi {
        tokio::task::block_in_place(write)
    } else {
        write()
    }
}

fn write_private_now(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    private_dir(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Read a JSON file; a missing, unreadable or torn file reads as `None` (and is logged).
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(path = %path.display(), "ignoring an unreadable state file: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub").join("c.json");
        write_private(&p, b"{\"a\":1}").unwrap();
        write_private(&p, b"{\"a\":2}").unwrap();
        assert_eq!(read_json::<serde_json::Value>(&p).unwrap()["a"], 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                std::fs::metadata(p.parent().unwrap())
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o700
            );
        }
        #[cfg(unix)]
        {
            // A folder that exists (a shared one) keeps its mode.
            use std::os::unix::fs::PermissionsExt;
            let shared = dir.path().join("shared");
            std::fs::create_dir(&shared).unwrap();
            std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o775)).unwrap();
            write_private(&shared.join("x.json"), b"{}").unwrap();
            assert_eq!(
                std::fs::metadata(&shared).unwrap().permissions().mode() & 0o777,
                0o775
            );
        }
        std::fs::write(&p, b"{\"a\":").unwrap();
        assert!(
            read_json::<serde_json::Value>(&p).is_none(),
            "a torn file is skipped"
        );
        assert_eq!(
            std::fs::read_dir(p.parent().unwrap()).unwrap().count(),
            1,
            "no temporary files left"
        );
    }
}

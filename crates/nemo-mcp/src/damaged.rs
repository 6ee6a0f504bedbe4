//! A state file that cannot be read (cut short by a crash or a full disk, edited by hand) is
//! never deleted and never silently replaced: it is renamed aside (`NAME.damaged-TIMESTAMP`),
//! and what that means is told in the next result.

use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// A file that was set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAside {
    pub original: PathBuf,
    pub kept_as: PathBuf,
    pub reason: String,
}

impl KeptAside {
    /// `The saved project reference (…/session.json) could not be read (…); it was kept as …`.
    pub fn notice(&self, what: &str, meaning: &str) -> String {
        format!(
            "{what} ({}) could not be read ({}); it was kept as {}. {meaning}",
            self.original.display(),
            self.reason,
            self.kept_as.display()
        )
    }
}

/// Read `path` as JSON: the value; nothing if there is no file; or, if it cannot be read as
/// one, nothing and the file renamed aside.
pub fn read_or_keep_aside<T: DeserializeOwned>(path: &Path) -> (Option<T>, Option<KeptAside>) {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (None, None),
        Err(e) => {
            tracing::error!("cannot read {}: {e}", path.display());
            return (None, None);
        }
    };
    let reason = match serde_json::from_slice::<T>(&bytes) {
        Ok(v) => return (Some(v), None),
        Err(e) if e.is_eof() => "it ends too early, as if cut short".to_string(),
        Err(e) => format!("it is not what this server wrote: {e}"),
    };
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut kept_as = path.as_os_str().to_owned();
    kept_as.push(format!(".damaged-{stamp}"));
    let kept_as = PathBuf::from(kept_as);
    if let Err(e) = std::fs::rename(path, &kept_as) {
        tracing::error!("could not set aside the damaged {}: {e}", path.display());
        return (None, None);
    }
    tracing::warn!(
        "{} could not be read ({reason}); kept as {}",
        path.display(),
        kept_as.display()
    );
    (
        None,
        Some(KeptAside {
            original: path.to_path_buf(),
            kept_as,
            reason,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_file_is_renamed_never_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("session.json");
        assert_eq!(read_or_keep_aside::<serde_json::Value>(&p), (None, None));
        std::fs::write(&p, b"{\"session_id\": \"55").unwrap();
        let (v, kept) = read_or_keep_aside::<serde_json::Value>(&p);
        assert!(v.is_none());
        let kept = kept.unwrap();
        assert!(kept.reason.contains("cut short"), "{}", kept.reason);
        assert!(!p.exists());
        assert_eq!(
            std::fs::read(&kept.kept_as).unwrap(),
            b"{\"session_id\": \"55"
        );
        std::fs::write(&p, b"{\"a\": 1}").unwrap();
        assert!(read_or_keep_aside::<serde_json::Value>(&p).0.is_some());
    }
}

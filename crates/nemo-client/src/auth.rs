//! Tokens: the caller's, else the persisted anonymous token, else a new one; and the client id
//! shared with the official skill.

use crate::files;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// A bearer token. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    pub fn new(s: impl Into<String>) -> Token {
        Token(s.into())
    }
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// Given by the caller ([`crate::Config::token`]): cannot be renewed by us.
    Given,
    /// Obtained from the anonymous-token endpoint: renewed when it expires.
    Anonymous,
}

/// What is persisted in `credentials.json` (mode 0600).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    pub token: Token,
    pub user_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub client_id: String,
    pub api_url: String,
}

impl Credentials {
    pub fn load(path: &Path) -> Option<Credentials> {
        files::read_json(path)
    }
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        files::write_private(path, &bytes)
    }
    /// Expired (with a minute of margin), by the expiry the backend gave.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at
            .is_some_and(|e| e <= now + chrono::Duration::seconds(60))
    }
}

/// Where the anonymous credentials are kept, and how renewals are serialised among the
/// processes that share them: several servers of one user on one state folder must end up on
/// one token (one account), never each on its own.
pub trait CredentialStore: Send + Sync {
    /// The credentials last saved, if any can be read.
    fn load(&self) -> Option<Credentials>;
    /// The credentials last saved, then those they replaced (newest first), for a store that
    /// keeps them: hosts set up for different APIs share one store, and each finds its own
    /// account's token there instead of asking for a new one at every start.
    fn load_all(&self) -> Vec<Credentials> {
        self.load().into_iter().collect()
    }
    fn save(&self, credentials: &Credentials) -> std::io::Result<()>;
    /// Wait until no other process is getting a token, then hold them off until the guard is
    /// dropped. Blocking: called off the async workers.
    fn exclusive(&self) -> std::io::Result<RenewalGuard>;
}

/// The longest a process waits for another's token renewal.
pub const RENEWAL_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Held while a token is got: other processes' renewals wait.
pub struct RenewalGuard {
    _held: Box<dyn Send>,
}

impl RenewalGuard {
    /// An exclusive lock on `path` (made if needed), released when the guard drops or the
    /// process dies; waited for at most [`RENEWAL_WAIT`].
    pub fn lock_file(path: &Path) -> std::io::Result<RenewalGuard> {
        Self::lock_file_within(path, RENEWAL_WAIT)
    }

    /// [`RenewalGuard::lock_file`], waiting at most `wait`. A renewal takes a second or two;
    /// a lock held longer is a process stopped in the middle (suspended with Ctrl-Z, paused
    /// in a debugger), and waiting on it with no deadline would hang every other process.
    pub fn lock_file_within(
        path: &Path,
        wait: std::time::Duration,
    ) -> std::io::Result<RenewalGuard> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        let deadline = std::time::Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!(
                            "another nemo-mcp process has been getting a token for over {} s ({} is held): it may be stopped (suspended, or paused in a debugger); end it, or try again",
                            wait.as_secs(),
                            path.display()
                        ),
                    ))
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
        }
        Ok(RenewalGuard {
            _held: Box::new(file),
        })
    }
}

/// `credentials.json` in the state folder, renewals serialised by `credentials.lock` beside it.
pub struct FileStore {
    pub file: std::path::PathBuf,
    pub lock: std::path::PathBuf,
}

impl CredentialStore for FileStore {
    fn load(&self) -> Option<Credentials> {
        Credentials::load(&self.file)
    }
    fn save(&self, credentials: &Credentials) -> std::io::Result<()> {
        credentials.save(&self.file)
    }
    fn exclusive(&self) -> std::io::Result<RenewalGuard> {
        RenewalGuard::lock_file(&self.lock)
    }
}

/// The client id: `NEMO_CLIENT_ID`, else the shared file, else a new UUID written there.
pub fn load_or_create_client_id(given: Option<&str>, file: &Path) -> std::io::Result<String> {
    if let Some(id) = given.map(str::trim).filter(|s| !s.is_empty()) {
        return Ok(id.to_string());
    }
    if let Ok(s) = std::fs::read_to_string(file) {
        let s = s.trim();
        if !s.is_empty()
            && s.len() <= 128
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Ok(s.to_string());
        }
    }
    new_client_id(file)
}

/// Make and persist a fresh client id (also after the backend says ours is missing or bad).
pub fn new_client_id(file: &Path) -> std::io::Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    files::write_private(file, id.as_bytes())?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_print() {
        let t = Token::new("nmv_usr_secret");
        assert!(!format!("{t:?} {t}").contains("secret"));
    }

    #[test]
    fn client_id_is_shared_and_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("nemovideo").join("client_id");
        let a = load_or_create_client_id(None, &f).unwrap();
        assert_eq!(load_or_create_client_id(None, &f).unwrap(), a);
        assert_eq!(
            load_or_create_client_id(Some("given"), &f).unwrap(),
            "given"
        );
        std::fs::write(&f, "../../etc\n").unwrap();
        assert_ne!(load_or_create_client_id(None, &f).unwrap(), "../../etc");
    }

    #[test]
    fn a_renewal_lock_held_too_long_is_a_clear_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.lock");
        let held = RenewalGuard::lock_file(&path).unwrap();
        let started = std::time::Instant::now();
        let why = RenewalGuard::lock_file_within(&path, std::time::Duration::from_millis(200))
            .err()
            .unwrap();
        assert_eq!(why.kind(), std::io::ErrorKind::TimedOut);
        assert!(why.to_string().contains("may be stopped"), "{why}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        drop(held);
        assert!(
            RenewalGuard::lock_file_within(&path, std::time::Duration::from_millis(200)).is_ok()
        );
    }
}

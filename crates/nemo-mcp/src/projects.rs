//! What this server put into each project, so that a project the backend lost can be restored
//! (a new project with the same media) instead of an instruction being paid for in an empty one.
//!
//! One private JSON file per project under `state/projects/`, listing each upload: where it came
//! from (a local path or a URL), the SHA-256 of the bytes sent, and what the backend called it.

use nemo_client::SessionId;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where an uploaded item came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MediaSource {
    File { path: PathBuf },
    Url { url: String },
}

impl std::fmt::Display for MediaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MediaSource::File { path } => write!(f, "{}", path.display()),
            MediaSource::Url { url } => f.write_str(url),
        }
    }
}

/// One upload into a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRecord {
    pub source: MediaSource,
    /// SHA-256 (hex) of the bytes sent; files only.
    #[serde(default)]
    pub sha256: Option<String>,
    /// The backend's name for the asset (its CDN URL or file name).
    #[serde(default)]
    pub asset: Option<String>,
    /// Bytes sent (files only): a file of another size need not be hashed to know it is new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ProjectFile {
    session_id: String,
    media: Vec<MediaRecord>,
}

/// The per-project media records on disk.
#[derive(Debug)]
pub struct Ledger {
    dir: PathBuf,
    /// Serialises read-modify-write of the files and whole restorations.
    pub(crate) lock: tokio::sync::Mutex<()>,
}

impl Ledger {
    pub fn new(dir: PathBuf) -> Ledger {
        Ledger {
            dir,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    fn path(&self, session: SessionId) -> PathBuf {
        self.dir.join(format!("{session}.json"))
    }

    pub fn media(&self, session: SessionId) -> Vec<MediaRecord> {
        nemo_client::files::read_json::<ProjectFile>(&self.path(session))
            .map(|p| p.media)
            .unwrap_or_default()
    }

    /// Add uploads to a project's record (an item already recorded is kept once).
    pub async fn record(&self, session: SessionId, items: Vec<MediaRecord>) {
        let _guard = self.lock.lock().await;
        self.record_locked(session, items);
    }

    pub(crate) fn record_locked(&self, session: SessionId, items: Vec<MediaRecord>) {
        let mut media = self.media(session);
        for item in items {
            if !media
                .iter()
                .any(|m| m.source == item.source && m.sha256 == item.sha256)
            {
                media.push(item);
            }
        }
        let file = ProjectFile {
            session_id: session.to_string(),
            media,
        };
        let result = serde_json::to_vec_pretty(&file)
            .map_err(std::io::Error::other)
            .and_then(|b| nemo_client::files::write_private(&self.path(session), &b));
        if let Err(e) = result {
            tracing::error!(%session, "could not record the project's media: {e}");
        }
    }
}

/// How much of a lost project must come back before work goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restore {
    /// All of it (before a paid instruction): otherwise nothing is done.
    All,
    /// Whatever can be (before free work such as reading the timeline).
    Possible,
}

/// A project that replaced a lost one.
#[derive(Debug, Clone)]
pub struct Restored {
    pub session: SessionId,
    pub restored: usize,
    pub missing: Vec<String>,
}

impl Restored {
    /// What the user is told.
    pub fn notice(&self, lost: SessionId) -> String {
        let mut n = replaced_notice(lost);
        if self.restored > 0 {
            n.push_str(&format!(
                " and the {} media item(s) uploaded to the old one were uploaded again",
                self.restored
            ));
        }
        n.push_str("; edits made in the old project are gone.");
        if !self.missing.is_empty() {
            n.push_str(&format!(" Could not restore: {}.", self.missing.join("; ")));
        }
        n
    }
}

/// The one way a replaced project is told: which one was lost, and that a new one started.
pub fn replaced_notice(lost: SessionId) -> String {
    format!("NemoVideo had lost the project {lost}, so a new project was started")
}

/// Why a recorded file can no longer be sent as it was.
pub(crate) async fn check_file(path: PathBuf, sha256: Option<String>) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        if !path.is_file() {
            return Err(format!("{} (moved or deleted)", path.display()));
        }
        match (&sha256, nemo_client::sha256_file(&path)) {
            (Some(want), Ok(got)) if *want != got => Err(format!(
                "{} (changed since it was uploaded)",
                path.display()
            )),
            (_, Err(e)) => Err(format!("{} (cannot be read: {e})", path.display())),
            _ => Ok(()),
        }
    })
    .await
    .unwrap_or_else(|e| Err(format!("checking a file failed: {e}")))
}

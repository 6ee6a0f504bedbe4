//! What this server put into each project, so that a project the backend lost can be restored
//! (a new project with the same media) instead of an instruction being paid for in an empty one.
//!
//! One row per upload in the shared state database (`media`): where it came from (a local path
//! or a URL), the SHA-256 of the bytes sent, and what the backend called it. Two hosts uploading
//! into one project at once each add their rows: nothing is read back and written over.

use crate::state::StateDb;
use nemo_client::SessionId;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

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

/// An earlier version's record of a project (`projects/<id>.json`), moved in once.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ProjectFile {
    pub(crate) session_id: String,
    pub(crate) media: Vec<MediaRecord>,
}

/// Add a record, unless the project has it (same source, same bytes); how many rows.
pub(crate) fn insert_record(
    tx: &rusqlite::Transaction<'_>,
    session: &str,
    item: &MediaRecord,
) -> rusqlite::Result<usize> {
    let source = serde_json::to_string(&item.source)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let body = serde_json::to_string(item)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.execute(
        "INSERT OR IGNORE INTO media (session_id, source, sha256, body) VALUES (?1, ?2, ?3, ?4)",
        params![
            session,
            source,
            item.sha256.clone().unwrap_or_default(),
            body
        ],
    )
}

/// The per-project media records, in the shared state database.
pub struct MediaLedger {
    db: Arc<StateDb>,
    /// Serialises whole restorations within this process.
    pub(crate) lock: tokio::sync::Mutex<()>,
}

impl MediaLedger {
    pub fn new(db: Arc<StateDb>) -> MediaLedger {
        MediaLedger {
            db,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The project's uploads, in the order they were recorded.
    pub fn media(&self, session: SessionId) -> Vec<MediaRecord> {
        let bodies = self.db.read("could not read the project's media", |tx| {
            let mut s =
                tx.prepare_cached("SELECT body FROM media WHERE session_id = ?1 ORDER BY rowid")?;
            let rows = s.query_map([session.to_string()], |r| r.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
        });
        match bodies {
            Ok(b) => b
                .iter()
                .filter_map(|b| serde_json::from_str(b).ok())
                .collect(),
            Err(e) => {
                tracing::error!(%session, "{e}");
                Vec::new()
            }
        }
    }

    /// Add uploads to a project's record (an item already recorded is kept once).
    pub async fn record(&self, session: SessionId, items: Vec<MediaRecord>) {
        self.record_locked(session, items);
    }

    /// [`MediaLedger::record`], for a caller that holds the restoration lock.
    pub(crate) fn record_locked(&self, session: SessionId, items: Vec<MediaRecord>) {
        let key = session.to_string();
        let r = self.db.write("could not record the project's media", |tx| {
            for item in &items {
                insert_record(tx, &key, item)?;
            }
            Ok(())
        });
        if let Err(e) = r {
            tracing::error!(%session, "{e}");
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

#[cfg(test)]
mod media_tests {
    use super::*;

    fn file(name: &str) -> MediaRecord {
        MediaRecord {
            source: MediaSource::File {
                path: PathBuf::from(format!("/m/{name}")),
            },
            sha256: Some(name.repeat(8)),
            asset: None,
            size: Some(1),
        }
    }

    /// Two processes recording into one project at once both keep theirs; a record made twice
    /// is kept once.
    #[test]
    fn two_processes_recording_into_one_project_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = SessionId::new(7);
        let threads: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|who| {
                let path = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    let l = MediaLedger::new(Arc::new(StateDb::open(&path).unwrap()));
                    for i in 0..20 {
                        l.record_locked(p, vec![file(&format!("{who}{i}")), file("shared")]);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let l = MediaLedger::new(Arc::new(StateDb::open(dir.path()).unwrap()));
        assert_eq!(l.media(p).len(), 41);
        assert!(l.media(SessionId::new(8)).is_empty());
    }
}

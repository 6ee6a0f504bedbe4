//! What this server put into each project, so that a project the backend lost can be restored
//! (a new project with the same media) instead of an instruction being paid for in an empty one.
//!
//! One private JSON file per project under `state/projects/`, listing each upload: where it came
//! from (a local path or a URL), the SHA-256 of the bytes sent, and what the backend called it.

use crate::app::App;
use crate::errors::{Code, ToolError};
use nemo_client::{validate, Error, SessionId};
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
    lock: tokio::sync::Mutex<()>,
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

    fn record_locked(&self, session: SessionId, items: Vec<MediaRecord>) {
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
        let mut n = format!("NemoVideo had lost the project {lost}, so a new project was started");
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

/// Why a recorded file can no longer be sent as it was.
async fn check_file(path: PathBuf, sha256: Option<String>) -> Result<(), String> {
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

impl App {
    /// Replace the lost project `lost` with a new one holding the same media. With
    /// [`Restore::All`], when any recorded file moved or changed, nothing is created and the
    /// error lists what is missing; a URL that fails is reported the same way.
    pub async fn restore_project(
        &self,
        lost: SessionId,
        need: Restore,
    ) -> Result<Restored, ToolError> {
        let _guard = self.projects.lock.lock().await;
        // Another call may have restored it meanwhile.
        if let Ok(current) = self.client.session(None).await {
            if current.session_id != lost {
                return Ok(Restored {
                    session: current.session_id,
                    restored: 0,
                    missing: Vec::new(),
                });
            }
        }
        let records = self.projects.media(lost);
        let mut missing = Vec::new();
        let mut files = Vec::new();
        let mut urls = Vec::new();
        for r in &records {
            match &r.source {
                MediaSource::File { path } => {
                    match check_file(path.clone(), r.sha256.clone()).await {
                        Ok(()) => files.push(r.clone()),
                        Err(why) => missing.push(why),
                    }
                }
                MediaSource::Url { url } => urls.push(url.clone()),
            }
        }
        let not_restored = |missing: &[String]| {
            ToolError::new(
                Code::ProjectNotRestored,
                format!(
                    "NemoVideo has lost the project {lost}, and its media cannot all be uploaded again, so nothing was sent (nothing was charged). Missing: {}",
                    missing.join("; ")
                ),
            )
            .next("ask the user for the missing files, upload them with upload_media, then call generate again")
        };
        if need == Restore::All && !missing.is_empty() {
            return Err(not_restored(&missing));
        }
        let session = self
            .client
            .replace_session(lost)
            .await
            .map_err(|e| self.err(&e))?
            .session_id;
        let mut restored = Vec::new();
        let limit = self.settings.client.profile.max_upload_bytes();
        let mut media = Vec::new();
        for r in &files {
            if let MediaSource::File { path } = &r.source {
                let p = path.clone();
                // Opening may block (a slow disk, a network mount): off the async workers.
                let checked =
                    tokio::task::spawn_blocking(move || validate::validate_media_file(&p, limit))
                        .await
                        .unwrap_or_else(|e| Err(validate::Rejection::Unreadable(e.to_string())));
                match checked {
                    Ok(m) => media.push((r.clone(), m)),
                    Err(why) => missing.push(format!("{} ({why})", path.display())),
                }
            }
        }
        if !media.is_empty() {
            let list: Vec<_> = media.iter().map(|(_, m)| m.clone()).collect();
            let up = self
                .client
                .upload_files(&list, None)
                .await
                .map_err(|e| self.err(&e))?;
            for (i, (record, m)) in media.into_iter().enumerate() {
                restored.push(MediaRecord {
                    size: Some(m.size),
                    sha256: up.hashes.get(i).cloned().or(record.sha256),
                    asset: up.assets.get(i).and_then(|a| a.url.clone()),
                    source: record.source,
                });
            }
        }
        for url in urls {
            match self.client.upload_urls(std::slice::from_ref(&url)).await {
                Ok(up) => restored.push(MediaRecord {
                    asset: up.assets.first().and_then(|a| a.url.clone()),
                    source: MediaSource::Url { url },
                    sha256: None,
                    size: None,
                }),
                Err(e) => missing.push(format!("{url} ({e})")),
            }
        }
        let count = restored.len();
        self.projects.record_locked(session, restored);
        if need == Restore::All && !missing.is_empty() {
            return Err(not_restored(&missing));
        }
        Ok(Restored {
            session,
            restored: count,
            missing,
        })
    }

    /// Run `op` on the current project; if the backend lost it, restore what can be restored
    /// and run `op` once more. The notice tells the user what happened.
    pub async fn in_project<T, F, Fut>(&self, op: F) -> Result<(T, Option<String>), ToolError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = nemo_client::Result<T>>,
    {
        match op().await {
            Ok(v) => Ok((v, None)),
            Err(Error::SessionLost {
                session: Some(lost),
                ..
            }) => {
                let r = self.restore_project(lost, Restore::Possible).await?;
                let v = op().await.map_err(|e| self.err(&e))?;
                Ok((v, Some(r.notice(lost))))
            }
            Err(e) => Err(self.err(&e)),
        }
    }
}

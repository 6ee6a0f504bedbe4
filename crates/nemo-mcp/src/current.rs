//! The project this server works on. The client library knows projects only by id
//! (`client.project(id)`); which one is current, that the process's own project survives a
//! restart (`session.json` in the state folder), and that a lost one is replaced by a new one
//! holding the same media are this server's policy, kept here.

use nemo_client::{Client, Session, SessionId};
use std::path::PathBuf;
use std::sync::Mutex;

/// Told once to the user after the backend lost the project and a new one took its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replaced {
    pub old: SessionId,
    pub new: SessionId,
}

pub struct CurrentProject {
    session: tokio::sync::Mutex<Option<Session>>,
    replaced: Mutex<Option<Replaced>>,
    /// The remembered project's file, set aside because it could not be read: told once.
    damaged: Mutex<Option<crate::damaged::KeptAside>>,
    /// Where the process's own project is remembered; `None` for the project of one HTTP
    /// session among several, kept in memory only.
    file: Option<PathBuf>,
    /// Set for a variant's project ([`CurrentProject::holding`]): the jobs working in it
    /// journal it, so that they resume in it after a restart.
    pinned: bool,
}

impl CurrentProject {
    /// The process's own project, remembered in `file` across restarts.
    pub fn remembered(file: PathBuf) -> CurrentProject {
        CurrentProject::kept_in(Some(file))
    }

    /// A project kept in memory only.
    pub fn in_memory() -> CurrentProject {
        CurrentProject::kept_in(None)
    }

    fn kept_in(file: Option<PathBuf>) -> CurrentProject {
        CurrentProject {
            session: tokio::sync::Mutex::new(None),
            replaced: Mutex::new(None),
            damaged: Mutex::new(None),
            file,
            pinned: false,
        }
    }

    /// A variant's project: `session` when given (resuming), else created on first use.
    pub fn holding(session: Option<Session>) -> CurrentProject {
        CurrentProject {
            session: tokio::sync::Mutex::new(session),
            pinned: true,
            ..CurrentProject::kept_in(None)
        }
    }

    /// The project, when this is a variant's ([`CurrentProject::holding`]) and it exists.
    pub async fn pinned(&self) -> Option<Session> {
        if self.pinned {
            self.peek().await
        } else {
            None
        }
    }

    /// The current project: in memory, else resumed from the file (when it belongs to this
    /// API), else created in `language`. The lock is held while creating, so two calls at once
    /// make one project.
    pub async fn get(&self, client: &Client, language: &str) -> nemo_client::Result<Session> {
        let mut guard = self.session.lock().await;
        if let Some(s) = guard.as_ref() {
            return Ok(s.clone());
        }
        let on_disk = self
            .file
            .as_deref()
            .and_then(|f| {
                let (session, kept) = crate::damaged::read_or_keep_aside::<Session>(f);
                if kept.is_some() {
                    *crate::store::lock(&self.damaged) = kept;
                }
                session
            })
            .filter(|s| s.api_url == client.config().api_url);
        if let Some(s) = on_disk {
            client.remember_user(s.user_id.clone());
            *guard = Some(s.clone());
            return Ok(s);
        }
        let s = self.create(client, language).await?;
        *guard = Some(s.clone());
        Ok(s)
    }

    /// The current project if there is one, without creating it.
    pub async fn peek(&self) -> Option<Session> {
        self.session.lock().await.clone()
    }

    /// Start a new project in place of the current one.
    pub async fn start_new(&self, client: &Client, language: &str) -> nemo_client::Result<Session> {
        let mut guard = self.session.lock().await;
        let s = self.create(client, language).await?;
        *guard = Some(s.clone());
        Ok(s)
    }

    /// Start a new project in place of the lost `lost` (unless another call already did), in
    /// the lost one's language, and remember to tell the user.
    pub async fn replace(
        &self,
        client: &Client,
        lost: SessionId,
        language: &str,
    ) -> nemo_client::Result<Session> {
        let mut guard = self.session.lock().await;
        if let Some(s) = guard.as_ref().filter(|s| s.session_id != lost) {
            return Ok(s.clone());
        }
        let language = guard
            .as_ref()
            .map_or(language.to_string(), |s| s.language.clone());
        let s = self.create(client, &language).await?;
        *guard = Some(s.clone());
        tracing::warn!(old = %lost, new = %s.session_id, "the project was lost and replaced");
        *crate::store::lock(&self.replaced) = Some(Replaced {
            old: lost,
            new: s.session_id,
        });
        Ok(s)
    }

    /// Make `session` the current project (reopened from the library) and remember it.
    pub async fn open(&self, session: Session) -> nemo_client::Result<()> {
        let mut guard = self.session.lock().await;
        self.remember(&session)?;
        *guard = Some(session);
        Ok(())
    }

    /// If the remembered project's file was damaged and set aside, what that means (once).
    pub fn take_damaged(&self) -> Option<String> {
        let kept = crate::store::lock(&self.damaged).take()?;
        Some(kept.notice(
            "The saved reference to the current project",
            "So a new, empty project was started. The old project still exists on NemoVideo: list_projects shows the projects this server made, and connect with its project_id reopens it.",
        ))
    }

    /// If the project was replaced since the last call, say so (once).
    pub fn take_replaced(&self) -> Option<Replaced> {
        crate::store::lock(&self.replaced).take()
    }

    async fn create(&self, client: &Client, language: &str) -> nemo_client::Result<Session> {
        let s = client.create_project(language).await?;
        self.remember(&s)?;
        Ok(s)
    }

    fn remember(&self, s: &Session) -> nemo_client::Result<()> {
        if let Some(file) = &self.file {
            let bytes = serde_json::to_vec_pretty(s).map_err(|e| nemo_client::Error::Protocol {
                message: e.to_string(),
            })?;
            nemo_client::files::write_private(file, &bytes).map_err(|source| {
                nemo_client::Error::Io {
                    context: format!("saving the project in {}", file.display()),
                    source,
                }
            })?;
        }
        Ok(())
    }
}

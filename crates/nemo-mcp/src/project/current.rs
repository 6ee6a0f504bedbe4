//! The project this server works on. The client library knows projects only by id
//! (`client.project(id)`); which one is current, that a new process starts on the project last
//! used (the `last_project` pointer in the shared state database, else the library's newest),
//! and that a lost one is replaced by a new one holding the same media are this server's
//! policy, kept here. Each process keeps its own current project in memory: a host starting
//! a new project never moves another host's.

use crate::state::StateDb;
use crate::state::LAST_PROJECT;
use nemo_client::{Client, Session, SessionId};
use std::sync::{Arc, Mutex};

/// Told once to the user after the backend lost the project and a new one took its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replaced {
    pub old: SessionId,
    pub new: SessionId,
}

/// The prefix of the keys under which HTTP clients' projects are remembered.
pub const SCOPE_PREFIX: &str = "http_scope:";

pub struct CurrentProject {
    session: tokio::sync::Mutex<Option<Session>>,
    replaced: Mutex<Option<Replaced>>,
    /// The pointer to the last project could not be read: what was done instead, told once.
    damaged: Mutex<Option<String>>,
    /// Where the project is remembered (`None`: in memory only), and under which key: the
    /// process's own under `last_project` (the next process starts there), an HTTP client's
    /// under its scope's key (it finds its project again after its `App` was evicted, or the
    /// server restarted).
    db: Option<Arc<StateDb>>,
    key: String,
    /// Set for a variant's project ([`CurrentProject::holding`]): the jobs working in it
    /// journal it, so that they resume in it after a restart.
    pinned: bool,
    /// Which NemoVideo account this process works in (`account::identity`): the pointer to
    /// the last project is followed only into a project of the same account.
    account: Option<Arc<dyn Fn() -> Option<String> + Send + Sync>>,
}

impl CurrentProject {
    /// The process's own project, starting on the last one used and remembered for the next.
    pub fn remembered(db: Arc<StateDb>) -> CurrentProject {
        CurrentProject::kept_in(Some(db))
    }

    /// The pointer is followed only when the project it names was made under this account:
    /// hosts on one state folder may be signed in to different accounts (a `NEMO_TOKEN` in
    /// one), and another account's project reads as lost to this one, whose "restore" would
    /// copy the other project's media into this account's video.
    pub fn of_account(mut self, account: Arc<dyn Fn() -> Option<String> + Send + Sync>) -> Self {
        self.account = Some(account);
        self
    }

    /// The key beside the pointer naming the account of the project it points at.
    fn account_key(&self) -> String {
        format!("{}.account", self.key)
    }

    /// A project kept in memory only.
    pub fn in_memory() -> CurrentProject {
        CurrentProject::kept_in(None)
    }

    /// The project of one HTTP client (an MCP session, or a workspace of the 2026-07-28 era),
    /// remembered under `scope` in the shared database: never another client's, never
    /// silently replaced by an empty one.
    pub fn scoped(db: Arc<StateDb>, scope: &str) -> CurrentProject {
        CurrentProject {
            key: format!("{SCOPE_PREFIX}{scope}"),
            ..CurrentProject::kept_in(Some(db))
        }
    }

    fn kept_in(db: Option<Arc<StateDb>>) -> CurrentProject {
        CurrentProject {
            session: tokio::sync::Mutex::new(None),
            replaced: Mutex::new(None),
            damaged: Mutex::new(None),
            db,
            key: LAST_PROJECT.to_string(),
            pinned: false,
            account: None,
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

    /// The current project: in memory, else the last one used (when it belongs to this API),
    /// else created in `language`. The lock is held while creating, so two calls at once make
    /// one project.
    pub async fn get(&self, client: &Client, language: &str) -> nemo_client::Result<Session> {
        let mut guard = self.session.lock().await;
        if let Some(s) = guard.as_ref() {
            return Ok(s.clone());
        }
        let last = self
            .db
            .as_ref()
            .and_then(|db| self.last_used(db, &client.config().api_url));
        if let Some(s) = last {
            client.remember_user(s.user_id.clone());
            *guard = Some(s.clone());
            return Ok(s);
        }
        let s = self.create(client, language).await?;
        *guard = Some(s.clone());
        Ok(s)
    }

    /// The project last made current by any process (none when no process made one); when that
    /// pointer cannot be read, the library's most recently used project (and that is told once).
    fn last_used(&self, db: &Arc<StateDb>, api_url: &str) -> Option<Session> {
        // The pointer and whose project it names, read together (they are written together).
        let account_key = self.account_key();
        let (raw, theirs) = db
            .read("could not be read", |tx| {
                Ok((
                    crate::state::get_value(tx, &self.key)?,
                    crate::state::get_value(tx, &account_key)?,
                ))
            })
            .unwrap_or_else(|e| {
                tracing::error!("{e}");
                (None, None)
            });
        let scoped = self.key != LAST_PROJECT;
        let pointed = match raw.as_deref().map(serde_json::from_str::<Session>) {
            Some(Ok(s)) => Some(s),
            None => None,
            // A client's own pointer that cannot be read: a new project, never another's.
            Some(Err(e)) if scoped => {
                tracing::warn!("an HTTP client's project pointer cannot be read: {e}");
                None
            }
            Some(Err(e)) => {
                tracing::warn!("the pointer to the last project cannot be read: {e}");
                // This account's newest (a project of another is not there to it).
                let account = self.account.as_ref().and_then(|a| a());
                let newest = crate::project::library::Library::open(db.clone())
                    .newest_of(account.as_deref())
                    .map(|e| e.session)
                    .filter(|s| s.api_url == api_url);
                *crate::support::sync::lock(&self.damaged) = Some(match &newest {
                    Some(s) => format!("The saved reference to the current project could not be read ({e}), so the most recently used project in the library, {}, was reopened.", s.session_id),
                    None => format!("The saved reference to the current project could not be read ({e}), and the library has no project, so a new, empty project was started. connect with a project_id reopens an older one."),
                });
                return newest;
            }
        };
        let pointed = pointed.filter(|s| s.api_url == api_url)?;
        if let Some(account) = &self.account {
            if theirs.is_some() && theirs != account() {
                tracing::info!(
                    project = %pointed.session_id,
                    "the last project was made under another NemoVideo account: starting one of this account's own"
                );
                return None;
            }
        }
        Some(pointed)
    }

    /// The current project's id if there is one, without waiting (`None` while another call
    /// is creating it): what a `request_id` is matched within.
    pub fn peek_now(&self) -> Option<SessionId> {
        self.session
            .try_lock()
            .ok()
            .and_then(|s| s.as_ref().map(|s| s.session_id))
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
        *crate::support::sync::lock(&self.replaced) = Some(Replaced {
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

    /// If the pointer to the last project could not be read, what was done instead (once).
    pub fn take_damaged(&self) -> Option<String> {
        crate::support::sync::lock(&self.damaged).take()
    }

    /// If the project was replaced since the last call, say so (once).
    pub fn take_replaced(&self) -> Option<Replaced> {
        crate::support::sync::lock(&self.replaced).take()
    }

    async fn create(&self, client: &Client, language: &str) -> nemo_client::Result<Session> {
        let s = client.create_project(language).await?;
        self.remember(&s)?;
        Ok(s)
    }

    fn remember(&self, s: &Session) -> nemo_client::Result<()> {
        if let Some(db) = &self.db {
            let text = serde_json::to_string(s).map_err(|e| nemo_client::Error::Protocol {
                message: e.to_string(),
            })?;
            // Whose project it is (unknown: said by no key, never by an old one), asked before
            // the write (asking reads the database), and written with the pointer in one
            // transaction: two hosts moving it at once never leave one's pointer with the
            // other's account.
            let account = self.account.as_ref().and_then(|a| a());
            let kept = self.account.is_some();
            let account_key = self.account_key();
            // The next process (or this client, back) starts here; other hosts keep their own.
            let r = db.write("could not be written", |tx| {
                crate::state::set_value(tx, &self.key, &text)?;
                match (&account, kept) {
                    (Some(account), _) => crate::state::set_value(tx, &account_key, account),
                    (None, true) => tx
                        .execute("DELETE FROM kv WHERE key = ?1", [&account_key])
                        .map(|_| ()),
                    (None, false) => Ok(()),
                }
            });
            if let Err(e) = r {
                tracing::error!("{e}");
            }
        }
        Ok(())
    }
}

//! What every tool call shares: the NemoVideo client, the settings and the jobs.

use crate::config::Settings;
use crate::errors::{Code, ToolError};
use crate::jobs::JobManager;
use crate::project::current::CurrentProject;
use crate::project::media::{check_file, MediaRecord, MediaSource, Restore, Restored};
use nemo_client::{validate, Error};
use nemo_client::{Client, Project, Session, SessionId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub struct App {
    pub client: Client,
    /// The project the tools work on (see [`CurrentProject`]).
    pub project: CurrentProject,
    pub settings: Settings,
    pub jobs: JobManager,
    /// The media uploaded to each project (to restore a lost one).
    pub projects: Arc<crate::project::media::Ledger>,
    /// What each turn charged, across restarts (shared by every MCP session).
    pub spend: Arc<crate::account::spend::Ledger>,
    /// The MCP session this App serves: the process over stdio, the session over `--http`.
    pub session_key: String,
    /// The free account's warnings this MCP session has given.
    pub clock: crate::account::token_clock::Clock,
    /// Every project this installation created or opened (shared by every MCP session).
    pub library: Arc<crate::project::library::Library>,
    /// State files set aside because they could not be read, told once.
    damaged: Arc<Mutex<Vec<String>>>,
    /// What each paid turn of the account cost (shared by every MCP session and variant).
    pub meter: Arc<crate::account::meter::CreditMeter>,
    /// The state database shared by every server process of the user.
    pub state: Arc<crate::state::StateDb>,
}

impl App {
    pub fn new(settings: Settings) -> Result<Arc<App>, String> {
        // One database for every server process of the user on this state folder.
        let state = Arc::new(crate::state::StateDb::open(&settings.client.state_dir)?);
        crate::moving_in::old_files(&state);
        let client = Client::new(settings.client.clone())
            .map_err(|e| e.to_string())?
            .with_credential_store(Arc::new(crate::state::credentials::Shared::new(
                state.clone(),
            )));
        let jobs = JobManager::new(state.clone(), settings.output_dir.clone());
        let projects = Arc::new(crate::project::media::Ledger::new(state.clone()));
        let project = CurrentProject::remembered(state.clone());
        let spend = Arc::new(crate::account::spend::Ledger::open(state.clone()));
        let library = crate::project::library::Library::open(state.clone());
        Ok(Arc::new(App {
            client,
            project,
            settings,
            jobs,
            projects,
            spend,
            session_key: format!("process-{}", uuid::Uuid::new_v4().simple()),
            clock: crate::account::token_clock::Clock::default(),
            library: Arc::new(library),
            damaged: Arc::new(Mutex::new(state.take_notices())),
            meter: Arc::new(crate::account::meter::CreditMeter::shared(state.clone())),
            state,
        }))
    }

    /// The same account and settings with a project and jobs of their own: one per MCP
    /// session over `--http`, so two hosts never see or edit each other's video.
    pub fn fork(&self, owner: &str) -> Arc<App> {
        Arc::new(App {
            client: self.client.clone(),
            project: CurrentProject::in_memory(),
            settings: self.settings.clone(),
            jobs: self.jobs.scoped(owner),
            projects: self.projects.clone(),
            spend: self.spend.clone(),
            session_key: owner.to_string(),
            clock: crate::account::token_clock::Clock::default(),
            library: self.library.clone(),
            damaged: Arc::default(),
            meter: self.meter.clone(),
            state: self.state.clone(),
        })
    }

    /// The same account, settings and jobs working in a project of their own: a variant's
    /// ([`crate::run::variants`]). `session`: the project when it exists (after a restart),
    /// else it is created in the variant's language on first use.
    pub fn for_project(&self, session: Option<nemo_client::Session>) -> Arc<App> {
        Arc::new(App {
            client: self.client.clone(),
            project: CurrentProject::holding(session),
            settings: self.settings.clone(),
            jobs: self.jobs.clone(),
            projects: self.projects.clone(),
            spend: self.spend.clone(),
            session_key: self.session_key.clone(),
            clock: crate::account::token_clock::Clock::default(),
            library: self.library.clone(),
            damaged: Arc::default(),
            meter: self.meter.clone(),
            state: self.state.clone(),
        })
    }

    /// Stop running jobs, as a crash would but tidily: each stays journaled as running, for
    /// the next process (or another one already running) to take over; turns in flight stay in
    /// the shared credit meter for it to measure.
    pub async fn shutdown(&self) {
        self.meter.freeze();
        self.jobs.shutdown().await;
    }

    /// What to tell a user who needs more credits.
    pub fn more_credits_step(&self) -> String {
        crate::account::estimate::more_credits_step(
            self.client.register_url(),
            &self.settings.client.web_url,
        )
    }

    /// The cost estimate for an instruction, from this account's recent turns.
    pub fn estimate(&self, instruction: &str) -> crate::account::estimate::Estimate {
        let past = self.jobs.list().into_iter().filter_map(|j| {
            let kind = j.generation_data()?.cost_kind?;
            Some((kind, j.credits_spent()?))
        });
        crate::account::estimate::estimate(instruction, past)
    }

    /// What was spent today, in the current project and in this MCP session.
    pub async fn spent(&self) -> crate::account::spend::Spent {
        let project = self.project.peek().await.map(|s| s.session_id.to_string());
        self.spend.spent(project.as_deref(), &self.session_key)
    }

    /// When the free account's token expires (`None` for a given token or an unknown expiry).
    pub async fn token_expiry(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        if self.client.token_source() != nemo_client::TokenSource::Anonymous {
            return None;
        }
        self.client.credentials().await?.expires_at
    }

    /// The free account's warning due in this MCP session, if any ([`crate::account::token_clock`]).
    pub async fn clock_notice(&self) -> Option<String> {
        let expires_at = self.token_expiry().await?;
        self.clock.due(
            Some(expires_at),
            chrono::Utc::now(),
            self.client.register_url().as_deref(),
        )
    }

    /// What `connect` and `get_credits` always add for a free account: when its token expires
    /// and what that means, then the warning due in this session, if any (each on its line).
    pub async fn clock_text(&self) -> String {
        let mut text = String::new();
        if let Some(expires_at) = self.token_expiry().await {
            let after = crate::account::token_clock::AFTER_EXPIRY;
            text.push_str(&format!(
                "\n{} W{}.",
                crate::account::token_clock::expiry_line(expires_at, chrono::Utc::now()),
                after.strip_prefix('w').unwrap_or(after)
            ));
        }
        if let Some(n) = self.clock_notice().await {
            text.push_str(&format!("\n{n}"));
        }
        text
    }

    /// Record what a turn charged, in the spend ledger.
    pub fn record_charge(&self, job_id: &str, project: SessionId, credits: Option<i64>) {
        if let Some(credits) = credits {
            self.spend.record(crate::account::spend::Charge {
                job_id: job_id.to_string(),
                at: chrono::Utc::now(),
                project: project.to_string(),
                session: self.session_key.clone(),
                credits,
            });
        }
    }

    pub fn err(&self, e: &nemo_client::Error) -> ToolError {
        ToolError::from_client(e, &self.settings.client.web_url)
    }

    /// Folders whose files are never uploaded: our own state (credentials, journal), as
    /// configured and as resolved.
    pub fn private_dirs(&self) -> Vec<std::path::PathBuf> {
        let v = [
            self.settings.client.state_dir.clone(),
            self.settings.client.client_id_file.clone(),
        ];
        let resolved: Vec<_> = v.iter().filter_map(|p| p.canonicalize().ok()).collect();
        v.into_iter()
            .filter(|p| p.is_absolute())
            .chain(resolved)
            .collect()
    }

    /// Where uploads may come from.
    /// What an upload's inputs are checked against.
    pub fn input_rules(&self) -> crate::files::uploads::InputRules {
        crate::files::uploads::InputRules {
            policy: self.input_policy(),
            max_bytes: self.settings.client.profile.max_upload_bytes(),
        }
    }

    pub fn input_policy(&self) -> crate::files::paths::InputPolicy {
        crate::files::paths::InputPolicy {
            lexical: self.settings.allowed_lexical.clone(),
            canonical: self.settings.allowed_dirs.clone(),
            private: self.private_dirs(),
        }
    }

    /// The current project, creating it (in `language`, else the host's) if there is none.
    pub async fn session(&self, language: Option<&str>) -> nemo_client::Result<Session> {
        let language = language.unwrap_or(&self.settings.language);
        let s = self.project.get(&self.client, language).await?;
        self.library.touch(&s);
        Ok(s)
    }

    /// Reopen the project `id` as the current one (from the library, or by its id alone). A
    /// project NemoVideo no longer has is said so, and the restore path applies: a new project
    /// with the media this server uploaded to the old one. Returns the project and what to tell.
    pub async fn reopen(&self, id: SessionId) -> Result<(Session, Option<String>), ToolError> {
        let api = &self.settings.client.api_url;
        let session = self
            .library
            .get(id)
            .map(|e| e.session)
            .filter(|s| &s.api_url == api)
            .unwrap_or_else(|| Session {
                session_id: id,
                task_id: None,
                language: self.settings.language.clone(),
                api_url: api.clone(),
                user_id: None,
            });
        let state = session.handle(&self.client).state().await;
        self.project
            .open(session.clone())
            .await
            .map_err(|e| self.err(&e))?;
        match state {
            // `connect` notes the project as used in the library.
            Ok(_) => Ok((session, None)),
            Err(Error::SessionLost { .. }) => {
                let r = self.restore_project(id, Restore::Possible).await?;
                let s = self.session(None).await.map_err(|e| self.err(&e))?;
                let notice = format!(
                    "NemoVideo no longer has the project {id} (an anonymous token's projects are not reachable after it lapses; a project can also expire). {}",
                    r.notice(id)
                );
                Ok((s, Some(notice)))
            }
            Err(e) => Err(self.err(&e)),
        }
    }

    /// What could not be read from the state folder, and what that means (each told once).
    pub fn take_state_notices(&self) -> Option<String> {
        let mut all: Vec<String> = std::mem::take(&mut *crate::support::sync::lock(&self.damaged));
        all.extend(self.project.take_damaged());
        (!all.is_empty()).then(|| all.join(" "))
    }

    /// The current project's id, creating the project if needed.
    pub async fn session_id(&self, language: Option<&str>) -> Result<SessionId, ToolError> {
        self.session(language)
            .await
            .map(|s| s.session_id)
            .map_err(|e| self.err(&e))
    }

    /// A handle on the current project (created if needed).
    pub async fn current(&self) -> nemo_client::Result<Project<'_>> {
        Ok(self.session(None).await?.handle(&self.client))
    }

    /// The current project's state (the project is created if there is none; a lost one is
    /// reported, not restored).
    pub async fn current_state(&self) -> nemo_client::Result<nemo_client::SessionState> {
        self.current().await?.state().await
    }

    /// A handle on the project `id`, with its task id when it is the current project.
    pub async fn handle(&self, id: SessionId) -> Project<'_> {
        match self.project.peek().await {
            Some(s) if s.session_id == id => s.handle(&self.client),
            _ => self.client.project(id),
        }
    }

    /// The anonymous user's id (for the registration link): known, else read from the
    /// current project's state.
    pub async fn learn_user_id(&self) -> Option<String> {
        match self.project.peek().await {
            Some(s) => s.handle(&self.client).learn_user_id().await,
            None => self.client.user_id(),
        }
    }
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
        if let Some(current) = self.project.peek().await {
            if current.session_id != lost {
                return Ok(Restored {
                    session: current.session_id,
                    restored: 0,
                    missing: Vec::new(),
                });
            }
        }
        let (files, urls, mut missing) = still_present(self.projects.media(lost)).await;
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
            .project
            .replace(&self.client, lost, &self.settings.language)
            .await
            .map_err(|e| self.err(&e))?;
        let project = session.handle(&self.client);
        let restored = self.reupload(&project, files, urls, &mut missing).await?;
        let session = session.session_id;
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

    /// Upload recorded media again into `project`; what fails is added to `missing`.
    async fn reupload(
        &self,
        project: &Project<'_>,
        files: Vec<MediaRecord>,
        urls: Vec<String>,
        missing: &mut Vec<String>,
    ) -> Result<Vec<MediaRecord>, ToolError> {
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
            let up = project
                .upload(&list, None)
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
            match project.upload_urls(std::slice::from_ref(&url)).await {
                Ok(up) => restored.push(MediaRecord {
                    asset: up.assets.first().and_then(|a| a.url.clone()),
                    source: MediaSource::Url { url },
                    sha256: None,
                    size: None,
                }),
                Err(e) => missing.push(format!("{url} ({e})")),
            }
        }
        Ok(restored)
    }

    /// Run `op` on the current project; if the backend lost it, restore what can be restored
    /// and run `op` once more on the new project. The notice tells the user what happened.
    pub async fn in_project<'a, T, F, Fut>(
        &'a self,
        op: F,
    ) -> Result<(T, Option<String>), ToolError>
    where
        F: Fn(Project<'a>) -> Fut,
        Fut: std::future::Future<Output = nemo_client::Result<T>>,
    {
        let first = match self.current().await {
            Ok(p) => op(p).await,
            Err(e) => Err(e),
        };
        match first {
            Ok(v) => Ok((v, None)),
            Err(Error::SessionLost {
                session: Some(lost),
                ..
            }) => {
                let r = self.restore_project(lost, Restore::Possible).await?;
                // The new project's handle carries its task id (a claim link needs it).
                let project = self.handle(r.session).await;
                let v = op(project).await.map_err(|e| self.err(&e))?;
                Ok((v, Some(r.notice(lost))))
            }
            Err(e) => Err(self.err(&e)),
        }
    }
}

/// The most MCP sessions with a project of their own held at once (least recently used go).
const MAX_SESSIONS: usize = 512;

/// One project per MCP session, made on first use.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, (Arc<App>, u64)>>,
    clock: std::sync::atomic::AtomicU64,
}

impl Sessions {
    /// The project of this MCP session, forked from `base` on first use.
    pub fn app(&self, base: &Arc<App>, session: &str) -> Arc<App> {
        let now = self
            .clock
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut map = crate::support::sync::lock(&self.map);
        if let Some((app, used)) = map.get_mut(session) {
            *used = now;
            return app.clone();
        }
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        let app = base.fork(session);
        map.insert(session.to_string(), (app.clone(), now));
        app
    }

    pub fn len(&self) -> usize {
        crate::support::sync::lock(&self.map).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The recorded files still as they were (same bytes) and the recorded URLs; what moved or
/// changed is `missing`.
async fn still_present(records: Vec<MediaRecord>) -> (Vec<MediaRecord>, Vec<String>, Vec<String>) {
    let mut missing = Vec::new();
    let mut files = Vec::new();
    let mut urls = Vec::new();
    for r in records {
        match &r.source {
            MediaSource::File { path } => match check_file(path.clone(), r.sha256.clone()).await {
                Ok(()) => files.push(r),
                Err(why) => missing.push(why),
            },
            MediaSource::Url { url } => urls.push(url.clone()),
        }
    }
    (files, urls, missing)
}

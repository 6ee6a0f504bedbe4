//! What every tool call shares: the NemoVideo client, the settings and the jobs.

mod projects;

use crate::config::Settings;
use crate::errors::ToolError;
use crate::jobs::JobManager;
use crate::project::current::CurrentProject;
use nemo_client::{Client, SessionId};
use std::sync::{Arc, Mutex};

/// What every MCP session and variant of this process shares: one account, one set of
/// settings, the shared database and the tables over it.
#[derive(Clone)]
pub struct Shared {
    pub client: Client,
    pub settings: Settings,
    /// The media uploaded to each project (to restore a lost one).
    pub media: Arc<crate::project::media::MediaLedger>,
    /// What each turn charged, across restarts and processes.
    pub spend: Arc<crate::account::spend::Ledger>,
    /// Every project this installation created or opened.
    pub library: Arc<crate::project::library::Library>,
    /// What each paid turn of the account cost.
    pub meter: Arc<crate::account::meter::CreditMeter>,
    /// The state database shared by every server process of the user.
    pub state: Arc<crate::state::StateDb>,
}

/// What one tool call works with: the `Shared` parts (reached through `Deref`, so
/// `app.client` reads as before) plus the parts of one scope: the process over stdio, an MCP
/// session over `--http` ([`App::fork`]) or a variant's own project ([`App::for_project`]).
pub struct App {
    shared: Arc<Shared>,
    /// The project the tools work on (see [`CurrentProject`]); shared with the scope's
    /// handles that speak for a job taken over ([`App::speaking_for`]).
    pub project: Arc<CurrentProject>,
    pub jobs: JobManager,
    /// The MCP session this App serves: the process over stdio, the session over `--http`.
    pub mcp_session: String,
    /// The free account's warnings this scope has given.
    pub clock: Arc<crate::account::token_clock::Clock>,
    /// State files set aside because they could not be read, told once.
    damaged: Arc<Mutex<Vec<String>>>,
}

impl std::ops::Deref for App {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
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
        let jobs = JobManager::new(state.clone(), settings.output_dir.clone())
            .attributed_by(attribution_of(&client));
        let account = crate::account::identity::source(
            settings.client.token.clone(),
            settings.client.api_url.clone(),
            state.clone(),
        );
        jobs.journal().set_account_source(account.clone());
        let project = Arc::new(CurrentProject::remembered(state.clone()).of_account(account));
        let damaged = state.take_notices();
        let shared = Arc::new(Shared {
            client,
            settings,
            media: Arc::new(crate::project::media::MediaLedger::new(state.clone())),
            spend: Arc::new(crate::account::spend::Ledger::open(state.clone())),
            library: Arc::new(crate::project::library::Library::open(state.clone())),
            meter: Arc::new(crate::account::meter::CreditMeter::shared(state.clone())),
            state,
        });
        let key = format!("process-{}", uuid::Uuid::new_v4().simple());
        Ok(App::scoped(shared, project, jobs, key, damaged))
    }

    /// The one place an `App` is assembled: shared parts plus a scope's.
    fn scoped(
        shared: Arc<Shared>,
        project: Arc<CurrentProject>,
        jobs: JobManager,
        mcp_session: String,
        damaged: Vec<String>,
    ) -> Arc<App> {
        Arc::new(App {
            shared,
            project,
            jobs,
            mcp_session,
            clock: Arc::default(),
            damaged: Arc::new(Mutex::new(damaged)),
        })
    }

    /// The same account and settings with a project and jobs of their own: one per MCP
    /// session over `--http`, so two hosts never see or edit each other's video.
    pub fn fork(&self, owner: &str) -> Arc<App> {
        let jobs = self.jobs.scoped(owner);
        let project = Arc::new(CurrentProject::scoped(self.state.clone(), owner));
        App::scoped(
            self.shared.clone(),
            project,
            jobs,
            owner.to_string(),
            Vec::new(),
        )
    }

    /// An empty scope for one request that names none (a 2026-07-28 request over `--http`
    /// outside any workspace): no project, no jobs, kept nowhere.
    pub fn fork_ephemeral(&self) -> Arc<App> {
        let owner = format!("ephemeral-{}", uuid::Uuid::new_v4().simple());
        App::scoped(
            self.shared.clone(),
            Arc::new(CurrentProject::in_memory()),
            self.jobs.scoped(&owner),
            owner,
            Vec::new(),
        )
    }

    /// The same account, settings and jobs working in a project of their own: a variant's
    /// (`run::variants`). `session`: the project when it exists (after a restart),
    /// else it is created in the variant's language on first use.
    pub fn for_project(&self, session: Option<nemo_client::Session>) -> Arc<App> {
        let project = Arc::new(CurrentProject::holding(session));
        let key = self.mcp_session.clone();
        App::scoped(
            self.shared.clone(),
            project,
            self.jobs.clone(),
            key,
            Vec::new(),
        )
    }

    /// This scope, its requests saying they come from `attribution` (a job another process
    /// made, taken over here): the same project, jobs and account, and the job's maker's
    /// profile, version and platform on every request, its upload limit with them.
    pub fn speaking_for(self: &Arc<App>, attribution: &nemo_client::Attribution) -> Arc<App> {
        if self.client.attribution() == *attribution {
            return self.clone();
        }
        let client = self.client.speaking_for(attribution.clone());
        let jobs = self.jobs.attributed_by(attribution_of(&client));
        let shared = Shared {
            client,
            ..Shared::clone(&self.shared)
        };
        Arc::new(App {
            shared: Arc::new(shared),
            project: self.project.clone(),
            jobs,
            mcp_session: self.mcp_session.clone(),
            clock: self.clock.clone(),
            damaged: self.damaged.clone(),
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
        self.spend.spent(project.as_deref(), &self.mcp_session)
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

    /// Record what the sent turn `job_id` charged. `None`: its cost could not be read (the
    /// balance request failed through its retries), so it is recorded at its estimate, marked
    /// as such, with the account's total `before` it: money fails closed, and the budgets
    /// count a turn whose price is unknown until the balance is read again
    /// ([`App::credits`]).
    pub fn record_charge(
        &self,
        job_id: &str,
        project: SessionId,
        credits: Option<i64>,
        before: Option<i64>,
    ) {
        let (credits, estimated) = match credits {
            Some(c) => (c, false),
            None => {
                let estimate = self.spend.reserved_for(job_id).unwrap_or_else(|| {
                    self.jobs
                        .get(job_id)
                        .and_then(|j| j.generation_data().and_then(|g| g.cost_kind))
                        .unwrap_or(crate::account::estimate::CostKind::Edit)
                        .contract_figure()
                });
                tracing::warn!(job = %job_id, estimate, "the turn's cost could not be read: recorded at its estimate");
                (estimate, true)
            }
        };
        self.spend.record(crate::account::spend::Charge {
            job_id: job_id.to_string(),
            at: chrono::Utc::now(),
            project: project.to_string(),
            session: self.mcp_session.clone(),
            credits,
            estimated,
            total_before: before.filter(|_| estimated),
        });
    }

    /// The account's balance, read now; a charge recorded at its estimate is corrected by it
    /// when it can be (`account::estimated`). `this_job`: the turn about to be sent, if the
    /// reading is its "before".
    pub async fn credits(
        &self,
        this_job: Option<&str>,
    ) -> Result<nemo_client::Credits, nemo_client::Error> {
        let c = self.client.credits().await?;
        if let Some(s) = self.spend.settle_estimate(c.total, this_job) {
            tracing::info!(job = %s.job_id, estimate = s.estimate, credits = s.credits, "an estimated charge corrected by the balance");
        }
        Ok(c)
    }

    pub fn err(&self, e: &nemo_client::Error) -> ToolError {
        ToolError::from_client(e, &self.settings.client.web_url)
    }

    /// What an upload's inputs are checked against.
    pub fn input_rules(&self) -> crate::files::uploads::InputRules {
        self.input_rules_of(None)
    }

    /// What a job's inputs are checked against: the folders it recorded when it was made
    /// (`None`, a job journaled before they were: this process's).
    pub fn input_rules_of(
        &self,
        recorded: Option<&crate::files::paths::AllowedFolders>,
    ) -> crate::files::uploads::InputRules {
        let policy = self.input_policy();
        crate::files::uploads::InputRules {
            policy: match recorded {
                Some(folders) => policy.allowing(folders),
                None => policy,
            },
            max_bytes: self.client.profile().max_upload_bytes(),
        }
    }

    pub fn input_policy(&self) -> crate::files::paths::InputPolicy {
        input_policy(&self.settings)
    }
}

/// The folders uploads may come from, as `settings` set them up (what a job records).
pub fn allowed_folders(settings: &Settings) -> crate::files::paths::AllowedFolders {
    crate::files::paths::AllowedFolders {
        lexical: settings.allowed_lexical.clone(),
        canonical: settings.allowed_dirs.clone(),
    }
}

/// Where uploads may come from: the allowed folders, never our own state (credentials,
/// journal, client id), as configured and as resolved. The server and the commands that take
/// files (`brand set`) check against this one policy.
pub fn input_policy(settings: &Settings) -> crate::files::paths::InputPolicy {
    let own = [
        settings.client.state_dir.clone(),
        settings.client.client_id_file.clone(),
    ];
    let resolved: Vec<_> = own.iter().filter_map(|p| p.canonicalize().ok()).collect();
    let folders = allowed_folders(settings);
    crate::files::paths::InputPolicy {
        lexical: folders.lexical,
        canonical: folders.canonical,
        private: own
            .into_iter()
            .filter(|p| p.is_absolute())
            .chain(resolved)
            .collect(),
    }
}

/// The attribution `client`'s requests carry when a job starts (over stdio, the platform is
/// known only once the host has said its name).
fn attribution_of(client: &Client) -> crate::jobs::AttributionSource {
    let client = client.clone();
    Arc::new(move || client.attribution())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nemo_client::Config;

    /// The server and `brand set` share one policy: media in an allowed folder passes; our
    /// own state never does, even when it sits inside an allowed folder or is reached
    /// through a link.
    #[cfg(unix)]
    #[test]
    fn the_input_policy_keeps_our_own_state_out_of_uploads() {
        use crate::files::paths::resolve_input;
        let dir = tempfile::tempdir().unwrap();
        let media = dir.path().join("media");
        let state = media.join("state");
        std::fs::create_dir_all(&state).unwrap();
        std::fs::write(media.join("photo.png"), b"png").unwrap();
        std::fs::write(state.join("credentials.json"), b"{}").unwrap();
        std::os::unix::fs::symlink(state.join("credentials.json"), media.join("innocent.png"))
            .unwrap();
        let client = Config::new("http://127.0.0.1:1", state.clone());
        let policy = input_policy(&Settings::new(
            client,
            dir.path().join("out"),
            vec![media.clone()],
        ));
        assert!(resolve_input(&media.join("photo.png").to_string_lossy(), &policy).is_ok());
        for own in [state.join("credentials.json"), media.join("innocent.png")] {
            assert!(
                resolve_input(&own.to_string_lossy(), &policy).is_err(),
                "{} was allowed",
                own.display()
            );
        }
    }
}

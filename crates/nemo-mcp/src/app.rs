//! What every tool call shares: the NemoVideo client, the settings and the jobs.

use crate::errors::ToolError;
use crate::settings::Settings;
use crate::store::JobManager;
use nemo_client::{Client, SessionId};
use std::sync::Arc;

pub struct App {
    pub client: Client,
    pub settings: Settings,
    pub jobs: JobManager,
    /// The media uploaded to each project (to restore a lost one).
    pub projects: Arc<crate::projects::Ledger>,
}

impl App {
    pub fn new(settings: Settings) -> Result<Arc<App>, String> {
        let client = Client::new(settings.client.clone()).map_err(|e| e.to_string())?;
        let jobs = JobManager::new(settings.journal_dir());
        let projects = Arc::new(crate::projects::Ledger::new(settings.projects_dir()));
        Ok(Arc::new(App {
            client,
            settings,
            jobs,
            projects,
        }))
    }

    /// The same account and settings with a project and jobs of their own: one per MCP
    /// session over `--http`, so two hosts never see or edit each other's video.
    pub fn fork(&self, owner: &str) -> Arc<App> {
        Arc::new(App {
            client: self.client.fork_project(),
            settings: self.settings.clone(),
            jobs: self.jobs.scoped(owner),
            projects: self.projects.clone(),
        })
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
    pub fn input_policy(&self) -> crate::paths::InputPolicy {
        crate::paths::InputPolicy {
            lexical: self.settings.allowed_lexical.clone(),
            canonical: self.settings.allowed_dirs.clone(),
            private: self.private_dirs(),
        }
    }

    /// The session id, creating the session if needed.
    pub async fn session_id(&self, language: Option<&str>) -> Result<SessionId, ToolError> {
        self.client
            .session(language)
            .await
            .map(|s| s.session_id)
            .map_err(|e| self.err(&e))
    }
}

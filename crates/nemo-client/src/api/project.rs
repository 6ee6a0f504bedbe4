//! Contract §2: projects (backend sessions). A [`Project`] is a handle on one of them, in the
//! style of octocrab's `octocrab.issues(owner, repo)`: the calls that belong to a project
//! (state, messages, uploads, render submits, claim links) hang off it, each in its area's file.
//!
//! The client keeps no "current" project and never replaces a lost one: which project a caller
//! works on, whether it is remembered across restarts, and what a lost one means (restore its
//! media, tell the user) are the caller's decisions. A project the backend no longer knows is
//! [`Error::SessionLost`] naming it.

use crate::error::{Error, Result};
use crate::session::{Session, SessionId};
use crate::wire::{lenient, Text};
use crate::Client;
use reqwest::Method;
use serde::{Deserialize, Serialize};

/// One NemoVideo project. Cheap: it holds the client by reference and the ids.
#[derive(Clone)]
pub struct Project<'c> {
    pub(crate) client: &'c Client,
    pub(crate) id: SessionId,
    pub(crate) task_id: Option<String>,
}

/// The seeds' body for a new project, exactly: `{"task_name":"project","language":"<lang>"}`.
#[derive(Serialize)]
struct CreateProject<'a> {
    task_name: &'a str,
    language: &'a str,
}

/// The backend's answer: `data.session_id` (a string or an exact integer), `data.task_id`,
/// sometimes `data.user_id`.
#[derive(Deserialize)]
struct Created {
    #[serde(default, alias = "sessionId", deserialize_with = "lenient")]
    session_id: Option<SessionId>,
    #[serde(default, alias = "taskId", deserialize_with = "lenient")]
    task_id: Option<Text>,
    #[serde(default, alias = "userId", deserialize_with = "lenient")]
    user_id: Option<Text>,
}

impl Client {
    /// A handle on the project `id` (nothing is sent until a call on it).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = nemo_sim::Sim::start(nemo_sim::SimConfig::fast()).await?;
    /// # let dir = tempfile::tempdir()?;
    /// # let config = nemo_client::Config::new(sim.base_url(), dir.path().join("state"))
    /// #     .with_client_id_file(dir.path().join("client_id"));
    /// use nemo_client::Client;
    /// let client = Client::new(config)?;
    /// let a = client.create_project("en").await?;
    /// let b = client.create_project("en").await?; // one client, two projects
    /// assert_ne!(a.session_id, b.session_id);
    /// let state = client.project(a.session_id).state().await?;
    /// assert_eq!(state.session_id, a.session_id);
    /// # Ok(()) }
    /// ```
    pub fn project(&self, id: SessionId) -> Project<'_> {
        Project {
            client: self,
            id,
            task_id: None,
        }
    }

    /// Create a project whose agent speaks `language`.
    pub async fn create_project(&self, language: &str) -> Result<Session> {
        let body = CreateProject {
            task_name: "project",
            language,
        };
        let data = self
            .json(
                Method::POST,
                "/api/tasks/me/with-session/nemo_agent",
                Some(crate::wire::to_value(&body)?),
            )
            .await?;
        let created: Created = crate::wire::from_value(data, "the new session")?;
        let session_id = created.session_id.ok_or_else(|| Error::Protocol {
            message: "the new session has no session_id".into(),
        })?;
        let user_id = created.user_id.map(|t| t.0);
        self.remember_user(user_id.clone());
        tracing::info!(session = %session_id, "created a session");
        Ok(Session {
            session_id,
            task_id: created.task_id.map(|t| t.0),
            language: language.to_string(),
            api_url: self.config().api_url.clone(),
            user_id,
        })
    }
}

impl std::fmt::Debug for Project<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Project")
            .field("id", &self.id)
            .field("task_id", &self.task_id)
            .finish()
    }
}

impl<'c> Project<'c> {
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The project's task id (the claim link sends it along), when the caller knows it.
    pub fn with_task_id(mut self, task_id: Option<String>) -> Self {
        self.task_id = task_id;
        self
    }

    pub fn client(&self) -> &'c Client {
        self.client
    }
}

impl Session {
    /// A handle on this project, with its task id.
    pub fn handle<'c>(&self, client: &'c Client) -> Project<'c> {
        client
            .project(self.session_id)
            .with_task_id(self.task_id.clone())
    }
}

//! Contract §6: the session state.

use crate::error::Result;
use crate::state::SessionState;
use crate::{Project, TokenSource};
use reqwest::Method;

impl Project<'_> {
    /// The project's current state (the draft, assets, canvas). A project the backend no
    /// longer knows is [`crate::Error::SessionLost`] naming it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = nemo_sim::Sim::start(nemo_sim::SimConfig::fast()).await?;
    /// # let dir = tempfile::tempdir()?;
    /// # let config = nemo_client::Config::new(sim.base_url(), dir.path().join("state"))
    /// #     .with_client_id_file(dir.path().join("client_id"));
    /// let client = nemo_client::Client::new(config)?;
    /// let project = client.create_project("en").await?;
    /// let state = client.project(project.session_id).state().await?;
    /// assert!(!state.timeline.is_exportable(), "a new project has nothing to export yet");
    /// println!("{}", state.timeline.summary());
    /// # Ok(()) }
    /// ```
    pub async fn state(&self) -> Result<SessionState> {
        let session = self.id;
        let d = self
            .client
            .json(
                Method::GET,
                &format!("/api/state/nemo_agent/me/{session}/latest"),
                None,
            )
            .await
            .map_err(|e| e.in_session(session))?;
        let state = SessionState::from_data(session, &d);
        self.client.remember_user(state.user_id.clone());
        Ok(state)
    }

    /// The anonymous user's id: known from any earlier response, else read from this
    /// project's state (one GET). Needed for the registration link.
    pub async fn learn_user_id(&self) -> Option<String> {
        if let Some(u) = self.client.user_id() {
            return Some(u);
        }
        if self.client.token_source() == TokenSource::Anonymous {
            let _ = self.state().await;
        }
        self.client.user_id()
    }
}

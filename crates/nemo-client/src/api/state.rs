//! Contract §6: the session state.

use crate::error::Result;
use crate::session::SessionId;
use crate::state::SessionState;
use crate::Client;
use reqwest::Method;

impl Client {
    /// The current state of the current project (the draft, assets, canvas).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = nemo_sim::Sim::start(nemo_sim::SimConfig::fast()).await?;
    /// # let dir = tempfile::tempdir()?;
    /// # let config = nemo_client::Config::new(sim.base_url(), dir.path().join("state"))
    /// #     .with_client_id_file(dir.path().join("client_id"));
    /// let client = nemo_client::Client::new(config)?;
    /// let state = client.state().await?;
    /// assert!(!state.timeline.is_exportable(), "a new project has nothing to export yet");
    /// println!("{}", state.timeline.summary());
    /// # Ok(()) }
    /// ```
    pub async fn state(&self) -> Result<SessionState> {
        let session = self.session(None).await?.session_id;
        self.state_of(session).await
    }

    /// The state of `session`. A project the backend no longer knows is
    /// [`crate::Error::SessionLost`] naming it.
    pub async fn state_of(&self, session: SessionId) -> Result<SessionState> {
        let d = self
            .json(
                Method::GET,
                &format!("/api/state/nemo_agent/me/{session}/latest"),
                None,
            )
            .await
            .map_err(|e| e.in_session(session))?;
        self.remember_user(d["user_id"].as_str().map(str::to_string));
        Ok(SessionState::from_data(session, &d))
    }
}

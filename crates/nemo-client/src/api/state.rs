//! Contract §6: the session state.

use crate::error::Result;
use crate::session::SessionId;
use crate::state::SessionState;
use crate::Client;
use reqwest::Method;

impl Client {
    /// The current state of the current project (the draft, assets, canvas).
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

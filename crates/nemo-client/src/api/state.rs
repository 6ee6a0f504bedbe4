//! Contract §6: the session state.

use crate::error::Result;
use crate::state::SessionState;
use crate::Client;
use reqwest::Method;

impl Client {
    /// The current state of the session (the draft, assets, canvas).
    pub async fn state(&self) -> Result<SessionState> {
        self.with_session(|s| async move {
            let d = self
                .json(
                    Method::GET,
                    &format!("/api/state/nemo_agent/me/{}/latest", s.session_id),
                    None,
                )
                .await?;
            self.remember_user(d["user_id"].as_str().map(str::to_string));
            Ok(SessionState::from_data(s.session_id, &d))
        })
        .await
    }
}

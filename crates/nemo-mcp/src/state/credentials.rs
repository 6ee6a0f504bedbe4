//! The anonymous token, shared: kept in the state database (one account for every server
//! process of the user), renewals serialised by `token.lock` in the state folder, which the OS
//! releases if the process renewing dies.

use super::StateDb;
use nemo_client::auth::{CredentialStore, Credentials, RenewalGuard};
use std::sync::Arc;

pub struct Shared {
    db: Arc<StateDb>,
}

impl Shared {
    pub fn new(db: Arc<StateDb>) -> Shared {
        Shared { db }
    }
}

impl CredentialStore for Shared {
    fn load(&self) -> Option<Credentials> {
        let text = self
            .db
            .get_value(super::CREDENTIALS)
            .map_err(|e| tracing::error!("{e}"))
            .ok()??;
        serde_json::from_str(&text)
            .map_err(|e| tracing::warn!("the stored credentials cannot be read: {e}"))
            .ok()
    }

    fn save(&self, credentials: &Credentials) -> std::io::Result<()> {
        let text = serde_json::to_string(credentials).map_err(std::io::Error::other)?;
        self.db
            .set_value(super::CREDENTIALS, &text)
            .map_err(std::io::Error::other)
    }

    fn exclusive(&self) -> std::io::Result<RenewalGuard> {
        RenewalGuard::lock_file(&self.db.dir().join("token.lock"))
    }
}

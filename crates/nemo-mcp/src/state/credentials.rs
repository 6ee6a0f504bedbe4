//! The anonymous token, shared: kept in the state database (one account for every server
//! process of the user), renewals serialised by `token.lock` in the state folder, which the OS
//! releases if the process renewing dies.

use super::StateDb;
use nemo_client::auth::{CredentialStore, Credentials, RenewalGuard};
use std::sync::Arc;

/// The credentials replaced, newest first.
pub const HISTORY: &str = "credentials_history";
/// How many replaced credentials are kept.
pub const KEEP_REPLACED: usize = 10;

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

    fn load_all(&self) -> Vec<Credentials> {
        let replaced: Vec<Credentials> = self
            .db
            .get_value(HISTORY)
            .ok()
            .flatten()
            .and_then(|h| serde_json::from_str::<Vec<serde_json::Value>>(&h).ok())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect();
        self.load().into_iter().chain(replaced).collect()
    }

    /// Save `credentials`; the ones they replace are kept in `credentials_history` (the
    /// newest [`KEEP_REPLACED`]): a token replaced by mistake (a clock that jumped, a backend
    /// that refused it for a moment) is an account the user can still get back.
    fn save(&self, credentials: &Credentials) -> std::io::Result<()> {
        let text = serde_json::to_string(credentials).map_err(std::io::Error::other)?;
        self.db
            .write("could not be written", |tx| {
                if let Some(old) = super::get_value(tx, super::CREDENTIALS)? {
                    if old != text {
                        let mut kept: Vec<serde_json::Value> = super::get_value(tx, HISTORY)?
                            .and_then(|h| serde_json::from_str(&h).ok())
                            .unwrap_or_default();
                        if let Ok(v) = serde_json::from_str(&old) {
                            kept.insert(0, v);
                        }
                        kept.truncate(KEEP_REPLACED);
                        let kept = serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into());
                        super::set_value(tx, HISTORY, &kept)?;
                    }
                }
                super::set_value(tx, super::CREDENTIALS, &text)
            })
            .map_err(std::io::Error::other)
    }

    fn exclusive(&self) -> std::io::Result<RenewalGuard> {
        RenewalGuard::lock_file(&self.db.dir().join("token.lock"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(token: &str) -> Credentials {
        Credentials {
            token: nemo_client::auth::Token::new(token.to_string()),
            user_id: Some("u".into()),
            expires_at: None,
            client_id: "c".into(),
            api_url: "http://127.0.0.1:1".into(),
        }
    }

    /// Replaced credentials are kept (newest first, at most ten): a token replaced by mistake
    /// is an account the user can get back.
    #[test]
    fn replaced_credentials_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Shared::new(Arc::new(StateDb::open(dir.path()).unwrap()));
        for n in 0..13 {
            store.save(&creds(&format!("tok{n}"))).unwrap();
        }
        store.save(&creds("tok12")).unwrap();
        let kept: Vec<serde_json::Value> =
            serde_json::from_str(&store.db.get_value(HISTORY).unwrap().unwrap()).unwrap();
        assert_eq!(kept.len(), KEEP_REPLACED);
        let newest = serde_json::to_string(&kept[0]).unwrap();
        assert!(newest.contains("tok11"), "{newest}");
        assert_eq!(store.load().unwrap().token, creds("tok12").token);
    }
}

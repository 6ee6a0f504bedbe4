//! Which NemoVideo account this process works in. Hosts on one state folder may be set up
//! with different accounts (one with a `NEMO_TOKEN`, another on the shared anonymous token):
//! a job is recorded with the account it was made under, and only a process of that account
//! takes it over. The key names the account without holding its secret: a short hash of the
//! given token, or of the client id the anonymous token was issued to (the backend binds an
//! anonymous account to that id; its user id comes only from older servers). An account of
//! another backend (a staging API, nemo-sim) is another account even with the same token or
//! client id (the client id file is shared by every backend): its jobs name sessions and
//! renders only that backend knows, and run against another they would fail, or restore a
//! "lost" project there and charge for it.

use crate::state::credentials::Shared;
use crate::state::StateDb;
use nemo_client::auth::CredentialStore;
use std::sync::Arc;

/// 64 bits of a secret's SHA-256: enough to tell two accounts apart, nothing to sign in with.
fn short_hash(secret: &str) -> String {
    crate::support::hashed(secret, 8)
}

/// The account key of a given token (`NEMO_TOKEN`).
pub fn of_token(token: &str) -> String {
    format!("token-{}", short_hash(token))
}

/// The account key of the anonymous account issued to `client_id`.
pub fn of_client(client_id: &str) -> String {
    format!("client-{}", short_hash(client_id))
}

/// `key` as the account of the backend at `api_url`: NemoVideo's own keeps the key as it was
/// recorded before backends were told apart; any other is marked with a hash of its address.
fn on(api_url: &str, key: String) -> String {
    let api = api_url.trim_end_matches('/');
    if api == nemo_client::config::DEFAULT_API_URL {
        key
    } else {
        format!("{key}@{}", short_hash(api))
    }
}

/// How a process with these settings tells its account: its given token's key, else that of
/// the anonymous token stored for its API (read when asked: a first start has none until its
/// first call gets one); either of its backend.
pub fn source(
    token: Option<String>,
    api_url: String,
    db: Arc<StateDb>,
) -> Arc<dyn Fn() -> Option<String> + Send + Sync> {
    let key = token.as_deref().map(|t| on(&api_url, of_token(t)));
    let store = Shared::new(db);
    Arc::new(move || {
        if let Some(k) = &key {
            return Some(k.clone());
        }
        // Asked at each job's start: the current credentials first (one read), the replaced
        // ones only when those are another API's.
        let ours = |c: &nemo_client::auth::Credentials| c.api_url == api_url;
        store
            .load()
            .filter(ours)
            .or_else(|| store.load_all().into_iter().find(ours))
            .filter(|c| !c.client_id.is_empty())
            .map(|c| on(&api_url, of_client(&c.client_id)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_names_the_account_and_never_holds_its_token() {
        let secret = "sk-live-0123456789abcdef";
        let key = of_token(secret);
        assert!(key.starts_with("token-") && key.len() == "token-".len() + 16);
        assert!(!key.contains("0123456789abcdef"));
        assert_eq!(key, of_token(secret));
        assert_ne!(key, of_token("sk-live-another"));
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(StateDb::open(dir.path()).unwrap());
        let prod = nemo_client::config::DEFAULT_API_URL;
        let given = source(Some(secret.into()), format!("{prod}/"), db.clone());
        assert_eq!(given(), Some(key.clone()));
        // The same token on another backend is another account.
        let staging = source(Some(secret.into()), "https://api".into(), db.clone());
        let other = staging().unwrap();
        assert!(other.starts_with(&key) && other != key, "{other}");
        // Anonymous, before any token is stored: not known.
        let anonymous = source(None, "https://api".into(), db);
        assert_eq!(anonymous(), None);
    }
}

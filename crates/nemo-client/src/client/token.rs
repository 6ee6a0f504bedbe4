//! Contract §1: the token. The caller's, else the persisted anonymous one, else a new anonymous
//! one for the same client id (a 400 on the client id makes a new id once; a 429 is waited out
//! once).

use super::{retry_after, Client};
use crate::auth::{self, Credentials, Token, TokenSource};
use crate::envelope::{self, FailureKind};
use crate::error::{Error, Result};

/// The anonymous-token answer: `data.token`, `data.user_id`, `data.credits`, `data.expires_at`.
#[derive(serde::Deserialize)]
struct TokenAnswer {
    #[serde(default, deserialize_with = "crate::wire::lenient")]
    token: Option<String>,
    #[serde(default, alias = "userId", deserialize_with = "crate::wire::lenient")]
    user_id: Option<crate::wire::Text>,
    #[serde(
        default,
        alias = "expiresAt",
        deserialize_with = "crate::wire::lenient"
    )]
    expires_at: Option<String>,
}

impl Client {
    /// The token to use now: from the environment, memory, the store, or a new anonymous one.
    /// A new one is got while holding the store's renewal lock, after looking once more: of
    /// several processes starting together, one gets it and the others read it.
    pub(crate) async fn token(&self) -> Result<Token> {
        if let Some(t) = &self.inner.config.token {
            return Ok(Token::new(t.clone()));
        }
        let mut guard = self.inner.credentials.lock().await;
        // The stored token is tried even when this machine's clock says it has expired: a
        // clock that jumped forward must not cost the user their account. If the backend
        // refuses it, the refusal renews it (`renew`), as for any rejected token.
        if let Some(c) = guard.as_ref() {
            return Ok(c.token.clone());
        }
        let api = self.inner.config.api_url.clone();
        if let Some(c) = self.stored_for(api).await {
            let t = c.token.clone();
            *guard = Some(c);
            return Ok(t);
        }
        let _others_wait = self.exclusive().await?;
        let usable = |c: &Credentials| c.api_url == self.inner.config.api_url;
        if let Some(c) = self.stored(usable).await {
            let t = c.token.clone();
            *guard = Some(c);
            return Ok(t);
        }
        let c = self.anonymous_token().await?;
        let t = c.token.clone();
        *guard = Some(c);
        Ok(t)
    }

    fn store(&self) -> std::sync::Arc<dyn crate::auth::CredentialStore> {
        super::lock(&self.inner.store).clone()
    }

    /// The stored credentials, if `usable` (read off the async workers).
    async fn stored(&self, usable: impl Fn(&Credentials) -> bool) -> Option<Credentials> {
        let store = self.store();
        let c = tokio::task::spawn_blocking(move || store.load())
            .await
            .ok()
            .flatten()
            .filter(|c| usable(c))?;
        self.remember_user(c.user_id.clone());
        Some(c)
    }

    /// The newest stored credentials for `api`, the current ones or ones they replaced (a host
    /// set up for another API may have saved its own since).
    async fn stored_for(&self, api: String) -> Option<Credentials> {
        let store = self.store();
        let c = tokio::task::spawn_blocking(move || {
            store.load_all().into_iter().find(|c| c.api_url == api)
        })
        .await
        .ok()
        .flatten()?;
        self.remember_user(c.user_id.clone());
        Some(c)
    }

    /// The store's renewal lock: other processes' renewals wait until it drops.
    async fn exclusive(&self) -> Result<crate::auth::RenewalGuard> {
        let store = self.store();
        let io = |e| Error::io("locking the credentials for a token renewal".to_string(), e);
        tokio::task::spawn_blocking(move || store.exclusive())
            .await
            .map_err(|e| io(std::io::Error::other(e)))?
            .map_err(io)
    }

    /// The credentials in use (anonymous tokens only), for `doctor` and `connect`.
    pub async fn credentials(&self) -> Option<Credentials> {
        self.inner.credentials.lock().await.clone()
    }

    /// Replace a rejected anonymous token (unless another task, or another process sharing
    /// the store, already did).
    pub(super) async fn renew(&self, rejected: &Token) -> Result<()> {
        let mut guard = self.inner.credentials.lock().await;
        if guard.as_ref().is_some_and(|c| &c.token != rejected) {
            return Ok(());
        }
        let _others_wait = self.exclusive().await?;
        let now = chrono::Utc::now();
        let api = self.inner.config.api_url.clone();
        let renewed = |c: &Credentials| &c.token != rejected && c.api_url == api && !c.expired(now);
        if let Some(c) = self.stored(renewed).await {
            *guard = Some(c);
            return Ok(());
        }
        tracing::info!(
            "the anonymous token was rejected; getting a new one for the same client id"
        );
        *guard = Some(self.anonymous_token().await?);
        Ok(())
    }

    async fn anonymous_token(&self) -> Result<Credentials> {
        let cfg = &self.inner.config;
        let io = |e| {
            Error::io(
                format!("client id file {}", cfg.client_id_file.display()),
                e,
            )
        };
        let mut client_id =
            auth::load_or_create_client_id(cfg.client_id.as_deref(), &cfg.client_id_file)
                .map_err(io)?;
        let (mut client_id_retried, mut rate_retried) = (false, false);
        loop {
            let resp = self
                .inner
                .http
                .post(self.url("/api/auth/anonymous-token"))
                .headers(self.attribution_headers())
                .header("X-Client-Id", &client_id)
                .timeout(cfg.timeouts.request)
                .send()
                .await
                .map_err(|e| crate::network::failure::transport(e, &self.inner.network))?;
            if let Some(e) = self.proxy_refusal(&resp) {
                return Err(e);
            }
            let (status, retry_after) = (resp.status().as_u16(), retry_after(&resp));
            let body =
                crate::limits::read_body(resp, crate::limits::MAX_JSON_BYTES, cfg.timeouts.idle)
                    .await?;
            match envelope::parse(status, &body, retry_after) {
                Ok(data) => {
                    let answer: TokenAnswer = crate::wire::from_value(data, "the anonymous token")?;
                    let token =
                        answer
                            .token
                            .filter(|t| !t.is_empty())
                            .ok_or_else(|| Error::Protocol {
                                message: "the anonymous-token answer has no token".into(),
                            })?;
                    let user_id = answer.user_id.map(|t| t.0);
                    let expires_at = answer
                        .expires_at
                        .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
                        .map(|d| d.with_timezone(&chrono::Utc))
                        // The contract: anonymous tokens live 7 days.
                        .or_else(|| Some(chrono::Utc::now() + chrono::Duration::days(7)));
                    let c = Credentials {
                        token: Token::new(token),
                        user_id: user_id.clone(),
                        expires_at,
                        client_id,
                        api_url: cfg.api_url.clone(),
                    };
                    self.store().save(&c).map_err(|e| {
                        Error::io(
                            format!("saving credentials in {}", cfg.state_dir.display()),
                            e,
                        )
                    })?;
                    self.remember_user(user_id);
                    return Ok(c);
                }
                Err(f) if status == 400 && !client_id_retried && cfg.client_id.is_none() => {
                    tracing::warn!(
                        "the backend rejected our client id ({}); making a new one",
                        f.message
                    );
                    client_id_retried = true;
                    client_id = auth::new_client_id(&cfg.client_id_file).map_err(io)?;
                }
                Err(f) if f.kind() == FailureKind::RateLimited && !rate_retried => {
                    rate_retried = true;
                    tokio::time::sleep(self.rate_limit_wait(&f)).await;
                }
                Err(f) => return Err(self.failure_to_error(f, TokenSource::Anonymous)),
            }
        }
    }
}

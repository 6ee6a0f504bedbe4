//! The `Client`: one pooled HTTP client, the token (`token.rs`), attribution, and the rules for
//! retrying (renew a token once, honour a 429 once, retry GETs on transient failures; a paid
//! message never). The account is the client's; projects are handles on it
//! ([`crate::Project`]). API areas live in `api/`, one file each.

mod token;

use crate::auth::{Credentials, Token, TokenSource};
use crate::config::{detect_platform, Attribution, Config, Profile};
use crate::envelope::{self, Failure, FailureKind};
use crate::error::{Error, Result};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// A NemoVideo API client. Cheap to clone; clones share the token and session.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    /// Set on a handle that speaks for a job another process made ([`Client::speaking_for`]):
    /// the attribution it sends instead of this process's own.
    speaks_for: Option<Arc<Attribution>>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    /// Downloads: every hop checked by [`crate::network::egress`], a read timeout.
    pub(crate) download: reqwest::Client,
    /// The proxy and the trusted roots every connection uses (and errors are named by).
    pub(crate) network: crate::network::Network,
    pub(crate) config: Config,
    // The account: shared by every project of this client.
    platform: Arc<RwLock<String>>,
    credentials: Arc<tokio::sync::Mutex<Option<Credentials>>>,
    /// Where the anonymous credentials are kept (shared with the user's other processes).
    pub(crate) store: Mutex<Arc<dyn crate::auth::CredentialStore>>,
    user_id: Arc<Mutex<Option<String>>>,
}

/// What may be done again when a request fails. It decides both retries and how a failure is
/// reported.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Replay {
    /// A read: retried with backoff on transient failures.
    Retry,
    /// A write that is never retried by this layer (uploads, render submits).
    Once,
    /// A paid write (`/run_sse`): never retried, and any failure after the request may have
    /// reached the backend is [`Error::Unconfirmed`], never "nothing happened".
    Paid,
}

/// How a request wants its answer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Read the body and unwrap the envelope.
    Json,
    /// Hand back a successful non-JSON response unread (SSE, downloads).
    Stream,
}

pub(crate) enum Answer {
    Json(Value),
    Stream(Response),
}

/// A lock that a panicked holder did not poison: the data is plain state, still valid.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Client {
    /// A client for the API in `config`; nothing is sent until the first call, which gets a
    /// token (the one given in [`Config::token`], else a free anonymous one, kept in the state
    /// folder).
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
    /// let credits = client.credits().await?; // the first call gets an anonymous token
    /// assert!(client.credentials().await.is_some());
    /// assert!(credits.available > 0);
    /// # Ok(()) }
    /// ```
    pub fn new(config: Config) -> Result<Client> {
        let network = crate::network::Network::new(&config.network);
        let http = network
            .api_client(config.timeouts.connect)
            .map_err(Error::Config)?;
        let platform = config.platform_override.clone().unwrap_or_else(|| {
            let exe = std::env::current_exe().ok();
            let home = dirs::home_dir().unwrap_or_default();
            detect_platform(exe.as_deref(), &home, None).to_string()
        });
        let download = network
            .download_client(
                &config.api_url,
                config.timeouts.connect,
                config.timeouts.idle,
            )
            .map_err(Error::Config)?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                download,
                network,
                platform: Arc::new(RwLock::new(platform)),
                credentials: Arc::default(),
                store: Mutex::new(Arc::new(crate::auth::FileStore {
                    file: config.credentials_path(),
                    lock: config.state_dir.join("credentials.lock"),
                })),
                config,
                user_id: Arc::default(),
            }),
            speaks_for: None,
        })
    }

    /// Keep the anonymous credentials in `store` instead of `credentials.json`.
    pub fn with_credential_store(self, store: Arc<dyn crate::auth::CredentialStore>) -> Client {
        *lock(&self.inner.store) = store;
        self
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The proxy rules and trusted roots in use (what `doctor` shows).
    pub fn network(&self) -> &crate::network::Network {
        &self.inner.network
    }

    /// The host's name (MCP `clientInfo.name`): a Cursor host makes the platform `cursor`.
    /// For a process that serves one host; a server shared by several hosts asks
    /// [`Client::platform_for_host`] per request instead.
    pub fn set_host_hint(&self, host_name: &str) {
        let platform = self.platform_for_host(host_name);
        *self
            .inner
            .platform
            .write()
            .unwrap_or_else(|e| e.into_inner()) = platform;
    }

    /// The platform a request from the host called `host_name` says: `SKILL_SOURCE`'s when
    /// set, else where the binary is installed when that tells, else what the name tells.
    pub fn platform_for_host(&self, host_name: &str) -> String {
        let own = self.platform();
        if self.inner.config.platform_override.is_some() || own != "unknown" {
            return own;
        }
        detect_platform(None, std::path::Path::new("/"), Some(host_name)).to_string()
    }

    pub fn platform(&self) -> String {
        self.inner
            .platform
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// What the three attribution headers of every request say: this process's profile,
    /// version and platform, or those of the job this handle speaks for.
    pub fn attribution(&self) -> Attribution {
        if let Some(a) = &self.speaks_for {
            return Attribution::clone(a);
        }
        let c = &self.inner.config;
        Attribution::new(c.profile.source(), c.skill_version.clone(), self.platform())
    }

    /// A handle on the same account (token, connections, credentials) whose requests carry
    /// `attribution`: a job taken over from another process is sent as its maker sent it, and
    /// held to its maker's upload limit when its source names a profile.
    pub fn speaking_for(&self, attribution: Attribution) -> Client {
        Client {
            inner: self.inner.clone(),
            speaks_for: Some(Arc::new(attribution)),
        }
    }

    /// The profile whose limits hold for this handle's requests.
    pub fn profile(&self) -> Profile {
        self.speaks_for
            .as_ref()
            .and_then(|a| a.profile())
            .unwrap_or(self.inner.config.profile)
    }

    pub(crate) fn attribution_headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in self.attribution().headers() {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(k, v);
            }
        }
        h
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.config.api_url)
    }

    /// Where the token came from, once there is one.
    pub fn token_source(&self) -> TokenSource {
        if self.inner.config.token.is_some() {
            TokenSource::Given
        } else {
            TokenSource::Anonymous
        }
    }

    fn rate_limit_wait(&self, f: &Failure) -> Duration {
        let t = &self.inner.config.timeouts;
        f.retry_after_s
            .map(Duration::from_secs)
            .unwrap_or(t.rate_limit_wait)
            .min(t.rate_limit_max_wait)
    }

    /// Remember the anonymous user's id (from any answer that carried it, or a project the
    /// caller kept) for the registration link.
    pub fn remember_user(&self, user_id: Option<String>) {
        if let Some(u) = user_id.filter(|u| !u.is_empty()) {
            *lock(&self.inner.user_id) = Some(u);
        }
    }

    /// The registration link for anonymous users: `{web}/register?bind=<user_id>`, or the plain
    /// registration page when no response has told us the user id. `None` for a `NEMO_TOKEN`
    /// (a registered account tops up instead).
    pub fn register_url(&self) -> Option<String> {
        if self.token_source() == TokenSource::Given {
            return None;
        }
        let web = &self.inner.config.web_url;
        Some(match lock(&self.inner.user_id).as_ref() {
            Some(u) => format!("{web}/register?bind={u}"),
            None => format!("{web}/register"),
        })
    }

    /// The anonymous user's id, if a response has told us (needed for the registration link;
    /// [`crate::Project::learn_user_id`] reads it from a project when not).
    pub fn user_id(&self) -> Option<String> {
        lock(&self.inner.user_id).clone()
    }

    pub(crate) fn failure_to_error(&self, f: Failure, source: TokenSource) -> Error {
        match f.kind() {
            FailureKind::Token => Error::TokenInvalid {
                given: source == TokenSource::Given,
            },
            FailureKind::Session => Error::SessionLost {
                session: None,
                message: f.message,
            },
            FailureKind::Credits => Error::OutOfCredits {
                register_url: self.register_url(),
            },
            FailureKind::Unsupported => Error::UnsupportedFile { name: f.message },
            FailureKind::TooLarge => Error::FileTooLarge {
                name: f.message,
                size: 0,
                limit: self.profile().max_upload_bytes(),
            },
            FailureKind::Plan => Error::ExportBlocked,
            FailureKind::Busy => Error::Busy,
            FailureKind::RateLimited => Error::RateLimited {
                retry_after: self.rate_limit_wait(&f),
            },
            FailureKind::Transient => Error::Transient {
                message: format!("HTTP {}", f.status),
            },
            FailureKind::ClientId | FailureKind::Other => Error::Rejected {
                status: f.status,
                code: f.code,
                message: f.message,
            },
        }
    }

    // ---- requests ----------------------------------------------------------------------

    /// Send a request built by `build` (called again for each attempt) with the token and the
    /// attribution headers, applying the retry rules of `replay`. A refusal the backend answered
    /// (a 401 to renew, a 429 to wait out) is retried for every kind: nothing was accepted.
    pub(crate) async fn execute<B>(&self, want: Want, replay: Replay, build: B) -> Result<Answer>
    where
        B: Fn(&reqwest::Client, &Token) -> Result<RequestBuilder>,
    {
        let t = &self.inner.config.timeouts;
        let source = self.token_source();
        let idempotent = replay == Replay::Retry;
        let (mut renewed, mut rate_retried, mut attempt) = (false, false, 1u32);
        loop {
            let token = self.token().await?;
            let request = build(&self.inner.http, &token)?.headers(self.attribution_headers());
            let outcome = self.attempt(want, replay, request).await;
            let failure = match outcome {
                Ok(Ok(answer)) => return Ok(answer),
                Ok(Err(f)) => f,
                // Only a transient failure is tried again; an unsafe answer is not a hiccup.
                Err(e @ Error::Transient { .. }) if idempotent && attempt < t.get_attempts => {
                    tracing::debug!(attempt, "transient failure, retrying: {e}");
                    tokio::time::sleep(t.retry_backoff * 2u32.pow(attempt - 1)).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match failure.kind() {
                FailureKind::Token if source == TokenSource::Anonymous && !renewed => {
                    renewed = true;
                    self.renew(&token).await?;
                }
                FailureKind::RateLimited if !rate_retried => {
                    rate_retried = true;
                    let wait = self.rate_limit_wait(&failure);
                    tracing::info!(
                        "rate limited; waiting {} ms before one retry",
                        wait.as_millis()
                    );
                    tokio::time::sleep(wait).await;
                }
                FailureKind::Transient if idempotent && attempt < t.get_attempts => {
                    tokio::time::sleep(t.retry_backoff * 2u32.pow(attempt - 1)).await;
                    attempt += 1;
                }
                // A 5xx on a paid request comes from somewhere behind the request: a gateway
                // may answer 502/504 while the agent has the message.
                FailureKind::Transient if replay == Replay::Paid => {
                    return Err(Error::Unconfirmed {
                        message: format!("HTTP {}", failure.status),
                    })
                }
                _ => return Err(self.failure_to_error(failure, source)),
            }
        }
    }

    /// One attempt: the answer, the backend's refusal to weigh (`Ok(Err(failure))`), or an
    /// error that ends the call (or, if transient and idempotent, is retried by the caller).
    async fn attempt(
        &self,
        want: Want,
        replay: Replay,
        request: RequestBuilder,
    ) -> Result<std::result::Result<Answer, Failure>> {
        let t = &self.inner.config.timeouts;
        let resp = match replay {
            // The wait for the response headers is bounded: a stall there may mean the backend
            // took the message and is slow to answer, or that it never will.
            Replay::Paid => match tokio::time::timeout(t.sse_headers, request.send()).await {
                Ok(r) => {
                    r.map_err(|e| crate::network::failure::paid_transport(e, &self.inner.network))?
                }
                Err(_) => {
                    return Err(Error::Unconfirmed {
                        message: format!(
                            "no response within {} s",
                            t.sse_headers.as_secs_f64().round()
                        ),
                    })
                }
            },
            _ => request
                .send()
                .await
                .map_err(|e| crate::network::failure::transport(e, &self.inner.network))?,
        };
        if let Some(e) = self.proxy_refusal(&resp) {
            return Err(e);
        }
        let status = resp.status().as_u16();
        let is_json = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("json"));
        if want == Want::Stream && (200..300).contains(&status) && !is_json {
            return Ok(Ok(Answer::Stream(resp)));
        }
        let retry = retry_after(&resp);
        match crate::limits::read_body(resp, crate::limits::MAX_JSON_BYTES, t.idle).await {
            Err(e) if replay == Replay::Paid => Err(Error::Unconfirmed {
                message: format!("HTTP {status}, then {e}"),
            }),
            Err(e) => Err(e),
            Ok(body) => Ok(envelope::parse(status, &body, retry).map(Answer::Json)),
        }
    }

    /// An answer from the proxy rather than the backend: a 407 can only come from a proxy on a
    /// plain-http request (over https the tunnel reports it, [`crate::network::failure`]).
    pub(crate) fn proxy_refusal(&self, resp: &Response) -> Option<Error> {
        if resp.status().as_u16() != 407 {
            return None;
        }
        let proxy = self.inner.network.proxy.proxy_for(resp.url());
        Some(Error::Proxy {
            proxy: proxy
                .map(crate::network::proxy::display)
                .unwrap_or_else(|| "in use".into()),
            problem: crate::ProxyProblem::AuthRequired,
        })
    }

    /// A JSON call: `GET` is retried on transient failures, everything else is not.
    pub(crate) async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let replay = if method == Method::GET {
            Replay::Retry
        } else {
            Replay::Once
        };
        let url = self.url(path);
        let timeout = self.inner.config.timeouts.request;
        let answer = self
            .execute(Want::Json, replay, |http, token| {
                let mut rb = http
                    .request(method.clone(), &url)
                    .bearer_auth(token.expose())
                    .timeout(timeout);
                if let Some(b) = &body {
                    rb = rb.json(b);
                }
                Ok(rb)
            })
            .await?;
        match answer {
            Answer::Json(v) => Ok(v),
            Answer::Stream(_) => Err(Error::Protocol {
                message: "expected JSON".into(),
            }),
        }
    }
}

fn retry_after(resp: &Response) -> Option<u64> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

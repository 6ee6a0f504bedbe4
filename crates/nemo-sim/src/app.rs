//! The shared state behind every handler, the router, and the middleware that logs each request
//! and applies scripted faults before the handler sees it.

use crate::config::{ErrorForm, SimConfig};
use crate::faults::{FaultAction, FaultPlan, Route};
use crate::log::LoggedRequest;
use crate::reply::{self, ApiError};
use crate::routes;
use crate::strict::{SeenBody, Violation};
use crate::world::World;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderMap;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// Everything a handler can reach.
pub struct Shared {
    pub config: SimConfig,
    pub base_url: String,
    pub data_dir: PathBuf,
    pub world: Mutex<World>,
    pub faults: Mutex<FaultPlan>,
    pub log: Mutex<Vec<LoggedRequest>>,
    /// `None`: about 30% of edits are silent (deterministic); `Some(b)`: all or none.
    pub silence: Mutex<Option<bool>>,
    /// When the simulator started: the log's and the renders' times are counted from it.
    pub epoch: std::time::Instant,
}

pub type AppState = Arc<Shared>;

impl Shared {
    /// Milliseconds since the simulator started.
    pub fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Locks never poison in practice (handlers do not panic while holding them); if one did,
    /// the simulator keeps serving with the state as it was.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn faults(&self) -> MutexGuard<'_, FaultPlan> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn log(&self) -> MutexGuard<'_, Vec<LoggedRequest>> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn envelope(&self) -> crate::config::Envelope {
        self.config.variants.envelope
    }
    pub fn err(&self, e: ApiError, message: &str) -> Response {
        reply::err(self.envelope(), self.config.variants.error_form, e, message)
    }
    pub fn ok(&self, data: serde_json::Value) -> Response {
        reply::ok(self.envelope(), data)
    }

    /// The user behind the request's bearer token, or the 1001 answer.
    // The error is the answer to send, as axum handlers do; its size does not matter here.
    #[allow(clippy::result_large_err)]
    pub fn authorize(&self, headers: &HeaderMap) -> Result<String, Response> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default();
        if token.is_empty() {
            return Err(self.err(ApiError::TokenInvalid, "missing token"));
        }
        let mut world = self.world();
        if let Some(user) = world.user_for_token(token) {
            return Ok(user);
        }
        if self.config.registered_tokens.iter().any(|t| t == token) {
            let id = format!("user_{}", world.next());
            world.users.insert(
                id.clone(),
                crate::world::User {
                    id: id.clone(),
                    available: self.config.starting_credits,
                    frozen: 0,
                    registered: true,
                },
            );
            let expires_at = world.now() + chrono::Duration::days(3650);
            world.tokens.insert(
                token.to_string(),
                crate::world::TokenInfo {
                    user_id: id.clone(),
                    expires_at,
                },
            );
            return Ok(id);
        }
        Err(self.err(ApiError::TokenInvalid, "token invalid or expired"))
    }

    /// Mark a `/run_sse` request as accepted (a turn started).
    pub fn log_turn_started(&self, seq: u64) {
        if let Some(entry) = self.log().iter_mut().find(|e| e.seq == seq) {
            entry.turn_started = true;
        }
    }

    /// The upload limit of the profile a request claims (`X-Skill-Source`): 200 MB for
    /// `free-video-generation-tools` (seed 001), the instance's limit otherwise.
    pub fn upload_limit(&self, headers: &HeaderMap) -> u64 {
        let source = header(headers, "x-skill-source").unwrap_or_default();
        if source.trim() == "free-video-generation-tools" {
            self.config.max_upload_bytes_free_tools
        } else {
            self.config.max_upload_bytes
        }
    }

    /// Record the part names of a multipart upload on its log entry.
    pub fn log_parts(&self, seq: u64, names: Vec<String>) {
        if let Some(entry) = self.log().iter_mut().find(|e| e.seq == seq) {
            entry.parts = names;
        }
    }

    /// Mark a request refused by a handler's own strict check.
    pub fn log_refused(&self, seq: u64, why: &str) {
        if let Some(entry) = self.log().iter_mut().find(|e| e.seq == seq) {
            entry.rejected = Some(why.to_string());
        }
    }
}

/// The log sequence number of the current request (in request extensions).
#[derive(Debug, Clone, Copy)]
pub struct LogSeq(pub u64);

/// A stream-shaping fault for `/run_sse`, handed from the middleware to the handler.
#[derive(Debug, Clone)]
pub struct StreamFault(pub FaultAction);

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/auth/anonymous-token",
            post(routes::auth::anonymous_token),
        )
        .route("/api/auth/claim-token", post(routes::auth::claim_token))
        .route(
            "/api/tasks/me/with-session/nemo_agent",
            post(routes::session::create),
        )
        .route(
            "/api/state/nemo_agent/me/{sid}/latest",
            get(routes::session::state),
        )
        .route("/api/credits/balance/simple", get(routes::session::credits))
        .route(
            "/api/upload-video/nemo_agent/me/{sid}",
            post(routes::upload::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/run_sse", post(routes::sse::run_sse))
        .route("/api/render/proxy/lambda", post(routes::render::submit))
        .route("/api/render/proxy/lambda/{id}", get(routes::render::status))
        .route(
            "/api/render/proxy/lambda/{id}/cancel",
            post(routes::render::cancel),
        )
        .route(
            "/api/render/proxy/{id}/download",
            get(routes::render::download),
        )
        .route("/renders/{file}", get(routes::render::file))
        .route("/cdn/{sid}/{file}", get(routes::upload::cdn_file))
        .route("/register", get(routes::control::web_page))
        .route("/workspace/claim", get(routes::control::web_page))
        .nest("/_sim", routes::control::router())
        .layer(middleware::from_fn_with_state(state.clone(), log_and_fault))
        .with_state(state)
}

pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The largest JSON body the simulator reads (a draft is a few kilobytes; this is generous).
const MAX_JSON_BODY: usize = 32 * 1024 * 1024;

/// Read a JSON body for the log and the strict checks, and put it back for the handler.
/// Multipart uploads are left streaming.
pub(crate) async fn see_body(req: Request) -> Result<(Request, SeenBody), Response> {
    let content_type = header(req.headers(), "content-type").unwrap_or_default();
    if content_type.is_empty() {
        return Ok((req, SeenBody::None));
    }
    if content_type.starts_with("multipart/form-data") {
        return Ok((req, SeenBody::Multipart));
    }
    if !content_type.starts_with("application/json") {
        return Ok((req, SeenBody::Other(content_type)));
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_JSON_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return Err((
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "the JSON body is too large or broke off",
            )
                .into_response())
        }
    };
    let seen = serde_json::from_slice(&bytes).map_or(SeenBody::BadJson, SeenBody::Json);
    Ok((Request::from_parts(parts, Body::from(bytes)), seen))
}

/// The text of a `/run_sse` body's message parts.
pub fn message_text(body: &serde_json::Value) -> Option<String> {
    let parts = body["new_message"]["parts"].as_array()?;
    Some(
        parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The strict simulator's answer to a request unlike the seeds' form.
pub(crate) fn refuse(s: &Shared, route: Route, violation: &Violation) -> Response {
    match (route, violation) {
        // The contract: without the attribution headers, exports fail with HTTP 402.
        (Route::RenderSubmit, Violation::Unattributed(_)) => s.err(
            ApiError::Http(402),
            "export is not available on the free plan",
        ),
        (_, Violation::Unattributed(_)) => (
            axum::http::StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({"detail": violation.to_string()})),
        )
            .into_response(),
        // ADK (FastAPI) validates `/run_sse` bodies: 422 with a `detail`.
        (Route::RunSse, _) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({"detail": violation.to_string()})),
        )
            .into_response(),
        // A malformed request is refused with HTTP 400 whatever the run's error form (a
        // validating gateway answers before any envelope code is chosen); the body is in the
        // instance's envelope.
        _ => {
            let form = match s.config.variants.error_form {
                ErrorForm::CodeIn200 => ErrorForm::Both,
                other => other,
            };
            reply::err(
                s.envelope(),
                form,
                ApiError::Invalid,
                &violation.to_string(),
            )
        }
    }
}

pub use crate::gate::dropped_connection;
use crate::gate::log_and_fault;

//! The shared state behind every handler: the world, the log, the fault plan, the settings;
//! and what the gate hands a handler in the request's extensions.

use crate::config::SimConfig;
use crate::faults::{FaultAction, FaultPlan};
use crate::log::LoggedRequest;
use crate::reply::{self, ApiError};
use crate::world::World;
use axum::http::HeaderMap;
use axum::response::Response;
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

/// A request header as text, if it is.
pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

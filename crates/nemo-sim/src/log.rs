//! The request log: what every request carried, so tests can assert attribution headers on every
//! call and that no `/run_sse` message was ever sent twice.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LoggedRequest {
    pub seq: u64,
    /// When it arrived, in milliseconds since the simulator started.
    pub at_ms: u64,
    pub method: String,
    pub path: String,
    pub skill_source: Option<String>,
    pub skill_version: Option<String>,
    pub skill_platform: Option<String>,
    pub client_id: Option<String>,
    /// Whether an `Authorization: Bearer` header was present (the token itself is not kept).
    pub authorized: bool,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    /// A JSON body, as sent (`None` for no body, multipart, or JSON that did not parse).
    pub body: Option<serde_json::Value>,
    /// The names of the parts of a multipart upload, in order.
    pub parts: Vec<String>,
    /// Why the strict simulator refused the request, if it did.
    pub rejected: Option<String>,
    /// `Content-Length` of the request, when given.
    pub body_size: Option<u64>,
    /// The text of the message, for `/run_sse` (also when the request was refused).
    pub message: Option<String>,
    /// `/run_sse` only: the backend accepted the message and started a turn (and froze credits).
    pub turn_started: bool,
    /// Set when the request was hit by a scripted fault.
    pub fault: Option<String>,
}

impl LoggedRequest {
    /// All three attribution headers were present and non-empty.
    pub fn attributed(&self) -> bool {
        [
            &self.skill_source,
            &self.skill_version,
            &self.skill_platform,
        ]
        .iter()
        .all(|h| h.as_deref().is_some_and(|v| !v.is_empty()))
    }
}

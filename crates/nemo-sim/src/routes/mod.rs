//! One module per API area of the contract.
pub mod auth;
pub mod control;
pub mod render;
pub mod session;
pub mod sse;
pub mod upload;

use serde_json::Value;

/// A session id from a path or a JSON value: a decimal string or an exact JSON integer.
pub fn parse_session_id(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

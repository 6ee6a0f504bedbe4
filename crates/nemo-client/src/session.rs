//! Session (project) identity.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// A backend session id: a 64-bit number, kept exact (never through f64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(u64);

impl SessionId {
    pub fn new(id: u64) -> Self {
        SessionId(id)
    }
    pub fn get(self) -> u64 {
        self.0
    }
    /// From a JSON string (`"5529798706024415232"`) or an exact JSON integer.
    pub fn from_json(v: &Value) -> Option<SessionId> {
        match v {
            Value::String(s) => s.trim().parse().ok().map(SessionId),
            Value::Number(n) => n.as_u64().map(SessionId),
            _ => None,
        }
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        SessionId::from_json(&v).ok_or_else(|| serde::de::Error::custom("not a session id"))
    }
}

/// A project as created: its ids, its language and the API and user it belongs to (so an
/// application that keeps it can tell whether it still applies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub session_id: SessionId,
    pub task_id: Option<String>,
    pub language: String,
    /// The API it belongs to: a session of another backend is never resumed.
    pub api_url: String,
    /// The user it was created for: a new anonymous user cannot resume it.
    #[serde(default)]
    pub user_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn big_ids_stay_exact() {
        let big = 5_529_798_706_024_415_232u64;
        let from_number: Value = serde_json::from_str("5529798706024415232").unwrap();
        assert_eq!(SessionId::from_json(&from_number), Some(SessionId(big)));
        assert_eq!(
            SessionId::from_json(&json!("5529798706024415232")),
            Some(SessionId(big))
        );
        assert_eq!(SessionId::from_json(&json!(1.5)), None);
        assert_eq!(
            serde_json::to_string(&SessionId(big)).unwrap(),
            "\"5529798706024415232\""
        );
    }
}

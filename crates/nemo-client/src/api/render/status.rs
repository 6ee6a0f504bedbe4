//! Contract §8: a render's status, in any of the shapes the contract lists.

use crate::wire::lenient;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RenderState {
    Pending,
    Processing,
    Completed,
    Failed,
    /// A status we do not know: treated as still running.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderStatus {
    pub state: RenderState,
    pub progress: Option<u8>,
    pub url: Option<String>,
    pub error: Option<String>,
    pub duration_s: Option<f64>,
    pub size: Option<u64>,
}

/// A render status as the backend sends it, in any of the contract's shapes: the fields at the
/// top level or one level down in `data`, the URL as `output.url`, `outputUrl`, `output_url` or
/// `url`. The spellings are separate fields, not serde aliases, because an answer may carry two
/// of them at once, and the order below decides which wins. A field in a shape we do not know
/// is dropped, never fatal.
#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusWire {
    #[serde(deserialize_with = "lenient")]
    status: Option<String>,
    #[serde(deserialize_with = "lenient")]
    progress: Option<f64>,
    #[serde(deserialize_with = "lenient")]
    output: Option<OutputWire>,
    #[serde(rename = "outputUrl", deserialize_with = "lenient")]
    output_url_camel: Option<String>,
    #[serde(deserialize_with = "lenient")]
    output_url: Option<String>,
    #[serde(deserialize_with = "lenient")]
    url: Option<String>,
    #[serde(deserialize_with = "lenient")]
    error: Option<String>,
    #[serde(deserialize_with = "lenient")]
    message: Option<String>,
    #[serde(deserialize_with = "lenient")]
    duration: Option<f64>,
    #[serde(deserialize_with = "lenient")]
    size: Option<u64>,
    #[serde(deserialize_with = "lenient")]
    data: Option<Box<StatusWire>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OutputWire {
    #[serde(deserialize_with = "lenient")]
    url: Option<String>,
    #[serde(deserialize_with = "lenient")]
    duration: Option<f64>,
    #[serde(deserialize_with = "lenient")]
    size: Option<u64>,
}

fn filled(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

impl RenderStatus {
    /// Read a status in any of the contract's shapes (after the envelope is unwrapped).
    pub fn from_json(v: &Value) -> RenderStatus {
        let wire: StatusWire = serde_json::from_value(v.clone()).unwrap_or_default();
        // Some shapes nest the fields one level deeper under `data`.
        let d = match wire.data {
            Some(inner) if wire.status.is_none() => *inner,
            _ => wire,
        };
        let status = filled(d.status).unwrap_or_default().to_ascii_lowercase();
        let state = match status.as_str() {
            "pending" | "queued" => RenderState::Pending,
            "processing" | "running" | "rendering" => RenderState::Processing,
            "completed" | "complete" | "done" | "succeeded" | "success" => RenderState::Completed,
            "failed" | "error" | "cancelled" | "canceled" => RenderState::Failed,
            other => RenderState::Unknown(other.to_string()),
        };
        let output = d.output.unwrap_or_default();
        // A message on a live render is progress talk ("encoding"), not a failure.
        let error =
            filled(d.error).or_else(|| filled(d.message).filter(|_| state == RenderState::Failed));
        RenderStatus {
            state,
            progress: d.progress.map(|p| p.clamp(0.0, 100.0) as u8),
            url: filled(output.url)
                .or_else(|| filled(d.output_url_camel))
                .or_else(|| filled(d.output_url))
                .or_else(|| filled(d.url)),
            error,
            duration_s: output.duration.or(d.duration),
            size: output.size.or(d.size),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_three_status_shapes() {
        let top = RenderStatus::from_json(
            &json!({"status":"completed","progress":100,"output":{"url":"u1","duration":30.5,"size":15728640}}),
        );
        assert_eq!(
            (top.state.clone(), top.url.as_deref(), top.size),
            (RenderState::Completed, Some("u1"), Some(15728640))
        );
        // After the envelope is unwrapped, `{"success":true,"data":{..}}` gives the inner object.
        let data = RenderStatus::from_json(
            &json!({"id":"r","status":"completed","outputUrl":"u2","createdAt":1,"completedAt":2}),
        );
        assert_eq!(data.url.as_deref(), Some("u2"));
        let code = RenderStatus::from_json(&json!({"status":"processing","progress":40}));
        assert_eq!(
            (code.state, code.progress),
            (RenderState::Processing, Some(40))
        );
        let nested = RenderStatus::from_json(&json!({"data":{"status":"failed","error":"boom"}}));
        assert_eq!(
            (nested.state, nested.error.as_deref()),
            (RenderState::Failed, Some("boom"))
        );
        let unknown = RenderStatus::from_json(&json!({"status":"warming_up"}));
        assert_eq!(unknown.state, RenderState::Unknown("warming_up".into()));
        assert_eq!(
            RenderStatus::from_json(&json!({"url":"u3","status":"done"}))
                .url
                .as_deref(),
            Some("u3")
        );
    }

    /// A status at the top level is read there even when a `data` object comes with it; only
    /// a failed render's message is its error, whichever word says it failed.
    #[test]
    fn top_level_status_and_failure_messages() {
        let both = RenderStatus::from_json(
            &json!({"status":"completed","url":"u4","data":{"status":"processing"}}),
        );
        assert_eq!(
            (both.state, both.url.as_deref()),
            (RenderState::Completed, Some("u4"))
        );
        let live = RenderStatus::from_json(&json!({"status":"processing","message":"encoding"}));
        assert_eq!(live.error, None);
        for word in ["failed", "error", "cancelled"] {
            let failed = RenderStatus::from_json(&json!({"status": word, "message":"codec"}));
            assert_eq!(failed.error.as_deref(), Some("codec"), "{word}");
        }
    }
}

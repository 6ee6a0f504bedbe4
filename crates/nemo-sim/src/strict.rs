//! The strict simulator: it accepts a request only in the form the seeds send it.
//!
//! Nobody here can reach the real backend, so a field no seed sends, a missing header, or a
//! value other than the seeds' constant might be rejected there. The simulator rejects them
//! all, so a client that passes its tests sends nothing a real backend could refuse. The seeds
//! say *all* requests carry the three attribution headers; a missing one fails an export with
//! HTTP 402 (the contract), and any other request with an error.

use crate::faults::Route;
use axum::http::HeaderMap;
use serde_json::{Map, Value};

/// The attribution headers, required on every API request.
pub const ATTRIBUTION: [&str; 3] = ["x-skill-source", "x-skill-version", "x-skill-platform"];

/// A request body, as far as the middleware read it.
#[derive(Debug, Clone, PartialEq)]
pub enum SeenBody {
    /// No `Content-Type` (and so, for these endpoints, no body).
    None,
    Json(Value),
    /// `Content-Type: application/json` that did not parse.
    BadJson,
    /// `multipart/form-data` (its parts are checked by the upload handler).
    Multipart,
    /// Any other content type.
    Other(String),
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// An attribution header is missing or empty.
    Unattributed(&'static str),
    /// The request differs from the seeds' form.
    Malformed(String),
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::Unattributed(h) => write!(f, "missing attribution header {h}"),
            Violation::Malformed(m) => f.write_str(m),
        }
    }
}

/// Whether a path is an API endpoint (every one needs attribution), not a file on the CDN.
pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/run_sse"
}

/// The first attribution header that is missing or empty, if any.
pub fn missing_attribution(headers: &HeaderMap) -> Option<&'static str> {
    ATTRIBUTION
        .into_iter()
        .find(|h| header(headers, h).is_none())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Check one request against the seeds' form of its endpoint.
pub fn check(
    route: Route,
    path: &str,
    headers: &HeaderMap,
    body: &SeenBody,
) -> Result<(), Violation> {
    if !is_api(path) {
        return Ok(());
    }
    if let Some(h) = missing_attribution(headers) {
        return Err(Violation::Unattributed(h));
    }
    let malformed = |m: String| Err(Violation::Malformed(m));
    match route {
        Route::Token => match body {
            SeenBody::None => Ok(()),
            _ => malformed("the anonymous-token request has no body".into()),
        },
        Route::Session => {
            let b = json_body(body)?;
            let m = exact(b, "the session body", &["task_name", "language"])?;
            non_empty(m, "task_name")?;
            let lang = non_empty(m, "language")?;
            if !is_language_tag(lang) {
                return malformed(format!("language {lang:?} is not a language code"));
            }
            Ok(())
        }
        Route::RunSse => run_sse(headers, body),
        Route::Upload => match body {
            SeenBody::Multipart => Ok(()),
            SeenBody::Json(b) => {
                let m = exact(b, "the URL upload body", &["urls", "source_type"])?;
                constant(m, "source_type", "url")?;
                let urls = m["urls"].as_array().filter(|u| !u.is_empty());
                match urls {
                    Some(u) if u.iter().all(Value::is_string) => Ok(()),
                    _ => malformed("urls must be a non-empty list of strings".into()),
                }
            }
            _ => malformed("an upload is multipart/form-data or a JSON list of urls".into()),
        },
        Route::RenderSubmit => render_submit(body),
        Route::Claim => {
            let b = json_body(body)?;
            let m = exact(b, "the claim body", &["task_id", "session_id"])?;
            non_empty(m, "task_id")?;
            non_empty(m, "session_id").map(|_| ())
        }
        Route::Credits
        | Route::State
        | Route::RenderStatus
        | Route::RenderCancel
        | Route::Download => match body {
            SeenBody::None => Ok(()),
            _ => malformed("this request has no body".into()),
        },
    }
}

/// `/run_sse`: the event-stream Accept and the seeds' body, exactly.
fn run_sse(headers: &HeaderMap, body: &SeenBody) -> Result<(), Violation> {
    let malformed = |m: String| Err(Violation::Malformed(m));
    let accepts = header(headers, "accept").is_some_and(|a| a.contains("text/event-stream"));
    if !accepts {
        return malformed("Accept: text/event-stream is required".into());
    }
    let b = json_body(body)?;
    let m = exact(
        b,
        "the body",
        &["app_name", "user_id", "session_id", "new_message"],
    )?;
    constant(m, "app_name", "nemo_agent")?;
    constant(m, "user_id", "me")?;
    let sid = non_empty(m, "session_id")?;
    if !sid.bytes().all(|c| c.is_ascii_digit()) {
        return malformed(format!("session_id {sid:?} is not a session id"));
    }
    let msg = exact(&m["new_message"], "new_message", &["parts"])?;
    let parts = msg["parts"].as_array().filter(|p| !p.is_empty());
    let Some(parts) = parts else {
        return malformed("new_message.parts must be a non-empty list".into());
    };
    for p in parts {
        non_empty(exact(p, "a part", &["text"])?, "text")?;
    }
    Ok(())
}

/// A render submit: `render_<ts>`, the session, the state's draft, the seeds' output.
fn render_submit(body: &SeenBody) -> Result<(), Violation> {
    let malformed = |m: String| Err(Violation::Malformed(m));
    let b = json_body(body)?;
    let m = exact(
        b,
        "the render body",
        &["id", "sessionId", "draft", "output"],
    )?;
    let id = non_empty(m, "id")?;
    if !id.starts_with("render_") {
        return malformed(format!("id {id:?} is not render_<ts>"));
    }
    non_empty(m, "sessionId")?;
    if !m["draft"].is_object() {
        return malformed("draft must be the state's draft object".into());
    }
    let out = exact(&m["output"], "output", &["format", "quality"])?;
    constant(out, "format", "mp4")?;
    constant(out, "quality", "high")
}

fn json_body(body: &SeenBody) -> Result<&Value, Violation> {
    match body {
        SeenBody::Json(v) => Ok(v),
        SeenBody::BadJson => Err(Violation::Malformed("the body is not valid JSON".into())),
        _ => Err(Violation::Malformed(
            "Content-Type: application/json and a JSON body are required".into(),
        )),
    }
}

/// An object with exactly these keys: none missing, none more.
fn exact<'a>(v: &'a Value, what: &str, keys: &[&str]) -> Result<&'a Map<String, Value>, Violation> {
    let Some(m) = v.as_object() else {
        return Err(Violation::Malformed(format!(
            "{what} must be a JSON object"
        )));
    };
    if let Some(k) = keys.iter().find(|k| !m.contains_key(**k)) {
        return Err(Violation::Malformed(format!("{what}: missing field `{k}`")));
    }
    if let Some(k) = m.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(Violation::Malformed(format!("{what}: unknown field `{k}`")));
    }
    Ok(m)
}

fn non_empty<'a>(m: &'a Map<String, Value>, key: &str) -> Result<&'a str, Violation> {
    m.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Violation::Malformed(format!("`{key}` must be a non-empty string")))
}

fn constant(m: &Map<String, Value>, key: &str, want: &str) -> Result<(), Violation> {
    match m.get(key).and_then(Value::as_str) {
        Some(v) if v == want => Ok(()),
        other => Err(Violation::Malformed(format!(
            "`{key}` must be {want:?}, not {}",
            other.map_or("absent".to_string(), |v| format!("{v:?}"))
        ))),
    }
}

/// `en`, `zh-CN`, `pt-BR`: letters, then `-` and letters or digits.
fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or_default();
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attributed() -> HeaderMap {
        let mut h = HeaderMap::new();
        for k in ATTRIBUTION {
            h.insert(k, "x".parse().unwrap());
        }
        h
    }

    fn sse_headers() -> HeaderMap {
        let mut h = attributed();
        h.insert("accept", "text/event-stream".parse().unwrap());
        h
    }

    #[test]
    fn seed_forms_pass() {
        let h = attributed();
        let ok = |r, p: &str, b: Value| check(r, p, &h, &SeenBody::Json(b));
        ok(
            Route::Session,
            "/api/tasks/me/with-session/nemo_agent",
            json!({"task_name":"project","language":"zh-CN"}),
        )
        .unwrap();
        ok(Route::RenderSubmit, "/api/render/proxy/lambda", json!({"id":"render_1","sessionId":"5","draft":{},"output":{"format":"mp4","quality":"high"}})).unwrap();
        ok(
            Route::Upload,
            "/api/upload-video/nemo_agent/me/5",
            json!({"urls":["https://a/b.png"],"source_type":"url"}),
        )
        .unwrap();
        check(
            Route::RunSse,
            "/run_sse",
            &sse_headers(),
            &SeenBody::Json(json!({"app_name":"nemo_agent","user_id":"me","session_id":"5","new_message":{"parts":[{"text":"hi"}]}})),
        )
        .unwrap();
        check(
            Route::Credits,
            "/api/credits/balance/simple",
            &h,
            &SeenBody::None,
        )
        .unwrap();
    }

    #[test]
    fn deviations_are_refused() {
        let h = attributed();
        let bad =
            |r, p: &str, b: Value| check(r, p, &h, &SeenBody::Json(b)).unwrap_err().to_string();
        let render = "/api/render/proxy/lambda";
        assert!(bad(Route::RenderSubmit, render, json!({"id":"render_1","sessionId":"5","draft":{},"output":{"format":"mp4","quality":"high","resolution":"1080p"}})).contains("resolution"));
        assert!(bad(
            Route::RenderSubmit,
            render,
            json!({"id":"render_1","sessionId":"5","draft":{}})
        )
        .contains("output"));
        assert!(bad(
            Route::RenderSubmit,
            render,
            json!({"id":"r1","sessionId":"5","draft":{},"output":{"format":"mp4","quality":"high"}})
        )
        .contains("render_"));
        let session = "/api/tasks/me/with-session/nemo_agent";
        assert!(bad(Route::Session, session, json!({"task_name":"project"})).contains("language"));
        assert!(check(Route::Session, session, &h, &SeenBody::None).is_err());
        // /run_sse: Accept, user_id "me", no extra fields.
        let msg = json!({"app_name":"nemo_agent","user_id":"me","session_id":"5","new_message":{"parts":[{"text":"hi"}]}});
        assert!(check(Route::RunSse, "/run_sse", &h, &SeenBody::Json(msg.clone())).is_err());
        let mut other_user = msg.clone();
        other_user["user_id"] = json!("anon_1");
        assert!(check(
            Route::RunSse,
            "/run_sse",
            &sse_headers(),
            &SeenBody::Json(other_user)
        )
        .is_err());
        // Attribution, on every API path but not on CDN files.
        let mut partial = attributed();
        partial.remove("x-skill-platform");
        assert_eq!(
            check(
                Route::Credits,
                "/api/credits/balance/simple",
                &partial,
                &SeenBody::None
            ),
            Err(Violation::Unattributed("x-skill-platform"))
        );
        assert!(check(
            Route::Download,
            "/renders/a.mp4",
            &HeaderMap::new(),
            &SeenBody::None
        )
        .is_ok());
    }

    #[test]
    fn language_tags() {
        for ok in ["en", "zh-CN", "pt-BR", "zh-Hant-TW"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in ["", "e", "english", "en_US", "zh-", "1a"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }
}

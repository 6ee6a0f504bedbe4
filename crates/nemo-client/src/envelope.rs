//! The three response envelopes and the many error forms, read leniently into one result.

use crate::wire::{lenient, Int};
use serde::Deserialize;
use serde_json::Value;

/// The contract's numeric error codes, once.
pub mod codes {
    /// The token is invalid or expired.
    pub const TOKEN_INVALID: [i64; 3] = [1001, 1010, 1011];
    pub const SESSION_NOT_FOUND: i64 = 1002;
    pub const OUT_OF_CREDITS: i64 = 2001;
    pub const UNSUPPORTED_FILE: i64 = 4001;
    pub const FILE_TOO_LARGE: i64 = 4002;
}

/// A failed answer, however the backend chose to say it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub status: u16,
    pub code: Option<i64>,
    pub message: String,
    pub retry_after_s: Option<u64>,
}

impl Failure {
    /// What kind of failure this is, from the code when there is one, else the HTTP status.
    pub fn kind(&self) -> FailureKind {
        match self.code {
            Some(c) if codes::TOKEN_INVALID.contains(&c) => return FailureKind::Token,
            Some(codes::SESSION_NOT_FOUND) => return FailureKind::Session,
            Some(codes::OUT_OF_CREDITS) => return FailureKind::Credits,
            Some(codes::UNSUPPORTED_FILE) => return FailureKind::Unsupported,
            Some(codes::FILE_TOO_LARGE) => return FailureKind::TooLarge,
            _ => {}
        }
        let m = self.message.to_ascii_lowercase();
        match self.status {
            401 => FailureKind::Token,
            400 if m.contains("client") => FailureKind::ClientId,
            402 => FailureKind::Plan,
            404 if m.contains("session") => FailureKind::Session,
            403 if m.contains("credit") => FailureKind::Credits,
            409 => FailureKind::Busy,
            413 => FailureKind::TooLarge,
            415 => FailureKind::Unsupported,
            429 => FailureKind::RateLimited,
            500..=599 => FailureKind::Transient,
            _ if m.contains("insufficient credit") => FailureKind::Credits,
            _ => FailureKind::Other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    Token,
    Session,
    Credits,
    Unsupported,
    TooLarge,
    ClientId,
    Plan,
    Busy,
    RateLimited,
    Transient,
    Other,
}

/// Any of the three envelopes (`{code, message, data}`, `{success, data, error}`, a bare
/// object) and any error form (`message`, `error`, `detail`, `msg`, `errorMessage`,
/// `error_message`; a string or an object), read leniently: a field in a shape we do not know
/// counts as absent. The message spellings are separate fields, in the order they are
/// believed: one answer may carry several.
#[derive(Deserialize, Default)]
#[serde(default)]
struct EnvelopeWire {
    #[serde(deserialize_with = "lenient")]
    code: Option<Int>,
    #[serde(deserialize_with = "lenient")]
    success: Option<bool>,
    data: Value,
    message: Value,
    error: Value,
    detail: Value,
    msg: Value,
    #[serde(rename = "errorMessage")]
    error_message_camel: Value,
    error_message: Value,
}

impl EnvelopeWire {
    fn of(v: &Value) -> EnvelopeWire {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    fn message(&self) -> Option<String> {
        [
            &self.message,
            &self.error,
            &self.detail,
            &self.msg,
            &self.error_message_camel,
            &self.error_message,
        ]
        .into_iter()
        .find_map(|m| readable(m, 3))
    }
}

/// The words a person can read in an error field: a non-empty string as it is; in an object
/// (`{"error": {"reason": .., "message": ..}}`) its own message field; in a list (FastAPI's
/// `{"detail": [{"msg": ..}]}`) each item's, joined. An object with no message field is shown
/// as JSON rather than dropped. `depth` bounds the walk into a hostile nesting.
fn readable(m: &Value, depth: u8) -> Option<String> {
    const INNER: [&str; 5] = ["message", "msg", "detail", "error", "reason"];
    match m {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) if depth > 0 => INNER
            .iter()
            .find_map(|k| o.get(*k).and_then(|v| readable(v, depth - 1)))
            .or_else(|| (!o.is_empty()).then(|| m.to_string())),
        Value::Array(items) if depth > 0 => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|i| readable(i, depth - 1))
                .collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        Value::Object(_) | Value::Array(_) => Some(m.to_string()),
        _ => None,
    }
}

/// Read an HTTP answer: `Ok(data)` on success in any envelope, `Err(Failure)` otherwise.
pub fn parse(status: u16, body: &[u8], retry_after_s: Option<u64>) -> Result<Value, Failure> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let text = || {
        String::from_utf8_lossy(body)
            .chars()
            .take(300)
            .collect::<String>()
            .trim()
            .to_string()
    };
    let fail = |code: Option<i64>, message: Option<String>| Failure {
        status,
        code,
        message: message.filter(|m| !m.is_empty()).unwrap_or_else(|| {
            let t = text();
            if t.is_empty() {
                format!("HTTP {status}")
            } else {
                t
            }
        }),
        retry_after_s,
    };
    if !(200..300).contains(&status) {
        let e = json.as_ref().map(EnvelopeWire::of).unwrap_or_default();
        return Err(fail(e.code.map(|c| c.0), e.message()));
    }
    let Some(v) = json else {
        return Err(fail(None, Some("the answer was not JSON".into())));
    };
    let e = EnvelopeWire::of(&v);
    if let Some(Int(code)) = e.code {
        if code != 0 && code != 200 {
            return Err(fail(Some(code), e.message()));
        }
        return Ok(e.data);
    }
    if let Some(ok) = e.success {
        if !ok {
            return Err(fail(None, e.message()));
        }
        return Ok(e.data);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every failed answer of the corpus (written from the contract) reads as its kind, with
    /// the backend's own words kept.
    #[test]
    fn contract_failures_read_as_their_kind() {
        let corpus = include_str!("../tests/data/failures.tsv");
        let mut rows = 0;
        for line in corpus
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 4, "a row has four fields: {line}");
            let status: u16 = f[0].parse().unwrap();
            let body = if f[1] == "-" { "" } else { f[1] };
            let failure = parse(status, body.as_bytes(), None).expect_err(line);
            let kind = match failure.kind() {
                FailureKind::Token => "token",
                FailureKind::Session => "session",
                FailureKind::Credits => "credits",
                FailureKind::Unsupported => "unsupported",
                FailureKind::TooLarge => "too_large",
                FailureKind::ClientId => "client_id",
                FailureKind::Plan => "plan",
                FailureKind::Busy => "busy",
                FailureKind::RateLimited => "rate_limited",
                FailureKind::Transient => "transient",
                FailureKind::Other => "other",
            };
            assert_eq!(kind, f[2], "{line}");
            assert!(
                failure.message.contains(f[3]),
                "{line}: the message is {:?}",
                failure.message
            );
            rows += 1;
        }
        assert!(rows >= 30, "the corpus was read ({rows} rows)");
    }

    /// The message is the backend's words, not the JSON around them, and an empty spelling
    /// gives way to the next one.
    #[test]
    fn structured_errors_read_as_words() {
        let cases: [(&[u8], &str); 8] = [
            (
                br#"{"detail": [{"loc": ["body"], "msg": "field required"}, {"msg": "too long"}]}"#,
                "field required; too long",
            ),
            (
                br#"{"success": false, "error": {"reason": "quota", "detail": "daily limit"}}"#,
                "daily limit",
            ),
            (
                br#"{"code": 4001, "message": "", "error": "bad type"}"#,
                "bad type",
            ),
            (br#"{"error": {"message": {"text": 1}}}"#, r#"{"text":1}"#),
            (
                br#"{"error": {"why": "unknown"}, "detail": "later"}"#,
                r#"{"why":"unknown"}"#,
            ),
            (br#"{"error": [], "msg": "the msg"}"#, "the msg"),
            // Past three levels the rest is shown as JSON, not walked.
            (
                br#"{"error": {"error": {"error": {"error": {"error": "deep"}}}}}"#,
                r#"{"error":"deep"}"#,
            ),
            (br#"{"detail": [[[["in a list"]]]]}"#, r#"["in a list"]"#),
        ];
        for (body, message) in cases {
            let status = if body.starts_with(br#"{"code""#) {
                200
            } else {
                400
            };
            let failure = parse(status, body, None).unwrap_err();
            assert_eq!(
                failure.message,
                message,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn the_three_envelopes() {
        assert_eq!(
            parse(200, br#"{"code":0,"message":"ok","data":{"a":1}}"#, None).unwrap()["a"],
            1
        );
        assert_eq!(
            parse(200, br#"{"success":true,"data":{"a":2}}"#, None).unwrap()["a"],
            2
        );
        assert_eq!(parse(200, br#"{"a":3}"#, None).unwrap()["a"], 3);
    }

    #[test]
    fn errors_in_every_form() {
        let e = parse(200, br#"{"code":1002,"message":"session gone"}"#, None).unwrap_err();
        assert_eq!((e.code, e.kind()), (Some(1002), FailureKind::Session));
        let e = parse(404, br#"{"detail":"Session not found: 1"}"#, None).unwrap_err();
        assert_eq!(e.kind(), FailureKind::Session);
        let e = parse(401, br#"{"success":false,"error":"expired"}"#, None).unwrap_err();
        assert_eq!(e.kind(), FailureKind::Token);
        let e = parse(
            403,
            br#"{"success":false,"error":"insufficient credits"}"#,
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind(), FailureKind::Credits);
        let e = parse(200, br#"{"code":"1011","message":"x"}"#, None).unwrap_err();
        assert_eq!(e.kind(), FailureKind::Token);
        let e = parse(402, b"", None).unwrap_err();
        assert_eq!(
            (e.kind(), e.message.as_str()),
            (FailureKind::Plan, "HTTP 402")
        );
        let e = parse(502, b"<html>bad gateway</html>", None).unwrap_err();
        assert_eq!(e.kind(), FailureKind::Transient);
        assert!(e.message.contains("bad gateway"));
        let e = parse(429, b"", Some(12)).unwrap_err();
        assert_eq!(
            (e.kind(), e.retry_after_s),
            (FailureKind::RateLimited, Some(12))
        );
        let e = parse(200, b"not json", None).unwrap_err();
        assert_eq!(e.kind(), FailureKind::Other);
        let e = parse(200, br#"{"success":false,"error":"nope"}"#, None).unwrap_err();
        assert_eq!(e.message, "nope");
    }
}

//! The three response envelopes and the many error forms, read leniently into one result.

use serde_json::Value;

/// The contract's numeric error codes, once.
pub mod codes {
    pub const TOKEN_INVALID: &[&str] = &["1001", "1010", "1011"];
    pub const SESSION_NOT_FOUND: &str = "1002";
    pub const OUT_OF_CREDITS: &str = "2001";
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
            Some(1001 | 1010 | 1011) => return FailureKind::Token,
            Some(1002) => return FailureKind::Session,
            Some(2001) => return FailureKind::Credits,
            Some(4001) => return FailureKind::Unsupported,
            Some(4002) => return FailureKind::TooLarge,
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

fn message_of(v: &Value) -> Option<String> {
    for key in [
        "message",
        "error",
        "detail",
        "msg",
        "errorMessage",
        "error_message",
    ] {
        match &v[key] {
            Value::String(s) if !s.is_empty() => return Some(s.clone()),
            Value::Object(_) | Value::Array(_) => return Some(v[key].to_string()),
            _ => {}
        }
    }
    None
}

fn code_of(v: &Value) -> Option<i64> {
    match &v["code"] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
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
        let v = json.unwrap_or(Value::Null);
        return Err(fail(code_of(&v), message_of(&v)));
    }
    let Some(v) = json else {
        return Err(fail(None, Some("the answer was not JSON".into())));
    };
    if let Some(code) = code_of(&v).filter(|_| v.get("code").is_some()) {
        if code != 0 && code != 200 {
            return Err(fail(Some(code), message_of(&v)));
        }
        return Ok(v.get("data").cloned().unwrap_or(Value::Null));
    }
    if let Some(ok) = v.get("success").and_then(Value::as_bool) {
        if !ok {
            return Err(fail(None, message_of(&v)));
        }
        return Ok(v.get("data").cloned().unwrap_or(Value::Null));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

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

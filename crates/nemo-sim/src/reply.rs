//! Answers in the instance's envelope, and the error forms of the contract.

use crate::config::{Envelope, ErrorForm};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// The backend's error codes (contract "Error codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiError {
    TokenInvalid,
    SessionNotFound,
    NoCredits,
    UnsupportedFile,
    FileTooLarge,
    /// A request the backend rejects for another reason (bad body, duplicate render id, busy).
    Invalid,
    /// Only an HTTP status, whatever the envelope: 400 (no client id), 402 (plan), 404 (no render).
    Http(u16),
    /// Any other backend code (1010, 1011, ...), as scripted by a fault.
    Other(i64),
}

impl ApiError {
    pub fn from_code(code: i64) -> ApiError {
        match code {
            1001 => ApiError::TokenInvalid,
            1002 => ApiError::SessionNotFound,
            2001 => ApiError::NoCredits,
            4001 => ApiError::UnsupportedFile,
            4002 => ApiError::FileTooLarge,
            c => ApiError::Other(c),
        }
    }
}

impl ApiError {
    /// How the backend words this error when nothing more specific is said.
    pub fn message(self) -> &'static str {
        match self {
            ApiError::TokenInvalid | ApiError::Other(1010 | 1011) => "token invalid or expired",
            ApiError::SessionNotFound => "session not found",
            ApiError::NoCredits => "insufficient credits",
            ApiError::UnsupportedFile => "unsupported file type",
            ApiError::FileTooLarge => "file too large",
            ApiError::Invalid | ApiError::Http(_) | ApiError::Other(_) => "request failed",
        }
    }

    pub fn code(self) -> i64 {
        match self {
            ApiError::TokenInvalid => 1001,
            ApiError::SessionNotFound => 1002,
            ApiError::NoCredits => 2001,
            ApiError::UnsupportedFile => 4001,
            ApiError::FileTooLarge => 4002,
            ApiError::Invalid => 4000,
            ApiError::Http(s) => s as i64,
            ApiError::Other(c) => c,
        }
    }

    /// The HTTP status used by envelopes that report errors through the status line.
    fn mapped_status(self) -> StatusCode {
        let s = match self {
            ApiError::TokenInvalid => 401,
            ApiError::SessionNotFound => 404,
            ApiError::NoCredits => 403,
            ApiError::UnsupportedFile => 415,
            ApiError::FileTooLarge => 413,
            ApiError::Invalid => 400,
            ApiError::Http(s) => s,
            ApiError::Other(1010 | 1011) => 401,
            ApiError::Other(_) => 400,
        };
        StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_REQUEST)
    }
}

pub fn ok(envelope: Envelope, data: Value) -> Response {
    let body = match envelope {
        Envelope::Code => json!({"code": 0, "message": "success", "data": data}),
        Envelope::Success => json!({"success": true, "data": data}),
        Envelope::Bare => data,
    };
    Json(body).into_response()
}

/// An error in the instance's envelope and error form.
pub fn err(envelope: Envelope, form: ErrorForm, error: ApiError, message: &str) -> Response {
    if let ApiError::Http(_) = error {
        // Errors that are HTTP statuses in every form of the API.
        return (error.mapped_status(), Json(json!({"detail": message}))).into_response();
    }
    let with_code = || match envelope {
        Envelope::Code => json!({"code": error.code(), "message": message, "data": null}),
        Envelope::Success => json!({"success": false, "code": error.code(), "error": message}),
        Envelope::Bare => json!({"code": error.code(), "message": message}),
    };
    match form {
        ErrorForm::CodeIn200 => Json(with_code()).into_response(),
        ErrorForm::Both => (error.mapped_status(), Json(with_code())).into_response(),
        // The status and the words only; each envelope words it its own way, one as plain text.
        ErrorForm::StatusOnly => match envelope {
            Envelope::Code => {
                (error.mapped_status(), Json(json!({"detail": message}))).into_response()
            }
            Envelope::Success => (
                error.mapped_status(),
                Json(json!({"success": false, "error": message})),
            )
                .into_response(),
            Envelope::Bare => (error.mapped_status(), message.to_string()).into_response(),
        },
    }
}

pub fn rate_limited(retry_after_s: u64) -> Response {
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({"detail": "rate limited: one anonymous token per client per 7 days"})),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

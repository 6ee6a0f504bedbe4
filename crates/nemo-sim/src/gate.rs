//! The gate every API request passes before its handler: it is logged as it arrived, checked
//! against the seeds' form (strict mode), and meets the next scripted fault for its route.

use crate::config::ErrorForm;
use crate::faults::{FaultAction, Route};
use crate::log::LoggedRequest;
use crate::reply::{self, ApiError};
use crate::state::{header, AppState, LogSeq, Shared, StreamFault};
use crate::strict::Violation;
use crate::strict::{self, SeenBody};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};

pub(crate) async fn log_and_fault(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/_sim") {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_string();
    let route = Route::of(&method, &path);
    let (mut req, seen) = match see_body(req).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let violation = match route {
        Some(r) if s.config.strict => strict::check(r, &path, req.headers(), &seen).err(),
        _ => None,
    };
    // A refused request never reaches a scripted fault: the fault stays for the next one.
    let fault = match (route, &violation) {
        (Some(r), None) => s.faults().take(r),
        _ => None,
    };
    let seq = log_request(
        &s,
        LogLine {
            method,
            path,
            route,
            headers: req.headers(),
            seen: &seen,
            violation: violation.as_ref(),
            fault: fault.as_ref(),
        },
    );
    if let (Some(route), Some(v)) = (route, &violation) {
        tracing::warn!(path = %req.uri().path(), "strict: refused: {v}");
        return refuse(&s, route, v);
    }
    req.extensions_mut().insert(LogSeq(seq));
    let Some(action) = fault else {
        return next.run(req).await;
    };
    apply_fault(&s, route, action, req, next).await
}

/// What [`log_request`] records of one request.
struct LogLine<'a> {
    method: String,
    path: String,
    route: Option<Route>,
    headers: &'a axum::http::HeaderMap,
    seen: &'a SeenBody,
    violation: Option<&'a strict::Violation>,
    fault: Option<&'a FaultAction>,
}

/// Log a request as it arrived (also one refused before its handler ran); its number.
fn log_request(s: &AppState, l: LogLine<'_>) -> u64 {
    let mut log = s.log();
    let h = l.headers;
    let seq = log.len() as u64 + 1;
    let at_ms = s.now_ms();
    log.push(LoggedRequest {
        seq,
        at_ms,
        method: l.method,
        path: l.path,
        skill_source: header(h, "x-skill-source"),
        skill_version: header(h, "x-skill-version"),
        skill_platform: header(h, "x-skill-platform"),
        client_id: header(h, "x-client-id"),
        authorized: header(h, "authorization").is_some_and(|a| a.starts_with("Bearer ")),
        content_type: header(h, "content-type"),
        accept: header(h, "accept"),
        body: match l.seen {
            SeenBody::Json(v) => Some(v.clone()),
            _ => None,
        },
        parts: Vec::new(),
        rejected: l.violation.map(ToString::to_string),
        body_size: header(h, "content-length").and_then(|v| v.parse().ok()),
        // Every message received is logged, also one refused before its handler ran.
        message: match (l.seen, l.route) {
            (SeenBody::Json(v), Some(Route::RunSse)) => message_text(v),
            _ => None,
        },
        turn_started: false,
        fault: l.fault.map(|f| format!("{f:?}")),
    });
    seq
}

/// A fault that answers in the handler's place; `Err` hands the action back.
fn answer_fault(s: &AppState, action: FaultAction) -> Result<Response, FaultAction> {
    Ok(match action {
        FaultAction::Status { status, body } => {
            let status = axum::http::StatusCode::from_u16(status)
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            (status, body).into_response()
        }
        FaultAction::Code { code } => {
            let e = ApiError::from_code(code);
            s.err(e, e.message())
        }
        FaultAction::RateLimit { retry_after_s } => reply::rate_limited(retry_after_s),
        FaultAction::Drop => dropped_connection(),
        FaultAction::HugeBody { bytes } => {
            let head = Bytes::from_static(b"{\"code\":0,\"data\":{\"pad\":\"");
            let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) })
                .chain(filler(bytes));
            let mut r = Body::from_stream(body).into_response();
            r.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            );
            r
        }
        FaultAction::Redirect { location } => (
            axum::http::StatusCode::FOUND,
            [(axum::http::header::LOCATION, location)],
        )
            .into_response(),
        FaultAction::Serve { content_type, body } => {
            let mut r = body.into_response();
            if let Ok(v) = axum::http::HeaderValue::from_str(&content_type) {
                r.headers_mut().insert(axum::http::header::CONTENT_TYPE, v);
            }
            r
        }
        other => return Err(other),
    })
}

/// Apply a scripted fault: answer in the handler's place, or run the handler and spoil its
/// request or answer.
async fn apply_fault(
    s: &AppState,
    route: Option<Route>,
    action: FaultAction,
    mut req: Request,
    next: Next,
) -> Response {
    let action = match answer_fault(s, action) {
        Ok(response) => return response,
        Err(action) => action,
    };
    match action {
        FaultAction::Delay { ms } => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            next.run(req).await
        }
        FaultAction::DropMidBody { after_bytes } if route == Some(Route::Upload) => {
            let (parts, body) = req.into_parts();
            let cut = truncate(body.into_data_stream(), after_bytes);
            next.run(Request::from_parts(parts, Body::from_stream(cut)))
                .await;
            dropped_connection()
        }
        FaultAction::DropMidBody { after_bytes } => {
            let response = next.run(req).await;
            let (parts, body) = response.into_parts();
            Response::from_parts(
                parts,
                Body::from_stream(truncate(body.into_data_stream(), after_bytes)),
            )
        }
        FaultAction::HugeSseLine { bytes } => huge_sse_line(next.run(req).await, bytes),
        FaultAction::StallMidBody { after_bytes } if route == Some(Route::Upload) => {
            // Read part of the body, then read no more: the sender's writes stall.
            let mut body = req.into_body().into_data_stream();
            let mut read = 0u64;
            while read < after_bytes {
                match body.next().await {
                    Some(Ok(c)) => read += c.len() as u64,
                    _ => break,
                }
            }
            futures_util::future::pending::<()>().await;
            dropped_connection()
        }
        FaultAction::StallMidBody { after_bytes } => {
            let response = next.run(req).await;
            let (parts, body) = response.into_parts();
            let passed = truncate(body.into_data_stream(), after_bytes)
                .take_while(|c| std::future::ready(c.is_ok()));
            let stalled = passed.chain(futures_util::stream::pending());
            Response::from_parts(parts, Body::from_stream(stalled))
        }
        FaultAction::ExtraBytes { bytes } => extra_bytes(next.run(req).await, bytes),
        stream_fault => {
            req.extensions_mut().insert(StreamFault(stream_fault));
            next.run(req).await
        }
    }
}

/// The answer after one SSE line of `bytes` bytes (longer than any real one).
fn huge_sse_line(response: Response, bytes: u64) -> Response {
    let (parts, body) = response.into_parts();
    let line = futures_util::stream::once(async { Ok(Bytes::from_static(b"data: ")) })
        .chain(filler(bytes))
        .chain(futures_util::stream::once(async {
            Ok(Bytes::from_static(b"\n\n"))
        }))
        .chain(
            body.into_data_stream()
                .map(|c| c.map_err(std::io::Error::other)),
        );
    Response::from_parts(parts, Body::from_stream(line))
}

/// The answer with `bytes` more bytes than its `Content-Length` announces.
fn extra_bytes(response: Response, bytes: u64) -> Response {
    let (mut parts, body) = response.into_parts();
    if let Some(len) = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if let Ok(v) = axum::http::HeaderValue::from_str(&(len + bytes).to_string()) {
            parts.headers.insert(axum::http::header::CONTENT_LENGTH, v);
        }
    }
    let more = body
        .into_data_stream()
        .map(|c| c.map_err(std::io::Error::other))
        .chain(filler(bytes));
    Response::from_parts(parts, Body::from_stream(more))
}

/// `bytes` bytes of `x`, generated as they are sent (the simulator holds none of it).
fn filler(bytes: u64) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    const CHUNK: u64 = 64 * 1024;
    let block = Bytes::from(vec![b'x'; CHUNK as usize]);
    futures_util::stream::unfold(bytes, move |left| {
        let block = block.clone();
        async move {
            (left > 0).then(|| {
                let n = left.min(CHUNK);
                (Ok(block.slice(..n as usize)), left - n)
            })
        }
    })
}

/// A response whose body fails at once: hyper closes the connection without a complete answer.
pub fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fault: drop",
        ))
    });
    Body::from_stream(failing).into_response()
}

/// Pass `limit` bytes of a body through, then fail (the connection is cut mid-body).
pub fn truncate<S, E>(
    inner: S,
    limit: u64,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display,
{
    futures_util::stream::unfold(
        (inner, limit, false),
        |(mut inner, left, done)| async move {
            if done {
                return None;
            }
            let cut =
                || std::io::Error::new(std::io::ErrorKind::ConnectionReset, "fault: cut mid-body");
            match inner.next().await {
                Some(Ok(chunk)) if (chunk.len() as u64) < left => {
                    let n = chunk.len() as u64;
                    Some((Ok(chunk), (inner, left - n, false)))
                }
                Some(Ok(chunk)) if left > 0 => {
                    Some((Ok(chunk.slice(..left as usize)), (inner, 0, false)))
                }
                Some(Ok(_)) | None => Some((Err(cut()), (inner, 0, true))),
                Some(Err(e)) => Some((Err(std::io::Error::other(e.to_string())), (inner, 0, true))),
            }
        },
    )
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

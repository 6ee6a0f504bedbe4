//! Contract §7–9: submit a render, poll it, cancel it, download the file.

use crate::config::RenderShape;
use crate::faults::FaultAction;
use crate::render_file;
use crate::reply::ApiError;
use crate::routes::parse_session_id;
use crate::state::AppState;
use crate::world::{Render, RenderStatus};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::time::Instant;

fn exportable(draft: &Value) -> bool {
    draft["t"].as_array().is_some_and(|t| {
        t.iter()
            .any(|t| t["sg"].as_array().is_some_and(|s| !s.is_empty()))
    })
}

pub async fn submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let user = match s.authorize(&headers) {
        Ok(u) => u,
        Err(r) => return r,
    };
    // The contract's 402, also in lenient mode (where the middleware lets the request through).
    if crate::strict::missing_attribution(&headers).is_some() {
        return s.err(
            ApiError::Http(402),
            "export is not available on the free plan",
        );
    }
    let Some(Json(body)) = body else {
        return s.err(ApiError::Invalid, "body must be JSON");
    };
    let Some(id) = body["id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .map(str::to_string)
    else {
        return s.err(ApiError::Invalid, "id is required");
    };
    let Some(sid) = parse_session_id(&body["sessionId"]) else {
        return s.err(ApiError::Invalid, "sessionId is required");
    };
    let draft = body["draft"].clone();
    let mut w = s.world();
    if w.sessions.get(&sid).is_none_or(|x| x.user_id != user) {
        drop(w);
        return s.err(ApiError::SessionNotFound, "session not found");
    }
    if w.renders.contains_key(&id) {
        drop(w);
        return s.err(ApiError::Invalid, "render id already used");
    }
    let fail = std::mem::take(&mut w.fail_next_render);
    let failure = if fail {
        Some("render node crashed".to_string())
    } else if !exportable(&draft) {
        Some("the draft is empty: nothing to render".to_string())
    } else {
        None
    };
    let assets = w
        .sessions
        .get(&sid)
        .map(|x| x.assets.clone())
        .unwrap_or_default();
    let now = w.now();
    w.renders.insert(
        id.clone(),
        Render {
            id: id.clone(),
            session_id: sid,
            status: RenderStatus::Pending,
            progress: 0,
            error: None,
            output: None,
            size: 0,
            duration_s: draft["d"].as_f64().unwrap_or(0.0) / 1000.0,
            created_at: now,
            completed_at: None,
            started: Instant::now(),
            completed_ms: None,
        },
    );
    drop(w);
    tokio::spawn(run_render(s.clone(), id.clone(), draft, assets, failure));
    s.ok(json!({"id": id, "status": "pending"}))
}

async fn run_render(
    s: AppState,
    id: String,
    draft: Value,
    assets: Vec<crate::world::Asset>,
    failure: Option<String>,
) {
    let total = s.config.render_time(&id);
    tokio::time::sleep(total / 10).await;
    let set = |f: &dyn Fn(&mut Render)| {
        let mut w = s.world();
        if let Some(r) = w.renders.get_mut(&id) {
            if r.status != RenderStatus::Failed {
                f(r)
            }
        }
    };
    if let Some(error) = failure {
        set(&|r| {
            r.status = RenderStatus::Failed;
            r.error = Some(error.clone());
        });
        return;
    }
    set(&|r| r.status = RenderStatus::Processing);
    let path = s.data_dir.join("renders").join(format!("{id}.mp4"));
    let produced = render_file::produce(&s.config, &draft, &assets, &path).await;
    // Wait out the nominal render time (the file itself may have been quicker).
    let started = s.world().renders.get(&id).map(|r| r.started);
    if let Some(started) = started {
        if let Some(left) = total.checked_sub(started.elapsed()) {
            tokio::time::sleep(left).await;
        }
    }
    let now = s.world().now();
    let now_ms = s.now_ms();
    match produced {
        Ok(size) => set(&|r| {
            r.completed_ms = Some(now_ms);
            r.status = RenderStatus::Completed;
            r.progress = 100;
            r.output = Some(path.clone());
            r.size = size;
            r.completed_at = Some(now);
        }),
        Err(e) => set(&|r| {
            r.status = RenderStatus::Failed;
            r.error = Some(format!("encoder failed: {e}"));
        }),
    }
}

fn progress(s: &AppState, r: &Render) -> u8 {
    match r.status {
        RenderStatus::Completed => 100,
        RenderStatus::Pending => 0,
        RenderStatus::Failed => r.progress,
        RenderStatus::Processing => {
            let total = s.config.render_time(&r.id).as_secs_f64().max(1e-6);
            let x = r.started.elapsed().as_secs_f64() / total;
            (s.config.render_progress(x) * 100.0).clamp(1.0, 99.0) as u8
        }
    }
}

pub async fn status(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    fault: Option<axum::Extension<crate::state::StreamFault>>,
) -> Response {
    if let Err(r) = s.authorize(&headers) {
        return r;
    }
    let Some(mut r) = s.world().renders.get(&id).cloned() else {
        return s.err(ApiError::Http(404), "render not found");
    };
    let p = progress(&s, &r);
    let mut url = (r.status == RenderStatus::Completed && !s.config.variants.render_without_url)
        .then(|| format!("{}/renders/{}.mp4", s.base_url, r.id));
    // A hostile backend: a download URL of its choosing, a size it did not mean.
    if let Some(axum::Extension(crate::state::StreamFault(FaultAction::RenderOutput {
        url: bad_url,
        size,
    }))) = fault
    {
        if r.status == RenderStatus::Completed {
            url = bad_url.or(url);
            r.size = size.unwrap_or(r.size);
        }
    }
    let body = match s.config.variants.render_shape {
        RenderShape::TopLevel => {
            let mut b = json!({"id": r.id, "status": r.status.as_str(), "progress": p});
            if let Some(u) = &url {
                b["output"] = json!({"url": u, "duration": r.duration_s, "size": r.size});
            }
            if let Some(e) = &r.error {
                b["error"] = json!(e);
            }
            b
        }
        RenderShape::InData => {
            let mut d = json!({"id": r.id, "sessionId": r.session_id.to_string(), "status": r.status.as_str(), "createdAt": r.created_at.timestamp_millis()});
            if let Some(u) = &url {
                d["outputUrl"] = json!(u);
            }
            if let Some(c) = r.completed_at {
                d["completedAt"] = json!(c.timestamp_millis());
            }
            if let Some(e) = &r.error {
                d["error"] = json!(e);
            }
            json!({"success": true, "data": d})
        }
        RenderShape::CodeData => {
            let mut d = json!({"status": r.status.as_str(), "progress": p});
            if let Some(u) = &url {
                d["output"] = json!({"url": u});
            }
            if let Some(e) = &r.error {
                d["error"] = json!(e);
            }
            json!({"code": 0, "message": "success", "data": d})
        }
    };
    Json(body).into_response()
}

pub async fn cancel(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = s.authorize(&headers) {
        return r;
    }
    let mut w = s.world();
    let Some(r) = w.renders.get_mut(&id) else {
        drop(w);
        return s.err(ApiError::Http(404), "render not found");
    };
    if matches!(r.status, RenderStatus::Pending | RenderStatus::Processing) {
        r.status = RenderStatus::Failed;
        r.error = Some("cancelled".into());
    }
    let status = r.status.as_str();
    drop(w);
    s.ok(json!({"id": id, "status": status}))
}

async fn serve_file(s: &AppState, id: &str) -> Response {
    let path = s.world().renders.get(id).and_then(|r| r.output.clone());
    let Some(path) = path else {
        return (StatusCode::NOT_FOUND, "render not ready").into_response();
    };
    match tokio::fs::File::open(&path).await {
        Ok(f) => {
            let len = f.metadata().await.map(|m| m.len()).unwrap_or(0);
            let mut r = Body::from_stream(tokio_util::io::ReaderStream::new(f)).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
            if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
                r.headers_mut().insert(header::CONTENT_LENGTH, v);
            }
            r
        }
        Err(_) => (StatusCode::NOT_FOUND, "render file missing").into_response(),
    }
}

/// `GET /api/render/proxy/<id>/download` (authorized fallback).
pub async fn download(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = s.authorize(&headers) {
        return r;
    }
    serve_file(&s, &id).await
}

/// The URL given in a completed render's status (a CDN link: no token needed).
pub async fn file(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(id) = file.strip_suffix(".mp4") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    serve_file(&s, id).await
}

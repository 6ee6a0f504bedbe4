//! Contract §2 (create session), §5 (credits), §6 (state).

use crate::config::SessionIdForm;
use crate::reply::ApiError;
use crate::state::AppState;
use crate::world::Session;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

/// A session id as this instance writes it in JSON.
pub fn sid_json(s: &AppState, sid: u64) -> Value {
    match s.config.variants.session_id {
        SessionIdForm::String => json!(sid.to_string()),
        SessionIdForm::Number => json!(sid),
    }
}

pub async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let user = match s.authorize(&headers) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let body = body.map(|Json(b)| b).unwrap_or(Value::Null);
    let language = body["language"].as_str().unwrap_or("en").to_string();
    let task_name = body["task_name"].as_str().unwrap_or("project").to_string();
    let mut w = s.world();
    let sid = w.new_session_id();
    let task_id = format!("task_{}", w.next());
    w.sessions.insert(
        sid,
        Session {
            id: sid,
            task_id: task_id.clone(),
            task_name,
            user_id: user.clone(),
            language,
            assets: Vec::new(),
            draft: json!({}),
            generated_media: Vec::new(),
            turn_running: false,
            turns: 0,
        },
    );
    drop(w);
    let mut data = json!({"task_id": task_id, "session_id": sid_json(&s, sid)});
    if !s.config.variants.no_user_id {
        data["user_id"] = json!(user);
    }
    s.ok(data)
}

pub async fn state(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(sid): Path<String>,
) -> Response {
    let user = match s.authorize(&headers) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let w = s.world();
    let session = sid
        .parse::<u64>()
        .ok()
        .and_then(|id| w.sessions.get(&id))
        .filter(|x| x.user_id == user);
    let Some(session) = session else {
        drop(w);
        return s.err(ApiError::SessionNotFound, "session not found");
    };
    let mut data = json!({
        "session_id": sid_json(&s, session.id),
        "task_id": session.task_id,
        "task_name": session.task_name,
        "state": session.state_json(),
    });
    if !s.config.variants.no_user_id {
        data["user_id"] = json!(session.user_id);
    }
    drop(w);
    s.ok(data)
}

pub async fn credits(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let user = match s.authorize(&headers) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let w = s.world();
    let (available, frozen) = w
        .users
        .get(&user)
        .map(|u| (u.available, u.frozen))
        .unwrap_or((0, 0));
    drop(w);
    s.ok(json!({"available": available, "frozen": frozen, "total": available + frozen}))
}

//! Contract §1 (anonymous token) and §10 (claim token).

use crate::config::timing;
use crate::reply::{self, ApiError};
use crate::routes::parse_session_id;
use crate::state::AppState;
use crate::world::{TokenInfo, User};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

pub async fn anonymous_token(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let client_id = headers
        .get("x-client-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let Some(client_id) = client_id else {
        return s.err(ApiError::Http(400), "missing X-Client-Id header");
    };
    let mut w = s.world();
    let now = w.now();
    // One live token per client: a second request while one is live is rate limited.
    let live = w.clients.get(client_id).and_then(|user| {
        w.tokens
            .values()
            .filter(|t| &t.user_id == user)
            .map(|t| t.expires_at)
            .max()
    });
    if let Some(expiry) = live.filter(|e| *e > now) {
        let wait = (expiry - now).num_seconds().max(1) as u64;
        drop(w);
        return reply::rate_limited(wait.min(30));
    }
    // Renewal after expiry keeps the same anonymous user (and its credits).
    let user_id = match w.clients.get(client_id) {
        Some(u) => u.clone(),
        None => {
            let id = format!("anon_{}", uuid::Uuid::new_v4().simple());
            w.users.insert(
                id.clone(),
                User {
                    id: id.clone(),
                    available: s.config.starting_credits,
                    frozen: 0,
                    registered: false,
                },
            );
            w.clients.insert(client_id.to_string(), id.clone());
            id
        }
    };
    let token = format!("nmv_usr_{}", uuid::Uuid::new_v4().simple());
    let expires_at = now + chrono::Duration::from_std(timing::TOKEN_LIFETIME).unwrap_or_default();
    w.tokens.insert(
        token.clone(),
        TokenInfo {
            user_id: user_id.clone(),
            expires_at,
        },
    );
    let credits = w.users.get(&user_id).map(|u| u.available).unwrap_or(0);
    drop(w);
    let mut data = json!({"token": token, "credits": credits});
    if !s.config.variants.token_without_user && !s.config.variants.no_user_id {
        data["user_id"] = json!(user_id);
        data["expires_at"] = json!(expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    s.ok(data)
}

pub async fn claim_token(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let user = match s.authorize(&headers) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Some(Json(body)) = body else {
        return s.err(
            ApiError::Invalid,
            "body must be JSON with task_id and session_id",
        );
    };
    let Some(sid) = parse_session_id(&body["session_id"]) else {
        return s.err(ApiError::Invalid, "session_id is required");
    };
    let mut w = s.world();
    if w.sessions.get(&sid).is_none_or(|sess| sess.user_id != user) {
        drop(w);
        return s.err(ApiError::SessionNotFound, "session not found");
    }
    let claim = format!("clm_{}", uuid::Uuid::new_v4().simple());
    w.claims.insert(claim.clone(), sid);
    drop(w);
    s.ok(json!({"claim_token": claim, "expires_in": 3600}))
}

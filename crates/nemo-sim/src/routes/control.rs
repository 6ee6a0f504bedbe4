//! `/_sim/...`: the HTTP face of [`crate::SimControl`], for scripts and the `nemo-sim` binary,
//! plus the two small web pages links for people point to.

use crate::faults::Fault;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/faults", post(add_fault).delete(clear_faults))
        .route("/expire_tokens", post(expire_tokens))
        .route("/credits", post(set_credits))
        .route("/fail_next_render", post(fail_next_render))
        .route("/silence", post(silence))
        .route("/clock", post(clock))
        .route("/log", get(log))
        .route("/charges", get(charges))
        .route("/renders", get(renders))
        .route("/accounts", get(accounts))
}

fn control(s: &AppState) -> crate::SimControl {
    crate::SimControl::from_shared(s.clone())
}

async fn add_fault(State(s): State<AppState>, Json(f): Json<Fault>) -> Response {
    control(&s).inject(f);
    Json(json!({"ok": true})).into_response()
}
async fn clear_faults(State(s): State<AppState>) -> Response {
    control(&s).clear_faults();
    Json(json!({"ok": true})).into_response()
}
async fn expire_tokens(State(s): State<AppState>) -> Response {
    control(&s).expire_tokens();
    Json(json!({"ok": true})).into_response()
}

#[derive(Deserialize)]
struct Credits {
    available: i64,
    user_id: Option<String>,
}
async fn set_credits(State(s): State<AppState>, Json(c): Json<Credits>) -> Response {
    control(&s).set_credits(c.user_id.as_deref(), c.available);
    Json(json!({"ok": true})).into_response()
}
async fn fail_next_render(State(s): State<AppState>) -> Response {
    control(&s).fail_next_render();
    Json(json!({"ok": true})).into_response()
}

#[derive(Deserialize)]
struct Silence {
    /// "always", "never" or "auto".
    mode: String,
}
async fn silence(State(s): State<AppState>, Json(b): Json<Silence>) -> Response {
    let v = match b.mode.as_str() {
        "always" => Some(true),
        "never" => Some(false),
        _ => None,
    };
    control(&s).set_silence(v);
    Json(json!({"ok": true})).into_response()
}

#[derive(Deserialize)]
struct Clock {
    advance_s: u64,
}
async fn clock(State(s): State<AppState>, Json(c): Json<Clock>) -> Response {
    control(&s).advance_clock(std::time::Duration::from_secs(c.advance_s));
    Json(json!({"ok": true})).into_response()
}
async fn log(State(s): State<AppState>) -> Response {
    Json(control(&s).log()).into_response()
}
/// Each turn's charge as it settled: `[{"session": id, "credits": n}]` (0: given back).
async fn charges(State(s): State<AppState>) -> Response {
    let v: Vec<_> = control(&s)
        .charges()
        .into_iter()
        .map(|(session, credits)| json!({"session": session, "credits": credits}))
        .collect();
    Json(v).into_response()
}
/// Every render: id, status, and when it completed (ms since start; benchmarks).
async fn renders(State(s): State<AppState>) -> Response {
    let w = s.world();
    let v: Vec<_> = w
        .renders
        .values()
        .map(|r| {
            serde_json::json!({"id": r.id, "status": r.status.as_str(), "completed_ms": r.completed_ms})
        })
        .collect();
    Json(v).into_response()
}
async fn accounts(State(s): State<AppState>) -> Response {
    Json(control(&s).accounts()).into_response()
}

/// `/register?bind=..` and `/workspace/claim?ct=..`: what a person would see in a browser.
pub async fn web_page(Query(q): Query<HashMap<String, String>>) -> Html<String> {
    let what = if q.contains_key("ct") {
        "Your NemoVideo project (simulated)"
    } else {
        "Register for NemoVideo (simulated)"
    };
    Html(format!("<!doctype html><title>{what}</title><h1>{what}</h1><p>This page is served by nemo-sim.</p>"))
}

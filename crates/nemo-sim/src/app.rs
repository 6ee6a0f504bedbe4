//! The router: every route of the contract to its handler, behind the gate (`gate.rs`) that logs
//! each request and applies scripted faults before the handler sees it.

use crate::gate::log_and_fault;
use crate::routes;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/auth/anonymous-token",
            post(routes::auth::anonymous_token),
        )
        .route("/api/auth/claim-token", post(routes::auth::claim_token))
        .route(
            "/api/tasks/me/with-session/nemo_agent",
            post(routes::session::create),
        )
        .route(
            "/api/state/nemo_agent/me/{sid}/latest",
            get(routes::session::state),
        )
        .route("/api/credits/balance/simple", get(routes::session::credits))
        .route(
            "/api/upload-video/nemo_agent/me/{sid}",
            post(routes::upload::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/run_sse", post(routes::sse::run_sse))
        .route("/api/render/proxy/lambda", post(routes::render::submit))
        .route("/api/render/proxy/lambda/{id}", get(routes::render::status))
        .route(
            "/api/render/proxy/lambda/{id}/cancel",
            post(routes::render::cancel),
        )
        .route(
            "/api/render/proxy/{id}/download",
            get(routes::render::download),
        )
        .route("/renders/{file}", get(routes::render::file))
        .route("/cdn/{sid}/{file}", get(routes::upload::cdn_file))
        .route("/register", get(routes::control::web_page))
        .route("/workspace/claim", get(routes::control::web_page))
        .nest("/_sim", routes::control::router())
        .layer(middleware::from_fn_with_state(state.clone(), log_and_fault))
        .with_state(state)
}

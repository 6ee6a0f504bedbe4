//! The protocol: everything that speaks MCP. The server type and its toolsets ([`server`]),
//! the handler for the rest of the protocol (`handler`), the shapes of tool arguments and
//! answers ([`tools`], [`views`]), argument checks ([`calls`]), asking the host ([`confirm`];
//! in the 2026-07-28 era through [`host_input`]), resources and their notifications in both eras
//! ([`resources`], [`subscriptions`]), [`logs`], [`completions`], [`prompts`], [`tasks`], the
//! player view ([`player`]) and the `--http` transport ([`http`], [`per_session`]). Only this
//! room and `cli` name `rmcp`; the engine below answers in its own types.

pub mod calls;
pub mod completions;
pub mod confirm;
pub mod degraded;
pub mod encoding;
pub mod errors;
pub mod fit;
mod handler;
pub mod host_input;
pub mod http;
pub mod icon;
pub mod logs;
pub mod paging;
pub mod per_session;
pub mod player;
pub mod prompts;
pub mod resources;
mod result_texts;
pub mod schema;
pub mod server;
pub mod skills;
pub mod subscriptions;
pub mod tasks;
pub mod tools;
pub mod views;
pub mod workspaces;

pub use server::NemoServer;

/// What the host's model is told about using these tools. Claude Code loads tool definitions
/// lazily (tool search): its model first sees only the tool names and this text, so it leads with
/// the two calls most requests need. At most 2,048 characters (Claude Code cuts there).
pub const INSTRUCTIONS: &str =
    "NemoVideo makes and edits videos in the cloud. To make a video from \
local photos, clips or URLs, call make_video (paths or urls, plus the user's words): it uploads, \
generates and saves an MP4 in one job, and spends credits. Long work runs as jobs: when a tool \
answers status \"running\", call get_job with its job_id; get_job waits up to 45 s by itself, so \
never poll in a tight loop (the other tools wait up to 45 s too). To change the video afterwards: generate (describe the change; spends \
credits), then export_video (saves a new MP4). upload_media adds media without generating. \
Exports, credits and timeline questions have their own tools (export_video, get_credits, \
get_timeline); do not send them to generate. list_projects and connect reopen earlier projects. \
Give users the links the tools return (project, registration) as they are.";

/// Serve MCP on stdin/stdout with no state: every tool says why ([`degraded`]).
pub async fn serve_stdio_degraded(why: String) -> Result<(), String> {
    use rmcp::ServiceExt;
    let server = degraded::DegradedServer::new(why)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("MCP start failed: {e}"))?;
    server
        .waiting()
        .await
        .map(|_| ())
        .map_err(|e| format!("MCP server stopped: {e}"))
}

/// Serve MCP on stdin/stdout until the client goes away.
pub async fn serve_stdio(app: std::sync::Arc<crate::App>) -> Result<(), String> {
    use rmcp::ServiceExt;
    crate::run::resume_all(&app);
    let server = NemoServer::new(app.clone())
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("MCP start failed: {e}"))?;
    let result = server.waiting().await;
    // The host went away: running jobs stay journaled as running and resume on the next start.
    app.shutdown().await;
    result
        .map(|_| ())
        .map_err(|e| format!("MCP server stopped: {e}"))
}

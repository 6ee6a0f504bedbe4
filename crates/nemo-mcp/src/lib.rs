#![doc = include_str!("../README.md")]

pub mod app;
mod calls;
pub mod cli;
pub mod clock;
pub mod confirm;
pub mod credits;
pub mod current;
pub mod demo;
pub mod doctor;
pub mod encoding;
pub mod errors;
mod handler;
pub mod http;
pub mod icon;
pub mod jobs;
pub mod language;
pub mod library;
pub mod logging;
pub mod meter;
pub mod moving_in;
pub mod notices;
pub mod paths;
pub mod placeholders;
pub mod player;
pub mod previews;
pub mod projects;
pub mod prompts;
pub mod resources;
pub mod schema;
pub mod server;
pub mod settings;
pub mod spend;
pub mod state;
pub mod store;
mod sync;
pub mod tasks;
pub mod tools;
pub mod uploads;
pub mod views;

pub use app::App;
pub use server::NemoServer;
pub use settings::Settings;

/// What the host's model is told about using these tools.
pub const INSTRUCTIONS: &str = "NemoVideo makes and edits videos in the cloud. Typical flow: \
upload_media (local paths or URLs) → generate (describe the video; spends credits) → export_video \
(saves an MP4 locally). Long work runs as jobs: if a tool answers status \"running\", call get_job \
with the job_id; it waits up to 45 s by itself, so never poll in a tight loop. Exports, credits and \
timeline questions have their own tools (export_video, get_credits, get_timeline); do not send them \
to generate. Give users the links the tools return (project, registration) as they are.";

/// Serve MCP on stdin/stdout until the client goes away.
pub async fn serve_stdio(app: std::sync::Arc<App>) -> Result<(), String> {
    use rmcp::ServiceExt;
    crate::jobs::resume_all(&app);
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

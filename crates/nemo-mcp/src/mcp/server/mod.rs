//! The MCP server: eleven tools over the NemoVideo client and the job manager, one file per
//! toolset (`account`, `projects`, `make`, `jobs`, `export`, and the player's app-only tool),
//! each with its own router, merged in `build.rs`. Handlers check the arguments, call the
//! engine (`run`, `jobs`, `project`, `account`) and build the answer (`answer.rs`, `views`).

use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::files::uploads::{check_inputs_blocking, CheckedInputs};
use crate::jobs::results::{ExportResult, GenerateOutput, RoutedAnswer, UploadResult, VideoResult};
use crate::jobs::{Job, JobKind, Spawned};
use crate::mcp::calls::*;
use crate::mcp::confirm::{agree_to_estimate, agree_to_spend};
use crate::mcp::errors::ErrorResult;
use crate::mcp::tools::*;
use crate::mcp::views::{structured, JobAnswer, JobSummary, JobView, Progress};
use crate::run;
use crate::run::stop::{stop_job, CANCELLED_TURN_NOTE};
use nemo_client::routing::{route, Intent};
use nemo_client::TokenSource;
use rmcp::handler::server::common::schema_for_output;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, ErrorData as McpError, RoleServer};
use std::sync::Arc;

#[derive(Clone)]
pub struct NemoServer {
    /// The process's own project (stdio, and HTTP requests outside any MCP session).
    pub(crate) app: Arc<App>,
    /// Over `--http`: one project per MCP session.
    sessions: Option<Arc<crate::mcp::per_session::PerSession>>,
    /// The least severe log level this client wants as `notifications/message`.
    pub(crate) log_level: Arc<std::sync::Mutex<crate::mcp::logs::LogLevel>>,
    /// Resources this client subscribed to.
    pub(crate) subscriptions: Arc<crate::mcp::subscriptions::Subscriptions>,
    /// Built once per process and shared by every session (a session over `--http` costs a
    /// pointer, not its own copy of eleven tool definitions).
    pub(crate) tool_router: Arc<ToolRouter<NemoServer>>,
}

type ToolResult = Result<CallToolResult, McpError>;

fn fail(e: ToolError) -> ToolResult {
    Ok(e.to_result())
}

mod account;
mod answer;
mod build;
mod export;
mod jobs;
mod make;
mod player;
mod projects;
mod variants;

use answer::{connect_text, for_the_ai, join_notes, PaidCall};

impl NemoServer {
    /// Whether this server's log events may go to its client: not over `--http`, where the
    /// process's events concern every session's projects.
    pub(crate) fn forwards_logs(&self) -> bool {
        self.sessions.is_none()
    }
}

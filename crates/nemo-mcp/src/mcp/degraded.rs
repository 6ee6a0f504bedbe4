//! A server started without its state: the state folder could not be opened (another user's,
//! on a network drive, written by a newer schema, read-only, a disk error). Exiting before
//! `initialize` would leave the host showing only "server failed", with the reason in a log
//! nobody reads. So the server still answers `initialize` / `server/discover` and `tools/list`
//! as it always does, and every tool call returns `state_unavailable`: what, where, the fix.
//! `nemo-mcp doctor` says the same.

use crate::errors::{Code, ToolError};
use crate::mcp::errors::ErrorResult;
use crate::mcp::server::NemoServer;
use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

/// The server with no state: its tools listed, each refusing with the reason.
pub struct DegradedServer {
    why: String,
    tools: Vec<Tool>,
}

impl DegradedServer {
    pub fn new(why: String) -> DegradedServer {
        DegradedServer {
            why,
            tools: NemoServer::lean_router().list_all(),
        }
    }

    /// The one answer of every tool.
    pub fn error(&self) -> ToolError {
        state_unavailable(&self.why)
    }
}

/// `state_unavailable`: the state folder's problem and its fix.
pub fn state_unavailable(why: &str) -> ToolError {
    ToolError::new(
        Code::StateUnavailable,
        format!("nemo-mcp could not open its state folder, so no tool can work: {why}"),
    )
    .next("fix the state folder as the message says (or set NEMO_STATE_DIR to a folder of your own), then restart the MCP server; `nemo-mcp doctor` checks it")
}

impl ServerHandler for DegradedServer {
    fn get_info(&self) -> ServerConfig {
        super::handler::server_config()
    }

    async fn list_tools(
        &self,
        _r: Option<PaginatedRequestParams>,
        _c: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools.clone()))
    }

    async fn call_tool(
        &self,
        _r: CallToolRequestParams,
        _c: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        Ok(self.error().to_result().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_is_listed_and_the_error_says_what_and_how() {
        let s = DegradedServer::new("/x/state.db belongs to another user (uid 1001)".into());
        assert!(s.tools.iter().any(|t| t.name == "make_video"));
        let r = s.error().to_result();
        let body = r.structured_content.unwrap();
        assert_eq!(body["code"], "state_unavailable");
        assert!(body["message"].as_str().unwrap().contains("uid 1001"));
        assert!(body["next_step"]
            .as_str()
            .unwrap()
            .contains("NEMO_STATE_DIR"));
    }
}

//! The `ServerHandler` wiring: server info, and resources and prompts next to the tools.

use crate::mcp::server::NemoServer;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{tool_handler, ErrorData as McpError, RoleServer, ServerHandler};

/// The error the extension names for an id it does not know (-32602).
fn unknown_task(id: &str) -> McpError {
    let id: String = id.chars().take(64).collect();
    McpError::invalid_params(
        format!("no task {id} (tasks are the jobs list_jobs shows)"),
        None,
    )
}

/// What `initialize` and `server/discover` say: capabilities, name, instructions (a server
/// started degraded says the same, so a host lists it as it always does).
// `logging` is deprecated from protocol 2026-07-28 (SEP-2577); today's hosts still use it.
#[allow(deprecated)]
pub(super) fn server_config() -> ServerConfig {
    let mut capabilities = ServerCapabilities::builder()
        .enable_tools()
        .enable_resources()
        .enable_resources_subscribe()
        .enable_resources_list_changed()
        .enable_prompts()
        .enable_logging()
        .enable_completions()
        .enable_tasks()
        .enable_skills()
        .build();
    // Added to the tasks extension the builder declared (its `enable_extensions_with`
    // would replace that).
    crate::mcp::player::declare(&mut capabilities);
    ServerConfig::new(capabilities)
        .with_server_info(
            Implementation::new("nemo-mcp", env!("CARGO_PKG_VERSION"))
                .with_title("NemoVideo")
                .with_description("Make and edit videos with NemoVideo: upload media, describe the video, export an MP4 to a local folder.")
                .with_website_url("https://github.com/nemo-mcp/nemo-mcp")
                .with_icons(crate::mcp::icon::icons()),
        )
        .with_instructions(crate::INSTRUCTIONS)
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for NemoServer {
    fn get_info(&self) -> ServerConfig {
        server_config()
    }

    /// The tools, except that a job-starting call from a host that declared tasks answers with
    /// the job as a task ([`crate::mcp::tasks`]).
    async fn call_tool(
        &self,
        r: CallToolRequestParams,
        mut c: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        // Over `--http` in the 2026-07-28 era, the client's workspace: named by the call
        // (`connect` hands one out), never guessed from a header.
        let mut r = r;
        if self.shared_over_http() && crate::mcp::host_input::new_era(&c) {
            let named = r
                .arguments
                .as_mut()
                .and_then(|a| a.remove(crate::mcp::workspaces::ARG));
            let db = &self.app.state;
            let scope = match named.as_ref().map(|v| v.as_str().unwrap_or_default()) {
                Some(handle) => crate::mcp::workspaces::check(db, handle),
                None if r.name == "connect" => {
                    crate::mcp::workspaces::mint(db).map(|(handle, scope)| {
                        c.extensions.insert(crate::mcp::workspaces::Issued(handle));
                        scope
                    })
                }
                None => Err(crate::mcp::workspaces::required(&r.name)),
            };
            match scope {
                Ok(scope) => {
                    c.extensions.insert(scope);
                }
                Err(e) => {
                    use crate::mcp::errors::ErrorResult;
                    return Ok(e.to_result().into());
                }
            }
        }
        let slot = crate::mcp::tasks::TaskSlot::for_call(&r.name, &c);
        if let Some(slot) = &slot {
            c.extensions.insert(slot.clone());
        }
        let input = crate::mcp::host_input::HostInput::for_call(&r);
        c.extensions.insert(input.clone());
        // 2026-07-28: log lines at the level this request carries, while it runs.
        #[allow(deprecated)]
        let _logs = c
            .meta
            .log_level()
            .filter(|_| crate::mcp::host_input::new_era(&c))
            .map(|level| crate::mcp::logs::forward_during(c.peer.clone(), level));
        let response = self
            .tool_router
            .call(ToolCallContext::new(self, r, c))
            .await?;
        // A question for the user (2026-07-28 era): asked instead of answering; nothing was sent.
        if let Some(question) = input.take() {
            return Ok(CallToolResponse::InputRequired(question));
        }
        match slot.and_then(|s| s.take()) {
            Some(job) => Ok(CallToolResponse::Task(CreateTaskResult::new(
                crate::mcp::tasks::task_of(&job),
            ))),
            None => Ok(response),
        }
    }

    /// The tools; for a client that renders MCP Apps, linked to the player view and with its
    /// app-only tool ([`crate::mcp::player::tools_for`]). The list depends on the client's declared
    /// capabilities, so it is never cached as public.
    async fn list_tools(
        &self,
        _r: Option<PaginatedRequestParams>,
        c: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let renders = crate::mcp::player::client_renders(&c);
        let mut tools = crate::mcp::player::tools_for(self.tool_router.list_all(), renders);
        if self.app_for(&c).settings.confirm_spending {
            crate::mcp::confirm::mark_paid(&mut tools);
        }
        if self.shared_over_http() && crate::mcp::host_input::new_era(&c) {
            crate::mcp::workspaces::add_to_listing(&mut tools);
        }
        let mut result = ListToolsResult::with_all_items(tools);
        if c.protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
        {
            result.ttl_ms = Some(0);
            result.cache_scope = Some(CacheScope::Private);
        }
        Ok(result)
    }

    async fn get_task(
        &self,
        r: GetTaskParams,
        c: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        match self.app_for(&c).jobs.get(&r.task_id) {
            Some(job) => Ok(GetTaskResult::new(crate::mcp::tasks::detailed(&job))),
            None => Err(unknown_task(&r.task_id)),
        }
    }

    async fn cancel_task(
        &self,
        r: CancelTaskParams,
        c: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        match crate::run::stop::stop_job(&self.app_for(&c), &r.task_id).await {
            Some(_) => Ok(()),
            None => Err(unknown_task(&r.task_id)),
        }
    }

    async fn list_resources(
        &self,
        _r: Option<PaginatedRequestParams>,
        c: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let mut list = crate::mcp::resources::list(&self.app_for(&c));
        if crate::mcp::player::client_renders(&c) {
            list.resources.insert(0, crate::mcp::player::resource());
        }
        Ok(list)
    }

    /// SEP-2640: the one skill this server serves.
    async fn list_skills(
        &self,
        _r: Option<PaginatedRequestParams>,
        _c: RequestContext<RoleServer>,
    ) -> Result<ListSkillsResult, McpError> {
        Ok(crate::mcp::skills::list())
    }

    async fn get_skill(
        &self,
        r: GetSkillRequestParams,
        _c: RequestContext<RoleServer>,
    ) -> Result<GetSkillResult, McpError> {
        if r.uri == crate::mcp::skills::URI {
            return Ok(GetSkillResult::new(crate::mcp::skills::skill()));
        }
        Err(McpError::invalid_params(
            format!(
                "no skill at {} (this server serves {})",
                r.uri.chars().take(200).collect::<String>(),
                crate::mcp::skills::URI
            ),
            None,
        ))
    }

    async fn list_resource_templates(
        &self,
        _r: Option<PaginatedRequestParams>,
        c: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let mut list = crate::mcp::resources::templates();
        if crate::mcp::player::client_renders(&c) {
            list.resource_templates
                .push(crate::mcp::player::thumbnail_template());
        }
        Ok(list)
    }

    async fn read_resource(
        &self,
        r: ReadResourceRequestParams,
        c: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        if r.uri == crate::mcp::player::URI {
            return Ok(ReadResourceResult::new(vec![crate::mcp::player::contents()]).into());
        }
        if let Some(skill) = crate::mcp::skills::read(&r.uri) {
            return Ok(skill.into());
        }
        if r.uri.starts_with(crate::mcp::player::THUMBNAILS) {
            return crate::mcp::player::read_thumbnail(self.app_for(&c), &r.uri)
                .await
                .map(Into::into);
        }
        crate::mcp::resources::read(&self.app_for(&c), &r.uri)
            .await
            .map(Into::into)
    }

    // Logging is deprecated from protocol 2026-07-28 (SEP-2577); today's hosts still use it.
    #[allow(deprecated)]
    async fn set_level(
        &self,
        r: SetLevelRequestParams,
        _c: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        *crate::support::sync::lock(&self.log_level) = r.level;
        Ok(())
    }

    async fn on_initialized(&self, c: rmcp::service::NotificationContext<RoleServer>) {
        if self.forwards_logs() {
            crate::mcp::logs::forward_logs(c.peer.clone(), self.log_level.clone());
            // Over --http the project (and its jobs) is known only with the first request.
            crate::mcp::subscriptions::announce_new_jobs(&self.app, c.peer);
        }
    }

    /// `subscriptions/listen` (2026-07-28): resource list changes and resource updates.
    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(crate::mcp::subscriptions::accepted(requested))
    }

    async fn listen(&self, context: rmcp::service::SubscriptionContext) -> Result<(), McpError> {
        let app = self.app_for(context.request_context());
        crate::mcp::subscriptions::serve(app, context).await
    }

    // `resources/subscribe` is legacy-only from protocol 2026-07-28; today's hosts use it.
    #[allow(deprecated)]
    async fn subscribe(
        &self,
        r: SubscribeRequestParams,
        c: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let app = self.app_for(&c);
        self.subscriptions
            .add(&app, &r.uri, c.peer.clone())
            .map_err(|why| McpError::resource_not_found(why, None))
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        r: UnsubscribeRequestParams,
        _c: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscriptions.remove(&r.uri);
        Ok(())
    }

    async fn complete(
        &self,
        r: CompleteRequestParams,
        c: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let app = self.app_for(&c);
        let values = crate::mcp::completions::complete(&app, &r.r#ref, &r.argument).await;
        Ok(CompleteResult::new(
            CompletionInfo::with_all_values(values).unwrap_or_default(),
        ))
    }

    async fn list_prompts(
        &self,
        _r: Option<PaginatedRequestParams>,
        _c: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(crate::mcp::prompts::list())
    }

    async fn get_prompt(
        &self,
        r: GetPromptRequestParams,
        _c: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        crate::mcp::prompts::get(&r.name, r.arguments.as_ref()).map(Into::into)
    }
}

//! Making the server: the tool router as hosts read it, one project per MCP session, the host's name.

use super::*;

impl NemoServer {
    pub fn new(app: Arc<App>) -> NemoServer {
        NemoServer {
            app,
            sessions: None,
            log_level: Arc::new(std::sync::Mutex::new(crate::mcp::logs::default_level())),
            subscriptions: Arc::default(),
            tool_router: Self::shared_router(),
        }
    }

    /// The one router of the process ([`NemoServer::lean_router`], built on first use).
    pub(crate) fn shared_router() -> Arc<ToolRouter<NemoServer>> {
        static ROUTER: std::sync::OnceLock<Arc<ToolRouter<NemoServer>>> =
            std::sync::OnceLock::new();
        ROUTER.get_or_init(|| Arc::new(Self::lean_router())).clone()
    }

    /// The tools as hosts read them: schemas in the common subset of function declarations
    /// ([`crate::mcp::schema::lean`]). No per-tool icon: it would be the server's own icon (sent once
    /// in `initialize`) repeated on every tool, about 160 characters each that a host model
    /// reads on every turn and no model uses.
    pub(crate) fn lean_router() -> ToolRouter<NemoServer> {
        let mut router = Self::account_tools()
            + Self::projects_tools()
            + Self::make_tools()
            + Self::jobs_tools()
            + Self::export_tools()
            + Self::player_router();
        for route in router.map.values_mut() {
            let tool = &mut route.attr;
            let input = serde_json::Value::Object((*tool.input_schema).clone());
            if let serde_json::Value::Object(o) = crate::mcp::schema::lean(&input) {
                tool.input_schema = Arc::new(o);
            }
            if let Some(out) = &tool.output_schema {
                let v = serde_json::Value::Object((**out).clone());
                if let serde_json::Value::Object(o) = crate::mcp::schema::lean_output(&v) {
                    tool.output_schema = Some(Arc::new(o));
                }
            }
            // Hints equal to the specification's defaults are left out (each costs context on
            // every turn), except `destructiveHint` on a tool that writes: said out loud.
            if let Some(a) = tool.annotations.as_mut() {
                let read_only = a.read_only_hint == Some(true);
                if !read_only {
                    a.read_only_hint = None;
                }
                if read_only {
                    a.destructive_hint = None;
                    a.idempotent_hint = None;
                } else if a.idempotent_hint == Some(false) {
                    a.idempotent_hint = None;
                }
                if a.open_world_hint == Some(true) {
                    a.open_world_hint = None;
                }
            }
        }
        router
    }

    /// A server whose MCP sessions each get their own project (`--http`).
    pub fn per_session(
        app: Arc<App>,
        sessions: Arc<crate::mcp::per_session::PerSession>,
    ) -> NemoServer {
        NemoServer {
            sessions: Some(sessions),
            ..NemoServer::new(app)
        }
    }

    /// The project this request works on. Over stdio: the process's. Over `--http`: the
    /// workspace's its call named (2026-07-28 era), else its MCP session's (2025 era: the
    /// `Mcp-Session-Id` the transport issued and checked). A sessionless request that names
    /// no workspace works in an empty scope of its own, never the process's project or
    /// another client's (its header, which nobody issued, is not read).
    pub(crate) fn app_for(&self, ctx: &RequestContext<RoleServer>) -> Arc<App> {
        let Some(sessions) = &self.sessions else {
            return self.app.clone();
        };
        let app = self.client_scope(sessions, ctx);
        // Several hosts share this server: each request says its own host's platform (a
        // Cursor client's say `cursor`, another client's never do), and so does a job it starts.
        match ctx.client_info() {
            Some(info) => {
                let mut attribution = app.client.attribution();
                attribution.platform = app.client.platform_for_host(&info.name);
                app.speaking_for(&attribution)
            }
            None => app,
        }
    }

    /// The scope of an `--http` client (see [`NemoServer::app_for`]).
    fn client_scope(
        &self,
        sessions: &crate::mcp::per_session::PerSession,
        ctx: &RequestContext<RoleServer>,
    ) -> Arc<App> {
        if let Some(crate::mcp::workspaces::Scope(scope)) = ctx.extensions.get() {
            return sessions.app(&self.app, scope);
        }
        if crate::mcp::host_input::new_era(ctx) {
            return self.app.fork_ephemeral();
        }
        let session = ctx
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| p.headers.get("mcp-session-id"))
            .and_then(|v| v.to_str().ok());
        match session {
            Some(id) => sessions.app(&self.app, id),
            None => self.app.clone(),
        }
    }

    /// Over `--http`: this server is shared by several clients.
    pub(crate) fn shared_over_http(&self) -> bool {
        self.sessions.is_some()
    }

    /// Over stdio the one host's name sets the process's platform; over `--http` each
    /// request says its own ([`NemoServer::app_for`]).
    pub(super) fn hint(&self, ctx: &RequestContext<RoleServer>) {
        if self.shared_over_http() {
            return;
        }
        if let Some(info) = ctx.client_info() {
            self.app.client.set_host_hint(&info.name);
        }
    }
}

//! The account tools: `connect` (account, credits, the project and its links) and `get_credits`.

use super::*;

#[tool_router(router = account_tools, vis = "pub(super)")]
impl NemoServer {
    #[tool(
        title = "Connect",
        description = "Account, credits, project link. new_project=true starts over. 「新项目」",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true),
        output_schema = schema_for_output::<ConnectView>()
    )]
    async fn connect(
        &self,
        Parameters(args): Parameters<ConnectArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app_for(&ctx);
        let choice = match crate::project::opening::choose(
            args.new_project,
            args.project_id.as_deref(),
            args.language.as_deref(),
        ) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let new_project = choice.opening == crate::project::opening::Opening::New;
        let (session, reopened_notice) = match app.open_project(choice).await {
            Ok(opened) => opened,
            Err(e) => return fail(e),
        };
        app.library.touch(&session, || app.account());
        let credits = match app.credits(None).await {
            Ok(c) => credits_view(app, c),
            Err(e) => return fail(app.err(&e)),
        };
        let creds = app.client.credentials().await;
        let view = ConnectView {
            account: match app.client.token_source() {
                TokenSource::Given => "token".into(),
                TokenSource::Anonymous => "anonymous".into(),
            },
            user_id: creds
                .as_ref()
                .and_then(|c| c.user_id.clone())
                .or(session.user_id.clone()),
            credits: credits.available,
            project_id: session.session_id.to_string(),
            new_project,
            project_link: session.handle(&app.client).claim_link().await.ok(),
            register_link: app.client.register_url(),
            token_expires_at: creds.and_then(|c| c.expires_at).map(|e| e.to_rfc3339()),
            output_dir: app.settings.output_dir.display().to_string(),
            allowed_dirs: app
                .settings
                .allowed_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect(),
            brands: crate::project::brand::all(&app.state)
                .iter()
                .map(|b| b.words())
                .collect(),
            workspace: ctx
                .extensions
                .get::<crate::mcp::workspaces::Issued>()
                .map(|i| i.0.clone()),
            notice: join_notes(
                join_notes(
                    reopened_notice,
                    app.project
                        .take_replaced()
                        .map(|r| format!("{}.", crate::project::media::replaced_notice(r.old))),
                ),
                app.take_state_notices(),
            ),
        };
        if let Some(link) = &view.project_link {
            app.library.linked(session.session_id, link);
        }
        // Every sentence in the notice, so that hosts that give the model only the structured
        // content miss none of them: running low, the free account's clock.
        let mut view = view;
        let low = credits
            .next_step
            .as_deref()
            .map(|n| format!("Running low: {n}"));
        let clock = app.clock_text().await;
        let clock = clock.lines().map(str::trim).filter(|l| !l.is_empty());
        let clock = clock.collect::<Vec<_>>().join(" ");
        view.notice = join_notes(
            join_notes(view.notice, low),
            Some(clock).filter(|c| !c.is_empty()),
        );
        let text = connect_text(&view);
        Ok(structured(vec![ContentBlock::text(text)], &view))
    }

    #[tool(
        title = "Credits",
        description = "Credits; what to do when low. 「余额」",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = true),
        output_schema = schema_for_output::<CreditsView>()
    )]
    async fn get_credits(&self, ctx: RequestContext<RoleServer>) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app_for(&ctx);
        match app.credits(None).await {
            Ok(c) => {
                let mut v = credits_view(app, c);
                v.spent = Some(app.spent().await);
                v.token_expires_at = app.token_expiry().await.map(|e| e.to_rfc3339());
                let text = credits_text(app, &mut v).await;
                Ok(structured(vec![ContentBlock::text(text)], &v))
            }
            Err(e) => fail(app.err(&e)),
        }
    }
}

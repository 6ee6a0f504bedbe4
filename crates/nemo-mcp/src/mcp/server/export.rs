//! The export tool: `export_video` renders, downloads and saves a new MP4.

use super::*;

#[tool_router(router = export_tools, vis = "pub(super)")]
impl NemoServer {
    #[tool(
        title = "Export the MP4",
        description = "Render and save the MP4 (free). 「导出」",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true),
        output_schema = schema_for_output::<JobAnswer<ExportResult>>()
    )]
    async fn export_video(
        &self,
        Parameters(args): Parameters<ExportArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app_for(&ctx);
        let filename = args
            .filename
            .map(|f| f.trim().trim_end_matches(".mp4").to_string())
            .filter(|f| !f.is_empty());
        if filename.as_ref().is_some_and(|f| f.chars().count() > 200) {
            return fail(ToolError::invalid(
                "filename is too long (at most 200 characters)",
            ));
        }
        let request_id = match check_request_id(args.request_id.as_deref()) {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        if let Some(job) = request_id.as_deref().and_then(|r| {
            app.jobs
                .by_request_in(JobKind::Export, r, app.project.peek_now())
        }) {
            let note = Some(same_request_note(&job));
            return self.answer_or_task(app, job, args.wait_s, &ctx, note).await;
        }
        match app.in_project(|p| async move { p.state().await }).await {
            Ok((s, notice)) if !s.timeline.is_exportable() => {
                let mut e = run::export::nothing_to_export();
                if let Some(n) = notice {
                    e.message = format!("{n} {}", e.message);
                }
                return fail(e);
            }
            Ok(_) => {}
            Err(e) => return fail(e),
        }
        self.start_export(
            app,
            filename,
            request_id,
            (args.wait_s, args.captions.unwrap_or(true)),
            &ctx,
        )
        .await
    }
}

//! The project tools: `list_projects` (the library) and `get_timeline` (with a storyboard on request).

use super::*;

#[tool_router(router = projects_tools, vis = "pub(super)")]
impl NemoServer {
    #[tool(
        title = "Projects",
        description = "Projects, newest first; reopen: connect project_id 「我的项目」",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<ProjectsView>()
    )]
    async fn list_projects(
        &self,
        Parameters(args): Parameters<ListProjectsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        use crate::mcp::paging;
        let app = &self.app_for(&ctx);
        let offset = match paging::offset_of(args.cursor.as_deref(), "list_projects") {
            Ok(o) => o,
            Err(e) => return fail(e),
        };
        // The whole library (it keeps at most 200), paged here.
        let all = crate::mcp::resources::projects(app, 200).await;
        let per_page = args.limit.unwrap_or(20).clamp(1, 100) as usize;
        let (items, info) = paging::page(all, offset, per_page).split("list_projects", "projects");
        let mut text = if info.total == 0 {
            "No projects yet: connect or upload_media starts one.".to_string()
        } else {
            format!(
                "{} project(s), most recently used first (reopen one with connect {{project_id}}):\n",
                info.total
            )
        };
        for (i, p) in items.iter().enumerate() {
            text.push_str(&format!("{}. {}\n", offset + i + 1, p.line()));
        }
        info.push_next_line(&mut text);
        Ok(structured(
            vec![ContentBlock::text(text.trim_end().to_string())],
            &ProjectsView {
                projects: items,
                page: info,
            },
        ))
    }

    #[tool(
        title = "Timeline",
        description = "Tracks, length, exportable; storyboard: true adds an image. 「时间线」",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = true),
        output_schema = schema_for_output::<TimelineView>()
    )]
    async fn get_timeline(
        &self,
        Parameters(args): Parameters<TimelineArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app_for(&ctx);
        match app.in_project(|p| async move { p.state().await }).await {
            Ok((state, notice)) => {
                let mut v = TimelineView::of(&state, false);
                v.notice = notice;
                let text = format!(
                    "{}\nMedia in the project: {}. Exportable: {}.",
                    v.summary,
                    v.media_count,
                    if v.exportable { "yes" } else { "no" }
                );
                let mut content = vec![ContentBlock::text(text)];
                if args.storyboard.unwrap_or(false) {
                    let (shown, app2) = (state.timeline.clone(), app.clone());
                    let board = tokio::task::spawn_blocking(move || {
                        let media =
                            crate::previews::LocalMedia::of(&app2.jobs, &app2.input_policy());
                        let ffmpeg = crate::previews::ffmpeg();
                        crate::previews::storyboard::make(&shown, &media, ffmpeg.as_deref())
                    })
                    .await
                    .ok()
                    .flatten();
                    content.extend(storyboard_content(board));
                }
                Ok(structured(content, &v))
            }
            Err(e) => fail(e),
        }
    }
}

/// The storyboard as content blocks: the image and its caption, or why there is none.
fn storyboard_content(board: Option<crate::previews::storyboard::Storyboard>) -> Vec<ContentBlock> {
    match board {
        Some(b) => vec![
            ContentBlock::image(crate::mcp::encoding::base64(&b.jpeg), "image/jpeg"),
            ContentBlock::text(b.caption),
        ],
        None => vec![ContentBlock::text(
            "No storyboard: the timeline has no video or image segment yet.",
        )],
    }
}

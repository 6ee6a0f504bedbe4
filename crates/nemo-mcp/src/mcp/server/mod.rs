//! The MCP server: eleven tools over the NemoVideo client and the job manager.

use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::files::uploads::{check_inputs_blocking, CheckedInputs};
use crate::jobs::results::{
    ExportResult, GenerateOutput, RoutedAnswer, UploadResult, VideoPlan, VideoResult,
};
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
    sessions: Option<Arc<crate::app::Sessions>>,
    /// The least severe log level this client wants as `notifications/message`.
    pub(crate) log_level: Arc<std::sync::Mutex<crate::mcp::notices::LogLevel>>,
    /// Resources this client subscribed to.
    pub(crate) subscriptions: Arc<crate::mcp::notices::Subscriptions>,
    pub(crate) tool_router: ToolRouter<NemoServer>,
}

type ToolResult = Result<CallToolResult, McpError>;

fn fail(e: ToolError) -> ToolResult {
    Ok(e.to_result())
}

mod answer;
mod build;
mod player;
mod variants;

use answer::{connect_text, for_the_ai, join_notes, PaidCall};

#[tool_router]
impl NemoServer {
    /// Whether this server's log events may go to its client: not over `--http`, where the
    /// process's events concern every session's projects.
    pub(crate) fn forwards_logs(&self) -> bool {
        self.sessions.is_none()
    }

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
        let language = match args
            .language
            .as_deref()
            .map(crate::project::language::parse_argument)
        {
            None => None,
            Some(Some(l)) => Some(l),
            Some(None) => {
                return fail(ToolError::invalid(
                    "language must be a language code such as en, zh-CN, ja or es",
                ))
            }
        };
        let new_project = args.new_project.unwrap_or(false);
        let reopen = match args
            .project_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(_) if new_project => {
                return fail(ToolError::invalid(
                    "give either new_project or project_id, not both",
                ))
            }
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) => Some(nemo_client::SessionId::new(n)),
                Err(_) => {
                    return fail(
                        ToolError::invalid("project_id must be a project's number")
                            .next("call list_projects to see the projects and their ids"),
                    )
                }
            },
        };
        let mut reopened_notice: Option<String> = None;
        let session = if let Some(id) = reopen {
            match app.reopen(id).await {
                Ok((s, notice)) => {
                    reopened_notice = notice;
                    Ok(s)
                }
                Err(e) => return fail(e),
            }
        } else if new_project {
            let language = language.unwrap_or_else(|| app.settings.language.clone());
            app.project.start_new(&app.client, &language).await
        } else {
            app.session(language.as_deref()).await
        };
        let session = match session {
            Ok(s) => s,
            Err(e) => return fail(app.err(&e)),
        };
        app.library.touch(&session);
        let credits = match app.client.credits().await {
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
        title = "Upload media",
        description = "Add images, videos or audio. Waits up to 45 s. 「上传」",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true),
        output_schema = schema_for_output::<JobAnswer<UploadResult>>()
    )]
    async fn upload_media(
        &self,
        Parameters(args): Parameters<UploadArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app_for(&ctx);
        let paths = args.paths.unwrap_or_default();
        let urls_in = args.urls.unwrap_or_default();
        let CheckedInputs {
            files,
            urls,
            rejected,
        } = match check_inputs_blocking(app.input_rules(), paths, urls_in).await {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let app2 = app.clone();
        let inputs = run::upload::inputs(&files, &urls);
        let job = app.jobs.spawn(Job::upload(inputs), move |jctx| {
            run::upload::run(app2, jctx, files, urls, rejected)
        });
        self.answer_or_task(app, job, args.wait_s, &ctx, None).await
    }

    #[tool(
        title = "Edit the video",
        description = "NemoVideo's AI edits the video: about 50 credits an edit, 100 a generated clip; export, credit, status and upload requests are free. Waits up to 45 s. 「加字幕」",
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = true),
        output_schema = schema_for_output::<JobAnswer<GenerateOutput>>()
    )]
    async fn generate(
        &self,
        Parameters(args): Parameters<GenerateArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app_for(&ctx);
        let call = (args.instruction.as_str(), args.request_id.as_deref());
        let (instruction, request_id) = match self
            .paid_call(app, JobKind::Generate, call, args.wait_s, &ctx)
            .await
        {
            PaidCall::Go(i, r) => (i, r),
            PaidCall::Answered(answer) => return answer,
        };
        // Exports, credit and status questions and uploads never go to the backend agent (it
        // would spend credits and do nothing), but only when that is all the instruction is.
        let routed = route(&instruction);
        if routed.intent != Intent::Agent && !args.send_anyway.unwrap_or(false) {
            let answer = match self.routed_answer(app, routed.intent).await {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            let job = Job::generation(instruction, None).with_request_id(request_id);
            let answer = GenerateOutput::NotSent(answer);
            let job = match app.jobs.spawn_once(job, move |_| async move { Ok(answer) }) {
                Spawned::Started(j) | Spawned::Existing(j) => j,
            };
            return self.answer(app, job, Some(1.0), &ctx, None).await;
        }
        let confirmed = args.confirm.unwrap_or(false);
        let (estimate, reservation) =
            match agree_to_spend(app, &ctx, &instruction, args.max_credits, confirmed).await {
                Ok(e) => e,
                Err(e) => return fail(e),
            };
        let language =
            crate::project::language::of_instruction(&instruction, &app.settings.language);
        let req = run::generation::Request {
            instruction,
            also_export: routed.also_export,
        };
        let started = run::generation::start(app, req, &language, request_id, estimate.kind).await;
        let (job, note) = match started {
            Ok(run::generation::Started::New(j)) => {
                reservation.attach(&j.id);
                (j, None)
            }
            Ok(run::generation::Started::SameRequest(j)) => {
                let note = Some(same_request_note(&j));
                (j, note)
            }
            Ok(run::generation::Started::Busy(running)) => {
                let note = Some(format!(
                    "A generation is already running in this project, so this instruction was NOT sent. Wait for job {} with get_job, then send it again.",
                    running.id
                ));
                return self.answer(app, running, Some(0.0), &ctx, note).await;
            }
            Err(e) => return fail(e),
        };
        self.answer_or_task(app, job, args.wait_s, &ctx, note).await
    }

    #[tool(
        title = "Make a video",
        description = "upload_media, generate, export_video in one job; credits as generate. Waits up to 45 s. 「做个视频」",
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = true),
        output_schema = schema_for_output::<JobAnswer<VideoResult>>()
    )]
    async fn make_video(
        &self,
        Parameters(args): Parameters<MakeVideoArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app_for(&ctx);
        let call = (args.instruction.as_str(), args.request_id.as_deref());
        let (instruction, request_id) = match self
            .paid_call(app, JobKind::Video, call, args.wait_s, &ctx)
            .await
        {
            PaidCall::Go(i, r) => (i, r),
            PaidCall::Answered(answer) => return answer,
        };
        if let Err(e) = for_the_ai(&instruction) {
            return fail(e);
        }
        let variants = match variants::check_variants(args.variants) {
            Ok(v) => v,
            Err(e) => return fail(e),
        };
        let export = args.export.unwrap_or(true);
        if export {
            if let Err(e) = run::export::check_output_dir_async(&app.settings.output_dir).await {
                return fail(e);
            }
        }
        let paths = args.paths.unwrap_or_default();
        let urls = args.urls.unwrap_or_default();
        let inputs = if paths.is_empty() && urls.is_empty() {
            None
        } else {
            match check_inputs_blocking(app.input_rules(), paths, urls).await {
                Ok(c) => Some(c),
                Err(e) => return fail(e),
            }
        };
        let confirmed = args.confirm.unwrap_or(false);
        if !variants.is_empty() {
            let req = variants::SetRequest {
                instruction,
                request_id,
                variants,
                inputs,
                export,
                max_credits: args.max_credits,
                confirmed,
                wait_s: args.wait_s,
            };
            return self.make_set(app, &ctx, req).await;
        }
        // Agreed before anything is uploaded: a refusal leaves no trace.
        let (estimate, reservation) =
            match agree_to_spend(app, &ctx, &instruction, args.max_credits, confirmed).await {
                Ok(e) => e,
                Err(e) => return fail(e),
            };
        let media = inputs.as_ref().map(|c| c.media()).unwrap_or_default();
        let upload = inputs.map(|c| {
            let app2 = app.clone();
            let inputs = run::upload::inputs(&c.files, &c.urls);
            app.jobs.spawn(Job::upload(inputs), move |jctx| {
                run::upload::run(app2, jctx, c.files, c.urls, c.rejected)
            })
        });
        let job = Job::video(VideoPlan {
            language: crate::project::language::of_instruction(
                &instruction,
                &app.settings.language,
            ),
            instruction,
            export,
            cost_kind: estimate.kind,
            upload: upload.map(|u| u.id),
            generate: None,
            export_job: None,
            project: None,
            filename: None,
            set: None,
            media,
        })
        .with_request_id(request_id);
        let app2 = app.clone();
        let (job, note) = with_note(
            app.jobs
                .spawn_once(job, move |jctx| run::make_video(app2, jctx)),
        );
        if note.is_none() {
            reservation.attach(&job.id);
        }
        self.answer_or_task(app, job, args.wait_s, &ctx, note).await
    }

    #[tool(
        title = "Wait for a job",
        description = "Wait up to 45 s for a job. 「好了吗」",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<JobView>()
    )]
    async fn get_job(
        &self,
        Parameters(args): Parameters<GetJobArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        let id = match check_job_id(&args.job_id) {
            Ok(id) => id,
            Err(e) => return fail(e),
        };
        let app = &self.app_for(&ctx);
        match app.jobs.get(id) {
            Some(job) => self.answer(app, job, args.wait_s, &ctx, None).await,
            None => fail(
                ToolError::new(Code::UnknownJob, format!("no job {id}"))
                    .next("call list_jobs to see the jobs"),
            ),
        }
    }

    #[tool(
        title = "List jobs",
        description = "Recent jobs and their results. 「任务」",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<JobsView>()
    )]
    async fn list_jobs(&self, ctx: RequestContext<RoleServer>) -> ToolResult {
        let jobs: Vec<JobSummary> = self
            .app_for(&ctx)
            .jobs
            .recent(50)
            .iter()
            .map(JobSummary::of)
            .collect();
        let mut text = if jobs.is_empty() {
            "No jobs yet.".to_string()
        } else {
            String::new()
        };
        for j in &jobs {
            text.push_str(&format!("- {}\n", j.line()));
        }
        Ok(structured(
            vec![ContentBlock::text(text.trim_end().to_string())],
            &JobsView { jobs },
        ))
    }

    #[tool(
        title = "Cancel a job",
        description = "Stop a job and its render. 「取消」",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = true),
        output_schema = schema_for_output::<JobView>()
    )]
    async fn cancel_job(
        &self,
        Parameters(args): Parameters<JobIdArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        let id = match check_job_id(&args.job_id) {
            Ok(id) => id,
            Err(e) => return fail(e),
        };
        let app = &self.app_for(&ctx);
        let Some(job) = stop_job(app, id).await else {
            return fail(
                ToolError::new(Code::UnknownJob, format!("no job {id}"))
                    .next("call list_jobs to see the jobs"),
            );
        };
        if job.status().is_finished() {
            let note = Some("This job had already finished; nothing was stopped.".to_string());
            return self.answer(app, job, Some(0.0), &ctx, note).await;
        }
        if let Some(note) = variants::cancelled_set_note(app, &job) {
            return self.answer(app, job, Some(5.0), &ctx, Some(note)).await;
        }
        let sent_turn = job
            .generation_data()
            .is_some_and(|g| g.state_before.is_some())
            || job.video_plan().is_some_and(|p| p.generate.is_some());
        let note = sent_turn.then(|| CANCELLED_TURN_NOTE.to_string());
        self.answer(app, job, Some(5.0), &ctx, note).await
    }

    #[tool(
        title = "Projects",
        description = "Projects made here, newest first; reopen with connect project_id. 「我的项目」",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<ProjectsView>()
    )]
    async fn list_projects(
        &self,
        Parameters(args): Parameters<ListProjectsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        let app = &self.app_for(&ctx);
        let projects =
            crate::mcp::resources::projects(app, args.limit.unwrap_or(20).clamp(1, 100) as usize)
                .await;
        let mut text = if projects.is_empty() {
            "No projects yet: connect or upload_media starts one.".to_string()
        } else {
            format!(
                "{} project(s), most recently used first (reopen one with connect {{project_id}}):\n",
                projects.len()
            )
        };
        for (i, p) in projects.iter().enumerate() {
            text.push_str(&format!("{}. {}\n", i + 1, p.line()));
        }
        Ok(structured(
            vec![ContentBlock::text(text.trim_end().to_string())],
            &ProjectsView { projects },
        ))
    }

    #[tool(
        title = "Credits",
        description = "Credit balance; what to do when low. 「余额」",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = true),
        output_schema = schema_for_output::<CreditsView>()
    )]
    async fn get_credits(&self, ctx: RequestContext<RoleServer>) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app_for(&ctx);
        match app.client.credits().await {
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

    #[tool(
        title = "Timeline",
        description = "Tracks, segments, length, exportable; storyboard: true adds an image. 「时间线」",
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
                        let media = crate::previews::LocalMedia::of(&app2.jobs);
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

    #[tool(
        title = "Export the MP4",
        description = "Render and save the MP4 (free). Waits up to 45 s. 「导出」",
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
        if let Some(job) = request_id
            .as_deref()
            .and_then(|r| app.jobs.by_request(JobKind::Export, r))
        {
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
        self.start_export(app, filename, request_id, args.wait_s, &ctx)
            .await
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

//! The MCP server: nine tools over the NemoVideo client and the job manager.

use crate::app::App;
use crate::errors::ToolError;
use crate::jobs::{self, Job, JobKind};
use crate::tools::*;
use crate::uploads::{check_inputs, CheckedInputs};
use crate::views::{structured, JobView, Progress};
use nemo_client::text::{route, Intent};
use nemo_client::TokenSource;
use rmcp::handler::server::common::schema_for_output;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, ErrorData as McpError, RoleServer};
use std::sync::Arc;

const MAX_INSTRUCTION: usize = 4000;

#[derive(Clone)]
pub struct NemoServer {
    pub(crate) app: Arc<App>,
    pub(crate) tool_router: ToolRouter<NemoServer>,
}

type ToolResult = Result<CallToolResult, McpError>;

fn fail(e: ToolError) -> ToolResult {
    Ok(e.to_result())
}

fn check_job_id(id: &str) -> Result<&str, ToolError> {
    let id = id.trim();
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(id)
    } else {
        Err(
            ToolError::invalid("job_id must look like gen_…, exp_… or upl_… (see list_jobs)")
                .next("call list_jobs"),
        )
    }
}

fn credits_view(app: &App, c: nemo_client::Credits) -> CreditsView {
    let low = c.available < 50;
    let next_step = low.then(|| match app.client.register_url() {
        Some(url) => format!("register for more free credits: {url}"),
        None => format!("top up credits at {}", app.settings.client.web_url),
    });
    CreditsView {
        available: c.available,
        frozen: c.frozen,
        total: c.total,
        low,
        next_step,
    }
}

#[tool_router]
impl NemoServer {
    pub fn new(app: Arc<App>) -> NemoServer {
        NemoServer {
            app,
            tool_router: Self::tool_router(),
        }
    }

    fn hint(&self, ctx: &RequestContext<RoleServer>) {
        if let Some(info) = ctx.client_info() {
            self.app.client.set_host_hint(&info.name);
        }
    }

    /// Wait (bounded) for a job while sending progress, then answer it.
    async fn answer(
        &self,
        job: Job,
        wait_s: Option<f64>,
        ctx: &RequestContext<RoleServer>,
        note: Option<String>,
    ) -> ToolResult {
        let max = self.app.settings.wait(wait_s);
        let progress = Arc::new(tokio::sync::Mutex::new(Progress::new(
            ctx.peer.clone(),
            ctx.meta.get_progress_token(),
        )));
        let tick = self.app.settings.progress_every;
        let job = self
            .app
            .jobs
            .wait(&job.id, max, tick, &ctx.ct, |j| {
                let progress = progress.clone();
                async move { progress.lock().await.report(&j).await }
            })
            .await
            .unwrap_or(job);
        let mut view = JobView::of(&job);
        view.note = note;
        Ok(view.into_result())
    }

    #[tool(
        description = "Connect to NemoVideo: account, credits and a browser link to the project. Optional: every tool connects by itself. Use new_project=true to start over. Serves: \"connect\", \"start a new video\", \"新项目\", \"连接\".",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = true),
        output_schema = schema_for_output::<ConnectView>()
    )]
    async fn connect(
        &self,
        Parameters(args): Parameters<ConnectArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app;
        let language = args
            .language
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty() && l.len() <= 16);
        let new_project = args.new_project.unwrap_or(false);
        let session = if new_project {
            app.client.new_session(language.unwrap_or("en")).await
        } else {
            app.client.session(language).await
        };
        let session = match session {
            Ok(s) => s,
            Err(e) => return fail(app.err(&e)),
        };
        let credits = match app.client.credits().await {
            Ok(c) => credits_view(app, c),
            Err(e) => return fail(app.err(&e)),
        };
        let creds = app.client.credentials().await;
        let view = ConnectView {
            account: match app.client.token_source() {
                TokenSource::Environment => "token".into(),
                TokenSource::Anonymous => "anonymous".into(),
            },
            user_id: creds
                .as_ref()
                .and_then(|c| c.user_id.clone())
                .or(session.user_id.clone()),
            credits,
            project_id: session.session_id.to_string(),
            new_project,
            project_link: app.client.claim_link().await.ok(),
            register_link: app.client.register_url(),
            token_expires_at: creds.and_then(|c| c.expires_at).map(|e| e.to_rfc3339()),
            output_dir: app.settings.output_dir.display().to_string(),
            allowed_dirs: app
                .settings
                .allowed_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect(),
            notice: app.client.take_session_replaced().map(|r| {
                format!(
                    "the previous project ({}) was lost; a new one was started",
                    r.old
                )
            }),
        };
        let mut text = format!(
            "Connected to NemoVideo ({} account): {} credits available. Project {}.",
            view.account, view.credits.available, view.project_id
        );
        if let Some(l) = &view.project_link {
            text.push_str(&format!("\nOpen it in a browser: {l}"));
        }
        if let Some(l) = &view.register_link {
            text.push_str(&format!(
                "\nRegister to keep your work and get more credits: {l}"
            ));
        }
        Ok(structured(vec![ContentBlock::text(text)], &view))
    }

    #[tool(
        description = "Upload local images, videos or audio (absolute paths) and/or http(s) URLs to the project. Each file is checked first (inside the allowed folders, real media matching its extension, under the size limit); rejected inputs get their own reason and the rest still go. Returns a job (waits up to 45 s). Serves: \"upload\", \"here are my photos\", \"use this logo\", \"上传\".",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true),
        output_schema = schema_for_output::<JobView>()
    )]
    async fn upload_media(
        &self,
        Parameters(args): Parameters<UploadArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app;
        let paths = args.paths.unwrap_or_default();
        let urls_in = args.urls.unwrap_or_default();
        let CheckedInputs {
            files,
            urls,
            rejected,
        } = match check_inputs(app, paths, urls_in) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let app2 = app.clone();
        let job = app.jobs.spawn(Job::new(JobKind::Upload), move |jctx| {
            jobs::upload::run(app2, jctx, files, urls, rejected)
        });
        self.answer(job, args.wait_s, &ctx, None).await
    }

    #[tool(
        description = "Create or edit the video with NemoVideo's AI from a natural-language instruction (spends credits: about 50 per edit, 100 per generated clip). Returns the AI's reply, what changed on the timeline, and credits spent; runs as a job and waits up to 45 s, then answers `running` with a job_id for get_job. Serves: \"combine these images into a 30-second promo\", \"add background music\", \"add a title\", \"make it shorter\", \"generate a clip of ...\", \"合成视频\", \"加背景音乐\", \"加字幕\", \"生成\".",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true),
        output_schema = schema_for_output::<JobView>()
    )]
    async fn generate(
        &self,
        Parameters(args): Parameters<GenerateArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let app = &self.app;
        let instruction = args.instruction.trim().to_string();
        if instruction.is_empty() {
            return fail(ToolError::invalid(
                "the instruction is empty: say what to create or change",
            ));
        }
        if instruction.chars().count() > MAX_INSTRUCTION {
            return fail(ToolError::invalid(format!(
                "the instruction is too long (at most {MAX_INSTRUCTION} characters)"
            )));
        }
        // Route first: exports, credits, status and uploads never go to the backend agent
        // (it would spend credits and do nothing).
        match route(&instruction) {
            Intent::Agent => {}
            Intent::Export => {
                let note = Some("This was an export request, so the video is being exported (not sent to the AI).".to_string());
                return self.start_export(None, None, args.wait_s, &ctx, note).await;
            }
            Intent::Credits => {
                let msg = match app.client.credits().await {
                    Ok(c) => format!(
                        "answered here without the AI: {} credits available ({} reserved)",
                        c.available, c.frozen
                    ),
                    Err(e) => return fail(app.err(&e)),
                };
                return fail(
                    ToolError::new("not_an_edit", msg).next("call get_credits for the balance"),
                );
            }
            Intent::Status => {
                let msg = match app.client.state().await {
                    Ok(s) => format!("answered here without the AI: {}", s.timeline.summary()),
                    Err(e) => return fail(app.err(&e)),
                };
                return fail(
                    ToolError::new("not_an_edit", msg).next("call get_timeline for the timeline"),
                );
            }
            Intent::Upload => {
                return fail(
                    ToolError::new(
                        "not_an_edit",
                        "uploading is done by the upload_media tool, not by the AI",
                    )
                    .next("call upload_media with the absolute paths of the files"),
                );
            }
        }
        let language = args
            .language
            .clone()
            .unwrap_or_else(|| detect_language(&instruction).to_string());
        let sid = match app.session_id(Some(&language)).await {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        if let Some(running) = app.jobs.running_generation(&sid) {
            let note = Some(format!(
                "A generation is already running in this project, so this instruction was NOT sent. Wait for job {} with get_job, then send it again.",
                running.id
            ));
            return self.answer(running, Some(0.0), &ctx, note).await;
        }
        let mut job = Job::new(JobKind::Generate);
        job.instruction = Some(instruction.clone());
        job.session_id = Some(sid);
        let app2 = app.clone();
        let job = app.jobs.spawn(job, move |jctx| {
            jobs::generation::run(app2, jctx, instruction)
        });
        self.answer(job, args.wait_s, &ctx, None).await
    }

    async fn start_export(
        &self,
        filename: Option<String>,
        resolution: Option<String>,
        wait_s: Option<f64>,
        ctx: &RequestContext<RoleServer>,
        note: Option<String>,
    ) -> ToolResult {
        let app = &self.app;
        // Fail fast (no job) on what can be checked right away.
        if let Err(e) = jobs::export::check_output_dir(&app.settings.output_dir) {
            return fail(e);
        }
        let app2 = app.clone();
        let job = app.jobs.spawn(Job::new(JobKind::Export), move |jctx| {
            jobs::export::run(app2, jctx, filename, resolution)
        });
        self.answer(job, wait_s, ctx, note).await
    }

    #[tool(
        description = "Wait for a job (generate, export_video, upload_media) and return its result; waits up to 45 s (wait_s) and answers `running` if it is not done yet. The only polling tool: call it again with the same job_id. Serves: \"is it done?\", \"check the render\", \"好了吗\".",
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
        match self.app.jobs.get(id) {
            Some(job) => self.answer(job, args.wait_s, &ctx, None).await,
            None => fail(
                ToolError::new("unknown_job", format!("no job {id}"))
                    .next("call list_jobs to see the jobs"),
            ),
        }
    }

    #[tool(
        description = "List recent jobs (generations, exports, uploads) with their status, newest first. Serves: \"what's running?\", \"my exports\", \"任务\".",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false),
        output_schema = schema_for_output::<JobsView>()
    )]
    async fn list_jobs(&self) -> ToolResult {
        let jobs: Vec<JobView> = self
            .app
            .jobs
            .list()
            .iter()
            .take(50)
            .map(JobView::of)
            .collect();
        let mut text = if jobs.is_empty() {
            "No jobs yet.".to_string()
        } else {
            String::new()
        };
        for j in &jobs {
            text.push_str(&format!(
                "{} {:?} {:?}: {}\n",
                j.job_id, j.kind, j.status, j.message
            ));
        }
        Ok(structured(
            vec![ContentBlock::text(text.trim_end().to_string())],
            &JobsView { jobs },
        ))
    }

    #[tool(
        description = "Cancel a job: an export's render is cancelled on NemoVideo; a generation is no longer followed (NemoVideo may still finish the edit: check get_timeline). Serves: \"stop\", \"cancel the export\", \"取消\".",
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = true),
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
        let Some(job) = self.app.jobs.cancel(id) else {
            return fail(
                ToolError::new("unknown_job", format!("no job {id}"))
                    .next("call list_jobs to see the jobs"),
            );
        };
        if job.kind == JobKind::Export && !job.status.is_finished() {
            if let Some(rid) = &job.render_id {
                let _ = self
                    .app
                    .client
                    .cancel_render(&nemo_client::RenderId::from_journal(rid.clone()))
                    .await;
            }
        }
        self.answer(job, Some(5.0), &ctx, None).await
    }

    #[tool(
        description = "Credit balance: available, reserved by running work, total, and what to do when low (registration or top-up link). Free. Serves: \"credits\", \"balance\", \"how much is left\", \"积分\", \"余额\".",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = true),
        output_schema = schema_for_output::<CreditsView>()
    )]
    async fn get_credits(&self, ctx: RequestContext<RoleServer>) -> ToolResult {
        self.hint(&ctx);
        match self.app.client.credits().await {
            Ok(c) => {
                let v = credits_view(&self.app, c);
                let mut text = format!(
                    "{} credits available ({} reserved, {} total).",
                    v.available, v.frozen, v.total
                );
                if let Some(n) = &v.next_step {
                    text.push_str(&format!(" Running low: {n}"));
                }
                Ok(structured(vec![ContentBlock::text(text)], &v))
            }
            Err(e) => fail(self.app.err(&e)),
        }
    }

    #[tool(
        description = "The project's timeline: a one-line summary, tracks with their segments, length, and whether it can be exported. Free. Serves: \"status\", \"show tracks\", \"what's in the video?\", \"状态\", \"时间线\".",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = true),
        output_schema = schema_for_output::<TimelineView>()
    )]
    async fn get_timeline(
        &self,
        Parameters(args): Parameters<TimelineArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        match self.app.client.state().await {
            Ok(state) => {
                let mut v = TimelineView::of(&state, args.include_draft.unwrap_or(false));
                v.notice = self.app.client.take_session_replaced().map(|r| {
                    format!(
                        "the previous project ({}) was lost; this is a new, empty one",
                        r.old
                    )
                });
                let text = format!(
                    "{}\nMedia in the project: {}. Exportable: {}.",
                    v.summary,
                    v.media_count,
                    if v.exportable { "yes" } else { "no" }
                );
                Ok(structured(vec![ContentBlock::text(text)], &v))
            }
            Err(e) => fail(self.app.err(&e)),
        }
    }

    #[tool(
        description = "Render the video and save the MP4 in the output folder; returns the absolute path, the URL and a link to the file. Free (no credits). Runs as a job: waits up to 45 s, then answers `running` with a job_id for get_job. Serves: \"export\", \"download\", \"send me the video\", \"render it\", \"导出\", \"下载\".",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = true),
        output_schema = schema_for_output::<JobView>()
    )]
    async fn export_video(
        &self,
        Parameters(args): Parameters<ExportArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.hint(&ctx);
        let filename = args
            .filename
            .map(|f| f.trim().trim_end_matches(".mp4").to_string())
            .filter(|f| !f.is_empty());
        if filename.as_ref().is_some_and(|f| f.chars().count() > 200) {
            return fail(ToolError::invalid(
                "filename is too long (at most 200 characters)",
            ));
        }
        let resolution = match args
            .resolution
            .as_deref()
            .map(|r| r.trim().to_ascii_lowercase())
        {
            None => None,
            Some(r) if r == "1080p" || r == "720p" => Some(r),
            Some(r) => {
                return fail(ToolError::invalid(format!(
                    "resolution must be \"1080p\" or \"720p\", not {:?}",
                    r.chars().take(20).collect::<String>()
                )))
            }
        };
        match self.app.client.state().await {
            Ok(s) if !s.timeline.is_exportable() => return fail(jobs::export::nothing_to_export()),
            Ok(_) => {}
            Err(e) => return fail(self.app.err(&e)),
        }
        self.start_export(filename, resolution, args.wait_s, &ctx, None)
            .await
    }
}

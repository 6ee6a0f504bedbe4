//! How a tool answers: a job's result within the wait (or a task), a routed question, an export started; and the texts.

use super::*;

/// Where a paid call stands after its checks.
pub(super) enum PaidCall {
    /// Go on with the checked instruction and request id.
    Go(String, Option<String>),
    /// Answer at once: a refusal, or the job an earlier call with the same request_id
    /// started (nothing is sent again).
    Answered(ToolResult),
}

impl NemoServer {
    /// The checks every paid call (`generate`, `make_video`) starts with.
    pub(super) async fn paid_call(
        &self,
        app: &App,
        kind: JobKind,
        (instruction, request_id): (&str, Option<&str>),
        wait_s: Option<f64>,
        ctx: &RequestContext<RoleServer>,
    ) -> PaidCall {
        let (instruction, request_id, earlier) =
            match check_paid_call(app, kind, instruction, request_id) {
                Ok(c) => c,
                Err(e) => return PaidCall::Answered(fail(e)),
            };
        match earlier {
            Some(job) => {
                let note = Some(same_request_note(&job));
                PaidCall::Answered(self.answer_or_task(app, job, wait_s, ctx, note).await)
            }
            None => PaidCall::Go(instruction, request_id),
        }
    }

    /// A job this call started (or its request_id names): a task for a host that declared
    /// tasks ([`crate::mcp::tasks`]), else a bounded wait.
    pub(super) async fn answer_or_task(
        &self,
        app: &App,
        job: Job,
        wait_s: Option<f64>,
        ctx: &RequestContext<RoleServer>,
        note: Option<String>,
    ) -> ToolResult {
        if let Some(slot) = crate::mcp::tasks::TaskSlot::of(ctx) {
            if !job.status().is_finished() {
                slot.record(&job);
                // Replaced by the task in `call_tool`; never seen.
                return Ok(CallToolResult::success(vec![]));
            }
        }
        self.answer(app, job, wait_s, ctx, note).await
    }

    /// Wait (bounded) for a job while sending progress, then answer it.
    pub(super) async fn answer(
        &self,
        app: &App,
        job: Job,
        wait_s: Option<f64>,
        ctx: &RequestContext<RoleServer>,
        note: Option<String>,
    ) -> ToolResult {
        let max = app.settings.wait(wait_s);
        let progress = Arc::new(tokio::sync::Mutex::new(Progress::new(
            ctx.peer.clone(),
            ctx.meta.get_progress_token(),
        )));
        let tick = app.settings.progress_every;
        let job = app
            .jobs
            .wait(&job.id, max, tick, &ctx.ct, |j| {
                let progress = progress.clone();
                async move { progress.lock().await.report(&j).await }
            })
            .await
            .unwrap_or(job);
        // A job that ran out of credits shows the page without waiting. Not in the 2026-07-28
        // era: there a question replaces the answer and the host calls the tool again, which
        // must never start the job a second time.
        if job.error().is_some_and(|e| e.code == Code::OutOfCredits)
            && !crate::mcp::host_input::new_era(ctx)
        {
            if let Some(url) = app.client.register_url() {
                crate::mcp::confirm::show_link(&ctx.peer, &url);
            }
        }
        let mut view = JobView::of(&job);
        let note = join_notes(note, app.take_state_notices());
        view.note = join_notes(note, app.clock_notice().await);
        let mut result = view.into_result();
        if app.settings.poster && !crate::mcp::player::client_renders(ctx) {
            if let Some(poster) = poster_of(&job).await {
                result.content.push(poster);
            }
        }
        Ok(result)
    }

    /// The answer to an instruction that is wholly an export, credits, status or upload
    /// request: given here, free; the host is told which tool does it.
    pub(super) async fn routed_answer(
        &self,
        app: &App,
        intent: Intent,
    ) -> Result<RoutedAnswer, ToolError> {
        let (answer, tool) = match intent {
            Intent::Export => (
                "This is a request to export, which the AI cannot do: call export_video to render the timeline and save the MP4.".to_string(),
                "export_video",
            ),
            Intent::Credits => {
                let c = app.client.credits().await.map_err(|e| app.err(&e))?;
                let v = credits_view(app, c);
                let mut a = format!("{} credits available ({} reserved).", v.available, v.frozen);
                if let Some(n) = v.next_step {
                    a.push_str(&format!(" Running low: {n}"));
                }
                (a, "get_credits")
            }
            Intent::Status => {
                let s = app.current_state().await.map_err(|e| app.err(&e))?;
                (s.timeline.summary(), "get_timeline")
            }
            Intent::Upload | Intent::Agent => (
                "Uploading is done by the upload_media tool with the files' absolute paths or URLs, not by the AI.".to_string(),
                "upload_media",
            ),
        };
        Ok(RoutedAnswer {
            routed_as: intent.name().to_string(),
            answer,
            tool: tool.to_string(),
            sent: false,
            credits_spent: 0,
        })
    }

    pub(super) async fn start_export(
        &self,
        app: &Arc<App>,
        filename: Option<String>,
        request_id: Option<String>,
        (wait_s, captions): (Option<f64>, bool),
        ctx: &RequestContext<RoleServer>,
    ) -> ToolResult {
        // Fail fast (no job) on what can be checked right away.
        if let Err(e) = run::export::check_output_dir_async(&app.settings.output_dir).await {
            return fail(e);
        }
        let (job, note) = with_note(run::export::start(
            app,
            filename,
            request_id,
            captions,
            app.settings.output_dir.clone(),
        ));
        self.answer_or_task(app, job, wait_s, ctx, note).await
    }
}

/// A finished export's contact sheet (six pictures of the file with their times) as image
/// content, for a host without the player view: decoded in-process, made once when the file was
/// checked. For a file this cannot decode (another codec), a poster frame from `ffmpeg` when it
/// is on PATH; otherwise the result is unchanged.
async fn poster_of(job: &Job) -> Option<ContentBlock> {
    let (path, duration, sheet_made) =
        if let Some(r) = job.export_data().and_then(|e| e.outcome.result()) {
            (r.path.clone(), r.duration_s, !r.checked.frames_s.is_empty())
        } else {
            let v = job.video_result()?;
            (v.path.clone()?, None, !v.checked.frames_s.is_empty())
        };
    let jpeg = tokio::task::spawn_blocking(move || {
        let path = std::path::Path::new(&path);
        // Only a file whose check made its sheet is decoded here (from the cache, or once
        // more after a restart): a file left unchecked is never read in this process.
        if sheet_made {
            if let Ok(sheet) = crate::previews::contact_sheet::of(path) {
                return Some(sheet.jpeg);
            }
        }
        let ffmpeg = crate::previews::ffmpeg()?;
        crate::previews::poster::poster(&ffmpeg, path, duration)
    })
    .await
    .ok()??;
    Some(ContentBlock::image(
        crate::mcp::encoding::base64(&jpeg),
        "image/jpeg",
    ))
}

/// Two notes as one.
pub(super) fn join_notes(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b),
    }
}

/// What `connect` says: account, credits, project, and the links to give the user.
pub(super) fn connect_text(view: &ConnectView) -> String {
    let mut text = format!(
        "Connected to NemoVideo ({} account): {} credits available. Project {}.",
        view.account, view.credits, view.project_id
    );
    if let Some(n) = &view.notice {
        text.push_str(&format!("\n{n}"));
    }
    if let Some(l) = &view.project_link {
        text.push_str(&format!("\nOpen it in a browser: {l}"));
    }
    if let Some(l) = &view.register_link {
        text.push_str(&format!(
            "\nRegister to keep your work and get more credits: {l}"
        ));
    }
    if !view.brands.is_empty() {
        text.push_str(&format!(
            "\nBrand kits (make_video uses the one an instruction names, else `default`; \"no brand\" leaves it out): {}",
            view.brands.join(" | ")
        ));
    }
    if let Some(w) = &view.workspace {
        text.push_str(&format!(
            "\nWorkspace: {w}. Pass it as `workspace` to every tool: this server is shared over HTTP, and the workspace keeps your project yours."
        ));
    }
    text
}

/// `make_video`'s instruction must be for the AI: an export, credits, status or upload request
/// would be paid for and do nothing.
pub(super) fn for_the_ai(instruction: &str) -> Result<(), ToolError> {
    let what = match route(instruction).intent {
        Intent::Agent => return Ok(()),
        Intent::Export => "an export",
        Intent::Credits => "a credits",
        Intent::Status => "a status",
        Intent::Upload => "an upload",
    };
    Err(ToolError::invalid(format!(
        "make_video needs an instruction describing the video; this reads as {what} request, which is not sent to the AI"
    ))
    .next("say what the video should be, e.g. \"combine these photos into a 30-second promo with music\""))
}

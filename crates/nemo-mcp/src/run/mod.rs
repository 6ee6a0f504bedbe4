//! What each kind of job does: a generation (one paid message, its stream read to the end),
//! an export (a render polled and downloaded), an upload, and `make_video` (the three in
//! turn). The jobs themselves are held and journaled by [`crate::jobs`].

pub mod asked;
pub mod export;
pub mod file_check;
pub mod fix;
pub mod generation;
pub mod held;
pub mod platforms;
pub mod stop;
pub mod upload;
mod variant_outcome;
pub mod variants;
pub mod video;

use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::jobs::{Ended, Job, JobKind, Work};
use std::sync::Arc;

/// How often this process looks for jobs whose runner is gone, and for cancels other
/// processes asked of its own jobs (`NEMO_ADOPT_EVERY_MS`).
fn sweep_every() -> std::time::Duration {
    std::env::var("NEMO_ADOPT_EVERY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(std::time::Duration::from_secs(2), |ms| {
            std::time::Duration::from_millis(ms.clamp(50, 60_000))
        })
}

/// Take over what a gone process left running, now and then every few seconds, for as long as
/// this process runs jobs: finished jobs are listed from the journal; running ones are resumed
/// (a render is polled and downloaded; a generation is recovered from state, never re-sent).
/// A job whose runner is alive is never touched.
pub fn resume_all(app: &Arc<App>) {
    adopt(app);
    let app = app.clone();
    let stop = app.jobs.stopping();
    tokio::spawn(async move {
        let every = sweep_every();
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            adopt(&app);
            for id in app.jobs.journal().cancels_asked() {
                tracing::info!(job = %id, "another server process asked to cancel this job");
                crate::run::stop::stop_job(&app, &id).await;
            }
        }
    });
}

/// Claim and resume the running jobs of processes that are gone.
fn adopt(app: &Arc<App>) {
    // `make_video` jobs last, and sets of variants after them: each follows its steps, which
    // must be known by then.
    let (videos, steps): (Vec<_>, Vec<_>) = app
        .jobs
        .journal()
        .claim_orphans()
        .into_iter()
        .partition(|j| j.kind() == JobKind::Video);
    let (sets, videos): (Vec<_>, Vec<_>) = videos
        .into_iter()
        .partition(|j| j.video_plan().is_some_and(|p| p.set.is_some()));
    for job in steps.into_iter().chain(videos).chain(sets) {
        tracing::info!(job = %job.id, kind = ?job.kind(), "resuming a job whose server process is gone");
        // A variant's steps work in the variant's project, never in the current one.
        let app2 = match &job.work {
            Work::Export(e) if e.project.is_some() => app.for_project(e.project.clone()),
            Work::Video(v) if v.plan.project.is_some() => app.for_project(v.plan.project.clone()),
            _ => app.clone(),
        };
        // It speaks as the process that made it did (profile, version, platform).
        let app2 = match &job.attribution {
            Some(a) => app2.speaking_for(a),
            None => app2,
        };
        match &job.work {
            Work::Export(_) => {
                app.jobs.spawn(job, move |ctx| export::resume(app2, ctx));
            }
            Work::Generate(_) => {
                app.jobs
                    .spawn(job, move |ctx| generation::resume(app2, ctx));
            }
            Work::Video(_) => {
                app.jobs.spawn(job, move |ctx| make_video(app2, ctx));
            }
            Work::Upload(_) => {
                let job = interrupted_upload(job);
                app.jobs.journal().save(&job);
            }
        }
    }
}

/// An upload cannot be resumed (its open files are gone): it ends as interrupted.
fn interrupted_upload(mut job: Job) -> Job {
    let e = ToolError::new(
        Code::Interrupted,
        "the upload was interrupted by a restart of the server",
    )
    .retryable(None)
    .next("call upload_media again with the same files");
    job.finished_at = Some(chrono::Utc::now());
    job.message = e.message.clone();
    job.work.end(Ended::Failed(e));
    job
}

/// A `make_video` call, its arguments checked and its spending agreed.
pub struct VideoRequest {
    pub instruction: String,
    pub request_id: Option<String>,
    /// The files and URLs to upload first, checked (none: the project's media as they are).
    pub inputs: Option<crate::files::uploads::CheckedInputs>,
    /// Versions to make (none: one video), each a project of its own.
    pub variants: Vec<String>,
    pub export: bool,
    pub captions: bool,
    pub cost_kind: crate::account::estimate::CostKind,
    /// One bounded fix round when the file differs from what was asked.
    pub fix: bool,
}

/// Start the video, or the set of versions: the job that follows its steps, with the plan
/// journaled, and for one video its upload (a set uploads its media once, itself). A job the
/// same `request_id` already started is returned as it is.
pub fn start_video(app: &Arc<App>, req: VideoRequest) -> crate::jobs::Spawned {
    let media = req.inputs.as_ref().map(|c| c.media()).unwrap_or_default();
    let (upload, set, media) = if req.variants.is_empty() {
        let upload = req.inputs.map(|c| {
            let a = app.clone();
            let inputs = upload::inputs(&c.files, &c.urls);
            app.jobs
                .spawn(crate::jobs::Job::upload(inputs), move |jctx| {
                    upload::run(a, jctx, c.files, c.urls, c.rejected)
                })
        });
        (upload.map(|u| u.id), None, media)
    } else {
        let set = variants::set_of(app, &req.instruction, &req.variants, media);
        (None, Some(set), Default::default())
    };
    let job = Job::video(crate::jobs::results::VideoPlan {
        language: crate::project::language::of_instruction(
            &req.instruction,
            &app.settings.language,
        ),
        instruction: req.instruction,
        export: req.export,
        cost_kind: req.cost_kind,
        upload,
        generate: None,
        export_job: None,
        project: None,
        filename: None,
        set,
        media,
        no_captions: !req.captions,
        output_dir: Some(app.settings.output_dir.clone()),
        allowed: Some(crate::app::allowed_folders(&app.settings)),
        budgets: Some(app.settings.budgets.clone()),
        fix: req.fix,
        fix_round: None,
        asked: None,
    })
    .with_request_id(req.request_id)
    .in_project(app.project.peek_now());
    let a = app.clone();
    app.jobs.spawn_once(job, move |jctx| make_video(a, jctx))
}

/// A `make_video` job, started or resumed: one video, or a set of versions (whose versions are
/// each one video). Chosen here so that `video` and `variants` do not call each other.
pub async fn make_video(
    app: Arc<App>,
    ctx: crate::jobs::JobCtx,
) -> Result<crate::jobs::results::VideoResult, ToolError> {
    let plan = video::plan_of(&ctx)?;
    if plan.set.is_some() {
        variants::run(app, ctx, plan).await
    } else {
        video::run(app, ctx).await
    }
}

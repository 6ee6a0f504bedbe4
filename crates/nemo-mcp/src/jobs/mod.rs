//! What each kind of job does: a generation (one paid message, its stream read to the end),
//! an export (a render polled and downloaded), an upload, and `make_video` (the three in
//! turn). The jobs themselves are held and journaled by [`crate::store`].

pub mod export;
pub mod generation;
pub mod upload;
pub mod variants;
pub mod video;

use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::store::{Ended, Job, JobKind, Work};
use std::sync::Arc;

/// Pick up the journal: finished jobs are listed again; running ones are resumed (a render is
/// polled and downloaded; a generation is recovered from state, never re-sent).
pub fn resume_all(app: &Arc<App>) {
    // `make_video` jobs last, and sets of variants after them: each follows its steps, which
    // must be known by then.
    let (videos, steps): (Vec<_>, Vec<_>) = app
        .jobs
        .journal()
        .load_all(&app.settings.output_dir)
        .into_iter()
        .partition(|j| j.kind() == JobKind::Video);
    let (sets, videos): (Vec<_>, Vec<_>) = videos
        .into_iter()
        .partition(|j| j.video_plan().is_some_and(|p| p.set.is_some()));
    for job in steps.into_iter().chain(videos).chain(sets) {
        if job.status().is_finished() {
            app.jobs.restore_finished(job);
            continue;
        }
        tracing::info!(job = %job.id, kind = ?job.kind(), "resuming a job left running by a previous run");
        // A variant's steps work in the variant's project, never in the current one.
        let app2 = match &job.work {
            Work::Export(e) if e.project.is_some() => app.for_project(e.project.clone()),
            Work::Video(v) if v.plan.project.is_some() => app.for_project(v.plan.project.clone()),
            _ => app.clone(),
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
                app.jobs.spawn(job, move |ctx| video::run(app2, ctx));
            }
            Work::Upload(_) => {
                let job = interrupted_upload(job);
                app.jobs.journal().save(&job);
                app.jobs.restore_finished(job);
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

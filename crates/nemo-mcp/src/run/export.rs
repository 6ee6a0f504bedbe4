//! An export: render the draft, poll it, download the MP4 into the output folder.

use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::files::outputs;
use crate::jobs::results::ExportResult;
use crate::jobs::{Job, JobCtx, Spawned};
use nemo_client::{Error, Project, RenderId, RenderStatus, RenderWait};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// Check the output folder can take a file before spending a render on it.
pub fn check_output_dir(dir: &std::path::Path) -> Result<(), ToolError> {
    let fail = |e: std::io::Error| {
        ToolError::new(
            Code::OutputDirUnwritable,
            format!("cannot write to the output folder {}: {e}", dir.display()),
        )
        .next("set NEMO_OUTPUT_DIR to a writable folder")
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(
        ".nemo-write-test-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&probe, b"").map_err(fail)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// [`check_output_dir`] off the async workers (a slow or network folder may block).
pub async fn check_output_dir_async(dir: &std::path::Path) -> Result<(), ToolError> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || check_output_dir(&dir))
        .await
        .unwrap_or_else(|e| Err(ToolError::new(Code::Internal, e.to_string())))
}

/// Start an export job (or find the one this request_id started); `captions`: write the
/// timeline's text beside the MP4 as `.srt` and `.vtt`; `output_dir`: where it saves, recorded
/// with the job so that whoever finishes it saves there.
pub fn start(
    app: &Arc<App>,
    stem: Option<String>,
    request_id: Option<String>,
    captions: bool,
    output_dir: PathBuf,
) -> Spawned {
    let mut job = Job::export()
        .with_request_id(request_id)
        .in_project(app.project.peek_now());
    if let crate::jobs::Work::Export(e) = &mut job.work {
        e.no_captions = !captions;
        e.output_dir = Some(output_dir);
    }
    let app2 = app.clone();
    app.jobs.spawn_once(job, move |ctx| run(app2, ctx, stem))
}

pub async fn run(
    app: Arc<App>,
    ctx: JobCtx,
    stem: Option<String>,
) -> Result<ExportResult, ToolError> {
    let done = render_and_save(app, ctx.clone(), stem).await;
    ended(&ctx, done).await
}

/// An export that ends without its file sweeps the `.part` its journal names (the next export
/// reserves a name of its own; a finished render is downloaded again, not rendered again).
async fn ended(
    ctx: &JobCtx,
    done: Result<ExportResult, ToolError>,
) -> Result<ExportResult, ToolError> {
    if done.is_err() {
        if let Some(p) = ctx
            .snapshot()
            .export_data()
            .and_then(|e| e.output_path.clone())
        {
            let _ = tokio::fs::remove_file(nemo_client::part_path(&p)).await;
        }
    }
    done
}

async fn render_and_save(
    app: Arc<App>,
    ctx: JobCtx,
    stem: Option<String>,
) -> Result<ExportResult, ToolError> {
    check_output_dir_async(&folder(&app, &ctx)).await?;
    if let Some(project) = app.project.pinned().await {
        ctx.journal_export(move |e| e.project = Some(project));
    }
    ctx.progress(Some(1.0), "reading the timeline");
    let (state, _notice) = app.in_project(|p| async move { p.state().await }).await?;
    if !state.timeline.is_exportable() {
        return Err(nothing_to_export());
    }
    let stem = stem
        .or_else(|| state.timeline.title.clone())
        .unwrap_or_else(default_stem);
    let draft_sha256 = draft_sha256(&state.draft);
    if let Some(id) = finished_unsaved_render(&app, &draft_sha256) {
        // The same timeline was rendered and only its download failed: download it again,
        // instead of rendering again.
        let (rid, s, sha) = (id.clone(), stem.clone(), draft_sha256.clone());
        ctx.journal_export(move |e| {
            e.render_id = Some(rid);
            e.output_stem = Some(s);
            e.draft_sha256 = Some(sha);
        });
        ctx.progress(
            Some(5.0),
            "the same timeline was rendered already: downloading it again",
        );
        return follow(&app, &ctx, id, stem, Some(state.timeline)).await;
    }
    let project = app.handle(state.session_id).await;
    submit(&app, &project, &ctx, &state, stem, draft_sha256).await
}

/// The folder this export saves into: the one recorded with it (see `Export::folder`).
fn folder(app: &App, ctx: &JobCtx) -> PathBuf {
    ctx.snapshot()
        .export_data()
        .map(|e| e.folder(&app.settings.output_dir))
        .unwrap_or_else(|| app.settings.output_dir.clone())
}

fn draft_sha256(draft: &Value) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(draft).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A render of this very draft that finished on NemoVideo but whose export failed after
/// (the download, a full disk): the newest such.
fn finished_unsaved_render(app: &App, draft_sha256: &str) -> Option<RenderId> {
    app.jobs.list().into_iter().find_map(|j| {
        let e = j.export_data()?;
        let failed = j.status() == crate::jobs::JobStatus::Failed;
        (failed && e.rendered && e.draft_sha256.as_deref() == Some(draft_sha256))
            .then(|| e.render_id.clone())
            .flatten()
    })
}

/// A download that failed, told by what the user can do. A full disk or an unwritable folder
/// names the folder; the render stays on NemoVideo for the next export of the same timeline.
fn download_failure(app: &App, e: &Error, dir: &std::path::Path, id: &RenderId) -> ToolError {
    let again = format!(
        "then call export_video again: the finished render {id} is downloaded again, not rendered again"
    );
    match e {
        Error::Io { source, .. } if is_disk_full(source) => ToolError::new(
            Code::DiskFull,
            format!(
                "the disk holding the output folder {} is full, so the video could not be saved (no partial file was left)",
                dir.display()
            ),
        )
        .next(format!("free some disk space, or set NEMO_OUTPUT_DIR to a folder on another disk, {again}")),
        Error::Io { source, .. } => ToolError::new(
            Code::OutputDirUnwritable,
            format!(
                "the video could not be written to the output folder {} ({source}); no partial file was left",
                dir.display()
            ),
        )
        .next(format!("make the folder writable or set NEMO_OUTPUT_DIR, {again}")),
        e => {
            let mut t = app.err(e);
            t.next_step = Some(format!("wait a little, {again}"));
            t
        }
    }
}

fn is_disk_full(e: &std::io::Error) -> bool {
    // ENOSPC, and EDQUOT (a quota is as full as a disk).
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(28) | Some(122))
}

pub fn nothing_to_export() -> ToolError {
    ToolError::new(
        Code::NothingToExport,
        "the timeline is empty: there is nothing to export yet",
    )
    .next("upload media with upload_media and describe the video with generate first")
}

fn default_stem() -> String {
    format!("nemovideo-{}", chrono::Local::now().format("%Y%m%d-%H%M%S"))
}

async fn submit(
    app: &App,
    project: &Project<'_>,
    ctx: &JobCtx,
    state: &nemo_client::SessionState,
    stem: String,
    draft_sha256: String,
) -> Result<ExportResult, ToolError> {
    ctx.progress(Some(2.0), "submitting the render");
    let id = project
        .submit_render_journaled(&state.draft, |id| {
            // Journaled before it is sent: after a crash, this render is found again.
            let (id, stem, sha) = (id.clone(), stem.clone(), draft_sha256.clone());
            ctx.journal_export(move |e| {
                e.render_id = Some(id);
                e.output_stem = Some(stem);
                e.draft_sha256 = Some(sha);
            });
        })
        .await
        .map_err(|e| app.err(&e))?;
    follow(app, ctx, id, stem, Some(state.timeline.clone())).await
}

/// Poll the render and download it. `rendered`: the timeline that was rendered, when this
/// process read it (not after a restart); the saved file is checked against it.
async fn follow(
    app: &App,
    ctx: &JobCtx,
    id: RenderId,
    stem: String,
    rendered: Option<nemo_client::Timeline>,
) -> Result<ExportResult, ToolError> {
    let wait = RenderWait::new(app.settings.render_poll, app.settings.render_timeout);
    let cancel = ctx.cancelled();
    let status = tokio::select! {
        s = app.client.wait_render(&id, &wait, |st: &RenderStatus| {
            let p = st.progress.unwrap_or(0) as f64;
            ctx.progress(Some(5.0 + p * 0.85), format!("rendering {}%", p as u32));
        }) => s.map_err(|e| app.err(&e))?,
        _ = cancel.cancelled() => {
            // Cancel on the backend too, so no render is left orphaned.
            let _ = app.client.cancel_render(&id).await;
            return Err(ToolError::new(Code::Cancelled, "the export was cancelled"));
        }
    };
    ctx.journal_export(|e| e.rendered = true);
    let dir = folder(app, ctx);
    check_output_dir_async(&dir).await?;
    // After a restart the journaled file is reused, so its `.part` is resumed, not duplicated.
    let journaled = ctx
        .snapshot()
        .export_data()
        .and_then(|e| e.output_path.clone())
        .filter(|p| outputs::is_output_file(&dir, p));
    // A download that finished before the restart (the file takes its name only when whole,
    // renamed from its `.part`) is the export's file: it is checked, not fetched again.
    let finished = match &journaled {
        Some(p) => tokio::fs::metadata(p).await.ok().filter(|m| m.is_file()),
        None => None,
    };
    if let (Some(p), Some(meta)) = (&journaled, &finished) {
        // A crash between the download taking its name and its `.part` going leaves both.
        let _ = tokio::fs::remove_file(nemo_client::part_path(p)).await;
        return saved(app, ctx, &id, &status, p.clone(), meta.len(), rendered).await;
    }
    let dest = match journaled {
        Some(p) => p,
        None => {
            let (d, name, c) = (dir.clone(), stem.clone(), ctx.clone());
            let reserved = tokio::task::spawn_blocking(move || {
                // Each name journaled before its `.part` is made.
                outputs::reserve_output_named(&d, &name, |p| {
                    let named = p.to_path_buf();
                    if c.journal_export(move |e| e.output_path = Some(named)) {
                        Ok(())
                    } else {
                        Err(std::io::Error::other(
                            "the state database did not take the file's name",
                        ))
                    }
                })
            })
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
            let p = reserved.map_err(|e| {
                ToolError::new(
                    Code::OutputDirUnwritable,
                    format!("cannot create a file in {}: {e}", dir.display()),
                )
                .next("set NEMO_OUTPUT_DIR to a writable folder, then call get_job")
            })?;
            p
        }
    };
    ctx.progress(Some(90.0), format!("downloading to {}", dest.display()));
    let size = app
        .client
        .download_render(&id, &status, &dest, |n, total| {
            if let Some(t) = total.filter(|t| *t > 0) {
                ctx.progress(
                    Some(90.0 + 10.0 * n as f64 / t as f64),
                    format!("downloading {}%", n * 100 / t),
                );
            }
        })
        .await;
    let size = match size {
        Ok(size) => size,
        Err(e) => {
            // Nothing half-written stays in the output folder: the next export of this
            // timeline downloads the finished render from the start.
            let _ = tokio::fs::remove_file(nemo_client::part_path(&dest)).await;
            return Err(download_failure(app, &e, &dir, &id));
        }
    };
    saved(app, ctx, &id, &status, dest, size, rendered).await
}

/// The export's file is in place: into the library, checked, captions written.
async fn saved(
    app: &App,
    ctx: &JobCtx,
    id: &RenderId,
    status: &nemo_client::RenderStatus,
    dest: PathBuf,
    size: u64,
    rendered: Option<nemo_client::Timeline>,
) -> Result<ExportResult, ToolError> {
    let path: PathBuf = dest.canonicalize().unwrap_or(dest);
    // The export's own project when it recorded one (a variant's, or one another host was in
    // when it started the export), else this process's.
    let project = match ctx.snapshot().export_data().and_then(|e| e.project.clone()) {
        Some(p) => Some(p),
        None => app.project.peek().await,
    };
    let project_link = match &project {
        Some(s) => s.handle(&app.client).claim_link().await.ok(),
        None => None,
    };
    if let Some(s) = &project {
        app.library.exported(s.session_id, &path, size);
        if let Some(link) = &project_link {
            app.library.linked(s.session_id, link);
        }
    }
    let journaled = ctx.snapshot().export_data().cloned().unwrap_or_default();
    let mut checked = if journaled.checking {
        // A process stopped while checking this very file: keep it, read it no more.
        tracing::warn!(path = %path.display(), "not checking a saved export again: a process stopped while checking it");
        super::file_check::Checked {
            timeline_s: rendered
                .as_ref()
                .and_then(|t| t.duration_ms)
                .map(|ms| ms as f64 / 1000.0),
            check: crate::jobs::results::FileCheck {
                notes: vec![super::file_check::NOT_CHECKED.into()],
                ..Default::default()
            },
        }
    } else {
        // Durable before the file is read: a crash inside the check is known after it.
        ctx.journal_export(|e| e.checking = true);
        super::file_check::check_file(app, &path, !journaled.no_captions, rendered).await
    };
    // Held against what no one asks for (black pictures); `make_video` holds it again
    // against its own instruction.
    super::held::hold(None, None, &checked.check).record(&mut checked.check);
    Ok(ExportResult {
        path: path.display().to_string(),
        url: status.url.clone(),
        size_bytes: size,
        duration_s: status.duration_s,
        render_id: id.to_string(),
        project_link,
        credits_spent: 0,
        timeline_s: checked.timeline_s,
        checked: checked.check,
    })
}

/// After a restart: find the journaled render again and finish it (downloaded once).
pub async fn resume(app: Arc<App>, ctx: JobCtx) -> Result<ExportResult, ToolError> {
    let done = resume_inner(app, ctx.clone()).await;
    ended(&ctx, done).await
}

async fn resume_inner(app: Arc<App>, ctx: JobCtx) -> Result<ExportResult, ToolError> {
    let journaled = ctx.snapshot().export_data().cloned().unwrap_or_default();
    let stem = journaled.output_stem.unwrap_or_else(default_stem);
    let Some(id) = journaled.render_id else {
        // The crash came before a render was submitted: start it now.
        return render_and_save(app, ctx, Some(stem)).await;
    };
    match app.client.render_status(&id).await {
        Ok(_) => follow(&app, &ctx, id, stem, None).await,
        // The render id was journaled but the submit never reached the backend.
        Err(Error::Rejected { status: 404, .. }) => render_and_save(app, ctx, Some(stem)).await,
        Err(e) if e.retryable() => follow(&app, &ctx, id, stem, None).await,
        Err(e) => Err(app.err(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::is_disk_full;

    #[test]
    fn a_full_disk_or_quota_is_told_as_such() {
        assert!(is_disk_full(&std::io::Error::from_raw_os_error(28)));
        assert!(is_disk_full(&std::io::Error::from_raw_os_error(122)));
        assert!(!is_disk_full(&std::io::Error::from_raw_os_error(13)));
        assert!(!is_disk_full(&std::io::Error::other("broken pipe")));
    }
}

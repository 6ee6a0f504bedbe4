//! `make_video` with `variants`: several versions of one video from one request.
//!
//! The set is one parent job (a `make_video` job whose plan holds a [`VariantSet`]); each
//! variant is an ordinary `make_video` job of its own in a project of its own ([`App::for_project`]),
//! so it is listed, journaled and resumed like any other and sends its instruction at most once.
//! The parent was agreed to (estimate, budgets, confirmation) once for the whole set before it
//! started; it then:
//! 1. sends the media once, into the first variant's project;
//! 2. gives every later project the media by reference: an upload of the URLs NemoVideo gave
//!    that first upload (the contract's URL upload), or the files again when it gave none;
//! 3. runs the variants `concurrency` at a time and follows each to its end; one that runs out
//!    of credits, is refused or fails to render does not stop the others;
//! 4. answers with each variant's outcome, what was not sent and why, and the credits.
//!
//! Every step is journaled in the plan before the next one starts (the project, the upload
//! job, the variant's job), and a variant's job is keyed by the parent's id and its index: after
//! a restart the parent finds what each variant had started instead of starting it again.

use super::variant_outcome::{read_outcome, summarize};
use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::jobs::results::{UploadResult, VariantOutcome, VariantSet, VideoPlan, VideoResult};
use crate::jobs::{Job, JobCtx, JobKind, JobStatus, Spawned};
use std::sync::Arc;
use tokio::sync::Mutex;

/// A variant's instruction: the base instruction, then what differs.
pub fn instruction_for(base: &str, variant: &str) -> String {
    let base = base.trim().trim_end_matches(['.', '。', ' ']);
    // A platform's name ("tiktok") is sent as its shape, size, length and safe zone in words.
    let words = match super::platforms::find(variant) {
        Some(p) => super::platforms::expand(p),
        None => variant.trim().to_string(),
    };
    format!("{base}; this version: {words}")
}

/// What the user asked of a variant, where it is not its instruction (`VideoPlan::asked`): for
/// a platform's version, the set's instruction (the platform's words are ours); a version in
/// the user's own words asks them too (`None`: its instruction).
pub fn asked_for(base: &str, label: &str) -> Option<String> {
    super::platforms::find(label).map(|_| base.to_string())
}

/// A variant's label: a platform's own name (its file is called after it), else as written.
pub fn label_for(variant: &str) -> String {
    super::platforms::find(variant)
        .map_or_else(|| variant.trim().to_string(), |p| p.name.to_string())
}

/// The set's plan: each variant's slot and instruction, the media to upload once.
pub(super) fn set_of(
    app: &App,
    instruction: &str,
    variants: &[String],
    media: crate::jobs::results::MediaInputs,
) -> crate::jobs::results::VariantSet {
    crate::jobs::results::VariantSet {
        paths: media.paths,
        urls: media.urls,
        references: None,
        concurrency: app.settings.variant_concurrency,
        slots: variants
            .iter()
            .map(|label| crate::jobs::results::VariantSlot {
                label: label_for(label),
                instruction: instruction_for(instruction, label),
                ..Default::default()
            })
            .collect(),
    }
}

/// The plan shared by the variants' tasks; every change is journaled at once.
struct Shared {
    ctx: JobCtx,
    plan: Mutex<VideoPlan>,
}

impl Shared {
    async fn set(&self) -> VariantSet {
        self.plan.lock().await.set.clone().unwrap_or_default()
    }

    async fn update(&self, f: impl FnOnce(&mut VariantSet)) {
        let mut plan = self.plan.lock().await;
        if let Some(set) = plan.set.as_mut() {
            f(set);
        }
        self.ctx.journal_plan(plan.clone());
    }
}

/// Run (or resume) the set: each version is a `make_video` job of one video.
pub async fn run(app: Arc<App>, ctx: JobCtx, plan: VideoPlan) -> Result<VideoResult, ToolError> {
    let shared = Arc::new(Shared {
        ctx: ctx.clone(),
        plan: Mutex::new(plan),
    });
    let set = shared.set().await;
    let n = set.slots.len();
    let has_media = !set.paths.is_empty() || !set.urls.is_empty();
    let mut uploaded = 0;
    if has_media {
        ctx.progress(Some(1.0), "uploading the media once, for every version");
        uploaded = first_upload(&app, &shared).await?;
    }
    let permits = Arc::new(tokio::sync::Semaphore::new(set.concurrency.max(1)));
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // All in this task (no detached tasks): cancelling the parent drops what has not started.
    let outcomes = futures_util::future::join_all((0..n).map(|k| {
        let (app, shared, permits, done) =
            (app.clone(), shared.clone(), permits.clone(), done.clone());
        async move {
            let _permit = permits.acquire().await;
            let outcome = run_slot(&app, &shared, k, has_media).await;
            let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            shared.ctx.progress(
                Some(5.0 + 95.0 * finished as f64 / n as f64),
                format!("{finished} of {n} versions finished"),
            );
            outcome
        }
    }))
    .await;
    let set = shared.set().await;
    summarize(
        outcomes,
        uploaded,
        set.references.as_ref().is_some_and(|r| !r.is_empty()),
    )
}

/// The media into the first variant's project; the URLs NemoVideo gave them are kept as the
/// later projects' references. Returns how many items were uploaded.
async fn first_upload(app: &Arc<App>, shared: &Shared) -> Result<usize, ToolError> {
    let set = shared.set().await;
    let first = project_of(app, shared, 0).await?;
    let up = upload_into(app, &first, shared, 0, None).await?;
    let result = match (up.status(), up.upload_result()) {
        (JobStatus::Succeeded, Some(r)) => r.clone(),
        _ => {
            let e = up.error().cloned().unwrap_or_else(|| {
                ToolError::new(Code::Failed, format!("the upload {} did not finish", up.id))
            });
            return Err(ToolError {
                message: format!(
                    "the media could not be uploaded, so no version was sent: {}",
                    e.message
                ),
                ..e
            });
        }
    };
    if set.references.is_none() {
        let mut refs = references(&result);
        if result.uploaded.is_empty() {
            // All already in the project (an upload cut by a restart that still landed): its
            // media as the project's state lists them.
            refs = match first.current_state().await {
                Ok(state) => {
                    let urls: Vec<String> =
                        state.assets.iter().filter_map(|a| a.url.clone()).collect();
                    if urls.len() == state.assets.len() {
                        urls
                    } else {
                        Vec::new()
                    }
                }
                Err(_) => Vec::new(),
            };
        }
        shared.update(|s| s.references = Some(refs)).await;
    }
    Ok(result.uploaded.len().max(result.already_present.len()))
}

/// The variant's upload (the media, or with `refs` the references), started or found, followed
/// to its end. A restart cuts an upload (uploads do not resume) before any instruction of this
/// variant is sent (it waits for this), so a cut one is made once more: nothing paid is at risk.
async fn upload_into(
    app: &Arc<App>,
    variant: &Arc<App>,
    shared: &Shared,
    k: usize,
    refs: Option<Vec<String>>,
) -> Result<Job, ToolError> {
    let set = shared.set().await;
    let id = match set.slots[k].upload.clone() {
        Some(id) => id,
        None => {
            let id = start_upload(variant, shared, k, &set, refs.clone(), "").await?;
            shared
                .update(|s| s.slots[k].upload = Some(id.clone()))
                .await;
            id
        }
    };
    let up = follow(app, &id).await.ok_or_else(|| unknown(&id))?;
    if !up.error().is_some_and(|e| e.code == Code::Interrupted) {
        return Ok(up);
    }
    let id = start_upload(variant, shared, k, &set, refs, "again").await?;
    shared
        .update(|s| s.slots[k].upload = Some(id.clone()))
        .await;
    follow(app, &id).await.ok_or_else(|| unknown(&id))
}

/// The URLs NemoVideo gave every uploaded item, or none when any lacks one (the contract's
/// upload response may leave `cdn_url` out): then the later projects get the files again.
fn references(r: &UploadResult) -> Vec<String> {
    let urls: Vec<String> = r.uploaded.iter().filter_map(|i| i.url.clone()).collect();
    if urls.len() == r.uploaded.len() {
        urls
    } else {
        Vec::new()
    }
}

/// The variant's project, created (and journaled) on first use.
async fn project_of(app: &Arc<App>, shared: &Shared, k: usize) -> Result<Arc<App>, ToolError> {
    let (slot, language) = {
        let plan = shared.plan.lock().await;
        let set = plan.set.as_ref().ok_or_else(no_set)?;
        (set.slots[k].clone(), plan.language.clone())
    };
    let variant = app.for_project(slot.project.clone());
    if slot.project.is_none() {
        let language = crate::project::language::of_instruction(&slot.instruction, &language);
        let session = variant
            .session(Some(&language))
            .await
            .map_err(|e| app.err(&e))?;
        shared.update(|s| s.slots[k].project = Some(session)).await;
    }
    Ok(variant)
}

fn no_set() -> ToolError {
    ToolError::new(Code::Internal, "a set of variants without its plan")
}

/// An upload job into the variant's project: the given media (`refs: None`) or the references.
async fn start_upload(
    variant: &Arc<App>,
    shared: &Shared,
    k: usize,
    set: &VariantSet,
    refs: Option<Vec<String>>,
    attempt: &str,
) -> Result<String, ToolError> {
    let key = format!("{}_u{k}{attempt}", shared.ctx.snapshot().id);
    if let Some(j) = variant.jobs.by_request(JobKind::Upload, &key) {
        return Ok(j.id);
    }
    let checked = match refs {
        Some(urls) => crate::files::uploads::CheckedInputs {
            files: Vec::new(),
            urls,
            rejected: Vec::new(),
        },
        None => {
            let plan = shared.ctx.snapshot().video_plan().cloned();
            let recorded = plan.and_then(|p| p.allowed);
            crate::files::uploads::check_inputs_blocking(
                variant.input_rules_of(recorded.as_ref()),
                set.paths.clone(),
                set.urls.clone(),
            )
            .await?
        }
    };
    Ok(super::upload::spawn_keyed(variant, key, checked))
}

/// One variant, from its project to its end.
async fn run_slot(app: &Arc<App>, shared: &Shared, k: usize, has_media: bool) -> VariantOutcome {
    let set = shared.set().await;
    let slot = set.slots[k].clone();
    let mut outcome = VariantOutcome {
        label: slot.label.clone(),
        status: "failed".into(),
        path: None,
        size_bytes: None,
        credits_spent: 0,
        project_id: slot.project.as_ref().map(|p| p.session_id.to_string()),
        job_id: slot.job.clone(),
        frames: None,
        checked: Vec::new(),
        differs: Vec::new(),
        error: None,
        may_have_been_sent: false,
    };
    match start_slot(app, shared, k, has_media).await {
        Ok(job_id) => {
            outcome.job_id = Some(job_id.clone());
            match follow(app, &job_id).await {
                Some(job) => read_outcome(app, &job, &mut outcome),
                None => outcome.error = Some(unknown(&job_id).message),
            }
        }
        Err(e) => outcome.error = Some(format!("{}: {}", e.code.as_str(), e.message)),
    }
    if let Some(p) = shared.set().await.slots[k].project.as_ref() {
        outcome.project_id = Some(p.session_id.to_string());
    }
    outcome
}

/// The variant's project, upload and job, each started once; the job's id.
async fn start_slot(
    app: &Arc<App>,
    shared: &Shared,
    k: usize,
    has_media: bool,
) -> Result<String, ToolError> {
    let variant = project_of(app, shared, k).await?;
    let set = shared.set().await;
    if let Some(job) = set.slots[k].job.clone() {
        return Ok(job);
    }
    if has_media && k > 0 {
        // Uploaded before the variant's job starts, so a restart that cuts it can make it again.
        let refs = set.references.clone().filter(|r| !r.is_empty());
        upload_into(app, &variant, shared, k, refs).await?;
    }
    let (set, parent) = {
        let plan = shared.plan.lock().await;
        (plan.set.clone().ok_or_else(no_set)?, plan.clone())
    };
    let slot = &set.slots[k];
    let key = format!("{}_v{k}", shared.ctx.snapshot().id);
    let plan = VideoPlan {
        instruction: slot.instruction.clone(),
        language: crate::project::language::of_instruction(&slot.instruction, &parent.language),
        export: parent.export,
        cost_kind: crate::account::estimate::CostKind::of(&slot.instruction),
        upload: slot.upload.clone(),
        generate: None,
        export_job: None,
        project: slot.project.clone(),
        filename: Some(slot.label.clone()),
        set: None,
        media: Default::default(),
        no_captions: parent.no_captions,
        output_dir: parent.output_dir.clone(),
        allowed: parent.allowed.clone(),
        budgets: parent.budgets.clone(),
        fix: parent.fix,
        fix_round: None,
        asked: asked_for(&parent.instruction, &slot.label),
    };
    let v = variant.clone();
    let job = Job::video(plan).with_request_id(Some(key));
    let job = match variant
        .jobs
        .spawn_once(job, move |jctx| super::video::run(v, jctx))
    {
        Spawned::Started(j) => {
            // The version's share of the set's quote is its own from now: counted while it
            // runs, ended by its charge, and its fix round checked against the budgets as a
            // single video's is (not beside the whole set's reservation).
            let share = app.estimate(&slot.instruction).credits * if parent.fix { 2 } else { 1 };
            app.spend.hand_over(&shared.ctx.snapshot().id, &j.id, share);
            j
        }
        Spawned::Existing(j) => j,
    };
    let id = job.id.clone();
    shared.update(|s| s.slots[k].job = Some(id.clone())).await;
    Ok(id)
}

/// A job followed to its end: its final state (`None`: no longer known, the journal pruned).
async fn follow(app: &App, id: &str) -> Option<Job> {
    let Some(mut rx) = app.jobs.watch(id) else {
        return app.jobs.get(id);
    };
    loop {
        let job = rx.borrow_and_update().clone();
        if job.status().is_finished() || rx.changed().await.is_err() {
            return Some(job);
        }
    }
}

fn unknown(id: &str) -> ToolError {
    ToolError::new(
        Code::Interrupted,
        format!("job {id} is no longer known (the journal was pruned or removed)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_instruction_keeps_the_base_and_adds_the_difference() {
        assert_eq!(
            instruction_for("Combine these into a promo with music.", " square 1:1 "),
            "Combine these into a promo with music; this version: square 1:1"
        );
    }
}

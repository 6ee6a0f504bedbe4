//! `make_video`: the seeds' quick edit (upload, generate, export) as one job.
//!
//! Each step is an ordinary job of its own (listed, journaled, resumed like any other), started
//! by this one, which follows them in turn and combines their results. The steps' ids are
//! journaled in the [`VideoPlan`] as they start, and each step after the upload carries this
//! job's id as its `request_id`: a restart finds the step that was running instead of starting
//! it again, so the paid message is still sent at most once.

use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::jobs::results::{
    ExportResult, GenerateOutput, GenerateResult, UploadResult, VideoPlan, VideoResult,
};
use crate::jobs::{Job, JobCtx, JobKind, JobStatus, Spawned};
use std::sync::Arc;

/// Progress given to each step: (start, end) in percent.
const UPLOAD: (f64, f64) = (0.0, 20.0);
const GENERATE: (f64, f64) = (20.0, 70.0);
const EXPORT: (f64, f64) = (70.0, 100.0);

pub(super) fn plan_of(ctx: &JobCtx) -> Result<VideoPlan, ToolError> {
    ctx.snapshot()
        .video_plan()
        .cloned()
        .ok_or_else(|| ToolError::new(Code::Internal, "make_video job without its plan"))
}

/// Run (or, after a restart, resume) one video: each step not yet done is started or followed.
/// A set of versions is `variants::run`; [`super::make_video`] picks.
pub async fn run(app: Arc<App>, ctx: JobCtx) -> Result<VideoResult, ToolError> {
    let mut plan = plan_of(&ctx)?;
    let mut out = VideoResult::default();
    if let Some(id) = plan.upload.clone() {
        let up = match follow(&app, &ctx, &id, UPLOAD, "uploading").await {
            // A restart cut the upload (uploads do not resume); nothing was sent to NemoVideo
            // yet, so the media go once more (a second cut ends the job).
            Err(e) if e.code == Code::Interrupted && !plan.media.is_empty() => {
                let key = format!("{}_upload_again", ctx.snapshot().id);
                let id = upload_again(&app, &plan, key).await?;
                plan.upload = Some(id.clone());
                ctx.journal_plan(plan.clone());
                follow(&app, &ctx, &id, UPLOAD, "uploading").await?
            }
            other => other?,
        };
        if let Some(r) = result_of::<UploadResult>(&up) {
            take_upload(&mut out, r);
        }
    }
    let generation = match plan.generate.clone() {
        Some(id) => match follow(&app, &ctx, &id, GENERATE, "NemoVideo").await {
            // A restart came before the instruction was sent (nothing was): send it now, once.
            Err(_) if never_sent(&app, &id) => {
                let key = format!("{}_again", ctx.snapshot().id);
                let job = start_generation(&app, &plan, key, Some(&ctx.snapshot().id)).await?;
                plan.generate = Some(job.id.clone());
                ctx.journal_plan(plan.clone());
                follow(&app, &ctx, &job.id, GENERATE, "NemoVideo").await?
            }
            other => other?,
        },
        None => {
            let id = ctx.snapshot().id;
            let job = start_generation(&app, &plan, id.clone(), Some(&id)).await?;
            plan.generate = Some(job.id.clone());
            ctx.journal_plan(plan.clone());
            follow(&app, &ctx, &job.id, GENERATE, "NemoVideo").await?
        }
    };
    // The edit is charged (or not): the credits reserved for this job are in the ledger now.
    app.spend.release(&ctx.snapshot().id);
    let exportable = match result_of::<GenerateOutput>(&generation) {
        Some(GenerateOutput::Edited(g)) => {
            take_generation(&mut out, g);
            g.exportable
        }
        _ => false,
    };
    if !plan.export {
        out.next_step = "call export_video to save the MP4, or generate to change it".into();
        return Ok(out);
    }
    if !exportable {
        out.notice = Some("not exported: the timeline cannot be exported yet".into());
        out.next_step = "say what the video needs with generate, then call export_video".into();
        return Ok(out);
    }
    let export_id = match plan.export_job.clone() {
        Some(id) => id,
        None => {
            let stem = plan.filename.clone();
            let captions = !plan.no_captions;
            let dir = plan
                .output_dir
                .clone()
                .unwrap_or_else(|| app.settings.output_dir.clone());
            let key = Some(ctx.snapshot().id);
            let id = match super::export::start(&app, stem, key, captions, dir) {
                Spawned::Started(j) | Spawned::Existing(j) => j.id,
            };
            plan.export_job = Some(id.clone());
            ctx.journal_plan(plan.clone());
            id
        }
    };
    let export = follow(&app, &ctx, &export_id, EXPORT, "exporting").await?;
    if let Some(e) = result_of::<ExportResult>(&export) {
        out.path = Some(e.path.clone());
        out.size_bytes = Some(e.size_bytes);
        out.checked = e.checked.clone();
        // The request's own length ("a 30-second promo") is checked too.
        let asked = crate::files::mp4::requested_length(&plan.instruction);
        if let (Some(f), Some(_)) = (&e.checked.file, asked) {
            let notes = &mut out.checked.notes;
            notes.retain(|n| !n.starts_with(crate::files::mp4::LENGTH_DIFFERS));
            notes.extend(crate::files::mp4::mismatch(
                asked,
                e.timeline_s,
                f.duration_s,
            ));
        }
    }
    out.export_job = Some(export_id);
    out.next_step = "to change it, call generate, then export_video".into();
    // Held against what was asked; with `fix`, one bounded round when it differs.
    let held = super::held::hold(Some(plan.asked()), plan.filename.as_deref(), &out.checked);
    held.record(&mut out.checked);
    if held.fixable() && plan.fix {
        // The first file is saved and was paid for: a round that fails is told beside it,
        // never in its place.
        if let Err(e) = fix_round(&app, &ctx, &mut plan, &held.differs, &mut out).await {
            // Its edit made (only its export failed): that edit is in the project to save.
            let edited = plan
                .fix_round
                .as_ref()
                .and_then(|r| r.generate.as_deref())
                .and_then(|g| app.jobs.get(g))
                .is_some_and(|g| g.status() == JobStatus::Succeeded);
            round_failed(&mut out, &e, edited);
        }
    } else if held.fixable() {
        out.next_step = "tell the user what differs; to fix it, call generate with the change, then export_video (or make_video with fix: true next time)".into();
    } else if !out.checked.differs.is_empty() {
        out.next_step = "tell the user what differs (no edit changes it)".into();
    }
    Ok(out)
}

/// The one fix round: the instruction written from the differences sent once (keyed, and
/// journaled in the plan before it starts), one more export, the file checked again.
async fn fix_round(
    app: &Arc<App>,
    ctx: &JobCtx,
    plan: &mut VideoPlan,
    found: &[super::held::Difference],
    out: &mut VideoResult,
) -> Result<(), ToolError> {
    let id = ctx.snapshot().id;
    let mut round = plan
        .fix_round
        .clone()
        .unwrap_or_else(|| crate::jobs::results::FixRound {
            differs: found
                .iter()
                .filter(|d| d.kind.fixable())
                .map(|d| d.said.clone())
                .collect(),
            kinds: found
                .iter()
                .filter(|d| d.kind.fixable())
                .map(|d| d.kind)
                .collect(),
            instruction: super::fix::instruction(found),
            ..Default::default()
        });
    ctx.progress(None, format!("fixing: {}", round.differs.join("; ")));
    let generate = match round.generate.clone() {
        Some(g) => g,
        None => {
            let asked = VideoPlan {
                instruction: round.instruction.clone(),
                ..plan.clone()
            };
            // In the quote as a maximum, but the budgets are checked again now: other hosts
            // may have spent since the quote was agreed (its reservation ended with the first
            // edit's charge). A host that took the job over holds the round to the budgets it
            // was made under as well as its own.
            let estimate = app.estimate(&round.instruction).credits;
            let budgets = match &plan.budgets {
                Some(made_under) => made_under.stricter(&app.settings.budgets),
                None => app.settings.budgets.clone(),
            };
            let reservation = app.spend.reserve(&budgets, estimate, &app.mcp_session)?;
            // Held to both budgets by its reservation above: no second check.
            let job = start_generation(app, &asked, format!("{id}_fix"), None).await?;
            reservation.attach(&job.id);
            round.generate = Some(job.id.clone());
            plan.fix_round = Some(round.clone());
            ctx.journal_plan(plan.clone());
            job.id
        }
    };
    let edited = follow(app, ctx, &generate, GENERATE, "fixing").await?;
    if let Some(GenerateOutput::Edited(g)) = result_of::<GenerateOutput>(&edited) {
        // The timeline is the fixed one now; the reply and the changes stay the first edit's
        // (what was made), and the credits are both edits'.
        out.credits_spent = Some(out.credits_spent.unwrap_or(0) + g.credits_spent.unwrap_or(0));
        out.credits_left = g.credits_left;
        out.timeline = g.timeline.clone();
    }
    let export_id = match round.export_job.clone() {
        Some(e) => e,
        None => {
            let dir = plan
                .output_dir
                .clone()
                .unwrap_or_else(|| app.settings.output_dir.clone());
            let key = Some(format!("{id}_fix_export"));
            let e =
                match super::export::start(app, plan.filename.clone(), key, !plan.no_captions, dir)
                {
                    Spawned::Started(j) | Spawned::Existing(j) => j.id,
                };
            round.export_job = Some(e.clone());
            plan.fix_round = Some(round.clone());
            ctx.journal_plan(plan.clone());
            e
        }
    };
    let export = follow(app, ctx, &export_id, EXPORT, "exporting the fix").await?;
    let Some(e) = result_of::<ExportResult>(&export) else {
        return Ok(());
    };
    out.path = Some(e.path.clone());
    out.size_bytes = Some(e.size_bytes);
    out.checked = e.checked.clone();
    out.export_job = Some(export_id);
    let held = super::held::hold(Some(plan.asked()), plan.filename.as_deref(), &e.checked);
    held.record(&mut out.checked);
    let left = held.differs;
    // Fixed: what the round was about and no longer differs (its numbers may have moved).
    out.fixed = round
        .differs
        .iter()
        .zip(&round.kinds)
        .filter(|(_, k)| !left.iter().any(|d| d.kind == **k))
        .map(|(d, _)| d.clone())
        .collect();
    out.next_step = if out.checked.differs.is_empty() {
        "the fixed video is saved; to change it more, call generate, then export_video".into()
    } else {
        "one fix round was made (the most there is): tell the user what still differs; any further change is theirs to ask for with generate".into()
    };
    Ok(())
}

/// A fix round that did not finish: the first file stays the answer, with why the round
/// stopped. A round whose edit was made but not exported points to `export_video` (free); any
/// other to `generate`, never to `make_video` (its first instruction was charged).
fn round_failed(out: &mut VideoResult, e: &ToolError, edited: bool) {
    let what = if e.code.refused_before_sending() {
        "was not sent"
    } else {
        "did not finish"
    };
    let why = format!(
        "The fix round {what} ({}: {}); the file is the first export, and what differs still does.",
        e.code.as_str(),
        e.message
    );
    out.notice = Some(match out.notice.take() {
        Some(n) => format!("{n}\n{why}"),
        None => why,
    });
    out.next_step = if edited {
        "the fix round's edit was made but not saved: call export_video to render and save it (free)".into()
    } else {
        "tell the user what differs; to fix it, call generate with the change, then export_video"
            .into()
    };
}

/// The plan's media uploaded again under `key` (found, not started twice, after a restart);
/// the files are checked again first, against the folders the plan recorded.
async fn upload_again(app: &Arc<App>, plan: &VideoPlan, key: String) -> Result<String, ToolError> {
    if let Some(j) = app.jobs.by_request(JobKind::Upload, &key) {
        return Ok(j.id);
    }
    let checked = crate::files::uploads::check_inputs_blocking(
        app.input_rules_of(plan.allowed.as_ref()),
        plan.media.paths.clone(),
        plan.media.urls.clone(),
    )
    .await?;
    Ok(super::upload::spawn_keyed(app, key, checked))
}

/// A finished step's result, when the step is of the kind expected.
fn result_of<T: crate::jobs::JobResult>(step: &Job) -> Option<&T> {
    T::outcome(&step.work)?.result()
}

/// A generation step that ended interrupted with nothing sent: no project state was journaled
/// before sending (it is, before every send), so the instruction never left.
fn never_sent(app: &App, id: &str) -> bool {
    app.jobs.get(id).is_some_and(|j| {
        j.error().is_some_and(|e| e.code == Code::Interrupted)
            && j.generation_data()
                .is_some_and(|g| g.state_before.is_none() && g.credits_before.is_none())
    })
}

/// The generation step, keyed (by this job's id): after a restart the step already started is
/// found, never started (and paid for) twice.
async fn start_generation(
    app: &Arc<App>,
    plan: &VideoPlan,
    key: String,
    reserved_by: Option<&str>,
) -> Result<Job, ToolError> {
    use super::generation::{start, Request, Started};
    let req = Request {
        instruction: plan.instruction.clone(),
        also_export: false,
    };
    if let Some(started) = app.jobs.by_request(JobKind::Generate, &key) {
        return Ok(started);
    }
    if let Some(owner) = reserved_by {
        held_to_this_process(app, plan, owner)?;
    }
    match start(app, req, &plan.language, Some(key), plan.cost_kind).await? {
        Started::New(j) | Started::SameRequest(j) => Ok(j),
        Started::Busy(running) => Err(ToolError::new(
            Code::Busy,
            format!(
                "a generation is already running in this project, so the instruction was not sent (the media were uploaded); wait for job {} with get_job",
                running.id
            ),
        )
        .next("call make_video again without files, or generate, once it has finished")),
    }
}

/// A job carries the budgets it was made under, agreed to (and reserved) by the process that
/// made it. A process set up otherwise that runs its paid step (it took the job over) holds
/// the step to its own budgets too, whichever are stricter: a host with spending turned off
/// never sends one. `owner` is the job whose reservation the step is.
fn held_to_this_process(app: &App, plan: &VideoPlan, owner: &str) -> Result<(), ToolError> {
    match &plan.budgets {
        Some(made_under) if made_under != &app.settings.budgets => {
            let budgets = made_under.stricter(&app.settings.budgets);
            let estimate = app.estimate(&plan.instruction).credits;
            app.spend
                .hold_for(&budgets, estimate, &app.mcp_session, owner)
        }
        _ => Ok(()),
    }
}

/// What to do when a step of `make_video` is no longer known. Only an upload step can be
/// started again from here: once the instruction may have left, starting over would send (and
/// charge) it a second time.
fn lost_step_next(step: &str) -> &'static str {
    match step.split_once('_').map(|(kind, _)| kind) {
        Some("exp") => "the edit was made: call export_video to render and save it (free)",
        Some("gen") => "the instruction may have been sent and charged: call get_timeline to see whether the edit is there, then export_video, or generate only for what is missing",
        _ => "call make_video again (nothing was sent to NemoVideo yet)",
    }
}

/// Follow a step to its end, reporting its progress within `span`; its error is this job's.
async fn follow(
    app: &App,
    ctx: &JobCtx,
    id: &str,
    span: (f64, f64),
    label: &str,
) -> Result<Job, ToolError> {
    let Some(mut rx) = app.jobs.watch(id) else {
        return Err(ToolError::new(
            Code::Interrupted,
            format!("step {id} is no longer known (the journal was pruned or removed)"),
        )
        .next(lost_step_next(id)));
    };
    loop {
        let step = rx.borrow_and_update().clone();
        let pct = match step.progress_pct {
            Some(p) => span.0 + (span.1 - span.0) * p / 100.0,
            // A generation has no measurable size: half-way through its span once it works.
            None if step.activity > 1 => (span.0 + span.1) / 2.0,
            None => span.0,
        };
        // "NemoVideo: NemoVideo is working" says its subject twice: a step's message that
        // already names it is shown as it is.
        let message = if step.message.starts_with(label) {
            step.message.clone()
        } else {
            format!("{label}: {}", step.message)
        };
        ctx.progress(Some(pct), message);
        match step.status() {
            JobStatus::Running => {}
            JobStatus::Succeeded => return Ok(step),
            JobStatus::Failed => return Err(step_error(&step)),
            JobStatus::Cancelled => {
                return Err(ToolError::new(
                    Code::Cancelled,
                    format!("step {} was cancelled", step.id),
                ))
            }
        }
        if rx.changed().await.is_err() {
            return Err(ToolError::new(
                Code::Internal,
                format!("step {id} vanished"),
            ));
        }
    }
}

/// A failed step's error, saying which step (its code, retry advice and next step kept).
fn step_error(step: &Job) -> ToolError {
    let mut e = step
        .error()
        .cloned()
        .unwrap_or_else(|| ToolError::new(Code::Failed, step.message.clone()));
    let what = match step.kind() {
        JobKind::Upload => "the upload failed, so nothing was sent to NemoVideo",
        JobKind::Generate => "the edit failed",
        JobKind::Export => "the edit was made but the export failed",
        JobKind::Video => "a step failed",
    };
    e.message = format!("{what}: {}", e.message);
    e
}

fn take_upload(out: &mut VideoResult, r: &UploadResult) {
    out.uploaded = r.uploaded.len();
    out.already_present = r.already_present.len();
    out.rejected = r.rejected.clone();
}

fn take_generation(out: &mut VideoResult, g: &GenerateResult) {
    out.reply = g.reply.clone();
    out.changes = g.changes.clone();
    out.timeline = g.timeline.clone();
    out.credits_spent = g.credits_spent;
    out.credits_left = g.credits_left;
    out.notice = g.recovered.clone().or_else(|| g.notice.clone());
}

#[cfg(test)]
mod tests {
    use super::lost_step_next;

    /// Once a step past the upload is lost, the answer never starts the video over: its
    /// instruction may have been charged, and an export is free to ask for again.
    #[test]
    fn a_lost_step_after_the_upload_never_says_make_video_again() {
        let export = lost_step_next("exp_0123456789ab");
        assert!(export.contains("export_video") && export.contains("free"));
        let generation = lost_step_next("gen_0123456789ab");
        assert!(generation.contains("may have been sent and charged"));
        assert!(generation.contains("get_timeline"));
        for step in ["exp_0123456789ab", "gen_0123456789ab"] {
            assert!(!lost_step_next(step).contains("make_video"), "{step}");
        }
        assert!(lost_step_next("upl_0123456789ab").contains("nothing was sent"));
    }
}

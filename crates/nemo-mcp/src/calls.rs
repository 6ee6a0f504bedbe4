//! What the tools check and share before and after the work: arguments, idempotency keys, the
//! cost guard, stopping jobs. Free functions, so each can be read (and tested) on its own.

use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::store::{Job, JobKind, Spawned};
use crate::tools::CreditsView;
use rmcp::service::RequestContext;
use rmcp::RoleServer;

/// The longest instruction sent to the AI, in characters.
pub(crate) const MAX_INSTRUCTION: usize = 4000;

pub(crate) fn check_job_id(id: &str) -> Result<&str, ToolError> {
    let id = id.trim();
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(id)
    } else {
        Err(ToolError::invalid(
            "job_id must look like vid_…, gen_…, exp_… or upl_… (see list_jobs)",
        )
        .next("call list_jobs"))
    }
}

pub(crate) fn check_instruction(raw: &str) -> Result<String, ToolError> {
    let instruction = raw.trim().to_string();
    if instruction.is_empty() {
        return Err(ToolError::invalid(
            "the instruction is empty: say what to create or change",
        ));
    }
    if instruction.chars().count() > MAX_INSTRUCTION {
        return Err(ToolError::invalid(format!(
            "the instruction is too long (at most {MAX_INSTRUCTION} characters)"
        )));
    }
    Ok(instruction)
}

/// An idempotency key: up to 128 visible ASCII characters.
pub(crate) fn check_request_id(raw: Option<&str>) -> Result<Option<String>, ToolError> {
    let Some(r) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if r.len() > 128 || !r.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ToolError::invalid(
            "request_id must be 1 to 128 visible ASCII characters",
        ));
    }
    Ok(Some(r.to_string()))
}

/// The job a start gave, with the note that says so when it was an earlier one (same key).
pub(crate) fn with_note(spawned: Spawned) -> (Job, Option<String>) {
    match spawned {
        Spawned::Started(j) => (j, None),
        Spawned::Existing(j) => {
            let note = Some(same_request_note(&j));
            (j, note)
        }
    }
}

/// The instruction and idempotency key of a paid call, checked; and the job the key already
/// started, if it did (then nothing is sent again).
pub(crate) fn check_paid_call(
    app: &App,
    kind: JobKind,
    instruction: &str,
    request_id: Option<&str>,
) -> Result<(String, Option<String>, Option<Job>), ToolError> {
    let instruction = check_instruction(instruction)?;
    let request_id = check_request_id(request_id)?;
    let earlier = request_id
        .as_deref()
        .and_then(|r| app.jobs.by_request(kind, r));
    Ok((instruction, request_id, earlier))
}

pub(crate) fn same_request_note(job: &Job) -> String {
    format!(
        "This request_id was already used by job {} (started {}), so nothing was sent again; this is that job.",
        job.id,
        job.created_at.format("%H:%M:%S UTC")
    )
}

/// Stop a job (`cancel_job`, `tasks/cancel`): its work stops, and a render is also cancelled
/// on NemoVideo. The job as it was, or `None` if unknown.
pub(crate) async fn stop_job(app: &App, id: &str) -> Option<Job> {
    let job = stop_one(app, id).await?;
    // make_video: its steps stop with it.
    for step in job.video_plan().iter().flat_map(|p| p.steps()) {
        stop_one(app, step).await;
    }
    Some(job)
}

pub(crate) async fn stop_one(app: &App, id: &str) -> Option<Job> {
    let job = app.jobs.cancel(id)?;
    if job.kind() == JobKind::Export && !job.status().is_finished() {
        if let Some(rid) = job.export_data().and_then(|e| e.render_id.as_ref()) {
            let _ = app.client.cancel_render(rid).await;
        }
    }
    Some(job)
}

/// The cost guard, then (where the host can ask) the user's yes: refuses, sending nothing, what
/// the user cannot or did not agree to pay. The estimate, when the instruction may go.
pub(crate) async fn agree_to_spend(
    app: &App,
    ctx: &RequestContext<RoleServer>,
    instruction: &str,
    max_credits: Option<i64>,
) -> Result<crate::credits::Estimate, ToolError> {
    let estimate = app.estimate(instruction);
    let available = app
        .client
        .credits()
        .await
        .map_err(|e| app.err(&e))?
        .available;
    if let Err(e) = crate::credits::guard(&estimate, max_credits, available, || {
        app.more_credits_step()
    }) {
        if e.code == Code::OutOfCredits {
            if let Some(url) = app.client.register_url() {
                crate::confirm::show_link(&ctx.peer, &url);
            }
        }
        return Err(e);
    }
    if crate::confirm::needed(app, &estimate, available) {
        crate::confirm::spend(&ctx.peer, &estimate, available).await?;
    }
    Ok(estimate)
}

pub(crate) fn credits_view(app: &App, c: nemo_client::Credits) -> CreditsView {
    let low = c.available < crate::credits::LOW_CREDITS;
    let next_step = low.then(|| app.more_credits_step());
    CreditsView {
        available: c.available,
        frozen: c.frozen,
        total: c.total,
        low,
        next_step,
    }
}

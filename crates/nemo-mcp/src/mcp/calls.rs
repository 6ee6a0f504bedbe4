//! What the tools check and share: arguments (job ids, instructions, idempotency keys), the
//! note on a repeated request, and the credits answer. Free functions, so each can be read (and
//! tested) on its own. The spend gate is `account::gate` (asking: `mcp::confirm`); stopping a
//! job is `run::stop`.

use crate::app::App;
use crate::errors::ToolError;
use crate::jobs::{Job, JobKind, Spawned};
use crate::mcp::tools::CreditsView;

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
        .and_then(|r| app.jobs.by_request_in(kind, r, app.project.peek_now()));
    Ok((instruction, request_id, earlier))
}

pub(crate) fn same_request_note(job: &Job) -> String {
    format!(
        "This request_id was already used by job {} (started {}), so nothing was sent again; this is that job.",
        job.id,
        job.created_at.format("%H:%M:%S UTC")
    )
}

pub(crate) fn credits_view(app: &App, c: nemo_client::Credits) -> CreditsView {
    let low = c.available < crate::account::estimate::LOW_CREDITS;
    let next_step = low.then(|| app.more_credits_step());
    CreditsView {
        available: c.available,
        frozen: c.frozen,
        total: c.total,
        low,
        next_step,
        spent: None,
        token_expires_at: None,
        notes: Vec::new(),
    }
}

/// What `get_credits` says: the balance, what was spent, the budgets, the free account's
/// clock. The sentences beyond the numbers also go to `v.notes` (the structured content).
pub(crate) async fn credits_text(app: &App, v: &mut CreditsView) -> String {
    let mut text = format!(
        "{} credits available ({} reserved, {} total).",
        v.available, v.frozen, v.total
    );
    if let Some(s) = &v.spent {
        text.push_str(&format!(
            " Spent today: {}; in this project: {}; in this session: {}.",
            s.today, s.this_project, s.this_session
        ));
    }
    let b = &app.settings.budgets;
    let mut notes = Vec::new();
    if b.spending_off {
        notes.push("Spending is turned off (NEMO_ALLOW_SPENDING=0).".to_string());
    }
    if let Some(d) = b.per_day {
        notes.push(format!("Daily budget: {d} (NEMO_MAX_CREDITS_PER_DAY)."));
    }
    if let Some(s) = b.per_session {
        notes.push(format!(
            "Session budget: {s} (NEMO_MAX_CREDITS_PER_SESSION)."
        ));
    }
    for n in &notes {
        text.push(' ');
        text.push_str(n);
    }
    if let Some(n) = &v.next_step {
        text.push_str(&format!(" Running low: {n}"));
    }
    let clock = app.clock_text().await;
    text.push_str(&clock);
    notes.extend(
        clock
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string),
    );
    v.notes = notes;
    text
}

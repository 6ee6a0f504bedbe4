//! What the tools check and share before and after the work: arguments, idempotency keys, the
//! cost guard, stopping jobs. Free functions, so each can be read (and tested) on its own.

use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::jobs::{Job, JobKind, Spawned};
use crate::mcp::tools::CreditsView;
use rmcp::service::RequestContext;
use rmcp::RoleServer;
use std::sync::Arc;

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
/// What a cancelled generation's answer says: the message was sent, so NemoVideo may finish
/// it and charge for it; how to see what happened.
pub(crate) const CANCELLED_TURN_NOTE: &str = "Stopped following it, but the instruction had already been sent: NemoVideo may still carry it out and charge for it. If it does, this job records the change and its cost (call get_job in a minute); get_timeline and get_credits show the project and the balance.";

/// After a cancelled generation whose message was sent: read the project as a broken turn is
/// read (never sending again); a change that shows is recorded in the job, with its cost in the
/// spend ledger.
fn watch_cancelled_turn(
    app: Arc<App>,
    job_id: String,
    session: nemo_client::SessionId,
    before: nemo_client::SessionState,
    credits_before: Option<i64>,
) {
    tokio::spawn(async move {
        let waits = app.settings.recovery_waits();
        let project = app.client.project(session);
        let Ok(nemo_client::Recovered::Changed(after)) =
            project.recover(&before, &waits, |_| {}).await
        else {
            return;
        };
        let total = app.client.credits().await.ok().map(|c| c.total);
        let spent = credits_before.zip(total).map(|(b, a)| (b - a).max(0));
        app.record_charge(&job_id, session, spent);
        let changes =
            nemo_client::TimelineDiff::between(&before.timeline, &after.timeline).describe();
        let cost = spent.map_or("an unknown number of".to_string(), |s| s.to_string());
        app.jobs.amend(&job_id, |j| {
            j.message = format!(
                "cancelled, but NemoVideo carried out the instruction anyway and charged {cost} credits: {changes}"
            );
        });
        tracing::info!(job = %job_id, "a cancelled generation was carried out anyway");
    });
}

pub(crate) fn stop_job<'a>(
    app: &'a Arc<App>,
    id: &'a str,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Job>> + Send + 'a>> {
    Box::pin(async move {
        let job = stop_one(app, id).await?;
        // make_video: its steps stop with it; a set's variants (make_video jobs) with theirs.
        for step in job.video_plan().iter().flat_map(|p| p.steps()) {
            stop_job(app, step).await;
        }
        Some(job)
    })
}

pub(crate) async fn stop_one(app: &Arc<App>, id: &str) -> Option<Job> {
    // Another process's job is stopped by that process (asked through the journal), render
    // and all: stopping its render from here would fail its job instead of cancelling it.
    if !app.jobs.runs(id) {
        return app.jobs.cancel(id);
    }
    let sent = app.jobs.get(id).and_then(|j| {
        let g = j.generation_data()?;
        let running = !j.status().is_finished();
        Some((g.session_id?, g.state_before.clone()?, g.credits_before)).filter(|_| running)
    });
    let job = app.jobs.cancel(id)?;
    if let Some((session, before, credits_before)) = sent {
        watch_cancelled_turn(app.clone(), job.id.clone(), session, before, credits_before);
    }
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
    confirmed: bool,
) -> Result<
    (
        crate::account::estimate::Estimate,
        crate::account::spend::Reservation,
    ),
    ToolError,
> {
    agree_to_estimate(app, ctx, app.estimate(instruction), max_credits, confirmed).await
}

/// [`agree_to_spend`] for an estimate already made (a set of variants: their sum).
pub(crate) async fn agree_to_estimate(
    app: &App,
    ctx: &RequestContext<RoleServer>,
    estimate: crate::account::estimate::Estimate,
    max_credits: Option<i64>,
    confirmed: bool,
) -> Result<
    (
        crate::account::estimate::Estimate,
        crate::account::spend::Reservation,
    ),
    ToolError,
> {
    // The budgets first: they need no network, and refuse before anything is asked or sent.
    // Checked against every process's spending and reservations, and reserved, at once; the
    // caller attaches the reservation to the job it starts (given back if it starts none).
    let reservation =
        app.spend
            .reserve(&app.settings.budgets, estimate.credits, &app.session_key)?;
    let available = app
        .client
        .credits()
        .await
        .map_err(|e| app.err(&e))?
        .available;
    if let Err(e) = crate::account::estimate::guard(&estimate, max_credits, available, || {
        app.more_credits_step()
    }) {
        if e.code == Code::OutOfCredits {
            if let Some(url) = app.client.register_url() {
                crate::mcp::confirm::show_link(&ctx.peer, &url);
            }
        }
        return Err(e);
    }
    let can_ask = ctx
        .peer
        .peer_info()
        .is_some_and(|i| i.capabilities.elicitation.is_some());
    if app.settings.confirm_spending && !can_ask && !confirmed {
        return Err(crate::mcp::confirm::required(&estimate, available));
    }
    if can_ask
        && (app.settings.confirm_spending || crate::mcp::confirm::needed(app, &estimate, available))
    {
        crate::mcp::confirm::spend(&ctx.peer, &estimate, available).await?;
    }
    Ok((estimate, reservation))
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
    }
}

/// What `get_credits` says: the balance, what was spent, the budgets, the free account's clock.
pub(crate) async fn credits_text(app: &App, v: &CreditsView) -> String {
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
    if b.spending_off {
        text.push_str(" Spending is turned off (NEMO_ALLOW_SPENDING=0).");
    }
    if let Some(d) = b.per_day {
        text.push_str(&format!(" Daily budget: {d} (NEMO_MAX_CREDITS_PER_DAY)."));
    }
    if let Some(s) = b.per_session {
        text.push_str(&format!(
            " Session budget: {s} (NEMO_MAX_CREDITS_PER_SESSION)."
        ));
    }
    if let Some(n) = &v.next_step {
        text.push_str(&format!(" Running low: {n}"));
    }
    text.push_str(&app.clock_text().await);
    text
}

//! A generation: one message to the backend agent, its stream read to the end, and the
//! result told as the agent's (GUI-translated) reply plus what changed on the timeline.
//!
//! The message is paid for, so it is sent at most once per instruction. Every way the turn can
//! end is accounted for:
//! - refused before it was taken (a 4xx, no connection): nothing was sent or charged;
//! - a lost project: restored (new project, same media) before sending, or nothing is sent;
//! - the POST failed after the message may have arrived (5xx, reset, stall before headers), the
//!   stream broke, or it closed before the turn was complete: the outcome is read back from the
//!   project state, never by sending again;
//! - an error inside the stream: classified like the HTTP form of the same failure.

use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::jobs::results::{Delivery, GenerateOutput, GenerateResult};
use crate::jobs::{Job, JobCtx, Spawned};
use crate::project::media::Restore;
use futures_util::StreamExt;
use nemo_client::{
    AgentEvent, Error, Recovered, RecoveryWaits, SessionId, SessionState, TimelineDiff, TurnReply,
};
use std::sync::Arc;

/// What `generate` asks of a generation job.
#[derive(Debug, Clone)]
pub struct Request {
    pub instruction: String,
    /// The instruction also asked for an export, which is not sent to the agent.
    pub also_export: bool,
}

/// Where the turn goes and what the project looked like before it.
struct Prepared {
    session: SessionId,
    before: SessionState,
    credits_before: Option<i64>,
    notice: Option<String>,
}

/// What [`start`] did.
#[derive(Debug)]
pub enum Started {
    New(Job),
    /// A generation with this request_id exists; nothing was sent.
    SameRequest(Job),
    /// A generation is running in the project (one at a time); nothing was sent.
    Busy(Job),
}

/// Start a generation in the current project (created in `language` if there is none): the
/// one place a paid message is started from. The caller has passed the cost guard.
pub async fn start(
    app: &Arc<App>,
    req: Request,
    language: &str,
    request_id: Option<String>,
    cost: crate::account::estimate::CostKind,
) -> Result<Started, ToolError> {
    let sid = app.session_id(Some(language)).await?;
    if let Some(running) = app.jobs.running_generation(sid) {
        return Ok(Started::Busy(running));
    }
    let mut job = Job::generation(req.instruction.clone(), Some(cost))
        .with_request_id(request_id)
        .in_project(Some(sid));
    if let crate::jobs::Work::Generate(g) = &mut job.work {
        g.session_id = Some(sid);
    }
    let app2 = app.clone();
    let work = move |ctx| async move { run(app2, ctx, req, sid).await.map(GenerateOutput::Edited) };
    Ok(match app.jobs.spawn_once(job, work) {
        Spawned::Started(j) => Started::New(j),
        Spawned::Existing(j) => Started::SameRequest(j),
    })
}

/// Send `req` to the project `session` once and see the turn through.
pub async fn run(
    app: Arc<App>,
    ctx: JobCtx,
    req: Request,
    session: SessionId,
) -> Result<GenerateResult, ToolError> {
    let mut p = prepare(&app, &ctx, session).await?;
    // Counted in the account's meter from here; forgotten if the turn never ends.
    let _turn = app.meter.started(&ctx.snapshot().id, p.credits_before);
    ctx.progress(None, "sending the instruction to NemoVideo");
    let sent = match app.client.project(p.session).send(&req.instruction).await {
        // A lost project refuses the message before taking it: restore it, then send once.
        Err(Error::SessionLost { .. }) => {
            let r = app.restore_project(p.session, Restore::All).await?;
            p.notice = Some(r.notice(p.session));
            p.session = r.session;
            let project = app.client.project(p.session);
            p.before = project.state().await.map_err(|e| app.err(&e))?;
            journal_before(&ctx, &p)?;
            project.send(&req.instruction).await
        }
        other => other,
    };
    let stream = match sent {
        Ok(s) => s,
        Err(e @ Error::Unconfirmed { .. }) => {
            let waits = app.settings.recovery_waits();
            return recover(&app, &ctx, &p, &req, Delivery::Unconfirmed, e, waits).await;
        }
        // Refused before it was taken: nothing was sent, nothing charged.
        Err(e) => return Err(app.err(&e)),
    };
    let (reply, broken) = read_turn(stream, &ctx).await;
    app.meter.answered(&ctx.snapshot().id);
    if let Some(e) = broken {
        let waits = app.settings.recovery_waits();
        return recover(&app, &ctx, &p, &req, Delivery::StreamCut, e, waits).await;
    }
    if let Some(message) = reply.error.clone().filter(|_| reply.texts.is_empty()) {
        return Err(in_stream_failure(&app, &ctx.snapshot().id, &p, &message).await);
    }
    if !reply.is_complete() {
        // A clean close in the middle of a turn: the backend may still be working.
        let cause = Error::Protocol {
            message: format!(
                "the stream closed after {} tool step(s) with no final answer",
                reply.tool_calls.len()
            ),
        };
        let waits = app.settings.recovery_waits();
        return recover(&app, &ctx, &p, &req, Delivery::StreamCut, cause, waits).await;
    }
    let after = settled_state(&app, &ctx, &p, &reply).await?;
    finish(
        &app,
        &ctx,
        &p,
        &req,
        &after,
        nemo_client::gui::strip_offers(&reply.reply()),
        Delivery::Streamed,
        None,
    )
    .await
}

/// Read the turn's stream to its end: the reply, and the error that cut it, if any. The
/// stream is dropped (its request stopped) on return.
async fn read_turn(
    mut stream: impl futures_util::Stream<Item = Result<AgentEvent, Error>> + Unpin,
    ctx: &JobCtx,
) -> (TurnReply, Option<Error>) {
    let mut reply = TurnReply::default();
    let mut broken = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(e) => {
                reply.push(&e);
                ctx.progress(None, progress_line(&e, &reply, ctx));
            }
            Err(e) => broken = Some(e),
        }
    }
    (reply, broken)
}

/// The project after a finished turn; when the turn did work but nothing shows yet, read
/// again for a while (the change may land a moment later).
async fn settled_state(
    app: &App,
    ctx: &JobCtx,
    p: &Prepared,
    reply: &TurnReply,
) -> Result<SessionState, ToolError> {
    let project = app.client.project(p.session);
    let mut after = project.state().await.map_err(|e| app.err(&e))?;
    if !after.changed_since(&p.before) && (reply.did_work() || reply.texts.is_empty()) {
        // A finished turn that shows nothing yet: the change may land a moment later.
        ctx.progress(None, "NemoVideo finished; waiting for the change to show");
        let waits = app.settings.settle_waits();
        if let Ok(Recovered::Changed(now)) = project.recover(&p.before, &waits, |_| {}).await {
            after = *now;
        }
    }
    Ok(after)
}

/// The project (restored first if the backend lost it) and its state before the message,
/// journaled before anything is sent: after a crash we know a message may have gone out, so
/// we recover from state and never send it again.
async fn prepare(app: &App, ctx: &JobCtx, session: SessionId) -> Result<Prepared, ToolError> {
    let (before, notice) = match app.client.project(session).state().await {
        Ok(s) => (s, None),
        Err(Error::SessionLost {
            session: Some(lost),
            ..
        }) => {
            let r = app.restore_project(lost, Restore::All).await?;
            let s = app
                .client
                .project(r.session)
                .state()
                .await
                .map_err(|e| app.err(&e))?;
            (s, Some(r.notice(lost)))
        }
        Err(e) => return Err(app.err(&e)),
    };
    let p = Prepared {
        session: before.session_id,
        credits_before: app
            .credits(Some(&ctx.snapshot().id))
            .await
            .ok()
            .map(|c| c.total),
        before,
        notice,
    };
    journal_before(ctx, &p)?;
    Ok(p)
}

/// The "sending" mark: committed to the shared journal before the message leaves, or the
/// message does not leave. Whichever process finds this job later recovers it from state and
/// never sends it again.
fn journal_before(ctx: &JobCtx, p: &Prepared) -> Result<(), ToolError> {
    let journaled = ctx.mark_sending(|g| {
        g.state_before = Some(p.before.clone());
        g.session_id = Some(p.session);
        g.credits_before = p.credits_before;
    });
    if journaled {
        return Ok(());
    }
    Err(ToolError::new(
        Code::Internal,
        "the job could not be recorded in the state database before sending, so the instruction was NOT sent (nothing was charged)",
    )
    .retryable(None)
    .next("check that the state folder is writable (nemo-mcp doctor), then call generate again"))
}

fn progress_line(e: &AgentEvent, reply: &TurnReply, ctx: &JobCtx) -> String {
    match e {
        AgentEvent::Text(t) => format!("NemoVideo: {}", t.chars().take(80).collect::<String>()),
        AgentEvent::ToolCall { name, .. } => format!("NemoVideo is working ({name})"),
        _ => format!(
            "NemoVideo is working ({} tool step(s), {:.0} s)",
            reply.tool_calls.len(),
            ctx.snapshot().elapsed_s()
        ),
    }
}

/// The agent's in-stream error, as the HTTP form of the same failure would be told, with
/// what the failed turn cost.
async fn in_stream_failure(app: &App, job: &str, p: &Prepared, message: &str) -> ToolError {
    let e = app.client.project(p.session).stream_failure(message).await;
    let mut t = app.err(&e);
    let spent = spent_since(app, job, p.credits_before).await;
    // A failed turn may still have been charged: recorded like any other (at its estimate
    // when its cost cannot be read).
    app.record_charge(job, p.session, spent, p.credits_before);
    t.message = format!(
        "{} (the instruction was sent once; credits spent: {})",
        t.message,
        spent.map_or("unknown".into(), |s| s.to_string())
    );
    match e {
        Error::OutOfCredits { .. } => t.next_step = Some(app.more_credits_step()),
        // The next generate finds the project lost before sending and restores it first.
        Error::SessionLost { .. } | Error::TokenInvalid { given: false } => {
            t.retryable = true;
            t.next_step = Some("call generate again: a lost project is restored (same media) and an expired token renewed before anything is sent".into());
        }
        _ => {}
    }
    t
}

/// What the turn `job` cost, from the account's meter ([`crate::account::meter`]).
async fn spent_since(app: &App, job: &str, credits_before: Option<i64>) -> Option<i64> {
    let now = app.client.credits().await.ok()?.total;
    app.meter.ended(job, now, credits_before)
}

/// The turn's end was not seen: read the project state (never re-send) until it changes.
async fn recover(
    app: &App,
    ctx: &JobCtx,
    p: &Prepared,
    req: &Request,
    delivery: Delivery,
    cause: Error,
    waits: RecoveryWaits,
) -> Result<GenerateResult, ToolError> {
    tracing::warn!("the turn's end was not seen ({cause}); recovering from the project state");
    ctx.progress(None, "the answer from NemoVideo was cut off; checking the project for the result (the instruction is not sent again)");
    let reads = waits.reads();
    let outcome = app
        .client
        .project(p.session)
        .recover(&p.before, &waits, |n| {
            ctx.progress(None, format!("checking the project state ({n}/{reads})"))
        })
        .await
        .map_err(|e| app.err(&e))?;
    let how = match (delivery, &cause) {
        (Delivery::Unconfirmed, _) => format!("no answer came back for the instruction ({cause})"),
        (_, Error::StreamBroken { .. } | Error::StreamTimedOut { .. }) => {
            format!("the answer was cut off before the turn ended ({cause})")
        }
        _ => "NemoVideo closed the stream before its final answer".to_string(),
    };
    match outcome {
        Recovered::Changed(after) => {
            let note = format!("{how}, so this was read from the project state; the instruction was not sent again");
            finish(
                app,
                ctx,
                p,
                req,
                &after,
                String::new(),
                delivery,
                Some(note),
            )
            .await
        }
        Recovered::Unchanged { .. } => {
            let spent = spent_since(app, &ctx.snapshot().id, p.credits_before).await;
            app.record_charge(&ctx.snapshot().id, p.session, spent, p.credits_before);
            Err(ToolError::new(
                Code::NoResult,
                format!(
                    "{how}, and the project did not change in the following minutes, so the instruction probably failed. Credits spent: {}.",
                    spent.map_or("unknown".into(), |s| s.to_string())
                ),
            )
            .retryable(None)
            .next("call get_timeline to check; sending the instruction again may be charged again"))
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn finish(
    app: &App,
    ctx: &JobCtx,
    p: &Prepared,
    req: &Request,
    after: &SessionState,
    reply: String,
    delivery: Delivery,
    recovered: Option<String>,
) -> Result<GenerateResult, ToolError> {
    let before = &p.before;
    let diff = TimelineDiff::between(&before.timeline, &after.timeline);
    let mut changes = diff.describe();
    if after.assets.len() > before.assets.len() || after.generated_media > before.generated_media {
        let n = (after.assets.len() + after.generated_media)
            .saturating_sub(before.assets.len() + before.generated_media);
        changes.push_str(&format!(" {n} new media item(s)."));
    }
    let changed = !diff.is_empty() || after.changed_since(before);
    let credits = app.client.credits().await.ok();
    let credits_spent = credits.and_then(|c| {
        app.meter
            .ended(&ctx.snapshot().id, c.total, p.credits_before)
    });
    app.record_charge(
        &ctx.snapshot().id,
        p.session,
        credits_spent,
        p.credits_before,
    );
    app.library.after_turn(p.session, &req.instruction, after);
    let low = credits.is_some_and(|c| c.available < crate::account::estimate::LOW_CREDITS);
    let exportable = after.timeline.is_exportable();
    let next_step = if !changed {
        let mut n = "nothing changed: rephrase the instruction more concretely (what to add or change, with lengths and texts), e.g. \"combine these images into a 30-second video with background music and text overlays\", and call generate again".to_string();
        if low {
            n.push_str(&format!("; credits are low: {}", app.more_credits_step()));
        }
        n
    } else if exportable && req.also_export {
        "the export was not sent to the AI: call export_video now to render and save the MP4".into()
    } else if exportable {
        "call export_video to render and save the MP4, or generate again to refine".into()
    } else {
        "upload media with upload_media or describe the video with generate".into()
    };
    Ok(GenerateResult {
        reply,
        changed,
        changes,
        timeline: after.timeline.summary(),
        duration_s: after.timeline.duration_ms.map(|ms| ms as f64 / 1000.0),
        exportable,
        credits_spent,
        credits_left: credits.map(|c| c.available),
        delivery,
        recovered,
        notice: p.notice.clone(),
        next_step,
    })
}

/// After a restart: the message may have been sent; find out from the state.
pub async fn resume(app: Arc<App>, ctx: JobCtx) -> Result<GenerateOutput, ToolError> {
    let job = ctx.snapshot();
    let Some(g) = job.generation_data() else {
        return Err(ToolError::new(Code::Internal, "not a generation"));
    };
    let (Some(before), Some(session)) = (g.state_before.clone(), g.session_id) else {
        // The mark is written to the disk before anything is sent, so without it the
        // instruction did not leave; but an absent record proves nothing for certain (a state
        // folder restored from a backup, a disk that lied): say so, and let the user look.
        return Err(ToolError::new(
            Code::Interrupted,
            "the server stopped before the instruction's sending was recorded, so it was most likely not sent; if the state folder lost its last writes it may have been sent and charged",
        )
        .retryable(None)
        .next("call get_timeline (and get_credits) to see whether the edit is there, then generate only if it is not"));
    };
    let p = Prepared {
        session,
        before,
        credits_before: g.credits_before,
        notice: None,
    };
    let req = Request {
        instruction: g.instruction.clone(),
        also_export: false,
    };
    let cause = Error::StreamBroken { events: 0 };
    let waits = app.settings.recovery_waits();
    recover(&app, &ctx, &p, &req, Delivery::StreamCut, cause, waits)
        .await
        .map(GenerateOutput::Edited)
}

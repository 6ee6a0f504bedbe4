//! A generation: one message to the backend agent, its stream read to the end, and the
//! result told as the agent's (GUI-translated) reply plus what changed on the timeline.

use super::JobCtx;
use crate::app::App;
use crate::errors::ToolError;
use futures_util::StreamExt;
use nemo_client::{
    AgentEvent, Error, Recovered, RecoveryWaits, SessionId, SessionState, TimelineDiff, TurnReply,
};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// The result of a finished generation.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GenerateResult {
    /// What the backend said, rewritten for a chat (empty when it said nothing).
    pub reply: String,
    /// What changed on the timeline, worded for people (the whole answer for silent edits).
    pub changes: String,
    pub changed: bool,
    /// The timeline after the edit, in one line.
    pub timeline: String,
    pub duration_s: Option<f64>,
    pub exportable: bool,
    pub credits_spent: Option<i64>,
    pub credits_left: Option<i64>,
    /// Set when the connection broke and the result was read from the project state instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
    /// Set when the backend had lost the project and a new one was started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    pub next_step: String,
}

fn waits(app: &App) -> RecoveryWaits {
    let s = &app.settings;
    RecoveryWaits::new(s.recovery_first, s.recovery_then, s.recovery_reads)
}

pub async fn run(app: Arc<App>, ctx: JobCtx, instruction: String) -> Result<Value, ToolError> {
    let before = app.client.state().await.map_err(|e| app.err(&e))?;
    let credits_before = app.client.credits().await.ok().map(|c| c.total);
    // Journaled before sending: after a crash we know a message may have gone out, so we
    // recover from state and never send it again.
    ctx.update_journaled(|j| {
        j.state_before = Some(before.raw.clone());
        j.session_id = Some(before.session_id.to_string());
        j.credits_before = credits_before;
        j.message = "sending the instruction to NemoVideo".into();
    });
    let mut stream = app
        .client
        .send_message(&instruction)
        .await
        .map_err(|e| app.err(&e))?;
    let mut reply = TurnReply::default();
    let mut broken = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(e) => {
                reply.push(&e);
                let msg = match &e {
                    AgentEvent::Text(t) => {
                        format!("NemoVideo: {}", t.chars().take(80).collect::<String>())
                    }
                    AgentEvent::ToolCall { name, .. } => format!("NemoVideo is working ({name})"),
                    _ => format!(
                        "NemoVideo is working ({} tool step(s), {:.0} s)",
                        reply.tool_calls.len(),
                        ctx.snapshot().elapsed_s()
                    ),
                };
                ctx.progress(None, msg);
            }
            Err(e) => broken = Some(e),
        }
    }
    drop(stream);
    if let Some(e) = broken {
        return recover(&app, &ctx, &before, credits_before, e).await;
    }
    if let Some(err) = reply.error.as_ref().filter(|_| reply.texts.is_empty()) {
        return Err(
            ToolError::new("backend_error", format!("NemoVideo could not do it: {err}"))
                .retryable(None)
                .next("rephrase the instruction or call generate again"),
        );
    }
    let after = app.client.state().await.map_err(|e| app.err(&e))?;
    finish(&app, &before, &after, reply.reply(), credits_before, None).await
}

async fn recover(
    app: &App,
    ctx: &JobCtx,
    before: &SessionState,
    credits_before: Option<i64>,
    cause: Error,
) -> Result<Value, ToolError> {
    tracing::warn!("the agent stream ended badly ({cause}); recovering from the project state");
    ctx.progress(None, "the connection to NemoVideo broke; checking the project for the result (the instruction is not sent again)");
    let reads = app.settings.recovery_reads;
    let outcome = app
        .client
        .recover_by_state(before, &waits(app), |n| {
            ctx.progress(None, format!("checking the project state ({n}/{reads})"))
        })
        .await
        .map_err(|e| app.err(&e))?;
    match outcome {
        Recovered::Changed(after) => {
            let note = format!("the connection broke ({cause}), so this was read from the project state");
            finish(app, before, &after, String::new(), credits_before, Some(note)).await
        }
        Recovered::Unchanged { .. } => Err(ToolError::new(
            "no_result",
            format!("{cause}; the project did not change in the following minutes, so the instruction probably failed"),
        )
        .retryable(None)
        .next("call get_timeline to check, or call generate again to retry (a retry may be charged again)")),
    }
}

async fn finish(
    app: &App,
    before: &SessionState,
    after: &SessionState,
    reply: String,
    credits_before: Option<i64>,
    recovered: Option<String>,
) -> Result<Value, ToolError> {
    let diff = TimelineDiff::between(&before.timeline, &after.timeline);
    let mut changes = diff.describe();
    if after.assets.len() > before.assets.len() || after.generated_media > before.generated_media {
        let n = (after.assets.len() + after.generated_media)
            .saturating_sub(before.assets.len() + before.generated_media);
        changes.push_str(&format!(" {n} new media item(s)."));
    }
    let credits = app.client.credits().await.ok();
    let notice = app.client.take_session_replaced().map(|r| {
        format!("NemoVideo had lost the previous project ({}); a new one was started and the old timeline is gone.", r.old)
    });
    let exportable = after.timeline.is_exportable();
    let result = GenerateResult {
        reply,
        changed: !diff.is_empty() || after.changed_since(before),
        changes,
        timeline: after.timeline.summary(),
        duration_s: after.timeline.duration_ms.map(|ms| ms as f64 / 1000.0),
        exportable,
        credits_spent: credits_before
            .zip(credits.map(|c| c.total))
            .map(|(b, a)| (b - a).max(0)),
        credits_left: credits.map(|c| c.available),
        recovered,
        notice,
        next_step: if exportable {
            "call export_video to render and save the MP4, or generate again to refine".into()
        } else {
            "upload media with upload_media or describe the video with generate".into()
        },
    };
    serde_json::to_value(result).map_err(|e| ToolError::new("internal", e.to_string()))
}

/// After a restart: the message may have been sent; find out from the state.
pub async fn resume(app: Arc<App>, ctx: JobCtx) -> Result<Value, ToolError> {
    let job = ctx.snapshot();
    let (Some(raw), Some(sid)) = (
        job.state_before.clone(),
        job.session_id
            .as_deref()
            .and_then(|s| s.parse::<u64>().ok()),
    ) else {
        return Err(ToolError::new(
            "interrupted",
            "the server restarted before the instruction was sent",
        )
        .retryable(None)
        .next("call generate again"));
    };
    let before = SessionState::from_data(SessionId::new(sid), &raw);
    let cause = Error::StreamBroken { events: 0 };
    recover(&app, &ctx, &before, job.credits_before, cause).await
}

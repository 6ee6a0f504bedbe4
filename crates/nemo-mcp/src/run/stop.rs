//! Stopping a job (`cancel_job`, `tasks/cancel`, a host's cancellation): its work stops, a
//! make_video's steps and a set's versions stop with it, a render is cancelled on NemoVideo,
//! and a generation whose instruction was already sent is watched: NemoVideo may carry it out
//! anyway, and then the change and its cost are recorded, never lost.

use crate::app::App;
use crate::jobs::{Job, JobKind};
use std::sync::Arc;

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
        // Measured by the account's meter, as every turn is: its own "before" would count
        // again what other turns were charged and measured with since.
        let total = app.client.credits().await.ok().map(|c| c.total);
        let spent = total.and_then(|now| app.meter.ended(&job_id, now, credits_before));
        app.record_charge(&job_id, session, spent, credits_before);
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

/// Stop a job (`cancel_job`, `tasks/cancel`): its work stops, and a render is also cancelled
/// on NemoVideo. The job as it was, or `None` if unknown.
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

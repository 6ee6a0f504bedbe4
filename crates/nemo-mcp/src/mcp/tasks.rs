//! The tasks extension (SEP-2663, `io.modelcontextprotocol/tasks`).
//!
//! For a host that declares the extension, `make_video`, `generate`, `export_video` and
//! `upload_media` answer
//! with a task instead of waiting. A task *is* a journaled job: its id is the job id,
//! `tasks/get` reads the job, `tasks/cancel` cancels it, and a restarted server answers for the
//! tasks its previous run created, because the journal resumes their jobs.
//!
//! rmcp's `TaskManager` is not used on purpose: it keeps tasks in memory under fresh ids, so a
//! second store would lose every task on restart and could disagree with `get_job` about the
//! same piece of work.

use crate::jobs::{Job, JobKind, JobStatus};
use crate::mcp::views::JobView;
use rmcp::model::{DetailedTask, JsonObject, Task, TaskPayload, TaskStatus};
use rmcp::service::RequestContext;
use rmcp::RoleServer;
use std::sync::{Arc, Mutex};

/// The tools whose work is a job, and so may become a task.
pub const TASK_TOOLS: [&str; 4] = ["generate", "export_video", "upload_media", "make_video"];

/// Set in a tool call's context when the call may answer with a task: the tool records the job
/// it started instead of waiting for it.
#[derive(Clone, Default)]
pub struct TaskSlot(Arc<Mutex<Option<Job>>>);

impl TaskSlot {
    /// The slot of this call, if the call may answer with a task.
    pub fn of(ctx: &RequestContext<RoleServer>) -> Option<&TaskSlot> {
        ctx.extensions.get::<TaskSlot>()
    }

    /// A slot for this call, if the tool's work is a job and the client declared tasks.
    pub fn for_call(tool: &str, ctx: &RequestContext<RoleServer>) -> Option<TaskSlot> {
        let declared = ctx
            .client_capabilities()
            .is_some_and(|caps| caps.supports_tasks());
        (declared && TASK_TOOLS.contains(&tool)).then(TaskSlot::default)
    }

    pub fn record(&self, job: &Job) {
        *crate::support::sync::lock(&self.0) = Some(job.clone());
    }

    pub fn take(&self) -> Option<Job> {
        crate::support::sync::lock(&self.0).take()
    }
}

/// How often a client should ask: a generation reads a stream for minutes, the rest move faster.
fn poll_interval_ms(kind: JobKind) -> u64 {
    match kind {
        JobKind::Generate | JobKind::Video => 5_000,
        JobKind::Export | JobKind::Upload => 2_000,
    }
}

/// The task's metadata. No TTL: a task lives as long as its job stays in the journal (the 200
/// most recent finished jobs are kept).
pub fn task_of(job: &Job) -> Task {
    let updated = job.finished_at.unwrap_or_else(chrono::Utc::now);
    let mut task = Task::new(
        job.id.clone(),
        status_of(job.status()),
        job.created_at.to_rfc3339(),
        updated.to_rfc3339(),
    )
    .with_poll_interval_ms(poll_interval_ms(job.kind()));
    task.status_message = Some(status_message(job));
    task
}

fn status_of(status: JobStatus) -> TaskStatus {
    match status {
        JobStatus::Running => TaskStatus::Working,
        // A failed job is a tool result with `isError: true`, which the extension calls
        // `completed`; `failed` is for JSON-RPC errors, which a job never ends in.
        JobStatus::Succeeded | JobStatus::Failed => TaskStatus::Completed,
        JobStatus::Cancelled => TaskStatus::Cancelled,
    }
}

fn status_message(job: &Job) -> String {
    match job.progress_pct {
        Some(p) if job.status() == JobStatus::Running => format!("{} ({p:.0}%)", job.message),
        _ => job.message.clone(),
    }
}

/// The task with its payload: a finished job carries the same tool result `get_job` gives.
pub fn detailed(job: &Job) -> DetailedTask {
    let payload = match job.status() {
        JobStatus::Running => TaskPayload::Working,
        JobStatus::Cancelled => TaskPayload::Cancelled,
        JobStatus::Succeeded | JobStatus::Failed => TaskPayload::Completed {
            result: result_object(job),
        },
    };
    DetailedTask::new(task_of(job), payload)
}

fn result_object(job: &Job) -> JsonObject {
    match serde_json::to_value(JobView::of(job).into_result()) {
        Ok(serde_json::Value::Object(o)) => o,
        _ => JsonObject::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_maps_onto_the_task_it_is() {
        let mut job = Job::export();
        job.progress_pct = Some(41.6);
        job.message = "rendering".into();
        let running = detailed(&job);
        assert_eq!(running.task.task_id, job.id, "the task id is the job id");
        assert_eq!(running.status(), TaskStatus::Working);
        assert_eq!(
            running.task.status_message.as_deref(),
            Some("rendering (42%)")
        );
        assert_eq!(running.task.poll_interval_ms, Some(2_000));
        assert_eq!(running.task.ttl_ms, None);

        let e = crate::errors::ToolError::new(crate::errors::Code::RenderFailed, "render failed");
        job.work.end(crate::jobs::Ended::Failed(e));
        job.message = "render failed".into();
        job.finished_at = Some(chrono::Utc::now());
        let failed = detailed(&job);
        assert_eq!(failed.status(), TaskStatus::Completed);
        let TaskPayload::Completed { result } = failed.payload else {
            panic!("a failed job is a completed task with an error result");
        };
        assert_eq!(result["isError"], serde_json::Value::Bool(true));

        job.work.end(crate::jobs::Ended::Cancelled);
        assert_eq!(detailed(&job).status(), TaskStatus::Cancelled);
    }
}

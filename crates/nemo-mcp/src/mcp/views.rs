//! What tools return: typed structures (with their JSON schema, for `outputSchema`) plus a
//! short text for people; and the progress notifications sent while a call waits.

use super::result_texts::{export_text, generate_text, routed_text, upload_text, video_text};
use crate::errors::{Code, ToolError};
use crate::jobs::results::{ExportResult, GenerateOutput, UploadResult, VideoResult};
use crate::jobs::{Job, JobKind, JobStatus, Work};
use crate::mcp::errors::ErrorResult;
use rmcp::model::{
    CallToolResult, ContentBlock, ProgressNotificationParam, ProgressToken, Resource,
};
use rmcp::service::{Peer, RoleServer};
use schemars::JsonSchema;
use serde::Serialize;
use std::time::{Duration, Instant};

/// A job as a tool answers it: `running` (call `get_job`), or finished with `result` or
/// `error`. `R` is the result of the tool that started it; its schema is that tool's
/// `outputSchema`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobAnswer<R> {
    /// For get_job and cancel_job.
    pub job_id: String,
    #[schemars(skip)]
    pub kind: JobKind,
    /// running: call get_job.
    pub status: JobStatus,
    #[schemars(skip)]
    pub elapsed_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub progress_pct: Option<f64>,
    pub message: String,
    /// What to do next while the job runs: call get_job (it waits by itself). The same sentence
    /// as the text's, for hosts that give the model only the structured content.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub next_step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<R>,
    /// (A failed job is an error result instead.)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub error: Option<ToolError>,
    /// Why no new job was started (also said in the text).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub note: Option<String>,
}

/// Any job: what `get_job` and `cancel_job` answer (the result is the one of the tool that
/// started the job).
pub type JobView = JobAnswer<AnyResult>;

/// The typed result of any kind of job.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum AnyResult {
    Generate(GenerateOutput),
    Export(ExportResult),
    Upload(UploadResult),
    Video(VideoResult),
}

impl AnyResult {
    pub fn of(job: &Job) -> Option<AnyResult> {
        Some(match &job.work {
            Work::Generate(g) => AnyResult::Generate(g.outcome.result()?.clone()),
            Work::Export(e) => AnyResult::Export(e.outcome.result()?.clone()),
            Work::Upload(u) => AnyResult::Upload(u.outcome.result()?.clone()),
            Work::Video(v) => AnyResult::Video(v.outcome.result()?.clone()),
        })
    }
}

/// In `get_job`'s schema: the result of whichever tool started the job (each tool's own
/// `outputSchema` describes it), so the schema says no more than "an object".
impl JsonSchema for AnyResult {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AnyResult".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        any_json(generator)
    }
}

/// One line of `list_jobs`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobSummary {
    pub job_id: String,
    #[schemars(with = "String")]
    pub kind: JobKind,
    #[schemars(with = "String")]
    pub status: JobStatus,
    /// The instruction or the files, shortened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asked: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_spent: Option<i64>,
    /// The saved MP4.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub message: String,
}

fn snippet(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        format!("{}…", one_line.chars().take(max).collect::<String>())
    }
}

impl JobSummary {
    pub fn of(job: &Job) -> JobSummary {
        let asked = match &job.work {
            Work::Generate(_) | Work::Video(_) => job.instruction().map(|i| snippet(i, 60)),
            Work::Upload(u) => {
                let names: Vec<String> = u.inputs.iter().map(|n| snippet(n, 40)).collect();
                (!names.is_empty()).then(|| snippet(&names.join(", "), 80))
            }
            Work::Export(_) => None,
        };
        JobSummary {
            job_id: job.id.clone(),
            kind: job.kind(),
            status: job.status(),
            asked,
            credits_spent: job.credits_spent(),
            path: job.saved_path().map(str::to_string),
            message: job.message.clone(),
        }
    }

    /// `generate "combine these…": succeeded, 50 credits (gen_…)`: the id last.
    pub fn line(&self) -> String {
        let status = self.status.name();
        let mut t = self.kind.tool().to_string();
        if let Some(a) = &self.asked {
            t.push_str(&format!(" \"{a}\""));
        }
        t.push_str(&format!(": {status}"));
        match (self.status, &self.path) {
            (JobStatus::Succeeded, Some(p)) => t.push_str(&format!(", saved {p}")),
            (JobStatus::Succeeded, None) => {}
            _ => t.push_str(&format!(" ({})", snippet(&self.message, 80))),
        }
        if let Some(c) = self.credits_spent.filter(|c| *c > 0) {
            t.push_str(&format!(", {c} credits"));
        }
        t.push_str(&format!(" [{}]", self.job_id));
        t
    }
}

impl JobAnswer<AnyResult> {
    pub fn of(job: &Job) -> JobView {
        JobView {
            job_id: job.id.clone(),
            kind: job.kind(),
            status: job.status(),
            elapsed_s: job.elapsed_s(),
            progress_pct: job.progress_pct.map(|p| (p * 10.0).round() / 10.0),
            message: job.message.clone(),
            next_step: (job.status() == JobStatus::Running).then(|| get_job_step(&job.id)),
            result: AnyResult::of(job),
            error: job.error().cloned(),
            note: None,
        }
    }

    fn text(&self) -> String {
        let mut out = match (self.status, &self.result) {
            (JobStatus::Running, _) => format!(
                "Still running ({} s{}): {}. Next: {}",
                self.elapsed_s.round(),
                self.progress_pct
                    .map(|p| format!(", {p:.0}%"))
                    .unwrap_or_default(),
                self.message,
                get_job_step(&self.job_id)
            ),
            (JobStatus::Succeeded, Some(r)) => match r {
                AnyResult::Generate(GenerateOutput::NotSent(r)) => routed_text(r),
                AnyResult::Generate(GenerateOutput::Edited(r)) => generate_text(r),
                AnyResult::Export(r) => export_text(r),
                AnyResult::Upload(r) => upload_text(r),
                AnyResult::Video(r) => video_text(r),
            },
            (JobStatus::Succeeded, None) => "Done.".to_string(),
            (JobStatus::Cancelled, _) => format!("Cancelled (job {}).", self.job_id),
            (JobStatus::Failed, _) => format!("Failed: {} (job {}).", self.message, self.job_id),
        };
        if let Some(n) = &self.note {
            out = format!("{n}\n{out}");
        }
        out
    }

    /// The tool result: a failed job is an error result (the model must read it).
    pub fn into_result(self) -> CallToolResult {
        if self.status == JobStatus::Failed {
            let mut e = self
                .error
                .clone()
                .unwrap_or_else(|| ToolError::new(Code::Failed, self.message.clone()));
            e.message = format!("{} (job {})", e.message, self.job_id);
            return e.to_result();
        }
        let mut content = vec![ContentBlock::text(self.text())];
        let saved = match &self.result {
            Some(AnyResult::Export(r)) => Some((&r.path, Some(r.size_bytes))),
            Some(AnyResult::Video(r)) => r.path.as_ref().map(|path| (path, r.size_bytes)),
            _ => None,
        };
        if let (Some((path, size)), JobStatus::Succeeded) = (saved, self.status) {
            {
                // A link to the MP4 itself, with its type and size, that a host can open where
                // the file is. Its metadata (path, https URL, size) stays readable through this
                // server as `nemo://exports/{job_id}`, also over `--http` from another machine.
                let name = std::path::Path::new(path)
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                let mut res = Resource::new(
                    crate::files::outputs::file_uri(std::path::Path::new(path)),
                    name,
                )
                .with_description("The saved MP4")
                .with_mime_type("video/mp4");
                if let Some(size) = size {
                    res = res.with_size(size);
                }
                content.push(ContentBlock::resource_link(res));
            }
        }
        structured(content, &self)
    }
}

/// What a running job's answer tells the model to do: one sentence, in the text and in the
/// structured content alike. `get_job` waits by itself, so there is no interval to poll at.
pub fn get_job_step(job_id: &str) -> String {
    format!(
        "call get_job with job_id \"{job_id}\" now: it waits up to 45 s by itself, so never poll in a tight loop"
    )
}

/// The resource of a saved export (see [`crate::mcp::resources`]).
pub fn export_uri(job_id: &str) -> String {
    format!("nemo://exports/{job_id}")
}

/// `{}` (any JSON) for free-form fields. schemars writes `true` there, which is valid JSON
/// Schema but rejected by the TypeScript SDK's tool-list validation (found with the Inspector).
/// ([`crate::mcp::schema::lean`] rewrites any left.)
pub fn any_json(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({})
}

/// A success result with structured content and the given content blocks, each held to what
/// the strictest host passes on whole ([`crate::mcp::fit`]).
pub fn structured<T: Serialize>(content: Vec<ContentBlock>, value: &T) -> CallToolResult {
    let content = content
        .into_iter()
        .map(|c| match c.as_text() {
            Some(t) => ContentBlock::text(crate::mcp::fit::text(&t.text)),
            None => c,
        })
        .collect();
    let mut value = serde_json::to_value(value).unwrap_or_default();
    crate::mcp::fit::structured(&mut value, crate::mcp::fit::STRUCTURED_BUDGET);
    let mut r = CallToolResult::success(content);
    r.structured_content = Some(value);
    r
}

/// A success result as it is: for the player view's app-only pieces of an export, which no
/// model reads and which are larger by design.
pub fn structured_whole<T: Serialize>(content: Vec<ContentBlock>, value: &T) -> CallToolResult {
    let mut r = CallToolResult::success(content);
    r.structured_content = Some(serde_json::to_value(value).unwrap_or_default());
    r
}

/// Sends `notifications/progress` for one waiting call: values always increase, at most a few
/// per second, and (driven by the job manager's ticks) at least every few seconds.
pub struct Progress {
    peer: Peer<RoleServer>,
    token: Option<ProgressToken>,
    last_value: f64,
    last_sent: Option<Instant>,
    started: Instant,
}

impl Progress {
    pub fn new(peer: Peer<RoleServer>, token: Option<ProgressToken>) -> Progress {
        Progress {
            peer,
            token,
            last_value: 0.0,
            last_sent: None,
            started: Instant::now(),
        }
    }

    pub async fn report(&mut self, job: &Job) {
        let Some(token) = self.token.clone() else {
            return;
        };
        let done = job.status() == JobStatus::Succeeded;
        if done && job.kind() != JobKind::Generate && self.last_value >= 100.0 {
            return; // 100 was already said; progress must always rise.
        }
        // The last notification of a finished job is never dropped by the rate limit.
        if !done
            && self
                .last_sent
                .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        let (value, total) = match (job.kind(), job.progress_pct) {
            (JobKind::Export | JobKind::Upload | JobKind::Video, _) if done => (100.0, Some(100.0)),
            (JobKind::Export | JobKind::Upload | JobKind::Video, pct) => {
                let v = pct.unwrap_or(0.0).max(self.last_value + 0.001).min(100.0);
                (v, Some(100.0))
            }
            // A generation has no measurable size: seconds of work, always rising.
            (JobKind::Generate, _) => (
                self.started
                    .elapsed()
                    .as_secs_f64()
                    .max(self.last_value + 0.001),
                None,
            ),
        };
        self.last_value = value;
        self.last_sent = Some(Instant::now());
        let mut p = ProgressNotificationParam::new(token, value).with_message(job.message.clone());
        if let Some(t) = total {
            p = p.with_total(t);
        }
        if let Err(e) = self.peer.notify_progress(p).await {
            tracing::debug!("progress notification not sent: {e}");
        }
    }
}

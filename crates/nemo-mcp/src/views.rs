//! What tools return: typed structures (with their JSON schema, for `outputSchema`) plus a
//! short text for people; and the progress notifications sent while a call waits.

use crate::errors::{Code, ToolError};
use crate::jobs::{Job, JobKind, JobStatus};
use rmcp::model::{
    CallToolResult, ContentBlock, ProgressNotificationParam, ProgressToken, Resource,
};
use rmcp::service::{Peer, RoleServer};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
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
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub poll_after_s: Option<u64>,
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

/// Any job, its result untyped: what `get_job` and `cancel_job` answer (the result is the one
/// of the tool that started the job).
pub type JobView = JobAnswer<Value>;

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
        let r = job.result.as_ref();
        let field = |k: &str| r.and_then(|v| v.get(k));
        let asked = match job.kind {
            JobKind::Generate => job.instruction.as_deref().map(|i| snippet(i, 60)),
            JobKind::Video => job.plan.as_ref().map(|p| snippet(&p.instruction, 60)),
            JobKind::Upload => field("uploaded").and_then(Value::as_array).map(|items| {
                let names: Vec<String> = items
                    .iter()
                    .filter_map(|i| i["filename"].as_str().or(i["input"].as_str()))
                    .map(|n| snippet(n, 40))
                    .collect();
                snippet(&names.join(", "), 80)
            }),
            JobKind::Export => None,
        };
        JobSummary {
            job_id: job.id.clone(),
            kind: job.kind,
            status: job.status,
            asked,
            credits_spent: field("credits_spent").and_then(Value::as_i64),
            path: field("path").and_then(Value::as_str).map(str::to_string),
            message: job.message.clone(),
        }
    }

    /// `generate "combine these…": succeeded, 50 credits (gen_…)`: the id last.
    pub fn line(&self) -> String {
        let kind = match self.kind {
            JobKind::Generate => "generate",
            JobKind::Export => "export",
            JobKind::Upload => "upload",
            JobKind::Video => "make_video",
        };
        let status = match self.status {
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        };
        let mut t = kind.to_string();
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

/// What `generate` answers when done: the edit's outcome, or (for an instruction that is
/// only an export, credits, status or upload request) the answer given here, free.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum GenerateOutput {
    Edited(crate::jobs::generation::GenerateResult),
    NotSent(crate::tools::RoutedAnswer),
}

impl JobAnswer<Value> {
    pub fn of(job: &Job) -> JobView {
        JobView {
            job_id: job.id.clone(),
            kind: job.kind,
            status: job.status,
            elapsed_s: job.elapsed_s(),
            progress_pct: job.progress_pct.map(|p| (p * 10.0).round() / 10.0),
            message: job.message.clone(),
            poll_after_s: (job.status == JobStatus::Running).then_some(match job.kind {
                JobKind::Generate => 5,
                _ => 2,
            }),
            result: job.result.clone(),
            error: job.error.clone(),
            note: None,
        }
    }

    fn text(&self) -> String {
        let r = |k: &str| {
            self.result
                .as_ref()
                .and_then(|v| v.get(k))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let s = |v: Value| v.as_str().map(str::to_string).unwrap_or_default();
        let mut out = match (self.status, self.kind) {
            (JobStatus::Running, _) => format!(
                "Still running ({} s{}): {}. Call get_job with job_id \"{}\" to wait for it (it waits up to 45 s itself).",
                self.elapsed_s.round(),
                self.progress_pct.map(|p| format!(", {p:.0}%")).unwrap_or_default(),
                self.message,
                self.job_id
            ),
            (JobStatus::Succeeded, JobKind::Generate) if r("routed_as").is_string() => format!(
                "{}\nThis was not sent to NemoVideo's AI and nothing was charged. The tool for it: {}.",
                s(r("answer")),
                s(r("tool"))
            ),
            (JobStatus::Succeeded, JobKind::Generate) => {
                let reply = s(r("reply"));
                let spent = match (r("credits_spent").as_i64(), r("credits_left").as_i64()) {
                    (Some(spent), Some(left)) => format!("Credits spent: {spent} ({left} left)."),
                    (Some(spent), None) => format!("Credits spent: {spent}."),
                    _ => "Credits spent: unknown.".to_string(),
                };
                // An edit that changed nothing says so first, with what it still cost.
                let mut t = if r("changed").as_bool() == Some(false) {
                    let mut t = format!("No change was made to the timeline. {spent}");
                    if !reply.is_empty() {
                        t.push_str(&format!("\nNemoVideo's AI replied: \"{reply}\""));
                    }
                    t.push_str(&format!("\n{}", s(r("timeline"))));
                    t
                } else {
                    let mut t = if reply.is_empty() {
                        "NemoVideo made the edit without comment.".to_string()
                    } else {
                        format!("NemoVideo's AI replied: \"{reply}\"")
                    };
                    t.push_str(&format!("\nWhat changed: {}\n{}\n{spent}", s(r("changes")), s(r("timeline"))));
                    t
                };
                for k in ["recovered", "notice"] {
                    if let Some(n) = r(k).as_str() {
                        t.push_str(&format!("\nNote: {n}"));
                    }
                }
                t.push_str(&format!("\nNext: {}", s(r("next_step"))));
                t
            }
            (JobStatus::Succeeded, JobKind::Export) => {
                let mb = r("size_bytes").as_u64().unwrap_or(0) as f64 / 1_048_576.0;
                let mut t = format!("Saved the video to {} ({mb:.1} MB).", s(r("path")));
                if let Some(link) = r("project_link").as_str() {
                    t.push_str(&format!("\nOpen the project in a browser: {link}"));
                }
                t
            }
            (JobStatus::Succeeded, JobKind::Upload) => {
                let up = r("uploaded").as_array().map(Vec::len).unwrap_or(0);
                let mut t = format!("Uploaded {up} item(s); the project now has {} media item(s).", r("project_media"));
                let present: Vec<String> = r("already_present").as_array().into_iter().flatten().filter_map(|p| p.as_str().map(str::to_string)).collect();
                if !present.is_empty() {
                    t.push_str(&format!("\nAlready in the project, not sent again: {}", present.join(", ")));
                }
                for rej in r("rejected").as_array().into_iter().flatten() {
                    t.push_str(&format!("\nNot uploaded: {} ({})", s(rej["input"].clone()), s(rej["reason"].clone())));
                }
                if let Some(n) = r("notice").as_str() {
                    t.push_str(&format!("\nNote: {n}"));
                }
                t
            }
            (JobStatus::Succeeded, JobKind::Video) => self.video_text(),
            (JobStatus::Cancelled, _) => format!("Cancelled (job {}).", self.job_id),
            (JobStatus::Failed, _) => format!("Failed: {} (job {}).", self.message, self.job_id),
        };
        if let Some(n) = &self.note {
            out = format!("{n}\n{out}");
        }
        out
    }

    /// `make_video`'s result: the file first, then what NemoVideo did and what it cost.
    fn video_text(&self) -> String {
        let r = |k: &str| self.result.as_ref().map_or(Value::Null, |v| v[k].clone());
        let s = |k: &str| r(k).as_str().unwrap_or_default().to_string();
        let mut t = match r("path").as_str() {
            Some(path) => {
                let mb = r("size_bytes").as_u64().unwrap_or(0) as f64 / 1_048_576.0;
                format!("Made the video and saved it to {path} ({mb:.1} MB).")
            }
            None => "Made the edit; no MP4 was saved.".to_string(),
        };
        if !s("reply").is_empty() {
            t.push_str(&format!("\nNemoVideo's AI replied: \"{}\"", s("reply")));
        }
        t.push_str(&format!(
            "\nWhat changed: {}\n{}",
            s("changes"),
            s("timeline")
        ));
        let (up, present) = (r("uploaded"), r("already_present"));
        if up.as_u64().unwrap_or(0) + present.as_u64().unwrap_or(0) > 0 {
            t.push_str(&format!(
                "\nUploaded {up} item(s), {present} already in the project."
            ));
        }
        for rej in r("rejected").as_array().into_iter().flatten() {
            let f = |k: &str| rej[k].as_str().unwrap_or_default().to_string();
            t.push_str(&format!("\nNot uploaded: {} ({})", f("input"), f("reason")));
        }
        match (r("credits_spent").as_i64(), r("credits_left").as_i64()) {
            (Some(spent), Some(left)) => {
                t.push_str(&format!("\nCredits spent: {spent} ({left} left)."))
            }
            (Some(spent), None) => t.push_str(&format!("\nCredits spent: {spent}.")),
            _ => t.push_str("\nCredits spent: unknown."),
        }
        if !s("notice").is_empty() {
            t.push_str(&format!("\nNote: {}", s("notice")));
        }
        t.push_str(&format!("\nNext: {}", s("next_step")));
        t
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
        let export_job = match self.kind {
            JobKind::Export => Some(self.job_id.clone()),
            JobKind::Video => self
                .result
                .as_ref()
                .and_then(|r| r["export_job"].as_str())
                .map(str::to_string),
            _ => None,
        };
        if let (Some(export_job), JobStatus::Succeeded) = (export_job, self.status) {
            if let Some(path) = self.result.as_ref().and_then(|r| r["path"].as_str()) {
                // A link any host can read through this server (`resources/read`), also over
                // `--http` from another machine: the export's metadata, path and https URL.
                let name = std::path::Path::new(path)
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                let mut res =
                    Resource::new(crate::resources::ExportView::uri_of(&export_job), name)
                        .with_description("The saved MP4: its local path and NemoVideo's https URL")
                        .with_mime_type("application/json");
                if let Some(size) = self.result.as_ref().and_then(|r| r["size_bytes"].as_u64()) {
                    res = res.with_size(size);
                }
                content.push(ContentBlock::resource_link(res));
            }
        }
        structured(content, &self)
    }
}

/// `{}` (any JSON) for free-form fields. schemars writes `true` there, which is valid JSON
/// Schema but rejected by the TypeScript SDK's tool-list validation (found with the Inspector).
/// ([`crate::schema::lean`] rewrites any left.)
pub fn any_json(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({})
}

/// A success result with structured content and the given content blocks.
pub fn structured<T: Serialize>(content: Vec<ContentBlock>, value: &T) -> CallToolResult {
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
        let done = job.status == JobStatus::Succeeded;
        if done && job.kind != JobKind::Generate && self.last_value >= 100.0 {
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
        let (value, total) = match (job.kind, job.progress_pct) {
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

//! What a job is: the fields every job has (its id, kind, times, progress, request key), and
//! its kind's own typed data and outcome ([`Work`], in `work.rs`): a succeeded job always has
//! its result and never an error.

use super::results::{GenerateOutput, UploadResult, VideoPlan, VideoResult};
use crate::account::estimate::CostKind;
use crate::errors::ToolError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The journal format written by this version (entries without `version` are the first).
pub const JOURNAL_VERSION: u32 = 2;

pub use super::work::*;

/// What names a caller's request: its kind, its `request_id`, whose it is and the project it
/// was asked in.
#[derive(Debug, Clone)]
pub struct RequestKey<'a> {
    pub kind: JobKind,
    pub request_id: &'a str,
    pub owner: Option<&'a str>,
    pub project: Option<String>,
}

impl RequestKey<'_> {
    /// Whether `job` is this request's job: the same kind, key and owner, in the same project,
    /// or one of the two asked before any project existed (a retry of a call that made the
    /// project must find the job it started, never send again).
    pub fn matches(&self, job: &Job) -> bool {
        self.kind == job.kind()
            && job.request_id.as_deref() == Some(self.request_id)
            && job.owner.as_deref() == self.owner
            && (self.project.is_none() || job.project.is_none() || self.project == job.project)
    }
}

/// A job, as kept in memory and in the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// [`JOURNAL_VERSION`] when written.
    #[serde(default)]
    pub version: u32,
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// 0–100 when the work has a measurable size (renders, uploads, downloads).
    pub progress_pct: Option<f64>,
    pub message: String,
    /// Counts signs of life (events, polls, bytes): rises while the job works.
    pub activity: u64,
    /// The caller's idempotency key: the same key returns this job and never sends again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The MCP session (over `--http`) whose job this is; others never see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The project the caller was working in when it asked (absent: none yet). A `request_id`
    /// names a job within a project: reused after switching projects, it starts a new job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The NemoVideo account it was made under (`Journal::account`): a process signed in to
    /// another account never takes it over (absent: made before accounts were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Who its requests say they come from, as the process that made it was set up (profile,
    /// version, platform): a process that takes it over sends the same (absent: made before
    /// it was recorded, sent as the running process's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<nemo_client::Attribution>,
    pub work: Work,
}

impl Job {
    pub fn new(work: Work) -> Job {
        let id = format!(
            "{}_{}",
            work.kind().prefix(),
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        Job {
            version: JOURNAL_VERSION,
            id,
            created_at: Utc::now(),
            finished_at: None,
            progress_pct: None,
            message: "starting".into(),
            activity: 0,
            request_id: None,
            owner: None,
            project: None,
            account: None,
            attribution: None,
            work,
        }
    }

    /// A generation of `instruction`, not yet sent.
    pub fn generation(instruction: impl Into<String>, cost_kind: Option<CostKind>) -> Job {
        Job::new(Work::Generate(Generation {
            instruction: instruction.into(),
            session_id: None,
            state_before: None,
            credits_before: None,
            cost_kind,
            outcome: Outcome::Running,
        }))
    }

    pub fn export() -> Job {
        Job::new(Work::Export(Export::default()))
    }

    pub fn upload(inputs: Vec<String>) -> Job {
        Job::new(Work::Upload(Upload {
            inputs,
            outcome: Outcome::Running,
        }))
    }

    pub fn video(plan: VideoPlan) -> Job {
        Job::new(Work::Video(Box::new(Video {
            plan,
            outcome: Outcome::Running,
        })))
    }

    pub fn with_request_id(mut self, request_id: Option<String>) -> Job {
        self.request_id = request_id;
        self
    }

    /// Asked in this project (see [`Job::project`]).
    pub fn in_project(mut self, project: Option<nemo_client::SessionId>) -> Job {
        self.project = project.map(|p| p.to_string());
        self
    }

    /// The key a caller's retry is matched by, when it gave one.
    pub fn request_key(&self) -> Option<RequestKey<'_>> {
        Some(RequestKey {
            kind: self.kind(),
            request_id: self.request_id.as_deref()?,
            owner: self.owner.as_deref(),
            project: self.project.clone(),
        })
    }

    pub fn kind(&self) -> JobKind {
        self.work.kind()
    }

    pub fn status(&self) -> JobStatus {
        self.work.status()
    }

    pub fn error(&self) -> Option<&ToolError> {
        self.work.error()
    }

    /// The instruction of a generation or a `make_video`.
    pub fn instruction(&self) -> Option<&str> {
        match &self.work {
            Work::Generate(g) => Some(&g.instruction),
            Work::Video(v) => Some(&v.plan.instruction),
            _ => None,
        }
    }

    pub fn generation_data(&self) -> Option<&Generation> {
        match &self.work {
            Work::Generate(g) => Some(g),
            _ => None,
        }
    }

    pub fn export_data(&self) -> Option<&Export> {
        match &self.work {
            Work::Export(e) => Some(e),
            _ => None,
        }
    }

    /// What an upload job uploaded, once it finished.
    pub fn upload_result(&self) -> Option<&UploadResult> {
        match &self.work {
            Work::Upload(u) => u.outcome.result(),
            _ => None,
        }
    }

    /// What a `make_video` job made, once it finished.
    pub fn video_result(&self) -> Option<&VideoResult> {
        match &self.work {
            Work::Video(v) => v.outcome.result(),
            _ => None,
        }
    }

    pub fn video_plan(&self) -> Option<&VideoPlan> {
        match &self.work {
            Work::Video(v) => Some(&v.plan),
            _ => None,
        }
    }

    /// The credits this job spent, when known (only a generation spends).
    pub fn credits_spent(&self) -> Option<i64> {
        match &self.work {
            Work::Generate(g) => match g.outcome.result()? {
                GenerateOutput::Edited(r) => r.credits_spent,
                GenerateOutput::NotSent(_) => Some(0),
            },
            Work::Video(v) => v.outcome.result()?.credits_spent,
            _ => None,
        }
    }

    /// The saved MP4, when this job made one.
    pub fn saved_path(&self) -> Option<&str> {
        match &self.work {
            Work::Export(e) => e.outcome.result().map(|r| r.path.as_str()),
            Work::Video(v) => v.outcome.result()?.path.as_deref(),
            _ => None,
        }
    }

    pub fn elapsed_s(&self) -> f64 {
        let end = self.finished_at.unwrap_or_else(Utc::now);
        ((end - self.created_at).num_milliseconds().max(0) as f64 / 1000.0 * 10.0).round() / 10.0
    }

    /// The job without what only a running generation needs (the state snapshot): what lists
    /// and views hold.
    pub fn light(&self) -> Job {
        let work = match &self.work {
            Work::Generate(g) => Work::Generate(Generation {
                instruction: g.instruction.clone(),
                session_id: g.session_id,
                state_before: None,
                credits_before: g.credits_before,
                cost_kind: g.cost_kind,
                outcome: g.outcome.clone(),
            }),
            w => w.clone(),
        };
        Job {
            version: self.version,
            id: self.id.clone(),
            created_at: self.created_at,
            finished_at: self.finished_at,
            progress_pct: self.progress_pct,
            message: self.message.clone(),
            activity: self.activity,
            request_id: self.request_id.clone(),
            owner: self.owner.clone(),
            project: self.project.clone(),
            account: self.account.clone(),
            attribution: self.attribution.clone(),
            work,
        }
    }
}

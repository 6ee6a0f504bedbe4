//! Each kind of job's own typed data and outcome: a sum type ([`Work`]), so an export cannot
//! carry a session snapshot and a generation cannot carry a render id; each kind's [`Outcome`]
//! holds that kind's own result, so a succeeded job always has its result and never an error.
//! With them, the kinds ([`JobKind`]) and the states ([`JobStatus`]) a job can be in.

use super::results::{ExportResult, GenerateOutput, UploadResult, VideoPlan, VideoResult};
use crate::account::estimate::CostKind;
use crate::errors::ToolError;
use nemo_client::{RenderId, SessionId, SessionState};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Generate,
    Export,
    Upload,
    /// `make_video`: upload, generate and export as one job.
    Video,
}

impl JobKind {
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            JobKind::Generate => "gen",
            JobKind::Export => "exp",
            JobKind::Upload => "upl",
            JobKind::Video => "vid",
        }
    }

    /// The tool that starts jobs of this kind.
    pub fn tool(self) -> &'static str {
        match self {
            JobKind::Generate => "generate",
            JobKind::Export => "export",
            JobKind::Upload => "upload",
            JobKind::Video => "make_video",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn is_finished(self) -> bool {
        self != JobStatus::Running
    }

    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

/// How a job of result type `T` stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome<T> {
    Running,
    Succeeded { result: T },
    Failed { error: ToolError },
    Cancelled,
}

impl<T> Outcome<T> {
    pub fn status(&self) -> JobStatus {
        match self {
            Outcome::Running => JobStatus::Running,
            Outcome::Succeeded { .. } => JobStatus::Succeeded,
            Outcome::Failed { .. } => JobStatus::Failed,
            Outcome::Cancelled => JobStatus::Cancelled,
        }
    }

    pub fn result(&self) -> Option<&T> {
        match self {
            Outcome::Succeeded { result } => Some(result),
            _ => None,
        }
    }

    pub fn error(&self) -> Option<&ToolError> {
        match self {
            Outcome::Failed { error } => Some(error),
            _ => None,
        }
    }
}

/// An outcome with no result: how a job of any kind fails or is cancelled.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    Failed(ToolError),
    Cancelled,
}

impl Ended {
    fn into_outcome<T>(self) -> Outcome<T> {
        match self {
            Ended::Failed(error) => Outcome::Failed { error },
            Ended::Cancelled => Outcome::Cancelled,
        }
    }
}

/// A generation: one paid message and what is needed to learn its outcome after a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub instruction: String,
    /// The project the message goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
    /// The project as it was before the message (to recover by comparing, never by
    /// re-sending); journaled before the message is sent, dropped once the job ends.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "state_snapshot"
    )]
    pub state_before: Option<SessionState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_before: Option<i64>,
    /// Whether it was priced as an edit or as a generated clip (absent: answered here, free).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_kind: Option<CostKind>,
    pub outcome: Outcome<GenerateOutput>,
}

/// An export: the render it submitted and the file it writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Export {
    /// A variant's project (absent: the current project): a resumed export works there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<nemo_client::Session>,
    /// Journaled before the render is submitted: after a crash the render is found again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render_id: Option<RenderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_stem: Option<String>,
    /// The folder this export saves into, as the process that made the job was set up. A
    /// process that takes the job over writes here, whatever its own `NEMO_OUTPUT_DIR` says
    /// (absent in jobs journaled before it was recorded: the reserved file's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_dir: Option<PathBuf>,
    /// The reserved output file (its `.part` holds what was downloaded so far).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_path: Option<PathBuf>,
    /// SHA-256 of the draft that was rendered: an unchanged timeline's next export reuses a
    /// render that finished but was not saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_sha256: Option<String>,
    /// The render finished on NemoVideo (what failed after this was the download).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rendered: bool,
    /// No captions files beside the MP4 (`captions: false`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_captions: bool,
    /// The saved file's check started (journaled before it runs). A process that takes this
    /// export over keeps the file unchecked: a file that stopped one process is never read
    /// again by the next.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub checking: bool,
    #[serde(default)]
    pub outcome: Outcome<ExportResult>,
}

impl Export {
    /// The folder this export saves into: its own, recorded when it was made; for an older
    /// entry, its reserved file's folder; else `fallback` (the running process's setting).
    pub fn folder(&self, fallback: &std::path::Path) -> PathBuf {
        self.output_dir
            .clone()
            .or_else(|| {
                self.output_path
                    .as_deref()
                    .and_then(std::path::Path::parent)
                    .map(std::path::Path::to_path_buf)
            })
            .unwrap_or_else(|| fallback.to_path_buf())
    }
}

/// `make_video`: its plan and the steps it started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Video {
    pub plan: VideoPlan,
    pub outcome: Outcome<VideoResult>,
}

// Not derived: a derive would ask `T: Default` of every result type.
#[allow(clippy::derivable_impls)]
impl<T> Default for Outcome<T> {
    fn default() -> Self {
        Outcome::Running
    }
}

/// A job's kind and its kind's own data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Work {
    Generate(Generation),
    Export(Export),
    Upload(Upload),
    /// Boxed: a plan and its result are the largest of the kinds by far.
    Video(Box<Video>),
}

impl Work {
    pub fn kind(&self) -> JobKind {
        match self {
            Work::Generate(_) => JobKind::Generate,
            Work::Export(_) => JobKind::Export,
            Work::Upload(_) => JobKind::Upload,
            Work::Video(_) => JobKind::Video,
        }
    }

    pub fn status(&self) -> JobStatus {
        match self {
            Work::Generate(g) => g.outcome.status(),
            Work::Export(e) => e.outcome.status(),
            Work::Upload(u) => u.outcome.status(),
            Work::Video(v) => v.outcome.status(),
        }
    }

    pub fn error(&self) -> Option<&ToolError> {
        match self {
            Work::Generate(g) => g.outcome.error(),
            Work::Export(e) => e.outcome.error(),
            Work::Upload(u) => u.outcome.error(),
            Work::Video(v) => v.outcome.error(),
        }
    }

    /// End the job without a result, whatever its kind.
    pub fn end(&mut self, how: Ended) {
        match self {
            Work::Generate(g) => g.outcome = how.into_outcome(),
            Work::Export(e) => e.outcome = how.into_outcome(),
            Work::Upload(u) => u.outcome = how.into_outcome(),
            Work::Video(v) => v.outcome = how.into_outcome(),
        }
    }
}

/// The result type of one kind of job: where it goes in [`Work`].
pub trait JobResult: Sized + Send + 'static {
    fn outcome(work: &Work) -> Option<&Outcome<Self>>;
    fn outcome_mut(work: &mut Work) -> Option<&mut Outcome<Self>>;
}

macro_rules! job_result {
    ($t:ty, $variant:ident) => {
        impl JobResult for $t {
            fn outcome(work: &Work) -> Option<&Outcome<Self>> {
                match work {
                    Work::$variant(w) => Some(&w.outcome),
                    _ => None,
                }
            }
            fn outcome_mut(work: &mut Work) -> Option<&mut Outcome<Self>> {
                match work {
                    Work::$variant(w) => Some(&mut w.outcome),
                    _ => None,
                }
            }
        }
    };
}
job_result!(GenerateOutput, Generate);
job_result!(ExportResult, Export);
job_result!(UploadResult, Upload);
job_result!(VideoResult, Video);

/// A session snapshot is journaled as the backend's answer it was read from, and read back
/// through the same lenient parser.
mod state_snapshot {
    use nemo_client::{SessionId, SessionState};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Snapshot {
        session_id: SessionId,
        data: serde_json::Value,
    }

    pub fn serialize<S: Serializer>(s: &Option<SessionState>, ser: S) -> Result<S::Ok, S::Error> {
        s.as_ref()
            .map(|s| Snapshot {
                session_id: s.session_id,
                data: s.raw.clone(),
            })
            .serialize(ser)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SessionState>, D::Error> {
        Ok(Option::<Snapshot>::deserialize(d)?
            .map(|s| SessionState::from_data(s.session_id, &s.data)))
    }
}

/// An upload: what was asked to be uploaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Upload {
    /// The paths and URLs given (as the caller wrote them).
    #[serde(default)]
    pub inputs: Vec<String>,
    #[serde(default)]
    pub outcome: Outcome<UploadResult>,
}

//! The first journal format (entries without `version`): one bag of optional fields for every
//! kind, the result as untyped JSON. Read once after an upgrade and turned into a [`Job`]; a
//! job left running by the old version is resumed by the new one.

use super::job::{Export, Generation, Job, Outcome, Upload, Video, Work, JOURNAL_VERSION};
use super::results::VideoPlan;
use crate::account::estimate::CostKind;
use crate::errors::{Code, ToolError};
use chrono::{DateTime, Utc};
use nemo_client::{RenderId, SessionId, SessionState};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindV1 {
    Generate,
    Export,
    Upload,
    Video,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StatusV1 {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Debug, Deserialize)]
pub(super) struct JobV1 {
    id: String,
    kind: KindV1,
    status: StatusV1,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    progress_pct: Option<f64>,
    message: String,
    activity: u64,
    result: Option<Value>,
    error: Option<ToolError>,
    instruction: Option<String>,
    session_id: Option<String>,
    state_before: Option<Value>,
    credits_before: Option<i64>,
    render_id: Option<String>,
    output_stem: Option<String>,
    #[serde(default)]
    output_path: Option<PathBuf>,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    cost_kind: Option<CostKind>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    plan: Option<VideoPlan>,
}

impl JobV1 {
    /// The same job in today's model, or why it cannot be (then it is skipped, as a torn
    /// entry is).
    pub(super) fn upgrade(self) -> Result<Job, String> {
        let session_id = match self.session_id.as_deref() {
            None => None,
            Some(s) => Some(
                s.parse::<u64>()
                    .map(SessionId::new)
                    .map_err(|_| "its session id is not a number")?,
            ),
        };
        let work = match self.kind {
            KindV1::Generate => Work::Generate(Generation {
                instruction: self.instruction.clone().unwrap_or_default(),
                session_id,
                state_before: session_id
                    .zip(self.state_before.as_ref())
                    .map(|(s, raw)| SessionState::from_data(s, raw)),
                credits_before: self.credits_before,
                cost_kind: self.cost_kind,
                outcome: self.outcome()?,
            }),
            KindV1::Export => Work::Export(Export {
                project: None,
                render_id: self.render_id.clone().map(RenderId::from_journal),
                output_stem: self.output_stem.clone(),
                output_path: self.output_path.clone(),
                draft_sha256: None,
                rendered: false,
                no_captions: false,
                checking: false,
                output_dir: None,
                outcome: self.outcome()?,
            }),
            KindV1::Upload => Work::Upload(Upload {
                inputs: Vec::new(),
                outcome: self.outcome()?,
            }),
            KindV1::Video => Work::Video(Box::new(Video {
                plan: self
                    .plan
                    .clone()
                    .ok_or("a make_video entry without its plan")?,
                outcome: self.outcome()?,
            })),
        };
        Ok(Job {
            version: JOURNAL_VERSION,
            id: self.id,
            created_at: self.created_at,
            finished_at: self.finished_at,
            progress_pct: self.progress_pct,
            message: self.message,
            activity: self.activity,
            request_id: self.request_id,
            owner: self.owner,
            project: None,
            account: None,
            attribution: None,
            work,
        })
    }

    fn outcome<T: DeserializeOwned>(&self) -> Result<Outcome<T>, String> {
        Ok(match self.status {
            StatusV1::Running => Outcome::Running,
            StatusV1::Cancelled => Outcome::Cancelled,
            StatusV1::Failed => Outcome::Failed {
                error: self
                    .error
                    .clone()
                    .unwrap_or_else(|| ToolError::new(Code::Failed, self.message.clone())),
            },
            StatusV1::Succeeded => Outcome::Succeeded {
                result: serde_json::from_value(self.result.clone().unwrap_or(Value::Null))
                    .map_err(|e| format!("its result does not read as this kind's: {e}"))?,
            },
        })
    }
}

//! Tool arguments and the typed answers that are not jobs.

use crate::jobs::upload::RejectedInput;
use crate::views::JobView;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConnectArgs {
    /// Start a new, empty project instead of continuing the current one.
    #[serde(default)]
    pub new_project: Option<bool>,
    /// Language of a new project (en, zh-CN, ja, es, ...); the host's locale when omitted.
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UploadArgs {
    /// Absolute paths (or ~/...) of local images, videos or audio files.
    #[serde(default)]
    pub paths: Option<Vec<String>>,
    /// http(s) addresses of media for NemoVideo to fetch.
    #[serde(default)]
    pub urls: Option<Vec<String>>,
    /// Seconds to wait for the upload before answering `running` (default 45, at most 55).
    #[serde(default)]
    pub wait_s: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GenerateArgs {
    /// What to create or change, in the user's words, e.g. "combine these images into a
    /// 30-second promo video with music and text overlays".
    pub instruction: String,
    /// Language for a new project (ISO code); detected from the instruction when omitted.
    #[serde(default)]
    pub language: Option<String>,
    /// Send it to the AI even if it reads as an export, credits, status or upload request
    /// (those are otherwise answered here, free).
    #[serde(default)]
    pub send_anyway: Option<bool>,
    /// Refuse (send nothing) if the estimated cost is above this many credits.
    #[serde(default)]
    pub max_credits: Option<i64>,
    /// Idempotency key: calling again with the same key returns the same job, never sends again.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Seconds to wait before answering `running` (default 45, at most 55).
    #[serde(default)]
    pub wait_s: Option<f64>,
}

/// A `generate` instruction answered here without the AI (nothing sent, nothing charged).
#[derive(Debug, Serialize, JsonSchema)]
pub struct RoutedAnswer {
    /// What the instruction was: export, credits, status or upload.
    pub routed_as: String,
    pub answer: String,
    /// The tool that does it.
    pub tool: String,
    /// Always false: the instruction was not sent to NemoVideo.
    pub sent: bool,
    pub credits_spent: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetJobArgs {
    /// The job id returned by generate, export_video or upload_media.
    pub job_id: String,
    /// Seconds to wait for the job to finish before answering (default 45, at most 55; 0 = just look).
    #[serde(default)]
    pub wait_s: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct JobIdArgs {
    /// The job id to cancel.
    pub job_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TimelineArgs {
    /// Also return the raw draft JSON (large; for debugging).
    #[serde(default)]
    pub include_draft: Option<bool>,
}

/// No output options: the seeds' render request has none (always an MP4 at high quality, at
/// the backend's resolution), so an option such as `resolution` is refused, never ignored.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportArgs {
    /// File name for the MP4 (without folder); from the video's title when omitted.
    #[serde(default)]
    pub filename: Option<String>,
    /// Idempotency key: calling again with the same key returns the same export job.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Seconds to wait before answering `running` (default 45, at most 55).
    #[serde(default)]
    pub wait_s: Option<f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreditsView {
    pub available: i64,
    /// Reserved by work in progress.
    pub frozen: i64,
    pub total: i64,
    /// Fewer credits than one edit costs (about 50).
    pub low: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnectView {
    /// "anonymous" (free starter account) or "token" (NEMO_TOKEN from the environment).
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub credits: CreditsView,
    pub project_id: String,
    pub new_project: bool,
    /// Opens the project in a browser.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_link: Option<String>,
    /// For anonymous accounts: register (and keep the work) here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub register_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_expires_at: Option<String>,
    pub output_dir: String,
    pub allowed_dirs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SegmentView {
    pub start_s: Option<f64>,
    pub end_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_pct: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TrackView {
    /// video, audio, text or other.
    pub kind: String,
    /// One line, as in the summary.
    pub description: String,
    pub segments: Vec<SegmentView>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TimelineView {
    /// `Timeline (3 tracks): 1. Video: ... 2. BGM: ... 3. Title: ...`
    pub summary: String,
    pub duration_s: Option<f64>,
    pub exportable: bool,
    pub tracks: Vec<TrackView>,
    pub media_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canvas: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::views::any_json")]
    pub draft: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

impl TimelineView {
    pub fn of(state: &nemo_client::SessionState, include_draft: bool) -> TimelineView {
        let secs = |ms: Option<u64>| ms.map(|m| m as f64 / 1000.0);
        TimelineView {
            summary: state.timeline.summary(),
            duration_s: secs(state.timeline.duration_ms),
            exportable: state.timeline.is_exportable(),
            tracks: state
                .timeline
                .tracks
                .iter()
                .map(|t| TrackView {
                    kind: serde_json::to_value(t.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    description: t.describe(),
                    segments: t
                        .segments
                        .iter()
                        .map(|s| SegmentView {
                            start_s: secs(s.start_ms),
                            end_s: secs(s.end_ms),
                            label: s.label.clone(),
                            volume_pct: s.volume_pct,
                        })
                        .collect(),
                })
                .collect(),
            media_count: state.assets.len() + state.generated_media,
            canvas: state.canvas.map(|(w, h)| format!("{w}x{h}")),
            draft: include_draft.then(|| state.draft.clone()),
            notice: None,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct JobsView {
    /// Newest first.
    pub jobs: Vec<JobView>,
}

/// What was wrong with each input of an upload where nothing could be sent.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RejectedView {
    pub rejected: Vec<RejectedInput>,
}

//! Tool arguments and the typed answers that are not jobs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConnectArgs {
    // Start over, empty. (The tool's description says it: `new_project=true starts over`.)
    #[serde(default)]
    pub new_project: Option<bool>,
    /// From list_projects.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Of a new project.
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UploadArgs {
    /// Absolute paths or ~/….
    #[serde(default)]
    pub paths: Option<Vec<String>>,
    #[serde(default)]
    pub urls: Option<Vec<String>>,
    #[serde(default)]
    pub wait_s: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GenerateArgs {
    /// The user's words.
    pub instruction: String,
    /// Send even a non-edit request.
    #[serde(default)]
    pub send_anyway: Option<bool>,
    /// Send nothing costing more.
    #[serde(default)]
    pub max_credits: Option<i64>,
    /// The user agreed to the estimate.
    #[serde(default)]
    pub confirm: Option<bool>,
    /// Same key, same job.
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub wait_s: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MakeVideoArgs {
    /// The user's words.
    pub instruction: String,
    #[serde(default)]
    pub paths: Option<Vec<String>>,
    #[serde(default)]
    pub urls: Option<Vec<String>>,
    #[serde(default)]
    pub export: Option<bool>,
    #[serde(default)]
    pub max_credits: Option<i64>,
    /// The user agreed to the estimate.
    #[serde(default)]
    pub confirm: Option<bool>,
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub wait_s: Option<f64>,
    /// An MP4 each: tiktok, youtube, square 1:1…
    #[serde(default, alias = "platforms")]
    pub variants: Option<Vec<String>>,
    /// One paid fix round if it differs.
    #[serde(default)]
    pub fix: Option<bool>,
    // Default: the brand kit when one is set (`nemo-mcp brand set`); false leaves it out. (No
    // description: the name says it, and the tool list is read on every turn.)
    #[serde(default)]
    pub brand: Option<bool>,
    // Default true: `.srt` and `.vtt` of the timeline's text beside the MP4. (No description:
    // the name says it, and every character here is read by the model on every turn.)
    #[serde(default)]
    pub captions: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetJobArgs {
    pub job_id: String,
    /// 0 just looks.
    #[serde(default)]
    pub wait_s: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct JobIdArgs {
    pub job_id: String,
}

/// No output options: the seeds' render request has none (always an MP4 at high quality, at
/// the backend's resolution), so an option such as `resolution` is refused, never ignored.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportArgs {
    /// Default: the title.
    #[serde(default)]
    pub filename: Option<String>,
    /// Same key, same job.
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub wait_s: Option<f64>,
    // Default true: `.srt` and `.vtt` of the timeline's text beside the MP4. (No description:
    // the name says it, and every character here is read by the model on every turn.)
    #[serde(default)]
    pub captions: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListProjectsArgs {
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProjectsView {
    #[schemars(with = "Vec<ProjectBrief>")]
    pub projects: Vec<crate::project::library::ProjectView>,
    /// The total, and the cursor for more (not in the schema: the text says it too).
    #[serde(flatten)]
    #[schemars(skip)]
    pub page: crate::mcp::paging::PageInfo,
}

/// The part of a listed project its schema names (the rest is in the text and the object).
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct ProjectBrief {
    project_id: String,
    title: Option<String>,
    current: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreditsView {
    pub available: i64,
    /// Reserved by running work.
    pub frozen: i64,
    pub total: i64,
    /// Fewer than one edit costs.
    pub low: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    /// Spent today, in this project and in this session (from the spend ledger).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub spent: Option<crate::account::spend::Spent>,
    /// When the free account's token expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub token_expires_at: Option<String>,
    /// The text's other sentences (budgets, the free account's clock), for hosts that give the
    /// model only the structured content.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(skip)]
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnectView {
    /// anonymous (free) or token (NEMO_TOKEN).
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub user_id: Option<String>,
    /// Credits available (get_credits has the details).
    pub credits: i64,
    pub project_id: String,
    #[schemars(skip)]
    pub new_project: bool,
    /// Opens the project in a browser.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_link: Option<String>,
    /// Register here to keep the work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub register_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub token_expires_at: Option<String>,
    pub output_dir: String,
    pub allowed_dirs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// Over `--http` in the 2026-07-28 era: the workspace to pass to every tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub workspace: Option<String>,
    /// The user's brand kits (`nemo-mcp brand set`): what make_video adds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(skip)]
    pub brands: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SegmentView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_pct: Option<u32>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TrackView {
    /// video, audio, text or other.
    pub kind: String,
    pub segments: Vec<SegmentView>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TimelineView {
    /// One line: `Timeline (3 tracks): 1. Video: …`.
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    pub exportable: bool,
    pub tracks: Vec<TrackView>,
    pub media_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub canvas: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
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
    pub jobs: Vec<crate::mcp::views::JobSummary>,
    /// The total, and the cursor for more (not in the schema: the text says it too).
    #[serde(flatten)]
    #[schemars(skip)]
    pub page: crate::mcp::paging::PageInfo,
}

/// `list_jobs`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListJobsArgs {
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `read_export_piece` (app-only: the player view calls it).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PieceArgs {
    pub job_id: String,
    #[serde(default)]
    pub offset: Option<u64>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct TimelineArgs {
    #[serde(default)]
    pub storyboard: Option<bool>,
}

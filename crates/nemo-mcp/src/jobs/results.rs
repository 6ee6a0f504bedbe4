//! The typed results of each kind of job: what a finished job holds, what its tool's
//! `outputSchema` describes, and what views and texts are built from.

pub use crate::files::uploads::{MediaInputs, RejectedInput};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the instruction reached NemoVideo and how its outcome was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Sent once; the turn streamed to its end.
    Streamed,
    /// Sent once; the stream broke or closed before the turn ended, so the outcome was read
    /// from the project state.
    StreamCut,
    /// The request failed after it may have arrived (a 5xx, a reset, no answer); the outcome was
    /// read from the project state. It was not sent again.
    Unconfirmed,
}

/// The result of a finished generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GenerateResult {
    /// NemoVideo's reply (may be empty).
    pub reply: String,
    /// What changed on the timeline.
    pub changes: String,
    pub changed: bool,
    /// The timeline after, in one line.
    pub timeline: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    pub exportable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_spent: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_left: Option<i64>,
    /// streamed, stream_cut or unconfirmed: how the outcome was learnt (never by sending
    /// again). Left out of the tool's schema (the text says it where it matters): the tool
    /// list is read on every turn.
    #[schemars(skip)]
    pub delivery: Delivery,
    /// Read from the project state: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
    /// A lost project was replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    pub next_step: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExportResult {
    /// Absolute path of the saved MP4.
    pub path: String,
    /// NemoVideo's URL of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub size_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    #[schemars(skip)]
    pub render_id: String,
    /// Opens the project in a browser.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_link: Option<String>,
    /// Exports are free (always 0).
    #[schemars(skip)]
    pub credits_spent: i64,
    /// The timeline's length when the file was saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub timeline_s: Option<f64>,
    #[serde(flatten)]
    #[schemars(skip)]
    pub checked: FileCheck,
}

/// What the saved file is and what came of checking it: shared by an export's result and
/// `make_video`'s (where the length the request asked for is checked too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FileCheck {
    /// The file's own length, picture size and sound, read from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<crate::files::mp4::Mp4Facts>,
    /// The times (seconds) of the pictures on the contact sheet that comes with the result,
    /// decoded from the file itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames_s: Vec<f64>,
    /// The contact sheet as a JPEG beside the MP4 (`<name>.frames.jpg`): an image of the
    /// video's frames to open (for hosts that pass no image to their model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<String>,
    /// The captions files written beside the MP4 (from the timeline's text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub captions: Vec<String>,
    /// Black, unchanging or soundless stretches, decoded from the file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stretches: Vec<crate::files::mp4::Stretch>,
    /// Whether the timeline the file was rendered from had text on it (titles, captions);
    /// absent when the timeline could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_track: Option<bool>,
    /// What the file was held against (`run::held`): the length asked, a platform's shape,
    /// music, text, black pictures.
    #[serde(rename = "checked", default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<String>,
    /// How the file differs from what was asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differs: Vec<String>,
    /// What the checks found: a length unlike the timeline's or the request's, a file that
    /// cannot be read, sound measured in part, captions not written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UploadedItem {
    pub input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_type: Option<String>,
    #[schemars(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[schemars(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u64>,
    #[schemars(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    #[schemars(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
}

impl UploadedItem {
    pub fn new(input: String, asset: nemo_client::state::AssetInfo) -> UploadedItem {
        UploadedItem {
            input,
            filename: asset.filename,
            file_type: asset.file_type,
            url: asset.url,
            width: asset.width,
            height: asset.height,
            duration_s: asset.duration_s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UploadResult {
    pub uploaded: Vec<UploadedItem>,
    /// Already in this project (same bytes, or same URL): not sent again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub already_present: Vec<String>,
    pub rejected: Vec<RejectedInput>,
    /// Media in the project now.
    pub project_media: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// Uploads are free (always 0).
    #[schemars(skip)]
    pub credits_spent: i64,
    pub next_step: String,
}

/// What the job still has to do, and the steps it started (journaled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoPlan {
    pub instruction: String,
    pub language: String,
    pub export: bool,
    pub cost_kind: crate::account::estimate::CostKind,
    #[serde(default)]
    pub upload: Option<String>,
    #[serde(default)]
    pub generate: Option<String>,
    #[serde(default)]
    pub export_job: Option<String>,
    /// A variant's own project: its steps work there, never in the current project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<nemo_client::Session>,
    /// The export's file name (a variant's label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// A set of variants ([`crate::run::variants`]): what each one is and has started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<VariantSet>,
    /// The media of its upload step, to upload once more when a restart cut that step.
    #[serde(default, skip_serializing_if = "MediaInputs::is_empty")]
    pub media: MediaInputs,
    /// No captions files beside the MP4 (`captions: false`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_captions: bool,
    /// Where its export saves, as the process that made it was set up (absent in plans
    /// journaled before it was recorded: the running process's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_dir: Option<std::path::PathBuf>,
    /// The folders its media may come from, as the process that made it was set up (absent
    /// in plans journaled before it was recorded: the running process's folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<crate::files::paths::AllowedFolders>,
    /// The budgets of the process that made it (absent in plans journaled before they were
    /// recorded): a paid step another process runs for it (the fix round) is held to these
    /// and its own, whichever are stricter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budgets: Option<crate::account::spend::Budgets>,
    /// `fix: true`: when the saved file differs from what was asked, one more paid edit
    /// written from the differences, then one more export; never a second round.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fix: bool,
    /// The fix round, journaled as it starts (so a restart follows it, never sends it again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_round: Option<FixRound>,
    /// What the user asked, where the instruction sent says more: a platform's version is
    /// sent with the platform's limits in words ("at most 10 minutes; keep titles and
    /// captions out of …"), which are ours, held as the platform's and never as a length or
    /// text the user asked for. Absent: the instruction is the ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked: Option<String>,
}

/// What a difference between a file and its ask is about: a fix round fixed it when none of
/// its kind is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    Length,
    Shape,
    PlatformLength,
    /// Smaller than the platform wants, or not read: the renderer's, not an edit's to change.
    Resolution,
    Black,
    Quiet,
    Music,
    Text,
}

impl DifferenceKind {
    /// An edit can change it, so a fix round may ask for it.
    pub fn fixable(self) -> bool {
        self != DifferenceKind::Resolution
    }
}

/// The one fix round of a video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FixRound {
    /// What differed (and what about), and the instruction written from it.
    pub differs: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<DifferenceKind>,
    pub instruction: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_job: Option<String>,
}

impl VideoPlan {
    /// What the saved file is held against as the user's ask (`run::held`).
    pub fn asked(&self) -> &str {
        self.asked.as_deref().unwrap_or(&self.instruction)
    }

    /// The steps started so far, in order (for a set: each variant's upload and job).
    pub fn steps(&self) -> impl Iterator<Item = &String> {
        let own = [&self.upload, &self.generate, &self.export_job].into_iter();
        let variants = self
            .set
            .iter()
            .flat_map(|s| s.slots.iter())
            .flat_map(|v| [&v.upload, &v.job]);
        own.chain(variants).flatten()
    }
}

/// One request's variants: the media once, then a project and a `make_video` job per variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct VariantSet {
    /// The local files given (checked again after a restart) and the URLs.
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub urls: Vec<String>,
    /// How the later projects get the media: the URLs NemoVideo gave the first upload (sent by
    /// reference), or `None` before that upload finished or when it gave none (sent again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<Vec<String>>,
    /// How many variants run at once.
    pub concurrency: usize,
    pub slots: Vec<VariantSlot>,
}

/// One variant of a set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct VariantSlot {
    /// As the caller wrote it ("vertical 9:16 for TikTok").
    pub label: String,
    /// The base instruction with the variant's own words.
    pub instruction: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<nemo_client::Session>,
    /// Its upload job (the files for the first; by reference, or the files again, for others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<String>,
    /// Its own `make_video` job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}

/// What became of one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VariantOutcome {
    pub label: String,
    /// made, edited (not exported), failed, cancelled or not_started.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    pub credits_spent: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Its frames beside its MP4 (`<name>.frames.jpg`), to open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<String>,
    /// For a platform's version: what its file was held against (shape, resolution, length).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checked: Vec<String>,
    /// And what differs from what the platform wants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differs: Vec<String>,
    /// Why it was not made (its error's code and message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its instruction may have left (and been charged): such a version is never sent back
    /// to `make_video`, only to its own project's free `export_video`. Not shown: the line and
    /// the next step say it in words.
    #[serde(skip)]
    pub may_have_been_sent: bool,
}

/// The three results in one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct VideoResult {
    /// The saved MP4 (absent when not exported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// NemoVideo's reply.
    pub reply: String,
    pub changes: String,
    pub timeline: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_spent: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_left: Option<i64>,
    /// Files and URLs sent.
    pub uploaded: usize,
    /// Already in the project: not sent again.
    pub already_present: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<RejectedInput>,
    /// Why there is no MP4, or how the outcome was learnt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// The export step (its resource: nemo://exports/{export_job}).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub export_job: Option<String>,
    /// A set of variants: each one's outcome, in the order asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(skip)]
    pub variants: Vec<VariantOutcome>,
    /// The saved file's own facts, its captions and what its checks found.
    #[serde(flatten)]
    #[schemars(skip)]
    pub checked: FileCheck,
    /// With `fix: true`: what one more edit fixed (the file is the fixed one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(skip)]
    pub fixed: Vec<String>,
    pub next_step: String,
}

/// A `generate` instruction answered here without the AI (nothing sent, nothing charged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoutedAnswer {
    /// export, credits, status or upload.
    pub routed_as: String,
    pub answer: String,
    /// The tool to call for it.
    pub tool: String,
    /// false: not sent to NemoVideo.
    #[schemars(skip)]
    pub sent: bool,
    #[schemars(skip)]
    pub credits_spent: i64,
}

/// What `generate` answers when done: the edit's outcome, or (for an instruction that is
/// only an export, credits, status or upload request) the answer given here, free.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum GenerateOutput {
    Edited(GenerateResult),
    NotSent(RoutedAnswer),
}

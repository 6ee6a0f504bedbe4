//! `make_video`: the seeds' quick edit (upload, generate, export) as one job.
//!
//! Each step is an ordinary job of its own (listed, journaled, resumed like any other), started
//! by this one, which follows them in turn and combines their results. The steps' ids are
//! journaled in the [`VideoPlan`] as they start, and each step after the upload carries this
//! job's id as its `request_id`: a restart finds the step that was running instead of starting
//! it again, so the paid message is still sent at most once.

use super::{Job, JobCtx, JobStatus, Spawned};
use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::jobs::upload::RejectedInput;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// What the job still has to do, and the steps it started (journaled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoPlan {
    pub instruction: String,
    pub language: String,
    pub export: bool,
    pub cost_kind: crate::credits::CostKind,
    #[serde(default)]
    pub upload: Option<String>,
    #[serde(default)]
    pub generate: Option<String>,
    #[serde(default)]
    pub export_job: Option<String>,
}

impl VideoPlan {
    /// The steps started so far, in order.
    pub fn steps(&self) -> impl Iterator<Item = &String> {
        [&self.upload, &self.generate, &self.export_job]
            .into_iter()
            .flatten()
    }
}

/// The three results in one.
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
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
    pub next_step: String,
}

/// Progress given to each step: (start, end) in percent.
const UPLOAD: (f64, f64) = (0.0, 20.0);
const GENERATE: (f64, f64) = (20.0, 70.0);
const EXPORT: (f64, f64) = (70.0, 100.0);

fn plan_of(ctx: &JobCtx) -> Result<VideoPlan, ToolError> {
    ctx.snapshot()
        .plan
        .ok_or_else(|| ToolError::new(Code::Internal, "make_video job without its plan"))
}

/// Run (or, after a restart, resume) the job: each step not yet done is started or followed.
pub async fn run(app: Arc<App>, ctx: JobCtx) -> Result<Value, ToolError> {
    let mut plan = plan_of(&ctx)?;
    let mut out = VideoResult::default();
    if let Some(id) = plan.upload.clone() {
        let up = follow(&app, &ctx, &id, UPLOAD, "uploading").await?;
        take_upload(&mut out, up.result.as_ref());
    }
    let generation = match plan.generate.clone() {
        Some(id) => follow(&app, &ctx, &id, GENERATE, "NemoVideo").await?,
        None => {
            let job = start_generation(&app, &ctx, &plan).await?;
            plan.generate = Some(job.id.clone());
            save_plan(&ctx, &plan);
            follow(&app, &ctx, &job.id, GENERATE, "NemoVideo").await?
        }
    };
    let g = generation.result.unwrap_or(Value::Null);
    take_generation(&mut out, &g);
    let exportable = g["exportable"].as_bool().unwrap_or(false);
    if !plan.export {
        out.next_step = "call export_video to save the MP4, or generate to change it".into();
        return to_value(out);
    }
    if !exportable {
        out.notice = Some("not exported: the timeline cannot be exported yet".into());
        out.next_step = "say what the video needs with generate, then call export_video".into();
        return to_value(out);
    }
    let export_id = match plan.export_job.clone() {
        Some(id) => id,
        None => {
            let id = match super::export::start(&app, None, Some(ctx.snapshot().id)) {
                Spawned::Started(j) | Spawned::Existing(j) => j.id,
            };
            plan.export_job = Some(id.clone());
            save_plan(&ctx, &plan);
            id
        }
    };
    let export = follow(&app, &ctx, &export_id, EXPORT, "exporting").await?;
    let e = export.result.unwrap_or(Value::Null);
    out.path = e["path"].as_str().map(str::to_string);
    out.size_bytes = e["size_bytes"].as_u64();
    out.export_job = Some(export_id);
    out.next_step = "to change it, call generate, then export_video".into();
    to_value(out)
}

fn to_value(out: VideoResult) -> Result<Value, ToolError> {
    serde_json::to_value(out).map_err(|e| ToolError::new(Code::Internal, e.to_string()))
}

fn save_plan(ctx: &JobCtx, plan: &VideoPlan) {
    let plan = plan.clone();
    ctx.update_journaled(|j| j.plan = Some(plan));
}

/// The generation step, keyed by this job's id: after a restart the step already started is
/// found, never started (and paid for) twice.
async fn start_generation(
    app: &Arc<App>,
    ctx: &JobCtx,
    plan: &VideoPlan,
) -> Result<Job, ToolError> {
    use super::generation::{start, Request, Started};
    let req = Request {
        instruction: plan.instruction.clone(),
        also_export: false,
    };
    let key = ctx.snapshot().id;
    if let Some(started) = app.jobs.by_request(super::JobKind::Generate, &key) {
        return Ok(started);
    }
    match start(app, req, &plan.language, Some(key), plan.cost_kind).await? {
        Started::New(j) | Started::SameRequest(j) => Ok(j),
        Started::Busy(running) => Err(ToolError::new(
            Code::Busy,
            format!(
                "a generation is already running in this project, so the instruction was not sent (the media were uploaded); wait for job {} with get_job",
                running.id
            ),
        )
        .next("call make_video again without files, or generate, once it has finished")),
    }
}

/// Follow a step to its end, reporting its progress within `span`; its error is this job's.
async fn follow(
    app: &App,
    ctx: &JobCtx,
    id: &str,
    span: (f64, f64),
    label: &str,
) -> Result<Job, ToolError> {
    let Some(mut rx) = app.jobs.watch(id) else {
        return Err(ToolError::new(
            Code::Interrupted,
            format!("step {id} is no longer known (the journal was pruned or removed)"),
        )
        .next("call make_video again"));
    };
    loop {
        let step = rx.borrow_and_update().clone();
        let pct = match step.progress_pct {
            Some(p) => span.0 + (span.1 - span.0) * p / 100.0,
            // A generation has no measurable size: half-way through its span once it works.
            None if step.activity > 1 => (span.0 + span.1) / 2.0,
            None => span.0,
        };
        ctx.progress(Some(pct), format!("{label}: {}", step.message));
        match step.status {
            JobStatus::Running => {}
            JobStatus::Succeeded => return Ok(step),
            JobStatus::Failed => return Err(step_error(&step)),
            JobStatus::Cancelled => {
                return Err(ToolError::new(
                    Code::Cancelled,
                    format!("step {} was cancelled", step.id),
                ))
            }
        }
        if rx.changed().await.is_err() {
            return Err(ToolError::new(
                Code::Internal,
                format!("step {id} vanished"),
            ));
        }
    }
}

/// A failed step's error, saying which step (its code, retry advice and next step kept).
fn step_error(step: &Job) -> ToolError {
    let mut e = step
        .error
        .clone()
        .unwrap_or_else(|| ToolError::new(Code::Failed, step.message.clone()));
    let what = match step.kind {
        super::JobKind::Upload => "the upload failed, so nothing was sent to NemoVideo",
        super::JobKind::Generate => "the edit failed",
        super::JobKind::Export => "the edit was made but the export failed",
        super::JobKind::Video => "a step failed",
    };
    e.message = format!("{what}: {}", e.message);
    e
}

fn take_upload(out: &mut VideoResult, r: Option<&Value>) {
    let Some(r) = r else { return };
    let count = |k: &str| r[k].as_array().map_or(0, Vec::len);
    out.uploaded = count("uploaded");
    out.already_present = count("already_present");
    out.rejected = serde_json::from_value(r["rejected"].clone()).unwrap_or_default();
}

fn take_generation(out: &mut VideoResult, g: &Value) {
    let s = |k: &str| g[k].as_str().unwrap_or_default().to_string();
    out.reply = s("reply");
    out.changes = s("changes");
    out.timeline = s("timeline");
    out.credits_spent = g["credits_spent"].as_i64();
    out.credits_left = g["credits_left"].as_i64();
    out.notice = g["recovered"]
        .as_str()
        .or(g["notice"].as_str())
        .map(str::to_string);
}

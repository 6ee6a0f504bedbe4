//! `make_video` with `variants`: checked, estimated and agreed to once for the whole set, then
//! one parent job ([`crate::run::variants`]).

use super::*;
use crate::config::MAX_VARIANTS;
use crate::run::variants::instruction_for;

/// The variants as given: trimmed, none empty, none twice, at most [`MAX_VARIANTS`].
pub(super) fn check_variants(given: Option<Vec<String>>) -> Result<Vec<String>, ToolError> {
    let given = given.unwrap_or_default();
    let variants: Vec<String> = given.iter().map(|v| v.trim().to_string()).collect();
    if variants.len() > MAX_VARIANTS {
        return Err(ToolError::invalid(format!(
            "at most {MAX_VARIANTS} variants per call ({} given)",
            variants.len()
        )));
    }
    if variants
        .iter()
        .any(|v| v.is_empty() || v.chars().count() > 200)
    {
        return Err(ToolError::invalid(
            "each variant is a short instruction of 1 to 200 characters, e.g. \"vertical 9:16 for TikTok\"",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    // "TikTok" and "tiktok" are one platform (one file called after it).
    let key = |v: &String| crate::run::variants::label_for(v).to_lowercase();
    if let Some(dup) = variants.iter().find(|v| !seen.insert(key(v))) {
        return Err(ToolError::invalid(format!(
            "the variant \"{dup}\" is given twice"
        )));
    }
    Ok(variants)
}

/// What a set asks of `make_video`, after the checks every call makes.
pub(super) struct SetRequest {
    pub instruction: String,
    pub request_id: Option<String>,
    pub variants: Vec<String>,
    pub inputs: Option<crate::files::uploads::CheckedInputs>,
    pub export: bool,
    pub max_credits: Option<i64>,
    pub confirmed: bool,
    pub wait_s: Option<f64>,
    /// Captions files beside each version's MP4.
    pub captions: bool,
    /// One bounded fix round per version whose file differs.
    pub fix: bool,
    /// The brand kit's words, shown in the quote (they are in the instruction already).
    pub kit_note: Option<String>,
}

impl NemoServer {
    /// One estimate (the variants' sum) checked against `max_credits`, the balance and the
    /// budgets, and one confirmation, before anything is uploaded or sent; then the parent job.
    pub(super) async fn make_set(
        &self,
        app: &Arc<App>,
        ctx: &RequestContext<RoleServer>,
        req: SetRequest,
    ) -> ToolResult {
        let instructions: Vec<String> = req
            .variants
            .iter()
            .map(|v| instruction_for(&req.instruction, v))
            .collect();
        let each: Vec<crate::account::estimate::Estimate> =
            instructions.iter().map(|i| app.estimate(i)).collect();
        let total = crate::account::estimate::Estimate {
            kind: each[0].kind,
            credits: each.iter().map(|e| e.credits).sum(),
            basis: {
                let mut b = format!(
                    "{} versions: {}; each {}",
                    each.len(),
                    each.iter()
                        .map(|e| e.credits.to_string())
                        .collect::<Vec<_>>()
                        .join(" + "),
                    each[0].basis
                );
                if let Some(k) = &req.kit_note {
                    b.push_str(&format!("; {k}"));
                }
                // What a platform's version will ask for, in the words sent.
                for v in &req.variants {
                    if let Some(p) = crate::run::platforms::find(v) {
                        b.push_str(&format!(
                            "; {}: {}",
                            p.name,
                            crate::run::platforms::expand(p)
                        ));
                    }
                }
                b
            },
        };
        let total = if req.fix {
            super::make::with_fix_round(total)
        } else {
            total
        };
        let (estimate, reservation) =
            match agree_to_estimate(app, ctx, total, req.max_credits, req.confirmed).await {
                Ok(e) => e,
                Err(e) => return fail(e),
            };
        let start = run::VideoRequest {
            instruction: req.instruction,
            request_id: req.request_id,
            inputs: req.inputs,
            variants: req.variants,
            export: req.export,
            captions: req.captions,
            cost_kind: estimate.kind,
            fix: req.fix,
        };
        let (job, note) = with_note(run::start_video(app, start));
        if note.is_none() {
            reservation.attach(&job.id);
        }
        self.answer_or_task(app, job, req.wait_s, ctx, note).await
    }
}

/// What cancelling a set says: the variants already sent go on being charged; the others stop.
pub(super) fn cancelled_set_note(app: &App, job: &Job) -> Option<String> {
    let set = job.video_plan()?.set.as_ref()?;
    let sent: Vec<&str> = set
        .slots
        .iter()
        .filter(|s| {
            s.job
                .as_deref()
                .and_then(|j| app.jobs.get(j))
                .and_then(|j| j.video_plan().and_then(|p| p.generate.clone()))
                .is_some()
        })
        .map(|s| s.label.as_str())
        .collect();
    let stopped = set.slots.len() - sent.len();
    Some(if sent.is_empty() {
        format!("Cancelled: none of the {stopped} versions had been sent to NemoVideo; nothing was charged for them.")
    } else {
        format!(
            "Cancelled. Already sent to NemoVideo, so it may still carry them out and charge for them: {}; each one's job records a late change and its cost (get_job on it). The other {stopped} version(s) were stopped before anything was sent.",
            sent.join("; ")
        )
    })
}

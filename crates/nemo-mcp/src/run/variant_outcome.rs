//! What became of each version of a set, read from its own finished job, and the set's answer:
//! one line per version (its file, credits, project, what it was checked for and how it differs,
//! its frames) and the totals. One line each, so a set of many versions fits the strictest
//! host's cut; `get_job` on a version's job gives the rest.

use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::jobs::results::{VariantOutcome, VideoResult};
use crate::jobs::{Job, JobStatus};

/// What a variant's finished job says.
pub(super) fn read_outcome(app: &App, job: &Job, out: &mut VariantOutcome) {
    let generation = job
        .video_plan()
        .and_then(|p| p.generate.as_deref())
        .and_then(|g| app.jobs.get(g));
    // Its edit's credits, and its fix round's when one was sent.
    let fix_round = job
        .video_plan()
        .and_then(|p| p.fix_round.as_ref())
        .and_then(|r| r.generate.as_deref())
        .and_then(|g| app.jobs.get(g));
    out.credits_spent = [&generation, &fix_round]
        .into_iter()
        .flatten()
        .filter_map(Job::credits_spent)
        .sum();
    out.may_have_been_sent = match &generation {
        // A step named but no longer known: nothing says it did not leave.
        None => job.video_plan().is_some_and(|p| p.generate.is_some()),
        Some(g) => out.credits_spent > 0 || !refused_before_sending(g),
    };
    match job.status() {
        JobStatus::Succeeded => {
            let r = job.video_result();
            out.path = r.and_then(|r| r.path.clone());
            out.size_bytes = r.and_then(|r| r.size_bytes);
            out.frames = r.and_then(|r| r.checked.frames.clone());
            // Its file as its own job held it: against the set's instruction and, for a
            // platform's version, the platform's shape and length.
            if let Some(r) = r {
                out.checked = r.checked.held.clone();
                out.differs = r.checked.differs.clone();
            }
            out.status = if out.path.is_some() { "made" } else { "edited" }.into();
            if out.path.is_none() {
                out.error = r.and_then(|r| r.notice.clone());
            }
        }
        JobStatus::Cancelled => out.status = "cancelled".into(),
        JobStatus::Running => out.status = "unknown".into(),
        JobStatus::Failed => {
            out.status = "failed".into();
            let e = job.error();
            let sent = generation.is_some();
            out.error = e.map(|e| {
                let what = if sent {
                    ""
                } else {
                    " (its instruction was not sent)"
                };
                // One line per version: a backend's words of any length are cut to a few
                // lines' worth, so every version's line is said.
                let message = crate::support::excerpt(&e.message, 400);
                format!("{}: {message}{what}", e.code.as_str())
            });
        }
    }
}

/// A generation that ended on an answer saying the message was not taken (or never left):
/// sending it again cannot charge it twice.
fn refused_before_sending(generation: &Job) -> bool {
    generation.status() == JobStatus::Failed
        && generation
            .error()
            .is_some_and(|e| e.code.refused_before_sending())
}

/// The set's answer: each variant, the total, and a failure when nothing was made.
pub(super) fn summarize(
    outcomes: Vec<VariantOutcome>,
    uploaded: usize,
    by_reference: bool,
) -> Result<VideoResult, ToolError> {
    let credits: i64 = outcomes.iter().map(|o| o.credits_spent).sum();
    let made = outcomes
        .iter()
        .filter(|o| o.status == "made" || o.status == "edited")
        .count();
    let lines: Vec<String> = outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| line(i, o))
        .collect();
    let summary = format!(
        "{made} of {} versions made, {credits} credits in all.\n{}",
        outcomes.len(),
        lines.join("\n")
    );
    if made == 0 {
        return Err(
            ToolError::new(Code::Failed, format!("no version was made. {summary}"))
                .next(nothing_made_next(&outcomes)),
        );
    }
    let media = match (uploaded, by_reference) {
        (0, _) => None,
        (n, true) => Some(format!(
            "The media ({n} item(s)) were uploaded once; the other versions' projects got them by NemoVideo's URLs."
        )),
        (n, false) => Some(format!(
            "The media ({n} item(s)) were uploaded to the first version's project; NemoVideo gave no URLs for them, so each other project got them uploaded again."
        )),
    };
    Ok(VideoResult {
        reply: summary,
        credits_spent: Some(credits),
        uploaded,
        notice: media,
        variants: outcomes,
        next_step: "each version is its own project: to change one, connect with its project_id, then generate and export_video".into(),
        ..VideoResult::default()
    })
}

/// What to do when no version was made. A version whose instruction may have left is never
/// sent back to `make_video`: that would send, and charge, its instruction a second time.
fn nothing_made_next(outcomes: &[VariantOutcome]) -> String {
    let sent: Vec<String> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| o.may_have_been_sent)
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    if sent.is_empty() {
        return "nothing was sent to NemoVideo: read each version's reason, fix what it says, then call make_video again".into();
    }
    let rest = if sent.len() < outcomes.len() {
        "; call make_video again only for the versions not listed, with just their variants"
    } else {
        ""
    };
    format!(
        "do not call make_video again for version(s) {}: their instructions reached NemoVideo and may have been charged, and it would send them again. For each, connect with its project_id, call get_timeline to see the edit, then export_video (free){rest}",
        sent.join(", ")
    )
}

/// `1. vertical 9:16 for TikTok: saved /…/x.mp4 (3.1 MB), 50 credits, project 123`.
fn line(i: usize, o: &VariantOutcome) -> String {
    let what = match (o.status.as_str(), &o.path) {
        ("made", Some(p)) => format!(
            "saved {p} ({:.1} MB)",
            o.size_bytes.unwrap_or(0) as f64 / 1e6
        ),
        ("edited", _) => format!(
            "edited, not exported{}",
            o.error
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ),
        (status, _) => format!(
            "{status}{}",
            o.error
                .as_ref()
                .map(|e| format!(" — {e}"))
                .unwrap_or_default()
        ),
    };
    let project = o
        .project_id
        .as_ref()
        .map(|p| format!(", project {p}"))
        .unwrap_or_default();
    let frames = o
        .frames
        .as_ref()
        .map(|f| format!("; frames {f}"))
        .unwrap_or_default();
    let more = o
        .job_id
        .as_ref()
        .map(|j| format!("; get_job {j} for its checks"))
        .unwrap_or_default();
    let checks = match (o.checked.is_empty(), o.differs.is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!("; checked {}: as asked", o.checked.join(", ")),
        (false, false) => format!(
            "; checked {}; differs: {}",
            o.checked.join(", "),
            o.differs.join("; ")
        ),
    };
    // A version that failed after its instruction left: its edit is most likely in its project,
    // and saving it is free (sending it again is not).
    let save = match (o.status.as_str(), o.may_have_been_sent, &o.project_id) {
        ("failed" | "unknown", true, Some(p)) => {
            format!("; its edit may be made: connect with project_id {p}, then export_video (free)")
        }
        _ => String::new(),
    };
    format!(
        "{}. {}: {what}; {} credits{project}{save}{checks}{frames}{more}",
        i + 1,
        o.label,
        o.credits_spent
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_made_is_a_failure_that_lists_each_version() {
        let o = |label: &str, status: &str, credits| VariantOutcome {
            label: label.into(),
            status: status.into(),
            path: (status == "made").then(|| "/v/a.mp4".to_string()),
            size_bytes: Some(2_000_000),
            credits_spent: credits,
            project_id: Some("7".into()),
            job_id: None,
            frames: None,
            checked: Vec::new(),
            differs: Vec::new(),
            error: (status != "made").then(|| "out_of_credits: no credits".to_string()),
            may_have_been_sent: false,
        };
        let e = summarize(vec![o("a", "failed", 0), o("b", "failed", 0)], 2, true).unwrap_err();
        assert!(e.message.contains("0 of 2 versions made"), "{}", e.message);
        assert!(
            e.message.contains("2. b: failed — out_of_credits"),
            "{}",
            e.message
        );
        let r = summarize(vec![o("a", "made", 50), o("b", "failed", 0)], 2, true).unwrap();
        assert_eq!(r.credits_spent, Some(50));
        assert!(r
            .reply
            .starts_with("1 of 2 versions made, 50 credits in all."));
        assert!(r.notice.unwrap().contains("uploaded once"));
    }

    #[test]
    fn a_version_that_may_have_been_charged_is_never_sent_back_to_make_video() {
        let o = |sent: bool| VariantOutcome {
            label: "v".into(),
            status: "failed".into(),
            path: None,
            size_bytes: None,
            credits_spent: if sent { 50 } else { 0 },
            project_id: Some("7".into()),
            job_id: None,
            frames: None,
            checked: Vec::new(),
            differs: Vec::new(),
            error: Some("render_failed: the render failed".into()),
            may_have_been_sent: sent,
        };
        let none = nothing_made_next(&[o(false), o(false)]);
        assert!(none.starts_with("nothing was sent"), "{none}");
        let some = nothing_made_next(&[o(true), o(false)]);
        assert!(
            some.starts_with("do not call make_video again for version(s) 1:"),
            "{some}"
        );
        assert!(some.contains("only for the versions not listed"), "{some}");
        let e = summarize(vec![o(true), o(true)], 1, true).unwrap_err();
        assert!(
            !e.next_step
                .as_deref()
                .unwrap_or_default()
                .contains("only for"),
            "{e:?}"
        );
        assert!(e
            .message
            .contains("connect with project_id 7, then export_video (free)"));
    }
}

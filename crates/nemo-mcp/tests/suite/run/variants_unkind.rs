//! `make_video` with `variants` when the world is not kind: credits running out after the
//! first version, a render that fails, restarts in the middle of the set and of its uploads,
//! a cancel, every render refused after the edits, a budget of exactly the quote. Every case
//! counts, from nemo-sim's log, the messages sent and the credits charged for each version.

use super::variants::{
    args, charged, harness, held_uploads, messages_per_variant, per_variant_credits, sim,
    sim_charges, statuses, uploads,
};
use crate::common;

use common::*;
use nemo_sim::{Fault, FaultAction, Route};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn out_of_credits_after_the_first_version_the_others_say_so_and_cost_nothing() {
    let h = harness(1).await;
    let r = h.call("make_video", args(&h, json!({"wait_s": 0}))).await;
    let parent = body(&r);
    // Agreed with 1000 available; then the account holds enough for one version only.
    h.sim.control().set_credits(None, 60);
    let done = h.finish(parent).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(statuses(&done), ["made", "failed", "failed"], "{done}");
    assert_eq!(per_variant_credits(&done), [50, 0, 0]);
    let errors: Vec<&str> = done["result"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|v| v["error"].as_str().unwrap())
        .collect();
    assert!(
        errors.iter().all(|e| e.starts_with("out_of_credits")),
        "{errors:?}"
    );
    // The later messages were refused by the backend before any turn: nothing charged.
    let turns: usize = h
        .sim
        .log()
        .iter()
        .filter(|r| r.path.ends_with("/run_sse") && r.turn_started)
        .count();
    assert_eq!(turns, 1);
    assert_eq!(h.sim.control().accounts()[0].available, 10);
    assert_eq!(
        sim_charges(&h),
        [50, 0, 0],
        "per version, on nemo-sim's side"
    );
    let text = text_of(&h.call("get_job", json!({"job_id": done["job_id"]})).await);
    assert!(text.contains("1 of 3 versions made, 50 credits"), "{text}");
}

#[tokio::test]
async fn a_render_failure_in_one_version_leaves_the_others_made() {
    let h = harness(1).await;
    h.sim.control().fail_next_render();
    let r = h.call("make_video", args(&h, json!({}))).await;
    let done = h.finish(body(&r)).await;
    assert_eq!(statuses(&done), ["failed", "made", "made"], "{done}");
    let first = &done["result"]["variants"][0];
    assert!(
        first["error"].as_str().unwrap().contains("render"),
        "{first}"
    );
    assert_eq!(messages_per_variant(&h), [1, 1, 1]);
    assert_eq!(
        per_variant_credits(&done),
        [50, 50, 50],
        "the failed render's edit was charged"
    );
    assert_eq!(sim_charges(&h), [50, 50, 50]);
    assert_eq!(charged(&h).await, 150);
    assert_eq!(h.outputs().len(), 2);
}

#[tokio::test]
async fn a_restart_mid_way_resumes_the_set_and_sends_nothing_twice() {
    let h = Harness::with(sim().with_time_scale(0.03), |s| s.variant_concurrency = 1).await;
    let r = h.call("make_video", args(&h, json!({"wait_s": 0}))).await;
    let parent = body(&r);
    until("the second version sent", || {
        messages_per_variant(&h)[1] == 1
    })
    .await;
    let h = h.restart().await;
    let done = h.finish(parent).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(statuses(&done), ["made", "made", "made"], "{done}");
    assert_eq!(messages_per_variant(&h), [1, 1, 1], "no message sent twice");
    assert_eq!(charged(&h).await, 150);
    assert_eq!(sim_charges(&h), [50, 50, 50]);
    let (files, urls, _) = uploads(&h);
    assert_eq!(
        (files, urls),
        (1, 2),
        "the media not sent again after the restart"
    );
    assert_eq!(render_submits(&h), 3);
}

/// Long enough that the restart always comes while the upload waits (nemo-sim logs a request
/// as it arrives, then holds it): the restart cuts it, and nothing of it lands.
const HELD_MS: u64 = 30_000;

#[tokio::test]
async fn a_restart_during_the_media_upload_uploads_them_once_more_and_sends_each_version_once() {
    let h = harness(3).await;
    h.sim.control().inject(Fault::new(
        Route::Upload,
        FaultAction::Delay { ms: HELD_MS },
    ));
    let r = h.call("make_video", args(&h, json!({"wait_s": 0}))).await;
    let parent = body(&r);
    until("the upload held", || held_uploads(&h) == 1).await;
    let h = h.restart().await;
    let done = h.finish(parent).await;
    assert_eq!(statuses(&done), ["made", "made", "made"], "{done}");
    assert_eq!(messages_per_variant(&h), [1, 1, 1]);
    assert_eq!(charged(&h).await, 150);
    assert_eq!(sim_charges(&h), [50, 50, 50]);
    let (files, urls, _) = uploads(&h);
    assert_eq!(files, 2, "the cut upload, then once more");
    assert_eq!(urls, 2, "the other projects by reference");
}

#[tokio::test]
async fn a_restart_during_a_reference_upload_makes_it_once_more_and_sends_each_version_once() {
    let h = Harness::with(sim().with_time_scale(0.03), |s| s.variant_concurrency = 1).await;
    // nemo-sim takes faults in order: the first upload (the files) passes, the next one (the
    // second version's upload by reference) is held.
    for ms in [0, HELD_MS] {
        h.sim
            .control()
            .inject(Fault::new(Route::Upload, FaultAction::Delay { ms }));
    }
    let r = h.call("make_video", args(&h, json!({"wait_s": 0}))).await;
    let parent = body(&r);
    until("the second version's reference upload held", || {
        held_uploads(&h) == 2
    })
    .await;
    assert_eq!(uploads(&h).1, 1);
    assert_eq!(messages_per_variant(&h)[0], 1);
    assert_eq!(messages_per_variant(&h)[1], 0);
    let h = h.restart().await;
    let done = h.finish(parent).await;
    assert_eq!(statuses(&done), ["made", "made", "made"], "{done}");
    assert_eq!(messages_per_variant(&h), [1, 1, 1], "no message sent twice");
    assert_eq!(charged(&h).await, 150);
    assert_eq!(sim_charges(&h), [50, 50, 50]);
    let (files, urls, _) = uploads(&h);
    assert_eq!(files, 1, "the files once");
    assert_eq!(
        urls, 3,
        "the cut reference upload, once more, and the third version's"
    );
}

#[tokio::test]
async fn cancelling_the_set_stops_the_versions_not_sent_and_says_which_were() {
    let h = Harness::with(sim().with_time_scale(0.05), |s| s.variant_concurrency = 1).await;
    let r = h.call("make_video", args(&h, json!({"wait_s": 0}))).await;
    let parent = body(&r);
    until("the first version sent", || {
        messages_per_variant(&h)[0] == 1
    })
    .await;
    let c = h
        .call("cancel_job", json!({"job_id": parent["job_id"]}))
        .await;
    let text = text_of(&c);
    assert!(text.contains("Already sent to NemoVideo"), "{text}");
    assert!(text.contains("vertical 9:16 for TikTok"), "{text}");
    assert!(text.contains("other 2 version(s) were stopped"), "{text}");
    // Time for anything that would still go out.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(messages_per_variant(&h), [1, 0, 0]);
    assert!(charged(&h).await <= 50);
    assert_eq!(sim_charges(&h)[1..], [0, 0]);
    let (files, urls, _) = uploads(&h);
    assert_eq!(files, 1);
    assert!(
        urls <= 1,
        "at most the next version's reference upload: {urls}"
    );
}

/// Every version's instruction is sent and charged, then every render is refused: the set
/// made nothing, but its answer must never send the user back to `make_video` (that would
/// send and charge every instruction a second time). It points to each project's free export.
#[tokio::test]
async fn a_set_whose_every_render_is_refused_after_its_edits_points_to_export_video() {
    let h = harness(1).await;
    h.sim.control().inject(
        Fault::new(
            Route::RenderSubmit,
            FaultAction::Status {
                status: 402,
                body: String::new(),
            },
        )
        .times(20),
    );
    let r = h.call("make_video", args(&h, json!({"wait_s": 0}))).await;
    let job_id = body(&r)["job_id"].clone();
    assert!(job_id.is_string(), "{}", body(&r));
    let done = h.finish(body(&r)).await;
    let e = error_of(&done);
    let next = e["next_step"].as_str().unwrap_or_default();
    assert!(next.starts_with("do not call make_video again"), "{e}");
    assert!(next.contains("export_video (free)"), "{e}");
    // The text alone (all some hosts show of an error) says it too, and each version's line
    // names its project to export.
    let text = text_of(&h.call("get_job", json!({"job_id": job_id})).await);
    assert!(!text.contains("then call make_video again"), "{text}");
    assert!(text.contains("do not call make_video again"), "{text}");
    assert_eq!(
        text.matches("its edit may be made: connect with project_id")
            .count(),
        3,
        "{text}"
    );
    assert_eq!(messages_per_variant(&h), [1, 1, 1]);
    assert_eq!(sim_charges(&h), [50, 50, 50]);
    assert_eq!(charged(&h).await, 150);
    assert!(h.outputs().is_empty());
}

/// A set with `fix: true` under a daily budget exactly its quote (two versions, each an edit
/// and at most one fix round: 200). Both come out too short, so both fix rounds go: each is
/// checked against the budgets when it is sent, and each version's share of the quote is its
/// own, so the set's reservation is not counted beside the charges it has become.
#[tokio::test]
async fn a_set_with_fix_under_a_budget_of_its_quote_sends_both_rounds() {
    let h = Harness::with(sim(), |s| {
        s.variant_concurrency = 1;
        s.budgets.per_day = Some(200);
    })
    .await;
    // One version after the other: the first one's edit and its fix round, then the second
    // one's edit, all come out too short; the second one's round takes.
    h.sim
        .control()
        .inject(Fault::new(Route::RunSse, FaultAction::ShortTimeline { fraction: 0.5 }).times(3));
    let a = args(
        &h,
        json!({
            "instruction": "combine these images into a 30-second promo",
            "variants": ["vertical 9:16 for TikTok", "square 1:1"],
            "fix": true, "confirm": true,
        }),
    );
    let r = h.call("make_video", a).await;
    assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
    let done = h.finish(body(&r)).await;
    assert_eq!(statuses(&done), ["made", "made"], "{done}");
    let sent = h.sim.control().attempted_messages();
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(
        sent.iter()
            .filter(|m| m.contains("Keep everything else"))
            .count(),
        2
    );
    assert_eq!(charged(&h).await, 200);
    assert_eq!(per_variant_credits(&done), [100, 100], "{done}");
}

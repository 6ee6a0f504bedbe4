//! The fault-injection suite: each fault the contract lists, through the MCP tools, against
//! nemo-sim's fault controls. Every scenario must end in success or an actionable error, with
//! no duplicate charge (one accepted message per instruction) and no orphaned render.
//! Run with `--nocapture` to print the table for docs/reliability.md.

use crate::common;

use common::*;
use nemo_sim::{Fault, FaultAction, Route, SimConfig};
use serde_json::{json, Value};

const EDIT: &str = "combine these images into a 10-second video with music";

fn row(scenario: &str, outcome: &str) {
    println!("| {scenario} | {outcome} |");
}

async fn generate(h: &Harness) -> (Value, bool) {
    let r = h.call("generate", json!({"instruction": EDIT})).await;
    let err = r.is_error == Some(true);
    let b = body(&r);
    if err {
        (b, true)
    } else {
        (h.finish(b).await, false)
    }
}

async fn export(h: &Harness) -> (Value, bool) {
    let r = h.call("export_video", json!({})).await;
    let err = r.is_error == Some(true);
    let b = body(&r);
    if err {
        return (b, true);
    }
    let b = h.finish(b).await;
    let failed = b["status"] != "succeeded";
    (b, failed)
}

/// No instruction accepted twice; every render submitted is finished or failed (none running).
fn no_duplicates_no_orphans(h: &Harness) {
    let msgs = h.sim.control().messages();
    let mut sorted = msgs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        msgs.len(),
        "an instruction was accepted twice: {msgs:?}"
    );
    for (id, status) in h.sim.control().renders() {
        assert!(
            status == "completed" || status == "failed",
            "render {id} left {status}"
        );
    }
}

#[tokio::test]
async fn token_expired_mid_workflow() {
    let h = Harness::start().await;
    upload_two(&h).await;
    h.sim.control().expire_tokens();
    let (g, err) = generate(&h).await;
    assert!(!err && g["status"] == "succeeded", "{g}");
    h.sim.control().expire_tokens();
    let (e, err) = export(&h).await;
    assert!(!err, "{e}");
    assert_eq!(h.sim.control().accounts().len(), 1, "same anonymous user");
    no_duplicates_no_orphans(&h);
    row(
        "token expired mid-workflow (before generate and before export)",
        "success: renewed for the same anonymous user, one charge",
    );
}

#[tokio::test]
async fn session_lost_between_upload_and_generate() {
    let h = Harness::start().await;
    upload_two(&h).await;
    let sid = h.app.session(None).await.unwrap().session_id.get();
    h.sim.control().drop_session(sid);
    let (g, err) = generate(&h).await;
    // The lost project is restored (a new one with the same media), then the instruction is
    // sent once; the user is told what happened.
    assert!(!err, "{g}");
    let notice = g["result"]["notice"].as_str().unwrap_or_default();
    assert!(notice.contains("had lost the project"), "{g}");
    assert!(notice.contains("2 media item(s)"), "{g}");
    assert_eq!(g["result"]["changed"], true, "{g}");
    no_duplicates_no_orphans(&h);
    row(
        "session lost between upload and generate",
        "success: a new project with the same media, then the instruction sent once; the result's `notice` tells the user",
    );
}

#[tokio::test]
async fn rate_limited_token_request() {
    let h = Harness::start().await;
    h.sim.control().inject(Fault::new(
        Route::Token,
        FaultAction::RateLimit { retry_after_s: 0 },
    ));
    let c = h.call("get_credits", json!({})).await;
    assert_ne!(c.is_error, Some(true), "{}", text_of(&c));
    h.sim
        .control()
        .inject(Fault::new(Route::Credits, FaultAction::RateLimit { retry_after_s: 9 }).times(2));
    let c = h.call("get_credits", json!({})).await;
    assert_eq!(body(&c)["code"], "rate_limited");
    assert_eq!(body(&c)["retryable"], true);
    row("429 with Retry-After on the token request", "success after one honoured wait; a second 429 in a row → `rate_limited`, retryable, `retry_after_s`");
}

#[tokio::test]
async fn server_error_bursts_on_every_get() {
    let h = Harness::start().await;
    upload_two(&h).await;
    for route in [Route::Credits, Route::State] {
        h.sim.control().inject(
            Fault::new(
                route,
                FaultAction::Status {
                    status: 503,
                    body: "busy".into(),
                },
            )
            .times(3),
        );
    }
    let (g, err) = generate(&h).await;
    assert!(!err, "{g}");
    h.sim.control().inject(
        Fault::new(
            Route::RenderStatus,
            FaultAction::Status {
                status: 502,
                body: String::new(),
            },
        )
        .times(5),
    );
    let (e, err) = export(&h).await;
    assert!(!err, "{e}");
    no_duplicates_no_orphans(&h);
    row(
        "5xx bursts on credits, state and render status (3–5 in a row)",
        "success: GETs retried with backoff, polls tolerate errors",
    );
}

#[tokio::test]
async fn connection_dropped_mid_upload() {
    let h = Harness::start().await;
    h.sim.control().inject(Fault::new(
        Route::Upload,
        FaultAction::DropMidBody { after_bytes: 200 },
    ));
    let big = h.media("big.png", &png(400, 300));
    let r = h.call("upload_media", json!({"paths": [big]})).await;
    assert_eq!(body(&r)["status"], "succeeded", "{}", text_of(&r));
    assert_eq!(body(&r)["result"]["project_media"], 1, "one copy, not two");
    h.sim
        .control()
        .inject(Fault::new(Route::Upload, FaultAction::DropMidBody { after_bytes: 200 }).times(5));
    let r = h
        .call(
            "upload_media",
            // Other bytes than big.png: the same bytes would not be sent again at all.
            json!({"paths": [h.media("c.png", &nemo_sim::sample::png(400, 300, [9, 9, 9], 3))]}),
        )
        .await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(body(&r)["retryable"], true);
    row("connection dropped mid-upload", "success: retried once after checking the session; dropped every time → `backend_unavailable`, retryable");
}

#[tokio::test]
async fn stream_cut_after_k_events() {
    let h = Harness::with(SimConfig::fast().with_time_scale(0.02), |s| {
        s.recovery_first = std::time::Duration::from_millis(300);
        s.recovery_then = std::time::Duration::from_millis(300);
    })
    .await;
    upload_two(&h).await;
    h.sim.control().inject(Fault::new(
        Route::RunSse,
        FaultAction::CutStream { after_events: 2 },
    ));
    let (g, err) = generate(&h).await;
    assert!(!err, "{g}");
    assert!(g["result"]["recovered"]
        .as_str()
        .unwrap()
        .contains("project state"));
    assert!(g["result"]["changes"].as_str().unwrap().contains("Added"));
    assert_eq!(
        h.sim.control().attempted_messages().len(),
        1,
        "never re-sent"
    );
    no_duplicates_no_orphans(&h);
    row(
        "SSE stream cut after 2 events",
        "success: change read from the project state (`recovered`), message not re-sent",
    );
}

#[tokio::test]
async fn heartbeats_only_for_longer_than_the_limit() {
    let h = Harness::with(SimConfig::fast().with_time_scale(0.005), |s| {
        s.recovery_first = std::time::Duration::from_millis(50);
        s.recovery_then = std::time::Duration::from_millis(50);
    })
    .await;
    upload_two(&h).await;
    let before = h.sim.control().accounts()[0].available;
    h.sim
        .control()
        .inject(Fault::new(Route::RunSse, FaultAction::HeartbeatsOnly));
    let (g, err) = generate(&h).await;
    assert!(err || g["status"] == "failed", "{g}");
    let e = if err { g.clone() } else { g["error"].clone() };
    assert_eq!(e["code"], "no_result", "{g}");
    assert_eq!(e["retryable"], true);
    assert!(e["next_step"].as_str().unwrap().contains("get_timeline"));
    // The stalled turn is not charged once the backend gives up on it.
    for _ in 0..100 {
        if h.sim.control().accounts()[0].frozen == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(h.sim.control().accounts()[0].available, before);
    assert_eq!(h.sim.control().attempted_messages().len(), 1);
    row("SSE heartbeats only, past the heartbeat-only limit", "actionable error `no_result` (retryable, next step: check get_timeline or retry); nothing charged, not re-sent");
}

#[tokio::test]
async fn malformed_sse_frames() {
    let h = Harness::start().await;
    h.sim.control().set_silence(Some(false));
    upload_two(&h).await;
    h.sim
        .control()
        .inject(Fault::new(Route::RunSse, FaultAction::MalformedFrames));
    let (g, err) = generate(&h).await;
    assert!(
        !err && g["result"]["reply"]
            .as_str()
            .unwrap()
            .contains("10 seconds"),
        "{g}"
    );
    row(
        "malformed SSE frames mixed into the stream",
        "success: bad frames skipped, reply intact",
    );
}

#[tokio::test]
async fn render_submit_failure_is_retried_with_a_new_id() {
    let h = Harness::start().await;
    upload_two(&h).await;
    generate(&h).await;
    h.sim.control().inject(Fault::new(
        Route::RenderSubmit,
        FaultAction::Status {
            status: 500,
            body: String::new(),
        },
    ));
    let (e, err) = export(&h).await;
    assert!(!err, "{e}");
    assert_eq!(
        h.sim.control().renders().len(),
        1,
        "one render on the backend"
    );
    let submits = render_submits(&h);
    assert_eq!(submits, 2);
    no_duplicates_no_orphans(&h);
    row(
        "render submit fails (HTTP 500)",
        "success: resubmitted once with a new id; one render exists",
    );
}

#[tokio::test]
async fn render_fails() {
    let h = Harness::start().await;
    upload_two(&h).await;
    generate(&h).await;
    h.sim.control().fail_next_render();
    let (e, failed) = export(&h).await;
    assert!(failed);
    let err = error_of(&e);
    assert_eq!(err["code"], "render_failed", "{e}");
    assert!(err["next_step"].as_str().unwrap().contains("export_video"));
    let (e2, failed) = export(&h).await;
    assert!(!failed, "{e2}");
    no_duplicates_no_orphans(&h);
    row("render fails on the backend", "actionable error `render_failed` (retryable, next step: export_video again); the retry succeeds");
}

#[tokio::test]
async fn download_cut_midway() {
    let h = Harness::start().await;
    upload_two(&h).await;
    generate(&h).await;
    h.sim.control().inject(Fault::new(
        Route::Download,
        FaultAction::DropMidBody { after_bytes: 4096 },
    ));
    let (e, err) = export(&h).await;
    assert!(!err, "{e}");
    let size = std::fs::metadata(e["result"]["path"].as_str().unwrap())
        .unwrap()
        .len();
    assert_eq!(size, e["result"]["size_bytes"].as_u64().unwrap());
    assert_eq!(h.outputs().len(), 1, "no .part left: {:?}", h.outputs());
    row(
        "download cut midway",
        "success: download retried; one complete file, no `.part` left",
    );
}

/// A download that fails for good (here every attempt is cut; a full disk is the same path):
/// no `.part` is left, the error says the render is kept, and the next export of the same,
/// unchanged timeline downloads that render instead of rendering again.
#[tokio::test]
async fn a_failed_download_leaves_nothing_and_the_next_export_downloads_the_same_render() {
    let h = Harness::start().await;
    upload_two(&h).await;
    generate(&h).await;
    h.sim.control().inject(Fault {
        times: 50,
        ..Fault::new(
            Route::Download,
            FaultAction::DropMidBody { after_bytes: 4096 },
        )
    });
    let (e, failed) = export(&h).await;
    assert!(failed, "{e}");
    let err = error_of(&e);
    assert!(
        err["next_step"]
            .as_str()
            .unwrap()
            .contains("downloaded again, not rendered again"),
        "{e}"
    );
    assert!(
        h.outputs().is_empty(),
        "nothing left behind: {:?}",
        h.outputs()
    );
    h.sim.control().clear_faults();
    let (e2, failed) = export(&h).await;
    assert!(!failed, "{e2}");
    assert_eq!(h.outputs().len(), 1, "{:?}", h.outputs());
    let submits = render_submits(&h);
    assert_eq!(
        submits, 1,
        "the finished render was reused, not rendered again"
    );
    // A changed timeline is rendered anew.
    let g = h
        .call("generate", json!({"instruction": "add a title \"Sale\""}))
        .await;
    h.finish(body(&g)).await;
    let (_, failed) = export(&h).await;
    assert!(!failed);
    let submits = render_submits(&h);
    assert_eq!(submits, 2);
    row(
        "download fails for good",
        "`next_step`: export_video again, which downloads the same finished render (one render submitted); no `.part` left",
    );
}

#[tokio::test]
async fn out_of_credits() {
    let h = Harness::start().await;
    upload_two(&h).await;
    h.sim.control().set_credits(None, 20);
    let (g, err) = generate(&h).await;
    assert!(err);
    assert_out_of_credits_with_link(&h, &g);
    assert!(
        h.sim.control().messages().is_empty(),
        "refused before any work; nothing charged"
    );
    row(
        "out of credits (2001)",
        "actionable error `out_of_credits` with the registration link `…/register?bind=<user>`",
    );
}

#[tokio::test]
async fn export_blocked_by_plan() {
    let h = Harness::start().await;
    upload_two(&h).await;
    generate(&h).await;
    h.sim.control().inject(Fault::new(
        Route::RenderSubmit,
        FaultAction::Status {
            status: 402,
            body: String::new(),
        },
    ));
    let (e, _) = export(&h).await;
    let err = error_of(&e);
    assert_eq!(err["code"], "export_blocked_by_plan", "{e}");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("not about credits"));
    row("HTTP 402 on export", "actionable error `export_blocked_by_plan`: \"not about credits\", next step: register or upgrade");
}

#[tokio::test]
async fn unwritable_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let h = Harness::with(SimConfig::fast(), |s| s.output_dir = blocker.join("videos")).await;
    upload_two(&h).await;
    generate(&h).await;
    let (e, err) = export(&h).await;
    assert!(err);
    assert_eq!(e["code"], "output_dir_unwritable");
    assert!(e["next_step"].as_str().unwrap().contains("NEMO_OUTPUT_DIR"));
    assert!(h.sim.control().renders().is_empty());
    row(
        "output folder unwritable (or missing and not creatable)",
        "actionable error `output_dir_unwritable` before any render is spent",
    );
}

#[tokio::test]
async fn delays_longer_than_the_wait_return_running() {
    let h = Harness::start().await;
    upload_two(&h).await;
    h.sim
        .control()
        .inject(Fault::new(Route::RunSse, FaultAction::Delay { ms: 1500 }));
    let r = h
        .call("generate", json!({"instruction": EDIT, "wait_s": 0.5}))
        .await;
    assert_eq!(body(&r)["status"], "running");
    let done = h.finish(body(&r)).await;
    assert_eq!(done["status"], "succeeded");
    row(
        "backend slower than the call's wait (1.5 s delay, wait_s 0.5)",
        "`running` with a job id within the wait; get_job returns the result",
    );
}

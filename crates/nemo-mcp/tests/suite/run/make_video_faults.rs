//! `make_video` under every fault of the fault suite: each case counts, from the simulator's
//! log, the messages sent and the credits charged, and checks that no render is left running.
//! Run with `--nocapture` for the table in docs/reliability.md.

use super::make_video::{assert_failed, assert_made, counts, harness, make, sim, uploads};
use crate::common;

use common::*;
use nemo_sim::{Fault, FaultAction, Route};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn fault_token_expired() {
    let h = harness().await;
    h.call("get_credits", json!({})).await;
    h.sim.control().expire_tokens();
    let (done, _) = make(&h, json!({})).await;
    assert_made(&h, &done, "token expired before the call").await;
}

#[tokio::test]
async fn fault_session_lost() {
    let h = harness().await;
    upload_two(&h).await;
    let sid = h.app.session(None).await.unwrap().session_id.get();
    h.sim.control().drop_session(sid);
    let (done, _) = make(&h, json!({})).await;
    assert_made(&h, &done, "project lost before the call").await;
}

#[tokio::test]
async fn fault_rate_limited_token() {
    let h = harness().await;
    h.sim.control().inject(Fault::new(
        Route::Token,
        FaultAction::RateLimit { retry_after_s: 0 },
    ));
    let (done, _) = make(&h, json!({})).await;
    assert_made(&h, &done, "429 on the token request").await;
}

#[tokio::test]
async fn fault_server_error_bursts() {
    let h = harness().await;
    for (route, times) in [
        (Route::Credits, 3),
        (Route::State, 3),
        (Route::RenderStatus, 5),
    ] {
        h.sim.control().inject(
            Fault::new(
                route,
                FaultAction::Status {
                    status: 503,
                    body: "busy".into(),
                },
            )
            .times(times),
        );
    }
    let (done, _) = make(&h, json!({})).await;
    assert_made(&h, &done, "5xx bursts on credits, state and render status").await;
}

#[tokio::test]
async fn fault_connection_dropped_mid_upload() {
    let h = harness().await;
    h.sim.control().inject(Fault::new(
        Route::Upload,
        FaultAction::DropMidBody { after_bytes: 200 },
    ));
    let (done, _) = make(&h, json!({})).await;
    assert_made(&h, &done, "connection dropped mid-upload").await;
}

#[tokio::test]
async fn fault_upload_always_dropped() {
    let h = harness().await;
    h.sim
        .control()
        .inject(Fault::new(Route::Upload, FaultAction::DropMidBody { after_bytes: 200 }).times(50));
    let (done, _) = make(&h, json!({})).await;
    assert_failed(
        &h,
        &done,
        "backend_unavailable",
        (0, 0),
        "upload dropped every time",
    )
    .await;
    let msg = error_of(&done)["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(msg.contains("nothing was sent"), "{msg}");
}

#[tokio::test]
async fn fault_stream_cut() {
    let h = Harness::with(sim().with_time_scale(0.02), |s| {
        s.recovery_first = Duration::from_millis(300);
        s.recovery_then = Duration::from_millis(300);
    })
    .await;
    h.sim.control().inject(Fault::new(
        Route::RunSse,
        FaultAction::CutStream { after_events: 2 },
    ));
    let (done, _) = make(&h, json!({})).await;
    assert_made(&h, &done, "SSE stream cut after 2 events").await;
    assert!(done["result"]["notice"]
        .as_str()
        .unwrap_or_default()
        .contains("project state"));
}

#[tokio::test]
async fn fault_heartbeats_only() {
    let h = Harness::with(sim().with_time_scale(0.005), |s| {
        s.recovery_first = Duration::from_millis(50);
        s.recovery_then = Duration::from_millis(50);
    })
    .await;
    h.sim
        .control()
        .inject(Fault::new(Route::RunSse, FaultAction::HeartbeatsOnly));
    let (done, _) = make(&h, json!({})).await;
    assert_failed(&h, &done, "no_result", (1, 0), "SSE heartbeats only").await;
    assert!(
        h.sim.control().renders().is_empty(),
        "no export of an unknown result"
    );
}

#[tokio::test]
async fn fault_malformed_frames() {
    let h = harness().await;
    h.sim.control().set_silence(Some(false));
    h.sim
        .control()
        .inject(Fault::new(Route::RunSse, FaultAction::MalformedFrames));
    let (done, _) = make(&h, json!({})).await;
    assert_made(&h, &done, "malformed SSE frames").await;
}

#[tokio::test]
async fn fault_render_submit_fails_once() {
    let h = harness().await;
    h.sim.control().inject(Fault::new(
        Route::RenderSubmit,
        FaultAction::Status {
            status: 500,
            body: String::new(),
        },
    ));
    let (done, _) = make(&h, json!({})).await;
    assert_made(&h, &done, "render submit fails once (HTTP 500)").await;
    assert_eq!(h.sim.control().renders().len(), 1);
}

#[tokio::test]
async fn fault_render_fails() {
    let h = harness().await;
    h.sim.control().fail_next_render();
    let (done, _) = make(&h, json!({})).await;
    assert_failed(
        &h,
        &done,
        "render_failed",
        (1, 50),
        "render fails on the backend",
    )
    .await;
    let e = error_of(&done);
    assert!(
        e["message"].as_str().unwrap().contains("the edit was made"),
        "{e}"
    );
    assert!(
        e["next_step"].as_str().unwrap().contains("export_video"),
        "{e}"
    );
}

#[tokio::test]
async fn fault_download_cut() {
    let h = harness().await;
    h.sim.control().inject(Fault::new(
        Route::Download,
        FaultAction::DropMidBody { after_bytes: 4096 },
    ));
    let (done, _) = make(&h, json!({})).await;
    assert_made(&h, &done, "download cut midway").await;
    assert_eq!(h.outputs().len(), 1, "no .part left");
}

#[tokio::test]
async fn fault_out_of_credits() {
    let h = harness().await;
    h.call("get_credits", json!({})).await;
    h.sim.control().set_credits(None, 20);
    let (e, err) = make(&h, json!({})).await;
    assert!(err, "{e}");
    assert_out_of_credits_with_link(&h, &e);
    assert_eq!(uploads(&h), 0, "refused before uploading");
    assert!(h.sim.control().attempted_messages().is_empty());
    println!("| out of credits | `out_of_credits`, nothing uploaded | 0 | 0 |");
}

#[tokio::test]
async fn fault_export_blocked_by_plan() {
    let h = harness().await;
    h.sim.control().inject(Fault::new(
        Route::RenderSubmit,
        FaultAction::Status {
            status: 402,
            body: String::new(),
        },
    ));
    let (done, _) = make(&h, json!({})).await;
    assert_failed(
        &h,
        &done,
        "export_blocked_by_plan",
        (1, 50),
        "HTTP 402 on export",
    )
    .await;
}

#[tokio::test]
async fn fault_unwritable_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let h = Harness::with(sim(), |s| s.output_dir = blocker.join("videos")).await;
    let (e, err) = make(&h, json!({})).await;
    assert!(err, "{e}");
    assert_eq!(e["code"], "output_dir_unwritable");
    assert_eq!(uploads(&h), 0, "refused before uploading");
    assert_eq!(counts(&h).await, (0, 0));
    println!("| output folder unwritable | `output_dir_unwritable`, nothing uploaded | 0 | 0 |");
}

#[tokio::test]
async fn fault_backend_slower_than_the_wait() {
    let h = harness().await;
    h.sim
        .control()
        .inject(Fault::new(Route::RunSse, FaultAction::Delay { ms: 1500 }));
    let (done, _) = make(&h, json!({"wait_s": 0.5})).await;
    assert_made(&h, &done, "backend slower than the call's wait").await;
}

// --- Upload dedupe -----------------------------------------------------------------------

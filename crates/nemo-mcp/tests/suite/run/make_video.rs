//! `make_video`: the seeds' quick edit (upload, generate, export) in one call plus bounded
//! `get_job` waits, under every fault of the fault suite. Each case counts, from the
//! simulator's log, the messages sent and the credits charged, and checks that no render is
//! left running. Run with `--nocapture` for the table in docs/reliability.md.

use crate::common;

use common::*;
use nemo_sim::SimConfig;
use serde_json::{json, Value};
use std::time::Duration;

const START: i64 = 1000;
const EDIT: &str = "combine these images into a 10-second video with music";

pub(super) fn sim() -> SimConfig {
    let mut c = SimConfig::fast();
    c.starting_credits = START;
    c
}

pub(super) async fn harness() -> Harness {
    Harness::with(sim(), |_| {}).await
}

/// make_video with two fresh images, followed to its end: (final body, error at once?).
pub(super) async fn make(h: &Harness, extra: Value) -> (Value, bool) {
    let mut args = json!({
        "instruction": EDIT,
        "paths": [h.media("a.png", &png(16, 16)), h.media("b.png", &png(16, 16))],
    });
    if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    let r = h.call("make_video", args).await;
    if r.is_error == Some(true) {
        return (body(&r), true);
    }
    (h.finish(body(&r)).await, false)
}

/// (messages sent, credits charged), once every turn has settled on the backend.
pub(super) async fn counts(h: &Harness) -> (usize, i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let accounts = h.sim.control().accounts();
        if accounts.iter().all(|a| a.frozen == 0) || tokio::time::Instant::now() > deadline {
            let left: i64 = accounts.iter().map(|a| a.available + a.frozen).sum();
            let charged = if accounts.is_empty() { 0 } else { START - left };
            return (h.sim.control().attempted_messages().len(), charged);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(super) fn uploads(h: &Harness) -> usize {
    h.sim
        .log()
        .iter()
        .filter(|x| x.path.contains("/upload"))
        .count()
}

fn no_orphan_render(h: &Harness) {
    for (id, status) in h.sim.control().renders() {
        assert!(
            status == "completed" || status == "failed",
            "render {id} left {status}"
        );
    }
}

/// A saved MP4 and one charged edit.
pub(super) async fn assert_made(h: &Harness, done: &Value, case: &str) {
    assert_eq!(done["status"], "succeeded", "{case}: {done}");
    let path = done["result"]["path"].as_str().unwrap_or_default();
    assert!(path.ends_with(".mp4"), "{case}: {done}");
    assert_eq!(
        std::fs::metadata(path).map(|m| m.len()).ok(),
        done["result"]["size_bytes"].as_u64(),
        "{case}: the whole file"
    );
    assert_eq!(
        counts(h).await,
        (1, 50),
        "{case}: (messages sent, credits charged)"
    );
    no_orphan_render(h);
    println!("| {case} | saved the MP4 | 1 | 50 |");
}

/// A failure with this code, after `expect` (messages sent, credits charged).
pub(super) async fn assert_failed(
    h: &Harness,
    done: &Value,
    code: &str,
    expect: (usize, i64),
    case: &str,
) {
    let e = error_of(done);
    assert_eq!(e["code"], code, "{case}: {done}");
    assert!(
        e["next_step"].is_string() || e["retryable"].is_boolean(),
        "{case}: {done}"
    );
    assert_eq!(
        counts(h).await,
        expect,
        "{case}: (messages sent, credits charged)"
    );
    no_orphan_render(h);
    println!("| {case} | `{code}` | {} | {} |", expect.0, expect.1);
}

#[tokio::test]
async fn one_call_uploads_generates_and_saves_the_mp4() {
    let h = harness().await;
    let r = h
        .call(
            "make_video",
            json!({"instruction": EDIT, "paths": [h.media("a.png", &png(16, 16)), h.media("b.png", &png(16, 16))]}),
        )
        .await;
    let text = text_of(&r);
    let done = h.finish(body(&r)).await;
    assert_made(&h, &done, "no fault").await;
    assert_eq!(done["result"]["uploaded"], 2);
    assert!(done["result"]["reply"]
        .as_str()
        .unwrap()
        .contains("10 seconds"));
    assert!(done["job_id"].as_str().unwrap().starts_with("vid_"));
    // Three steps, each an ordinary job; listed under make_video.
    let jobs = body(&h.call("list_jobs", json!({})).await);
    let kinds: Vec<&str> = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["kind"].as_str().unwrap())
        .collect();
    for k in ["video", "upload", "generate", "export"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let renders = h
        .sim
        .log()
        .iter()
        .filter(|x| x.path == "/api/render/proxy/lambda")
        .count();
    assert_eq!(renders, 1, "one render");
    // What the model reads: the file first, then the AI's words and the cost.
    let last = h
        .call("get_job", json!({"job_id": done["job_id"], "wait_s": 0}))
        .await;
    let t = text_of(&last);
    assert!(t.starts_with("Made the video. Video: "), "{t}");
    assert!(t.contains("Credits spent: 50"), "{t}");
    assert!(
        last.content.iter().any(|c| c.as_resource_link().is_some()),
        "a link to the export resource"
    );
    assert!(!text.is_empty());
}

#[tokio::test]
async fn without_export_it_stops_after_the_edit() {
    let h = harness().await;
    let (done, err) = make(&h, json!({"export": false})).await;
    assert!(!err, "{done}");
    assert_eq!(done["status"], "succeeded");
    assert!(done["result"].get("path").is_none(), "{done}");
    assert!(h.sim.control().renders().is_empty());
    assert!(done["result"]["next_step"]
        .as_str()
        .unwrap()
        .contains("export_video"));
    assert_eq!(counts(&h).await, (1, 50));
}

#[tokio::test]
async fn refused_calls_upload_nothing_and_send_nothing() {
    let h = harness().await;
    // Not an instruction for the AI.
    let (e, err) = make(&h, json!({"instruction": "export the video"})).await;
    assert!(err, "{e}");
    assert_eq!(e["code"], "invalid_argument", "{e}");
    // A brand asked for, none set: refused, not ignored.
    let (e, err) = make(&h, json!({"brand": true})).await;
    assert!(err, "{e}");
    assert_eq!(e["code"], "invalid_argument", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("no brand kit is set"),
        "{e}"
    );
    // A kit another host set, its logo outside the folders this one may upload from: refused
    // as any such file, and said to be the kit's, with the way on.
    let outside = tempfile::tempdir().unwrap();
    let logo = outside.path().join("logo.png");
    std::fs::write(&logo, png(8, 8)).unwrap();
    h.app
        .state
        .set_value(
            "brand:acme",
            &json!({"name": "acme", "logo": logo}).to_string(),
        )
        .unwrap();
    let (e, err) = make(
        &h,
        json!({"instruction": "combine these images into a promo for acme"}),
    )
    .await;
    assert!(err, "{e}");
    assert_eq!(e["code"], "invalid_input", "{e}");
    let said = e["message"].as_str().unwrap();
    assert!(said.contains("from the brand kit \"acme\""), "{e}");
    assert!(
        e["next_step"].as_str().unwrap().contains("brand: false"),
        "{e}"
    );
    // Over the caller's budget.
    let (e, err) = make(&h, json!({"max_credits": 10, "brand": false})).await;
    assert!(err, "{e}");
    assert_eq!(e["code"], "over_budget", "{e}");
    assert_eq!(uploads(&h), 0, "nothing uploaded");
    assert_eq!(counts(&h).await, (0, 0));
}

#[tokio::test]
async fn the_same_request_id_is_one_video() {
    let h = harness().await;
    let (a, _) = make(&h, json!({"request_id": "promo-1"})).await;
    let (b, _) = make(&h, json!({"request_id": "promo-1"})).await;
    assert_eq!(a["job_id"], b["job_id"]);
    assert_eq!(counts(&h).await, (1, 50));
}

#[tokio::test]
async fn cancelling_stops_the_step_that_runs() {
    let h = Harness::with(sim().with_time_scale(0.2), |_| {}).await;
    let r = h
        .call(
            "make_video",
            json!({"instruction": EDIT, "paths": [h.media("a.png", &png(16, 16))], "wait_s": 0}),
        )
        .await;
    let id = body(&r)["job_id"].clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while h.sim.control().renders().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no render");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let c = body(&h.call("cancel_job", json!({"job_id": id})).await);
    assert_eq!(c["status"], "cancelled", "{c}");
    let renders = h.sim.control().renders();
    assert_eq!(
        renders[0].1, "failed",
        "the render was cancelled on the backend"
    );
    let jobs = body(&h.call("list_jobs", json!({})).await).to_string();
    assert!(
        !jobs.contains("\"running\""),
        "no step left running: {jobs}"
    );
}

#[tokio::test]
async fn a_restart_mid_edit_finishes_the_video_without_resending() {
    let h = Harness::with(sim().with_time_scale(0.1), |s| {
        s.recovery_first = Duration::from_millis(400);
        s.recovery_then = Duration::from_millis(400);
    })
    .await;
    let r = h
        .call(
            "make_video",
            json!({"instruction": "combine into a 20 second video", "paths": [h.media("a.png", &png(10, 10))], "wait_s": 0}),
        )
        .await;
    let id = body(&r)["job_id"].as_str().unwrap().to_string();
    until("the message sent", || {
        !h.sim.control().messages().is_empty()
    })
    .await;
    let h2 = h.restart().await;
    let j = h2.journal_entry(&id);
    assert_eq!(j.status(), nemo_mcp::testing::JobStatus::Running);
    assert!(
        j.video_plan().and_then(|p| p.generate.as_ref()).is_some(),
        "the step is journaled: {j:?}"
    );
    let done = h2.finish(json!({"status": "running", "job_id": id})).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(done["result"]["path"].as_str().unwrap().ends_with(".mp4"));
    assert_eq!(counts(&h2).await, (1, 50), "sent once, charged once");
}

/// Upload requests the simulator received.
fn upload_requests(h: &Harness) -> usize {
    uploads(h)
}

#[tokio::test]
async fn a_repeated_upload_sends_zero_bytes() {
    let h = harness().await;
    let a = h.media("a.png", &png(32, 32));
    let first = body(&h.call("upload_media", json!({"paths": [a]})).await);
    assert_eq!(first["status"], "succeeded", "{first}");
    let sent = upload_requests(&h);
    assert_eq!(sent, 1);
    // The same bytes under another name, and the same file again: neither is sent.
    let copy = h.media("copy-of-a.png", &png(32, 32));
    let again = h.call("upload_media", json!({"paths": [a, copy]})).await;
    let b = body(&again);
    assert_eq!(b["status"], "succeeded", "{b}");
    assert_eq!(upload_requests(&h), sent, "zero bytes sent again");
    assert_eq!(
        b["result"]["already_present"].as_array().unwrap().len(),
        2,
        "{b}"
    );
    assert!(
        text_of(&again).contains("not sent again"),
        "{}",
        text_of(&again)
    );
    assert_eq!(b["result"]["project_media"], 1);
    // A different file of the same size is sent.
    let other = h.media("other.png", &nemo_sim::sample::png(32, 32, [1, 2, 3], 7));
    let b = body(&h.call("upload_media", json!({"paths": [other]})).await);
    assert_eq!(b["result"]["uploaded"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(upload_requests(&h), sent + 1);
}

#[tokio::test]
async fn a_url_already_fetched_into_the_project_is_skipped() {
    let h = harness().await;
    let url = "https://example.com/clip.mp4";
    let first = body(&h.call("upload_media", json!({"urls": [url]})).await);
    assert_eq!(first["status"], "succeeded", "{first}");
    let fetched = h
        .sim
        .log()
        .iter()
        .filter(|x| x.path.contains("/upload"))
        .count();
    assert_eq!(fetched, 1, "the first time, the URL is sent");
    let again = body(&h.call("upload_media", json!({"urls": [url]})).await);
    assert_eq!(again["result"]["already_present"][0], url, "{again}");
    assert_eq!(
        h.sim
            .log()
            .iter()
            .filter(|x| x.path.contains("/upload"))
            .count(),
        fetched
    );
}

#[tokio::test]
async fn a_new_project_gets_the_file_again() {
    let h = harness().await;
    let a = h.media("a.png", &png(32, 32));
    h.call("upload_media", json!({"paths": [a]})).await;
    h.call("connect", json!({"new_project": true})).await;
    let b = body(&h.call("upload_media", json!({"paths": [a]})).await);
    assert_eq!(b["result"]["uploaded"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(uploads(&h), 2, "another project has not got it");
}

/// Progress names each step once: "NemoVideo: …" or "NemoVideo is working …", never
/// "NemoVideo: NemoVideo is working".
#[tokio::test]
async fn progress_messages_name_their_subject_once() {
    let h = Harness::with(SimConfig::fast().with_time_scale(0.05), |s| {
        s.progress_every = Duration::from_millis(20);
    })
    .await;
    let (r, token) = h
        .call_tracked(
            "make_video",
            json!({"instruction": EDIT, "paths": [h.media("a.png", &png(16, 16))], "export": false}),
        )
        .await;
    assert_eq!(body(&r)["status"], "succeeded", "{}", body(&r));
    let messages: Vec<String> = h
        .progress_for(&token)
        .into_iter()
        .filter_map(|p| p.message)
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("NemoVideo")),
        "the generation's progress was seen: {messages:?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("NemoVideo: NemoVideo")),
        "{messages:?}"
    );
}

//! Credit safety through the MCP server: every path that can spend the user's credits, each
//! checked with two counts from the simulator's log: the messages sent to the agent (at most
//! once per instruction) and the credits charged. Run with `--nocapture` to print the "credits"
//! table of docs/reliability.md.

use crate::common;

use common::*;
use nemo_sim::{Fault, FaultAction, Route, SimConfig, StreamErrorForm, Variants};
use serde_json::{json, Value};
use std::time::Duration;

const START: i64 = 1000;
pub(super) const COMBINE: &str = "combine these images into a 10-second video with music";

pub(super) fn sim() -> SimConfig {
    let mut c = SimConfig::fast();
    c.starting_credits = START;
    c
}

/// One row of the credits table.
fn row(asked: &str, sent: usize, charged: i64, told: &str) {
    println!("| {asked} | {sent} | {charged} | {told} |");
}

/// Messages the agent received (accepted or refused), and credits charged so far, once every
/// running turn has settled on the backend.
async fn counts(h: &Harness) -> (usize, i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let accounts = h.sim.control().accounts();
        let settled = accounts.iter().all(|a| a.frozen == 0);
        if settled || tokio::time::Instant::now() > deadline {
            let left: i64 = accounts.iter().map(|a| a.available + a.frozen).sum();
            let charged = if accounts.is_empty() { 0 } else { START - left };
            return (h.sim.control().attempted_messages().len(), charged);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Assert the messages sent and credits charged since `since`, and print the table row.
pub(super) async fn tally(
    h: &Harness,
    since: (usize, i64),
    expect: (usize, i64),
    asked: &str,
    told: &str,
) {
    let (sent, charged) = counts(h).await;
    let delta = (sent - since.0, charged - since.1);
    assert_eq!(delta, expect, "{asked}: (messages sent, credits charged)");
    row(asked, delta.0, delta.1, told);
}

/// Call generate and follow the job to its end: (final body, is_error, text of the last answer).
pub(super) async fn generate(h: &Harness, args: Value) -> (Value, bool, String) {
    let r = h.call("generate", args).await;
    if r.is_error == Some(true) {
        return (body(&r), true, text_of(&r));
    }
    let mut b = body(&r);
    let mut text = text_of(&r);
    for _ in 0..100 {
        if b["status"] != "running" {
            break;
        }
        let r = h
            .call("get_job", json!({"job_id": b["job_id"], "wait_s": 10}))
            .await;
        text = text_of(&r);
        b = body(&r);
        if r.is_error == Some(true) {
            return (b, true, text);
        }
    }
    (b, false, text)
}

#[tokio::test]
async fn quoted_and_mixed_phrases_are_edits_never_exports() {
    let h = Harness::with(sim(), |_| {}).await;
    upload_two(&h).await;
    generate(&h, json!({"instruction": COMBINE})).await;
    let before = counts(&h).await;
    for phrase in [
        "Use 'Download the app today' as the closing slogan",
        "I'd like an export-ready version with a logo sting",
        "Show a 'Check your balance' tagline",
    ] {
        let (b, err, _) = generate(&h, json!({"instruction": phrase})).await;
        assert!(!err && b["status"] == "succeeded", "{phrase}: {b}");
        assert!(
            b["result"]["routed_as"].is_null(),
            "{phrase}: sent as an edit: {b}"
        );
    }
    let (sent, charged) = counts(&h).await;
    assert_eq!(sent - before.0, 3, "each phrase sent once");
    assert!(h.sim.control().renders().is_empty(), "no export started");
    assert!(h.outputs().is_empty(), "no MP4 written");
    row(
        "three edits that quote \"Download…\", say \"export-ready\", quote \"Check your balance\"",
        sent - before.0,
        charged - before.1,
        "each edit's reply and changes; no export started, no MP4 written",
    );
}

#[tokio::test]
async fn wholly_local_requests_are_answered_free_and_send_anyway_sends() {
    let h = Harness::with(sim(), |_| {}).await;
    upload_two(&h).await;
    generate(&h, json!({"instruction": COMBINE})).await;
    let before = counts(&h).await;
    for (phrase, routed) in [
        ("export the video", "export"),
        ("how many credits do I have", "credits"),
        ("show the timeline", "status"),
        ("上传这些照片", "upload"),
    ] {
        let r = h.call("generate", json!({"instruction": phrase})).await;
        assert_ne!(r.is_error, Some(true), "{phrase}: {}", text_of(&r));
        let b = body(&r);
        assert_eq!(b["status"], "succeeded", "{b}");
        assert_eq!(b["result"]["routed_as"], routed, "{b}");
        assert!(
            text_of(&r).contains("nothing was charged"),
            "{}",
            text_of(&r)
        );
    }
    assert_eq!(counts(&h).await, before, "nothing sent, nothing charged");
    assert!(h.sim.control().renders().is_empty());
    row("\"export the video\", \"how many credits do I have\", \"show the timeline\", \"上传这些照片\"", 0, 0, "a success with `routed_as`, the answer and the tool to call; no export started");
    let (b, err, _) = generate(
        &h,
        json!({"instruction": "export the video", "send_anyway": true}),
    )
    .await;
    assert!(!err, "{b}");
    let (sent, _) = counts(&h).await;
    assert_eq!(sent - before.0, 1, "send_anyway sends it, once");
    row(
        "\"export the video\" with `send_anyway: true`",
        1,
        counts(&h).await.1 - before.1,
        "the agent's reply, as for any instruction",
    );
}

#[tokio::test]
async fn a_mixed_instruction_is_an_edit_that_points_at_export() {
    let h = Harness::with(sim(), |_| {}).await;
    upload_two(&h).await;
    let (b, err, text) = generate(&h, json!({"instruction": "combine these images into a 10-second video with music, then export"})).await;
    assert!(!err, "{b}");
    assert!(
        b["result"]["next_step"]
            .as_str()
            .unwrap()
            .contains("export_video"),
        "{b}"
    );
    assert!(text.contains("export_video"), "{text}");
    assert!(
        h.sim.control().renders().is_empty(),
        "the server did not export by itself"
    );
    tally(
        &h,
        (0, 0),
        (1, 50),
        "\"combine these images …, then export\"",
        "the edit's result; next step: call export_video (no export started by itself)",
    )
    .await;
}

/// The turn is accepted, then the POST fails before the first event: the outcome is read back
/// from the state and the message is never sent again.
#[tokio::test]
async fn accepted_then_the_post_fails_is_never_resent() {
    let cases = [
        (FaultAction::AcceptedThenStatus { status: 502 }, "502"),
        (FaultAction::AcceptedThenStatus { status: 504 }, "504"),
        (FaultAction::AcceptedThenReset, "a reset"),
        (
            FaultAction::AcceptedThenStall { ms: 3000 },
            "a stall before the headers",
        ),
    ];
    for (fault, name) in cases {
        let h = Harness::with(sim().with_time_scale(0.02), |s| {
            s.client.timeouts.sse_headers = Duration::from_millis(500);
        })
        .await;
        upload_two(&h).await;
        h.sim.control().inject(Fault::new(Route::RunSse, fault));
        let (b, err, text) = generate(&h, json!({"instruction": COMBINE})).await;
        assert!(!err && b["status"] == "succeeded", "{name}: {b}");
        assert_eq!(b["result"]["delivery"], "unconfirmed", "{name}: {b}");
        assert_eq!(b["result"]["changed"], true, "{name}: {b}");
        assert!(text.contains("not sent again"), "{name}: {text}");
        let (sent, charged) = counts(&h).await;
        assert_eq!((sent, charged), (1, 50), "{name}");
        row(
            &format!("an edit; the backend takes it, then the POST fails with {name}"),
            sent,
            charged,
            "the change, read from the project state (`delivery: unconfirmed`, not sent again)",
        );
    }
}

#[tokio::test]
async fn a_clean_close_with_a_call_open_is_not_a_finished_turn() {
    let h = Harness::with(sim().with_time_scale(0.05), |_| {}).await;
    upload_two(&h).await;
    h.sim
        .control()
        .inject(Fault::new(Route::RunSse, FaultAction::CloseWithOpenCall));
    let (b, err, _) = generate(&h, json!({"instruction": COMBINE})).await;
    assert!(!err, "{b}");
    assert_eq!(
        b["result"]["changed"], true,
        "the change that landed later: {b}"
    );
    assert_eq!(b["result"]["delivery"], "stream_cut", "{b}");
    tally(
        &h,
        (0, 0),
        (1, 50),
        "an edit; the stream closes cleanly after a function call, the change lands later",
        "the change, read from the project state; not \"no change\"",
    )
    .await;
}

#[tokio::test]
async fn a_change_that_lands_after_the_stream_is_waited_for() {
    let h = Harness::with(sim(), |s| s.settle_first = Duration::from_millis(200)).await;
    h.sim.control().set_silence(Some(true));
    upload_two(&h).await;
    h.sim.control().inject(Fault::new(
        Route::RunSse,
        FaultAction::LateState { ms: 700 },
    ));
    let (b, err, text) = generate(&h, json!({"instruction": COMBINE})).await;
    assert!(!err, "{b}");
    assert_eq!(b["result"]["changed"], true, "{b}");
    assert!(!text.starts_with("No change"), "{text}");
    tally(
        &h,
        (0, 0),
        (1, 50),
        "a silent edit whose change reaches the state 0.7 s after the stream closed",
        "the change (state read again at 0.2, 0.4, 0.8 s)",
    )
    .await;
}

#[tokio::test]
async fn in_stream_out_of_credits_is_out_of_credits_with_the_link() {
    use StreamErrorForm::*;
    for no_user_id in [false, true] {
        let v = Variants {
            no_user_id,
            ..Variants::default()
        };
        let h = Harness::with(sim().with_variants(v), |_| {}).await;
        upload_two(&h).await;
        for form in [Unescaped, WithDetails, SystemAuthor, ErrorCode] {
            h.sim.control().inject(Fault::new(
                Route::RunSse,
                FaultAction::StreamError {
                    form,
                    code: Some(2001),
                },
            ));
            let (b, _, text) = generate(&h, json!({"instruction": COMBINE})).await;
            let e = error_of(&b);
            assert_eq!(e["code"], "out_of_credits", "{form:?}: {b}");
            let next = e["next_step"].as_str().unwrap_or_default();
            assert!(next.contains("/register"), "{form:?}: {b}");
            assert_eq!(next.contains("bind=anon_"), !no_user_id, "{next}");
            assert!(text.contains("credits spent: 0"), "{text}");
        }
        let (sent, charged) = counts(&h).await;
        assert_eq!((sent, charged), (4, 0));
        row(
            &format!(
                "four edits, each ended by an in-stream 2001 (one per error form){}",
                if no_user_id {
                    ", no response carrying `user_id`"
                } else {
                    ""
                }
            ),
            sent,
            charged,
            if no_user_id {
                "`out_of_credits` with the registration link `…/register` (no id known)"
            } else {
                "`out_of_credits` with `…/register?bind=<user_id>`"
            },
        );
    }
}

#[tokio::test]
async fn refusals_and_other_errors_in_the_stream_are_told_apart() {
    let h = Harness::with(sim(), |_| {}).await;
    upload_two(&h).await;
    // errorCode MAX_TOKENS (the model's limit) is a refusal; a plain error keeps its words.
    for (form, code, words) in [
        (StreamErrorForm::ErrorCode, "content_refused", "MAX_TOKENS"),
        (
            StreamErrorForm::WithDetails,
            "backend_error",
            "quota exceeded",
        ),
    ] {
        h.sim.control().inject(Fault::new(
            Route::RunSse,
            FaultAction::StreamError { form, code: None },
        ));
        let (b, _, _) = generate(&h, json!({"instruction": COMBINE})).await;
        let e = error_of(&b);
        assert_eq!(e["code"], code, "{b}");
        assert!(e["message"].as_str().unwrap().contains(words), "{b}");
        assert!(e["next_step"].as_str().unwrap().contains("rephrase"), "{b}");
    }
    tally(&h, (0, 0), (2, 0), "two edits ended by in-stream errors: `errorCode: MAX_TOKENS`, then `{\"error\": \"…quota exceeded\"}`", "`content_refused` with a rephrase hint; `backend_error` in the backend's words").await;
}

#[tokio::test]
async fn an_edit_that_changed_nothing_says_so_first() {
    let h = Harness::with(sim(), |_| {}).await;
    upload_two(&h).await;
    generate(&h, json!({"instruction": COMBINE})).await;
    h.sim
        .control()
        .inject(Fault::new(Route::RunSse, FaultAction::NoChange));
    let before = counts(&h).await;
    let (b, err, text) = generate(&h, json!({"instruction": "make it 5 seconds long"})).await;
    assert!(!err, "{b}");
    assert_eq!(b["result"]["changed"], false, "{b}");
    assert!(
        text.starts_with("No change was made to the timeline. Credits spent: 50"),
        "{text}"
    );
    let next = b["result"]["next_step"].as_str().unwrap();
    assert!(!next.contains("export"), "never suggests exporting: {next}");
    assert!(next.contains("rephrase"), "{next}");
    tally(&h, before, (1, 50), "an edit that the backend charged for but that changed nothing", "first line \"No change was made to the timeline. Credits spent: 50\"; a concrete rephrase, no export suggestion").await;
}

#[tokio::test]
async fn the_cost_guard_refuses_before_sending() {
    let h = Harness::with(sim(), |_| {}).await;
    upload_two(&h).await;
    let (b, err, _) = generate(&h, json!({"instruction": COMBINE, "max_credits": 20})).await;
    assert!(err, "{b}");
    assert_eq!(b["code"], "over_budget", "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("about 50 credits"),
        "{b}"
    );
    h.sim.control().set_credits(None, 30);
    let (b, err, _) = generate(&h, json!({"instruction": COMBINE})).await;
    assert!(err, "{b}");
    assert_out_of_credits_with_link(&h, &b);
    // Nothing sent; the balance (set to 30 by the test) untouched.
    let (sent, _) = counts(&h).await;
    assert_eq!(sent, 0);
    assert_eq!(h.sim.control().accounts()[0].available, 30);
    row(
        "an edit with `max_credits: 20`; then an edit with 30 credits left",
        sent,
        0,
        "`over_budget` with the estimate (50); `out_of_credits` with the registration link",
    );
}

#[tokio::test]
async fn request_ids_make_generate_and_export_idempotent_across_restarts() {
    let h = Harness::with(sim(), |_| {}).await;
    upload_two(&h).await;
    let args = json!({"instruction": COMBINE, "request_id": "req-1"});
    let (first, _, _) = generate(&h, args.clone()).await;
    let (again, _, text) = generate(&h, args.clone()).await;
    assert_eq!(first["job_id"], again["job_id"]);
    assert!(text.contains("nothing was sent again"), "{text}");
    let e1 = h
        .finish(body(
            &h.call("export_video", json!({"request_id": "exp-1"})).await,
        ))
        .await;
    let e2 = body(&h.call("export_video", json!({"request_id": "exp-1"})).await);
    assert_eq!(e1["job_id"], e2["job_id"]);
    // After a restart the journal still knows the keys.
    let settings = settings_for(&h.sim, h.dir.path());
    let Harness { sim, dir, .. } = h;
    let h = Harness::on(sim, dir, settings).await;
    let (after, _, _) = generate(&h, args).await;
    assert_eq!(after["job_id"], first["job_id"]);
    let e3 = body(&h.call("export_video", json!({"request_id": "exp-1"})).await);
    assert_eq!(e3["job_id"], e1["job_id"]);
    let (sent, charged) = counts(&h).await;
    assert_eq!((sent, charged), (1, 50));
    assert_eq!(h.sim.control().renders().len(), 1);
    row("the same `request_id` three times (once after a restart), for generate and for export_video", sent, charged, "the same job each time; one message, one render");
}

/// A `request_id` names a job within a project: reused after switching to a new project, it
/// starts a new job there (it used to return the old project's job, and the edit never
/// happened in the project the user was looking at).
#[tokio::test]
async fn a_request_id_reused_in_another_project_is_a_new_request() {
    let h = Harness::with(sim(), |_| {}).await;
    upload_two(&h).await;
    let args = json!({"instruction": COMBINE, "request_id": "promo-1"});
    let (first, _, _) = generate(&h, args.clone()).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let c = body(&h.call("connect", json!({"new_project": true})).await);
    assert_eq!(c["new_project"], true, "{c}");
    upload_two(&h).await;
    let (second, _, _) = generate(&h, args.clone()).await;
    assert_ne!(
        second["job_id"], first["job_id"],
        "a new job in the new project"
    );
    assert_eq!(second["status"], "succeeded", "{second}");
    // In the new project the key still names its own job.
    let (again, _, text) = generate(&h, args).await;
    assert_eq!(again["job_id"], second["job_id"]);
    assert!(text.contains("nothing was sent again"), "{text}");
    let (sent, charged) = counts(&h).await;
    assert_eq!((sent, charged), (2, 100));
    row(
        "`request_id` \"promo-1\" reused after `connect {new_project: true}`, then again",
        sent,
        charged,
        "a new job in the new project; the same key again there returns it",
    );
}

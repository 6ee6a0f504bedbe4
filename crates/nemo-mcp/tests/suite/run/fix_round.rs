//! The fix round (issue 43): one bounded, paid edit written from what differs, then one more
//! export. What happens when it fails, when its export fails, when the server stops in the
//! middle of it, when the budgets no longer allow it, and when another host takes it over.
//! Every case counts paid messages and credits on nemo-sim's side.

use super::checked_done::{make, PROMO};
use crate::common;

use common::*;
use nemo_sim::{Fault, FaultAction, Route, SimConfig};
use serde_json::{json, Value};

/// The fix round's own edit fails (an in-stream error, nothing charged for it): the first
/// file is saved and checked, so `make_video` still answers with it, says what still differs
/// and why the round did not fix it, and never sends the user back to `make_video` (the first
/// instruction was charged).
#[tokio::test]
async fn a_fix_round_that_fails_keeps_the_first_file_and_says_why() {
    let h = Harness::with(SimConfig::fast(), |_| {}).await;
    let c = h.sim.control();
    c.inject(Fault::new(
        Route::RunSse,
        FaultAction::ShortTimeline { fraction: 0.6 },
    ));
    c.inject(Fault::new(
        Route::RunSse,
        FaultAction::StreamError {
            form: nemo_sim::StreamErrorForm::ErrorCode,
            code: None,
        },
    ));
    let done = make(&h, json!({"fix": true})).await;
    let r = &done["result"];
    let path = r["path"].as_str().unwrap();
    assert!(std::path::Path::new(path).is_file(), "{done}");
    assert!(
        r["differs"].to_string().contains("not the 30 s asked for"),
        "{done}"
    );
    let said = text_of(&h.call("get_job", json!({"job_id": done["job_id"]})).await);
    assert!(said.contains("fix round"), "{said}");
    assert!(said.contains("content_refused"), "{said}");
    assert!(!said.contains("make_video again"), "{said}");
    assert_eq!(
        counts(&h).await,
        (2, 50),
        "the failed round was not charged"
    );
    assert_eq!(h.outputs().len(), 1);
}

/// A server at a tenth of nemo-sim's time that recovers a turn quickly (400 ms), with this
/// daily budget.
async fn recovering(per_day: Option<i64>) -> Harness {
    Harness::with(SimConfig::fast().with_time_scale(0.1), |s| {
        s.budgets.per_day = per_day;
        s.recovery_first = std::time::Duration::from_millis(400);
        s.recovery_then = std::time::Duration::from_millis(400);
    })
    .await
}

/// Another host's charge of `credits` today, as its process records it in the shared ledger.
fn another_hosts_charge(state_dir: &std::path::Path, credits: i64) {
    let db = nemo_mcp::testing::StateDb::open(state_dir).unwrap();
    let day = chrono::Local::now().date_naive().to_string();
    db.write("another host's charge", |tx| {
        tx.execute(
            "INSERT INTO charges (job_id, at, day, project, session, credits, estimated) VALUES ('gen_0ther0host00', ?1, ?2, '1', 'other', ?3, 0)",
            rusqlite::params![chrono::Utc::now().to_rfc3339(), day, credits],
        )
    })
    .unwrap();
}

/// A 30-second promo that comes out too short, asked with `fix: true` and no wait: the
/// running job's answer.
async fn too_short_with_fix(h: &Harness) -> Value {
    h.sim.control().inject(Fault::new(
        Route::RunSse,
        FaultAction::ShortTimeline { fraction: 0.6 },
    ));
    let r = h
        .call(
            "make_video",
            json!({
                "instruction": PROMO,
                "paths": [h.media("a.png", &png(16, 16))],
                "confirm": true, "fix": true, "wait_s": 0,
            }),
        )
        .await;
    let running = body(&r);
    assert_eq!(running["status"], "running", "{}", text_of(&r));
    running
}

/// The fix round's edit is made (and charged), then its render fails: the first file is the
/// answer, and the next step saves the fixed edit with `export_video` (free), never sends
/// anything again. Two paid messages.
#[tokio::test]
async fn a_fix_round_whose_export_fails_points_to_export_video() {
    let h = Harness::with(SimConfig::fast().with_time_scale(0.1), |_| {}).await;
    let running = too_short_with_fix(&h).await;
    let control = h.sim.control();
    until("the fix round's instruction sent", || {
        control.attempted_messages().len() == 2
    })
    .await;
    control.fail_next_render();
    let done = h.finish(running).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let r = &done["result"];
    assert!(std::path::Path::new(r["path"].as_str().unwrap()).is_file());
    assert!(
        r["next_step"]
            .as_str()
            .unwrap()
            .starts_with("the fix round's edit was made but not saved: call export_video"),
        "{done}"
    );
    assert!(
        r["notice"]
            .as_str()
            .unwrap()
            .contains("The fix round did not finish"),
        "{done}"
    );
    assert_eq!(counts(&h).await, (2, 100));
    assert_eq!(h.outputs().len(), 1);
}

/// The server stops while the fix round's instruction is in flight; the next start follows
/// the same round (recovered from the project's state): the fix is never sent twice, the
/// first instruction never again, and the fixed file is saved. Two paid messages.
#[tokio::test]
async fn a_restart_during_the_fix_round_sends_nothing_twice() {
    let h = recovering(None).await;
    let job_id = too_short_with_fix(&h).await["job_id"].clone();
    let control = h.sim.control();
    until("the fix round's instruction sent", || {
        control.attempted_messages().len() == 2
    })
    .await;
    let h2 = h.restart().await;
    let done = h2
        .finish(json!({"status": "running", "job_id": job_id}))
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let r = &done["result"];
    assert!(
        r["fixed"].to_string().contains("not the 30 s asked for"),
        "{done}"
    );
    let messages = h2.sim.control().attempted_messages();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[1].contains("Keep everything else"), "{messages:?}");
    assert_eq!(counts(&h2).await, (2, 100));
}

/// The fix round is in the quote as a maximum, but the daily budget is checked again when it
/// is sent: another host spent meanwhile (a charge of 100 in the shared ledger), so the round
/// would pass `NEMO_MAX_CREDITS_PER_DAY` and is not sent. The first file is the answer, with
/// why the round was not made. One paid message.
#[tokio::test]
async fn a_fix_round_that_would_pass_the_daily_budget_is_not_sent() {
    let h = recovering(Some(160)).await;
    let running = too_short_with_fix(&h).await;
    let control = h.sim.control();
    until("the first instruction sent", || {
        control.attempted_messages().len() == 1
    })
    .await;
    another_hosts_charge(&h.app.settings.client.state_dir, 100);
    let done = h.finish(running).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let r = &done["result"];
    assert!(std::path::Path::new(r["path"].as_str().unwrap()).is_file());
    assert!(
        r["differs"].to_string().contains("not the 30 s asked for"),
        "{done}"
    );
    let said = text_of(&h.call("get_job", json!({"job_id": done["job_id"]})).await);
    assert!(
        said.contains("The fix round was not sent (over_budget"),
        "{said}"
    );
    assert!(said.contains("NEMO_MAX_CREDITS_PER_DAY"), "{said}");
    assert_eq!(counts(&h).await, (1, 50));
}

/// A job carries the budgets it was made under. Host A (a daily budget of 160) stops while
/// the first instruction of a `make_video` with `fix: true` is in flight; another host is
/// charged 100; host B, set up with no budget, takes the job over. The round would bring the
/// day to 200: B holds it to A's budget as well as its own, so it is not sent. One message.
#[tokio::test]
async fn a_fix_round_taken_over_is_held_to_the_budgets_the_job_was_made_under() {
    let h = recovering(Some(160)).await;
    let job_id = too_short_with_fix(&h).await["job_id"].clone();
    let control = h.sim.control();
    until("the first instruction sent", || {
        control.attempted_messages().len() == 1
    })
    .await;
    let mut stopped = h.stop().await;
    another_hosts_charge(&stopped.settings.client.state_dir, 100);
    stopped.settings.budgets = Default::default();
    let h2 = stopped.start().await;
    let done = h2
        .finish(json!({"status": "running", "job_id": job_id}))
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(
        done["result"]["differs"]
            .to_string()
            .contains("not the 30 s asked for"),
        "{done}"
    );
    let said = text_of(&h2.call("get_job", json!({"job_id": job_id})).await);
    assert!(
        said.contains("The fix round was not sent (over_budget"),
        "{said}"
    );
    assert!(said.contains("NEMO_MAX_CREDITS_PER_DAY"), "{said}");
    assert_eq!(counts(&h2).await, (1, 50));
}

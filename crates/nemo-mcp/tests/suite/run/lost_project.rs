//! A project the backend lost: the next edit restores its media into a new project and is
//! charged once, or sends nothing when the media is gone; never a replay into an empty project.
//! Counted as in [`super::generation`].

use super::generation::{generate, sim, tally, COMBINE};
use crate::common;

use common::*;
use nemo_sim::{Fault, FaultAction, Route, StreamErrorForm};
use serde_json::{json, Value};

/// The backend forgets the project; the next edit restores its two media and succeeds.
/// Returns the lost project and the edit's answer.
async fn lose_the_project_then_edit(h: &Harness) -> (nemo_client::SessionId, Value) {
    let old = h.app.session(None).await.unwrap().session_id;
    h.sim.control().drop_session(old.get());
    let (b, err, _) = generate(h, json!({"instruction": COMBINE})).await;
    assert!(!err, "{b}");
    assert!(
        b["result"]["notice"]
            .as_str()
            .unwrap()
            .contains("2 media item(s)"),
        "{b}"
    );
    (old, b)
}

#[tokio::test]
async fn a_lost_project_is_restored_never_replayed_into_an_empty_one() {
    let h = Harness::with(sim(), |_| {}).await;
    upload_two(&h).await;
    let (old, b) = lose_the_project_then_edit(&h).await;
    assert_eq!(b["result"]["changed"], true, "{b}");
    let new = h.app.session(None).await.unwrap().session_id;
    assert_ne!(new, old);
    let media = h.app.current_state().await.unwrap().assets.len();
    assert_eq!(media, 2, "the new project holds the same media");
    tally(
        &h,
        (0, 0),
        (1, 50),
        "an edit after the backend lost the project (two photos uploaded)",
        "the result, with a `notice`: new project, the 2 photos uploaded again",
    )
    .await;
}

#[tokio::test]
async fn a_lost_project_whose_media_is_gone_sends_nothing() {
    let h = Harness::with(sim(), |_| {}).await;
    upload_two(&h).await;
    let old = h.app.session(None).await.unwrap().session_id;
    std::fs::remove_file(h.dir.path().join("media/a.png")).unwrap();
    std::fs::write(h.dir.path().join("media/b.png"), png(20, 20)).unwrap();
    h.sim.control().drop_session(old.get());
    let (b, err, _) = generate(&h, json!({"instruction": COMBINE})).await;
    assert!(err || b["status"] == "failed", "{b}");
    let e = error_of(&b);
    assert_eq!(e["code"], "project_not_restored", "{b}");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("a.png (moved or deleted)") && msg.contains("b.png (changed"),
        "{msg}"
    );
    tally(
        &h,
        (0, 0),
        (0, 0),
        "an edit after the project was lost, one photo deleted and one changed",
        "`project_not_restored` listing both files; nothing sent",
    )
    .await;
}

#[tokio::test]
async fn an_in_stream_lost_project_is_restored_by_the_next_generate() {
    let h = Harness::with(sim(), |_| {}).await;
    upload_two(&h).await;
    h.sim.control().inject(Fault::new(
        Route::RunSse,
        FaultAction::StreamError {
            form: StreamErrorForm::WithDetails,
            code: Some(1002),
        },
    ));
    let (b, _, _) = generate(&h, json!({"instruction": COMBINE})).await;
    let e = error_of(&b);
    assert_eq!(e["code"], "session_lost", "{b}");
    assert_eq!(e["retryable"], true, "{b}");
    assert!(
        e["next_step"].as_str().unwrap().contains("generate again"),
        "{b}"
    );
    lose_the_project_then_edit(&h).await;
    tally(&h, (0, 0), (2, 50), "an edit ended by an in-stream 1002 (project lost), then the same edit again", "`session_lost`, retryable; the retry restores the project (same media) and is charged once").await;
}

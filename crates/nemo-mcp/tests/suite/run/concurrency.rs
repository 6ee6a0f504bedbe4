//! Several tool calls at once: uploads during a generation, two exports, get_job from two
//! callers. Nothing is lost or mixed up, and every journal entry stays readable.

use crate::common;

use common::*;
use nemo_sim::SimConfig;
use serde_json::json;

#[tokio::test]
async fn concurrent_calls_behave_and_the_journal_stays_whole() {
    let h = Harness::with(SimConfig::fast().with_time_scale(0.05), |_| {}).await;
    h.call(
        "upload_media",
        json!({"paths": [h.media("a.png", &png(16, 16))]}),
    )
    .await;
    let gen = body(
        &h.call(
            "generate",
            json!({"instruction": "combine into a 10 second video with music", "wait_s": 0.1}),
        )
        .await,
    );
    assert_eq!(gen["status"], "running");
    // While it runs: an upload, and two callers waiting on the same job.
    let paths = json!({"paths": [h.media("b.png", &png(16, 16)), h.media("c.png", &png(16, 16))]});
    let wait = json!({"job_id": gen["job_id"], "wait_s": 20});
    let (up, w1, w2) = tokio::join!(
        h.call("upload_media", paths),
        h.call("get_job", wait.clone()),
        h.call("get_job", wait)
    );
    assert_eq!(body(&up)["status"], "succeeded", "{}", text_of(&up));
    assert_eq!(body(&w1)["status"], "succeeded");
    assert_eq!(
        body(&w1)["result"],
        body(&w2)["result"],
        "both callers see the same result"
    );
    // Two exports at once: two renders, two distinct files.
    let (e1, e2) = tokio::join!(
        h.call("export_video", json!({"filename": "same-name"})),
        h.call("export_video", json!({"filename": "same-name"}))
    );
    let (e1, e2) = (h.finish(body(&e1)).await, h.finish(body(&e2)).await);
    assert_eq!(
        (e1["status"].as_str(), e2["status"].as_str()),
        (Some("succeeded"), Some("succeeded")),
        "{e1} {e2}"
    );
    assert_ne!(e1["result"]["path"], e2["result"]["path"]);
    let outs = h.outputs();
    assert_eq!(outs.len(), 2, "{outs:?}");
    assert_eq!(h.sim.control().renders().len(), 2);
    assert_eq!(h.sim.control().messages().len(), 1);
    // Every journal entry reads back; all jobs are finished.
    let all = h.app.jobs.journal().all();
    assert!(all.iter().all(|j| j.status().is_finished()), "{all:?}");
    assert_eq!(all.len(), 5, "2 uploads, 1 generation, 2 exports");
}

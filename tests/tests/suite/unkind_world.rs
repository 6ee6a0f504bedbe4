//! The unkind world (issue 41): hosts set up differently on one state folder, processes that
//! die at the worst moment, a backend that sends crafted files. Each case runs real `nemo-mcp`
//! processes and counts what reached the simulator: paid messages and credits charged.

use e2e::world::{until_message, World, PROMO};
use e2e::{call, follow};
use nemo_sim::{Fault, FaultAction, Route, SimConfig};
use serde_json::json;
use std::time::Duration;

/// Host A (the bundle, its own output folder) dies while its export downloads; host B (the
/// default folder) takes the job over. B saves into A's folder, as the job says; nothing is
/// deleted, nothing is sent or charged twice, and no `.part` is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_taken_over_by_a_host_with_another_output_folder_is_saved_where_it_was_asked() {
    let w = World::new(SimConfig::fast().with_time_scale(0.1)).await;
    std::fs::create_dir_all(w.path("outA")).unwrap();
    let out_a = w.path("outA").display().to_string();
    let a = w.host(&[("NEMO_OUTPUT_DIR", &out_a)]).await;
    let b = w.host(&[]).await;
    // A's download stops after its first kilobytes and never ends.
    w.sim.control().inject(Fault::new(
        Route::Download,
        FaultAction::StallMidBody { after_bytes: 4096 },
    ));
    let paths = [w.media("p1.png"), w.media("p2.png")];
    let (started, err) = call(
        &a.client,
        "make_video",
        json!({"instruction": PROMO, "paths": paths, "wait_s": 0}),
    )
    .await;
    assert!(!err, "{started}");
    let id = started["job_id"].as_str().unwrap().to_string();
    let at_kill = until_message(&a.client, &id, "downloading").await;
    assert_eq!(at_kill["status"], "running", "{at_kill}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.kill9();
    let (done, _) = follow(&b.client, json!({"status": "running", "job_id": id})).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let saved = done["result"]["path"].as_str().unwrap_or_default().to_string();
    assert!(saved.contains("outA"), "saved where A's job asked: {done}");
    assert_eq!(w.mp4s_in("outA").len(), 1, "{:?}", w.mp4s_in("outA"));
    assert!(w.mp4s().is_empty(), "nothing in B's own folder: {:?}", w.mp4s());
    let parts: Vec<_> = std::fs::read_dir(w.path("outA"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(parts.is_empty(), "no .part left: {parts:?}");
    let (messages, credits, renders) = w.counts();
    assert_eq!((messages, credits), (1, 50), "one message, 50 credits");
    assert_eq!(renders, 1, "one render");
    // The export is listed with its file in A's folder.
    let (jobs, _) = call(&b.client, "list_jobs", json!({})).await;
    let export = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "export")
        .cloned()
        .unwrap_or_default();
    assert_eq!(export["status"], "succeeded", "{jobs}");
    assert_eq!(export["path"].as_str(), Some(saved.as_str()), "{jobs}");
}

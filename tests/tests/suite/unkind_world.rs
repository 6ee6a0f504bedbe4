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
    let saved = done["result"]["path"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(saved.contains("outA"), "saved where A's job asked: {done}");
    assert_eq!(w.mp4s_in("outA").len(), 1, "{:?}", w.mp4s_in("outA"));
    assert!(
        w.mp4s().is_empty(),
        "nothing in B's own folder: {:?}",
        w.mp4s()
    );
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

/// A process died while checking its export's file (a file that aborted it, say): the row it
/// left says so. The host that takes the export over keeps the file and ends the export
/// without reading it again, so one crafted render cannot stop every later start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_whose_check_stopped_a_process_is_kept_unchecked_by_the_next() {
    let w = World::new(SimConfig::fast()).await;
    let a = w.host(&[]).await;
    let paths = [w.media("p1.png"), w.media("p2.png")];
    let (v, err) = call(
        &a.client,
        "make_video",
        json!({"instruction": PROMO, "paths": paths, "wait_s": 0}),
    )
    .await;
    assert!(!err, "{v}");
    let (done, _) = follow(&a.client, v).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let export_id = done["result"]["export_job"].as_str().unwrap().to_string();
    a.cancel().await.ok();
    // The row as a process leaves it when it dies inside the check: running, the file
    // downloaded and named, the check begun.
    let db = rusqlite::Connection::open(w.path(".config/nemo-mcp/state.db")).unwrap();
    let body: String = db
        .query_row("SELECT body FROM jobs WHERE id = ?1", [&export_id], |r| {
            r.get(0)
        })
        .unwrap();
    let mut job: serde_json::Value = serde_json::from_str(&body).unwrap();
    let file = job["work"]["output_path"].as_str().unwrap().to_string();
    assert!(std::path::Path::new(&file).is_file(), "{job}");
    job["work"]["checking"] = json!(true);
    job["work"]["outcome"] = json!({"status": "running"});
    db.execute(
        "UPDATE jobs SET body = ?1, running = 1, runner = 'gone' WHERE id = ?2",
        rusqlite::params![job.to_string(), export_id],
    )
    .unwrap();
    let before = w.counts();
    let b = w.host(&[]).await;
    let (after, _) = follow(&b.client, json!({"status": "running", "job_id": export_id})).await;
    assert_eq!(after["status"], "succeeded", "{after}");
    let result = &after["result"];
    assert_eq!(
        result["path"].as_str(),
        Some(file.as_str()),
        "the same file: {after}"
    );
    let notes = result["notes"].to_string();
    assert!(notes.contains("not checked"), "{after}");
    assert!(result["frames_s"].is_null(), "no pictures taken: {after}");
    assert!(std::path::Path::new(&file).is_file());
    assert_eq!(w.mp4s().len(), 1, "{:?}", w.mp4s());
    let (messages, credits, _) = w.counts();
    assert_eq!(
        (messages, credits),
        (before.0, before.1),
        "nothing sent or charged"
    );
    assert_eq!((messages, credits), (1, 50));
    // The library lists the export once (it reached its end twice, in two processes).
    let (projects, _) = call(&b.client, "list_projects", json!({})).await;
    let name = std::path::Path::new(&file)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert_eq!(projects.to_string().matches(&name).count(), 1, "{projects}");
    // And a later start finds nothing left to take over.
    b.cancel().await.ok();
    let c = w.host(&[]).await;
    let (again, _) = call(&c.client, "get_job", json!({"job_id": export_id})).await;
    assert_eq!(again["status"], "succeeded", "{again}");
}

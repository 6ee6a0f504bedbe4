//! Restarts: jobs left running by a previous process are resumed from the journal.

use crate::common;

use common::*;
use nemo_sim::SimConfig;
use serde_json::{json, Value};

#[tokio::test]
async fn a_render_in_flight_is_finished_and_downloaded_once_after_a_restart() {
    let h = Harness::with(SimConfig::fast().with_time_scale(0.05), |_| {}).await;
    h.call(
        "upload_media",
        json!({"paths": [h.media("a.png", &png(10, 10))]}),
    )
    .await;
    h.call(
        "generate",
        json!({"instruction": "combine into a 5 second video"}),
    )
    .await;
    let running = body(&h.call("export_video", json!({"wait_s": 0.1})).await);
    assert_eq!(running["status"], "running");
    let job_id = running["job_id"].as_str().unwrap().to_string();
    // Wait until the render id is journaled, then "kill" the server (drop it, jobs and all).
    // The claim is about a render in flight: the render id must be journaled (and the render
    // submitted) before the "kill", or the test would pass through the never-submitted path.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while h
        .app
        .jobs
        .journal()
        .get(&job_id)
        .and_then(|j| j.export_data().and_then(|e| e.render_id.clone()))
        .is_none()
        || h.sim.control().renders().is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the render was never submitted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // The "kill": the old server's job tasks stop (and are waited for); the journal stays as
    // the crash left it, with the render id.
    let h2 = h.restart().await;
    let done = h2
        .finish(json!({"status": "running", "job_id": job_id}))
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let submits = h2
        .sim
        .log()
        .iter()
        .filter(|x| x.path == "/api/render/proxy/lambda")
        .count();
    assert_eq!(submits, 1, "the render was not submitted again");
    let outputs = h2.outputs();
    assert_eq!(
        outputs.len(),
        1,
        "one MP4 and no leftover .part: {outputs:?}"
    );
    assert_eq!(outputs[0].extension().unwrap(), "mp4");
}

#[tokio::test]
async fn a_generation_in_flight_is_recovered_from_state_never_resent() {
    // Reads spaced so that five of them outlast the simulated edit (1.5 s), as 30 s + 4 x 60 s
    // outlast a real one.
    let h = Harness::with(SimConfig::fast().with_time_scale(0.1), |s| {
        s.recovery_first = std::time::Duration::from_millis(400);
        s.recovery_then = std::time::Duration::from_millis(400);
    })
    .await;
    h.call(
        "upload_media",
        json!({"paths": [h.media("a.png", &png(10, 10))]}),
    )
    .await;
    let running = body(
        &h.call(
            "generate",
            json!({"instruction": "combine into a 20 second video", "wait_s": 0.2}),
        )
        .await,
    );
    assert_eq!(running["status"], "running");
    let job_id = running["job_id"].as_str().unwrap().to_string();
    // The "kill": the old job's stream is dropped mid-turn; the journal still says running.
    let h2 = h.restart().await;
    assert_eq!(
        h2.journal_entry(&job_id).status(),
        nemo_mcp::testing::JobStatus::Running
    );
    let done = h2
        .finish(json!({"status": "running", "job_id": job_id}))
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["duration_s"], 20.0);
    assert!(done["result"]["recovered"]
        .as_str()
        .unwrap()
        .contains("project state"));
    assert_eq!(
        h2.sim.control().attempted_messages().len(),
        1,
        "never re-sent"
    );
}

#[tokio::test]
async fn finished_jobs_are_listed_after_a_restart_and_torn_entries_skipped() {
    let h = Harness::start().await;
    let up = body(
        &h.call(
            "upload_media",
            json!({"paths": [h.media("a.png", &png(10, 10))]}),
        )
        .await,
    );
    let stopped = h.stop().await;
    // An old journal file, torn: it is not moved in (and is kept aside with the rest).
    std::fs::create_dir_all(stopped.dir.path().join("state/jobs")).unwrap();
    std::fs::write(
        stopped.dir.path().join("state/jobs/gen_torn.json"),
        b"{\"id\": \"gen_torn\", \"kind\":",
    )
    .unwrap();
    let h2 = stopped.start().await;
    let jobs = body(&h2.call("list_jobs", json!({})).await);
    let ids: Vec<&str> = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![up["job_id"].as_str().unwrap()]);
}

#[tokio::test]
async fn a_render_saved_just_before_a_crash_is_not_downloaded_again() {
    // The crash came after the file was in place (renamed from its `.part`) and before the job
    // was journaled as done (while the saved file was being checked): the process that takes
    // the job over finds the file and checks it, and never fetches the render a second time.
    let h = Harness::start().await;
    upload_two(&h).await;
    h.call(
        "generate",
        json!({"instruction": "combine into a 5 second video"}),
    )
    .await;
    let r = h.call("export_video", json!({"filename": "saved"})).await;
    let done = h.finish(body(&r)).await;
    let (path, render) = (
        done["result"]["path"].as_str().unwrap().to_string(),
        done["result"]["render_id"].as_str().unwrap().to_string(),
    );
    let fetched = |h: &Harness| {
        h.sim
            .log()
            .iter()
            .filter(|x| x.method == "GET" && x.path.contains(&render) && x.path.ends_with(".mp4"))
            .count()
    };
    assert_eq!(fetched(&h), 1);
    let stopped = h.stop().await;
    let settings = &stopped.settings;
    let job_id = "exp_00000000c0de";
    let export = V1Export {
        render: &render,
        stem: "saved",
        path: Some(&path),
        progress_pct: 95.0,
        message: "downloading",
    };
    export.journal(settings, job_id);
    let h2 = stopped.start().await;
    let again = h2
        .finish(json!({"status": "running", "job_id": job_id}))
        .await;
    assert_eq!(again["status"], "succeeded", "{again}");
    assert_eq!(again["result"]["path"], path, "{again}");
    assert_eq!(
        fetched(&h2),
        1,
        "the render was fetched once, before the crash"
    );
    assert_eq!(h2.outputs().len(), 1, "{:?}", h2.outputs());
}

#[tokio::test]
async fn a_journaled_render_the_backend_never_got_is_submitted_after_a_restart() {
    // The crash came after the id was journaled and before the submit reached the backend.
    let h = Harness::start().await;
    h.call(
        "upload_media",
        json!({"paths": [h.media("a.png", &png(10, 10))]}),
    )
    .await;
    h.call(
        "generate",
        json!({"instruction": "combine into a 5 second video"}),
    )
    .await;
    let stopped = h.stop().await;
    let settings = &stopped.settings;
    // Journaled by the previous version (format 1, no `version`): upgraded on load, resumed.
    let job_id = "exp_0123456789ab";
    let export = V1Export {
        render: "render_never_submitted",
        stem: "resumed",
        path: None,
        progress_pct: 2.0,
        message: "submitting the render",
    };
    export.journal(settings, job_id);
    let h2 = stopped.start().await;
    let done = h2
        .finish(json!({"status": "running", "job_id": job_id}))
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(done["result"]["path"]
        .as_str()
        .unwrap()
        .ends_with("resumed.mp4"));
    assert_eq!(
        h2.journal_entry(job_id).version,
        nemo_mcp::testing::JOURNAL_VERSION,
        "written back in today's format"
    );
    let submits = h2
        .sim
        .log()
        .iter()
        .filter(|x| x.path == "/api/render/proxy/lambda")
        .count();
    assert_eq!(submits, 1, "submitted once, after the restart");
}

#[tokio::test]
async fn a_make_video_whose_instruction_never_left_before_a_restart_sends_it_once() {
    // The crash came after make_video started its generation step and before that step
    // journaled the project state (which it does before every send): nothing had left.
    let h = Harness::start().await;
    h.call(
        "upload_media",
        json!({"paths": [h.media("a.png", &png(10, 10)), h.media("b.png", &png(10, 10))]}),
    )
    .await;
    let stopped = h.stop().await;
    let settings = &stopped.settings;
    let generation = nemo_mcp::testing::Job::generation(
        "combine these images into a 10-second video",
        Some(nemo_mcp::testing::CostKind::of("combine")),
    );
    let video = nemo_mcp::testing::Job::video(nemo_mcp::testing::VideoPlan {
        instruction: "combine these images into a 10-second video".into(),
        language: "en".into(),
        export: true,
        cost_kind: nemo_mcp::testing::CostKind::of("combine"),
        upload: None,
        generate: Some(generation.id.clone()),
        export_job: None,
        project: None,
        filename: None,
        set: None,
        media: Default::default(),
        no_captions: false,
        output_dir: None,
        allowed: None,
        budgets: None,
        fix: false,
        fix_round: None,
        asked: None,
    });
    std::fs::create_dir_all(settings.journal_dir()).unwrap();
    for job in [&generation, &video] {
        let file = settings.journal_dir().join(format!("{}.json", job.id));
        std::fs::write(&file, serde_json::to_vec_pretty(job).unwrap()).unwrap();
        // Left by an older version that stopped a while ago (a recent one may still run it).
        nemo_mcp::testing::written_long_ago(&file);
    }
    let h2 = stopped.start().await;
    let done = h2
        .finish(json!({"status": "running", "job_id": video.id}))
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(done["result"]["path"].is_string(), "{done}");
    assert_eq!(counts(&h2).await, (1, 50), "sent once, charged once");
    assert_eq!(render_submits(&h2), 1);
}

#[tokio::test]
async fn a_make_video_whose_upload_a_restart_cut_uploads_once_more_and_sends_once() {
    let h = Harness::start().await;
    let (job, _) = make_video_with_its_upload_held(&h, json!({})).await;
    assert_eq!(h.sim.control().attempted_messages().len(), 0);
    let h2 = h.restart().await;
    let done = h2.finish(job).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["uploaded"], 2, "{done}");
    assert!(done["result"]["path"].is_string(), "{done}");
    assert_eq!(uploads(&h2.sim), 2, "the cut upload, then once more");
    assert_eq!(counts(&h2).await, (1, 50), "sent once, charged once");
    assert_eq!(render_submits(&h2), 1);
}

/// The job carries the folders it was made under: the process that takes over its cut upload
/// allows other folders (another host set up otherwise), and still uploads the job's media,
/// checked against the folders the job recorded, once more; one message, one charge.
#[tokio::test]
async fn a_cut_upload_taken_over_by_a_process_with_other_folders_is_judged_by_the_jobs_own() {
    let h = Harness::start().await;
    let (job, files) = make_video_with_its_upload_held(&h, json!({})).await;
    let h2 = allowing_other_folders(h.stop().await, &files[0]).await;
    let done = h2.finish(job).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["uploaded"], 2, "{done}");
    assert_eq!(uploads(&h2.sim), 2, "the cut upload, then once more");
    assert_eq!(counts(&h2).await, (1, 50), "sent once, charged once");
}

/// A running export as the previous version journaled it (format 1: a JSON file per job in the
/// journal folder, no `version`), which the next start moves in and resumes.
struct V1Export<'a> {
    render: &'a str,
    stem: &'a str,
    path: Option<&'a str>,
    progress_pct: f64,
    message: &'a str,
}

impl V1Export<'_> {
    fn journal(&self, settings: &nemo_mcp::Settings, job_id: &str) {
        let entry = json!({"id": job_id, "kind": "export", "status": "running",
            "created_at": chrono::Utc::now().to_rfc3339(), "finished_at": null,
            "progress_pct": self.progress_pct, "message": self.message, "activity": 3,
            "result": null, "error": null, "instruction": null, "session_id": null,
            "state_before": null, "credits_before": null, "render_id": self.render,
            "output_stem": self.stem, "output_path": self.path, "request_id": null,
            "cost_kind": null});
        std::fs::create_dir_all(settings.journal_dir()).unwrap();
        let file = settings.journal_dir().join(format!("{job_id}.json"));
        std::fs::write(&file, serde_json::to_vec_pretty(&entry).unwrap()).unwrap();
        nemo_mcp::testing::written_long_ago(&file);
    }
}

/// The same for a set of versions: its one upload of the media, cut by a stop, is taken over
/// by a process that allows other folders and judged by the folders the set recorded. Each
/// version sent once.
#[tokio::test]
async fn a_set_s_cut_upload_taken_over_by_a_process_with_other_folders_is_judged_by_its_own() {
    let h = Harness::start().await;
    let (job, files) = make_video_with_its_upload_held(
        &h,
        json!({"variants": ["tiktok", "square"], "confirm": true}),
    )
    .await;
    let h2 = allowing_other_folders(h.stop().await, &files[0]).await;
    let done = h2.finish(job).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let made: Vec<&str> = done["result"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(made, ["made", "made"], "{done}");
    assert_eq!(counts(&h2).await, (2, 100), "each version sent once");
}

/// A `make_video` of two pictures (with `extra` arguments) whose upload nemo-sim logs as it
/// arrives, then holds past a stop, which cuts it: its job, and the pictures.
pub(super) async fn make_video_with_its_upload_held(
    h: &Harness,
    extra: Value,
) -> (Value, [String; 2]) {
    use nemo_sim::{Fault, FaultAction, Route};
    h.sim
        .control()
        .inject(Fault::new(Route::Upload, FaultAction::Delay { ms: 30_000 }));
    let files = [
        h.media("a.png", &png(10, 10)),
        h.media("b.png", &png(12, 12)),
    ];
    let mut args = json!({"instruction": "combine these images into a 10-second video",
                          "paths": files, "wait_s": 0});
    if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    let r = h.call("make_video", args).await;
    assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
    until("the upload held", || uploads(&h.sim) == 1).await;
    (body(&r), files)
}

/// Uploads nemo-sim has seen.
pub(super) fn uploads(sim: &nemo_sim::SimHandle) -> usize {
    sim.log()
        .iter()
        .filter(|r| r.path.starts_with("/api/upload-video/"))
        .count()
}

/// The stopped server started again as a process set up otherwise: its allowed folder is
/// another one, which does not hold `media`.
async fn allowing_other_folders(mut stopped: Stopped, media: &str) -> Harness {
    let elsewhere = stopped.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let mut other = nemo_mcp::Settings::new(
        stopped.settings.client.clone(),
        stopped.settings.output_dir.clone(),
        vec![elsewhere],
    );
    other.render_poll = stopped.settings.render_poll;
    other.progress_every = stopped.settings.progress_every;
    other.default_wait = stopped.settings.default_wait;
    assert!(
        nemo_mcp::testing::resolve_input(media, &nemo_mcp::testing::input_policy(&other)).is_err(),
        "the second process does not allow the media's folder"
    );
    stopped.settings = other;
    stopped.start().await
}

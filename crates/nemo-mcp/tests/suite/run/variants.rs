//! `make_video` with `variants`: several versions from one request. Every case counts, from
//! nemo-sim's log, the messages sent and the credits charged for each variant, and the media
//! bytes uploaded.

use crate::common;

use common::*;
use nemo_sim::{Fault, FaultAction, Route, SimConfig, Variants};
use serde_json::{json, Value};
use std::time::Duration;

const START: i64 = 1000;
const BASE: &str = "combine these images into a 10-second promo with music and text";
const VARIANTS: [&str; 3] = ["vertical 9:16 for TikTok", "square 1:1", "in Chinese"];

fn sim() -> SimConfig {
    let mut c = SimConfig::fast();
    c.starting_credits = START;
    c
}

async fn harness(concurrency: usize) -> Harness {
    Harness::with(sim(), |s| s.variant_concurrency = concurrency).await
}

fn args(h: &Harness, extra: Value) -> Value {
    let mut a = json!({
        "instruction": BASE,
        "paths": [h.media("a.png", &png(32, 32)), h.media("b.png", &png(32, 32))],
        "variants": VARIANTS,
    });
    if let (Some(a), Some(e)) = (a.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    a
}

/// Messages sent per variant (the variant's words are in its message), in VARIANTS order.
fn messages_per_variant(h: &Harness) -> Vec<usize> {
    let sent = h.sim.control().attempted_messages();
    VARIANTS
        .iter()
        .map(|v| sent.iter().filter(|m| m.contains(v)).count())
        .collect()
}

/// Credits charged in all, once every turn has settled.
async fn charged(h: &Harness) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let accounts = h.sim.control().accounts();
        if accounts.iter().all(|a| a.frozen == 0) || tokio::time::Instant::now() > deadline {
            let left: i64 = accounts.iter().map(|a| a.available + a.frozen).sum();
            return if accounts.is_empty() { 0 } else { START - left };
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// (file uploads, URL uploads, bytes of the file uploads).
fn uploads(h: &Harness) -> (usize, usize, u64) {
    let log = h.sim.log();
    let up: Vec<_> = log
        .iter()
        .filter(|r| r.path.starts_with("/api/upload-video/"))
        .collect();
    // By what was sent (also one held or cut before nemo-sim read its parts).
    let files: Vec<_> = up
        .iter()
        .filter(|r| {
            r.content_type
                .as_deref()
                .is_some_and(|c| c.starts_with("multipart/"))
        })
        .collect();
    let urls = up.iter().filter(|r| r.body.is_some()).count();
    (
        files.len(),
        urls,
        files.iter().filter_map(|r| r.body_size).sum(),
    )
}

/// Uploads that met a scripted fault (here a delay), logged as they arrived.
fn held_uploads(h: &Harness) -> usize {
    h.sim
        .log()
        .iter()
        .filter(|r| r.path.starts_with("/api/upload-video/") && r.fault.is_some())
        .count()
}

/// Credits nemo-sim charged each version's project, in VARIANTS order (each message names its
/// version; nemo-sim records the charge of each turn by project).
fn sim_charges(h: &Harness) -> Vec<i64> {
    let charges = h.sim.control().charges();
    let log = h.sim.log();
    VARIANTS
        .iter()
        .map(|v| {
            log.iter()
                .filter(|r| r.message.as_deref().is_some_and(|m| m.contains(v)) && r.turn_started)
                .filter_map(|r| {
                    let sid = &r.body.as_ref()?["session_id"];
                    sid.as_u64().or_else(|| sid.as_str()?.parse().ok())
                })
                .map(|sid| {
                    charges
                        .iter()
                        .filter(|(s, _)| *s == sid)
                        .map(|(_, c)| c)
                        .sum::<i64>()
                })
                .sum()
        })
        .collect()
}

fn per_variant_credits(done: &Value) -> Vec<i64> {
    done["result"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["credits_spent"].as_i64().unwrap())
        .collect()
}

fn statuses(done: &Value) -> Vec<String> {
    done["result"]["variants"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|v| v["status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn three_versions_one_estimate_the_media_once_and_each_its_own_file_and_shape() {
    let h = harness(3).await;
    let r = h.call("make_video", args(&h, json!({}))).await;
    assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
    let done = h.finish(body(&r)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(statuses(&done), ["made", "made", "made"], "{done}");
    assert_eq!(messages_per_variant(&h), [1, 1, 1]);
    assert_eq!(charged(&h).await, 150);
    assert_eq!(
        sim_charges(&h),
        [50, 50, 50],
        "per version, on nemo-sim's side"
    );
    // Run at once, each charge is counted once: the total is exact (the split between versions
    // that end together may not be: the balance is all the contract gives).
    assert_eq!(done["result"]["credits_spent"], 150);
    assert_eq!(per_variant_credits(&done).iter().sum::<i64>(), 150);
    // The media once: one file upload, the other projects by NemoVideo's URLs.
    let (files, urls, _) = uploads(&h);
    assert_eq!(
        (files, urls),
        (1, 2),
        "media by reference after the first upload"
    );
    // Each its own project, its own file named after it, its own shape and language.
    let variants = done["result"]["variants"].as_array().unwrap();
    let mut projects: Vec<&str> = variants
        .iter()
        .map(|v| v["project_id"].as_str().unwrap())
        .collect();
    projects.dedup();
    assert_eq!(projects.len(), 3);
    let names: Vec<String> = variants
        .iter()
        .map(|v| {
            std::path::Path::new(v["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string()
        })
        .collect();
    assert!(
        names[0].contains("vertical") && names[0].ends_with(".mp4"),
        "{names:?}"
    );
    assert!(names[1].contains("square"), "{names:?}");
    assert!(names[2].to_lowercase().contains("chinese"), "{names:?}");
    assert_eq!(h.outputs().len(), 3);
    let canvas = |i: usize| {
        let sid: u64 = variants[i]["project_id"].as_str().unwrap().parse().unwrap();
        let d = h.sim.control().draft(sid).unwrap();
        (
            d["m"]["width"].as_u64(),
            d["m"]["height"].as_u64(),
            d.to_string(),
        )
    };
    assert_eq!(canvas(0).0, Some(1080));
    assert_eq!(canvas(0).1, Some(1920));
    assert_eq!((canvas(1).0, canvas(1).1), (Some(1080), Some(1080)));
    assert!(
        canvas(2).2.contains("新品上市"),
        "the Chinese version's text: {}",
        canvas(2).2
    );
    // The answer lists every version; the text names them.
    let text = text_of(&h.call("get_job", json!({"job_id": done["job_id"]})).await);
    // The README's example (run with --nocapture).
    println!(
        "{text}\n{}",
        serde_json::to_string(&done["result"]).unwrap()
    );
    assert!(text.contains("3 of 3 versions made, 150 credits"), "{text}");
    assert!(text.contains("2. square 1:1: saved"), "{text}");
    assert!(text.contains("uploaded once"), "{text}");
}

#[tokio::test]
async fn without_urls_from_the_first_upload_the_media_is_uploaded_again() {
    let mut c = sim();
    c.variants = Variants {
        upload_without_cdn_url: true,
        ..Variants::default()
    };
    let h = Harness::with(c, |_| {}).await;
    let r = h.call("make_video", args(&h, json!({}))).await;
    let done = h.finish(body(&r)).await;
    assert_eq!(statuses(&done), ["made", "made", "made"], "{done}");
    let (files, urls, _) = uploads(&h);
    assert_eq!((files, urls), (3, 0), "each project got the files");
    assert_eq!(messages_per_variant(&h), [1, 1, 1]);
    assert_eq!(charged(&h).await, 150);
    assert_eq!(sim_charges(&h), [50, 50, 50]);
    let text = text_of(&h.call("get_job", json!({"job_id": done["job_id"]})).await);
    assert!(text.contains("uploaded again"), "{text}");
}

#[tokio::test]
async fn a_set_over_max_credits_sends_and_uploads_nothing() {
    let h = harness(3).await;
    let r = h
        .call("make_video", args(&h, json!({"max_credits": 100})))
        .await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(body(&r)["code"], "over_budget", "{}", text_of(&r));
    assert!(
        text_of(&r).contains("150"),
        "one estimate for the set: {}",
        text_of(&r)
    );
    assert_eq!(messages_per_variant(&h), [0, 0, 0]);
    assert_eq!(uploads(&h), (0, 0, 0));
    assert_eq!(charged(&h).await, 0);
    // Confirmation without elicitation: one for the set; with it, the set goes.
    let h = Harness::with(sim(), |s| s.confirm_spending = true).await;
    let r = h.call("make_video", args(&h, json!({}))).await;
    assert_eq!(body(&r)["code"], "confirmation_required", "{}", text_of(&r));
    assert_eq!(uploads(&h), (0, 0, 0));
    let r = h
        .call("make_video", args(&h, json!({"confirm": true})))
        .await;
    let done = h.finish(body(&r)).await;
    assert_eq!(statuses(&done), ["made", "made", "made"], "{done}");
    assert_eq!(messages_per_variant(&h), [1, 1, 1]);
    assert_eq!(charged(&h).await, 150);
}

#[tokio::test]
async fn out_of_credits_after_the_first_version_the_others_say_so_and_cost_nothing() {
    let h = harness(1).await;
    let r = h.call("make_video", args(&h, json!({"wait_s": 0}))).await;
    let parent = body(&r);
    // Agreed with 1000 available; then the account holds enough for one version only.
    h.sim.control().set_credits(None, 60);
    let done = h.finish(parent).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(statuses(&done), ["made", "failed", "failed"], "{done}");
    assert_eq!(per_variant_credits(&done), [50, 0, 0]);
    let errors: Vec<&str> = done["result"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|v| v["error"].as_str().unwrap())
        .collect();
    assert!(
        errors.iter().all(|e| e.starts_with("out_of_credits")),
        "{errors:?}"
    );
    // The later messages were refused by the backend before any turn: nothing charged.
    let turns: usize = h
        .sim
        .log()
        .iter()
        .filter(|r| r.path.ends_with("/run_sse") && r.turn_started)
        .count();
    assert_eq!(turns, 1);
    assert_eq!(h.sim.control().accounts()[0].available, 10);
    assert_eq!(
        sim_charges(&h),
        [50, 0, 0],
        "per version, on nemo-sim's side"
    );
    let text = text_of(&h.call("get_job", json!({"job_id": done["job_id"]})).await);
    assert!(text.contains("1 of 3 versions made, 50 credits"), "{text}");
}

#[tokio::test]
async fn a_render_failure_in_one_version_leaves_the_others_made() {
    let h = harness(1).await;
    h.sim.control().fail_next_render();
    let r = h.call("make_video", args(&h, json!({}))).await;
    let done = h.finish(body(&r)).await;
    assert_eq!(statuses(&done), ["failed", "made", "made"], "{done}");
    let first = &done["result"]["variants"][0];
    assert!(
        first["error"].as_str().unwrap().contains("render"),
        "{first}"
    );
    assert_eq!(messages_per_variant(&h), [1, 1, 1]);
    assert_eq!(
        per_variant_credits(&done),
        [50, 50, 50],
        "the failed render's edit was charged"
    );
    assert_eq!(sim_charges(&h), [50, 50, 50]);
    assert_eq!(charged(&h).await, 150);
    assert_eq!(h.outputs().len(), 2);
}

#[tokio::test]
async fn a_restart_mid_way_resumes_the_set_and_sends_nothing_twice() {
    let h = Harness::with(sim().with_time_scale(0.03), |s| s.variant_concurrency = 1).await;
    let r = h.call("make_video", args(&h, json!({"wait_s": 0}))).await;
    let parent = body(&r);
    until("the second version sent", || {
        messages_per_variant(&h)[1] == 1
    })
    .await;
    let h = h.restart().await;
    let done = h.finish(parent).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(statuses(&done), ["made", "made", "made"], "{done}");
    assert_eq!(messages_per_variant(&h), [1, 1, 1], "no message sent twice");
    assert_eq!(charged(&h).await, 150);
    assert_eq!(sim_charges(&h), [50, 50, 50]);
    let (files, urls, _) = uploads(&h);
    assert_eq!(
        (files, urls),
        (1, 2),
        "the media not sent again after the restart"
    );
    assert_eq!(render_submits(&h), 3);
}

/// Long enough that the restart always comes while the upload waits (nemo-sim logs a request
/// as it arrives, then holds it): the restart cuts it, and nothing of it lands.
const HELD_MS: u64 = 30_000;

#[tokio::test]
async fn a_restart_during_the_media_upload_uploads_them_once_more_and_sends_each_version_once() {
    let h = harness(3).await;
    h.sim.control().inject(Fault::new(
        Route::Upload,
        FaultAction::Delay { ms: HELD_MS },
    ));
    let r = h.call("make_video", args(&h, json!({"wait_s": 0}))).await;
    let parent = body(&r);
    until("the upload held", || held_uploads(&h) == 1).await;
    let h = h.restart().await;
    let done = h.finish(parent).await;
    assert_eq!(statuses(&done), ["made", "made", "made"], "{done}");
    assert_eq!(messages_per_variant(&h), [1, 1, 1]);
    assert_eq!(charged(&h).await, 150);
    assert_eq!(sim_charges(&h), [50, 50, 50]);
    let (files, urls, _) = uploads(&h);
    assert_eq!(files, 2, "the cut upload, then once more");
    assert_eq!(urls, 2, "the other projects by reference");
}

#[tokio::test]
async fn a_restart_during_a_reference_upload_makes_it_once_more_and_sends_each_version_once() {
    let h = Harness::with(sim().with_time_scale(0.03), |s| s.variant_concurrency = 1).await;
    // nemo-sim takes faults in order: the first upload (the files) passes, the next one (the
    // second version's upload by reference) is held.
    for ms in [0, HELD_MS] {
        h.sim
            .control()
            .inject(Fault::new(Route::Upload, FaultAction::Delay { ms }));
    }
    let r = h.call("make_video", args(&h, json!({"wait_s": 0}))).await;
    let parent = body(&r);
    until("the second version's reference upload held", || {
        held_uploads(&h) == 2
    })
    .await;
    assert_eq!(uploads(&h).1, 1);
    assert_eq!(messages_per_variant(&h)[0], 1);
    assert_eq!(messages_per_variant(&h)[1], 0);
    let h = h.restart().await;
    let done = h.finish(parent).await;
    assert_eq!(statuses(&done), ["made", "made", "made"], "{done}");
    assert_eq!(messages_per_variant(&h), [1, 1, 1], "no message sent twice");
    assert_eq!(charged(&h).await, 150);
    assert_eq!(sim_charges(&h), [50, 50, 50]);
    let (files, urls, _) = uploads(&h);
    assert_eq!(files, 1, "the files once");
    assert_eq!(
        urls, 3,
        "the cut reference upload, once more, and the third version's"
    );
}

#[tokio::test]
async fn cancelling_the_set_stops_the_versions_not_sent_and_says_which_were() {
    let h = Harness::with(sim().with_time_scale(0.05), |s| s.variant_concurrency = 1).await;
    let r = h.call("make_video", args(&h, json!({"wait_s": 0}))).await;
    let parent = body(&r);
    until("the first version sent", || {
        messages_per_variant(&h)[0] == 1
    })
    .await;
    let c = h
        .call("cancel_job", json!({"job_id": parent["job_id"]}))
        .await;
    let text = text_of(&c);
    assert!(text.contains("Already sent to NemoVideo"), "{text}");
    assert!(text.contains("vertical 9:16 for TikTok"), "{text}");
    assert!(text.contains("other 2 version(s) were stopped"), "{text}");
    // Time for anything that would still go out.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(messages_per_variant(&h), [1, 0, 0]);
    assert!(charged(&h).await <= 50);
    assert_eq!(sim_charges(&h)[1..], [0, 0]);
    let (files, urls, _) = uploads(&h);
    assert_eq!(files, 1);
    assert!(
        urls <= 1,
        "at most the next version's reference upload: {urls}"
    );
}

#[tokio::test]
async fn bad_variants_are_refused_before_anything() {
    let h = harness(3).await;
    for (variants, why) in [
        (json!(["a", "b", "c", "d", "e", "f", "g"]), "at most 6"),
        (json!(["square", " "]), "1 to 200 characters"),
        (json!(["Square", "square"]), "given twice"),
    ] {
        let r = h
            .call("make_video", args(&h, json!({"variants": variants})))
            .await;
        assert_eq!(body(&r)["code"], "invalid_argument");
        assert!(text_of(&r).contains(why), "{}", text_of(&r));
    }
    assert_eq!(uploads(&h), (0, 0, 0));
    assert_eq!(h.sim.control().attempted_messages().len(), 0);
}

/// Five platforms from one request, named as people name them: one upload of each file, one
/// quote (showing what each platform's version asks for), five files named after their
/// platforms in the platforms' shapes, each held against its platform. Counted on nemo-sim:
/// five messages, 250 credits.
#[tokio::test]
async fn five_platforms_from_one_request() {
    let h = harness(3).await;
    let paths = [
        h.media("a.png", &png(32, 32)),
        h.media("b.png", &png(32, 32)),
    ];
    let platforms = ["TikTok", "reels", "YouTube Shorts", "youtube", "square"];
    // The quote, before anything is sent: one, for the set, with each platform's words.
    let quote = h
        .call(
            "make_video",
            json!({"instruction": BASE, "paths": paths, "variants": platforms, "max_credits": 10}),
        )
        .await;
    assert_eq!(quote.is_error, Some(true));
    let said = text_of(&quote);
    assert!(
        said.contains("5 versions") && said.contains("vertical 9:16 (1080×1920) for TikTok"),
        "{said}"
    );
    assert_eq!(
        h.sim.control().attempted_messages().len(),
        0,
        "nothing sent for a quote"
    );
    let r = h
        .call(
            "make_video",
            json!({"instruction": BASE, "paths": paths, "variants": platforms, "confirm": true}),
        )
        .await;
    assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
    let done = h.finish(body(&r)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let variants = done["result"]["variants"].as_array().unwrap().clone();
    assert_eq!(variants.len(), 5);
    for (v, want) in variants
        .iter()
        .zip(["tiktok", "reels", "shorts", "youtube", "square"])
    {
        assert_eq!(v["label"], want, "{v}");
        assert_eq!(v["status"], "made", "{v}");
        let path = std::path::PathBuf::from(v["path"].as_str().unwrap());
        assert_eq!(
            path.file_name().unwrap().to_string_lossy(),
            format!("{want}.mp4")
        );
        assert!(v["checked"].to_string().contains("shape"), "{v}");
        // The file's own picture size, read from it: the platform's shape.
        let job = body(&h.call("get_job", json!({"job_id": v["job_id"]})).await);
        let file = &job["result"]["file"];
        let (w, hgt) = (
            file["width"].as_u64().unwrap(),
            file["height"].as_u64().unwrap(),
        );
        // Its captions timed to it and laid out for its shape (a vertical one's sit higher).
        if let Some(vtt) = job["result"]["captions"].as_array().and_then(|c| {
            c.iter()
                .filter_map(|p| p.as_str())
                .find(|p| p.ends_with(".vtt"))
        }) {
            let text = std::fs::read_to_string(vtt).unwrap();
            assert_eq!(text.contains("line:70%"), w < hgt, "{want}: {text}");
        }
        match want {
            "tiktok" | "reels" | "shorts" => assert!(w < hgt, "{want}: {w}×{hgt}"),
            "youtube" => assert!(w > hgt, "{want}: {w}×{hgt}"),
            _ => assert_eq!(w, hgt, "{want}"),
        }
        // The sim renders small: the resolution is said to differ, the shape never.
        assert!(!v["differs"].to_string().contains("not "), "{v}");
    }
    let (files, urls, _) = uploads(&h);
    assert_eq!(
        (files, urls),
        (1, 4),
        "the files uploaded once (one request), the other four projects got them by reference"
    );
    assert_eq!(h.sim.control().attempted_messages().len(), 5);
    assert_eq!(charged(&h).await, 250);
}

/// Every version's instruction is sent and charged, then every render is refused: the set
/// made nothing, but its answer must never send the user back to `make_video` (that would
/// send and charge every instruction a second time). It points to each project's free export.
#[tokio::test]
async fn a_set_whose_every_render_is_refused_after_its_edits_points_to_export_video() {
    let h = harness(1).await;
    h.sim.control().inject(
        Fault::new(
            Route::RenderSubmit,
            FaultAction::Status {
                status: 402,
                body: String::new(),
            },
        )
        .times(20),
    );
    let r = h.call("make_video", args(&h, json!({"wait_s": 0}))).await;
    let job_id = body(&r)["job_id"].clone();
    assert!(job_id.is_string(), "{}", body(&r));
    let done = h.finish(body(&r)).await;
    let e = error_of(&done);
    let next = e["next_step"].as_str().unwrap_or_default();
    assert!(next.starts_with("do not call make_video again"), "{e}");
    assert!(next.contains("export_video (free)"), "{e}");
    // The text alone (all some hosts show of an error) says it too, and each version's line
    // names its project to export.
    let text = text_of(&h.call("get_job", json!({"job_id": job_id})).await);
    assert!(!text.contains("then call make_video again"), "{text}");
    assert!(text.contains("do not call make_video again"), "{text}");
    assert_eq!(
        text.matches("its edit may be made: connect with project_id")
            .count(),
        3,
        "{text}"
    );
    assert_eq!(messages_per_variant(&h), [1, 1, 1]);
    assert_eq!(sim_charges(&h), [50, 50, 50]);
    assert_eq!(charged(&h).await, 150);
    assert!(h.outputs().is_empty());
}

/// A set with `fix: true` under a daily budget exactly its quote (two versions, each an edit
/// and at most one fix round: 200). Both come out too short, so both fix rounds go: each is
/// checked against the budgets when it is sent, and each version's share of the quote is its
/// own, so the set's reservation is not counted beside the charges it has become.
#[tokio::test]
async fn a_set_with_fix_under_a_budget_of_its_quote_sends_both_rounds() {
    let h = Harness::with(sim(), |s| {
        s.variant_concurrency = 1;
        s.budgets.per_day = Some(200);
    })
    .await;
    // One version after the other: the first one's edit and its fix round, then the second
    // one's edit, all come out too short; the second one's round takes.
    h.sim
        .control()
        .inject(Fault::new(Route::RunSse, FaultAction::ShortTimeline { fraction: 0.5 }).times(3));
    let a = args(
        &h,
        json!({
            "instruction": "combine these images into a 30-second promo",
            "variants": ["vertical 9:16 for TikTok", "square 1:1"],
            "fix": true, "confirm": true,
        }),
    );
    let r = h.call("make_video", a).await;
    assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
    let done = h.finish(body(&r)).await;
    assert_eq!(statuses(&done), ["made", "made"], "{done}");
    let sent = h.sim.control().attempted_messages();
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(
        sent.iter()
            .filter(|m| m.contains("Keep everything else"))
            .count(),
        2
    );
    assert_eq!(charged(&h).await, 200);
    assert_eq!(per_variant_credits(&done), [100, 100], "{done}");
}

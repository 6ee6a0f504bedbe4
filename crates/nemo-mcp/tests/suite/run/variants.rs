//! `make_video` with `variants`: several versions from one request. Every case counts, from
//! nemo-sim's log, the messages sent and the credits charged for each variant, and the media
//! bytes uploaded.

use crate::common;

use common::*;
use nemo_sim::{SimConfig, Variants};
use serde_json::{json, Value};
use std::time::Duration;

const START: i64 = 1000;
const BASE: &str = "combine these images into a 10-second promo with music and text";
const VARIANTS: [&str; 3] = ["vertical 9:16 for TikTok", "square 1:1", "in Chinese"];

pub(super) fn sim() -> SimConfig {
    let mut c = SimConfig::fast();
    c.starting_credits = START;
    c
}

pub(super) async fn harness(concurrency: usize) -> Harness {
    Harness::with(sim(), |s| s.variant_concurrency = concurrency).await
}

pub(super) fn args(h: &Harness, extra: Value) -> Value {
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
pub(super) fn messages_per_variant(h: &Harness) -> Vec<usize> {
    let sent = h.sim.control().attempted_messages();
    VARIANTS
        .iter()
        .map(|v| sent.iter().filter(|m| m.contains(v)).count())
        .collect()
}

/// Credits charged in all, once every turn has settled.
pub(super) async fn charged(h: &Harness) -> i64 {
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
pub(super) fn uploads(h: &Harness) -> (usize, usize, u64) {
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
pub(super) fn held_uploads(h: &Harness) -> usize {
    h.sim
        .log()
        .iter()
        .filter(|r| r.path.starts_with("/api/upload-video/") && r.fault.is_some())
        .count()
}

/// Credits nemo-sim charged each version's project, in VARIANTS order (each message names its
/// version; nemo-sim records the charge of each turn by project).
pub(super) fn sim_charges(h: &Harness) -> Vec<i64> {
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

pub(super) fn per_variant_credits(done: &Value) -> Vec<i64> {
    done["result"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["credits_spent"].as_i64().unwrap())
        .collect()
}

pub(super) fn statuses(done: &Value) -> Vec<String> {
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

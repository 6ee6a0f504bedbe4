//! Every result fits the strictest host (issue 42): Codex cuts a tool result at about 10 KiB or
//! 256 lines, mid-JSON. With 200 projects in the library, 1,000 jobs in the journal and a set of
//! 5 variants made, every tool's structured content stays within 8 KiB as compact JSON and its
//! text within 200 lines; lists come in pages whose cursors cover every item once.

use crate::common;

use common::*;
use nemo_sim::SimConfig;
use serde_json::json;

const MAX_STRUCTURED: usize = 8 * 1024;
const MAX_LINES: usize = 200;

fn sized(name: &str, r: &rmcp::model::CallToolResult) -> (usize, usize) {
    let bytes = r
        .structured_content
        .as_ref()
        .map_or(0, |s| serde_json::to_vec(s).unwrap().len());
    let lines = text_of(r).lines().count();
    assert!(
        bytes <= MAX_STRUCTURED,
        "{name}: {bytes} bytes of structured content"
    );
    assert!(lines <= MAX_LINES, "{name}: {lines} lines of text");
    (bytes, lines)
}

/// Every page of a list tool, checked; the ids it listed.
async fn all_pages(h: &Harness, tool: &'static str, key: &str, id: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut args = json!({});
    for _ in 0..100 {
        let r = h.call(tool, args.clone()).await;
        assert_ne!(r.is_error, Some(true), "{tool}: {}", text_of(&r));
        sized(tool, &r);
        let b = body(&r);
        for item in b[key].as_array().unwrap() {
            ids.push(item[id].as_str().unwrap().to_string());
        }
        match b["next_cursor"].as_str() {
            Some(c) => {
                assert!(
                    text_of(&r).contains(c),
                    "the next call is spelled out: {}",
                    text_of(&r)
                );
                args = json!({"cursor": c});
            }
            None => return ids,
        }
    }
    panic!("{tool} never ended");
}

#[tokio::test]
async fn every_result_fits_with_200_projects_1000_jobs_and_5_variants() {
    let mut sim = SimConfig::fast();
    sim.starting_credits = 10_000;
    let h = Harness::with(sim, |_| {}).await;
    // 200 projects in the library, each with a long title, a summary and exports.
    for i in 0..200u64 {
        let session: nemo_client::Session = serde_json::from_value(json!({
            "session_id": (1_800_000_000_000u64 + i).to_string(), "task_id": null,
            "language": "en", "api_url": h.sim.base_url(), "user_id": null
        }))
        .unwrap();
        h.app.library.touch(&session, || None);
        for n in 0..8 {
            let path = h.dir.path().join(format!(
                "out/a-rather-long-promo-title-for-spring-{i}-{n}.mp4"
            ));
            h.app
                .library
                .exported(session.session_id, &path, 12_345_678);
        }
    }
    // 1,000 finished jobs in the journal, each asked with a long instruction.
    let long = "combine these images into a 30-second promo video with music, text overlays, a logo in the corner, a call to action at the end and captions in English and Chinese ".repeat(3);
    for _ in 0..1000 {
        let mut j = nemo_mcp::testing::Job::generation(long.clone(), None);
        j.work.end(nemo_mcp::testing::Ended::Cancelled);
        assert!(h.app.jobs.journal().save(&j));
    }
    // A set of 5 variants, made for real.
    let paths = [
        h.media("a.png", &png(32, 32)),
        h.media("b.png", &png(32, 32)),
    ];
    let made = h
        .call(
            "make_video",
            json!({
                "instruction": "combine these images into a 10-second promo with music and text",
                "paths": paths,
                "variants": ["vertical 9:16 for TikTok", "square 1:1 for feeds", "wide 16:9 for YouTube", "in Chinese", "in Spanish"],
                "confirm": true,
            }),
        )
        .await;
    sized("make_video", &made);
    let set = h.finish(body(&made)).await;
    assert_eq!(set["status"], "succeeded", "{set}");
    let set_job = set["job_id"].as_str().unwrap().to_string();
    let r = h.call("get_job", json!({"job_id": set_job})).await;
    let (bytes, lines) = sized("get_job (a set of 5 variants)", &r);
    println!("a set of 5 variants: {bytes} bytes, {lines} lines");
    // Each variant in one line, pointing to get_job for more.
    let text = text_of(&r);
    for v in body(&r)["result"]["variants"].as_array().unwrap() {
        if let Some(id) = v["job_id"].as_str() {
            assert!(text.contains(id), "{text}");
        }
    }
    // The lists, page by page: every project and job once.
    let projects = all_pages(&h, "list_projects", "projects", "project_id").await;
    assert!(projects.len() >= 200, "{}", projects.len());
    let mut unique = projects.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), projects.len(), "each project once");
    let jobs = all_pages(&h, "list_jobs", "jobs", "job_id").await;
    let mut unique = jobs.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), jobs.len(), "each job once");
    assert!(jobs.len() >= 200, "{}", jobs.len());
    // Every other tool.
    for (tool, args) in [
        ("connect", json!({})),
        ("get_credits", json!({})),
        ("get_timeline", json!({})),
        ("get_timeline", json!({"storyboard": true})),
        ("get_job", json!({"job_id": jobs[0]})),
        ("list_jobs", json!({"cursor": "nonsense"})),
        ("upload_media", json!({"paths": ["/etc/shadow"]})),
        ("export_video", json!({"wait_s": 0})),
        ("cancel_job", json!({"job_id": jobs[1]})),
    ] {
        let r = h.call(tool, args).await;
        sized(tool, &r);
    }
    let bad = h.call("list_jobs", json!({"cursor": "nonsense"})).await;
    assert_eq!(bad.is_error, Some(true));
    assert_eq!(body(&bad)["code"], "invalid_argument");
}

/// The backend's words are not ours to size: a refusal whose message is 480 KB (and one of
/// every version of a set) still makes a result that fits, with the start of the words, the
/// code and the next step kept and the cut said.
#[tokio::test]
async fn a_backend_s_words_of_any_length_still_fit() {
    use nemo_sim::{Fault, FaultAction, Route};
    let mut sim = SimConfig::fast();
    sim.starting_credits = 1_000;
    let h = Harness::with(sim, |s| s.variant_concurrency = 1).await;
    let words = "very long backend words ".repeat(20_000);
    let refusal = json!({"code": 5000, "message": words}).to_string();
    h.sim.control().inject(
        Fault::new(
            Route::RunSse,
            FaultAction::Status {
                status: 400,
                body: refusal,
            },
        )
        .times(4),
    );
    let paths = [h.media("a.png", &png(16, 16))];
    let r = h
        .call(
            "make_video",
            json!({"instruction": "combine these images into a 10-second promo", "paths": paths}),
        )
        .await;
    let r = match body(&r)["status"].as_str() {
        Some("running") => {
            let job = body(&r)["job_id"].clone();
            h.finish(body(&r)).await;
            h.call("get_job", json!({"job_id": job})).await
        }
        _ => r,
    };
    let (bytes, _) = sized("make_video refused", &r);
    let said = text_of(&r);
    assert!(
        said.contains("NemoVideo refused the request (400, code 5000): very long backend words"),
        "{said}"
    );
    // Cut in the middle: the job the message names, at its end, is still said.
    assert!(said.contains("(cut to fit)"), "{said}");
    assert!(said.contains("(job vid_"), "{said}");
    assert!(said.len() <= MAX_STRUCTURED, "{bytes}");
    // Each job as a resource (a host may put it before its model) is held the same way.
    for job in h.app.jobs.list() {
        let read = h
            .client
            .read_resource(rmcp::model::ReadResourceRequestParams::new(format!(
                "nemo://jobs/{}",
                job.id
            )))
            .await
            .unwrap();
        let rmcp::model::ResourceContents::TextResourceContents { text, .. } = &read.contents[0]
        else {
            panic!("not text: {read:?}");
        };
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let compact = serde_json::to_vec(&v).unwrap().len();
        assert!(compact <= MAX_STRUCTURED, "{}: {compact} bytes", job.id);
    }
    // Three versions, each refused with the same words.
    let r = h
        .call(
            "make_video",
            json!({
                "instruction": "combine these images into a 10-second promo",
                "paths": paths,
                "variants": ["vertical 9:16", "square 1:1", "wide 16:9"],
                "wait_s": 0,
            }),
        )
        .await;
    let job = body(&r)["job_id"].clone();
    assert!(job.is_string(), "{}", text_of(&r));
    h.finish(body(&r)).await;
    let r = h.call("get_job", json!({"job_id": job})).await;
    sized("a set refused three times", &r);
    // Each version's line is said, its backend words cut to a few lines' worth.
    for n in ["1. vertical 9:16", "2. square 1:1", "3. wide 16:9"] {
        assert!(text_of(&r).contains(n), "{n}: {}", text_of(&r));
    }
    assert!(
        text_of(&r).contains("no version was made"),
        "{}",
        text_of(&r)
    );
    assert_eq!(h.sim.control().accounts()[0].frozen, 0);
}

//! Every tool through a real MCP client, in process, against nemo-sim.

use crate::common;

use common::*;
use nemo_sim::{Fault, FaultAction, Route, SimConfig};
use rmcp::model::*;
use serde_json::json;
use std::time::Duration;

pub(super) const PROMO: &str =
    "combine these images into a 30-second promo video with music and text overlays";

#[tokio::test]
async fn quick_edit_in_three_calls() {
    let h = Harness::start().await;
    let mut paths: Vec<String> = (1..=5)
        .map(|i| h.media(&format!("p{i}.png"), &png(64, 48)))
        .collect();
    paths.push(h.media("logo.png", &png(32, 32)));
    let up = h.call("upload_media", json!({"paths": paths})).await;
    assert_ne!(up.is_error, Some(true), "{}", text_of(&up));
    assert_eq!(body(&up)["status"], "succeeded");
    assert_eq!(body(&up)["result"]["uploaded"].as_array().unwrap().len(), 6);
    let g = h.call("generate", json!({"instruction": PROMO})).await;
    let g = body(&g);
    assert_eq!(g["status"], "succeeded", "{g}");
    assert_eq!(g["result"]["duration_s"], 30.0);
    assert_eq!(g["result"]["credits_spent"], 50);
    assert!(g["result"]["timeline"]
        .as_str()
        .unwrap()
        .starts_with("Timeline (3 tracks)"));
    let e = h.call("export_video", json!({})).await;
    assert_ne!(e.is_error, Some(true), "{}", text_of(&e));
    let eb = body(&e);
    assert_eq!(eb["status"], "succeeded", "{eb}");
    let path = eb["result"]["path"].as_str().unwrap();
    assert!(std::path::Path::new(path).is_absolute());
    assert_eq!(h.outputs().len(), 1);
    assert_eq!(&std::fs::read(path).unwrap()[4..8], b"ftyp");
    assert!(eb["result"]["project_link"]
        .as_str()
        .unwrap()
        .contains("/workspace/claim?ct=clm_"));
    let link = e.content.iter().find_map(|c| c.as_resource_link().cloned());
    let link = link.expect("a resource_link to the file");
    // The link is the MP4 itself, with its type and size.
    assert!(link.uri.starts_with("file:///"), "{}", link.uri);
    assert!(link.uri.ends_with(".mp4"), "{}", link.uri);
    assert_eq!(link.mime_type.as_deref(), Some("video/mp4"));
    assert_eq!(link.size, Some(std::fs::metadata(path).unwrap().len()));
    // Its metadata is readable through the server (from any host, also over --http).
    let uri = format!("nemo://exports/{}", eb["job_id"].as_str().unwrap());
    let read = h
        .client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("not text: {read:?}");
    };
    let export: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(export["path"], body(&e)["result"]["path"]);
    assert!(export["file_uri"].as_str().unwrap().starts_with("file:///"));
    assert!(export["url"].as_str().unwrap().starts_with("http"));
    // Every request carried attribution; the message went once.
    assert!(h
        .sim
        .log()
        .iter()
        .filter(|x| x.path.starts_with("/api") || x.path == "/run_sse")
        .all(|x| x.attributed()));
    assert_eq!(h.sim.control().messages(), vec![PROMO.to_string()]);
    let c = body(&h.call("get_credits", json!({})).await);
    assert_eq!(
        (c["available"].as_i64(), c["low"].as_bool()),
        (Some(50), Some(false))
    );
    let t = body(&h.call("get_timeline", json!({})).await);
    assert_eq!(t["exportable"], true);
    assert_eq!(t["tracks"].as_array().unwrap().len(), 3);
    assert!(t.get("draft").is_none());
    // The raw draft is in the resource, not in what the model reads.
    let read = h
        .client
        .read_resource(ReadResourceRequestParams::new("nemo://timeline"))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("not text: {read:?}");
    };
    let t: serde_json::Value = serde_json::from_str(text).unwrap();
    assert!(t["draft"]["t"].is_array(), "{t}");
}

#[tokio::test]
async fn bounded_wait_returns_running_and_get_job_finishes_it_with_progress() {
    let h = Harness::with(SimConfig::fast().with_time_scale(0.1), |_| {}).await;
    h.call(
        "upload_media",
        json!({"paths": [h.media("a.png", &png(10, 10))]}),
    )
    .await;
    let (r, token) = h
        .call_tracked(
            "generate",
            json!({"instruction": "combine into a 12 second video", "wait_s": 0.3}),
        )
        .await;
    let b = body(&r);
    assert_eq!(b["status"], "running", "{b}");
    assert!(b["job_id"].as_str().unwrap().starts_with("gen_"));
    // The next step is in the structured content too (Claude Code and Codex read only that).
    let step = b["next_step"].as_str().unwrap();
    assert!(
        step.contains("get_job") && step.contains(b["job_id"].as_str().unwrap()),
        "{b}"
    );
    assert!(text_of(&r).contains(step));
    assert!(text_of(&r).contains("get_job"));
    let (done, token2) = h
        .call_tracked("get_job", json!({"job_id": b["job_id"], "wait_s": 30}))
        .await;
    assert_eq!(body(&done)["status"], "succeeded", "{}", text_of(&done));
    let notes = h.progress_for(&token2);
    assert!(!notes.is_empty(), "progress while get_job waited");
    assert!(
        notes.windows(2).all(|w| w[1].progress > w[0].progress),
        "progress increases"
    );
    assert!(h.progress_for(&token).len() <= notes.len() + 10);
    // Export progress carries a total of 100.
    let (e, t3) = h.call_tracked("export_video", json!({})).await;
    assert_eq!(body(&e)["status"], "succeeded", "{}", text_of(&e));
    let notes = h.progress_for(&t3);
    assert!(notes.iter().all(|n| n.total == Some(100.0)));
    assert!(notes
        .iter()
        .any(|n| n.message.as_deref().unwrap_or("").contains("rendering")));
}

#[tokio::test]
async fn cancelled_call_stops_waiting_and_the_job_goes_on() {
    let h = Harness::with(SimConfig::fast().with_time_scale(0.1), |_| {}).await;
    h.call(
        "upload_media",
        json!({"paths": [h.media("a.png", &png(10, 10))]}),
    )
    .await;
    let req = ClientRequest::CallToolRequest(CallToolRequest::new(Harness::params(
        "generate",
        json!({"instruction": "combine into a 10 second video", "wait_s": 30}),
    )));
    let handle = h
        .client
        .send_cancellable_request(req, rmcp::service::PeerRequestOptions::no_options())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    handle
        .cancel(Some("user pressed stop".into()))
        .await
        .unwrap();
    let jobs = body(&h.call("list_jobs", json!({})).await);
    let job = &jobs["jobs"][0];
    assert_eq!(job["kind"], "generate");
    assert_eq!(
        job["status"], "running",
        "cancelling the call does not cancel the job"
    );
    let done = h.finish(job.clone()).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(h.sim.control().messages().len(), 1);
}

#[tokio::test]
async fn bad_arguments_are_tool_errors() {
    let h = Harness::start().await;
    let cases = [
        ("generate", json!({})),
        ("generate", json!({"instruction": 5})),
        ("generate", json!({"instruction": "   "})),
        ("generate", json!({"instruction": "x".repeat(5000)})),
        ("get_job", json!({"job_id": "gen_doesnotexist"})),
        ("get_job", json!({"job_id": "../../etc"})),
        ("cancel_job", json!({"job_id": ""})),
        ("upload_media", json!({})),
        ("upload_media", json!({"paths": "not-a-list"})),
        ("export_video", json!({"resolution": "8k"})),
    ];
    for (tool, args) in cases {
        let r = h
            .client
            .call_tool(Harness::params(tool, args.clone()))
            .await;
        let r = r.unwrap_or_else(|e| panic!("{tool} {args}: protocol error {e}"));
        assert_eq!(r.is_error, Some(true), "{tool} {args}: {}", text_of(&r));
    }
    assert!(h.sim.control().attempted_messages().is_empty());
}

#[tokio::test]
async fn routing_keeps_exports_and_questions_away_from_the_agent() {
    let h = Harness::start().await;
    // A question answered here is a success naming the tool, never an error.
    for (instruction, routed, tool) in [
        ("how many credits do I have?", "credits", "get_credits"),
        ("状态", "status", "get_timeline"),
        ("upload", "upload", "upload_media"),
    ] {
        let r = h
            .call("generate", json!({"instruction": instruction}))
            .await;
        assert_ne!(r.is_error, Some(true), "{instruction}: {}", text_of(&r));
        let b = body(&r);
        assert_eq!(b["result"]["routed_as"], routed, "{b}");
        assert_eq!(b["result"]["tool"], tool, "{b}");
        assert_eq!(b["result"]["sent"], false, "{b}");
    }
    let r = h
        .call(
            "generate",
            json!({"instruction": "how many credits do I have?"}),
        )
        .await;
    assert!(text_of(&r).contains("100 credits"), "{}", text_of(&r));
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
    // "export" is answered with the tool to call; no export starts behind the host's back.
    let r = h.call("generate", json!({"instruction": "export"})).await;
    let b = body(&r);
    assert_eq!(b["kind"], "generate", "{b}");
    assert_eq!(b["result"]["tool"], "export_video", "{b}");
    assert!(h.sim.control().renders().is_empty(), "nothing rendered");
    assert_eq!(
        h.sim.control().attempted_messages(),
        vec!["combine into a 5 second video".to_string()]
    );
}

#[tokio::test]
async fn one_generation_at_a_time() {
    let h = Harness::with(SimConfig::fast().with_time_scale(0.1), |_| {}).await;
    h.call(
        "upload_media",
        json!({"paths": [h.media("a.png", &png(10, 10))]}),
    )
    .await;
    let first = body(
        &h.call(
            "generate",
            json!({"instruction": "combine into a 10 second video", "wait_s": 0.2}),
        )
        .await,
    );
    assert_eq!(first["status"], "running");
    let second = body(
        &h.call("generate", json!({"instruction": "add music", "wait_s": 0}))
            .await,
    );
    assert_eq!(second["job_id"], first["job_id"]);
    assert!(second["note"].as_str().unwrap().contains("NOT sent"));
    h.finish(first).await;
    assert_eq!(h.sim.control().attempted_messages().len(), 1);
}

#[tokio::test]
async fn silent_edit_is_reported_from_the_timeline_diff() {
    let h = Harness::start().await;
    h.sim.control().set_silence(Some(true));
    h.call(
        "upload_media",
        json!({"paths": [h.media("a.png", &png(10, 10)), h.media("b.png", &png(10, 10))]}),
    )
    .await;
    let r = h.call("generate", json!({"instruction": PROMO})).await;
    let b = body(&r);
    assert_eq!(b["result"]["reply"], "");
    assert!(
        b["result"]["changes"]
            .as_str()
            .unwrap()
            .contains("Added BGM"),
        "{b}"
    );
    assert_eq!(b["result"]["changed"], true);
    assert!(text_of(&r).contains("without comment"));
}

#[tokio::test]
async fn uploads_check_each_input_and_send_the_valid_ones() {
    let h = Harness::start().await;
    let outside = h.dir.path().join("outside.png");
    std::fs::write(&outside, png(4, 4)).unwrap();
    let fake = h.media("key.png", b"-----BEGIN OPENSSH PRIVATE KEY-----\n");
    let good = h.media("ok.png", &png(8, 8));
    let r = h
        .call(
            "upload_media",
            json!({"paths": [good, fake, outside.display().to_string(), "/nonexistent/x.png", "relative.png"],
                   "urls": ["https://example.com/clip.mp4", "file:///etc/passwd", "javascript:alert(1)"]}),
        )
        .await;
    let b = body(&r);
    assert_eq!(b["status"], "succeeded", "{b}");
    assert_eq!(b["result"]["uploaded"].as_array().unwrap().len(), 2);
    let rejected = b["result"]["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 6, "{rejected:?}");
    assert!(text_of(&r).contains("Not uploaded"));
    // Nothing valid: an error and no request at all.
    let before = h.sim.log().len();
    let r = h
        .call("upload_media", json!({"paths": [fake_path(&h)]}))
        .await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(h.sim.log().len(), before);
}

fn fake_path(h: &Harness) -> String {
    h.media("notes.png", b"just text")
}

#[tokio::test]
async fn out_of_credits_and_plan_errors_say_what_to_do() {
    let h = Harness::start().await;
    h.call(
        "upload_media",
        json!({"paths": [h.media("a.png", &png(10, 10))]}),
    )
    .await;
    h.sim.control().set_credits(None, 0);
    let r = h.call("generate", json!({"instruction": PROMO})).await;
    assert_eq!(r.is_error, Some(true));
    let b = body(&r);
    assert_out_of_credits_with_link(&h, &b);
    let c = body(&h.call("get_credits", json!({})).await);
    assert_eq!(c["low"], true);
    assert!(c["next_step"].as_str().unwrap().contains("register"));
    // 402 on export: the plan, not credits.
    h.sim.control().set_credits(None, 100);
    h.call(
        "generate",
        json!({"instruction": "combine into a 5 second video"}),
    )
    .await;
    h.sim.control().inject(Fault::new(
        Route::RenderSubmit,
        FaultAction::Status {
            status: 402,
            body: String::new(),
        },
    ));
    let r = h.call("export_video", json!({})).await;
    let b = body(&r);
    assert_eq!(b["code"], "export_blocked_by_plan", "{b}");
    assert!(b["message"].as_str().unwrap().contains("not about credits"));
}

#[tokio::test]
async fn nothing_to_export_and_unwritable_output() {
    let h = Harness::start().await;
    let r = h.call("export_video", json!({})).await;
    assert_eq!(body(&r)["code"], "nothing_to_export");
    let blocker = h.dir.path().join("file-not-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let h2 = Harness::with(SimConfig::fast(), |s| s.output_dir = blocker.join("sub")).await;
    h2.call(
        "upload_media",
        json!({"paths": [h2.media("a.png", &png(10, 10))]}),
    )
    .await;
    h2.call(
        "generate",
        json!({"instruction": "combine into a 5 second video"}),
    )
    .await;
    let r = h2.call("export_video", json!({})).await;
    assert_eq!(body(&r)["code"], "output_dir_unwritable");
    assert!(
        h2.sim.control().renders().is_empty(),
        "no render spent on an unwritable folder"
    );
}

#[tokio::test]
async fn connect_resources_prompts_and_secrets() {
    let h = Harness::start().await;
    let c = h.call("connect", json!({})).await;
    let b = body(&c);
    assert_eq!(b["account"], "anonymous");
    assert_eq!(b["credits"], 100);
    assert_eq!(b["register_link"], h.sim.expected_register_link().as_str());
    assert!(b["project_link"].as_str().unwrap().contains("claim?ct="));
    let fresh = body(
        &h.call("connect", json!({"new_project": true, "language": "zh-CN"}))
            .await,
    );
    assert_ne!(fresh["project_id"], b["project_id"]);
    let res = h.client.list_resources(None).await.unwrap();
    assert!(res.resources.iter().any(|r| r.uri == "nemo://timeline"));
    let read = h
        .client
        .read_resource(ReadResourceRequestParams::new("nemo://timeline"))
        .await
        .unwrap();
    let text = serde_json::to_string(&read).unwrap();
    assert!(text.contains("Timeline is empty"));
    assert!(h
        .client
        .read_resource(ReadResourceRequestParams::new("nemo://nope"))
        .await
        .is_err());
    let prompts = h.client.list_prompts(None).await.unwrap();
    assert_eq!(prompts.prompts.len(), 3);
    let p = h
        .client
        .get_prompt(
            GetPromptRequestParams::new("quick_edit").with_arguments(
                json!({"goal": "a promo", "files": "/a.png"})
                    .as_object()
                    .cloned()
                    .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert!(serde_json::to_string(&p).unwrap().contains("make_video"));
    // The token is in no result and nowhere on disk but its row in the private database.
    let token = h.token();
    assert!(!serde_json::to_string(&c).unwrap().contains(&token));
    let creds = h.dir.path().join("state/state.db");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(h.dir.path().join("state"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
    }
    assert!(
        !h.state_files_text().contains(&token),
        "the journal and session files never hold the token"
    );
}

#[tokio::test]
async fn cancelling_an_export_cancels_the_render_on_the_backend() {
    let h = Harness::with(SimConfig::fast().with_time_scale(0.2), |_| {}).await;
    h.call(
        "upload_media",
        json!({"paths": [h.media("a.png", &png(10, 10))]}),
    )
    .await;
    h.finish(body(
        &h.call(
            "generate",
            json!({"instruction": "combine into a 5 second video", "wait_s": 0}),
        )
        .await,
    ))
    .await;
    let e = body(&h.call("export_video", json!({"wait_s": 0.3})).await);
    assert_eq!(e["status"], "running", "{e}");
    // Wait until the render is submitted (its id is known), then cancel.
    for _ in 0..100 {
        if !h.sim.control().renders().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let c = body(&h.call("cancel_job", json!({"job_id": e["job_id"]})).await);
    assert_eq!(c["status"], "cancelled", "{c}");
    let renders = h.sim.control().renders();
    assert_eq!(renders.len(), 1);
    assert_eq!(
        renders[0].1, "failed",
        "the backend render was cancelled, not left running"
    );
    assert!(
        h.outputs()
            .iter()
            .all(|p| p.extension().is_some_and(|e| e == "part")),
        "no finished file"
    );
}

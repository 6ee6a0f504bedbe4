//! MCP features besides tools, through a real client: log events as `notifications/message`
//! at the level the client sets, and completions of prompt and resource arguments.

use crate::common;

use common::*;
use rmcp::model::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
#[allow(deprecated)]
async fn log_events_follow_the_level_the_client_sets() {
    nemo_mcp::testing::logging::init("info,rmcp=warn");
    let h = Harness::start().await;
    let caps = h.client.peer_info().unwrap().capabilities.clone();
    assert!(
        caps.logging.is_some() && caps.completions.is_some(),
        "{caps:?}"
    );
    // Before any setLevel: warnings and up, so the session's creation (info) is not sent.
    h.call("connect", json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        h.recorder
            .logs
            .lock()
            .unwrap()
            .iter()
            .all(|(l, _, _)| l != "info"),
        "{:?}",
        h.recorder.logs.lock().unwrap()
    );
    h.client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Info))
        .await
        .unwrap();
    h.call("connect", json!({"new_project": true})).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let logs = h.recorder.logs.lock().unwrap().clone();
        if let Some((_, logger, text)) = logs
            .iter()
            .find(|(l, _, t)| l == "info" && t.contains("session"))
        {
            assert!(logger.starts_with("nemo"), "{logger}");
            assert!(!text.contains(&h.token()), "a token in a log message");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no info event: {logs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn prompt_files_and_job_ids_are_completed() {
    let h = Harness::start().await;
    let media = h.dir.path().join("media");
    h.media("beach.png", &png(8, 8));
    h.media("bridge.png", &png(8, 8));
    h.media("notes.txt", b"not media");
    let typed = format!("{}/b", media.display());
    let got = h
        .client
        .complete_prompt_simple("quick_edit", "files", typed)
        .await
        .unwrap();
    let want: Vec<String> = ["beach.png", "bridge.png"]
        .iter()
        .map(|n| format!("{}/{n}", media.display()))
        .collect();
    assert_eq!(got, want);
    // After a comma, the next file; outside the allowed folders, nothing.
    let first = format!("{}/beach.png, {}/br", media.display(), media.display());
    let got = h
        .client
        .complete_prompt_simple("quick_edit", "files", first)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].ends_with("bridge.png"), "{got:?}");
    let outside = h
        .client
        .complete_prompt_simple("quick_edit", "files", "/etc/pas")
        .await
        .unwrap();
    assert!(outside.is_empty(), "{outside:?}");
    // Above the allowed folder: the allowed folder itself, never what else is there.
    let parent = media.parent().unwrap();
    std::fs::create_dir_all(parent.join("private-stuff")).unwrap();
    let above = h
        .client
        .complete_prompt_simple("quick_edit", "files", format!("{}/", parent.display()))
        .await
        .unwrap();
    assert_eq!(above, vec![format!("{}/", media.display())]);
    // Job ids of this client's jobs.
    upload_two(&h).await;
    let ids = h
        .client
        .complete_resource_simple("nemo://jobs/{id}", "id", "upl_")
        .await
        .unwrap();
    assert_eq!(ids.len(), 1, "{ids:?}");
}

/// Waits (with a deadline) until `f` holds.
async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
#[allow(deprecated)]
async fn subscribed_resources_send_updates_and_new_jobs_change_the_list() {
    let h = Harness::start().await;
    let caps = h.client.peer_info().unwrap().capabilities.clone();
    let res = caps.resources.unwrap();
    assert_eq!((res.subscribe, res.list_changed), (Some(true), Some(true)));
    h.client
        .subscribe(SubscribeRequestParams::new("nemo://timeline"))
        .await
        .unwrap();
    let unknown = h
        .client
        .subscribe(SubscribeRequestParams::new("nemo://jobs/gen_000000000000"))
        .await;
    assert!(unknown.is_err(), "an unknown job cannot be subscribed to");
    upload_two(&h).await;
    until("the timeline updated after an upload", || {
        h.recorder
            .updated
            .lock()
            .unwrap()
            .iter()
            .any(|u| u == "nemo://timeline")
    })
    .await;
    until("list_changed for the new job", || {
        *h.recorder.list_changed.lock().unwrap() >= 1
    })
    .await;
    // A running generation: subscribe to its job and see it change until it finishes.
    let r = h
        .call(
            "generate",
            json!({"instruction": "combine these images into a 10-second video", "wait_s": 0}),
        )
        .await;
    let b = body(&r);
    let uri = format!("nemo://jobs/{}", b["job_id"].as_str().unwrap());
    if b["status"] == "running" {
        h.client
            .subscribe(SubscribeRequestParams::new(uri.clone()))
            .await
            .unwrap();
        until("an update of the job", || {
            h.recorder.updated.lock().unwrap().contains(&uri)
        })
        .await;
    }
    let done = h.finish(b).await;
    assert_eq!(done["status"], "succeeded");
    h.client
        .unsubscribe(UnsubscribeRequestParams::new("nemo://timeline"))
        .await
        .unwrap();
}

/// In the 2026-07-28 era `resources/subscribe` is gone: `subscriptions/listen` (which Claude
/// Code opens at start) is acknowledged, and carries the new job's list change and its
/// resource's updates until it ends (issue #32).
#[tokio::test]
async fn subscriptions_listen_serves_list_changes_and_job_updates_in_the_2026_era() {
    use rmcp::model::{ServerNotification, SubscriptionFilter};
    let h = Harness::as_host(
        nemo_sim::SimConfig::fast(),
        Recorder {
            discovers: true,
            ..Recorder::default()
        },
    )
    .await;
    let mut asked = SubscriptionFilter::new();
    asked.resources_list_changed = Some(true);
    asked.tools_list_changed = Some(true);
    asked.resource_subscriptions = Some(vec!["nemo://timeline".into()]);
    let mut sub = h.client.peer().listen(asked).await.expect("acknowledged");
    assert_eq!(sub.acknowledged().resources_list_changed, Some(true));
    assert_eq!(sub.acknowledged().tools_list_changed, None);
    let r = h
        .call(
            "upload_media",
            serde_json::json!({"paths": [h.media("a.png", &png(16, 16))]}),
        )
        .await;
    assert!(r.is_error != Some(true), "{}", text_of(&r));
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !(seen.contains(&"list") && seen.contains(&"timeline")) {
        let next = tokio::time::timeout_at(deadline, sub.next())
            .await
            .expect("notifications within 10 s")
            .expect("the stream")
            .expect("open");
        match next {
            ServerNotification::ResourceListChangedNotification(_) => seen.push("list"),
            ServerNotification::ResourceUpdatedNotification(u) => {
                assert_eq!(u.params.uri, "nemo://timeline");
                seen.push("timeline")
            }
            _ => {}
        }
    }
}

/// In the 2026-07-28 era there is no `logging/setLevel`: the level comes in each request's
/// `_meta` (`io.modelcontextprotocol/logLevel`), and log lines go out while that request runs,
/// at that level; a request without one gets none (issue #32).
#[tokio::test]
#[allow(deprecated)]
async fn log_lines_follow_each_requests_level_in_the_2026_era() {
    nemo_mcp::testing::logging::init("info,rmcp=warn");
    let h = Harness::as_host(
        nemo_sim::SimConfig::fast(),
        Recorder {
            discovers: true,
            ..Recorder::default()
        },
    )
    .await;
    let with_level = |name: &'static str, args: serde_json::Value, level: Option<LoggingLevel>| {
        let mut params = Harness::params(name, args);
        if let Some(level) = level {
            let mut meta = params.meta.take().unwrap_or_default();
            #[allow(deprecated)]
            meta.set_log_level(level);
            params.meta = Some(meta);
        }
        params
    };
    // Without a level: the first upload creates the project (an info line), and none is sent.
    let r = h
        .client
        .call_tool(with_level(
            "upload_media",
            serde_json::json!({"paths": [h.media("a.png", &png(16, 16))]}),
            None,
        ))
        .await
        .unwrap();
    assert!(r.is_error != Some(true), "{}", text_of(&r));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        h.recorder.logs.lock().unwrap().is_empty(),
        "no level, no lines"
    );
    // With `debug`: the lines of this request's work reach the client.
    let r = h
        .client
        .call_tool(with_level(
            "connect",
            serde_json::json!({"new_project": true}),
            Some(LoggingLevel::Debug),
        ))
        .await
        .unwrap();
    assert!(r.is_error != Some(true), "{}", text_of(&r));
    until(
        "the new project's info line, at the request's level",
        || {
            h.recorder
                .logs
                .lock()
                .unwrap()
                .iter()
                .any(|(l, _, t)| l == "info" && t.contains("session"))
        },
    )
    .await;
}

/// Resources, resource templates, prompts and completions answer alike whether the host opened
/// with `initialize` (2025-11-25) or with `server/discover` (2026-07-28, as Claude Code does).
#[tokio::test]
async fn resources_prompts_and_completions_answer_alike_in_both_eras() {
    async fn seen(discovers: bool) -> serde_json::Value {
        let h = Harness::as_host(
            nemo_sim::SimConfig::fast(),
            Recorder {
                discovers,
                ..Recorder::default()
            },
        )
        .await;
        let media = h.dir.path().join("media");
        h.media("beach.png", &png(8, 8));
        h.media("bridge.png", &png(8, 8));
        let resources: Vec<String> = h
            .client
            .list_resources(None)
            .await
            .unwrap()
            .resources
            .iter()
            .map(|r| r.uri.clone())
            .collect();
        let templates: Vec<String> = h
            .client
            .list_resource_templates(None)
            .await
            .unwrap()
            .resource_templates
            .iter()
            .map(|t| t.uri_template.clone())
            .collect();
        let timeline = serde_json::to_string(
            &h.client
                .read_resource(ReadResourceRequestParams::new("nemo://timeline"))
                .await
                .unwrap(),
        )
        .unwrap();
        let unknown = h
            .client
            .read_resource(ReadResourceRequestParams::new("nemo://nope"))
            .await
            .is_err();
        let prompts: Vec<String> = h
            .client
            .list_prompts(None)
            .await
            .unwrap()
            .prompts
            .iter()
            .map(|p| p.name.clone())
            .collect();
        let prompt = h
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
        let completed: Vec<String> = h
            .client
            .complete_prompt_simple("quick_edit", "files", format!("{}/b", media.display()))
            .await
            .unwrap()
            .iter()
            .map(|p| p.rsplit('/').next().unwrap_or_default().to_string())
            .collect();
        json!({
            "resources": resources,
            "templates": templates,
            "timeline_empty": timeline.contains("Timeline is empty"),
            "unknown_refused": unknown,
            "prompts": prompts,
            "prompt": serde_json::to_value(&prompt.messages).unwrap(),
            "completed": completed,
        })
    }
    let legacy = seen(false).await;
    assert_eq!(
        legacy["completed"],
        json!(["beach.png", "bridge.png"]),
        "{legacy}"
    );
    assert_eq!(legacy["timeline_empty"], true, "{legacy}");
    assert_eq!(seen(true).await, legacy);
}

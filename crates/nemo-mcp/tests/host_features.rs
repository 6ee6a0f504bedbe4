//! MCP features besides tools, through a real client: log events as `notifications/message`
//! at the level the client sets, and completions of prompt and resource arguments.

mod common;

use common::*;
use rmcp::model::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
#[allow(deprecated)]
async fn log_events_follow_the_level_the_client_sets() {
    nemo_mcp::logging::init("info,rmcp=warn");
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
    // Job ids of this client's jobs.
    upload_two(&h).await;
    let ids = h
        .client
        .complete_resource_simple("nemo://jobs/{id}", "id", "upl_")
        .await
        .unwrap();
    assert_eq!(ids.len(), 1, "{ids:?}");
}

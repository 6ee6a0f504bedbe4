//! Coming back tomorrow: the project library (list, reopen, a project NemoVideo lost, a restart),
//! the free account's clock, a damaged state file, and a cancelled generation that NemoVideo
//! carried out anyway. Messages sent and credits charged are counted on nemo-sim's side.

use crate::common;

use common::*;
use nemo_sim::SimConfig;
use serde_json::{json, Value};
use std::time::Duration;

const EDIT: &str = "combine these images into a 10-second video with music";

async fn projects(h: &Harness) -> Vec<Value> {
    let r = h.call("list_projects", json!({})).await;
    assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
    body(&r)["projects"].as_array().unwrap().clone()
}

/// A promo made, edited and exported: its project id and the MP4's path.
async fn made_yesterday(h: &Harness) -> (String, String) {
    upload_two(h).await;
    let g = h.call("generate", json!({"instruction": EDIT})).await;
    let g = h.finish(body(&g)).await;
    assert_eq!(g["status"], "succeeded", "{g}");
    let e = h
        .call("export_video", json!({"filename": "spring-promo"}))
        .await;
    let e = h.finish(body(&e)).await;
    assert_eq!(e["status"], "succeeded", "{e}");
    let c = h.call("connect", json!({})).await;
    (
        body(&c)["project_id"].as_str().unwrap().to_string(),
        e["result"]["path"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn yesterdays_project_is_listed_and_reopened_after_a_restart() {
    let h = Harness::start().await;
    let (first, mp4) = made_yesterday(&h).await;
    let c = h.call("connect", json!({"new_project": true})).await;
    let second = body(&c)["project_id"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    // Tomorrow: a restart, a new chat.
    let h = h.restart().await;
    let listed = projects(&h).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["project_id"], second.as_str(), "newest first");
    let p = &listed[1];
    assert_eq!(p["project_id"], first.as_str());
    assert_eq!(p["title"], EDIT);
    assert_eq!(p["media_count"], 2);
    assert_eq!(p["duration_s"], 10.0);
    assert_eq!(p["credits_spent"], 50);
    assert_eq!(p["exports"][0]["path"], mp4.as_str());
    assert_eq!(p["exports"][0]["on_disk"], true);
    assert!(
        p["summary"].as_str().unwrap().starts_with("Timeline"),
        "{p}"
    );
    let text = text_of(&h.call("list_projects", json!({})).await);
    assert!(
        text.contains(&first) && text.contains("spring-promo.mp4 (on disk)"),
        "{text}"
    );
    // Reopen it: the next tools work on it.
    let r = h.call("connect", json!({"project_id": first})).await;
    assert_eq!(body(&r)["project_id"], first.as_str(), "{}", text_of(&r));
    let t = h.call("get_timeline", json!({})).await;
    assert_eq!(body(&t)["duration_s"], 10.0, "{}", body(&t));
    assert_eq!(projects(&h).await[0]["current"], true);
    // The export moved away: said so.
    std::fs::remove_file(&mp4).unwrap();
    let listed = projects(&h).await;
    assert_eq!(listed[0]["exports"][0]["on_disk"], false);
    // The resource lists the same.
    let res = h
        .client
        .read_resource(rmcp::model::ReadResourceRequestParams::new(
            "nemo://projects",
        ))
        .await
        .unwrap();
    let rmcp::model::ResourceContents::TextResourceContents { text, .. } = &res.contents[0] else {
        panic!("text")
    };
    assert!(text.contains(&first));
    assert_eq!(counts(&h).await, (1, 50), "reopening costs nothing");
}

#[tokio::test]
async fn a_project_nemovideo_lost_is_said_so_and_restored_with_its_media() {
    let h = Harness::start().await;
    let (first, _) = made_yesterday(&h).await;
    h.call("connect", json!({"new_project": true})).await;
    assert!(h.sim.control().drop_session(first.parse().unwrap()));
    let r = h.call("connect", json!({"project_id": first})).await;
    assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
    let b = body(&r);
    assert_ne!(
        b["project_id"],
        first.as_str(),
        "a new project took its place"
    );
    let notice = b["notice"].as_str().unwrap();
    assert!(
        notice.contains("no longer has the project") && notice.contains("uploaded again"),
        "{notice}"
    );
    assert!(text_of(&r).contains("no longer has the project"));
    let t = h.call("get_timeline", json!({})).await;
    assert_eq!(body(&t)["media_count"], 2, "{}", body(&t));
    let bad = h
        .call("connect", json!({"project_id": "yesterday's"}))
        .await;
    assert_eq!(body(&bad)["code"], "invalid_argument");
    assert_eq!(counts(&h).await, (1, 50), "nothing paid was sent again");
}

/// The pointer to the last project, cut short (as a crash mid-write, or an edit, leaves it): the
/// next process reopens the library's most recently used project, says so once, and makes no
/// new project.
#[tokio::test]
async fn a_damaged_project_pointer_falls_back_to_the_newest_project_in_the_library() {
    let h = Harness::start().await;
    upload_two(&h).await;
    let used = h.app.session_id(None).await.unwrap();
    let stopped = h.stop().await;
    let state = stopped.dir.path().join("state");
    {
        let db = nemo_mcp::testing::StateDb::open(&state).unwrap();
        let whole = db.get_value("last_project").unwrap().unwrap();
        db.set_value("last_project", &whole[..whole.len() / 2])
            .unwrap();
    }
    let creates_before = creates(&stopped.sim);
    let h = stopped.start().await;
    let r = h.call("connect", json!({})).await;
    let text = text_of(&r);
    assert!(
        text.contains("could not be read") && text.contains("most recently used project"),
        "{text}"
    );
    assert_eq!(body(&r)["project_id"], used.to_string(), "{text}");
    assert_eq!(creates(&h.sim), creates_before, "no new, empty project");
    let t = h.call("get_timeline", json!({})).await;
    assert_eq!(body(&t)["media_count"], 2, "{}", body(&t));
    // Told once.
    let again = text_of(&h.call("connect", json!({})).await);
    assert!(!again.contains("could not be read"), "{again}");
}

#[tokio::test]
async fn the_free_account_warns_under_48_hours_with_the_bind_link() {
    let h = Harness::start().await;
    let c = h.call("get_credits", json!({})).await;
    assert!(text_of(&c).contains("token expires"), "{}", text_of(&c));
    assert!(body(&c)["token_expires_at"].is_string());
    // Also for hosts that give the model only the structured content (issue #32).
    assert!(
        body(&c)["notes"].to_string().contains("token expires"),
        "{}",
        body(&c)
    );
    assert!(
        !text_of(&c).contains("To keep them"),
        "no warning a week ahead"
    );
    // Two days later (as the server sees it): the saved expiry is 47 hours away.
    let stopped = h.stop().await;
    {
        let db = nemo_mcp::testing::StateDb::open(&stopped.dir.path().join("state")).unwrap();
        let mut saved: Value =
            serde_json::from_str(&db.get_value("credentials").unwrap().unwrap()).unwrap();
        let soon = chrono::Utc::now() + chrono::Duration::hours(47);
        saved["expires_at"] = json!(soon.to_rfc3339());
        db.set_value("credentials", &saved.to_string()).unwrap();
    }
    let h = stopped.start().await;
    upload_two(&h).await; // its result carries the warning
    let r = h.call("get_credits", json!({})).await;
    let text = text_of(&r);
    assert!(text.contains("in 1 day"), "{text}");
    assert!(!text.contains("To keep them"), "once per session: {text}");
    let h = h.restart().await;
    let r = h.call("connect", json!({})).await;
    let text = text_of(&r);
    assert!(
        text.contains("To keep them") && text.contains(&h.sim.expected_register_link()),
        "{text}"
    );
    assert!(text.contains("new anonymous account"), "{text}");
    let said = body(&r).to_string();
    assert!(
        said.contains("To keep them") && said.contains(&h.sim.expected_register_link()),
        "the warning is in the structured content too: {said}"
    );
}

#[tokio::test]
async fn a_cancelled_generation_says_it_was_sent_and_records_what_came_of_it() {
    // A turn of a few seconds; the watcher reads the project for up to 10 s after the cancel.
    let h = Harness::with(SimConfig::fast().with_time_scale(0.2), |s| {
        s.recovery_first = Duration::from_millis(500);
        s.recovery_then = Duration::from_millis(500);
        s.recovery_reads = 20;
    })
    .await;
    upload_two(&h).await;
    let r = h
        .call("generate", json!({"instruction": EDIT, "wait_s": 0}))
        .await;
    let id = body(&r)["job_id"].as_str().unwrap().to_string();
    // Wait until the message is out.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while h.sim.control().attempted_messages().is_empty() {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let c = h.call("cancel_job", json!({"job_id": id})).await;
    let text = text_of(&c);
    assert!(
        text.contains("already been sent") && text.contains("may still carry it out"),
        "{text}"
    );
    // NemoVideo finishes the turn; the job learns it, the ledger counts it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let j = body(&h.call("get_job", json!({"job_id": id, "wait_s": 0})).await);
        if j["message"]
            .as_str()
            .unwrap_or("")
            .contains("carried out the instruction anyway")
        {
            assert!(
                j["message"]
                    .as_str()
                    .unwrap()
                    .contains("charged 50 credits"),
                "{j}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{j}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let credits = body(&h.call("get_credits", json!({})).await);
    assert_eq!(credits["spent"]["today"], 50, "{credits}");
    assert_eq!(counts(&h).await, (1, 50));
}

/// The projects made on the simulator so far.
fn creates(sim: &nemo_sim::SimHandle) -> usize {
    sim.log()
        .iter()
        .filter(|x| x.method == "POST" && x.path == "/api/tasks/me/with-session/nemo_agent")
        .count()
}

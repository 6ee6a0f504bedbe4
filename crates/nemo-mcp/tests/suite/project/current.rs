//! The server's current project: what the client library no longer decides. The process's own
//! project is remembered across restarts in the state folder; an HTTP session's project is kept
//! in memory; a lost project is replaced once, in its language, and the user is told once.

use crate::common;

use nemo_mcp::testing::CurrentProject;
use nemo_mcp::App;
use nemo_sim::{Sim, SimConfig};

fn creates(sim: &nemo_sim::SimHandle) -> Vec<serde_json::Value> {
    sim.log()
        .into_iter()
        .filter(|x| x.method == "POST" && x.path == "/api/tasks/me/with-session/nemo_agent")
        .map(|x| x.body.unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn the_process_project_is_remembered_across_a_restart() {
    let sim = Sim::start(SimConfig::fast()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(common::settings_for(&sim, dir.path())).unwrap();
    let first = app.session(Some("ja")).await.unwrap();
    assert_eq!(first.language, "ja");
    assert!(app.state.get_value("last_project").unwrap().is_some());
    // A restart: a new App on the same state folder continues the same project.
    let again = App::new(common::settings_for(&sim, dir.path())).unwrap();
    assert_eq!(again.session(None).await.unwrap(), first);
    assert_eq!(creates(&sim).len(), 1, "no second project was made");
    assert_eq!(
        creates(&sim)[0],
        serde_json::json!({"task_name": "project", "language": "ja"}),
        "the seeds' body, exactly"
    );
}

#[tokio::test]
async fn a_remembered_project_of_another_api_is_not_resumed() {
    let sim = Sim::start(SimConfig::fast()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state").join("session.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        r#"{"session_id":"42","task_id":"t","language":"en","api_url":"https://elsewhere.example","user_id":null}"#,
    )
    .unwrap();
    let app = App::new(common::settings_for(&sim, dir.path())).unwrap();
    let s = app.session(None).await.unwrap();
    assert_ne!(s.session_id.get(), 42);
    assert_eq!(creates(&sim).len(), 1);
}

#[tokio::test]
async fn http_sessions_each_get_a_project_kept_in_memory() {
    let sim = Sim::start(SimConfig::fast()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = App::new(common::settings_for(&sim, dir.path())).unwrap();
    let (a, b) = (base.fork("host-a"), base.fork("host-b"));
    let (sa, sb) = (
        a.session(None).await.unwrap(),
        b.session(None).await.unwrap(),
    );
    assert_ne!(sa.session_id, sb.session_id);
    assert!(
        base.state.get_value("last_project").unwrap().is_none(),
        "a host's project never becomes the process's own"
    );
    // One account: one anonymous token for both.
    let tokens = sim
        .log()
        .iter()
        .filter(|x| x.path == "/api/auth/anonymous-token")
        .count();
    assert_eq!(tokens, 1);
}

#[tokio::test]
async fn a_lost_project_is_replaced_once_in_its_language_and_told_once() {
    let sim = Sim::start(SimConfig::fast()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(common::settings_for(&sim, dir.path())).unwrap();
    let client = &app.client;
    let current = CurrentProject::in_memory();
    let old = current.get(client, "es").await.unwrap();
    assert!(sim.control().drop_session(old.session_id.get()));
    assert!(matches!(
        client.project(old.session_id).state().await,
        Err(nemo_client::Error::SessionLost { session: Some(s), .. }) if s == old.session_id
    ));
    let new = current.replace(client, old.session_id, "en").await.unwrap();
    assert_ne!(new.session_id, old.session_id);
    assert_eq!(new.language, "es", "the lost project's language");
    // A second caller that saw the same loss gets the replacement, not a third project.
    let again = current.replace(client, old.session_id, "en").await.unwrap();
    assert_eq!(again.session_id, new.session_id);
    assert_eq!(creates(&sim).len(), 2);
    let told = current.take_replaced().expect("told once");
    assert_eq!((told.old, told.new), (old.session_id, new.session_id));
    assert!(current.take_replaced().is_none());
}

//! Two hosts on one state folder signed in to two accounts: one on the anonymous token, one
//! with a `NEMO_TOKEN`. The second never opens the first one's current project, which its
//! account cannot use: it did, and its photo (the same bytes as the first host's) was said to
//! be "already in the project" and never uploaded, into a project it cannot edit; a different
//! photo would have met a project that reads as lost, and been "restored" with the first
//! host's media copied into its own video.

use crate::common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn a_host_of_another_account_starts_its_own_project() {
    let a = Harness::start().await;
    let r = a
        .call(
            "upload_media",
            json!({"paths": [a.media("a.png", &png(8, 8))]}),
        )
        .await;
    assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
    let a_project = a.app.session(None).await.unwrap().session_id;
    let a = a.stop().await;
    // Another account's token, as a registered user would set it.
    let other = tempfile::tempdir().unwrap();
    let other_client = nemo_client::Client::new(
        nemo_client::Config::new(a.sim.base_url(), other.path().join("state"))
            .with_client_id_file(other.path().join("client_id")),
    )
    .unwrap();
    other_client.credits().await.unwrap();
    let stored = serde_json::to_value(other_client.credentials().await.unwrap()).unwrap();
    let token = stored["token"].as_str().unwrap().to_string();
    let mut settings = a.settings.clone();
    settings.client.token = Some(token);
    let b = Harness::on(a.sim, a.dir, settings).await;
    let r = b
        .call(
            "upload_media",
            json!({"paths": [b.media("b.png", &png(8, 8))]}),
        )
        .await;
    assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
    let said = text_of(&r);
    assert!(!said.contains("uploaded again"), "{said}");
    let b_project = b.app.session(None).await.unwrap().session_id;
    assert_ne!(a_project, b_project);
    // Each file went once, each to its own account's project: nothing of A's was copied.
    let uploads = b
        .sim
        .log()
        .iter()
        .filter(|r| r.path.starts_with("/api/upload-video/"))
        .count();
    assert_eq!(uploads, 2);
    // Nor is it listed to B, or opened by it: to B's account it is not there.
    let listed = body(&b.call("list_projects", json!({})).await).to_string();
    assert!(listed.contains(&b_project.to_string()), "{listed}");
    assert!(!listed.contains(&a_project.to_string()), "{listed}");
    let r = b
        .call("connect", json!({"project_id": a_project.to_string()}))
        .await;
    assert_eq!(r.is_error, Some(true), "{}", text_of(&r));
    assert!(
        text_of(&r).contains("another NemoVideo account"),
        "{}",
        text_of(&r)
    );
    assert_eq!(b.app.session(None).await.unwrap().session_id, b_project);
    assert!(b.sim.control().attempted_messages().is_empty());
    let accounts = b.sim.control().accounts();
    assert_eq!(accounts.len(), 2);
    assert!(accounts.iter().all(|x| x.available == 100 && x.frozen == 0));
}

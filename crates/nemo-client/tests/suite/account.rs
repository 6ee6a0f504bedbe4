//! The account through the flow: credentials kept private and resumed, a clock ahead of the
//! token's expiry, a token renewed mid-flow for the same user, a given token never renewed, a
//! rejected client id replaced.

use super::flow::*;
use nemo_client::*;
use nemo_sim::{Fault, FaultAction, Route, Sim, SimConfig, Variants};

#[tokio::test]
async fn credentials_are_persisted_private_and_resumed() {
    let e = env(Variants::default()).await;
    e.client.credits().await.unwrap();
    let s1 = e.project().await.id();
    let creds = e.dir.path().join("state").join("credentials.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // A new client (a restart) reuses the token, and works on the project by its id: no new
    // token is requested, no project made. (Which project is current is the caller's to keep.)
    let again = Client::new(config_for(&e.sim, e.dir.path())).unwrap();
    assert_eq!(again.project(s1).state().await.unwrap().session_id, s1);
    again.credits().await.unwrap();
    assert!(
        !e.dir.path().join("state").join("session.json").exists(),
        "the client remembers no current project"
    );
    let tokens = e
        .sim
        .log()
        .iter()
        .filter(|x| x.path == "/api/auth/anonymous-token")
        .count();
    assert_eq!(tokens, 1);
    assert_eq!(e.sim.control().session_ids().len(), 1);
}

/// This machine's clock jumped forward past the stored token's expiry (the backend still
/// takes it): the stored token is tried first and works; no new anonymous account is made.
#[tokio::test]
async fn a_clock_ahead_of_the_token_s_expiry_keeps_the_account() {
    let e = env(Variants::default()).await;
    e.client.credits().await.unwrap();
    let creds = e.dir.path().join("state").join("credentials.json");
    let mut stored = nemo_client::auth::Credentials::load(&creds).unwrap();
    // As a clock 30 days ahead sees it: expired three weeks ago.
    stored.expires_at = Some(chrono::Utc::now() - chrono::Duration::days(21));
    stored.save(&creds).unwrap();
    let again = Client::new(config_for(&e.sim, e.dir.path())).unwrap();
    again.credits().await.unwrap();
    let tokens = e
        .sim
        .log()
        .iter()
        .filter(|x| x.path == "/api/auth/anonymous-token")
        .count();
    assert_eq!(tokens, 1, "the stored token was used, not replaced");
    assert_eq!(e.sim.control().accounts().len(), 1);
}

#[tokio::test]
async fn expired_token_mid_flow_is_renewed_for_the_same_user() {
    let e = env(Variants::default()).await;
    e.upload_images(1).await;
    let user = e.sim.control().accounts()[0].user_id.clone();
    e.sim.control().expire_tokens();
    e.turn("combine into a 10 second video").await.unwrap();
    assert_eq!(
        e.project()
            .await
            .state()
            .await
            .unwrap()
            .timeline
            .duration_ms,
        Some(10_000)
    );
    let accounts = e.sim.control().accounts();
    assert_eq!(accounts.len(), 1);
    assert_eq!(
        accounts[0].user_id, user,
        "same anonymous user after renewal"
    );
    assert_eq!(
        e.sim
            .log()
            .iter()
            .filter(|x| x.path == "/api/auth/anonymous-token")
            .count(),
        2
    );
    assert_eq!(e.sim.control().messages().len(), 1);
}

#[tokio::test]
async fn a_given_token_is_never_renewed() {
    let sim = Sim::start(SimConfig {
        registered_tokens: vec!["nmv_usr_registered".into()],
        ..SimConfig::fast()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = Client::new(config_for(&sim, dir.path()).with_token("nmv_usr_registered")).unwrap();
    good.credits().await.unwrap();
    let bad = Client::new(config_for(&sim, dir.path()).with_token("nmv_usr_wrong")).unwrap();
    let err = bad.credits().await.unwrap_err();
    assert!(
        matches!(err, Error::TokenInvalid { given: true }),
        "{err:?}"
    );
    // Where the token came from (an environment variable, a file) is the application's to
    // say; the client names it only as the token it was given.
    assert!(err.to_string().contains("given"), "{err}");
    assert!(!err.to_string().contains("nmv_usr_wrong"));
    assert_eq!(
        sim.log()
            .iter()
            .filter(|x| x.path == "/api/auth/anonymous-token")
            .count(),
        0
    );
    assert!(
        bad.register_url().is_none(),
        "registered users top up instead"
    );
}

#[tokio::test]
async fn missing_client_id_rejection_makes_a_new_one() {
    let e = env(Variants::default()).await;
    e.sim.control().inject(Fault::new(
        Route::Token,
        FaultAction::Status {
            status: 400,
            body: "{\"detail\":\"missing X-Client-Id\"}".into(),
        },
    ));
    std::fs::write(e.dir.path().join("client_id"), "old-id").unwrap();
    e.client.credits().await.unwrap();
    let ids: Vec<_> = e
        .sim
        .log()
        .into_iter()
        .filter(|x| x.path == "/api/auth/anonymous-token")
        .filter_map(|x| x.client_id)
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], "old-id");
    assert_ne!(ids[1], "old-id");
    assert_eq!(
        std::fs::read_to_string(e.dir.path().join("client_id")).unwrap(),
        ids[1]
    );
}

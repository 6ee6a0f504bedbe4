//! Faults of HTTP and rendering: rate limits, server errors, a dropped download, render
//! failures and the submit retried, an export blocked by the plan, out of credits, uploads
//! that drop once.

use super::flow::*;
use nemo_client::*;
use nemo_sim::{Envelope, Fault, FaultAction, Route, Variants};

#[tokio::test]
async fn rate_limit_with_retry_after_is_honoured_once() {
    let e = env(Variants::default()).await;
    e.sim.control().inject(Fault::new(
        Route::Token,
        FaultAction::RateLimit { retry_after_s: 0 },
    ));
    e.client.credits().await.unwrap();
    // Retry-After: 1 s, capped by these (fast) timeouts at `rate_limit_max_wait` (200 ms): the
    // retry comes once, and no sooner than the wait, as the simulator's request log shows.
    let credits_path = "/api/credits/balance/simple";
    let before = e
        .sim
        .log()
        .iter()
        .filter(|x| x.path == credits_path)
        .count();
    e.sim.control().inject(Fault::new(
        Route::Credits,
        FaultAction::RateLimit { retry_after_s: 1 },
    ));
    e.client.credits().await.unwrap();
    let asked: Vec<u64> = e
        .sim
        .log()
        .iter()
        .filter(|x| x.path == credits_path)
        .skip(before)
        .map(|x| x.at_ms)
        .collect();
    assert_eq!(asked.len(), 2, "one 429, one retry: {asked:?}");
    assert!(
        asked[1] - asked[0] >= 200,
        "the retry came {} ms after the 429, before the wait",
        asked[1] - asked[0]
    );
    e.sim
        .control()
        .inject(Fault::new(Route::Credits, FaultAction::RateLimit { retry_after_s: 5 }).times(2));
    let err = e.client.credits().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert!(err.retryable());
}

#[tokio::test]
async fn server_errors_on_gets_are_retried_with_backoff() {
    let e = env(Variants::default()).await;
    e.client.credits().await.unwrap();
    let c = e.sim.control();
    c.inject(
        Fault::new(
            Route::Credits,
            FaultAction::Status {
                status: 503,
                body: "busy".into(),
            },
        )
        .times(3),
    );
    assert_eq!(e.client.credits().await.unwrap().available, 100);
    c.inject(Fault::new(Route::State, FaultAction::Drop).times(2));
    e.project().await.state().await.unwrap();
    c.inject(
        Fault::new(
            Route::Credits,
            FaultAction::Status {
                status: 502,
                body: String::new(),
            },
        )
        .times(10),
    );
    let err = e.client.credits().await.unwrap_err();
    assert!(
        matches!(err, Error::Transient { .. }) && err.retryable(),
        "{err:?}"
    );
    c.clear_faults();
    // A POST is never retried on a 5xx.
    c.inject(Fault::new(
        Route::Claim,
        FaultAction::Status {
            status: 500,
            body: String::new(),
        },
    ));
    assert!(e.project().await.claim_link().await.is_err());
    assert_eq!(
        e.sim
            .log()
            .iter()
            .filter(|x| x.path == "/api/auth/claim-token")
            .count(),
        1
    );
    let link = e.project().await.claim_link().await.unwrap();
    assert!(link.starts_with(&format!("{}/workspace/claim?ct=clm_", e.sim.web_url())));
}

#[tokio::test]
async fn dropped_download_is_retried() {
    let e = env(Variants::default()).await;
    e.upload_images(1).await;
    e.turn("combine into a 10 second video").await.unwrap();
    let st = e.project().await.state().await.unwrap();
    let id = e.project().await.submit_render(&st.draft).await.unwrap();
    let done = e
        .client
        .wait_render(&id, &fast_wait(), |_| {})
        .await
        .unwrap();
    e.sim.control().inject(Fault::new(
        Route::Download,
        FaultAction::DropMidBody { after_bytes: 1000 },
    ));
    let dest = e.dir.path().join("v.mp4");
    let n = e
        .client
        .download_render(&id, &done, &dest, |_, _| {})
        .await
        .unwrap();
    assert_eq!(n, done.size.unwrap());
    assert_eq!(&std::fs::read(&dest).unwrap()[4..8], b"ftyp");
    // Always broken: an error, and no final file (only the .part).
    e.sim.control().inject(
        Fault::new(
            Route::Download,
            FaultAction::DropMidBody { after_bytes: 10 },
        )
        .times(20),
    );
    let dest2 = e.dir.path().join("w.mp4");
    assert!(e
        .client
        .download_render(&id, &done, &dest2, |_, _| {})
        .await
        .is_err());
    assert!(!dest2.exists());
}

#[tokio::test]
async fn render_failures_and_submit_retry() {
    let e = env(Variants::default()).await;
    e.upload_images(1).await;
    e.turn("combine into a 10 second video").await.unwrap();
    let st = e.project().await.state().await.unwrap();
    e.sim.control().fail_next_render();
    let id = e.project().await.submit_render(&st.draft).await.unwrap();
    let err = e
        .client
        .wait_render(&id, &fast_wait(), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RenderFailed { .. }), "{err:?}");
    // A failed submit is retried once with a new id.
    e.sim.control().inject(Fault::new(
        Route::RenderSubmit,
        FaultAction::Status {
            status: 503,
            body: String::new(),
        },
    ));
    let id2 = e.project().await.submit_render(&st.draft).await.unwrap();
    let submits: Vec<_> = e
        .sim
        .log()
        .into_iter()
        .filter(|x| x.path == "/api/render/proxy/lambda")
        .collect();
    assert_eq!(submits.len(), 3);
    e.client
        .wait_render(&id2, &fast_wait(), |_| {})
        .await
        .unwrap();
    // Polls survive a burst of 5xx.
    let id3 = e.project().await.submit_render(&st.draft).await.unwrap();
    e.sim.control().inject(
        Fault::new(
            Route::RenderStatus,
            FaultAction::Status {
                status: 500,
                body: String::new(),
            },
        )
        .times(6),
    );
    e.client
        .wait_render(&id3, &fast_wait(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        e.sim.control().renders().len(),
        3,
        "no orphaned extra renders"
    );
}

#[tokio::test]
async fn export_blocked_by_plan_is_not_credits() {
    let e = env(Variants::default()).await;
    e.sim.control().inject(Fault::new(
        Route::RenderSubmit,
        FaultAction::Status {
            status: 402,
            body: String::new(),
        },
    ));
    let err = e
        .project()
        .await
        .submit_render(&serde_json::json!({"t": []}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ExportBlocked), "{err:?}");
    assert!(err.to_string().contains("not about credits"));
}

#[tokio::test]
async fn out_of_credits_gives_the_registration_link() {
    for envelope in [Envelope::Code, Envelope::Success, Envelope::Bare] {
        let e = env(Variants {
            envelope,
            ..Variants::default()
        })
        .await;
        e.upload_images(1).await;
        e.sim.control().set_credits(None, 10);
        let err = e.turn(PROMO).await.unwrap_err();
        let Error::OutOfCredits {
            register_url: Some(url),
        } = &err
        else {
            panic!("{envelope:?}: {err:?}")
        };
        assert_eq!(url, &e.sim.expected_register_link());
        assert!(e.sim.control().messages().is_empty(), "refused, so no turn");
        assert_eq!(e.sim.control().attempted_messages().len(), 1);
    }
}

#[tokio::test]
async fn uploads_stream_with_progress_and_survive_one_drop() {
    let e = env(Variants::default()).await;
    let big = e.dir.path().join("big.mp4");
    let mut bytes = b"\0\0\0\x20ftypisom".to_vec();
    bytes.resize(3 * 1024 * 1024, 7);
    std::fs::write(&big, &bytes).unwrap();
    let f = validate::validate_media_file(&big, 10 << 20).unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let progress: UploadProgress =
        std::sync::Arc::new(move |done, total| s2.lock().unwrap().push((done, total)));
    e.sim.control().inject(Fault::new(
        Route::Upload,
        FaultAction::DropMidBody {
            after_bytes: 100_000,
        },
    ));
    let up = e
        .project()
        .await
        .upload(&[f], Some(progress))
        .await
        .unwrap();
    assert_eq!(up.assets[0].file_type.as_deref(), Some("video"));
    let last = *seen.lock().unwrap().last().unwrap();
    assert_eq!(last, (bytes.len() as u64, bytes.len() as u64));
    assert_eq!(
        e.project().await.state().await.unwrap().assets.len(),
        1,
        "the broken attempt left nothing"
    );
    // URL uploads.
    let up = e
        .project()
        .await
        .upload_urls(&["https://example.com/clip.mov".into()])
        .await
        .unwrap();
    assert_eq!(up.assets[0].file_type.as_deref(), Some("video"));
}

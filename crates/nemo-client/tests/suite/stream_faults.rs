//! Faults of the agent's stream and the turn: a lost session, a failed message (may it have
//! been accepted?), in-stream errors in every form, a dropped stream, heartbeats only,
//! malformed frames, and recovery from the project's state.

use super::flow::*;
use nemo_client::*;
use nemo_sim::{Fault, FaultAction, Route, Sim, SimConfig, Variants};
use std::time::Duration;

#[tokio::test]
async fn a_lost_session_is_reported_never_replaced_behind_the_callers_back() {
    let e = env(Variants::default()).await;
    let old = e.project().await.id();
    e.upload_images(1).await;
    assert!(e.sim.control().drop_session(old.get()));
    let media =
        vec![validate::validate_media_file(&png_file(e.dir.path(), "x.png"), 1 << 20).unwrap()];
    let err = e.project().await.upload(&media, None).await.unwrap_err();
    assert!(
        matches!(err, Error::SessionLost { session: Some(s), .. } if s == old),
        "{err:?}"
    );
    // The same through /run_sse (HTTP 404 {"detail": "Session not found"}): refused, not taken.
    let err = e.client.project(old).send("combine").await.err().unwrap();
    assert!(matches!(err, Error::SessionLost { .. }), "{err:?}");
    assert!(e.sim.control().messages().is_empty(), "no turn ran");
    assert_eq!(
        e.sim.control().session_ids().len(),
        0,
        "the lost project is gone, and no project was made in its place"
    );
    // Replacing is the caller's decision: a new project, worked on by its handle.
    let new = e.client.create_project("en").await.unwrap().session_id;
    assert_ne!(new, old);
    let up = e.client.project(new).upload(&media, None).await.unwrap();
    assert_eq!(up.session_id, Some(new));
    assert_eq!(up.hashes.len(), 1);
    assert_eq!(
        up.hashes[0],
        nemo_client::sha256_file(&media[0].path).unwrap()
    );
}

/// Whether a failed `/run_sse` may have been taken is told apart: only a failure that proves
/// nothing left is `Transient`; the rest is `Unconfirmed`, and the simulator's log shows that
/// those turns did start (and were charged).
#[tokio::test]
async fn a_failed_message_says_whether_it_may_have_been_accepted() {
    let sim = Sim::start(SimConfig::fast()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut t = Timeouts::fast();
    t.sse_headers = Duration::from_millis(400);
    let client = Client::new(config_for(&sim, dir.path()).with_timeouts(t)).unwrap();
    let e = Env::new(sim, dir, client);
    e.upload_images(1).await;
    let sid = e.project().await.id();
    e.sim.control().set_credits(None, 1000);
    let faults = [
        FaultAction::AcceptedThenStatus { status: 502 },
        FaultAction::AcceptedThenStatus { status: 504 },
        FaultAction::AcceptedThenReset,
        FaultAction::AcceptedThenStall { ms: 1500 },
    ];
    for (i, f) in faults.into_iter().enumerate() {
        e.sim.control().inject(Fault::new(Route::RunSse, f.clone()));
        let err = e
            .client
            .project(sid)
            .send("make it 5 seconds")
            .await
            .err()
            .unwrap();
        assert!(matches!(err, Error::Unconfirmed { .. }), "{f:?}: {err:?}");
        assert_eq!(
            e.sim.control().messages().len(),
            i + 1,
            "{f:?}: the turn started"
        );
        // Let the accepted turn finish before the next one.
        for _ in 0..200 {
            if e.sim.control().accounts()[0].frozen == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    // A refusal the backend answered (a 409 busy, a 422) proves the message was not taken.
    e.sim.control().inject(Fault::new(
        Route::RunSse,
        FaultAction::Status {
            status: 422,
            body: "{\"detail\":\"invalid body\"}".into(),
        },
    ));
    let err = e.client.project(sid).send("x").await.err().unwrap();
    assert!(
        matches!(err, Error::Rejected { status: 422, .. }),
        "{err:?}"
    );
    // Nothing listening at all: it never left.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir2 = tempfile::tempdir().unwrap();
    let cfg = Config::new(format!("http://127.0.0.1:{port}"), dir2.path().join("s"))
        .with_client_id_file(dir2.path().join("cid"))
        .with_token("nmv_usr_x")
        .with_timeouts(Timeouts::fast());
    let offline = Client::new(cfg).unwrap();
    let err = offline
        .project(nemo_client::SessionId::new(1))
        .send("x")
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::Transient { .. }), "{err:?}");
}

/// The in-stream 2001 in each of the contract's four error forms is out of credits, with the
/// registration link even when no response ever carried the user id.
#[tokio::test]
async fn in_stream_out_of_credits_in_every_form_gives_the_registration_link() {
    use nemo_sim::StreamErrorForm::*;
    for no_user_id in [false, true] {
        let v = Variants {
            no_user_id,
            ..Variants::default()
        };
        let e = env(v).await;
        e.upload_images(1).await;
        for form in [Unescaped, WithDetails, SystemAuthor, ErrorCode] {
            e.sim.control().inject(Fault::new(
                Route::RunSse,
                FaultAction::StreamError {
                    form,
                    code: Some(2001),
                },
            ));
            let reply = e.turn("make it 5 seconds").await.unwrap();
            let msg = reply.error.expect("an in-stream error");
            let err = e.project().await.stream_failure(&msg).await;
            let Error::OutOfCredits {
                register_url: Some(url),
            } = &err
            else {
                panic!("{form:?}: {err:?}")
            };
            assert!(
                url.starts_with(&format!("{}/register", e.sim.web_url())),
                "{url}"
            );
            assert_eq!(url.contains("bind=anon_"), !no_user_id, "{url}");
        }
    }
}

#[tokio::test]
async fn dropped_stream_is_recovered_from_state_without_resending() {
    let e = env_with(SimConfig::fast().with_time_scale(0.01)).await;
    e.upload_images(2).await;
    let before = e.project().await.state().await.unwrap();
    e.sim.control().inject(Fault::new(
        Route::RunSse,
        FaultAction::CutStream { after_events: 2 },
    ));
    let err = e.turn(PROMO).await.unwrap_err();
    assert!(matches!(err, Error::StreamBroken { .. }), "{err:?}");
    let waits = RecoveryWaits::new(Duration::from_millis(50), Duration::from_millis(100), 5);
    let mut reads = 0;
    let got = e
        .client
        .project(before.session_id)
        .recover(&before, &waits, |n| reads = n)
        .await
        .unwrap();
    let Recovered::Changed(after) = got else {
        panic!("the edit landed server-side")
    };
    assert_eq!(after.timeline.duration_ms, Some(30_000));
    assert!(reads >= 1);
    assert_eq!(
        e.sim.control().messages(),
        vec![PROMO.to_string()],
        "never re-sent"
    );
    // Nothing happened at all: after the reads, Unchanged.
    let now = e.project().await.state().await.unwrap();
    let none = e
        .client
        .project(now.session_id)
        .recover(
            &now,
            &RecoveryWaits::new(Duration::ZERO, Duration::from_millis(5), 3),
            |_| {},
        )
        .await
        .unwrap();
    assert!(
        matches!(none, Recovered::Unchanged { reads: 3, .. }),
        "{none:?}"
    );
}

#[tokio::test]
async fn heartbeat_only_streams_time_out_and_errors_end_turns() {
    let sim = Sim::start(SimConfig::fast().with_time_scale(0.004))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut t = Timeouts::fast();
    t.sse_heartbeats_only = Duration::from_millis(500);
    let client = Client::new(config_for(&sim, dir.path()).with_timeouts(t)).unwrap();
    let e = Env::new(sim, dir, client);
    e.upload_images(1).await;
    e.sim
        .control()
        .inject(Fault::new(Route::RunSse, FaultAction::HeartbeatsOnly));
    let err = e.turn("combine into a 10 second video").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::StreamTimedOut {
                heartbeats_only: true
            }
        ),
        "{err:?}"
    );
    // The stalled turn goes on server-side for a while; the backend refuses another meanwhile.
    let mut busy = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while let Err(Error::Busy) = e.turn("hello").await {
        busy += 1;
        assert!(
            tokio::time::Instant::now() < deadline,
            "the backend stayed busy"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(busy > 0, "the backend was still busy with the stalled turn");
    e.sim.control().inject(Fault::new(
        Route::RunSse,
        FaultAction::StreamError {
            form: nemo_sim::StreamErrorForm::Unescaped,
            code: None,
        },
    ));
    let reply = e.turn("make it 5 seconds").await.unwrap();
    assert!(
        reply.error.as_deref().unwrap().contains("quota"),
        "{reply:?}"
    );
}

#[tokio::test]
async fn malformed_frames_do_not_break_a_turn() {
    let e = env(Variants::default()).await;
    e.sim.control().set_silence(Some(false));
    e.upload_images(1).await;
    e.sim
        .control()
        .inject(Fault::new(Route::RunSse, FaultAction::MalformedFrames));
    let r = e.turn("combine into a 10 second video").await.unwrap();
    assert!(r.error.is_none());
    assert!(r.reply().contains("10 seconds"));
}

/// Recovery reads the state (never re-sends): a read that fails for a while is skipped and the
/// reads go on, counted from 1; a read the backend refuses for good (a lost project) ends it.
#[tokio::test]
async fn recovery_reads_on_through_a_failure_and_stops_at_a_refusal() {
    let e = env(Variants::default()).await;
    let before = e.project().await.state().await.unwrap();
    let sid = before.session_id;
    let waits = RecoveryWaits::quick(Duration::from_millis(5), 3);
    // Every try of the first read fails (a GET is tried `get_attempts` times).
    let tries = e.client.config().timeouts.get_attempts;
    e.sim.control().inject(
        Fault::new(
            Route::State,
            FaultAction::Status {
                status: 503,
                body: String::new(),
            },
        )
        .times(tries),
    );
    let mut reads = Vec::new();
    let r = e
        .client
        .project(sid)
        .recover(&before, &waits, |n| reads.push(n))
        .await
        .unwrap();
    assert!(matches!(r, Recovered::Unchanged { reads: 3, .. }), "{r:?}");
    assert_eq!(reads, vec![1, 2, 3], "each read is told, counted from 1");
    e.sim
        .control()
        .inject(Fault::new(Route::State, FaultAction::Code { code: 1002 }));
    let r = e.client.project(sid).recover(&before, &waits, |_| {}).await;
    assert!(
        matches!(r, Err(Error::SessionLost { .. })),
        "a lost project ends the recovery: {r:?}"
    );
}

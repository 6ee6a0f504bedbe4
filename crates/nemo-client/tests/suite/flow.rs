//! The quick-edit flow against nemo-sim under every variant combination, and each fault.

use futures_util::StreamExt;
use nemo_client::*;
use nemo_sim::{
    Envelope, EventFamily, Fault, FaultAction, HeartbeatForm, RenderShape, Route, SessionIdForm,
    Sim, SimConfig, SimHandle, Variants,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

const PROMO: &str =
    "combine these images into a 30-second promo video with music and text overlays";

struct Env {
    sim: SimHandle,
    dir: tempfile::TempDir,
    client: Client,
    /// The project the test works on, made on first use.
    session: std::sync::Mutex<Option<Session>>,
}

fn png_file(dir: &Path, name: &str) -> PathBuf {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&64u32.to_be_bytes());
    v.extend_from_slice(&48u32.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0]);
    let p = dir.join(name);
    std::fs::write(&p, v).unwrap();
    p
}

fn config_for(sim: &SimHandle, dir: &Path) -> Config {
    Config::new(sim.base_url(), dir.join("state"))
        .with_web_url(sim.web_url())
        .with_client_id_file(dir.join("client_id"))
        .with_timeouts(Timeouts::fast())
}

async fn env_with(config: SimConfig) -> Env {
    let sim = Sim::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = Client::new(config_for(&sim, dir.path())).unwrap();
    Env::new(sim, dir, client)
}

async fn env(variants: Variants) -> Env {
    env_with(
        SimConfig::fast()
            .with_variants(variants)
            .with_time_scale(0.002),
    )
    .await
}

fn fast_wait() -> RenderWait {
    RenderWait::new(Duration::from_millis(20), Duration::from_secs(30))
}

impl Env {
    fn new(sim: SimHandle, dir: tempfile::TempDir, client: Client) -> Env {
        Env {
            sim,
            dir,
            client,
            session: Default::default(),
        }
    }

    /// The test's project (created in English on first use).
    async fn project(&self) -> Project<'_> {
        let known = self.session.lock().unwrap().clone();
        let session = match known {
            Some(s) => s,
            None => {
                let s = self.client.create_project("en").await.unwrap();
                *self.session.lock().unwrap() = Some(s.clone());
                s
            }
        };
        session.handle(&self.client)
    }

    async fn upload_images(&self, n: usize) -> Uploaded {
        let files: Vec<MediaFile> = (0..n)
            .map(|i| {
                validate::validate_media_file(
                    &png_file(self.dir.path(), &format!("photo{i}.png")),
                    1 << 20,
                )
                .unwrap()
            })
            .collect();
        self.project().await.upload(&files, None).await.unwrap()
    }

    async fn turn(&self, message: &str) -> Result<TurnReply> {
        let mut stream = self.project().await.send(message).await?;
        let mut reply = TurnReply::default();
        while let Some(e) = stream.next().await {
            reply.push(&e?);
        }
        Ok(reply)
    }

    /// upload → generate → state → render → download; returns the file.
    async fn quick_edit(&self) -> PathBuf {
        let up = self.upload_images(3).await;
        assert_eq!(up.assets.len(), 3);
        let before = self.project().await.state().await.unwrap();
        let reply = self.turn(PROMO).await.unwrap();
        let after = self.project().await.state().await.unwrap();
        let diff = TimelineDiff::between(&before.timeline, &after.timeline);
        assert!(!diff.is_empty());
        assert!(
            reply.reply().is_empty() || !reply.reply().contains("click"),
            "GUI words translated: {}",
            reply.reply()
        );
        assert_eq!(after.timeline.duration_ms, Some(30_000));
        assert!(after.timeline.is_exportable());
        let id = self
            .project()
            .await
            .submit_render(&after.draft)
            .await
            .unwrap();
        let done = self
            .client
            .wait_render(&id, &fast_wait(), |_| {})
            .await
            .unwrap();
        let dest = self.dir.path().join("out.mp4");
        let n = self
            .client
            .download_render(&id, &done, &dest, |_, _| {})
            .await
            .unwrap();
        assert_eq!(std::fs::metadata(&dest).unwrap().len(), n);
        assert!(!part_path(&dest).exists());
        dest
    }

    fn assert_all_attributed(&self) {
        let log = self.sim.log();
        let api: Vec<_> = log
            .iter()
            .filter(|e| {
                e.path.starts_with("/api") || e.path == "/run_sse" || e.path.starts_with("/renders")
            })
            .collect();
        assert!(!api.is_empty());
        for e in api {
            assert!(e.attributed(), "{} {} lacks attribution", e.method, e.path);
            assert_eq!(e.skill_source.as_deref(), Some("nemo-mcp"));
        }
    }
}

#[tokio::test]
async fn quick_edit_under_every_variant_combination() {
    let mut combos = Vec::new();
    for envelope in [Envelope::Code, Envelope::Success, Envelope::Bare] {
        for event_family in [EventFamily::Adk, EventFamily::Simple] {
            for heartbeat in [
                HeartbeatForm::Comment,
                HeartbeatForm::EmptyData,
                HeartbeatForm::Json,
                HeartbeatForm::EventName,
            ] {
                for render_shape in [
                    RenderShape::TopLevel,
                    RenderShape::InData,
                    RenderShape::CodeData,
                ] {
                    let n = combos.len();
                    combos.push(Variants {
                        envelope,
                        event_family,
                        heartbeat,
                        render_shape,
                        session_id: if n % 2 == 0 {
                            SessionIdForm::String
                        } else {
                            SessionIdForm::Number
                        },
                        partial_chunks: n % 3 == 0,
                        snake_case_keys: n % 4 == 1,
                        multiline_data: n % 5 == 2,
                        render_without_url: n % 6 == 3,
                        token_without_user: n % 7 == 4,
                        upload_without_cdn_url: n % 8 == 5,
                        ..Variants::default()
                    });
                }
            }
        }
    }
    assert_eq!(combos.len(), 72);
    let runs = combos.into_iter().map(|v| async move {
        let e = env(v).await;
        let f = e.quick_edit().await;
        let bytes = std::fs::read(&f).unwrap();
        assert_eq!(&bytes[4..8], b"ftyp", "{v:?}");
        e.assert_all_attributed();
        assert_eq!(
            e.sim.control().messages(),
            vec![PROMO.to_string()],
            "{v:?}: sent once"
        );
    });
    // A few at a time: the machine has two cores.
    let results: Vec<()> = futures_util::stream::iter(runs)
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(results.len(), 72);
}

#[tokio::test]
async fn text_replies_are_translated_and_trailing_issue_dropped() {
    let e = env(Variants {
        partial_chunks: true,
        ..Variants::default()
    })
    .await;
    e.sim.control().set_silence(Some(false));
    e.upload_images(2).await;
    e.sim.control().set_credits(None, 1000);
    let r = e.turn(PROMO).await.unwrap();
    let text = r.reply();
    // The agent's closing GUI sentence became what the user can ask for.
    assert!(
        text.contains("Ask me to") || text.contains("Tell me what"),
        "{text}"
    );
    for (en, _) in nemo_sim::GUI_SENTENCES {
        assert!(!text.contains(en), "{text}");
    }
    assert!(
        !text.contains("Done! I combined your media into a videoDone!"),
        "partials never doubled: {text}"
    );
    assert_eq!(r.texts.iter().filter(|t| t.starts_with("Done!")).count(), 1);
    // Turn 4 of a session trails a "temporary issue" line, which the reply drops.
    for s in [10, 11, 12] {
        let r = e.turn(&format!("make it {s} seconds")).await.unwrap();
        if r.texts.iter().any(|t| text::is_temporary_issue(t)) {
            assert!(!text::is_temporary_issue(&r.reply()), "{}", r.reply());
        }
    }
}

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

#[tokio::test]
async fn host_hint_sets_the_platform() {
    let e = env(Variants::default()).await;
    e.client.set_host_hint("Cursor");
    e.client.credits().await.unwrap();
    assert!(e
        .sim
        .log()
        .iter()
        .all(|x| x.skill_platform.as_deref() == Some("cursor")));
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

//! The quick-edit flow against nemo-sim under every variant combination, with the test
//! environment the other flow files share (`account`, `stream_faults`, `http_faults`).

use futures_util::StreamExt;
use nemo_client::*;
use nemo_sim::{
    Envelope, EventFamily, HeartbeatForm, RenderShape, SessionIdForm, Sim, SimConfig, SimHandle,
    Variants,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) const PROMO: &str =
    "combine these images into a 30-second promo video with music and text overlays";

pub(super) struct Env {
    pub(super) sim: SimHandle,
    pub(super) dir: tempfile::TempDir,
    pub(super) client: Client,
    /// The project the test works on, made on first use.
    session: std::sync::Mutex<Option<Session>>,
}

pub(super) fn png_file(dir: &Path, name: &str) -> PathBuf {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&64u32.to_be_bytes());
    v.extend_from_slice(&48u32.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0]);
    let p = dir.join(name);
    std::fs::write(&p, v).unwrap();
    p
}

pub(super) fn config_for(sim: &SimHandle, dir: &Path) -> Config {
    Config::new(sim.base_url(), dir.join("state"))
        .with_web_url(sim.web_url())
        .with_client_id_file(dir.join("client_id"))
        .with_timeouts(Timeouts::fast())
}

pub(super) async fn env_with(config: SimConfig) -> Env {
    let sim = Sim::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = Client::new(config_for(&sim, dir.path())).unwrap();
    Env::new(sim, dir, client)
}

pub(super) async fn env(variants: Variants) -> Env {
    env_with(
        SimConfig::fast()
            .with_variants(variants)
            .with_time_scale(0.002),
    )
    .await
}

pub(super) fn fast_wait() -> RenderWait {
    RenderWait::new(Duration::from_millis(20), Duration::from_secs(30))
}

impl Env {
    pub(super) fn new(sim: SimHandle, dir: tempfile::TempDir, client: Client) -> Env {
        Env {
            sim,
            dir,
            client,
            session: Default::default(),
        }
    }

    /// The test's project (created in English on first use).
    pub(super) async fn project(&self) -> Project<'_> {
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

    pub(super) async fn upload_images(&self, n: usize) -> Uploaded {
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

    pub(super) async fn turn(&self, message: &str) -> Result<TurnReply> {
        let mut stream = self.project().await.send(message).await?;
        let mut reply = TurnReply::default();
        while let Some(e) = stream.next().await {
            reply.push(&e?);
        }
        Ok(reply)
    }

    /// upload → generate → state → render → download; returns the file.
    pub(super) async fn quick_edit(&self) -> PathBuf {
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

    pub(super) fn assert_all_attributed(&self) {
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

/// A handle speaking for a job another process made sends that job's attribution on every
/// request and is held to its profile's upload limit; the client it came from is unchanged.
#[tokio::test]
async fn a_handle_speaking_for_a_job_sends_its_attribution() {
    let e = env(Variants::default()).await;
    let job = nemo_client::Attribution::new("free-video-generation-tools", "0.9.1", "cursor");
    let speaker = e.client.speaking_for(job.clone());
    assert_eq!(speaker.attribution(), job);
    assert_eq!(
        speaker.profile(),
        nemo_client::Profile::FreeVideoGenerationTools
    );
    speaker.credits().await.unwrap();
    let spoken = e.sim.log().len();
    assert!(spoken > 0);
    e.client.credits().await.unwrap();
    let log = e.sim.log();
    let (theirs, ours) = log.split_at(spoken);
    assert!(theirs.iter().all(|x| x.skill_source.as_deref()
        == Some("free-video-generation-tools")
        && x.skill_version.as_deref() == Some("0.9.1")
        && x.skill_platform.as_deref() == Some("cursor")));
    assert!(ours
        .iter()
        .all(|x| x.skill_source.as_deref() == Some(e.client.config().profile.source())));
    assert_eq!(e.client.profile(), e.client.config().profile);
    // A source no profile has keeps this process's limits.
    let odd = e.client.speaking_for(nemo_client::Attribution::new(
        "nemo-video-cli",
        "1",
        "unknown",
    ));
    assert_eq!(odd.profile(), e.client.config().profile);
}

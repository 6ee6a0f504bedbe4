//! A hostile world, through the MCP server: a backend that sends too much, points downloads at
//! the user's own machine, redirects, stalls and lies; a file system that changes between the
//! check and the open; a journal with planted entries. Each attack has one test; each test
//! prints its row of the table in docs/security.md (`--nocapture`).

use crate::common;

use common::*;
use nemo_sim::{Fault, FaultAction, Route, SimConfig};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const EDIT: &str = "combine these images into a 10-second video with music";

fn row(attack: &str, observed: &str, test: &str) {
    row_in("hostile", attack, observed, test);
}

/// A row of the table in docs/security.md, for the test `test` of `module`.
pub(super) fn row_in(module: &str, attack: &str, observed: &str, test: &str) {
    println!("| {attack} | {observed} | `{module}::{test}` |");
}

/// A local server that must never be reached: it counts connections and, if reached, hands
/// out something that looks like a video (so a fetch would be saved as one).
struct Trap {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Trap {
    async fn start() -> Trap {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                h.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                let body = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41SECRET-ROUTER-PAGE";
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(body).await;
            }
        });
        Trap { port, hits }
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/router/admin.mp4", self.port)
    }
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn ready_to_export(h: &Harness) {
    upload_two(h).await;
    let r = h.call("generate", json!({"instruction": EDIT})).await;
    let b = h.finish(body(&r)).await;
    assert_eq!(b["status"], "succeeded", "{b}");
}

/// Export and follow it; the final body (an error result's body, or the job).
async fn export(h: &Harness) -> Value {
    let r = h.call("export_video", json!({})).await;
    if r.is_error == Some(true) {
        return body(&r);
    }
    h.finish(body(&r)).await
}

fn no_mp4_written(h: &Harness) {
    let outs = h.outputs();
    assert!(
        outs.is_empty(),
        "nothing may be saved from a refused download: {outs:?}"
    );
}

fn with_idle(ms: u64) -> impl FnOnce(&mut nemo_mcp::Settings) {
    move |s| s.client.timeouts.idle = Duration::from_millis(ms)
}

// ---- A hostile backend -------------------------------------------------------------------

#[tokio::test]
async fn a_huge_json_reply_is_refused_while_read() {
    let h = Harness::start().await;
    h.call("get_credits", json!({})).await;
    h.sim.control().inject(Fault::new(
        Route::Credits,
        FaultAction::HugeBody {
            bytes: 1_500_000_000,
        },
    ));
    let r = h.call("get_credits", json!({})).await;
    assert_eq!(r.is_error, Some(true));
    let e = body(&r);
    assert_eq!(e["code"], "unsafe_answer", "{e}");
    assert!(e["message"].as_str().unwrap().contains("8 MB"), "{e}");
    // The server goes on.
    let ok = h.call("get_credits", json!({})).await;
    assert_eq!(ok.is_error, Some(false));
    row(
        "a 1.5 GB JSON reply (no length, never-ending)",
        "refused at 8 MB while reading: `unsafe_answer`; the next call works",
        "a_huge_json_reply_is_refused_while_read",
    );
}

#[tokio::test]
async fn a_huge_sse_line_is_dropped_and_the_turn_still_read() {
    let h = Harness::start().await;
    upload_two(&h).await;
    h.sim.control().inject(Fault::new(
        Route::RunSse,
        FaultAction::HugeSseLine { bytes: 64 << 20 },
    ));
    let r = h.call("generate", json!({"instruction": EDIT})).await;
    let b = h.finish(body(&r)).await;
    assert_eq!(b["status"], "succeeded", "{b}");
    assert_eq!(h.sim.control().messages().len(), 1, "sent once");
    row(
        "a 64 MB SSE line with no newline before the turn's events",
        "the line is dropped at 1 MB (memory stays bounded), the turn's events after it are read; 1 message sent",
        "a_huge_sse_line_is_dropped_and_the_turn_still_read",
    );
}

#[tokio::test]
async fn a_download_url_on_another_local_port_is_never_fetched() {
    let h = Harness::start().await;
    let trap = Trap::start().await;
    ready_to_export(&h).await;
    h.sim.control().inject(
        Fault::new(
            Route::RenderStatus,
            FaultAction::RenderOutput {
                url: Some(trap.url()),
                size: None,
            },
        )
        .times(1000),
    );
    let b = export(&h).await;
    assert_eq!(error_of(&b)["code"], "unsafe_answer", "{b}");
    assert_eq!(trap.hits(), 0, "the trap was reached");
    no_mp4_written(&h);
    for url in [
        "https://169.254.169.254/latest/meta-data/iam.mp4",
        "https://[::1]/x.mp4",
        "http://cdn.example.com/x.mp4",
    ] {
        h.sim.control().clear_faults();
        h.sim.control().inject(
            Fault::new(
                Route::RenderStatus,
                FaultAction::RenderOutput {
                    url: Some(url.into()),
                    size: None,
                },
            )
            .times(1000),
        );
        let b = export(&h).await;
        assert_eq!(error_of(&b)["code"], "unsafe_answer", "{url}: {b}");
    }
    no_mp4_written(&h);
    row(
        "a render `output.url` at `http://127.0.0.1:<other port>/…` (and a cloud metadata address, `[::1]`, plain http to a CDN)",
        "refused before any connection (the trap server saw 0); `unsafe_answer`; no file saved",
        "a_download_url_on_another_local_port_is_never_fetched",
    );
}

#[tokio::test]
async fn a_redirect_to_a_local_address_is_not_followed() {
    let h = Harness::start().await;
    let trap = Trap::start().await;
    ready_to_export(&h).await;
    h.sim.control().inject(
        Fault::new(
            Route::Download,
            FaultAction::Redirect {
                location: trap.url(),
            },
        )
        .times(2),
    );
    let b = export(&h).await;
    assert_eq!(error_of(&b)["code"], "unsafe_answer", "{b}");
    assert_eq!(trap.hits(), 0);
    no_mp4_written(&h);
    row(
        "the download answers `302` to `http://127.0.0.1:<other port>/…`",
        "the hop is checked like the first URL and refused; the trap saw 0 connections; no file saved",
        "a_redirect_to_a_local_address_is_not_followed",
    );
}

#[tokio::test]
async fn a_stalled_download_ends_and_is_resumed() {
    let h = Harness::with(SimConfig::fast(), with_idle(800)).await;
    ready_to_export(&h).await;
    h.sim.control().inject(Fault::new(
        Route::Download,
        FaultAction::StallMidBody { after_bytes: 1000 },
    ));
    let b = export(&h).await;
    assert_eq!(b["status"], "succeeded", "{b}");
    let outs = h.outputs();
    assert_eq!(outs.len(), 1);
    assert_eq!(&std::fs::read(&outs[0]).unwrap()[4..8], b"ftyp");
    row(
        "the download sends 1,000 bytes, then nothing, and never closes",
        "ended by the idle timeout, resumed from byte 1,000; a complete MP4",
        "a_stalled_download_ends_and_is_resumed",
    );
}

#[tokio::test]
async fn a_stalled_upload_ends_and_is_sent_again() {
    let h = Harness::with(SimConfig::fast(), with_idle(800)).await;
    h.sim.control().inject(Fault::new(
        Route::Upload,
        FaultAction::StallMidBody { after_bytes: 1000 },
    ));
    let big = png(400, 400);
    let r = h
        .call(
            "upload_media",
            json!({"paths": [h.media("big.png", &big)], "wait_s": 20}),
        )
        .await;
    let b = h.finish(body(&r)).await;
    assert_eq!(b["status"], "succeeded", "{b}");
    row(
        "the backend stops reading an upload after 1,000 bytes and never answers",
        "ended by the idle watchdog, sent once more (uploads are free), succeeded",
        "a_stalled_upload_ends_and_is_sent_again",
    );
}

#[tokio::test]
async fn a_download_larger_than_announced_is_cut_and_discarded() {
    let h = Harness::start().await;
    ready_to_export(&h).await;
    h.sim.control().inject(
        Fault::new(
            Route::Download,
            FaultAction::ExtraBytes {
                bytes: 1_500_000_000,
            },
        )
        .times(2),
    );
    let b = export(&h).await;
    assert_eq!(error_of(&b)["code"], "unsafe_answer", "{b}");
    no_mp4_written(&h);
    // The announced size is smaller than what comes.
    h.sim.control().clear_faults();
    h.sim.control().inject(
        Fault::new(
            Route::RenderStatus,
            FaultAction::RenderOutput {
                url: None,
                size: Some(1000),
            },
        )
        .times(1000),
    );
    let b = export(&h).await;
    assert_eq!(error_of(&b)["code"], "unsafe_answer", "{b}");
    no_mp4_written(&h);
    row(
        "the download is 1.5 GB larger than the render's announced size (and the size announced is 1,000 bytes)",
        "refused at the announced size; the `.part` is removed; `unsafe_answer`",
        "a_download_larger_than_announced_is_cut_and_discarded",
    );
}

#[tokio::test]
async fn a_download_that_is_not_an_mp4_is_not_saved() {
    let h = Harness::start().await;
    ready_to_export(&h).await;
    let page = "<html><body>router admin</body></html>";
    h.sim.control().inject(
        Fault::new(
            Route::Download,
            FaultAction::Serve {
                content_type: "video/mp4".into(),
                body: page.into(),
            },
        )
        .times(2),
    );
    // Its size announced truly: only the content gives it away.
    h.sim.control().inject(
        Fault::new(
            Route::RenderStatus,
            FaultAction::RenderOutput {
                url: None,
                size: Some(page.len() as u64),
            },
        )
        .times(1000),
    );
    let b = export(&h).await;
    assert_eq!(error_of(&b)["code"], "unsafe_answer", "{b}");
    no_mp4_written(&h);
    row(
        "the download is an HTML page served as `video/mp4`",
        "no `ftyp` box with a known brand: not renamed to `.mp4`, the `.part` removed",
        "a_download_that_is_not_an_mp4_is_not_saved",
    );
}

#[tokio::test]
async fn a_planted_journal_entry_cannot_write_outside_the_folders() {
    let sim = nemo_sim::Sim::start(SimConfig::fast()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(&sim, dir.path());
    let jobs = settings.journal_dir();
    std::fs::create_dir_all(&jobs).unwrap();
    let evil = dir.path().join("evil-target.mp4");
    let now = chrono::Utc::now().to_rfc3339();
    let entry = |id: &str, output: &Path| {
        json!({"id": id, "kind": "export", "status": "running", "created_at": now,
               "finished_at": null, "progress_pct": null, "message": "", "activity": 0,
               "result": null, "error": null, "instruction": null, "session_id": null,
               "state_before": null, "credits_before": null, "render_id": "render_1",
               "output_stem": "x", "output_path": output})
    };
    std::fs::write(
        jobs.join("exp_0123456789ab.json"),
        entry("exp_0123456789ab", &evil).to_string(),
    )
    .unwrap();
    std::fs::write(
        jobs.join("exp_ba9876543210.json"),
        entry("../../escape", &dir.path().join("out").join("a.mp4")).to_string(),
    )
    .unwrap();
    let h = Harness::on(sim, dir, settings).await;
    let l = h.call("list_jobs", json!({})).await;
    assert_eq!(
        body(&l)["jobs"].as_array().unwrap().len(),
        0,
        "{}",
        text_of(&l)
    );
    assert!(!evil.exists() && !nemo_client::part_path(&evil).exists());
    assert!(!h.dir.path().join("escape.json").exists());
    row(
        "journal entries with an `output_path` outside the output folder, and with a job id `../../escape`",
        "skipped and logged on load: no job resumed, nothing written outside the folders",
        "a_planted_journal_entry_cannot_write_outside_the_folders",
    );
}

// ---- Bounded state, and folders that are not ours ----------------------------------------

#[tokio::test]
async fn thousands_of_jobs_are_pruned_while_the_server_runs() {
    let h = Harness::start().await;
    // Answered locally (an export request is not sent to the AI), so each is a free job.
    for i in 0..2000 {
        let r = h
            .call(
                "generate",
                json!({"instruction": "export it", "request_id": format!("r{i}")}),
            )
            .await;
        assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    }
    let held = h.app.jobs.held();
    let journaled = h.app.jobs.journal().count();
    assert!(held <= 200, "{held} jobs held");
    assert!(journaled <= 200, "{journaled} journaled jobs");
    assert!(h.sim.control().messages().is_empty());
    row(
        "2,000 jobs in one run of the server",
        &format!("{held} kept in memory and {journaled} in the journal (the newest 200 finished); older ones pruned as jobs finish"),
        "thousands_of_jobs_are_pruned_while_the_server_runs",
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_shared_state_folder_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let sim = nemo_sim::Sim::start(SimConfig::fast()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("state");
    std::fs::create_dir_all(&shared).unwrap();
    // Readable by the group, writable by the user only (one that others may write is refused:
    // `e2e` `state_folder`).
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    let settings = settings_for(&sim, dir.path());
    let h = Harness::on(sim, dir, settings).await;
    upload_two(&h).await;
    let mode = std::fs::metadata(&shared).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755, "the shared folder was chmod-ed to {mode:o}");
    // The database holds the token.
    let db = std::fs::metadata(shared.join("state.db")).unwrap();
    assert_eq!(db.permissions().mode() & 0o777, 0o600);
    let processes = std::fs::metadata(shared.join("processes")).unwrap();
    assert_eq!(
        processes.permissions().mode() & 0o777,
        0o700,
        "a folder we made is private"
    );
    row(
        "an existing folder others may read (mode 0755) given as the state folder",
        "left at 0755; the files in it are 0600 and the folders the server makes 0700",
        "a_shared_state_folder_keeps_its_permissions",
    );
}

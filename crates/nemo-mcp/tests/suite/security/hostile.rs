//! A hostile world, through the MCP server: a backend that sends too much, points downloads at
//! the user's own machine, redirects, stalls and lies; a file system that changes between the
//! check and the open; a journal with planted entries. Each attack has one test; each test
//! prints its row of the table in docs/security.md (`--nocapture`).

use crate::common;

/// Held by each test that sets `validate`'s before-open hook (a process-wide setting).
static HOOKED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

use common::*;
use nemo_sim::{Fault, FaultAction, Route, SimConfig};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const EDIT: &str = "combine these images into a 10-second video with music";

fn row(attack: &str, observed: &str, test: &str) {
    println!("| {attack} | {observed} | `hostile::{test}` |");
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

// ---- A hostile file system ---------------------------------------------------------------

/// The hook swaps files only for names with this mark, so other tests in this binary are
/// never touched.
const RACE: &str = "race-";

fn secret(h: &Harness, len: usize) -> std::path::PathBuf {
    let p = h.dir.path().join("secret.key");
    let mut bytes = b"-----BEGIN OPENSSH PRIVATE KEY-----".to_vec();
    bytes.resize(len, b'k');
    std::fs::write(&p, bytes).unwrap();
    p
}

fn uploaded_bytes_contain(h: &Harness, needle: &[u8]) -> bool {
    fn walk(p: &Path, needle: &[u8]) -> bool {
        std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                let path = e.path();
                if path.is_dir() {
                    walk(&path, needle)
                } else {
                    std::fs::read(&path).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
                }
            })
    }
    walk(h.sim.data_dir(), needle)
}

#[cfg(unix)]
#[tokio::test]
async fn a_file_swapped_for_a_link_between_check_and_open_is_not_sent() {
    // The hook is one for the whole process: one such test at a time.
    let _one = HOOKED.lock().await;
    let h = Harness::start().await;
    let img = png(16, 16);
    let path = h.media(&format!("{RACE}a.png"), &img);
    let secret = secret(&h, img.len());
    let (p, s) = (path.clone(), secret.clone());
    nemo_client::validate::test_hooks::set_before_open(Some(Box::new(move |at| {
        if at.to_string_lossy().contains(RACE) && at.ends_with(Path::new(&p).file_name().unwrap()) {
            let _ = std::fs::remove_file(at);
            let _ = std::os::unix::fs::symlink(&s, at);
        }
    })));
    let r = h.call("upload_media", json!({"paths": [path]})).await;
    nemo_client::validate::test_hooks::set_before_open(None);
    assert_eq!(r.is_error, Some(true), "{}", text_of(&r));
    assert!(text_of(&r).contains("changed"), "{}", text_of(&r));
    assert!(!uploaded_bytes_contain(&h, b"OPENSSH"), "the secret left");
    row(
        "a checked `a.png` is swapped for a symlink to a same-size secret between the check and the open",
        "opened with `O_NOFOLLOW`: refused as changed; the secret's bytes never reach the backend",
        "a_file_swapped_for_a_link_between_check_and_open_is_not_sent",
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_folder_swapped_for_a_link_between_check_and_open_is_not_sent() {
    // The hook is one for the whole process: one such test at a time.
    let _one = HOOKED.lock().await;
    let h = Harness::start().await;
    let img = png(16, 16);
    let media = h.dir.path().join("media");
    std::fs::create_dir_all(media.join(format!("{RACE}dir"))).unwrap();
    let path = media.join(format!("{RACE}dir")).join("photo.png");
    std::fs::write(&path, &img).unwrap();
    // Outside the allowed folder: a folder with a same-named "photo" that is a secret.
    let outside = h.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let mut evil = img.clone();
    evil.extend_from_slice(b"OPENSSH-SECRET");
    std::fs::write(outside.join("photo.png"), &evil).unwrap();
    let dir = media.join(format!("{RACE}dir"));
    nemo_client::validate::test_hooks::set_before_open(Some(Box::new(move |at| {
        if at.starts_with(&dir) {
            let _ = std::fs::remove_dir_all(&dir);
            let _ = std::os::unix::fs::symlink(&outside, &dir);
        }
    })));
    let r = h
        .call("upload_media", json!({"paths": [path.to_str().unwrap()]}))
        .await;
    nemo_client::validate::test_hooks::set_before_open(None);
    assert_eq!(r.is_error, Some(true), "{}", text_of(&r));
    assert!(!uploaded_bytes_contain(&h, b"OPENSSH-SECRET"));
    row(
        "a folder on the checked path is swapped for a symlink to an outside folder",
        "the open handle's real path (`/proc/self/fd`) differs from the checked one: refused as changed",
        "a_folder_swapped_for_a_link_between_check_and_open_is_not_sent",
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_file_swapped_for_a_fifo_neither_blocks_nor_passes() {
    // The hook is one for the whole process: one such test at a time.
    let _one = HOOKED.lock().await;
    let h = Harness::start().await;
    let paths: Vec<String> = (0..4)
        .map(|i| h.media(&format!("{RACE}fifo{i}.png"), &png(16, 16)))
        .collect();
    nemo_client::validate::test_hooks::set_before_open(Some(Box::new(|at| {
        if at.to_string_lossy().contains(&format!("{RACE}fifo")) {
            let _ = std::fs::remove_file(at);
            let c = std::ffi::CString::new(at.to_str().unwrap()).unwrap();
            unsafe { libc_mkfifo(c.as_ptr(), 0o600) };
        }
    })));
    // A deadline, not a timing: before the fix this call never returned.
    let r = tokio::time::timeout(
        Duration::from_secs(30),
        h.call("upload_media", json!({"paths": paths})),
    )
    .await
    .expect("the upload answered");
    nemo_client::validate::test_hooks::set_before_open(None);
    assert_eq!(r.is_error, Some(true));
    assert!(
        text_of(&r).contains("not a regular file"),
        "{}",
        text_of(&r)
    );
    let l = tokio::time::timeout(Duration::from_secs(30), h.call("list_jobs", json!({})))
        .await
        .expect("list_jobs answered");
    assert_eq!(l.is_error, Some(false));
    row(
        "four checked files are swapped for FIFOs before the open",
        "opened non-blocking off the async workers: each refused as not a regular file; `list_jobs` answers",
        "a_file_swapped_for_a_fifo_neither_blocks_nor_passes",
    );
}

#[cfg(unix)]
extern "C" {
    #[link_name = "mkfifo"]
    fn libc_mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32;
}

#[tokio::test]
async fn outside_paths_cannot_be_probed_for_existence() {
    let h = Harness::start().await;
    let a = h
        .call("upload_media", json!({"paths": ["/etc/shadow"]}))
        .await;
    let b = h
        .call("upload_media", json!({"paths": ["/etc/nonexistent-xyz"]}))
        .await;
    assert_eq!(
        text_of(&a),
        text_of(&b).replace("nonexistent-xyz", "shadow")
    );
    assert!(text_of(&a).contains("outside"), "{}", text_of(&a));
    row(
        "`/etc/shadow` and `/etc/nonexistent` are given as uploads",
        "the same answer (\"outside the folders uploads may come from\"), decided before the file system is touched",
        "outside_paths_cannot_be_probed_for_existence",
    );
}

#[tokio::test]
async fn credential_folders_are_refused_in_any_case_and_fake_media_too() {
    let h = Harness::start().await;
    let media = h.dir.path().join("media");
    for d in [".SSH", ".Aws", "Library/Keychains", ".config/gcloud"] {
        std::fs::create_dir_all(media.join(d)).unwrap();
        std::fs::write(media.join(d).join("k.png"), png(8, 8)).unwrap();
    }
    let paths: Vec<String> = [".SSH", ".Aws", "Library/Keychains", ".config/gcloud"]
        .iter()
        .map(|d| media.join(d).join("k.png").display().to_string())
        .collect();
    let r = h.call("upload_media", json!({"paths": paths})).await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(
        text_of(&r).matches("holds credentials").count(),
        4,
        "{}",
        text_of(&r)
    );
    let fake = h.media("notes.mp4", b"seesfree text that is not a video at all");
    let mp3 = h.media("noise.mp3", &[0xff; 64]);
    let r = h.call("upload_media", json!({"paths": [fake, mp3]})).await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(
        text_of(&r).matches("content is not").count(),
        2,
        "{}",
        text_of(&r)
    );
    for unc in [
        "\\\\server\\share\\a.png",
        "\\\\?\\C:\\a.png",
        "//server/share/a.png",
    ] {
        let r = h.call("upload_media", json!({"paths": [unc]})).await;
        assert!(text_of(&r).contains("UNC"), "{unc}: {}", text_of(&r));
    }
    assert!(h
        .sim
        .log()
        .iter()
        .all(|r| !r.path.starts_with("/api/upload-video")));
    row(
        "files under `.SSH/`, `.Aws/`, `Library/Keychains/`, `.config/gcloud/`; a text file with \"free\" at bytes 4–8 named `.mp4`; 64 bytes of `0xff` named `.mp3`; UNC and `\\\\?\\` paths",
        "each refused with its reason (credentials folder, content, UNC); nothing sent",
        "credential_folders_are_refused_in_any_case_and_fake_media_too",
    );
}

// ---- A planted journal -------------------------------------------------------------------

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

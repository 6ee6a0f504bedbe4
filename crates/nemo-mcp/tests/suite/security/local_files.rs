//! A hostile file system, through the MCP server: files and folders swapped for links or
//! FIFOs between the check and the open, paths outside the allowed folders probed for
//! existence, credential folders and fake media. Each attack has one test; each test prints
//! its row of the table in docs/security.md (`--nocapture`).

use crate::common;

/// Held by each test that sets `validate`'s before-open hook (a process-wide setting).
static HOOKED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

use common::*;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

fn row(attack: &str, observed: &str, test: &str) {
    super::hostile::row_in("local_files", attack, observed, test);
}

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

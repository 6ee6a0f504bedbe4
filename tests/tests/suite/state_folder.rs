//! A state folder that is not the user's own, or that this version cannot open (issue 41):
//! the built binary still answers `initialize` and `tools/list`, every tool answers
//! `state_unavailable` with the reason and the fix, nothing reaches NemoVideo (no token is
//! asked for, so none can be given away), and `doctor` says the same. Folders of another user
//! need a second uid: those tests run as root (CI passes `--include-ignored`).

use e2e::{call, server_command, server_home};
use nemo_sim::{Sim, SimConfig};
use serde_json::json;
use std::path::Path;
use std::process::Stdio;

/// Start the binary on `home` and check it is degraded for `reason`: tools listed, every call
/// refused with the reason, nothing sent.
async fn assert_degraded(home: &Path, reason: &str) {
    let sim = Sim::start(SimConfig::fast()).await.unwrap();
    let cmd = server_command(home, sim.base_url(), sim.web_url());
    let server = e2e::serve(cmd, Stdio::null()).await;
    let tools = server.list_all_tools().await.expect("tools/list answers");
    assert!(tools.iter().any(|t| t.name == "make_video"), "{tools:?}");
    for (tool, args) in [
        ("get_credits", json!({})),
        (
            "make_video",
            json!({"instruction": "a 10-second promo", "urls": ["https://example.com/a.png"]}),
        ),
    ] {
        let (body, err) = call(&server, tool, args).await;
        assert!(err, "{tool}: {body}");
        assert_eq!(body["code"], "state_unavailable", "{tool}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{tool}: {body}");
        assert!(
            body["next_step"]
                .as_str()
                .unwrap_or_default()
                .contains("NEMO_STATE_DIR"),
            "{body}"
        );
    }
    assert!(
        sim.log().is_empty(),
        "nothing reached NemoVideo: {:?}",
        sim.log()
    );
    server.cancel().await.ok();
    // doctor says the same, and fails.
    let out = std::process::Command::new(e2e::binary())
        .arg("doctor")
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("NEMO_STATE_DIR")
        .env("NEMO_API_URL", sim.base_url())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success() && said.contains(reason), "{said}");
}

fn state_dir(home: &Path) -> std::path::PathBuf {
    let dir = home.join(".config/nemo-mcp");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_folder_others_can_write_starts_degraded() {
    use std::os::unix::fs::PermissionsExt;
    let home = server_home();
    let dir = state_dir(home.path());
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
    assert_degraded(home.path(), "can be written by other users").await;
    assert!(!dir.join("state.db").exists(), "nothing made in it");
}

/// A database a newer nemo-mcp wrote with a schema this one cannot read (a newer oldest
/// reader): this version starts degraded instead of exiting before `initialize`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_a_newer_schema_starts_degraded() {
    let home = server_home();
    let dir = state_dir(home.path());
    let db = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    db.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
        .unwrap();
    drop(db);
    assert_degraded(home.path(), "newer nemo-mcp").await;
}

/// A database a newer version extended only additively (a higher `schema_level`, a column
/// this one does not know) opens as usual: one `npx` run of a newer version does not lock
/// older bundles out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_a_newer_version_only_added_to_opens() {
    let home = server_home();
    let dir = state_dir(home.path());
    // Made by this version first, then extended as a newer one would.
    let sim = Sim::start(SimConfig::fast()).await.unwrap();
    let first = e2e::serve(
        server_command(home.path(), sim.base_url(), sim.web_url()),
        Stdio::null(),
    )
    .await;
    let (c, err) = call(&first, "get_credits", json!({})).await;
    assert!(!err, "{c}");
    first.cancel().await.ok();
    let db = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    db.execute_batch(
        "ALTER TABLE jobs ADD COLUMN from_the_future TEXT;
         UPDATE kv SET value = '7' WHERE key = 'schema_level';",
    )
    .unwrap();
    drop(db);
    let again = e2e::serve(
        server_command(home.path(), sim.base_url(), sim.web_url()),
        Stdio::null(),
    )
    .await;
    let (c, err) = call(&again, "get_credits", json!({})).await;
    assert!(!err, "{c}");
    again.cancel().await.ok();
    let db = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    let level: String = db
        .query_row("SELECT value FROM kv WHERE key = 'schema_level'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(level, "7", "the level never goes down");
}

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(root, "this test needs root, to give files to another user");
    root
}

/// `nobody`: another user on every Linux machine.
const OTHER_UID: u32 = 65534;

/// A group member made `state.db` first, world-readable and theirs: the user's token would be
/// written where they can read it. Refused before anything is written or asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root, to give the database to another user (CI runs it)"]
async fn a_database_another_user_made_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    assert!(root());
    let home = server_home();
    let dir = state_dir(home.path());
    let db = dir.join("state.db");
    std::fs::write(&db, b"").unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o666)).unwrap();
    std::os::unix::fs::chown(&db, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    assert_degraded(home.path(), "belongs to another user").await;
    assert_eq!(
        std::fs::metadata(&db).unwrap().len(),
        0,
        "nothing written to it"
    );
}

/// The whole state folder is another user's (a shared folder set in NEMO_STATE_DIR's place).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root, to give the folder to another user (CI runs it)"]
async fn a_state_folder_another_user_owns_is_refused() {
    assert!(root());
    let home = server_home();
    let dir = state_dir(home.path());
    std::os::unix::fs::chown(&dir, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    assert_degraded(home.path(), "belongs to another user").await;
}

/// The database is damaged while another host is still running on it: a host starting now
/// does not rename it under the live one (that splits the state in two); it starts degraded
/// and says why. Once the last host has quit, the next start keeps it aside and begins anew.
/// (The live host is this test holding a process lock, as every running nemo-mcp does: a real
/// one with the database open would read its pages from its WAL and not see the damage.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_in_use_by_another_host_is_not_set_aside() {
    let home = server_home();
    let dir = state_dir(home.path());
    let sim = Sim::start(SimConfig::fast()).await.unwrap();
    let start = || {
        e2e::serve(
            server_command(home.path(), sim.base_url(), sim.web_url()),
            Stdio::null(),
        )
    };
    let a = start().await;
    let (c, err) = call(&a, "get_credits", json!({})).await;
    assert!(!err, "{c}");
    a.cancel().await.ok();
    // Another host, alive: its lock held.
    let lock = dir
        .join("processes")
        .join(format!("{:032x}", 7u128) + ".lock");
    let live = std::fs::File::create(&lock).unwrap();
    live.lock().unwrap();
    std::fs::write(dir.join("state.db"), vec![0x5au8; 16384]).unwrap();
    let b = start().await;
    let (body, err) = call(&b, "get_credits", json!({})).await;
    assert!(err && body["code"] == "state_unavailable", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("still have it open"),
        "{body}"
    );
    let aside = |dir: &Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("damaged"))
            .count()
    };
    assert_eq!(aside(&dir), 0, "not renamed while in use");
    b.cancel().await.ok();
    drop(live);
    let c = start().await;
    // (A new database has no token: a free call, as a second anonymous token so soon may be
    // rate-limited by the backend.)
    let (body, err) = call(&c, "list_jobs", json!({})).await;
    assert!(!err, "{body}");
    assert_eq!(aside(&dir), 1, "kept aside once no one uses it");
    c.cancel().await.ok();
}

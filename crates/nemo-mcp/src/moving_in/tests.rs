//! Moving in, tested on state folders as earlier versions left them.

use super::*;
use std::sync::Arc;

/// A state folder as the last file-based version left it: every old file, with the
/// journal in both of its formats (v1, and today's written by `serde`).
fn old_folder() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    std::fs::create_dir_all(state.join("jobs")).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    let out = out.canonicalize().unwrap();
    let now = chrono::Utc::now().to_rfc3339();
    for f in std::fs::read_dir(data.join("state-files"))
        .unwrap()
        .flatten()
    {
        if f.path().is_dir() {
            continue;
        }
        let text = std::fs::read_to_string(f.path()).unwrap();
        let text = text
            .replace("{API}", "http://127.0.0.1:1")
            .replace("{NOW}", &now);
        std::fs::write(state.join(f.file_name()), text).unwrap();
    }
    std::fs::create_dir_all(state.join("projects")).unwrap();
    for f in std::fs::read_dir(data.join("state-files/projects"))
        .unwrap()
        .flatten()
    {
        std::fs::copy(f.path(), state.join("projects").join(f.file_name())).unwrap();
    }
    for f in std::fs::read_dir(data.join("journal-v1"))
        .unwrap()
        .flatten()
    {
        let text = std::fs::read_to_string(f.path()).unwrap();
        let text = text.replace("{OUT}", out.to_str().unwrap());
        let file = state.join("jobs").join(f.file_name());
        std::fs::write(&file, text).unwrap();
        crate::testing::written_long_ago(&file);
    }
    let today = crate::jobs::Job::upload(vec!["a.png".into()]);
    std::fs::write(
        state.join("jobs").join(format!("{}.json", today.id)),
        serde_json::to_vec_pretty(&today).unwrap(),
    )
    .unwrap();
    (dir, state, out)
}

#[test]
fn every_old_file_moves_in_once_and_is_kept_aside() {
    let (_guard, state, out) = old_folder();
    let db = Arc::new(StateDb::open(&state).unwrap());
    old_files(&db);
    let notices = db.take_notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    let n = &notices[0];
    assert!(
        n.contains("8 job(s), 2 project(s), 2 media record(s) and 2 charge(s)")
            && n.contains("1 line(s) of spend.jsonl"),
        "{n}"
    );
    // Nothing deleted: the old files are all in the one folder they were moved to.
    for name in OLD {
        assert!(!state.join(name).exists(), "{name} moved");
    }
    let aside: Vec<_> = std::fs::read_dir(&state)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("moved-in-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read_dir(aside[0].path().join("jobs"))
            .unwrap()
            .count(),
        8
    );
    // What each holds is in the database.
    let jobs = crate::jobs::journal::Journal::new(db.clone(), &out).all();
    assert_eq!(jobs.len(), 8);
    let library = crate::project::library::Library::open(db.clone());
    assert_eq!(
        library.newest().unwrap().session.session_id.to_string(),
        "1700000000456"
    );
    let media = crate::project::media::MediaLedger::new(db.clone())
        .media(nemo_client::SessionId::new(1700000000123));
    assert_eq!(media.len(), 2, "{media:?}");
    let spend = crate::account::spend::Ledger::open(db.clone());
    assert_eq!(
        spend.spent_in_project("1700000000123"),
        50,
        "a charge counts once"
    );
    let creds: nemo_client::auth::Credentials =
        serde_json::from_str(&db.get_value(CREDENTIALS).unwrap().unwrap()).unwrap();
    assert_eq!(creds.client_id, "2b1f2d3c-0000-4000-8000-000000000001");
    assert!(db
        .get_value(LAST_PROJECT)
        .unwrap()
        .unwrap()
        .contains("1700000000456"));
    // A second process finds nothing more to move, and says nothing.
    let again = StateDb::open(&state).unwrap();
    old_files(&again);
    assert!(again.take_notices().is_empty());
}

/// Moving in on a full disk: the import's commit fails, and every old file is still in
/// its place (it used to be moved aside inside the transaction, before the commit, so the
/// token went with it). Once there is room again, the next start takes everything in.
#[test]
#[ignore = "needs root, to mount a small tmpfs as the full disk (CI runs it)"]
fn a_full_disk_while_moving_in_loses_nothing() {
    let (_guard, state, out) = old_folder();
    let disk = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(disk.path())
        .status()
        .is_ok_and(|s| s.success());
    assert!(mounted, "mount a tmpfs (run as root)");
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(disk.path().to_path_buf());
    let dir = disk.path().join("state");
    std::fs::create_dir(&dir).unwrap();
    // The database made first (as an earlier start of this version did), then the old files.
    let db = Arc::new(StateDb::open(&dir).unwrap());
    let copy = |from: &Path, to: &Path| {
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(from)
            .arg(to)
            .status()
            .unwrap();
        assert!(status.success());
    };
    for name in OLD {
        copy(&state.join(name), &dir.join(name));
    }
    // Every byte left taken.
    let filler = dir.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![7u8; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    old_files(&db);
    for name in OLD {
        assert!(dir.join(name).exists(), "{name} is still in its place");
    }
    // Room again: the next start takes everything in, the token among it.
    std::fs::remove_file(&filler).unwrap();
    drop(db);
    let db = Arc::new(StateDb::open(&dir).unwrap());
    old_files(&db);
    for name in OLD {
        assert!(!dir.join(name).exists(), "{name} moved aside");
    }
    let creds: nemo_client::auth::Credentials =
        serde_json::from_str(&db.get_value(CREDENTIALS).unwrap().unwrap()).unwrap();
    assert_eq!(creds.client_id, "2b1f2d3c-0000-4000-8000-000000000001");
    assert_eq!(
        crate::jobs::journal::Journal::new(db.clone(), &out)
            .all()
            .len(),
        8
    );
}

/// Moving in twice over the same files (a start that took them in but could not move them
/// aside) adds nothing the second time.
#[test]
fn moving_in_again_adds_nothing() {
    let (_guard, state, out) = old_folder();
    let db = Arc::new(StateDb::open(&state).unwrap());
    let first = import(&db).unwrap().unwrap();
    assert!(first.contains("8 job(s)"), "{first}");
    // The files back in their places, as if the move had failed.
    let aside = std::fs::read_dir(&state)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("moved-in-"))
        .unwrap()
        .path();
    for name in OLD {
        std::fs::rename(aside.join(name), state.join(name)).unwrap();
    }
    let second = import(&db).unwrap().unwrap();
    assert!(
        second.contains("0 job(s), 0 project(s), 0 media record(s) and 0 charge(s)"),
        "{second}"
    );
    assert_eq!(
        crate::jobs::journal::Journal::new(db.clone(), &out)
            .all()
            .len(),
        8
    );
    assert_eq!(
        crate::account::spend::Ledger::open(db.clone()).spent_in_project("1700000000123"),
        50
    );
}

/// An older, file-based nemo-mcp still running (an old bundle open while `npx` runs this
/// version) wrote its running jobs a moment ago: they are taken in as ended, left to it,
/// and no process here resumes them (both would download into one `.part`). A running job
/// whose file has been quiet for long is taken over as before.
#[test]
fn running_jobs_an_older_live_version_is_writing_are_left_to_it() {
    let (_guard, state, out) = old_folder();
    // One running generation written just now; the rest long ago.
    let live = state.join("jobs/gen_1b2c3d4e5f60.json");
    let text = std::fs::read(&live).unwrap();
    std::fs::write(&live, text).unwrap();
    let db = Arc::new(StateDb::open(&state).unwrap());
    old_files(&db);
    let journal = crate::jobs::journal::Journal::new(db.clone(), &out);
    let left = journal.get("gen_1b2c3d4e5f60").unwrap();
    assert_eq!(left.status(), crate::jobs::JobStatus::Failed);
    assert!(
        left.error().unwrap().message.contains("older nemo-mcp"),
        "{left:?}"
    );
    // Nobody takes it over; the quiet running ones are.
    let claimed: Vec<String> = journal.claim_orphans().into_iter().map(|j| j.id).collect();
    assert!(
        !claimed.contains(&"gen_1b2c3d4e5f60".to_string()),
        "{claimed:?}"
    );
    assert!(!claimed.is_empty(), "the quiet running jobs are taken over");
}

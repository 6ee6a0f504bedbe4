//! Moving in: the files earlier servers kept in the state folder (`jobs/*.json` in every
//! journal format, `library.json`, `spend.jsonl`, `session.json`, `credentials.json`, the media
//! records `projects/*.json`) are read
//! into the database in one transaction, then moved aside into `moved-in-TIMESTAMP/`, never
//! deleted. The transaction holds the write lock while it looks, so two processes starting at
//! once import once. What cannot be read is moved aside with the rest and named in the notice.

use crate::state::{StateDb, CREDENTIALS, LAST_PROJECT};
use rusqlite::Transaction;
use std::path::{Path, PathBuf};

/// The runner recorded for imported jobs: no process holds its lock, so a running imported job
/// is taken over (resumed) by the first process that looks.
pub const IMPORTED: &str = "00000000000000000000000000000000";

const OLD: [&str; 6] = [
    "jobs",
    "projects",
    "library.json",
    "spend.jsonl",
    "session.json",
    "credentials.json",
];

#[derive(Default)]
struct Counts {
    jobs: usize,
    media: usize,
    projects: usize,
    charges: usize,
    skipped: Vec<String>,
}

/// Import what is there (told once through the database's notices).
pub fn old_files(db: &StateDb) {
    match import(db) {
        Ok(Some(moved)) => db.tell_once(moved),
        Ok(None) => {}
        Err(e) => tracing::error!("could not move the old state files in: {e}"),
    }
}

fn import(db: &StateDb) -> crate::state::Result<Option<String>> {
    let dir = db.dir().to_path_buf();
    if !OLD.iter().any(|name| dir.join(name).exists()) {
        return Ok(None);
    }
    // First the database, committed; only then are the files moved aside. A failure between
    // (a full disk, a crash) leaves the files where they were, and the next start imports
    // them again: every import below adds only what the database lacks, so it is idempotent.
    let imported = db.write("could not take in the old state files", |tx| {
        // Looked at again under the write lock: another process may have just done it.
        let mut counts = Counts::default();
        let present: Vec<&str> = OLD
            .iter()
            .copied()
            .filter(|name| dir.join(name).exists())
            // An old file another user owns or may write is not taken in (a planted
            // `credentials.json` would have the user work in someone else's account).
            .filter(|name| {
                let folder = matches!(*name, "jobs" | "projects");
                match crate::state::trust::owned_and_private(&dir.join(name), folder) {
                    Ok(()) => true,
                    Err(why) => {
                        counts.skipped.push(format!("{name} ({why})"));
                        false
                    }
                }
            })
            .collect();
        let has = |name: &str| present.contains(&name);
        if has("jobs") {
            import_jobs(tx, &dir.join("jobs"), &mut counts)?;
        }
        if has("library.json") {
            import_library(tx, &dir.join("library.json"), &mut counts)?;
        }
        if has("projects") {
            import_media(tx, &dir.join("projects"), &mut counts)?;
        }
        if has("spend.jsonl") {
            import_spend(tx, &dir.join("spend.jsonl"), &mut counts)?;
        }
        if has("session.json") {
            import_value(
                tx,
                &dir.join("session.json"),
                LAST_PROJECT,
                &mut counts,
                |b| serde_json::from_slice::<nemo_client::Session>(b).map(|_| ()),
            )?;
        }
        if has("credentials.json") {
            import_value(
                tx,
                &dir.join("credentials.json"),
                CREDENTIALS,
                &mut counts,
                |b| serde_json::from_slice::<nemo_client::auth::Credentials>(b).map(|_| ()),
            )?;
        }
        Ok((present, counts))
    })?;
    let (present, counts) = imported;
    if present.is_empty() && counts.skipped.is_empty() {
        return Ok(None);
    }
    let aside = match move_aside(&dir, &present) {
        Ok(Some(aside)) => aside,
        // Another process moved them (it imported the same rows): nothing to tell twice.
        Ok(None) if counts.added() == 0 => return Ok(None),
        Ok(None) => dir.clone(),
        Err(e) => {
            // In the database already; the files stay, and the next start tries again.
            tracing::warn!("the old state files were taken in but could not be moved aside: {e}");
            return Ok(None);
        }
    };
    let mut notice = format!(
        "This server now keeps its state in one database shared by every nemo-mcp you run ({}): {} job(s), {} project(s), {} media record(s) and {} charge(s) were moved in; the old files ({}) are kept in {}.",
        dir.join(crate::state::DB_FILE).display(),
        counts.jobs,
        counts.projects,
        counts.media,
        counts.charges,
        present.join(", "),
        aside.display()
    );
    if !counts.skipped.is_empty() {
        notice.push_str(&format!(
            " Not readable, so not moved in (kept there too): {}.",
            counts.skipped.join("; ")
        ));
    }
    tracing::info!("{notice}");
    Ok(Some(notice))
}

impl Counts {
    fn added(&self) -> usize {
        self.jobs + self.media + self.projects + self.charges
    }
}

fn import_jobs(tx: &Transaction<'_>, dir: &Path, counts: &mut Counts) -> rusqlite::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };

    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let parsed = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| crate::jobs::journal::parse_entry(&b));
        let mut job = match parsed {
            Ok(job) if path.file_stem().and_then(|s| s.to_str()) == Some(job.id.as_str()) => job,
            Ok(_) => {
                counts
                    .skipped
                    .push(format!("jobs/{name} (its name is not its job id)"));
                continue;
            }
            Err(why) => {
                counts.skipped.push(format!("jobs/{name} ({why})"));
                continue;
            }
        };
        if !crate::jobs::journal::valid_job_id(&job.id) {
            counts
                .skipped
                .push(format!("jobs/{name} (not a job id this server makes)"));
            continue;
        }
        if !job.status().is_finished() && recently_written(&path) {
            // An older, file-based nemo-mcp may still be running it (an old bundle open while
            // `npx` runs this version): resuming it here too would download into one `.part`
            // twice, or read a turn twice. Taken in as ended; its own process finishes it.
            job.work.end(crate::jobs::Ended::Failed(
                crate::errors::ToolError::new(
                    crate::errors::Code::Interrupted,
                    "an older nemo-mcp was still running this job when this version moved its state in, so it was left to that one",
                )
                .next("call get_timeline to see where the project stands; export_video saves the video (free)"),
            ));
            job.message = "left to the older nemo-mcp that was running it".into();
        }
        let Ok(body) = serde_json::to_string(&job) else {
            continue;
        };
        counts.jobs += crate::jobs::journal::write_row(tx, &job, IMPORTED, &body, false)?;
    }
    Ok(())
}

/// An old job file written to within [`QUIET`]: its process may still be running it (a
/// generation's stream can be quiet for minutes, an export's polling writes progress).
const QUIET: std::time::Duration = std::time::Duration::from_secs(20 * 60);

fn recently_written(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_none_or(|age| age < QUIET)
}

fn import_library(tx: &Transaction<'_>, file: &Path, counts: &mut Counts) -> rusqlite::Result<()> {
    let Ok(bytes) = std::fs::read(file) else {
        return Ok(());
    };
    #[derive(serde::Deserialize)]
    struct LibraryFile {
        projects: Vec<crate::project::library::Entry>,
    }
    match serde_json::from_slice::<LibraryFile>(&bytes) {
        Ok(lib) => {
            for e in lib.projects {
                counts.projects += crate::project::library::insert_entry(tx, &e, false)?;
            }
        }
        Err(e) => counts.skipped.push(format!("library.json ({e})")),
    }
    Ok(())
}

fn import_media(tx: &Transaction<'_>, dir: &Path, counts: &mut Counts) -> rusqlite::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let parsed = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| {
                serde_json::from_slice::<crate::project::media::ProjectFile>(&b)
                    .map_err(|e| e.to_string())
            });
        match parsed {
            Ok(p) => {
                for item in &p.media {
                    counts.media += crate::project::media::insert_record(tx, &p.session_id, item)?;
                }
            }
            Err(why) => counts
                .skipped
                .push(format!("projects/{} ({why})", name.unwrap_or_default())),
        }
    }
    Ok(())
}

fn import_spend(tx: &Transaction<'_>, file: &Path, counts: &mut Counts) -> rusqlite::Result<()> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Ok(());
    };
    let mut bad = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<crate::account::spend::Charge>(line) {
            Ok(c) => counts.charges += crate::account::spend::insert_charge(tx, &c)?,
            Err(_) => bad += 1,
        }
    }
    if bad > 0 {
        counts.skipped.push(format!("{bad} line(s) of spend.jsonl"));
    }
    Ok(())
}

fn import_value(
    tx: &Transaction<'_>,
    file: &Path,
    key: &str,
    counts: &mut Counts,
    check: impl Fn(&[u8]) -> serde_json::Result<()>,
) -> rusqlite::Result<()> {
    let Ok(bytes) = std::fs::read(file) else {
        return Ok(());
    };
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    match check(&bytes).map(|_| String::from_utf8(bytes)) {
        Ok(Ok(text)) => {
            // A value already in the database is newer than the old file.
            if crate::state::get_value(tx, key)?.is_none() {
                crate::state::set_value(tx, key, &text)?;
            }
        }
        Ok(Err(_)) => counts
            .skipped
            .push(format!("{} (not text)", name.unwrap_or_default())),
        Err(e) => counts
            .skipped
            .push(format!("{} ({e})", name.unwrap_or_default())),
    }
    Ok(())
}

/// Move `names` into a new `moved-in-TIMESTAMP` folder beside them; `None` when none was
/// left to move (another process moved them first).
fn move_aside(dir: &Path, names: &[&str]) -> std::io::Result<Option<PathBuf>> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let aside = dir.join(format!("moved-in-{stamp}-{}", std::process::id()));
    std::fs::create_dir_all(&aside)?;
    let mut moved = 0;
    for name in names {
        match std::fs::rename(dir.join(name), aside.join(name)) {
            Ok(()) => moved += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    if moved == 0 {
        let _ = std::fs::remove_dir(&aside);
        return Ok(None);
    }
    Ok(Some(aside))
}

#[cfg(test)]
mod tests {
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
}

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
    db.write("could not take in the old state files", |tx| {
        // Looked at again under the write lock: another process may have just done it.
        let present: Vec<&str> = OLD
            .iter()
            .copied()
            .filter(|name| dir.join(name).exists())
            .collect();
        if present.is_empty() {
            return Ok(None);
        }
        let mut counts = Counts::default();
        import_jobs(tx, &dir.join("jobs"), &mut counts)?;
        import_library(tx, &dir.join("library.json"), &mut counts)?;
        import_media(tx, &dir.join("projects"), &mut counts)?;
        import_spend(tx, &dir.join("spend.jsonl"), &mut counts)?;
        import_value(tx, &dir.join("session.json"), LAST_PROJECT, &mut counts, |b| {
            serde_json::from_slice::<nemo_client::Session>(b).map(|_| ())
        })?;
        import_value(tx, &dir.join("credentials.json"), CREDENTIALS, &mut counts, |b| {
            serde_json::from_slice::<nemo_client::auth::Credentials>(b).map(|_| ())
        })?;
        let aside = move_aside(&dir, &present).map_err(|e| {
            rusqlite::Error::ToSqlConversionFailure(format!("moving the old files aside: {e}").into())
        })?;
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
    })
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
        let job = match parsed {
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
        let Ok(body) = serde_json::to_string(&job) else {
            continue;
        };
        counts.jobs += crate::jobs::journal::write_row(tx, &job, IMPORTED, &body, false)?;
    }
    Ok(())
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

/// Move `names` into a new `moved-in-TIMESTAMP` folder beside them.
fn move_aside(dir: &Path, names: &[&str]) -> std::io::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let aside = dir.join(format!("moved-in-{stamp}"));
    std::fs::create_dir_all(&aside)?;
    for name in names {
        std::fs::rename(dir.join(name), aside.join(name))?;
    }
    Ok(aside)
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
            std::fs::write(state.join("jobs").join(f.file_name()), text).unwrap();
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
}

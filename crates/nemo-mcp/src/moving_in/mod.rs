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
mod tests;

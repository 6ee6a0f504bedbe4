//! The project library: every project this installation created or opened, so that yesterday's
//! promo can be found and reopened in today's chat (`list_projects`, `connect {project_id}`,
//! the `nemo://projects` resource). The `projects` table of the shared state database; what a project
//! cost comes from the spend ledger, whether its exports are still on disk is looked up when
//! listed.

use crate::state::StateDb;
use chrono::{DateTime, Utc};
use nemo_client::{Session, SessionId};
use rusqlite::{params, Transaction};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// At most this many projects are kept (the least recently used go first).
const MAX_PROJECTS: usize = 200;

/// One saved MP4 of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SavedExport {
    pub path: String,
    pub size_bytes: u64,
    pub saved_at: DateTime<Utc>,
    /// Whether the file is still there, with its size (looked up when listed).
    #[serde(default)]
    pub on_disk: bool,
}

/// What the library knows of one project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub session: Session,
    /// The first instruction that changed it, shortened.
    #[serde(default)]
    pub title: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// The last timeline summary seen.
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub media_count: usize,
    #[serde(default)]
    pub duration_s: Option<f64>,
    #[serde(default)]
    pub exports: Vec<SavedExport>,
    /// The last browser link given for it (claim links expire; `connect` makes a fresh one).
    #[serde(default)]
    pub project_link: Option<String>,
    /// The NemoVideo account it was made under (`account::identity`; absent: not known). A
    /// host signed in to another account neither lists nor opens it: to that account it is
    /// not there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl Entry {
    /// Whether a process working in `account` may list and open it (either not known: yes).
    pub fn belongs_to(&self, account: Option<&str>) -> bool {
        match (self.account.as_deref(), account) {
            (Some(theirs), Some(ours)) => theirs == ours,
            _ => true,
        }
    }
}

/// A project as `list_projects` shows it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProjectView {
    pub project_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub created_at: String,
    pub last_used_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub media_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    pub credits_spent: i64,
    pub exports: Vec<SavedExport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_link: Option<String>,
    pub current: bool,
}

/// The exports of a project shown in a list (its newest).
const SHOWN_EXPORTS: usize = 5;

/// The library, as rows of the shared state database: each change of a project is one
/// transaction on its row, so two hosts making projects at once both keep theirs.
pub struct Library {
    db: Arc<StateDb>,
}

fn title_of(instruction: &str) -> String {
    let t: String = instruction.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() <= 60 {
        t
    } else {
        format!("{}…", t.chars().take(59).collect::<String>())
    }
}

/// Write a project's entry; with `keep_newer`, an existing entry used later is left as it is.
/// How many rows changed.
pub(crate) fn insert_entry(
    tx: &Transaction<'_>,
    e: &Entry,
    replace: bool,
) -> rusqlite::Result<usize> {
    let body = serde_json::to_string(e)
        .map_err(|err| rusqlite::Error::ToSqlConversionFailure(Box::new(err)))?;
    let sql = if replace {
        "INSERT INTO projects (session_id, last_used_at, body) VALUES (?1, ?2, ?3)
         ON CONFLICT(session_id) DO UPDATE SET last_used_at = excluded.last_used_at, body = excluded.body"
    } else {
        "INSERT OR IGNORE INTO projects (session_id, last_used_at, body) VALUES (?1, ?2, ?3)"
    };
    tx.execute(
        sql,
        params![
            e.session.session_id.to_string(),
            e.last_used_at.to_rfc3339(),
            body
        ],
    )
}

fn entry_in(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<Option<Entry>> {
    use rusqlite::OptionalExtension;
    let body: Option<String> = tx
        .query_row(
            "SELECT body FROM projects WHERE session_id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
}

impl Library {
    pub fn open(db: Arc<StateDb>) -> Library {
        Library { db }
    }

    /// Change (or, given its session, add) a project's entry: one transaction.
    fn update(&self, id: SessionId, session: Option<&Session>, f: impl FnOnce(&mut Entry)) {
        let key = id.to_string();
        let r = self.db.write("could not save the project library", |tx| {
            let now = Utc::now();
            let mut e = match (entry_in(tx, &key)?, session) {
                (Some(e), _) => e,
                (None, None) => return Ok(()),
                (None, Some(session)) => Entry {
                    session: session.clone(),
                    title: None,
                    created_at: now,
                    last_used_at: now,
                    summary: None,
                    media_count: 0,
                    duration_s: None,
                    exports: Vec::new(),
                    project_link: None,
                    account: None,
                },
            };
            e.last_used_at = now;
            f(&mut e);
            insert_entry(tx, &e, true)?;
            tx.execute(
                "DELETE FROM projects WHERE session_id NOT IN
                   (SELECT session_id FROM projects ORDER BY last_used_at DESC LIMIT ?1)",
                [MAX_PROJECTS as i64],
            )?;
            Ok(())
        });
        if let Err(e) = r {
            tracing::error!("{e}");
        }
    }

    /// Note that `session`'s project is in use (added if new). Saved at most once a minute
    /// for a known project: every tool call passes here.
    /// The first to note it names the `account` it works in (asked only then, and before
    /// the write: asking reads the database).
    pub fn touch(&self, session: &Session, account: impl FnOnce() -> Option<String>) {
        let known = self.get(session.session_id);
        let fresh = known
            .as_ref()
            .is_some_and(|e| Utc::now() - e.last_used_at < chrono::Duration::seconds(60));
        if fresh {
            return;
        }
        let account = match &known {
            Some(e) if e.account.is_some() => None,
            _ => account(),
        };
        self.update(session.session_id, Some(session), |e| {
            if e.account.is_none() {
                e.account = account;
            }
        });
    }

    /// The most recently used project (what a new process starts on when the pointer to the
    /// last project cannot be read).
    pub fn newest(&self) -> Option<Entry> {
        self.entries(1).into_iter().next()
    }

    /// The most recently used project of `account` (either unknown: of any).
    pub fn newest_of(&self, account: Option<&str>) -> Option<Entry> {
        self.entries(MAX_PROJECTS)
            .into_iter()
            .find(|e| e.belongs_to(account))
    }

    /// Entries, most recently used first.
    fn entries(&self, limit: usize) -> Vec<Entry> {
        let bodies = self.db.read("could not read the project library", |tx| {
            let mut s =
                tx.prepare_cached("SELECT body FROM projects ORDER BY last_used_at DESC LIMIT ?1")?;
            let rows = s.query_map([limit as i64], |r| r.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
        });
        match bodies {
            Ok(b) => b
                .iter()
                .filter_map(|b| serde_json::from_str::<Entry>(b).ok())
                .collect(),
            Err(e) => {
                tracing::error!("{e}");
                Vec::new()
            }
        }
    }

    /// After a turn: what the project now is.
    pub fn after_turn(&self, id: SessionId, instruction: &str, state: &nemo_client::SessionState) {
        self.update(id, None, |e| {
            if e.title.is_none() && !state.timeline.tracks.is_empty() {
                e.title = Some(title_of(instruction));
            }
            e.summary = Some(state.timeline.summary());
            e.media_count = state.assets.len() + state.generated_media;
            e.duration_s = state.timeline.duration_ms.map(|ms| ms as f64 / 1000.0);
        });
    }

    /// A saved MP4.
    pub fn exported(&self, id: SessionId, path: &Path, size_bytes: u64) {
        let path_text = path.display().to_string();
        self.update(id, None, |e| {
            // Once per file: an export resumed or taken over after a restart reaches its end
            // again with the same file.
            e.exports.retain(|x| x.path != path_text);
            e.exports.push(SavedExport {
                path: path_text.clone(),
                size_bytes,
                saved_at: Utc::now(),
                on_disk: true,
            });
            if e.title.is_none() {
                e.title = path.file_stem().map(|s| s.to_string_lossy().into_owned());
            }
        });
    }

    /// The browser link last given for a project.
    pub fn linked(&self, id: SessionId, link: &str) {
        self.update(id, None, |e| e.project_link = Some(link.to_string()));
    }

    /// The project with this id, if the library has it.
    pub fn get(&self, id: SessionId) -> Option<Entry> {
        self.db
            .read("could not read the project library", |tx| {
                entry_in(tx, &id.to_string())
            })
            .unwrap_or_else(|e| {
                tracing::error!("{e}");
                None
            })
    }

    /// The projects, most recently used first, at most `limit`, as shown.
    pub fn list(
        &self,
        limit: usize,
        current: Option<SessionId>,
        account: Option<&str>,
        spent: impl Fn(&str) -> i64,
    ) -> Vec<ProjectView> {
        self.entries(limit)
            .into_iter()
            .filter(|e| e.belongs_to(account))
            .map(|e| {
                let id = e.session.session_id.to_string();
                // The newest few: a list must fit the strictest host (the library keeps all).
                let skip = e.exports.len().saturating_sub(SHOWN_EXPORTS);
                let exports = e
                    .exports
                    .into_iter()
                    .skip(skip)
                    .map(|mut x| {
                        x.on_disk = std::fs::metadata(&x.path)
                            .is_ok_and(|m| m.is_file() && m.len() == x.size_bytes);
                        x
                    })
                    .collect();
                ProjectView {
                    credits_spent: spent(&id),
                    current: current == Some(e.session.session_id),
                    project_id: id,
                    title: e.title,
                    created_at: e.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    last_used_at: e.last_used_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    summary: e.summary,
                    media_count: e.media_count,
                    duration_s: e.duration_s,
                    exports,
                    project_link: e.project_link,
                }
            })
            .collect()
    }
}

impl ProjectView {
    /// `Spring promo — project 5529…, last used 2026-12-01 18:02 UTC; 30 s, 6 media; 50 credits; 1 export (on disk)`.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} — project {}{}, last used {}",
            self.title.as_deref().unwrap_or("(untitled)"),
            self.project_id,
            if self.current { " (current)" } else { "" },
            self.last_used_at
        );
        if let Some(d) = self.duration_s {
            s.push_str(&format!("; {d:.0} s"));
        }
        s.push_str(&format!(
            ", {} media; {} credits",
            self.media_count, self.credits_spent
        ));
        for x in &self.exports {
            s.push_str(&format!(
                "; {} ({})",
                x.path,
                if x.on_disk {
                    "on disk"
                } else {
                    "no longer on disk"
                }
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An export that reaches its end twice (resumed after a restart, or taken over by another
    /// host once its file was saved) is listed once.
    #[test]
    fn an_export_saved_twice_is_listed_once() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(Arc::new(StateDb::open(dir.path()).unwrap()));
        let session: Session = serde_json::from_value(serde_json::json!({
            "session_id": "1700000000123", "task_id": null, "language": "en", "api_url": "http://127.0.0.1:1"
        }))
        .unwrap();
        library.touch(&session, || None);
        let file = dir.path().join("promo.mp4");
        library.exported(session.session_id, &file, 10);
        library.exported(session.session_id, &file, 10);
        library.exported(session.session_id, &dir.path().join("promo-2.mp4"), 10);
        let entry = library.get(session.session_id).unwrap();
        assert_eq!(entry.exports.len(), 2, "{:?}", entry.exports);
    }

    /// A project is listed and opened only by its own account's processes (either account
    /// unknown: by all); its account is the first one noted, never replaced.
    #[test]
    fn a_project_belongs_to_the_account_that_made_it() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(Arc::new(StateDb::open(dir.path()).unwrap()));
        let session = |id: &str| -> Session {
            serde_json::from_value(serde_json::json!({
                "session_id": id, "task_id": null, "language": "en", "api_url": "http://127.0.0.1:1"
            }))
            .unwrap()
        };
        library.touch(&session("1700000000001"), || Some("client-a".into()));
        library.touch(&session("1700000000002"), || Some("token-b".into()));
        library.touch(&session("1700000000003"), || None);
        let ids = |account: Option<&str>| -> Vec<String> {
            library
                .list(10, None, account, |_| 0)
                .into_iter()
                .map(|p| p.project_id)
                .collect()
        };
        assert_eq!(ids(Some("client-a")), ["1700000000003", "1700000000001"]);
        assert_eq!(ids(Some("token-b")), ["1700000000003", "1700000000002"]);
        assert_eq!(ids(None).len(), 3);
        let first = library.get(session("1700000000001").session_id).unwrap();
        assert!(first.belongs_to(Some("client-a")) && !first.belongs_to(Some("token-b")));
    }
}

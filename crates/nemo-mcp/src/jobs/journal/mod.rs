//! Jobs on disk: one row per job in the shared state database ([`crate::state`]), each
//! written by the process that runs it, in one transaction. A restart, or another server process
//! on the same folder, finds every job: a running job whose runner is gone is taken over (once),
//! one whose runner is alive is only shown. Each row is checked again when read, since a
//! database in a folder can be edited or planted like a file.

pub(crate) use super::entry::parse_entry;
pub use super::entry::{check_entry, valid_job_id};
use super::{Job, JobKind};
use crate::state::StateDb;
use rusqlite::params;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone)]
pub struct Journal {
    pub(super) db: Arc<StateDb>,
    /// Where exports go: an entry naming a file elsewhere is not trusted.
    output_dir: PathBuf,
    /// Running rows of gone processes this server cannot run, already said in the log.
    pub(super) left: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    /// Which NemoVideo account this process works in, asked when a job starts or is taken
    /// over ([`Journal::account`]); set once by the app.
    account: Arc<std::sync::OnceLock<AccountSource>>,
}

/// Says which account this process works in, when it knows.
pub type AccountSource = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// Finished jobs kept, in memory and on disk, for `list_jobs` (older ones are pruned).
pub const KEEP_FINISHED: usize = 200;

/// Write a job's row, run by `runner`: with `update`, over the row of the same runner only
/// (another process's job is never overwritten); else only if there is none. How many rows.
pub(crate) fn write_row(
    tx: &rusqlite::Transaction<'_>,
    job: &Job,
    runner: &str,
    body: &str,
    update: bool,
) -> rusqlite::Result<usize> {
    let conflict = if update {
        "DO UPDATE SET running = excluded.running, body = excluded.body,
            session_id = excluded.session_id WHERE jobs.runner = excluded.runner"
    } else {
        "DO NOTHING"
    };
    // The columns beside the body serve the queries that must not parse bodies.
    let session = job
        .generation_data()
        .and_then(|g| g.session_id)
        .map(|s| s.to_string());
    tx.execute(
        &format!(
            "INSERT INTO jobs (id, runner, running, mcp_owner, created_at, body, kind, request_id, session_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(id) {conflict}"
        ),
        params![
            job.id,
            runner,
            !job.status().is_finished(),
            job.owner,
            job.created_at.to_rfc3339(),
            body,
            job.kind().prefix(),
            job.request_id,
            session,
        ],
    )
}

impl Journal {
    pub fn new(db: Arc<StateDb>, output_dir: impl Into<PathBuf>) -> Journal {
        Journal {
            db,
            output_dir: output_dir.into(),
            left: Default::default(),
            account: Default::default(),
        }
    }

    /// How this process tells its account (once; later calls change nothing).
    pub fn set_account_source(&self, source: AccountSource) {
        let _ = self.account.set(source);
    }

    /// The NemoVideo account this process works in: recorded with each job it starts, and a
    /// job recorded under another one is never taken over (it would be followed, and perhaps
    /// sent again, with the wrong token). `None`: not known (no token yet).
    pub fn account(&self) -> Option<String> {
        self.account.get().and_then(|f| f())
    }

    /// The shared database.
    pub fn db(&self) -> &Arc<StateDb> {
        &self.db
    }

    /// Write the job, as its runner; `false` when it could not be committed (or another
    /// process runs it), so a caller about to send a paid message sends nothing.
    pub fn save(&self, job: &Job) -> bool {
        self.save_with(job, false)
    }

    /// [`Journal::save`], on the disk when it returns (a paid request's "sending" mark).
    pub fn save_durable(&self, job: &Job) -> bool {
        self.save_with(job, true)
    }

    fn save_with(&self, job: &Job, durable: bool) -> bool {
        if !valid_job_id(&job.id) {
            tracing::error!("not journaling a job with a malformed id");
            return false;
        }
        let body = match serde_json::to_string(job) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(job = %job.id, "could not journal the job: {e}");
                return false;
            }
        };
        let me = self.db.me().as_str().to_string();
        let write = |tx: &rusqlite::Transaction<'_>| write_row(tx, job, &me, &body, true);
        let result = if durable {
            self.db.write_durable("could not journal a job", write)
        } else {
            self.db.write("could not journal a job", write)
        };
        match result {
            Ok(1) => true,
            Ok(_) => {
                tracing::error!(job = %job.id, "not journaled: another process runs this job");
                false
            }
            Err(e) => {
                // The job goes on; only its survival across a restart is at risk.
                tracing::error!(job = %job.id, "could not journal the job: {e}");
                false
            }
        }
    }

    /// Forget a job (pruned).
    pub fn remove(&self, id: &str) {
        let r = self.db.write("could not prune a job", |tx| {
            tx.execute("DELETE FROM jobs WHERE id = ?1", [id])
        });
        if let Err(e) = r {
            tracing::warn!("{e}");
        }
    }

    /// A body read back, or why it cannot be trusted ([`check_entry`]).
    pub(super) fn readable(&self, body: &str) -> Result<Job, String> {
        let job = parse_entry(body.as_bytes())?;
        check_entry(&job, &job.id, &self.output_dir)?;
        Ok(job)
    }

    /// A row this process can take over: readable, and made under its own account `mine` (or
    /// under none recorded). `mine` is read before any transaction: asking for it reads the
    /// database.
    pub(super) fn runnable(&self, body: &str, mine: Option<&str>) -> Result<Job, String> {
        let job = self.readable(body)?;
        match job.account.as_deref() {
            Some(theirs) if Some(theirs) != mine => Err(
                "it was made under another NemoVideo account (another NEMO_TOKEN, or none): a server signed in to that account finishes it".into(),
            ),
            _ => Ok(job),
        }
    }

    /// A body read back, if it can be trusted ([`check_entry`]).
    fn checked(&self, body: &str) -> Option<Job> {
        let job = match parse_entry(body.as_bytes()) {
            Ok(j) => j,
            Err(why) => {
                tracing::warn!("skipping a journal entry: {why}");
                return None;
            }
        };
        match check_entry(&job, &job.id, &self.output_dir) {
            Ok(()) => Some(job),
            Err(why) => {
                tracing::warn!(job = %job.id, "skipping a journal entry: {why}");
                None
            }
        }
    }

    fn query(&self, sql: &str, args: impl rusqlite::Params) -> Vec<Job> {
        let bodies = self.db.read("could not read the jobs", |tx| {
            let mut s = tx.prepare_cached(sql)?;
            let rows = s.query_map(args, |r| r.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
        });
        match bodies {
            Ok(b) => b.iter().filter_map(|b| self.checked(b)).collect(),
            Err(e) => {
                tracing::error!("{e}");
                Vec::new()
            }
        }
    }

    /// One job as last journaled (by whichever process runs it).
    pub fn get(&self, id: &str) -> Option<Job> {
        self.query("SELECT body FROM jobs WHERE id = ?1", [id])
            .into_iter()
            .next()
    }

    /// Every job an MCP owner may see (its own: `None` for the processes' own over stdio), from
    /// every process, newest first.
    pub fn list(&self, mcp_owner: Option<&str>) -> Vec<Job> {
        self.query(
            "SELECT body FROM jobs WHERE mcp_owner IS ?1 ORDER BY created_at DESC",
            [mcp_owner],
        )
    }

    /// The newest `limit` jobs an MCP owner may see, from every process.
    pub fn recent(&self, mcp_owner: Option<&str>, limit: usize) -> Vec<Job> {
        self.query(
            "SELECT body FROM jobs WHERE mcp_owner IS ?1 ORDER BY created_at DESC LIMIT ?2",
            params![mcp_owner, limit as i64],
        )
    }

    /// The jobs of this kind started with this key, by any process, newest first (one per
    /// project it was used in).
    pub fn by_request(&self, kind: JobKind, request_id: &str, mcp_owner: Option<&str>) -> Vec<Job> {
        self.query(
            "SELECT body FROM jobs WHERE kind = ?1 AND request_id = ?2 AND mcp_owner IS ?3 ORDER BY created_at DESC",
            params![kind.prefix(), request_id, mcp_owner],
        )
    }

    /// A generation running in the project `session`, run by any process.
    pub fn running_generation(&self, session: &str) -> Option<Job> {
        self.query(
            "SELECT body FROM jobs WHERE kind = 'gen' AND running = 1 AND session_id = ?1",
            [session],
        )
        .into_iter()
        .find(|j| !j.status().is_finished())
    }

    /// Ask the runner of `id` (another process) to cancel it.
    pub fn ask_cancel(&self, id: &str) -> bool {
        self.db
            .write("could not ask for a cancel", |tx| {
                tx.execute(
                    "UPDATE jobs SET cancel_asked = 1 WHERE id = ?1 AND running = 1",
                    [id],
                )
            })
            .is_ok_and(|n| n == 1)
    }

    /// This process's running jobs another process asked to cancel.
    pub fn cancels_asked(&self) -> Vec<String> {
        let me = self.db.me().as_str().to_string();
        self.db
            .write("could not read the cancels asked", |tx| {
                let mut s = tx.prepare_cached(
                    "UPDATE jobs SET cancel_asked = 0 WHERE runner = ?1 AND cancel_asked = 1 RETURNING id",
                )?;
                let rows = s.query_map([me], |r| r.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<Vec<String>>>()
            })
            .unwrap_or_default()
    }

    /// Keep the newest [`KEEP_FINISHED`] finished jobs of the whole folder.
    pub fn prune(&self) {
        let r = self.db.write("could not prune the jobs", |tx| {
            tx.execute(
                "DELETE FROM jobs WHERE running = 0 AND id NOT IN
                   (SELECT id FROM jobs WHERE running = 0 ORDER BY created_at DESC LIMIT ?1)",
                [KEEP_FINISHED as i64],
            )
        });
        if let Err(e) = r {
            tracing::warn!("{e}");
        }
    }

    /// Every trusted job of the folder, oldest first (for `doctor`, tests and benchmarks).
    pub fn all(&self) -> Vec<Job> {
        let mut v = self.query("SELECT body FROM jobs", []);
        v.sort_by_key(|j| j.created_at);
        v
    }

    /// How many jobs the folder holds (running and finished).
    pub fn count(&self) -> usize {
        self.db
            .read("could not count the jobs", |tx| {
                tx.query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get::<_, i64>(0))
            })
            .map_or(0, |n| n as usize)
    }

    /// This process stops running jobs (its tasks have stopped): others may take them.
    pub fn retire(&self) {
        self.db.retire();
    }
}

#[cfg(test)]
mod tests;

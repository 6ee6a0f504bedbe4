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
mod tests {
    use super::*;
    use crate::jobs::{Ended, Work};

    #[test]
    fn planted_entries_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().canonicalize().unwrap();
        std::fs::create_dir_all(dir.path().join("jobs")).unwrap();
        let export = |render: &str, path: PathBuf| {
            let mut j = Job::export();
            if let Work::Export(e) = &mut j.work {
                e.render_id = Some(serde_json::from_value(render.into()).unwrap());
                e.output_path = Some(path);
            }
            j
        };
        let good = export("render_1700000000000", out_dir.join("promo.mp4"));
        let plant = |name: &str, job: &Job| {
            std::fs::write(
                dir.path().join("jobs").join(format!("{name}.json")),
                serde_json::to_vec(job).unwrap(),
            )
            .unwrap()
        };
        let outside = export("render_1", PathBuf::from("/etc/cron.d/evil.mp4"));
        plant(&outside.id.clone(), &outside);
        let nested = export("render_2", out_dir.join("sub").join("x.mp4"));
        plant(&nested.id.clone(), &nested);
        let mut traversal = Job::export();
        traversal.id = "../../evil".into();
        plant("exp_000000000000", &traversal);
        let bad_render = export("../../x", out_dir.join("y.mp4"));
        plant(&bad_render.id.clone(), &bad_render);
        plant(&good.id.clone(), &good);
        // Another host's export, made with its own output folder: trusted, and saved there.
        let other_out = tempfile::tempdir().unwrap();
        let other_dir = other_out.path().canonicalize().unwrap();
        let mut other = export("render_1700000000001", other_dir.join("theirs.mp4"));
        if let Work::Export(e) = &mut other.work {
            e.output_dir = Some(other_dir.clone());
        }
        plant(&other.id.clone(), &other);
        // A folder recorded as a relative path is not.
        let mut relative = export("render_3", PathBuf::from("out/x.mp4"));
        if let Work::Export(e) = &mut relative.work {
            e.output_dir = Some(PathBuf::from("out"));
        }
        plant(&relative.id.clone(), &relative);
        // Moved in from the old files (a planted database row is checked the same way).
        let db = Arc::new(StateDb::open(dir.path()).unwrap());
        crate::moving_in::old_files(&db);
        let j = Journal::new(db, out_dir.clone());
        let mut loaded: Vec<String> = j.all().into_iter().map(|j| j.id).collect();
        loaded.sort();
        let mut trusted = vec![good.id.clone(), other.id.clone()];
        trusted.sort();
        assert_eq!(loaded, trusted);
        // Pruning keeps the newest finished jobs.
        for _ in 0..(KEEP_FINISHED + 5) {
            let mut f = Job::upload(Vec::new());
            f.work.end(Ended::Cancelled);
            j.save(&f);
        }
        j.prune();
        let loaded = j.all();
        assert_eq!(
            loaded.iter().filter(|j| j.status().is_finished()).count(),
            KEEP_FINISHED
        );
    }

    /// Entries written by the first format (no `version`, one bag of fields, untyped results)
    /// load as today's typed jobs, and are written back in today's format.
    /// The first format's fixtures in a journal folder, loaded: (journal folder, output
    /// folder, the folders' guards, the jobs).
    fn load_v1_fixtures() -> (PathBuf, PathBuf, [tempfile::TempDir; 2], Vec<Job>) {
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/journal-v1");
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().canonicalize().unwrap();
        let jobs_dir = dir.path().join("jobs");
        std::fs::create_dir_all(&jobs_dir).unwrap();
        for entry in std::fs::read_dir(&fixtures).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.replace("{OUT}", out_dir.to_str().unwrap());
            let file = jobs_dir.join(path.file_name().unwrap());
            std::fs::write(&file, text).unwrap();
            crate::testing::written_long_ago(&file);
        }
        let db = Arc::new(StateDb::open(dir.path()).unwrap());
        crate::moving_in::old_files(&db);
        let notices = db.take_notices();
        assert!(
            notices.len() == 1 && notices[0].contains("7 job(s)"),
            "{notices:?}"
        );
        assert!(!jobs_dir.exists(), "the old files are moved aside");
        let loaded = Journal::new(db, &out_dir).all();
        assert_eq!(loaded.len(), 7, "every entry of the first format loads");
        (dir.path().to_path_buf(), out_dir, [dir, out], loaded)
    }

    #[test]
    fn the_first_journal_format_loads() {
        use crate::jobs::results::GenerateOutput;
        use crate::jobs::JobStatus;
        let (_, out_dir, _guards, loaded) = load_v1_fixtures();
        let by_id = |id: &str| loaded.iter().find(|j| j.id == id).unwrap();

        let edited = by_id("gen_0a1b2c3d4e5f");
        assert_eq!(edited.status(), JobStatus::Succeeded);
        assert_eq!(edited.credits_spent(), Some(50));
        assert_eq!(edited.request_id.as_deref(), Some("promo-1"));
        let g = edited.generation_data().unwrap();
        assert_eq!(
            g.session_id.map(|s| s.to_string()).as_deref(),
            Some("1700000000123")
        );
        assert!(matches!(g.outcome.result(), Some(GenerateOutput::Edited(r)) if r.exportable));

        let running = by_id("gen_1b2c3d4e5f60");
        assert_eq!(running.status(), JobStatus::Running);
        let before = running
            .generation_data()
            .unwrap()
            .state_before
            .as_ref()
            .unwrap();
        assert_eq!(
            before.canvas,
            Some((1920, 1080)),
            "the snapshot is read back"
        );
        assert_eq!(running.generation_data().unwrap().credits_before, Some(50));

        let routed = by_id("gen_2c3d4e5f6071");
        assert!(matches!(
            routed.generation_data().unwrap().outcome.result(),
            Some(GenerateOutput::NotSent(r)) if r.tool == "export_video"
        ));
        assert_eq!(routed.credits_spent(), Some(0));

        let rendering = by_id("exp_3d4e5f607182");
        let e = rendering.export_data().unwrap();
        assert_eq!(
            e.render_id.as_ref().unwrap().as_str(),
            "render_1763726400000"
        );
        assert_eq!(
            e.output_path.as_deref(),
            Some(out_dir.join("promo.mp4").as_path())
        );
        assert_eq!(rendering.owner.as_deref(), Some("mcp-session-7"));

        let saved = by_id("exp_4e5f60718293");
        assert_eq!(
            saved.saved_path(),
            Some(out_dir.join("launch.mp4").to_str().unwrap())
        );

        let failed = by_id("upl_5f6071829304");
        assert_eq!(failed.status(), JobStatus::Failed);
        assert_eq!(
            failed.error().unwrap().code,
            crate::errors::Code::Interrupted
        );

        let video = by_id("vid_5f60718293a4");
        let plan = video.video_plan().unwrap();
        assert_eq!(plan.export_job.as_deref(), Some("exp_3d4e5f607182"));
        assert_eq!(plan.steps().count(), 3);
    }

    /// Written back in today's format, and read back the same.
    #[test]
    fn upgraded_entries_are_written_in_todays_format() {
        let (state_dir, out_dir, _guards, loaded) = load_v1_fixtures();
        let db = Arc::new(StateDb::open(&state_dir).unwrap());
        let j = Journal::new(db.clone(), &out_dir);
        // This process takes them over (their importer is no process), then writes them.
        let claimed = j.claim_orphans();
        assert_eq!(
            claimed.len(),
            loaded.iter().filter(|j| !j.status().is_finished()).count()
        );
        for job in &claimed {
            assert!(j.save(job));
        }
        let again = j.all();
        assert_eq!(again, loaded);
        let raw: serde_json::Value = serde_json::from_str(
            &db.read("", |tx| {
                tx.query_row(
                    "SELECT body FROM jobs WHERE id = 'exp_3d4e5f607182'",
                    [],
                    |r| r.get::<_, String>(0),
                )
            })
            .unwrap(),
        )
        .unwrap();
        assert_eq!(raw["version"], crate::jobs::job::JOURNAL_VERSION);
        assert_eq!(raw["work"]["kind"], "export");
        assert_eq!(raw["work"]["outcome"]["status"], "running");
        // A format from a newer server is skipped, not misread.
        db.write("", |tx| {
            tx.execute(
                "INSERT INTO jobs (id, kind, runner, running, created_at, body) VALUES ('gen_ffffffffffff', 'gen', 'x', 0, '2026', '{\"version\": 99}')",
                [],
            )
        })
        .unwrap();
        assert_eq!(j.all().len(), 7);
    }
}

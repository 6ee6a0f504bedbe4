//! The shared state: one SQLite database (`state.db` in the state folder) for every server
//! process of the user. Claude Desktop, Cursor and each Claude Code terminal start their own
//! `nemo-mcp` on the one folder, so nothing on disk belongs to one process: every
//! read-modify-write is one transaction, and a job is run only by the process holding it.
//!
//! This room owns the connection (WAL, a busy timeout), the schema, a damaged database kept
//! aside ([`salvage`]), the process locks that say which runners are alive ([`owners`]) and
//! the shared token ([`credentials`]). Moving the old files in is `crate::moving_in`, which
//! knows their formats. The tables' meanings stay with their rooms: jobs in
//! `jobs`, the library, the spend ledger and the current-project pointer in theirs.

pub mod credentials;
pub mod owners;
mod salvage;
mod schema;
pub mod trust;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

pub use owners::ProcessId;

/// How long a write waits for another process's transaction before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The database's file name in the state folder.
pub const DB_FILE: &str = "state.db";

/// The named values of the `kv` table.
pub const CREDENTIALS: &str = "credentials";
pub const LAST_PROJECT: &str = "last_project";

/// A failure of the state database, said in words (the caller decides what it costs).
#[derive(Debug, thiserror::Error)]
#[error("the state database {what}: {source}")]
pub struct StateError {
    what: &'static str,
    #[source]
    source: rusqlite::Error,
}

impl StateError {
    pub(crate) fn new(what: &'static str, source: rusqlite::Error) -> StateError {
        StateError { what, source }
    }
}

pub type Result<T> = std::result::Result<T, StateError>;

/// The database of one state folder, as this process uses it.
pub struct StateDb {
    conn: Mutex<Connection>,
    dir: PathBuf,
    /// This process, as a runner of jobs: its id and the lock that says it is alive.
    me: owners::Me,
    /// What moving in or a damaged database means, told once.
    notices: Mutex<Vec<String>>,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // WAL with NORMAL is durable against a crash of the process (the case here); a power cut
    // may lose the last commits, never corrupt.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Why a database could not be opened.
enum OpenError {
    /// Its content cannot be read (not a database, corrupt): keep it aside, start anew.
    Damaged(String),
    /// Anything else (busy beyond the timeout, no permission, a newer server's schema): the
    /// database may be fine and in use, so it is left alone and the start fails.
    Refused(String),
}

fn classify(e: rusqlite::Error) -> OpenError {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, DatabaseCorrupt | NotADatabase) =>
        {
            OpenError::Damaged(e.to_string())
        }
        _ => OpenError::Refused(e.to_string()),
    }
}

fn open_checked(path: &Path) -> std::result::Result<Connection, OpenError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(classify)?;
    configure(&conn).map_err(classify)?;
    // Reading the schema reads the file's header and first pages: what is not a database, or a
    // cut one, fails here. (A full `quick_check` reads every page, at every start of every
    // host: damage deeper in is reported by the query that meets it.)
    schema::migrate(&conn)?;
    Ok(conn)
}

impl StateDb {
    /// The database of `dir` (made if needed), with this process registered as a runner. A database that cannot be read is kept aside, a fresh one made
    /// from what could still be read from it, and that is told once.
    pub fn open(dir: &Path) -> std::result::Result<StateDb, String> {
        if !dir.exists() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot make the state folder {}: {e}", dir.display()))?;
            // A folder we make is the user's only; one that exists keeps its permissions (it
            // may be shared on purpose).
            private_folder(dir);
        }
        // The user's own, or not used at all (what else is told as a warning).
        for warning in trust::check_folder(dir)?.warnings {
            tracing::warn!("{warning}");
        }
        let path = dir.join(DB_FILE);
        make_private(&path);
        let mut notices = Vec::new();
        let conn = match open_checked(&path) {
            Ok(c) => c,
            Err(OpenError::Refused(why)) => {
                return Err(format!(
                    "cannot open the state database {}: {why}",
                    path.display()
                ))
            }
            Err(OpenError::Damaged(why)) => {
                // Renaming a database other live processes hold open would split the state in
                // two (they write on into the renamed file; SQLite's "renamed while in use"
                // corruption): only the last one out may set it aside.
                if owners::others_alive(dir, None) {
                    return Err(format!(
                        "the state database {} cannot be read ({why}), and other nemo-mcp processes still have it open, so it is not set aside while they use it: quit every host that runs nemo-mcp, then start again (it is then kept aside and a new one made from what can be read)",
                        path.display()
                    ));
                }
                let kept = salvage::keep_aside(&path, &why)?;
                make_private(&path);
                let conn = open_checked(&path).map_err(|e| match e {
                    OpenError::Damaged(e) | OpenError::Refused(e) => {
                        format!("cannot make the state database: {e}")
                    }
                })?;
                let rows = salvage::copy_readable(&kept, &conn);
                notices.push(format!(
                    "The state database ({}) could not be read ({why}); it was kept as {}, and a new one was started with what could still be read from it ({rows} record(s)).",
                    path.display(),
                    kept.display()
                ));
                conn
            }
        };
        private_file(&path);
        let me = owners::Me::register(dir)
            .map_err(|e| format!("cannot register this process in {}: {e}", dir.display()))?;
        Ok(StateDb {
            conn: Mutex::new(conn),
            dir: dir.to_path_buf(),
            me,
            notices: Mutex::new(notices),
        })
    }

    /// The state folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This process's id as a runner of jobs.
    pub fn me(&self) -> &ProcessId {
        self.me.id()
    }

    /// Whether the process `id` still runs (it holds its lock); this process always does.
    pub fn alive(&self, id: &ProcessId) -> bool {
        id == self.me() && self.me.holding() || owners::alive(&self.dir, id)
    }

    /// Stop being a runner: other processes may take this one's running jobs from now on.
    /// Called once its job tasks have stopped.
    pub fn retire(&self) {
        self.me.release();
    }

    /// Something the user is to be told once (what moving in did).
    pub fn tell_once(&self, notice: String) {
        crate::support::sync::lock(&self.notices).push(notice);
    }

    /// What moving in or a damaged database means, if anything (each told once).
    pub fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut *crate::support::sync::lock(&self.notices))
    }

    /// Read: one consistent view (a deferred transaction).
    pub fn read<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        self.tx(what, TransactionBehavior::Deferred, f)
    }

    /// A read-modify-write: an immediate transaction (the write lock taken first, so two
    /// processes never both read the old value), committed before this returns.
    pub fn write<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        self.tx(what, TransactionBehavior::Immediate, f)
    }

    /// A write that is on the disk when this returns, not only committed: the WAL is synced
    /// at its commit (`synchronous=FULL` for this one transaction). The marks a paid request
    /// waits on (its "sending" mark) are written so: a power cut after the request left cannot
    /// lose them. Other writes keep `NORMAL` (durable against a crash of the process, the usual
    /// case, at a fraction of the cost: `docs/benchmarks.md`).
    pub fn write_durable<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut conn = crate::support::sync::lock(&self.conn);
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| StateError::new(what, e))?;
        let r = Self::tx_on(&mut conn, what, TransactionBehavior::Immediate, f);
        if let Err(e) = conn.pragma_update(None, "synchronous", "NORMAL") {
            tracing::warn!("the state database stays fully synced: {e}");
        }
        r
    }

    fn tx<T>(
        &self,
        what: &'static str,
        behavior: TransactionBehavior,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut conn = crate::support::sync::lock(&self.conn);
        Self::tx_on(&mut conn, what, behavior, f)
    }

    fn tx_on<T>(
        conn: &mut Connection,
        what: &'static str,
        behavior: TransactionBehavior,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let tx = conn
            .transaction_with_behavior(behavior)
            .map_err(|e| StateError::new(what, e))?;
        let v = f(&tx).map_err(|e| StateError::new(what, e))?;
        tx.commit().map_err(|e| StateError::new(what, e))?;
        Ok(v)
    }

    /// A small named value (the credentials, the last project, the meter): its JSON text.
    pub fn get_value(&self, key: &str) -> Result<Option<String>> {
        self.read("could not be read", |tx| get_value(tx, key))
    }

    pub fn set_value(&self, key: &str, value: &str) -> Result<()> {
        self.write("could not be written", |tx| set_value(tx, key, value))
    }
}

/// A named value inside a transaction.
pub fn get_value(tx: &Transaction<'_>, key: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    tx.query_row("SELECT value FROM kv WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

pub fn set_value(tx: &Transaction<'_>, key: &str, value: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO kv(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

/// Only the user may read the state folder (it holds the token).
fn private_folder(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// A new database file is made the user's only before SQLite opens it (its WAL files take
/// its mode).
fn make_private(path: &Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let _ = options.open(path);
}

/// The database and its WAL files: the user's only.
fn private_file(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let _ =
                std::fs::set_permissions(PathBuf::from(p), std::fs::Permissions::from_mode(0o600));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_handles_on_one_folder_see_each_others_writes() {
        let dir = tempfile::tempdir().unwrap();
        let a = StateDb::open(dir.path()).unwrap();
        let b = StateDb::open(dir.path()).unwrap();
        assert_ne!(a.me(), b.me());
        a.set_value("k", "1").unwrap();
        assert_eq!(b.get_value("k").unwrap().as_deref(), Some("1"));
        // Each sees the other alive while it holds its lock, and gone once it retires.
        assert!(a.alive(b.me()) && b.alive(a.me()));
        b.retire();
        assert!(!a.alive(b.me()));
        let mode: String = a
            .read("", |tx| {
                tx.query_row("PRAGMA journal_mode", [], |r| r.get(0))
            })
            .unwrap();
        assert_eq!(mode, "wal");
    }

    /// The "sending" mark's transaction commits with the WAL synced (`synchronous=FULL`, 2);
    /// every other write keeps `NORMAL` (1). A power cut cannot be made here: what is held is
    /// that the commit asks the disk for it.
    #[test]
    fn a_durable_write_commits_fully_synced_and_the_others_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = StateDb::open(dir.path()).unwrap();
        let sync = |tx: &Transaction<'_>| tx.query_row("PRAGMA synchronous", [], |r| r.get(0));
        let during: i64 = db.write_durable("", sync).unwrap();
        let after: i64 = db.write("", sync).unwrap();
        assert_eq!((during, after), (2, 1));
    }

    #[test]
    fn a_read_modify_write_from_many_threads_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    // One handle per thread: as separate processes would be.
                    let db = StateDb::open(&path).unwrap();
                    for _ in 0..50 {
                        db.write("", |tx| {
                            let n: i64 = get_value(tx, "n")?
                                .and_then(|v| v.parse().ok())
                                .unwrap_or(0);
                            set_value(tx, "n", &(n + 1).to_string())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let db = StateDb::open(&path).unwrap();
        assert_eq!(db.get_value("n").unwrap().as_deref(), Some("200"));
    }
}

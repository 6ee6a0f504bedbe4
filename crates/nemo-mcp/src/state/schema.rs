//! The tables, and their version (`PRAGMA user_version`): a database from a newer server is
//! refused rather than misread.

use rusqlite::Connection;

/// Today's schema.
pub const VERSION: i64 = 1;

const V1: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id          TEXT PRIMARY KEY,
    -- gen, exp, upl or vid.
    kind        TEXT NOT NULL,
    -- The caller's idempotency key, if any.
    request_id  TEXT,
    -- A generation's project: one generation runs per project, whichever process sends it.
    session_id  TEXT,
    -- The process that runs it (state::owners); another takes it only when that one is gone.
    runner      TEXT NOT NULL,
    -- 1 while the job runs.
    running     INTEGER NOT NULL,
    -- The MCP session (over --http) whose job it is; NULL for the process's own.
    mcp_owner   TEXT,
    created_at  TEXT NOT NULL,
    -- Set by another process asking the runner to cancel the job.
    cancel_asked INTEGER NOT NULL DEFAULT 0,
    -- The job as journaled (today's JSON format).
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_running ON jobs(running, runner);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at);
CREATE INDEX IF NOT EXISTS jobs_request ON jobs(request_id);

CREATE TABLE IF NOT EXISTS projects (
    session_id   TEXT PRIMARY KEY,
    last_used_at TEXT NOT NULL,
    body         TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS charges (
    job_id  TEXT PRIMARY KEY,
    at      TEXT NOT NULL,
    -- The local calendar day of `at` (what the daily budget counts).
    day     TEXT NOT NULL,
    project TEXT NOT NULL,
    session TEXT NOT NULL,
    credits INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS charges_day ON charges(day);

-- Credits agreed to and not yet charged: counted by the budgets of every process.
CREATE TABLE IF NOT EXISTS reservations (
    id      TEXT PRIMARY KEY,
    process TEXT NOT NULL,
    -- The job that spends them, once started; counted while it runs.
    job_id  TEXT,
    day     TEXT NOT NULL,
    session TEXT NOT NULL,
    credits INTEGER NOT NULL
);

-- What this server uploaded into each project (to restore a project the backend lost).
CREATE TABLE IF NOT EXISTS media (
    session_id TEXT NOT NULL,
    -- The source as JSON (a path or a URL) and the SHA-256 of the bytes ('' for a URL).
    source     TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    body       TEXT NOT NULL,
    UNIQUE (session_id, source, sha256)
);

CREATE TABLE IF NOT EXISTS kv (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Bring the database to today's schema. A newer server's database is refused, never changed:
/// it may be in use by that server right now.
pub(super) fn migrate(conn: &Connection) -> Result<(), super::OpenError> {
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(super::classify)?;
    if v > VERSION {
        return Err(super::OpenError::Refused(format!(
            "it was written by a newer nemo-mcp (schema {v}; this one knows {VERSION}): update nemo-mcp, or give this one its own NEMO_STATE_DIR"
        )));
    }
    // Every table read once: a header that lies about the pages behind it fails here.
    let tables: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(super::classify)?;
    if v == VERSION && tables > 0 {
        return Ok(());
    }
    conn.execute_batch(V1).map_err(super::classify)?;
    conn.pragma_update(None, "user_version", VERSION)
        .map_err(super::classify)
}

/// The tables, for salvage: each copied row by row.
pub const TABLES: [&str; 6] = ["jobs", "projects", "charges", "reservations", "media", "kv"];

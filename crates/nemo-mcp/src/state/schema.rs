//! The tables, and their versions. Two numbers, so that one `npx` run of a newer version does
//! not lock every older bundle out of the folder:
//! - `PRAGMA user_version` is the **oldest reader**: the schema a server must know to read
//!   and write the database at all. It changes only when a change would be misread by older
//!   servers (a table's meaning changed, a column they write dropped); a newer one is refused.
//! - the `schema_level` value in `kv` counts **additive** changes (a column with a default, a
//!   table older servers never touch). An older server opens such a database and ignores what
//!   it does not know; a newer one adds what is missing. The level never goes down.

use rusqlite::Connection;

/// The oldest reader: the `user_version` this server writes and reads.
pub const VERSION: i64 = 1;

/// Additive changes on top of [`VERSION`], in order: (level, what it adds). Each step is
/// idempotent and leaves the database readable by a server of any earlier level.
const ADDITIVE: [(i64, &str); 2] = [
    // 2: a charge recorded at its estimate, because the turn's cost could not be read.
    (
        2,
        "ALTER TABLE charges ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0",
    ),
    // 3: with it, the account's total before that turn, to correct it by when the balance is
    // read again (`account::estimated`).
    (3, "ALTER TABLE charges ADD COLUMN total_before INTEGER"),
];

/// The additive level this server brings the database to.
pub const LEVEL: i64 = ADDITIVE[ADDITIVE.len() - 1].0;

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
    if v != VERSION || tables == 0 {
        conn.execute_batch(V1).map_err(super::classify)?;
        conn.pragma_update(None, "user_version", VERSION)
            .map_err(super::classify)?;
    }
    add_missing(conn).map_err(super::classify)
}

/// The additive steps this database lacks, in one transaction (read first: nothing is
/// written at a start that finds the level reached, as every start but the first does).
fn add_missing(conn: &Connection) -> rusqlite::Result<()> {
    let level = |c: &Connection| -> rusqlite::Result<i64> {
        use rusqlite::OptionalExtension;
        let v: Option<String> = c
            .query_row("SELECT value FROM kv WHERE key = 'schema_level'", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(v.and_then(|v| v.parse().ok()).unwrap_or(VERSION))
    };
    if level(conn)? >= LEVEL {
        return Ok(());
    }
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    let now = level(&tx)?;
    for (step, sql) in ADDITIVE {
        if step <= now {
            continue;
        }
        // Another process may have added the column without recording the level (a crash
        // between): a duplicate column is the step already done.
        match tx.execute_batch(sql) {
            Ok(()) => {}
            Err(e) if e.to_string().contains("duplicate column") => {}
            Err(e) => return Err(e),
        }
    }
    tx.execute(
        "INSERT INTO kv(key, value) VALUES ('schema_level', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value
         WHERE CAST(kv.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
        [LEVEL.to_string()],
    )?;
    tx.commit()
}

/// The tables, for salvage: each copied row by row.
pub const TABLES: [&str; 6] = ["jobs", "projects", "charges", "reservations", "media", "kv"];

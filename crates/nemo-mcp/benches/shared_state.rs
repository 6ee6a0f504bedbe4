//! The shared state database against the files it replaced, on this machine (one run):
//! `cargo bench -p nemo-mcp --bench shared_state`. Prints the rows of `docs/benchmarks.md`.
//!
//! - a journal write (what a tool call adds: a job saved at start and at its end), p50, against
//!   the old atomic JSON file per job;
//! - opening the database (part of a cold start), against reading the old folder;
//! - `list_jobs` over 1,000 jobs and `list_projects` over 500 projects;
//! - the database's size after 1,000 jobs;
//! - a paid request's "sending" mark written durably (`synchronous=FULL` for that one
//!   transaction) against the ordinary write, p50 and p99.

use nemo_mcp::testing::{Job, JobManager};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() * 99 / 100]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn session(id: u64) -> nemo_client::Session {
    serde_json::from_value(serde_json::json!({
        "session_id": id.to_string(), "task_id": "t", "language": "en",
        "api_url": "http://127.0.0.1:1", "user_id": null
    }))
    .unwrap()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();

    // A journal write: the database against one atomic JSON file per job.
    let db = Arc::new(nemo_mcp::testing::StateDb::open(&state).unwrap());
    let jobs = JobManager::new(db.clone(), out.clone());
    let mut db_writes = Vec::new();
    let mut file_writes = Vec::new();
    let old = dir.path().join("old-jobs");
    std::fs::create_dir_all(&old).unwrap();
    for _ in 0..1000 {
        let job = Job::upload(vec!["a.png".into()]);
        let t = Instant::now();
        assert!(jobs.journal().save(&job));
        db_writes.push(t.elapsed());
        let t = Instant::now();
        let bytes = serde_json::to_vec_pretty(&job).unwrap();
        nemo_client::files::write_private(&old.join(format!("{}.json", job.id)), &bytes).unwrap();
        file_writes.push(t.elapsed());
    }
    let (db_w, file_w) = (p50(db_writes), p50(file_writes));
    println!(
        "| a job journaled (p50 of 1,000) | {} | {} (one JSON file, written atomically) | {:+.3} ms |",
        ms(db_w),
        ms(file_w),
        (db_w.as_secs_f64() - file_w.as_secs_f64()) * 1000.0
    );

    // list_jobs with 1,000 jobs in the folder (every process's).
    let mut lists = Vec::new();
    let mut n = 0;
    for _ in 0..21 {
        let t = Instant::now();
        n = jobs.list().len();
        lists.push(t.elapsed());
    }
    println!(
        "| every job of the folder read ({n} jobs; what the cost estimate reads) (p50 of 21) | {} | | |",
        ms(p50(lists))
    );
    let mut lists = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        n = jobs.recent(50).len();
        lists.push(t.elapsed());
    }
    println!(
        "| `list_jobs` with 1,000 jobs in the folder (it shows the newest {n}) (p50 of 21) | {} | | |",
        ms(p50(lists))
    );

    // list_projects with 500 projects.
    let library = nemo_mcp::testing::Library::open(db.clone());
    for i in 0..500 {
        library.touch(&session(1_000_000 + i), || None);
    }
    let mut lists = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        n = library.list(500, None, None, |_| 0).len();
        lists.push(t.elapsed());
    }
    println!(
        "| `list_projects` over {n} projects (500 made; the library keeps the newest 200) (p50 of 21) | {} | | |",
        ms(p50(lists))
    );

    // Size after 1,000 jobs (and the library's projects): the database and its WAL.
    let len = |f: &str| std::fs::metadata(state.join(f)).map_or(0, |m| m.len());
    let (size, wal) = (len("state.db"), len("state.db-wal"));
    let old_size: u64 = std::fs::read_dir(&old)
        .unwrap()
        .flatten()
        .map(|e| e.metadata().unwrap().len())
        .sum();
    println!(
        "| size after 1,000 jobs and 200 projects | {:.1} KiB (+ {:.1} KiB of WAL, reused after each checkpoint) | {:.1} KiB of job files alone (1,000 files) | |",
        size as f64 / 1024.0,
        wal as f64 / 1024.0,
        old_size as f64 / 1024.0
    );
    drop(jobs);
    drop(library);
    db.retire();
    drop(db);

    // Opening the database of an existing folder (part of every cold start), against listing
    // and reading the old journal folder of as many jobs.
    let mut opens = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        let db = nemo_mcp::testing::StateDb::open(&state).unwrap();
        opens.push(t.elapsed());
        db.retire();
    }
    let mut reads = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        let mut k = 0;
        for e in std::fs::read_dir(&old).unwrap().flatten() {
            k += std::fs::read(e.path()).unwrap().len();
        }
        assert!(k > 0);
        reads.push(t.elapsed());
    }
    let (o, r) = (p50(opens), p50(reads));
    println!(
        "| opening the state at start (p50 of 21) | {} | {} (reading 1,000 job files) | {:+.3} ms |",
        ms(o),
        ms(r),
        (o.as_secs_f64() - r.as_secs_f64()) * 1000.0
    );
    // The "sending" mark: the same write, on the disk before it returns (a folder of its own,
    // so the rows above keep their counts).
    let marks_dir = dir.path().join("marks");
    let marks_db = Arc::new(nemo_mcp::testing::StateDb::open(&marks_dir).unwrap());
    let jobs = JobManager::new(marks_db, out.clone());
    let (mut durable, mut ordinary) = (Vec::new(), Vec::new());
    for _ in 0..500 {
        let job = Job::generation("combine these images", None);
        let t = Instant::now();
        assert!(jobs.journal().save_durable(&job));
        durable.push(t.elapsed());
        let job = Job::generation("combine these images", None);
        let t = Instant::now();
        assert!(jobs.journal().save(&job));
        ordinary.push(t.elapsed());
    }
    println!(
        "| a paid request's \"sending\" mark, durable (synchronous=FULL for it) (p50 / p99 of 500) | {} / {} | {} / {} (the same write, committed only) | {:+.3} ms at p50 |",
        ms(p50(durable.clone())),
        ms(p99(durable.clone())),
        ms(p50(ordinary.clone())),
        ms(p99(ordinary.clone())),
        (p50(durable).as_secs_f64() - p50(ordinary).as_secs_f64()) * 1000.0
    );
}

//! The job store: every job the server runs (a generation reading its stream, a render being
//! polled and downloaded, an upload), held in memory for waiting callers and journaled in the
//! shared database on every change that a restart needs (and its progress every second or so,
//! for the other server processes of the user to show). Callers wait a bounded time and get
//! either the result or `running` with the job id. A job another process runs is shown from
//! its journal entry and never run here, unless that process is gone. What each kind of job
//! does lives in [`crate::run`].

mod ctx;
mod entry;
pub mod job;
pub mod journal;
mod journal_v1;
mod lookup;
pub mod results;
mod takeover;
mod work;

pub use ctx::JobCtx;
pub use job::{Ended, Job, JobKind, JobResult, JobStatus, Outcome, Work};

use crate::errors::ToolError;
use chrono::{DateTime, Utc};
use journal::Journal;
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// What [`JobManager::spawn_once`] did.
#[derive(Debug)]
pub enum Spawned {
    Started(Job),
    /// A job with the same idempotency key existed; nothing was started.
    Existing(Job),
}

struct Cell {
    tx: watch::Sender<Job>,
    cancel: CancellationToken,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// When its progress was last journaled (for the other processes to show).
    saved: Mutex<Option<std::time::Instant>>,
}

impl Cell {
    fn new(job: Job) -> Arc<Cell> {
        let (tx, _) = watch::channel(job);
        Arc::new(Cell {
            tx,
            cancel: CancellationToken::new(),
            task: Mutex::new(None),
            saved: Mutex::new(None),
        })
    }
}

/// How often a running job's progress is journaled for the other processes to show.
pub(crate) const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// How often a wait on another process's job reads its journal entry again.
const FOREIGN_POLL: Duration = Duration::from_millis(250);

/// Says, when a job starts, who its requests come from: the attribution of the client the
/// scope that starts it sends through.
pub type AttributionSource = Arc<dyn Fn() -> nemo_client::Attribution + Send + Sync>;

/// The jobs of one project's clients: the process's own, or one HTTP session's. Jobs are
/// journaled in one database; each manager sees only the jobs of its owner (every process's
/// over stdio).
#[derive(Clone)]
pub struct JobManager {
    cells: Arc<Mutex<HashMap<String, Arc<Cell>>>>,
    journal: Journal,
    owner: Option<String>,
    /// Recorded with every job it starts ([`JobManager::attributed_by`]).
    attribution: Option<AttributionSource>,
    /// Jobs started and finished (for resource subscriptions and `list_changed`).
    events: tokio::sync::broadcast::Sender<JobEvent>,
    /// Cancelled at shutdown.
    stop: CancellationToken,
}

/// A job appeared or finished.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    Started { id: String, kind: JobKind },
    Finished { id: String, kind: JobKind },
}

pub(crate) use crate::support::sync::lock;

/// Record how a job ended: its result in its kind's slot, its error, or its cancellation.
fn finish<T: JobResult>(j: &mut Job, outcome: Option<Result<T, ToolError>>) {
    j.finished_at = Some(Utc::now());
    j.activity += 1;
    match outcome {
        Some(Ok(result)) => match T::outcome_mut(&mut j.work) {
            Some(slot) => {
                *slot = Outcome::Succeeded { result };
                j.progress_pct = j.progress_pct.map(|_| 100.0);
                j.message = "done".into();
            }
            // Unreachable by construction: each kind's work returns its own result.
            None => {
                let e = ToolError::new(
                    crate::errors::Code::Internal,
                    "a job finished with another kind's result",
                );
                j.message = e.message.clone();
                j.work.end(Ended::Failed(e));
            }
        },
        Some(Err(e)) => {
            j.message = e.message.clone();
            j.work.end(Ended::Failed(e));
        }
        None => {
            j.message = "cancelled".into();
            j.work.end(Ended::Cancelled);
        }
    }
    // Needed only to recover a running generation: a finished job drops it.
    if let Work::Generate(g) = &mut j.work {
        g.state_before = None;
    }
}

impl JobManager {
    pub fn new(db: Arc<crate::state::StateDb>, output_dir: PathBuf) -> JobManager {
        JobManager {
            cells: Arc::default(),
            journal: Journal::new(db, output_dir),
            owner: None,
            attribution: None,
            events: tokio::sync::broadcast::channel(64).0,
            stop: CancellationToken::new(),
        }
    }

    /// The same jobs, each one it starts recording `source`'s attribution (unless the job
    /// already carries its own: one taken over, or a set's version).
    pub fn attributed_by(&self, source: AttributionSource) -> JobManager {
        JobManager {
            attribution: Some(source),
            ..self.clone()
        }
    }

    /// Jobs started and finished from now on.
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<JobEvent> {
        self.events.subscribe()
    }

    /// Every change of a job this manager's owner may see, from now on. Another process's job
    /// is followed through its journal entry.
    pub fn watch(&self, id: &str) -> Option<watch::Receiver<Job>> {
        if let Some(c) = self.cell(id) {
            return Some(c.tx.subscribe());
        }
        let job = self.foreign(id)?;
        let (tx, rx) = watch::channel(job);
        let journal = self.journal.clone();
        let id = id.to_string();
        tokio::spawn(async move {
            while !tx.is_closed() && !tx.borrow().status().is_finished() {
                tokio::time::sleep(FOREIGN_POLL).await;
                match journal.get(&id) {
                    Some(j) if j != *tx.borrow() => {
                        let _ = tx.send(j);
                    }
                    Some(_) => {}
                    None => break,
                }
            }
        });
        Some(rx)
    }

    /// A job this manager's owner may see that another process runs (or ran), as journaled.
    fn foreign(&self, id: &str) -> Option<Job> {
        if !journal::valid_job_id(id) {
            return None;
        }
        self.journal.get(id).filter(|j| j.owner == self.owner)
    }

    /// The jobs of another owner (an HTTP session), journaled in the same folder.
    pub fn scoped(&self, owner: &str) -> JobManager {
        JobManager {
            cells: Arc::default(),
            journal: self.journal.clone(),
            owner: Some(owner.to_string()),
            attribution: self.attribution.clone(),
            events: tokio::sync::broadcast::channel(64).0,
            stop: self.stop.clone(),
        }
    }

    /// The cell of a job this manager's owner may see.
    fn cell(&self, id: &str) -> Option<Arc<Cell>> {
        let cell = lock(&self.cells).get(id).cloned()?;
        let visible = cell.tx.borrow().owner == self.owner;
        visible.then_some(cell)
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Start `work` as a job. It ends as `succeeded` with its value, `failed` with its error,
    /// or `cancelled` when [`JobManager::cancel`] is called.
    pub fn spawn<T, F, Fut>(&self, job: Job, work: F) -> Job
    where
        T: JobResult,
        F: FnOnce(JobCtx) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ToolError>> + Send + 'static,
    {
        match self.spawn_once(job, work) {
            Spawned::Started(job) | Spawned::Existing(job) => job,
        }
    }

    /// Like [`JobManager::spawn`], unless a job of the same kind already carries the new job's
    /// `request_id`: then nothing starts and that job is returned. The check and the start
    /// happen under one lock, so two calls with one key start one job.
    pub fn spawn_once<T, F, Fut>(&self, mut job: Job, work: F) -> Spawned
    where
        T: JobResult,
        F: FnOnce(JobCtx) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, ToolError>> + Send + 'static,
    {
        if job.owner.is_none() {
            job.owner = self.owner.clone();
        }
        if job.account.is_none() {
            job.account = self.journal.account();
        }
        if job.attribution.is_none() {
            job.attribution = self.attribution.as_ref().map(|source| source());
        }
        let cell = Cell::new(job.clone());
        {
            let mut cells = lock(&self.cells);
            if let Some(key) = job.request_key() {
                let same = cells.values().find(|c| key.matches(&c.tx.borrow()));
                if let Some(existing) = same {
                    return Spawned::Existing(existing.tx.borrow().clone());
                }
                // Another process (or an earlier run) may have started it.
                if let Some(existing) = self
                    .journal
                    .by_request(job.kind(), key.request_id, job.owner.as_deref())
                    .into_iter()
                    .find(|e| e.id != job.id && key.matches(e))
                {
                    return Spawned::Existing(existing);
                }
            }
            cells.insert(job.id.clone(), cell.clone());
        }
        self.journal.save(&job);
        let _ = self.events.send(JobEvent::Started {
            id: job.id.clone(),
            kind: job.kind(),
        });
        let ctx = JobCtx {
            cell: cell.clone(),
            journal: self.journal.clone(),
        };
        let journal = self.journal.clone();
        let task_cell = cell.clone();
        let manager = self.clone();
        let handle = tokio::spawn(async move {
            let cell = task_cell;
            let cancel = cell.cancel.clone();
            let outcome = tokio::select! {
                r = work(ctx) => Some(r),
                _ = cancel.cancelled() => None,
            };
            cell.tx.send_modify(|j| finish(j, outcome));
            journal.save(&cell.tx.borrow());
            let (id, kind) = {
                let j = cell.tx.borrow();
                (j.id.clone(), j.kind())
            };
            let _ = manager.events.send(JobEvent::Finished { id, kind });
            manager.prune();
        });
        *lock(&cell.task) = Some(handle);
        Spawned::Started(job)
    }

    /// Stop every job task without recording an outcome: the journal keeps them `running`, so
    /// the next start (or another server process) resumes them (what a kill does, done tidily).
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let tasks: Vec<_> = lock(&self.cells)
            .values()
            .filter_map(|c| lock(&c.task).take())
            .collect();
        for t in &tasks {
            t.abort();
        }
        // Wait until each task has really stopped (one running on another thread stops at its
        // next await), so nothing writes to the journal after this returns.
        for t in tasks {
            let _ = t.await;
        }
        self.journal.retire();
    }

    /// Cancelled when this process stops running jobs (its sweeps end with it).
    pub fn stopping(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Keep the newest [`journal::KEEP_FINISHED`] finished jobs, in memory and in the journal
    /// (of every process).
    pub fn prune(&self) {
        // The folder's bound holds for every process together: a process that finishes few
        // jobs still trims what the others (and earlier runs) left.
        self.journal.prune();
        let mut cells = lock(&self.cells);
        let mut finished: Vec<(DateTime<Utc>, String)> = cells
            .values()
            .filter_map(|c| {
                let j = c.tx.borrow();
                j.status()
                    .is_finished()
                    .then(|| (j.created_at, j.id.clone()))
            })
            .collect();
        if finished.len() <= journal::KEEP_FINISHED {
            return;
        }
        finished.sort();
        let old = finished.len() - journal::KEEP_FINISHED;
        for (_, id) in finished.into_iter().take(old) {
            cells.remove(&id);
        }
    }

    /// How many jobs are held in memory.
    pub fn held(&self) -> usize {
        lock(&self.cells).len()
    }

    /// Change a job after the fact (what became known of a cancelled generation) and journal it.
    pub fn amend(&self, id: &str, f: impl FnOnce(&mut Job)) {
        if let Some(cell) = self.cell(id) {
            cell.tx.send_modify(f);
            self.journal.save(&cell.tx.borrow());
        }
    }

    /// Stop a job; returns it as it was, or `None` if unknown. Another process's running job
    /// is stopped by that process, asked through the journal.
    pub fn cancel(&self, id: &str) -> Option<Job> {
        let Some(cell) = self.cell(id) else {
            let job = self.foreign(id)?;
            if !job.status().is_finished() {
                self.journal.ask_cancel(id);
            }
            return Some(job);
        };
        cell.cancel.cancel();
        let job = cell.tx.borrow().clone();
        Some(job)
    }

    /// Whether this process runs the job `id` now.
    pub fn runs(&self, id: &str) -> bool {
        lock(&self.cells)
            .get(id)
            .is_some_and(|c| lock(&c.task).is_some() && !c.tx.borrow().status().is_finished())
    }

    /// Wait until the job finishes, `max` passes, or `stop` fires; `on_tick` is called on each
    /// change and at least every `tick` (for progress notifications).
    pub async fn wait<F, Fut>(
        &self,
        id: &str,
        max: Duration,
        tick: Duration,
        stop: &CancellationToken,
        mut on_tick: F,
    ) -> Option<Job>
    where
        F: FnMut(Job) -> Fut,
        Fut: Future<Output = ()>,
    {
        let mut rx = self.watch(id)?;
        let deadline = tokio::time::Instant::now() + max;
        let mut ticker = tokio::time::interval(tick.max(Duration::from_millis(10)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let job = rx.borrow_and_update().clone();
            if job.status().is_finished() {
                return Some(job);
            }
            tokio::select! {
                _ = stop.cancelled() => return Some(job),
                _ = tokio::time::sleep_until(deadline) => return Some(rx.borrow().clone()),
                changed = rx.changed() => {
                    if changed.is_err() {
                        return Some(rx.borrow().clone());
                    }
                    let now = rx.borrow().clone();
                    on_tick(now).await;
                }
                _ = ticker.tick() => on_tick(job).await,
            }
        }
    }
}

#[cfg(test)]
mod tests;

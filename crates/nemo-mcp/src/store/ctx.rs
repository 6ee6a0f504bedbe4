//! What a running job holds: its own cell (to report progress and see cancellation) and the
//! journal (to keep its entry current).

use super::job::{Export, Generation, Job, Work};
use super::journal::Journal;
use super::Cell;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Handed to a running job to report progress and keep its journal entry current.
#[derive(Clone)]
pub struct JobCtx {
    pub(super) cell: Arc<Cell>,
    pub(super) journal: Journal,
}

impl JobCtx {
    pub fn update(&self, f: impl FnOnce(&mut Job)) {
        self.cell.tx.send_modify(|j| {
            f(j);
            j.activity += 1;
        });
    }
    /// Change and write to the journal (for what a restart needs).
    pub fn update_journaled(&self, f: impl FnOnce(&mut Job)) {
        self.update(f);
        self.journal.save(&self.cell.tx.borrow());
    }
    pub fn progress(&self, pct: Option<f64>, message: impl Into<String>) {
        let message = message.into();
        self.update(|j| {
            if pct.is_some() {
                j.progress_pct = pct.map(|p| p.clamp(0.0, 100.0));
            }
            j.message = message;
        });
    }
    /// Change a generation's own data and journal it (no-op for other kinds).
    pub fn journal_generation(&self, f: impl FnOnce(&mut Generation)) {
        self.update_journaled(|j| {
            if let Work::Generate(g) = &mut j.work {
                f(g)
            }
        });
    }
    /// Change an export's own data and journal it (no-op for other kinds).
    pub fn journal_export(&self, f: impl FnOnce(&mut Export)) {
        self.update_journaled(|j| {
            if let Work::Export(e) = &mut j.work {
                f(e)
            }
        });
    }
    /// Journal a `make_video`'s plan (no-op for other kinds).
    pub fn journal_plan(&self, plan: super::results::VideoPlan) {
        self.update_journaled(|j| {
            if let Work::Video(v) = &mut j.work {
                v.plan = plan
            }
        });
    }
    pub fn snapshot(&self) -> Job {
        self.cell.tx.borrow().clone()
    }
    pub fn cancelled(&self) -> CancellationToken {
        self.cell.cancel.clone()
    }
}

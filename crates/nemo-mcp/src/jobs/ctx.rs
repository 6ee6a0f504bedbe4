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
        // The other server processes of the user show this job from its journal entry: keep
        // its progress there fresh, without a write per event.
        let due = {
            let mut saved = super::lock(&self.cell.saved);
            let due = saved.is_none_or(|t| t.elapsed() >= super::PROGRESS_EVERY);
            if due {
                *saved = Some(std::time::Instant::now());
            }
            due
        };
        if due {
            self.journal.save(&self.cell.tx.borrow());
        }
    }
    /// Change and write to the journal (for what a restart needs); `false` when that could not
    /// be committed (a paid message must then not be sent).
    pub fn update_journaled(&self, f: impl FnOnce(&mut Job)) -> bool {
        self.cell.tx.send_modify(|j| {
            f(j);
            j.activity += 1;
        });
        *super::lock(&self.cell.saved) = Some(std::time::Instant::now());
        self.journal.save(&self.cell.tx.borrow())
    }
    /// A paid request's "sending" mark: the generation's data changed and journaled durably
    /// (on the disk, not only committed) before the request may leave; `false` when it could
    /// not be, and then nothing is sent.
    pub fn mark_sending(&self, f: impl FnOnce(&mut Generation)) -> bool {
        self.cell.tx.send_modify(|j| {
            if let Work::Generate(g) = &mut j.work {
                f(g)
            }
            j.activity += 1;
        });
        *super::lock(&self.cell.saved) = Some(std::time::Instant::now());
        self.journal.save_durable(&self.cell.tx.borrow())
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
    /// Change an export's own data and journal it (no-op for other kinds); whether the
    /// journal has it.
    pub fn journal_export(&self, f: impl FnOnce(&mut Export)) -> bool {
        self.update_journaled(|j| {
            if let Work::Export(e) = &mut j.work {
                f(e)
            }
        })
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

//! After a broken stream: never re-send the message; read the state until it changes.
//! Contract: wait 30 s, read; if unchanged wait 60 s and read again; after 5 unchanged reads
//! (about 5 minutes) report failure.

use crate::error::Result;
use crate::state::SessionState;
use crate::Client;
use std::time::Duration;

#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecoveryWaits {
    pub first: Duration,
    pub then: Duration,
    pub reads: u32,
}

impl Default for RecoveryWaits {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(30),
            then: Duration::from_secs(60),
            reads: 5,
        }
    }
}

impl RecoveryWaits {
    pub fn new(first: Duration, then: Duration, reads: u32) -> Self {
        Self { first, then, reads }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Recovered {
    /// The state moved on: the turn did its work.
    Changed(Box<SessionState>),
    /// Nothing changed after every read: report failure and offer to retry.
    Unchanged { reads: u32 },
}

impl Client {
    /// Poll the state after a broken turn until it differs from `before`.
    /// `on_read` is told the number of each read (for progress).
    pub async fn recover_by_state(
        &self,
        before: &SessionState,
        waits: &RecoveryWaits,
        mut on_read: impl FnMut(u32),
    ) -> Result<Recovered> {
        for read in 1..=waits.reads {
            tokio::time::sleep(if read == 1 { waits.first } else { waits.then }).await;
            on_read(read);
            match self.state().await {
                Ok(now) if now.changed_since(before) => {
                    return Ok(Recovered::Changed(Box::new(now)))
                }
                Ok(_) => {}
                Err(e) if e.retryable() => tracing::debug!("state read {read} failed: {e}"),
                Err(e) => return Err(e),
            }
        }
        Ok(Recovered::Unchanged { reads: waits.reads })
    }
}

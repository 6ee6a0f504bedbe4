//! After a turn whose end we did not see: never re-send the message; read the state until it
//! changes. Contract: wait 30 s, read; if unchanged wait 60 s and read again; after 5 unchanged
//! reads (about 5 minutes) report failure. Before that schedule a few quick reads (about 1, 2,
//! 4, 8 s) catch the common case of a change that landed just after the stream closed.

use crate::error::Result;
use crate::state::SessionState;
use crate::Project;
use std::time::Duration;

/// The waits before each state read, in order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecoveryWaits {
    pub schedule: Vec<Duration>,
}

impl Default for RecoveryWaits {
    fn default() -> Self {
        Self::new(Duration::from_secs(30), Duration::from_secs(60), 5)
    }
}

impl RecoveryWaits {
    /// The contract's schedule: `first`, then `reads - 1` times `then`.
    pub fn new(first: Duration, then: Duration, reads: u32) -> Self {
        let schedule = (0..reads)
            .map(|i| if i == 0 { first } else { then })
            .collect();
        Self { schedule }
    }

    /// `count` quick reads with a doubling wait from `base` (1, 2, 4, 8 s for `base` = 1 s).
    pub fn quick(base: Duration, count: u32) -> Self {
        let schedule = (0..count).map(|i| base * 2u32.pow(i.min(16))).collect();
        Self { schedule }
    }

    /// These waits, then `more`'s.
    pub fn then(mut self, more: RecoveryWaits) -> Self {
        self.schedule.extend(more.schedule);
        self
    }

    pub fn reads(&self) -> u32 {
        self.schedule.len() as u32
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Recovered {
    /// The state moved on: the turn did its work.
    Changed(Box<SessionState>),
    /// Nothing changed after every read; the last state read.
    Unchanged {
        reads: u32,
        last: Option<Box<SessionState>>,
    },
}

impl Project<'_> {
    /// Poll the project's state until it differs from `before`, waiting as `waits` says.
    /// `on_read` is told the number of each read (for progress). This is how a turn whose
    /// stream broke is finished: by reading, never by sending the paid message again.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = nemo_sim::Sim::start(nemo_sim::SimConfig::fast()).await?;
    /// # let dir = tempfile::tempdir()?;
    /// # let config = nemo_client::Config::new(sim.base_url(), dir.path().join("state"))
    /// #     .with_client_id_file(dir.path().join("client_id"));
    /// use nemo_client::{Recovered, RecoveryWaits};
    /// use std::time::Duration;
    /// let client = nemo_client::Client::new(config)?;
    /// let project = client.create_project("en").await?.handle(&client);
    /// let before = project.state().await?;
    /// let waits = RecoveryWaits::quick(Duration::from_millis(10), 2);
    /// match project.recover(&before, &waits, |_| {}).await? {
    ///     Recovered::Changed(after) => println!("{}", after.timeline.summary()),
    ///     Recovered::Unchanged { reads, .. } => assert_eq!(reads, waits.reads()),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn recover(
        &self,
        before: &SessionState,
        waits: &RecoveryWaits,
        mut on_read: impl FnMut(u32),
    ) -> Result<Recovered> {
        let mut last = None;
        for (i, wait) in waits.schedule.iter().enumerate() {
            let read = i as u32 + 1;
            tokio::time::sleep(*wait).await;
            on_read(read);
            match self.state().await {
                Ok(now) if now.changed_since(before) => {
                    return Ok(Recovered::Changed(Box::new(now)))
                }
                Ok(now) => last = Some(Box::new(now)),
                Err(e) if e.retryable() => tracing::debug!("state read {read} failed: {e}"),
                Err(e) => return Err(e),
            }
        }
        Ok(Recovered::Unchanged {
            reads: waits.reads(),
            last,
        })
    }
}

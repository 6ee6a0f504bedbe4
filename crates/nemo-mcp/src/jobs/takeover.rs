//! Taking over what a gone process left running: its jobs claimed in one transaction per
//! runner (all of them, so a `make_video` and its steps stay together), only those this server
//! can read and run, made under its own NemoVideo account. Any other row is left as it was (its runner, running) for a server that
//! can, and `get_job` says why it is not run here.

use super::journal::Journal;
use super::Job;
use crate::state::ProcessId;
use rusqlite::params;

impl Journal {
    /// Take over the running jobs of every process that is gone: claimed in one transaction
    /// per runner (all of its jobs, so a make_video and its steps stay together), so two
    /// processes looking at once never both take one. The jobs now this process's to run.
    pub fn claim_orphans(&self) -> Vec<Job> {
        let me = self.db.me().clone();
        let rows = self.db.read("could not read the runners", |tx| {
            let mut s = tx
                .prepare_cached("SELECT runner, id FROM jobs WHERE running = 1 AND runner != ?1")?;
            let rows = s.query_map([me.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<(String, String)>>>()
        });
        let rows = match rows {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("{e}");
                return Vec::new();
            }
        };
        // A runner whose every row this server already found it cannot run is not looked at
        // again: every sweep would be a write for nothing.
        let runners: std::collections::BTreeSet<&str> = {
            let left = crate::support::sync::lock(&self.left);
            rows.iter()
                .filter(|(_, id)| !left.contains(id))
                .map(|(runner, _)| runner.as_str())
                .collect()
        };
        let mine = self.account();
        let mut claimed = Vec::new();
        for runner in runners {
            let gone = ProcessId::parse(runner).is_none_or(|id| !self.db.alive(&id));
            if !gone {
                continue;
            }
            // Only what this server can run is taken: a row it cannot read (a newer version's,
            // or one that fails its checks) is left as it was, for a server that can.
            let taken = self.db.write("could not take over a job", |tx| {
                let rows: Vec<(String, String)> = {
                    let mut s = tx.prepare_cached(
                        "SELECT id, body FROM jobs WHERE runner = ?1 AND running = 1",
                    )?;
                    let rows = s.query_map([runner], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                let mut jobs = Vec::new();
                for (id, body) in rows {
                    match self.runnable(&body, mine.as_deref()) {
                        Ok(job) => {
                            tx.execute(
                                "UPDATE jobs SET runner = ?1 WHERE id = ?2 AND runner = ?3",
                                params![me.as_str(), id, runner],
                            )?;
                            jobs.push(job);
                        }
                        Err(why) => self.left_once(&id, &why),
                    }
                }
                Ok(jobs)
            });
            match taken {
                Ok(jobs) => {
                    if !jobs.is_empty() {
                        tracing::info!(
                            jobs = jobs.len(),
                            "taking over the running jobs of a server process that is gone"
                        );
                    }
                    claimed.extend(jobs);
                }
                Err(e) => tracing::error!("{e}"),
            }
        }
        claimed.sort_by_key(|j| j.created_at);
        claimed
    }

    /// A running row this server cannot run is said once in the log (every sweep meets it
    /// again).
    fn left_once(&self, id: &str, why: &str) {
        let first = crate::support::sync::lock(&self.left).insert(id.to_string());
        if first {
            tracing::warn!(job = %id, "a running job this server cannot run is left as it was: {why}");
        }
    }

    /// Why the job `id` (of the MCP owner `mcp_owner`) is in the state database but cannot be
    /// read or run by this server; `None` when it is not there or reads well.
    pub fn unreadable(&self, id: &str, mcp_owner: Option<&str>) -> Option<String> {
        use rusqlite::OptionalExtension;
        let body = self
            .db
            .read("could not read a job", |tx| {
                tx.query_row(
                    "SELECT body FROM jobs WHERE id = ?1 AND mcp_owner IS ?2",
                    params![id, mcp_owner],
                    |r| r.get::<_, String>(0),
                )
                .optional()
            })
            .ok()
            .flatten()?;
        self.runnable(&body, self.account().as_deref()).err()
    }
}

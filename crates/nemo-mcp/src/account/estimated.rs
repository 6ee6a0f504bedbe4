//! A turn whose cost could not be read (the balance request failed through its retries) is
//! recorded at its estimate, marked as such, so the budgets count it: money fails closed. When
//! the balance is read again while no other paid turn is in flight, the estimate is replaced by
//! what the balance shows the turn cost: the account's total before it, less the total now,
//! less every charge recorded after it.
//!
//! With turns charged since, the estimate is only ever raised (they may have run alongside it,
//! and their charges may precede its "before" reading). Only one estimated charge is corrected
//! at a time: with two, the balance gives their sum,
//! not each one's share, so both stay at their estimates. A balance that rose since (credits
//! bought) cannot be split from a charge either: the estimate stays.

use super::spend::Ledger;
use rusqlite::{params, OptionalExtension};

/// An estimate replaced by what the balance showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub job_id: String,
    pub estimate: i64,
    pub credits: i64,
}

impl Ledger {
    /// The account's total is `total_now`, read while `this_job` (a turn about to be sent, if
    /// any) is the only paid turn that may be in flight: correct the one estimated charge, if
    /// there is one and the reading can tell its cost. In one transaction, so that no turn
    /// starts or is charged between what is read and what is written.
    pub fn settle_estimate(&self, total_now: i64, this_job: Option<&str>) -> Option<Settled> {
        // Read first: a write at every reading of the balance would be a write for nothing.
        let any = self.db.read("could not read the spend ledger", |tx| {
            tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM charges WHERE estimated = 1)",
                [],
                |r| r.get::<_, bool>(0),
            )
        });
        if !matches!(any, Ok(true)) {
            return None;
        }
        let r = self.db.write("could not correct an estimated charge", |tx| {
            let mut q = tx.prepare(
                "SELECT job_id, at, credits, total_before FROM charges WHERE estimated = 1 LIMIT 2",
            )?;
            let rows = q
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            drop(q);
            let [(job, at, estimate, Some(before))] = &rows[..] else {
                return Ok(None);
            };
            // Another turn in flight anywhere: its charge may be in the balance and not yet
            // in the ledger.
            let busy: Option<String> = tx
                .query_row(
                    "SELECT id FROM jobs WHERE running = 1 AND kind = 'gen' AND id IS NOT ?1 LIMIT 1",
                    [this_job],
                    |r| r.get(0),
                )
                .optional()?;
            if busy.is_some() {
                return Ok(None);
            }
            let (others, after): (i64, i64) = tx.query_row(
                "SELECT COUNT(*), COALESCE(SUM(credits), 0) FROM charges WHERE at > ?1 AND job_id != ?2",
                params![at, job],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let credits = before - total_now - after;
            // Turns charged since may have run alongside it, their charges before its own
            // "before" reading: then the difference undercounts it. Money fails closed: with
            // others in between, the estimate is only ever raised.
            if credits < 0 || (others > 0 && credits < *estimate) {
                return Ok(None);
            }
            tx.execute(
                "UPDATE charges SET credits = ?1, estimated = 0 WHERE job_id = ?2 AND estimated = 1",
                params![credits, job],
            )?;
            Ok(Some(Settled {
                job_id: job.clone(),
                estimate: *estimate,
                credits,
            }))
        });
        r.unwrap_or_else(|e| {
            tracing::warn!("{e}");
            None
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::spend::Charge;
    use super::*;
    use crate::state::StateDb;
    use chrono::Utc;
    use std::sync::Arc;

    fn charge(job: &str, credits: i64, secs_ago: i64, before: Option<i64>) -> Charge {
        Charge {
            job_id: job.into(),
            at: Utc::now() - chrono::Duration::seconds(secs_ago),
            project: "p".into(),
            session: "s".into(),
            credits,
            estimated: before.is_some(),
            total_before: before,
        }
    }

    fn ledger() -> (tempfile::TempDir, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(StateDb::open(dir.path()).unwrap());
        (dir, Ledger::open(db))
    }

    #[test]
    fn an_estimate_is_corrected_by_the_next_reading_of_the_balance() {
        let (_d, l) = ledger();
        // Recorded at 50 (its estimate) with the account at 1000 before it; a later turn
        // measured at 30; the balance now 880: the estimated turn cost 1000 - 880 - 30 = 90.
        l.record(charge("gen_000000000001", 50, 20, Some(1000)));
        l.record(charge("gen_000000000002", 30, 10, None));
        assert_eq!(l.spent_in_project("p"), 80);
        let s = l.settle_estimate(880, None).unwrap();
        assert_eq!((s.estimate, s.credits), (50, 90));
        assert_eq!(l.spent_in_project("p"), 120);
        // Settled once.
        assert_eq!(l.settle_estimate(880, None), None);
    }

    #[test]
    fn with_turns_charged_since_an_estimate_is_only_ever_raised() {
        let (_d, l) = ledger();
        l.record(charge("gen_000000000001", 50, 20, Some(1000)));
        l.record(charge("gen_000000000002", 30, 10, None));
        // 1000 - 940 - 30 = 30, below the estimate: the later turn may have run alongside.
        assert_eq!(l.settle_estimate(940, None), None);
        assert_eq!(l.spent_in_project("p"), 80);
    }

    #[test]
    fn an_estimate_stays_when_the_balance_cannot_tell() {
        let (_d, l) = ledger();
        l.record(charge("gen_000000000001", 50, 20, Some(1000)));
        // Credits bought since: the balance rose, the charge cannot be split from it.
        assert_eq!(l.settle_estimate(1200, None), None);
        // Two estimates: their sum, not each one's share.
        l.record(charge("gen_000000000002", 50, 10, Some(950)));
        assert_eq!(l.settle_estimate(900, None), None);
        assert_eq!(l.spent_in_project("p"), 100, "both at their estimates");
    }

    #[test]
    fn an_estimate_stays_while_another_turn_is_in_flight() {
        let (_d, l) = ledger();
        l.record(charge("gen_000000000001", 50, 20, Some(1000)));
        l.db
            .write("a running turn", |tx| {
                tx.execute(
                    "INSERT INTO jobs (id, kind, runner, running, created_at, body) VALUES ('gen_000000000009', 'gen', 'x', 1, '2026-01-01', '{}')",
                    [],
                )
            })
            .unwrap();
        assert_eq!(l.settle_estimate(900, None), None);
        // The turn about to be sent is that one: it has not reached the balance.
        assert!(l.settle_estimate(900, Some("gen_000000000009")).is_some());
    }
}

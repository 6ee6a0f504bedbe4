//! Credits reserved against the budgets: agreed to before a paid call is sent, counted by
//! every process beside the charges until the job they are attached to is charged or ends.
//! Checking the budgets and reserving are one transaction, so of two hosts asking at once the
//! second sees the first one's reservation.

use super::spend::{today, Budgets, Ledger, Spent};
use crate::errors::{Code, ToolError};
use crate::state::{ProcessId, StateDb};
use rusqlite::{params, Transaction};
use std::sync::{Arc, Mutex};

impl Ledger {
    /// The credits reserved for `job_id` (agreed to before it was sent), if any.
    pub fn reserved_for(&self, job_id: &str) -> Option<i64> {
        use rusqlite::OptionalExtension;
        self.db
            .read("could not read a reservation", |tx| {
                tx.query_row(
                    "SELECT credits FROM reservations WHERE job_id = ?1",
                    [job_id],
                    |r| r.get::<_, i64>(0),
                )
                .optional()
            })
            .ok()
            .flatten()
    }

    /// The credits reserved for `job_id` are spent (or will not be): stop counting them.
    pub fn release(&self, job_id: &str) {
        let r = self.db.write("could not release a reservation", |tx| {
            tx.execute("DELETE FROM reservations WHERE job_id = ?1", [job_id])
        });
        if let Err(e) = r {
            tracing::warn!("{e}");
        }
    }

    /// Check the budgets against what every process spent and reserved, and reserve `estimate`
    /// for the MCP session `session`, in one transaction: of two hosts asking at once, the one
    /// that comes second sees the first one's reservation. The reservation counts until the
    /// job it is attached to ends or is charged (or, never attached, until it is dropped or its
    /// process is gone).
    pub fn reserve(
        &self,
        budgets: &Budgets,
        estimate: i64,
        session: &str,
    ) -> Result<Reservation, ToolError> {
        if budgets.per_day.is_none() && budgets.per_session.is_none() {
            budgets.check(estimate, &Spent::default())?;
            return Ok(Reservation::none());
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let day = today();
        let db = &self.db;
        let decided = db.write("could not check the budgets", |tx| {
            let spent = spent_and_reserved(db, tx, &day, session, None)?;
            if let Err(refused) = budgets.check(estimate, &spent) {
                return Ok(Err(refused));
            }
            tx.execute(
                "INSERT INTO reservations (id, process, job_id, day, session, credits) VALUES (?1, ?2, NULL, ?3, ?4, ?5)",
                params![id, db.me().as_str(), day, session, estimate],
            )?;
            Ok(Ok(()))
        });
        match decided {
            Ok(Ok(())) => Ok(Reservation {
                held: Some((self.db.clone(), id)),
                attached: Mutex::new(false),
            }),
            Ok(Err(refused)) => Err(refused),
            Err(e) => Err(
                ToolError::new(Code::Internal, format!("{e}; nothing was sent")).retryable(None),
            ),
        }
    }

    /// Check `budgets` for the paid step of `job_id` (what its reservation holds, else about
    /// `estimate` credits) against what every process spent and reserved, the job's own
    /// reservation left out, and hold the step's credits for the job, in one transaction. For a
    /// step that a process runs for a job another process made: the runner's settings are held
    /// too, without counting the job twice, and of two steps checked at once the second sees
    /// the first.
    pub fn hold_for(
        &self,
        budgets: &Budgets,
        estimate: i64,
        session: &str,
        job_id: &str,
    ) -> Result<(), ToolError> {
        if budgets.per_day.is_none() && budgets.per_session.is_none() {
            return budgets.check(estimate, &Spent::default());
        }
        let day = today();
        let db = &self.db;
        let decided = db.write("could not check the budgets", |tx| {
            use rusqlite::OptionalExtension;
            // What was agreed for the job when it was reserved, else the estimate given.
            let estimate = tx
                .query_row(
                    "SELECT credits FROM reservations WHERE job_id = ?1",
                    [job_id],
                    |r| r.get::<_, i64>(0),
                )
                .optional()?
                .unwrap_or(estimate);
            let spent = spent_and_reserved(db, tx, &day, session, Some(job_id))?;
            if let Err(refused) = budgets.check(estimate, &spent) {
                return Ok(Err(refused));
            }
            tx.execute("DELETE FROM reservations WHERE job_id = ?1", [job_id])?;
            tx.execute(
                "INSERT INTO reservations (id, process, job_id, day, session, credits) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    uuid::Uuid::new_v4().simple().to_string(),
                    db.me().as_str(),
                    job_id,
                    day,
                    session,
                    estimate
                ],
            )?;
            Ok(Ok(()))
        });
        match decided {
            Ok(r) => r,
            Err(e) => Err(
                ToolError::new(Code::Internal, format!("{e}; nothing was sent")).retryable(None),
            ),
        }
    }

    /// Hand `credits` of the reservation held for `from` (a set of versions) to `to` (one of
    /// its versions), in one transaction: the version's share then counts while the version
    /// runs and ends with its charge, as a single video's does, instead of staying reserved
    /// beside the charges until the whole set ends. Once per version: a version that already
    /// holds a reservation (or held one and was charged) gets nothing more.
    pub fn hand_over(&self, from: &str, to: &str, credits: i64) {
        use rusqlite::OptionalExtension;
        let r = self.db.write("could not hand over a reservation", |tx| {
            let held = tx
                .query_row(
                    "SELECT id, process, day, session, credits FROM reservations WHERE job_id = ?1",
                    [from],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, i64>(4)?,
                        ))
                    },
                )
                .optional()?;
            let Some((id, process, day, session, held)) = held else {
                return Ok(());
            };
            let already: i64 = tx.query_row(
                "SELECT COUNT(*) FROM reservations WHERE job_id = ?1",
                [to],
                |r| r.get::<_, i64>(0),
            )? + tx.query_row(
                "SELECT COUNT(*) FROM charges WHERE job_id = ?1",
                [to],
                |r| r.get::<_, i64>(0),
            )?;
            let share = credits.clamp(0, held);
            if already > 0 || share == 0 {
                return Ok(());
            }
            tx.execute(
                "UPDATE reservations SET credits = credits - ?1 WHERE id = ?2",
                params![share, id],
            )?;
            tx.execute(
                "INSERT INTO reservations (id, process, job_id, day, session, credits) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![uuid::Uuid::new_v4().simple().to_string(), process, to, day, session, share],
            )?;
            Ok(())
        });
        if let Err(e) = r {
            tracing::warn!("{e}");
        }
    }
}

/// What `day` and `session` have spent and reserved: charges, and the reservations still live
/// (attached to a running job, or held by a live process), but the one held for `except_job`;
/// the stale ones are dropped.
fn spent_and_reserved(
    db: &StateDb,
    tx: &Transaction<'_>,
    day: &str,
    session: &str,
    except_job: Option<&str>,
) -> rusqlite::Result<Spent> {
    let mut spent = Spent {
        today: sum_in(tx, "SELECT SUM(credits) FROM charges WHERE day = ?1", day)?,
        this_project: 0,
        this_session: sum_in(
            tx,
            "SELECT SUM(credits) FROM charges WHERE session = ?1",
            session,
        )?,
    };
    let mut stale = Vec::new();
    {
        let mut s = tx.prepare_cached(
            "SELECT r.id, r.process, r.job_id, r.day, r.session, r.credits, j.running
             FROM reservations r LEFT JOIN jobs j ON j.id = r.job_id",
        )?;
        let rows = s.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<bool>>(6)?,
            ))
        })?;
        for row in rows {
            let (rid, process, job, rday, rsession, credits, running) = row?;
            let live = match job {
                Some(_) => running == Some(true),
                None => ProcessId::parse(&process).is_some_and(|p| db.alive(&p)),
            };
            if !live {
                stale.push(rid);
                continue;
            }
            if job.is_some() && job.as_deref() == except_job {
                continue;
            }
            if rday == day {
                spent.today += credits;
            }
            if rsession == session {
                spent.this_session += credits;
            }
        }
    }
    for rid in stale {
        tx.execute("DELETE FROM reservations WHERE id = ?1", [rid])?;
    }
    Ok(spent)
}

fn sum_in(tx: &Transaction<'_>, sql: &str, arg: &str) -> rusqlite::Result<i64> {
    Ok(tx
        .query_row(sql, [arg], |r| r.get::<_, Option<i64>>(0))?
        .unwrap_or(0))
}

/// Credits reserved against the budgets for one paid call. Attached to the job that spends
/// them, it counts while that job runs; dropped unattached (the call was refused or failed
/// before starting a job), it is given back.
pub struct Reservation {
    /// The reservation's row (`None`: nothing reserved).
    held: Option<(Arc<StateDb>, String)>,
    attached: Mutex<bool>,
}

impl Reservation {
    /// Nothing reserved (no budget to count against).
    pub fn none() -> Reservation {
        Reservation {
            held: None,
            attached: Mutex::new(false),
        }
    }

    /// The job `job_id` spends these credits: they count while it runs.
    pub fn attach(&self, job_id: &str) {
        let Some((db, id)) = &self.held else { return };
        let r = db.write("could not attach a reservation", |tx| {
            tx.execute(
                "UPDATE reservations SET job_id = ?1 WHERE id = ?2",
                [job_id, id.as_str()],
            )
        });
        match r {
            Ok(_) => *crate::support::sync::lock(&self.attached) = true,
            Err(e) => tracing::warn!("{e}"),
        }
    }
}

impl std::fmt::Debug for Reservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reservation")
            .field("id", &self.held.as_ref().map(|(_, id)| id))
            .finish()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if *crate::support::sync::lock(&self.attached) {
            return;
        }
        if let Some((db, id)) = &self.held {
            let _ = db.write("could not give back a reservation", |tx| {
                tx.execute("DELETE FROM reservations WHERE id = ?1", [id])
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(db: &StateDb, id: &str) {
        db.write("", |tx| {
            tx.execute(
                "INSERT INTO jobs (id, kind, runner, running, created_at, body) VALUES (?1, 'vid', ?2, 1, '2026', '{}')",
                [id, db.me().as_str()],
            )
        })
        .unwrap();
    }

    /// A set's quote handed to its versions one share at a time: the sum reserved never grows,
    /// a version's share ends with its release, and a version gets its share once.
    #[test]
    fn a_set_hands_each_version_its_share_once() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(Arc::new(StateDb::open(dir.path()).unwrap()));
        let db = ledger.db.clone();
        for id in ["vid_parent00000", "vid_version0000", "vid_version0001"] {
            running(&db, id);
        }
        let budgets = Budgets {
            per_day: Some(300),
            ..Default::default()
        };
        ledger
            .reserve(&budgets, 300, "s")
            .unwrap()
            .attach("vid_parent00000");
        ledger.hand_over("vid_parent00000", "vid_version0000", 100);
        ledger.hand_over("vid_parent00000", "vid_version0000", 100);
        assert_eq!(ledger.reserved_for("vid_parent00000"), Some(200));
        assert_eq!(ledger.reserved_for("vid_version0000"), Some(100));
        assert!(
            ledger.reserve(&budgets, 1, "s").is_err(),
            "300 still reserved"
        );
        // Never more than the set holds.
        ledger.hand_over("vid_parent00000", "vid_version0001", 500);
        assert_eq!(ledger.reserved_for("vid_parent00000"), Some(0));
        assert_eq!(ledger.reserved_for("vid_version0001"), Some(200));
        // The first version's edit is charged (50) and its share released: 50 of its 100 are
        // free again for its fix round, checked then against what was really spent.
        ledger.release("vid_version0000");
        ledger.record(crate::account::spend::Charge {
            job_id: "gen_000000000001".into(),
            at: chrono::Utc::now(),
            project: "p".into(),
            session: "s".into(),
            credits: 50,
            estimated: false,
            total_before: None,
        });
        assert!(ledger.reserve(&budgets, 50, "s").is_ok());
        assert!(ledger.reserve(&budgets, 51, "s").is_err());
    }

    /// A step held for its job replaces the job's own reservation (never counted beside it),
    /// and sees every other job's: of two versions that fit a budget only one at a time, the
    /// second is refused.
    #[test]
    fn a_step_held_for_its_job_counts_the_job_once_and_the_others_too() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(Arc::new(StateDb::open(dir.path()).unwrap()));
        let db = ledger.db.clone();
        for id in ["vid_version0000", "vid_version0001"] {
            running(&db, id);
        }
        let budgets = Budgets {
            per_day: Some(60),
            ..Default::default()
        };
        ledger
            .reserve(&budgets, 50, "s")
            .unwrap()
            .attach("vid_version0000");
        // Its own 50 left out: held again, still 50 reserved in all.
        ledger
            .hold_for(&budgets, 50, "s", "vid_version0000")
            .unwrap();
        assert_eq!(ledger.reserved_for("vid_version0000"), Some(50));
        let refused = ledger
            .hold_for(&budgets, 50, "s", "vid_version0001")
            .unwrap_err();
        assert_eq!(refused.code, Code::OverBudget, "{refused:?}");
        assert_eq!(ledger.reserved_for("vid_version0001"), None);
        // Spending off refuses whatever is reserved.
        let off = Budgets {
            spending_off: true,
            ..Default::default()
        };
        let refused = ledger
            .hold_for(&off, 50, "s", "vid_version0001")
            .unwrap_err();
        assert_eq!(refused.code, Code::SpendingDisabled);
    }
}

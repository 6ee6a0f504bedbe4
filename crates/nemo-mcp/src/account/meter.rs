//! What each paid turn cost, when the only figure is the account's balance.
//!
//! The contract gives the balance, not a per-turn charge, so a turn's cost is read as the
//! balance it leaves against the balance before it. When turns run at once in one account
//! (the versions of a set, or several MCP sessions over `--http`), each turn's "before" also
//! holds the others' charges, and every one of them would be counted again. The meter keeps one
//! running observation for the account instead: what the balance fell since the last reading is
//! shared among the turns whose answers have ended and that are not yet measured (one turn
//! alone carries all of it), so every credit is counted once. The total is exact; between turns
//! that end together, the split is even.

//!
//! Several server processes of the user spend from the one account, so the observation is
//! shared too: kept in the state database (the `meter` value) and changed in one transaction
//! per step. A turn whose job no longer runs (its process died and nobody took it over yet, or
//! it ended) is dropped from it.

use crate::state::StateDb;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The key of the shared observation in the state database.
const KEY: &str = "meter";

#[derive(Default)]
pub struct CreditMeter {
    /// The observation of this process alone (no database: tests and embedding).
    state: Mutex<State>,
    /// The observation shared by every process of the user.
    db: Option<Arc<StateDb>>,
    /// Set when the process stops its jobs: a turn cut by the stop is not forgotten (the process
    /// that takes the job over measures it).
    frozen: std::sync::atomic::AtomicBool,
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct State {
    /// The account's total at the last observation while turns ran.
    last_total: Option<i64>,
    /// The turns sent and not yet measured (by job id).
    running: HashSet<String>,
    /// Of those, the turns whose answer ended, with their share of the falls seen so far.
    owed: HashMap<String, i64>,
}

impl CreditMeter {
    /// A meter shared by every server process on the state database `db`.
    pub fn shared(db: Arc<StateDb>) -> CreditMeter {
        CreditMeter {
            state: Mutex::default(),
            db: Some(db),
            frozen: Default::default(),
        }
    }

    /// The process stops its jobs: turns still running stay in the observation for whoever
    /// resumes them.
    pub fn freeze(&self) {
        self.frozen.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// One step on the observation: in memory, or as one transaction on the shared one.
    fn step<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let Some(db) = &self.db else {
            return f(&mut crate::support::sync::lock(&self.state));
        };
        let mut f = Some(f);
        let r = db.write("could not update the credit meter", |tx| {
            let mut s: State = crate::state::get_value(tx, KEY)?
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            // Turns whose job no longer runs anywhere are not waiting for a charge.
            let running: HashSet<String> = {
                let mut q = tx.prepare_cached("SELECT id FROM jobs WHERE running = 1")?;
                let ids = q.query_map([], |r| r.get::<_, String>(0))?;
                ids.collect::<rusqlite::Result<_>>()?
            };
            s.running.retain(|j| running.contains(j));
            s.owed.retain(|j, _| running.contains(j));
            let f = f.take().expect("the step runs once");
            let v = f(&mut s);
            let text = serde_json::to_string(&s)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            crate::state::set_value(tx, KEY, &text)?;
            Ok(v)
        });
        match r {
            Ok(v) => v,
            Err(e) => {
                // The database is unusable: measure in this process alone.
                tracing::error!("{e}");
                let f = f.take().expect("the failed step did not run");
                f(&mut crate::support::sync::lock(&self.state))
            }
        }
    }

    /// A turn is about to be sent; `total`: the account's total (available + reserved) now.
    /// Returns a guard that forgets the turn if it never ends (refused, or an early error).
    pub fn started(self: &Arc<Self>, job: &str, total: Option<i64>) -> TurnGuard {
        self.step(|s| {
            if s.running.is_empty() {
                s.last_total = total;
            }
            s.running.insert(job.to_string());
        });
        TurnGuard {
            meter: self.clone(),
            job: job.to_string(),
        }
    }

    /// The turn's answer ended (its charge is due): it shares the next fall of the balance.
    pub fn answered(&self, job: &str) {
        self.step(|s| {
            if s.running.contains(job) {
                s.owed.entry(job.to_string()).or_insert(0);
            }
        })
    }

    /// The turn is measured with the account at `total_now`: what it cost. `before`: the total
    /// the turn journaled before it was sent, used only when the meter has no observation.
    ///
    /// A turn the meter does not hold (its sending was cut before it was counted, or it was
    /// dropped) is measured as one it holds: it takes the fall since the last observation.
    /// Its own "before" would count again every charge other turns were measured with since
    /// then (a resumed turn took 150 for three others' 50s, each also recorded by its own).
    pub fn ended(&self, job: &str, total_now: i64, before: Option<i64>) -> Option<i64> {
        self.step(|s| {
            s.owed.entry(job.to_string()).or_insert(0);
            let known = s.last_total.is_some() || before.is_some();
            let fall = s
                .last_total
                .or(before)
                .map_or(0, |last| (last - total_now).max(0));
            // The fall, shared evenly among the turns that have answered; the rest to this one.
            let n = s.owed.len() as i64;
            let others: Vec<String> = s.owed.keys().filter(|k| *k != job).cloned().collect();
            for k in others {
                *s.owed.entry(k).or_insert(0) += fall / n;
            }
            let mine = s.owed.remove(job).unwrap_or(0) + fall - (fall / n) * (n - 1);
            s.running.remove(job);
            s.last_total = Some(total_now);
            known.then_some(mine)
        })
    }

    fn forget(&self, job: &str) {
        if self.frozen.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        self.step(|s| {
            s.running.remove(job);
            s.owed.remove(job);
        })
    }
}

/// Forgets a started turn when dropped (a no-op once it ended).
pub struct TurnGuard {
    meter: Arc<CreditMeter>,
    job: String,
}

impl Drop for TurnGuard {
    fn drop(&mut self) {
        self.meter.forget(&self.job);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_turn_at_a_time_costs_its_own_difference() {
        let m = Arc::new(CreditMeter::default());
        let _a = m.started("a", Some(1000));
        assert_eq!(m.ended("a", 950, Some(1000)), Some(50));
        // A top-up between turns is not a negative cost of the next one.
        let _b = m.started("b", Some(1050));
        assert_eq!(m.ended("b", 950, Some(1050)), Some(100));
    }

    #[test]
    fn turns_at_once_are_each_counted_once() {
        let m = Arc::new(CreditMeter::default());
        let _a = m.started("a", Some(1000));
        let _b = m.started("b", Some(1000));
        let _c = m.started("c", Some(1000));
        assert_eq!(m.ended("a", 950, Some(1000)), Some(50));
        assert_eq!(m.ended("b", 900, Some(1000)), Some(50));
        assert_eq!(m.ended("c", 850, Some(1000)), Some(50));
        // Two turns answered before either read: the fall is shared; the total is still 100.
        let _d = m.started("d", Some(850));
        let _e = m.started("e", Some(850));
        m.answered("d");
        m.answered("e");
        let e = m.ended("e", 750, Some(850)).unwrap();
        let d = m.ended("d", 750, Some(850)).unwrap();
        assert_eq!((d, e), (50, 50));
    }

    #[test]
    fn a_turn_that_never_ended_does_not_hold_the_baseline() {
        let m = Arc::new(CreditMeter::default());
        drop(m.started("refused", Some(1000)));
        let _a = m.started("a", Some(900));
        assert_eq!(m.ended("a", 850, Some(900)), Some(50));
        // A resumed turn the meter does not hold takes the fall since the last observation,
        // never its own "before" again.
        assert_eq!(m.ended("resumed", 800, Some(830)), Some(50));
    }

    #[test]
    fn a_turn_the_meter_does_not_hold_never_counts_a_charge_twice() {
        let m = Arc::new(CreditMeter::default());
        // Three turns run and are measured, 50 each, while a fourth's sending was cut before
        // the meter counted it (its "before" was read at 1000).
        for (i, job) in ["a", "b", "c"].iter().enumerate() {
            let before = 1000 - 50 * i as i64;
            let _t = m.started(job, Some(before));
            assert_eq!(m.ended(job, before - 50, Some(before)), Some(50));
        }
        // It never left: nothing fell since the last observation, so it cost nothing (its
        // "before" would say 150, the three others' charges again).
        assert_eq!(m.ended("cut", 850, Some(1000)), Some(0));
        // With no observation at all, its own "before" is all there is.
        let fresh = CreditMeter::default();
        assert_eq!(fresh.ended("resumed", 800, Some(830)), Some(30));
    }
}

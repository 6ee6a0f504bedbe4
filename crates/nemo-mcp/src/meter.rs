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

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct CreditMeter {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The account's total at the last observation while turns ran.
    last_total: Option<i64>,
    /// The turns sent and not yet measured (by job id).
    running: HashSet<String>,
    /// Of those, the turns whose answer ended, with their share of the falls seen so far.
    owed: HashMap<String, i64>,
}

impl CreditMeter {
    /// A turn is about to be sent; `total`: the account's total (available + reserved) now.
    /// Returns a guard that forgets the turn if it never ends (refused, or an early error).
    pub fn started(self: &Arc<Self>, job: &str, total: Option<i64>) -> TurnGuard {
        let mut s = crate::store::lock(&self.state);
        if s.running.is_empty() {
            s.last_total = total;
        }
        s.running.insert(job.to_string());
        TurnGuard {
            meter: self.clone(),
            job: job.to_string(),
        }
    }

    /// The turn's answer ended (its charge is due): it shares the next fall of the balance.
    pub fn answered(&self, job: &str) {
        let mut s = crate::store::lock(&self.state);
        if s.running.contains(job) {
            s.owed.entry(job.to_string()).or_insert(0);
        }
    }

    /// The turn is measured with the account at `total_now`: what it cost. `before`: the total
    /// the turn journaled before it was sent (for a turn this process did not start: resumed
    /// after a restart).
    pub fn ended(&self, job: &str, total_now: i64, before: Option<i64>) -> Option<i64> {
        let mut s = crate::store::lock(&self.state);
        if !s.running.contains(job) {
            return before.map(|b| (b - total_now).max(0));
        }
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
    }

    fn forget(&self, job: &str) {
        let mut s = crate::store::lock(&self.state);
        s.running.remove(job);
        s.owed.remove(job);
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
        // A resumed turn (not started here) uses what it journaled.
        assert_eq!(m.ended("resumed", 800, Some(830)), Some(30));
    }
}

//! Money over time: what each turn charged, kept across restarts and shared by every server
//! process of the user (the `charges` table of the state database), and the budgets checked against it
//! before anything is sent: per day (`NEMO_MAX_CREDITS_PER_DAY`), per MCP session
//! (`NEMO_MAX_CREDITS_PER_SESSION`), and the switch that turns spending off
//! (`NEMO_ALLOW_SPENDING=0`).

use crate::errors::{Code, ToolError};
use crate::state::StateDb;
use chrono::{DateTime, Local, Utc};
use rusqlite::{params, Transaction};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Entries older than this are dropped when the ledger is read (no budget looks further back).
const KEEP_DAYS: i64 = 90;

/// One charged turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// The job that charged (a turn is recorded once, whatever re-reads it).
    pub job_id: String,
    pub at: DateTime<Utc>,
    /// The project (session id) it was charged in.
    pub project: String,
    /// The MCP session that sent it: the process over stdio, the session over `--http`.
    pub session: String,
    pub credits: i64,
    /// The turn's cost could not be read (the balance request failed): recorded at its
    /// estimate, so that budgets count it (money fails closed), until the balance is read
    /// again (`account::estimated`).
    #[serde(default)]
    pub estimated: bool,
    /// For an estimated charge: the account's total before the turn was sent, if it was read.
    #[serde(default)]
    pub total_before: Option<i64>,
}

/// Spending so far, as `get_credits` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Spent {
    /// Today (this machine's calendar day).
    pub today: i64,
    /// In the current project, since this installation started keeping the ledger.
    pub this_project: i64,
    /// In this MCP session.
    pub this_session: i64,
}

/// The budgets, from the settings (and recorded with a job, which carries the settings it
/// was made under).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budgets {
    /// `NEMO_ALLOW_SPENDING=0` turns spending off (free tools still act).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spending_off: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_day: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_session: Option<i64>,
}

impl Budgets {
    /// What both allow: spending off if either turns it off, the lower of each limit. A paid
    /// step one host runs for a job another host made is held to both hosts' settings.
    pub fn stricter(&self, other: &Budgets) -> Budgets {
        let lower = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Budgets {
            spending_off: self.spending_off || other.spending_off,
            per_day: lower(self.per_day, other.per_day),
            per_session: lower(self.per_session, other.per_session),
        }
    }
}

/// The spend ledger and the credits reserved, in the shared database: every server process of
/// the user counts the others' spending.
pub struct Ledger {
    pub(super) db: Arc<StateDb>,
}

/// The local calendar day of `at` (what the daily budget counts).
fn day_of(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local).date_naive().to_string()
}

pub(super) fn today() -> String {
    day_of(Utc::now())
}

/// Insert a charge (once per job); how many rows were added. A charge ends the reservation of
/// its job.
pub(crate) fn insert_charge(tx: &Transaction<'_>, c: &Charge) -> rusqlite::Result<usize> {
    tx.execute("DELETE FROM reservations WHERE job_id = ?1", [&c.job_id])?;
    if c.credits <= 0 {
        return Ok(0);
    }
    tx.execute(
        "INSERT OR IGNORE INTO charges (job_id, at, day, project, session, credits, estimated, total_before) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![c.job_id, c.at.to_rfc3339(), day_of(c.at), c.project, c.session, c.credits, c.estimated, c.total_before],
    )
}

impl Ledger {
    pub fn open(db: Arc<StateDb>) -> Ledger {
        Self::open_at(db, Utc::now())
    }

    /// The ledger, trimmed as seen at `now`. The trim counts back from the newest charge when
    /// the clock is ahead of it: a clock that jumped forward a year must not delete every
    /// charge (and with them the budgets' memory).
    fn open_at(db: Arc<StateDb>, now: DateTime<Utc>) -> Ledger {
        let newest = db
            .read("could not read the spend ledger", |tx| {
                tx.query_row("SELECT MAX(at) FROM charges", [], |r| {
                    r.get::<_, Option<String>>(0)
                })
            })
            .ok()
            .flatten()
            .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
            .map(|at| at.with_timezone(&Utc));
        let reference = newest.map_or(now, |n| n.min(now));
        let horizon = day_of(reference - chrono::Duration::days(KEEP_DAYS));
        // Read first: a write at every start of every host would be a write for nothing.
        let old = db.read("could not read the spend ledger", |tx| {
            tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM charges WHERE day < ?1)",
                [&horizon],
                |r| r.get::<_, bool>(0),
            )
        });
        let r = match old {
            Ok(true) => db.write("could not trim the spend ledger", |tx| {
                tx.execute("DELETE FROM charges WHERE day < ?1", [&horizon])
            }),
            other => other.map(|_| 0),
        };
        if let Err(e) = r {
            tracing::warn!("{e}");
        }
        Ledger { db }
    }

    /// Record a charged turn (once per job; nothing for a turn that charged nothing).
    pub fn record(&self, charge: Charge) {
        if let Err(e) = self
            .db
            .write("could not record a charge", |tx| insert_charge(tx, &charge))
        {
            tracing::error!("{e}");
        }
    }

    fn sum(&self, sql: &str, arg: &str) -> i64 {
        self.db
            .read("could not read the spend ledger", |tx| {
                tx.query_row(sql, [arg], |r| r.get::<_, Option<i64>>(0))
            })
            .unwrap_or_else(|e| {
                tracing::error!("{e}");
                None
            })
            .unwrap_or(0)
    }

    /// What was spent in `project` (one sum, for a list of projects).
    pub fn spent_in_project(&self, project: &str) -> i64 {
        self.sum(
            "SELECT SUM(credits) FROM charges WHERE project = ?1",
            project,
        )
    }

    /// What was spent today, in `project`, and in `session`.
    pub fn spent(&self, project: Option<&str>, session: &str) -> Spent {
        Spent {
            today: self.sum("SELECT SUM(credits) FROM charges WHERE day = ?1", &today()),
            this_project: project.map_or(0, |p| self.spent_in_project(p)),
            this_session: self.sum(
                "SELECT SUM(credits) FROM charges WHERE session = ?1",
                session,
            ),
        }
    }
}

impl Budgets {
    /// Whether spending `estimate` more is allowed, before anything is sent; the refusal names
    /// the setting that refused it.
    pub fn check(&self, estimate: i64, spent: &Spent) -> Result<(), ToolError> {
        if self.spending_off {
            return Err(ToolError::new(
                Code::SpendingDisabled,
                "spending credits is turned off on this server (NEMO_ALLOW_SPENDING=0); nothing was sent. Free tools (upload_media, get_timeline, export_video, get_credits) still work",
            )
            .next("tell the user that paid edits are turned off by the NEMO_ALLOW_SPENDING setting; they can change it in the server's settings"));
        }
        let over = |name: &str, limit: i64, used: i64, per: &str| {
            ToolError::new(
                Code::OverBudget,
                format!(
                    "this would cost about {estimate} credits, and {used} of the {limit} allowed {per} ({name}) are spent; nothing was sent"
                ),
            )
            .next(format!(
                "tell the user the {per} budget ({name}={limit}) is reached; they can raise it in the server's settings"
            ))
        };
        if let Some(limit) = self.per_day.filter(|l| spent.today + estimate > *l) {
            return Err(over(
                "NEMO_MAX_CREDITS_PER_DAY",
                limit,
                spent.today,
                "per day",
            ));
        }
        if let Some(limit) = self
            .per_session
            .filter(|l| spent.this_session + estimate > *l)
        {
            return Err(over(
                "NEMO_MAX_CREDITS_PER_SESSION",
                limit,
                spent.this_session,
                "per session",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    /// A step one host runs for a job another host made is held to both hosts' budgets.
    #[test]
    fn the_stricter_of_two_budgets_allows_what_both_allow() {
        let a = Budgets {
            spending_off: false,
            per_day: Some(160),
            per_session: None,
        };
        let b = Budgets {
            spending_off: false,
            per_day: Some(500),
            per_session: Some(100),
        };
        let both = a.stricter(&b);
        assert_eq!((both.per_day, both.per_session), (Some(160), Some(100)));
        assert_eq!(a.stricter(&Budgets::default()), a);
        let off = Budgets {
            spending_off: true,
            ..Default::default()
        };
        assert!(a.stricter(&off).spending_off && off.stricter(&a).spending_off);
        // Recorded with a job: what it was made under, and nothing for what was not set.
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, r#"{"per_day":160}"#);
        assert_eq!(serde_json::from_str::<Budgets>(&json).unwrap(), a);
    }
    use super::*;

    fn charge(job: &str, project: &str, session: &str, credits: i64, days_ago: i64) -> Charge {
        Charge {
            job_id: job.into(),
            at: Utc::now() - chrono::Duration::days(days_ago),
            project: project.into(),
            session: session.into(),
            credits,
            estimated: false,
            total_before: None,
        }
    }

    /// A clock that jumped a year forward: the trim counts back from the newest charge, so the
    /// ledger keeps what it had (it used to delete every charge). Charges 90 days older than
    /// the newest still go.
    #[test]
    fn a_clock_that_jumped_forward_trims_nothing_recent() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(StateDb::open(dir.path()).unwrap());
        let ledger = Ledger::open(db.clone());
        ledger.record(charge("gen_000000000001", "p1", "s", 50, 1));
        ledger.record(charge("gen_000000000002", "p1", "s", 40, 200));
        let later = Utc::now() + chrono::Duration::days(365);
        let reopened = Ledger::open_at(db, later);
        assert_eq!(
            reopened.spent_in_project("p1"),
            50,
            "the recent charge kept, the old one trimmed"
        );
    }

    #[test]
    fn totals_survive_a_restart_and_a_turn_counts_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(StateDb::open(dir.path()).unwrap());
        let l = Ledger::open(db.clone());
        l.record(charge("gen_1", "p1", "s1", 50, 0));
        l.record(charge("gen_1", "p1", "s1", 50, 0));
        l.record(charge("gen_2", "p2", "s1", 100, 0));
        l.record(charge("gen_3", "p1", "s2", 50, 2));
        l.record(charge("gen_4", "p1", "s2", 0, 0));
        // Another process on the same folder sees the same totals.
        let again = Ledger::open(Arc::new(StateDb::open(dir.path()).unwrap()));
        let s = again.spent(Some("p1"), "s1");
        assert_eq!(
            s,
            Spent {
                today: 150,
                this_project: 100,
                this_session: 150
            }
        );
        assert_eq!(again.spent(None, "s2").this_project, 0);
    }

    /// Two processes each asking for 50 with 60 left in the day: one goes, the other is
    /// refused, naming the setting; a reservation given back (or whose process is gone) frees
    /// its credits; one attached to a job counts until the job is charged.
    #[test]
    fn two_processes_racing_a_budget_spend_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = Ledger::open(Arc::new(StateDb::open(dir.path()).unwrap()));
        let b_db = Arc::new(StateDb::open(dir.path()).unwrap());
        let b = Ledger::open(b_db.clone());
        a.record(charge("gen_0", "p", "sa", 40, 0));
        let budgets = Budgets {
            per_day: Some(100),
            ..Default::default()
        };
        let first = a.reserve(&budgets, 50, "sa").unwrap();
        let refused = b.reserve(&budgets, 50, "sb").unwrap_err();
        assert_eq!(refused.code, Code::OverBudget);
        assert!(refused.message.contains("NEMO_MAX_CREDITS_PER_DAY"));
        drop(first);
        let second = b.reserve(&budgets, 50, "sb").unwrap();
        // Process b is gone: its unattached reservation no longer counts.
        b_db.retire();
        assert!(a.reserve(&budgets, 50, "sa").is_ok());
        drop(second);
        // Attached to a running job, it counts until that job's charge is recorded.
        let r = a.reserve(&budgets, 50, "sa").unwrap();
        let db = &a.db;
        db.write("", |tx| {
            tx.execute(
                "INSERT INTO jobs (id, kind, runner, running, created_at, body) VALUES ('gen_000000000001', 'gen', ?1, 1, '2026', '{}')",
                [db.me().as_str()],
            )
        })
        .unwrap();
        r.attach("gen_000000000001");
        drop(r);
        assert!(a.reserve(&budgets, 50, "sa").is_err(), "still reserved");
        a.record(charge("gen_000000000001", "p", "sa", 30, 0));
        assert_eq!(a.spent(None, "sa").today, 70);
        assert!(a.reserve(&budgets, 30, "sa").is_ok());
        assert!(a.reserve(&budgets, 31, "sa").is_err());
    }

    #[test]
    fn budgets_refuse_before_sending_and_name_their_setting() {
        let spent = Spent {
            today: 80,
            this_project: 0,
            this_session: 30,
        };
        let off = Budgets {
            spending_off: true,
            ..Default::default()
        };
        let e = off.check(50, &spent).unwrap_err();
        assert_eq!(e.code, Code::SpendingDisabled);
        assert!(e.message.contains("NEMO_ALLOW_SPENDING=0"));
        let day = Budgets {
            per_day: Some(120),
            ..Default::default()
        };
        let e = day.check(50, &spent).unwrap_err();
        assert_eq!(e.code, Code::OverBudget);
        assert!(e.message.contains("NEMO_MAX_CREDITS_PER_DAY") && e.message.contains("80"));
        assert!(day.check(40, &spent).is_ok());
        let session = Budgets {
            per_session: Some(60),
            ..Default::default()
        };
        assert!(session
            .check(50, &spent)
            .unwrap_err()
            .message
            .contains("NEMO_MAX_CREDITS_PER_SESSION"));
        assert!(Budgets::default().check(10_000, &spent).is_ok());
    }
}

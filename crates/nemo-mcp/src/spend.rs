//! Money over time: what each turn charged, kept across restarts (`spend.jsonl` in the state
//! folder, one line per charged turn, appended and synced), and the budgets checked against it
//! before anything is sent: per day (`NEMO_MAX_CREDITS_PER_DAY`), per MCP session
//! (`NEMO_MAX_CREDITS_PER_SESSION`), and the switch that turns spending off
//! (`NEMO_ALLOW_SPENDING=0`).

use crate::errors::{Code, ToolError};
use chrono::{DateTime, Local, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

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

/// The budgets, from the settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Budgets {
    /// `NEMO_ALLOW_SPENDING=0` turns spending off (free tools still act).
    pub spending_off: bool,
    pub per_day: Option<i64>,
    pub per_session: Option<i64>,
}

pub struct Ledger {
    file: PathBuf,
    charges: Mutex<Vec<Charge>>,
}

impl Ledger {
    /// The ledger in `file`; lines that cannot be read are skipped (and said so in the log),
    /// the file itself is never rewritten on load.
    pub fn open(file: PathBuf) -> Ledger {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let horizon = Utc::now() - chrono::Duration::days(KEEP_DAYS);
        let mut charges = Vec::new();
        let mut bad = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<Charge>(line) {
                Ok(c) if c.at >= horizon => charges.push(c),
                Ok(_) => {}
                Err(_) => bad += 1,
            }
        }
        if bad > 0 {
            tracing::warn!(
                "{bad} line(s) of the spend ledger {} could not be read and are not counted",
                file.display()
            );
        }
        Ledger {
            file,
            charges: Mutex::new(charges),
        }
    }

    /// Record a charged turn (once per job; nothing for a turn that charged nothing).
    pub fn record(&self, charge: Charge) {
        if charge.credits <= 0 {
            return;
        }
        let mut charges = crate::store::lock(&self.charges);
        if charges.iter().any(|c| c.job_id == charge.job_id) {
            return;
        }
        if let Err(e) = self.append(&charge) {
            tracing::error!("could not write the spend ledger: {e}");
        }
        charges.push(charge);
    }

    fn append(&self, charge: &Charge) -> std::io::Result<()> {
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&self.file)?;
        let mut line = serde_json::to_vec(charge).map_err(std::io::Error::other)?;
        line.push(b'\n');
        f.write_all(&line)?;
        f.sync_data()
    }

    /// What was spent in `project` (one sum, for a list of projects).
    pub fn spent_in_project(&self, project: &str) -> i64 {
        crate::store::lock(&self.charges)
            .iter()
            .filter(|c| c.project == project)
            .map(|c| c.credits)
            .sum()
    }

    /// What was spent today, in `project`, and in `session`.
    pub fn spent(&self, project: Option<&str>, session: &str) -> Spent {
        let today = Local::now().date_naive();
        let charges = crate::store::lock(&self.charges);
        let sum =
            |f: &dyn Fn(&Charge) -> bool| charges.iter().filter(|c| f(c)).map(|c| c.credits).sum();
        Spent {
            today: sum(&|c| c.at.with_timezone(&Local).date_naive() == today),
            this_project: project.map_or(0, |p| sum(&|c| c.project == p)),
            this_session: sum(&|c| c.session == session),
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
    use super::*;

    fn charge(job: &str, project: &str, session: &str, credits: i64, days_ago: i64) -> Charge {
        Charge {
            job_id: job.into(),
            at: Utc::now() - chrono::Duration::days(days_ago),
            project: project.into(),
            session: session.into(),
            credits,
        }
    }

    #[test]
    fn totals_survive_a_restart_and_a_turn_counts_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("spend.jsonl");
        let l = Ledger::open(file.clone());
        l.record(charge("gen_1", "p1", "s1", 50, 0));
        l.record(charge("gen_1", "p1", "s1", 50, 0));
        l.record(charge("gen_2", "p2", "s1", 100, 0));
        l.record(charge("gen_3", "p1", "s2", 50, 2));
        l.record(charge("gen_4", "p1", "s2", 0, 0));
        std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap()
            .write_all(b"{cut short\n")
            .unwrap();
        let again = Ledger::open(file);
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

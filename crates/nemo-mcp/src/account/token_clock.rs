//! The free account's clock. An anonymous token lasts 7 days (the contract, §1), and a new one
//! for the same client id is a new anonymous user: projects made with the old token are no
//! longer reachable from this server once it lapses. What the user can do is register through
//! the bind link (`{web}/register?bind=<user_id>`) before then. So results say so: once per MCP
//! session when less than 48 hours are left, and once more in the last 6 hours; `connect` and
//! `get_credits` always say when it expires.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

const WARN_FROM: chrono::Duration = chrono::Duration::hours(48);
const WARN_AGAIN_FROM: chrono::Duration = chrono::Duration::hours(6);

/// What happens at expiry, in the words the user is told.
pub const AFTER_EXPIRY: &str = "when it expires, this server gets a new free token, which is a new anonymous account: the projects and credits of the old one can no longer be opened from here";

/// Which warnings this MCP session has given.
#[derive(Debug, Default)]
pub struct Clock {
    told: Mutex<Stage>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    #[default]
    Nothing,
    Soon,
    Last,
}

fn stage(left: chrono::Duration) -> Stage {
    if left <= WARN_AGAIN_FROM {
        Stage::Last
    } else if left <= WARN_FROM {
        Stage::Soon
    } else {
        Stage::Nothing
    }
}

/// `in 1 day 4 h`, `in 35 min`, `already`.
fn how_long(left: chrono::Duration) -> String {
    let minutes = left.num_minutes();
    if minutes <= 0 {
        return "already".into();
    }
    let (d, h, m) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    match (d, h) {
        (0, 0) => format!("in {m} min"),
        (0, h) => format!("in {h} h {m} min"),
        (d, h) => format!("in {d} day{} {h} h", if d == 1 { "" } else { "s" }),
    }
}

/// `The free account's token expires 2026-12-04 10:00 UTC (in 1 day 4 h).`
pub fn expiry_line(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let left = expires_at - now;
    if left <= chrono::Duration::zero() {
        return format!(
            "The free account's token expired {}.",
            expires_at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    format!(
        "The free account's token expires {} ({}).",
        expires_at.format("%Y-%m-%d %H:%M UTC"),
        how_long(left)
    )
}

impl Clock {
    /// The warning due now for an anonymous token expiring at `expires_at`, if this session
    /// has not given it yet.
    pub fn due(
        &self,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        register_link: Option<&str>,
    ) -> Option<String> {
        let expires_at = expires_at?;
        let now_stage = stage(expires_at - now);
        let mut told = crate::support::sync::lock(&self.told);
        if now_stage == Stage::Nothing || now_stage <= *told {
            return None;
        }
        *told = now_stage;
        let register = register_link.map_or_else(
            || "register at NemoVideo".to_string(),
            |l| format!("give the user this link to register (free) and keep their projects: {l}"),
        );
        Some(format!(
            "{}; {AFTER_EXPIRY}. To keep them, {register}.",
            expiry_line(expires_at, now).trim_end_matches('.'),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warned_once_under_48_hours_and_again_under_6() {
        let c = Clock::default();
        let now = Utc::now();
        let link = Some("https://w/register?bind=anon_1");
        assert!(c
            .due(Some(now + chrono::Duration::hours(72)), now, link)
            .is_none());
        let first = c
            .due(Some(now + chrono::Duration::hours(47)), now, link)
            .unwrap();
        assert!(first.contains("register?bind=anon_1"), "{first}");
        assert!(
            first.contains("in 1 day 23 h") && first.contains("new anonymous account"),
            "{first}"
        );
        assert!(c
            .due(Some(now + chrono::Duration::hours(40)), now, link)
            .is_none());
        let last = c
            .due(Some(now + chrono::Duration::hours(5)), now, link)
            .unwrap();
        assert!(last.contains("in 5 h") || last.contains("in 4 h"), "{last}");
        assert!(c
            .due(Some(now + chrono::Duration::hours(1)), now, link)
            .is_none());
        assert!(Clock::default().due(None, now, link).is_none());
    }

    #[test]
    fn the_expiry_is_said_plainly() {
        let now = Utc::now();
        assert!(
            expiry_line(now + chrono::Duration::minutes(30), now).contains("in 30 min")
                || expiry_line(now + chrono::Duration::minutes(30), now).contains("in 29 min")
        );
        assert!(expiry_line(now - chrono::Duration::hours(1), now).contains("expired"));
    }
}

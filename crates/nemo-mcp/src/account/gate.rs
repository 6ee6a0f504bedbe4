//! The spend gate as a decision: given what a paid step is likely to cost, what the account
//! has, the caller's ceiling and the user's settings, may the instruction go, must it be
//! refused, or must the user say yes first? Pure, so every branch is a unit test; `mcp::confirm`
//! does the asking (an elicitation dialog, or the `confirm: true` retry).
//!
//! The budgets (per day, per MCP session, the spending switch) are not decided here: they are
//! checked and reserved in one transaction of the shared database (`spend::Ledger::reserve`),
//! before this decision, so that two processes never both pass a budget with room for one.

use super::estimate::{guard, Estimate};
use crate::errors::{Code, ToolError};

/// What the user set about being asked before spending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AskPolicy {
    /// `NEMO_CONFIRM_SPENDING`: every paid step needs the user's yes.
    pub every_time: bool,
    /// `NEMO_CONFIRM=always`: ask whenever the host can ask.
    pub always_where_possible: bool,
    /// Ask (where the host can) when fewer than this many credits would be left.
    pub when_left_below: i64,
}

/// How this call can get the user's yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consent {
    /// The host answers elicitation (a dialog in the host).
    pub host_can_ask: bool,
    /// The caller passed `confirm: true` (the user agreed in the conversation).
    pub confirmed: bool,
}

/// The gate's answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum Decision {
    /// Send the instruction.
    Go,
    /// Ask the user through the host first; send only on their yes.
    AskHost,
    /// The host cannot ask and the settings want a yes: answer with the estimate and how to
    /// retry with `confirm: true`. Nothing is sent.
    NeedConfirmFlag(ToolError),
    /// Over `max_credits` or over the balance. Nothing is sent.
    Refuse(ToolError),
}

/// Decide whether a paid step may go. `more_credits` says how to get credits (registration or
/// top-up), used only when the balance is short.
pub fn decide(
    estimate: &Estimate,
    max_credits: Option<i64>,
    available: i64,
    policy: AskPolicy,
    consent: Consent,
    more_credits: impl FnOnce() -> String,
) -> Decision {
    if let Err(e) = guard(estimate, max_credits, available, more_credits) {
        return Decision::Refuse(e);
    }
    if !consent.host_can_ask {
        return if policy.every_time && !consent.confirmed {
            Decision::NeedConfirmFlag(confirmation_required(estimate, available))
        } else {
            Decision::Go
        };
    }
    let low = available - estimate.credits < policy.when_left_below;
    if policy.every_time || policy.always_where_possible || low {
        Decision::AskHost
    } else {
        Decision::Go
    }
}

/// The answer to a paid call that needs the user's agreement on a host that cannot ask
/// (no elicitation: Claude Desktop, claude.ai): the estimate, nothing sent, and how to go on.
pub fn confirmation_required(estimate: &Estimate, available: i64) -> ToolError {
    let left = (available - estimate.credits).max(0);
    ToolError::new(
        Code::ConfirmationRequired,
        format!(
            "this would spend about {} credits ({}), leaving about {left} of {available}; spending needs the user's confirmation (NEMO_CONFIRM_SPENDING), so nothing was sent",
            estimate.credits, estimate.basis
        ),
    )
    .next(format!(
        "ask the user whether to spend about {} credits; only if they agree, call the same tool again with the same arguments and confirm: true",
        estimate.credits
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::estimate::CostKind;

    fn est(credits: i64) -> Estimate {
        Estimate {
            kind: CostKind::Generation,
            credits,
            basis: "NemoVideo's usual price".into(),
        }
    }
    const QUIET: AskPolicy = AskPolicy {
        every_time: false,
        always_where_possible: false,
        when_left_below: 20,
    };
    const EVERY: AskPolicy = AskPolicy {
        every_time: true,
        ..QUIET
    };
    const ALWAYS: AskPolicy = AskPolicy {
        always_where_possible: true,
        ..QUIET
    };
    const ASKS: Consent = Consent {
        host_can_ask: true,
        confirmed: false,
    };
    const SILENT: Consent = Consent {
        host_can_ask: false,
        confirmed: false,
    };
    const FLAG: Consent = Consent {
        host_can_ask: false,
        confirmed: true,
    };
    fn run(e: i64, max: Option<i64>, avail: i64, p: AskPolicy, c: Consent) -> Decision {
        decide(&est(e), max, avail, p, c, || "register at …".into())
    }

    #[test]
    fn plenty_left_goes_without_asking() {
        assert!(matches!(run(10, None, 100, QUIET, ASKS), Decision::Go));
        assert!(matches!(run(10, None, 100, QUIET, SILENT), Decision::Go));
    }

    #[test]
    fn over_max_credits_is_refused_before_anything_else() {
        match run(30, Some(20), 100, EVERY, ASKS) {
            Decision::Refuse(e) => {
                assert_eq!(e.code, Code::OverBudget);
                assert!(e.message.contains("max_credits (20)"), "{}", e.message);
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn over_the_balance_is_refused_with_the_way_to_more_credits() {
        match run(30, None, 10, QUIET, FLAG) {
            Decision::Refuse(e) => {
                assert_eq!(e.code, Code::OutOfCredits);
                assert_eq!(e.next_step.as_deref(), Some("register at …"));
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn few_left_asks_where_the_host_can_and_goes_where_it_cannot() {
        // 25 - 10 = 15 left, under 20.
        assert!(matches!(run(10, None, 25, QUIET, ASKS), Decision::AskHost));
        assert!(matches!(run(10, None, 25, QUIET, SILENT), Decision::Go));
    }

    #[test]
    fn always_asks_only_where_the_host_can() {
        assert!(matches!(
            run(1, None, 1000, ALWAYS, ASKS),
            Decision::AskHost
        ));
        assert!(matches!(run(1, None, 1000, ALWAYS, SILENT), Decision::Go));
    }

    #[test]
    fn confirm_spending_asks_or_needs_the_flag() {
        assert!(matches!(run(1, None, 1000, EVERY, ASKS), Decision::AskHost));
        match run(5, None, 1000, EVERY, SILENT) {
            Decision::NeedConfirmFlag(e) => {
                assert_eq!(e.code, Code::ConfirmationRequired);
                assert!(e.message.contains("leaving about 995 of 1000"));
                assert!(e.next_step.unwrap().contains("confirm: true"));
            }
            d => panic!("{d:?}"),
        }
        assert!(matches!(run(5, None, 1000, EVERY, FLAG), Decision::Go));
    }
}

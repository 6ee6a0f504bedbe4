//! Asking the user before money is spent, where the host can ask (MCP elicitation): a form
//! before a `generate` that would leave few credits (or before any, with `NEMO_CONFIRM=always`),
//! and the registration or top-up page (URL mode) when the credits have run out. A host that
//! cannot ask sees the server behave as without this.

use crate::account::estimate::Estimate;
use crate::account::gate::{decide, AskPolicy, Consent, Decision};
use crate::app::App;
use crate::errors::{Code, ToolError};
use rmcp::service::{ElicitationError, Peer, RequestContext, RoleServer};
use serde::Deserialize;

/// The form: one checkbox.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SpendConfirmation {
    /// Send the instruction and spend the credits.
    pub confirm: bool,
}

rmcp::elicit_safe!(SpendConfirmation);

/// Ask; `Ok` to go on (also when the host cannot ask), else the error to answer, nothing sent.
pub async fn spend(
    peer: &Peer<RoleServer>,
    estimate: &Estimate,
    available: i64,
) -> Result<(), ToolError> {
    let left = (available - estimate.credits).max(0);
    let message = format!(
        "NemoVideo will spend about {} credits on this instruction ({}), leaving about {left} of {available}. Send it?",
        estimate.credits, estimate.basis
    );
    let refused = |how: &str| {
        ToolError::new(
            Code::NotConfirmed,
            format!(
                "the user {how} spending about {} credits; nothing was sent",
                estimate.credits
            ),
        )
        .next("ask the user whether to go on; call generate again once they agree")
    };
    match peer
        .elicit_with_timeout::<SpendConfirmation>(
            message,
            Some(std::time::Duration::from_secs(300)),
        )
        .await
    {
        Ok(Some(SpendConfirmation { confirm: true })) => Ok(()),
        Ok(_) | Err(ElicitationError::UserDeclined) => Err(refused("declined")),
        Err(ElicitationError::UserCancelled) => Err(refused("cancelled")),
        Err(ElicitationError::CapabilityNotSupported) => Ok(()),
        Err(e) => {
            tracing::warn!("asking for confirmation failed: {e}");
            Err(refused("did not confirm"))
        }
    }
}

/// Show the registration or top-up page (URL elicitation), without waiting for it.
pub fn show_link(peer: &Peer<RoleServer>, url: &str) {
    let Ok(parsed) = url::Url::parse(url) else {
        return;
    };
    let peer = peer.clone();
    tokio::spawn(async move {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let message = "You are out of NemoVideo credits. Register (free) or top up to continue.";
        match peer.elicit_url(message, parsed, id).await {
            Ok(_) | Err(ElicitationError::CapabilityNotSupported) => {}
            Err(e) => tracing::debug!("could not show the credits page: {e}"),
        }
    });
}

/// The cost guard, then (where the host can ask) the user's yes: refuses, sending nothing, what
/// the user cannot or did not agree to pay. The estimate, when the instruction may go.
pub async fn agree_to_spend(
    app: &App,
    ctx: &RequestContext<RoleServer>,
    instruction: &str,
    max_credits: Option<i64>,
    confirmed: bool,
) -> Result<
    (
        crate::account::estimate::Estimate,
        crate::account::spend::Reservation,
    ),
    ToolError,
> {
    agree_to_estimate(app, ctx, app.estimate(instruction), max_credits, confirmed).await
}

/// [`agree_to_spend`] for an estimate already made (a set of variants: their sum).
pub async fn agree_to_estimate(
    app: &App,
    ctx: &RequestContext<RoleServer>,
    estimate: crate::account::estimate::Estimate,
    max_credits: Option<i64>,
    confirmed: bool,
) -> Result<
    (
        crate::account::estimate::Estimate,
        crate::account::spend::Reservation,
    ),
    ToolError,
> {
    // The budgets first: they need no network, and refuse before anything is asked or sent.
    // Checked against every process's spending and reservations, and reserved, at once; the
    // caller attaches the reservation to the job it starts (given back if it starts none).
    let reservation =
        app.spend
            .reserve(&app.settings.budgets, estimate.credits, &app.session_key)?;
    let available = app
        .client
        .credits()
        .await
        .map_err(|e| app.err(&e))?
        .available;
    let consent = Consent {
        host_can_ask: ctx
            .peer
            .peer_info()
            .is_some_and(|i| i.capabilities.elicitation.is_some()),
        confirmed,
    };
    let policy = AskPolicy {
        every_time: app.settings.confirm_spending,
        always_where_possible: app.settings.confirm_always,
        when_left_below: app.settings.confirm_below,
    };
    match decide(&estimate, max_credits, available, policy, consent, || {
        app.more_credits_step()
    }) {
        Decision::Go => {}
        Decision::AskHost => spend(&ctx.peer, &estimate, available).await?,
        Decision::Refuse(e) => {
            if e.code == Code::OutOfCredits {
                if let Some(url) = app.client.register_url() {
                    show_link(&ctx.peer, &url);
                }
            }
            return Err(e);
        }
        Decision::NeedConfirmFlag(e) => return Err(e),
    }
    Ok((estimate, reservation))
}

//! Asking the user before money is spent, where the host can ask (MCP elicitation): a form
//! before a `generate` that would leave few credits (or before any, with `NEMO_CONFIRM=always`),
//! and the registration or top-up page (URL mode) when the credits have run out. A host that
//! cannot ask sees the server behave as without this.

use crate::account::estimate::Estimate;
use crate::app::App;
use crate::errors::{Code, ToolError};
use rmcp::service::{ElicitationError, Peer, RoleServer};
use serde::Deserialize;

/// The form: one checkbox.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SpendConfirmation {
    /// Send the instruction and spend the credits.
    pub confirm: bool,
}

rmcp::elicit_safe!(SpendConfirmation);

/// Whether this spending needs the user's yes.
pub fn needed(app: &App, estimate: &Estimate, available: i64) -> bool {
    app.settings.confirm_always || available - estimate.credits < app.settings.confirm_below
}

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
/// The answer to a paid call that needs the user's agreement on a host that cannot ask
/// (no elicitation: Claude Desktop, claude.ai): the estimate, nothing sent, and how to go on.
pub fn required(estimate: &Estimate, available: i64) -> ToolError {
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

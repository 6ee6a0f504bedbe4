//! Asking the user before money is spent, where the host can ask (MCP elicitation): a form
//! before a `generate` that would leave few credits (or before any, with `NEMO_CONFIRM=always`),
//! and the registration or top-up page (URL mode) when the credits have run out. A host that
//! cannot ask sees the server behave as without this. In the 2026-07-28 era the same questions
//! go as multi-round-trip requests ([`crate::mcp::host_input`]).

use crate::account::estimate::Estimate;
use crate::account::gate::{decide, AskPolicy, Consent, Decision};
use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::mcp::host_input::{Answer, HostInput};
use rmcp::model::{ElicitRequestParams, ElicitationSchema, JsonObject, MetaObject, Tool};
use rmcp::service::{ElicitationError, Peer, RequestContext, RoleServer};
use serde::Deserialize;

/// The tools that spend credits.
pub const PAID_TOOLS: &[&str] = &["generate", "make_video"];

/// With `NEMO_CONFIRM_SPENDING` on, the paid tools ask the host to ask: Claude Code asks the
/// user before every call of a tool whose `_meta` says `anthropic/requiresUserInteraction`,
/// even in its bypass modes; other hosts ignore the key.
pub fn mark_paid(tools: &mut [Tool]) {
    for t in tools
        .iter_mut()
        .filter(|t| PAID_TOOLS.contains(&t.name.as_ref()))
    {
        t.meta
            .get_or_insert_with(|| MetaObject(JsonObject::new()))
            .0
            .insert(
                "anthropic/requiresUserInteraction".into(),
                serde_json::Value::Bool(true),
            );
    }
}

/// The form: one checkbox.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SpendConfirmation {
    /// Send the instruction and spend the credits.
    pub confirm: bool,
}

rmcp::elicit_safe!(SpendConfirmation);

/// Ask; `Ok` to go on (also when the host cannot ask), else the error to answer, nothing sent.
pub async fn spend(
    ctx: &RequestContext<RoleServer>,
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
    if let Some(input) = HostInput::of(ctx) {
        // The key names the amount: a yes to 50 credits is no yes to a larger estimate.
        let key = format!("confirm_spend_{}", estimate.credits);
        return match input.answer(&key) {
            Some(Answer::Accepted(Some(c))) if c["confirm"] == serde_json::Value::Bool(true) => {
                Ok(())
            }
            Some(Answer::Accepted(_)) | Some(Answer::Declined) => Err(refused("declined")),
            Some(Answer::Cancelled) => Err(refused("cancelled")),
            None => {
                let schema = ElicitationSchema::from_type::<SpendConfirmation>()
                    .map_err(|e| ToolError::new(Code::Internal, e.to_string()))?;
                input.ask(
                    &key,
                    ElicitRequestParams::FormElicitationParams {
                        meta: None,
                        message,
                        requested_schema: schema,
                    },
                );
                // Not seen: `call_tool` answers with the question.
                Err(refused("was asked before"))
            }
        };
    }
    match ctx
        .peer
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

/// Show the registration or top-up page: in the new era as this call's question (the retry
/// then gives the refusal), else without waiting for it.
pub fn show_credits_page(ctx: &RequestContext<RoleServer>, url: &str) {
    let Some(input) = HostInput::of(ctx) else {
        return show_link(&ctx.peer, url);
    };
    if input.answer(CREDITS_PAGE).is_none() && url::Url::parse(url).is_ok() {
        input.ask(
            CREDITS_PAGE,
            ElicitRequestParams::UrlElicitationParams {
                meta: None,
                message: OUT_OF_CREDITS.to_string(),
                url: url.to_string(),
                elicitation_id: String::new(),
            },
        );
    }
}

const CREDITS_PAGE: &str = "credits_page";
const OUT_OF_CREDITS: &str =
    "You are out of NemoVideo credits. Register (free) or top up to continue.";

/// Show the registration or top-up page (URL elicitation), without waiting for it.
pub fn show_link(peer: &Peer<RoleServer>, url: &str) {
    let Ok(parsed) = url::Url::parse(url) else {
        return;
    };
    let peer = peer.clone();
    tokio::spawn(async move {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let message = OUT_OF_CREDITS;
        match peer.elicit_url(message, parsed, id).await {
            Ok(_) | Err(ElicitationError::CapabilityNotSupported) => {}
            Err(e) => tracing::debug!("could not show the credits page: {e}"),
        }
    });
}

/// What a paid step may spend, agreed: the estimate, and its reservation against the budgets
/// (attached to the job it starts, given back if it starts none).
pub type Agreed = (Estimate, crate::account::reservations::Reservation);

/// The cost guard, then (where the host can ask) the user's yes: refuses, sending nothing, what
/// the user cannot or did not agree to pay. The estimate, when the instruction may go.
pub async fn agree_to_spend(
    app: &App,
    ctx: &RequestContext<RoleServer>,
    instruction: &str,
    max_credits: Option<i64>,
    confirmed: bool,
) -> Result<Agreed, ToolError> {
    agree_to_estimate(app, ctx, app.estimate(instruction), max_credits, confirmed).await
}

/// [`agree_to_spend`] for an estimate already made (a set of variants: their sum).
pub async fn agree_to_estimate(
    app: &App,
    ctx: &RequestContext<RoleServer>,
    estimate: Estimate,
    max_credits: Option<i64>,
    confirmed: bool,
) -> Result<Agreed, ToolError> {
    // The budgets first: they need no network, and refuse before anything is asked or sent.
    // Checked against every process's spending and reservations, and reserved, at once; the
    // caller attaches the reservation to the job it starts (given back if it starts none).
    let reservation =
        app.spend
            .reserve(&app.settings.budgets, estimate.credits, &app.mcp_session)?;
    let available = app
        .client
        .credits()
        .await
        .map_err(|e| app.err(&e))?
        .available;
    let consent = Consent {
        // Per request in the 2026-07-28 era, from `initialize` before it.
        host_can_ask: ctx
            .client_capabilities()
            .is_some_and(|c| c.elicitation.is_some()),
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
        Decision::AskHost => spend(ctx, &estimate, available).await?,
        Decision::Refuse(e) => {
            if e.code == Code::OutOfCredits {
                if let Some(url) = app.client.register_url() {
                    show_credits_page(ctx, &url);
                }
            }
            return Err(e);
        }
        Decision::NeedConfirmFlag(e) => return Err(e),
    }
    Ok((estimate, reservation))
}

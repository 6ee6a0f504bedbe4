//! Asking the user in the 2026-07-28 era, where a server may not send requests to the client:
//! a multi-round-trip request (MRTR). The tool call answers `input_required` with the question;
//! the host asks the user and calls the tool again with the same arguments and the answers
//! (`inputResponses`). `call_tool` keeps a [`HostInput`] in the request's extensions (as it
//! keeps the task slot), the spend gate reads the answers from it or leaves its question there,
//! and `call_tool` then answers with the question instead of the tool's result.
//!
//! Nothing is kept between the rounds: a retry is checked again from the start, and an answer
//! counts only for the question it answers (its key names the amount of credits agreed to).

use rmcp::model::{
    CallToolRequestParams, ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction,
    InputRequest, InputRequests, InputRequiredResult, InputResponses, ProtocolVersion,
};
use rmcp::service::{RequestContext, RoleServer};
use std::sync::{Arc, Mutex};

/// Whether this request came in the 2026-07-28 era (no server-to-client requests).
pub fn new_era(ctx: &RequestContext<RoleServer>) -> bool {
    ctx.protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
}

/// One tool call's answers from the host and the questions it must ask.
#[derive(Clone, Default)]
pub struct HostInput(Arc<Inner>);

#[derive(Default)]
struct Inner {
    answers: InputResponses,
    questions: Mutex<InputRequests>,
}

/// What the user said to one question.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Accepted, with the form's content (`None` for a page shown).
    Accepted(Option<serde_json::Value>),
    Declined,
    Cancelled,
}

impl HostInput {
    pub fn for_call(r: &CallToolRequestParams) -> HostInput {
        HostInput(Arc::new(Inner {
            answers: r.input_responses.clone().unwrap_or_default(),
            questions: Mutex::default(),
        }))
    }

    /// The call's input, in the new era only.
    pub fn of(ctx: &RequestContext<RoleServer>) -> Option<HostInput> {
        new_era(ctx)
            .then(|| ctx.extensions.get::<HostInput>().cloned())
            .flatten()
    }

    /// The host's answer to the question `key` of the previous round.
    pub fn answer(&self, key: &str) -> Option<Answer> {
        let r: ElicitResult = serde_json::from_value(self.0.answers.get(key)?.clone()).ok()?;
        Some(match r.action {
            ElicitationAction::Accept => Answer::Accepted(r.content),
            ElicitationAction::Decline => Answer::Declined,
            // Cancelled, or an action of a later protocol: not a yes.
            _ => Answer::Cancelled,
        })
    }

    /// Ask `params` under `key` (the call then answers `input_required`).
    pub fn ask(&self, key: &str, params: ElicitRequestParams) {
        let request = InputRequest::Elicitation(ElicitRequest::new(params));
        crate::support::sync::lock(&self.0.questions).insert(key.to_string(), request);
    }

    /// The questions this round asks, if any.
    pub fn take(&self) -> Option<InputRequiredResult> {
        let questions = std::mem::take(&mut *crate::support::sync::lock(&self.0.questions));
        (!questions.is_empty()).then(|| InputRequiredResult::from_input_requests(questions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call_with(answers: serde_json::Value) -> HostInput {
        let mut r = CallToolRequestParams::new("generate");
        if let serde_json::Value::Object(o) = answers {
            r = r.with_input_responses(o.into_iter().collect());
        }
        HostInput::for_call(&r)
    }

    #[test]
    fn answers_are_read_by_their_key() {
        let input = call_with(json!({
            "confirm_spend_50": {"action": "accept", "content": {"confirm": true}},
            "credits_page": {"action": "decline"},
        }));
        assert_eq!(
            input.answer("confirm_spend_50"),
            Some(Answer::Accepted(Some(json!({"confirm": true}))))
        );
        assert_eq!(input.answer("credits_page"), Some(Answer::Declined));
        // An answer for another amount is not an answer to this question.
        assert_eq!(input.answer("confirm_spend_80"), None);
    }

    #[test]
    fn a_question_asked_is_the_rounds_result() {
        let input = call_with(json!({}));
        assert!(input.take().is_none());
        input.ask(
            "credits_page",
            ElicitRequestParams::UrlElicitationParams {
                meta: None,
                message: "Register".into(),
                url: "https://example.com/register".into(),
                elicitation_id: String::new(),
            },
        );
        let r = input.take().expect("a question");
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["resultType"], "input_required");
        assert_eq!(v["inputRequests"]["credits_page"]["params"]["mode"], "url");
        assert!(input.take().is_none(), "asked once");
    }
}

//! A `ToolError` as the protocol carries it: an error result (`isError: true`) whose text says
//! the code, the message and the next step, and whose structured content is the error itself,
//! so a host that keeps only one of the two loses nothing.

use crate::errors::ToolError;
use rmcp::model::{CallToolResult, ContentBlock};

/// A tool error as a tool result.
pub trait ErrorResult {
    fn to_result(&self) -> CallToolResult;
}

impl ErrorResult for ToolError {
    /// The text holds every fact the structured content holds (code, message, whether and when
    /// to retry, the next step, and the job and links the message and step name): Claude Code
    /// shows its model only the text of an error result. The structured content is the error
    /// itself; it validates against every tool's output schema, which requires no property
    /// and forbids none (held by `crate::mcp::schema`'s tests), so a client that checks it
    /// (the TypeScript SDK 1.x does) accepts it.
    fn to_result(&self) -> CallToolResult {
        // A backend's words in the message can be any length: both halves are held to what
        // the strictest host passes on whole.
        let mut value = serde_json::to_value(self).unwrap_or_default();
        crate::mcp::fit::structured(&mut value, crate::mcp::fit::STRUCTURED_BUDGET);
        let text = crate::mcp::fit::text(&error_text(self));
        let mut r = CallToolResult::error(vec![ContentBlock::text(text)]);
        r.structured_content = Some(value);
        r
    }
}

/// An error as the model reads it when it gets only the text.
pub fn error_text(e: &ToolError) -> String {
    let mut text = format!("Error ({}): {}", e.code.as_str(), e.message);
    text.push_str(&match (e.retryable, e.retry_after_s) {
        (true, Some(s)) => format!("\nRetryable: yes, after {s} s."),
        (true, None) => "\nRetryable: yes.".to_string(),
        (false, _) => "\nRetryable: no (the same call would fail the same way).".to_string(),
    });
    if let Some(n) = &e.next_step {
        text.push_str(&format!("\nNext step: {n}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_result_carries_the_error_in_both_parts() {
        let r = ToolError::invalid("x").next("do y").to_result();
        assert_eq!(r.is_error, Some(true));
        let s = r.structured_content.unwrap();
        assert_eq!(s["code"], "invalid_argument");
        assert_eq!(s["next_step"], "do y");
        let text = r.content[0].as_text().unwrap().text.clone();
        assert!(text.contains("Next step: do y"), "{text}");
        assert!(text.contains("Retryable: no"), "{text}");
    }

    /// Every fact of the structured content is in the text too, for each code.
    #[test]
    fn the_text_alone_says_everything_the_structure_says() {
        use crate::errors::Code;
        let e = ToolError::new(
            Code::RateLimited,
            "rate limited by NemoVideo (job gen_0123456789ab)",
        )
        .retryable(Some(30))
        .next("wait 30 s, then open https://example.invalid/register?bind=u1");
        let r = e.to_result();
        let text = r.content[0].as_text().unwrap().text.clone();
        let s = r.structured_content.unwrap();
        for fact in [
            s["code"].as_str().unwrap().to_string(),
            s["message"].as_str().unwrap().to_string(),
            s["next_step"].as_str().unwrap().to_string(),
            format!("after {} s", s["retry_after_s"]),
            "Retryable: yes".to_string(),
            "gen_0123456789ab".to_string(),
            "https://example.invalid/register?bind=u1".to_string(),
        ] {
            assert!(text.contains(&fact), "{fact} missing from: {text}");
        }
    }

    /// An error's structured content validates against every tool's output schema (what the
    /// TypeScript SDK 1.x checks before anyone sees the error): no schema requires a property
    /// or forbids one, and where an error field has a name the schema describes, its type
    /// agrees.
    #[test]
    fn every_error_validates_against_every_output_schema() {
        use crate::errors::Code;
        let e = ToolError::new(Code::Busy, "x").retryable(Some(3)).next("y");
        let error = serde_json::to_value(&e).unwrap();
        let tools = crate::mcp::server::NemoServer::lean_router().list_all();
        let mut checked = 0;
        for t in &tools {
            let Some(schema) = &t.output_schema else {
                continue;
            };
            checked += 1;
            assert!(
                schema.get("required").is_none(),
                "{}: requires {:?}",
                t.name,
                schema.get("required")
            );
            assert_ne!(
                schema.get("additionalProperties"),
                Some(&serde_json::Value::Bool(false)),
                "{}",
                t.name
            );
            let props = schema
                .get("properties")
                .and_then(|p| p.as_object())
                .cloned()
                .unwrap_or_default();
            for (k, v) in error.as_object().unwrap() {
                let Some(want) = props
                    .get(k)
                    .and_then(|p| p.get("type"))
                    .and_then(|t| t.as_str())
                else {
                    continue;
                };
                let ok = match want {
                    "string" => v.is_string(),
                    "boolean" => v.is_boolean(),
                    "integer" => v.is_i64() || v.is_u64(),
                    "number" => v.is_number(),
                    "object" => v.is_object(),
                    "array" => v.is_array(),
                    _ => true,
                };
                assert!(ok, "{}: the error's {k} ({v}) is not a {want}", t.name);
            }
        }
        assert!(checked >= 10, "{checked} output schemas");
    }
}

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
    fn to_result(&self) -> CallToolResult {
        let value = serde_json::to_value(self).unwrap_or_default();
        let mut text = format!("Error ({}): {}", self.code.as_str(), self.message);
        if let Some(n) = &self.next_step {
            text.push_str(&format!("\nNext step: {n}"));
        }
        let mut r = CallToolResult::error(vec![ContentBlock::text(text)]);
        r.structured_content = Some(value);
        r
    }
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
    }
}

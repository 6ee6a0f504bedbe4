//! Failures as the model should read them: `{code, message, retryable, retry_after_s?,
//! next_step?}` in an `isError: true` result. No stack traces, tokens or raw backend JSON.

use nemo_client::Error;
use rmcp::model::{CallToolResult, ContentBlock};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ToolError {
    /// A stable machine-readable name, e.g. `out_of_credits`.
    pub code: String,
    pub message: String,
    /// Whether the same call may succeed later.
    pub retryable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    /// What to do next: the tool to call or the link to give the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
}

impl ToolError {
    pub fn new(code: &str, message: impl Into<String>) -> ToolError {
        ToolError {
            code: code.into(),
            message: message.into(),
            retryable: false,
            retry_after_s: None,
            next_step: None,
        }
    }
    pub fn retryable(mut self, after_s: Option<u64>) -> ToolError {
        self.retryable = true;
        self.retry_after_s = after_s;
        self
    }
    pub fn next(mut self, step: impl Into<String>) -> ToolError {
        self.next_step = Some(step.into());
        self
    }
    pub fn invalid(message: impl Into<String>) -> ToolError {
        ToolError::new("invalid_argument", message)
    }

    /// The backend's error, with what to do about it.
    pub fn from_client(e: &Error, web_url: &str) -> ToolError {
        let mut t = ToolError::new(e.code(), e.to_string());
        t.retryable = e.retryable();
        t.retry_after_s = e.retry_after().map(|d| d.as_secs());
        t.next_step = match e {
            Error::OutOfCredits {
                register_url: Some(url),
            } => Some(format!(
                "give the user this registration link for more free credits: {url}"
            )),
            Error::OutOfCredits { register_url: None } => {
                Some(format!("the user can top up credits at {web_url}"))
            }
            Error::ExportBlocked => Some(format!(
                "the user can register or upgrade at {web_url} to unlock export"
            )),
            Error::TokenInvalid { from_env: true } => {
                Some("set a valid NEMO_TOKEN (or unset it) and restart the server".into())
            }
            Error::SessionLost { .. } => {
                Some("call connect with new_project=true to start a new project".into())
            }
            Error::Busy => {
                Some("call list_jobs or get_job to follow the running generation".into())
            }
            Error::RateLimited { retry_after } => Some(format!(
                "wait {} s and call the tool again",
                retry_after.as_secs()
            )),
            Error::Transient { .. } => {
                Some("try again in a little while; nothing was charged".into())
            }
            Error::UnsupportedFile { .. } => Some(format!(
                "use one of: {}",
                nemo_client::ACCEPTED_EXTENSIONS.join(", ")
            )),
            Error::FileTooLarge { .. } => {
                Some("compress or trim the file, then upload it again".into())
            }
            Error::RenderFailed { .. } => Some("call export_video again".into()),
            Error::Io { .. } => {
                Some("check that the output folder exists and is writable (NEMO_OUTPUT_DIR)".into())
            }
            _ => None,
        };
        t
    }

    pub fn to_result(&self) -> CallToolResult {
        let value = serde_json::to_value(self).unwrap_or_default();
        let mut text = format!("Error ({}): {}", self.code, self.message);
        if let Some(n) = &self.next_step {
            text.push_str(&format!("\nNext step: {n}"));
        }
        let mut r = CallToolResult::error(vec![ContentBlock::text(text)]);
        r.structured_content = Some(value);
        r
    }
}

impl From<ToolError> for CallToolResult {
    fn from(e: ToolError) -> Self {
        e.to_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_error_carries_the_registration_link() {
        let e = Error::OutOfCredits {
            register_url: Some("https://w/register?bind=anon_1".into()),
        };
        let t = ToolError::from_client(&e, "https://w");
        assert_eq!(t.code, "out_of_credits");
        assert!(t.next_step.unwrap().contains("register?bind=anon_1"));
        let plan = ToolError::from_client(&Error::ExportBlocked, "https://w");
        assert!(plan.message.contains("not about credits"));
        let r = ToolError::invalid("x").to_result();
        assert_eq!(r.is_error, Some(true));
        assert_eq!(r.structured_content.unwrap()["code"], "invalid_argument");
    }
}

//! Failures as the model should read them: `{code, message, retryable, retry_after_s?,
//! next_step?}` in an `isError: true` result. No stack traces, tokens or raw backend JSON.

use nemo_client::Error;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The stable, machine-readable names of failures (serialized in snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    InvalidArgument,
    InvalidInput,
    UnknownJob,
    Internal,
    Failed,
    Cancelled,
    Interrupted,
    NothingToExport,
    /// An exported file was moved, changed or deleted after it was saved.
    ExportMissing,
    OutputDirUnwritable,
    /// The disk holding the output folder is full.
    DiskFull,
    /// The instruction would cost more than the caller's `max_credits`.
    OverBudget,
    /// The user was asked before spending and did not agree: nothing was sent.
    NotConfirmed,
    /// Spending needs the user's confirmation and this host cannot ask: nothing was sent; call
    /// again with `confirm: true` once the user agrees.
    ConfirmationRequired,
    /// `NEMO_ALLOW_SPENDING=0`: paid tools are turned off; nothing was sent.
    SpendingDisabled,
    /// A lost project whose media could not all be restored: nothing was sent.
    ProjectNotRestored,
    /// The turn's outcome could not be read back from the project.
    NoResult,
    // The client's errors.
    TokenInvalid,
    SessionLost,
    OutOfCredits,
    UnsupportedFile,
    FileTooLarge,
    ExportBlockedByPlan,
    RateLimited,
    Busy,
    BackendUnavailable,
    /// The server's certificate is not trusted (a TLS-inspecting gateway's CA not installed).
    CertificateUntrusted,
    /// The proxy wants a user and password (HTTP 407).
    ProxyAuthRequired,
    /// The proxy refused the connection or could not be reached.
    ProxyFailed,
    Unconfirmed,
    ContentRefused,
    BackendError,
    StreamBroken,
    StreamTimedOut,
    RenderFailed,
    Timeout,
    Rejected,
    Protocol,
    /// An answer from the backend refused to protect the user (too large, a private address).
    UnsafeAnswer,
    Io,
    Config,
    /// The state folder could not be opened (another user's, a network drive, a newer schema,
    /// unwritable): the server started without it, and no tool works until it is fixed.
    StateUnavailable,
    /// Over `--http` in the 2026-07-28 era: the call names no workspace, or one this server
    /// did not issue (`connect` hands one out).
    WorkspaceRequired,
}

impl Code {
    /// An answer that the message was never taken (or never left): our own refusals before
    /// sending, and the backend's or the network's refusals before any turn. Sending it again
    /// cannot charge it twice.
    pub fn refused_before_sending(self) -> bool {
        matches!(
            self,
            Code::OverBudget
                | Code::NotConfirmed
                | Code::ConfirmationRequired
                | Code::SpendingDisabled
                | Code::Busy
                | Code::OutOfCredits
                | Code::ProjectNotRestored
                | Code::CertificateUntrusted
                | Code::ProxyAuthRequired
                | Code::ProxyFailed
        )
    }

    /// The code of a client error.
    pub fn of(e: &Error) -> Code {
        match e {
            Error::TokenInvalid { .. } => Code::TokenInvalid,
            Error::SessionLost { .. } => Code::SessionLost,
            Error::OutOfCredits { .. } => Code::OutOfCredits,
            Error::UnsupportedFile { .. } => Code::UnsupportedFile,
            Error::FileTooLarge { .. } => Code::FileTooLarge,
            Error::ExportBlocked => Code::ExportBlockedByPlan,
            Error::RateLimited { .. } => Code::RateLimited,
            Error::Busy => Code::Busy,
            Error::Transient { .. } => Code::BackendUnavailable,
            Error::CertificateUntrusted { .. } => Code::CertificateUntrusted,
            Error::Proxy {
                problem: nemo_client::ProxyProblem::AuthRequired,
                ..
            } => Code::ProxyAuthRequired,
            Error::Proxy { .. } => Code::ProxyFailed,
            Error::Unconfirmed { .. } => Code::Unconfirmed,
            Error::ContentRefused { .. } => Code::ContentRefused,
            Error::AgentFailed { .. } => Code::BackendError,
            Error::StreamBroken { .. } => Code::StreamBroken,
            Error::StreamTimedOut { .. } => Code::StreamTimedOut,
            Error::RenderFailed { .. } => Code::RenderFailed,
            Error::Timeout { .. } => Code::Timeout,
            Error::Rejected { .. } => Code::Rejected,
            Error::Protocol { .. } => Code::Protocol,
            Error::Unsafe { .. } => Code::UnsafeAnswer,
            Error::Io { .. } => Code::Io,
            _ => Code::Config,
        }
    }

    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ToolError {
    /// e.g. out_of_credits, over_budget, unsafe_answer.
    #[schemars(with = "String")]
    pub code: Code,
    pub message: String,
    pub retryable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    /// The tool to call or the link to give the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
}

impl ToolError {
    pub fn new(code: Code, message: impl Into<String>) -> ToolError {
        ToolError {
            code,
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
        ToolError::new(Code::InvalidArgument, message)
    }

    /// The backend's error, with what to do about it.
    pub fn from_client(e: &Error, web_url: &str) -> ToolError {
        let mut t = ToolError::new(Code::of(e), e.to_string());
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
            Error::TokenInvalid { given: true } => {
                // The client knows only "a given token"; that it came from NEMO_TOKEN is ours.
                t.message = "the NEMO_TOKEN from the environment was rejected (invalid or expired): set a valid token or unset NEMO_TOKEN to use a free anonymous one".into();
                Some("set a valid NEMO_TOKEN (or unset it) and restart the server".into())
            }
            Error::SessionLost { .. } => {
                Some("call connect with new_project=true to start a new project".into())
            }
            Error::Unconfirmed { .. } => Some(
                "do not send the instruction again (it may be charged twice): call get_timeline to see whether it was done".into(),
            ),
            Error::ContentRefused { .. } => Some(
                "rephrase the instruction (describe the content plainly), then call generate again".into(),
            ),
            Error::AgentFailed { .. } => {
                Some("rephrase the instruction or call generate again".into())
            }
            Error::Busy => {
                Some("call list_jobs or get_job to follow the running generation".into())
            }
            Error::RateLimited { retry_after } => Some(format!(
                "wait {} s and call the tool again",
                retry_after.as_secs()
            )),
            Error::Transient { .. } => Some(
                "try again in a little while; the request never reached NemoVideo, so nothing was charged".into(),
            ),
            Error::CertificateUntrusted { .. } => Some(
                "nothing was sent. If a company gateway inspects TLS, install its CA certificate in the system's trust store, or point SSL_CERT_FILE at it (a PEM file), then restart the server; `nemo-mcp doctor` shows which certificates are trusted".into(),
            ),
            Error::Proxy {
                problem: nemo_client::ProxyProblem::AuthRequired,
                ..
            } => Some(
                "nothing reached NemoVideo. Put the proxy's user and password in its URL (HTTPS_PROXY=http://user:password@host:port), then restart the server".into(),
            ),
            Error::Proxy { .. } => Some(
                "nothing reached NemoVideo. Check HTTPS_PROXY / HTTP_PROXY / NO_PROXY (`nemo-mcp doctor` shows the proxy in use), or ask IT to allow NemoVideo through the proxy".into(),
            ),
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
        assert_eq!(t.code, Code::OutOfCredits);
        assert!(t.next_step.unwrap().contains("register?bind=anon_1"));
        let plan = ToolError::from_client(&Error::ExportBlocked, "https://w");
        assert!(plan.message.contains("not about credits"));
    }

    /// The client knows only "the token it was given"; that it came from `NEMO_TOKEN` (and how
    /// to fix it) is the server's to say.
    #[test]
    fn a_rejected_given_token_is_named_as_nemo_token() {
        let t = ToolError::from_client(&Error::TokenInvalid { given: true }, "https://w");
        assert_eq!(t.code, Code::TokenInvalid);
        assert!(t.message.contains("NEMO_TOKEN"), "{}", t.message);
        assert!(t.next_step.unwrap().contains("NEMO_TOKEN"));
        let renewed = ToolError::from_client(&Error::TokenInvalid { given: false }, "https://w");
        assert!(
            !renewed.message.contains("NEMO_TOKEN"),
            "{}",
            renewed.message
        );
    }
}

//! One error type whose variants say what the caller can do about it.

use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Extensions the backend accepts, for messages.
pub const ACCEPTED_EXTENSIONS: &[&str] = &[
    "mp4", "mov", "avi", "webm", "mkv", "jpg", "jpeg", "png", "gif", "webp", "mp3", "wav", "m4a",
    "aac",
];

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The token was rejected. An anonymous token has already been renewed once; a token the
    /// caller gave ([`crate::Config::token`]) cannot be renewed by us.
    #[error("{}", if *given { "the NemoVideo token given to the client was rejected (invalid or expired)" } else { "the NemoVideo token was rejected even after renewing it" })]
    TokenInvalid { given: bool },

    /// NemoVideo no longer knows the project (session). The client never replaces it by
    /// itself: what a lost project means (restore its media, tell the user) is the caller's call.
    #[error("NemoVideo has lost the project{}: {message}", session.map(|s| format!(" {s}")).unwrap_or_default())]
    SessionLost {
        session: Option<crate::SessionId>,
        message: String,
    },

    /// Not enough credits. Anonymous users get a registration link; registered users top up.
    #[error("out of credits{}", match register_url { Some(u) => format!(": register at {u} to get more"), None => ": top up at nemovideo.com".to_string() })]
    OutOfCredits { register_url: Option<String> },

    #[error("unsupported file type: {name} (accepted: {})", ACCEPTED_EXTENSIONS.join(", "))]
    UnsupportedFile { name: String },

    #[error("file too large: {name} is {} MB, the limit is {} MB (compress or trim it)", size / 1_048_576, limit / 1_048_576)]
    FileTooLarge { name: String, size: u64, limit: u64 },

    /// HTTP 402 on export: the plan, not credits.
    #[error("export is not available on the current plan (this is not about credits): register or upgrade to unlock export")]
    ExportBlocked,

    #[error("rate limited by NemoVideo: try again in {} s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },

    /// The backend is already working on a message in this session.
    #[error("the backend is still working on the previous message in this session")]
    Busy,

    /// The server's certificate is not signed by any root we trust: typically a company's
    /// TLS-inspecting gateway whose CA is not installed (or not named in `SSL_CERT_FILE`).
    /// Nothing was sent past the handshake.
    #[error("the certificate of {host} is not trusted ({reason}); trusted roots: {trust}")]
    CertificateUntrusted {
        host: String,
        reason: String,
        trust: String,
    },

    /// The HTTP proxy in the way did not carry the request. Nothing reached NemoVideo.
    #[error("the proxy {proxy} {problem}")]
    Proxy {
        /// The proxy's URL, its password masked.
        proxy: String,
        problem: ProxyProblem,
    },

    /// Network trouble or a 5xx: worth trying again later.
    #[error("NemoVideo is unreachable or failing right now: {message}")]
    Transient { message: String },

    /// A paid request (`/run_sse`) failed after it may have reached the backend (a 5xx, a
    /// reset or a stall after the body was written). It may have been accepted and charged: it
    /// must not be sent again; recover by reading the project state.
    #[error("the message may have reached NemoVideo, but no answer came back ({message})")]
    Unconfirmed { message: String },

    /// The backend's model refused the instruction (safety filters, length limits).
    #[error("NemoVideo's AI declined the instruction: {message}")]
    ContentRefused { message: String },

    /// The agent reported an error inside its stream; the turn is over.
    #[error("NemoVideo could not do it: {message}")]
    AgentFailed { message: String },

    /// The SSE stream broke off. The message must not be re-sent: recover by reading the state.
    #[error("the connection to the NemoVideo agent broke off after {events} events")]
    StreamBroken { events: usize },

    /// The SSE stream exceeded its time limits.
    #[error("{}", if *heartbeats_only { "the NemoVideo agent sent only heartbeats for too long: the turn timed out" } else { "the NemoVideo agent did not finish within 15 minutes" })]
    StreamTimedOut { heartbeats_only: bool },

    #[error("the render failed: {reason}")]
    RenderFailed { reason: String },

    #[error("timed out waiting for {what}")]
    Timeout { what: String },

    /// The backend refused the request for another reason.
    #[error("NemoVideo refused the request ({status}{}): {message}", code.map(|c| format!(", code {c}")).unwrap_or_default())]
    Rejected {
        status: u16,
        code: Option<i64>,
        message: String,
    },

    /// A response we could not make sense of.
    #[error("unexpected answer from NemoVideo: {message}")]
    Protocol { message: String },

    /// An answer refused to protect the user: larger than any real one, a download to a
    /// private address or another origin over plain http, a "video" that is not an MP4.
    #[error("refused an unsafe answer from NemoVideo: {message}")]
    Unsafe { message: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("configuration: {0}")]
    Config(String),
}

/// What went wrong with a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyProblem {
    /// HTTP 407: the proxy wants a user and password.
    AuthRequired,
    /// The proxy answered but would not open the connection (a `CONNECT` refused).
    Refused,
    /// The proxy itself could not be reached.
    Unreachable,
}

impl std::fmt::Display for ProxyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProxyProblem::AuthRequired => "asks for authentication (HTTP 407)",
            ProxyProblem::Refused => "refused to connect to NemoVideo",
            ProxyProblem::Unreachable => "could not be reached",
        })
    }
}

impl Error {
    /// Whether the same call may succeed if tried again later.
    ///
    /// ```
    /// use nemo_client::Error;
    /// use std::time::Duration;
    /// assert!(Error::RateLimited { retry_after: Duration::from_secs(2) }.retryable());
    /// assert!(!Error::OutOfCredits { register_url: None }.retryable());
    /// ```
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::Busy
                | Error::Transient { .. }
                | Error::StreamTimedOut { .. }
                | Error::Timeout { .. }
                | Error::RenderFailed { .. }
                | Error::AgentFailed { .. }
        )
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after } => Some(*retry_after),
            Error::Transient { .. } => Some(Duration::from_secs(30)),
            Error::Busy => Some(Duration::from_secs(15)),
            _ => None,
        }
    }

    /// Name the session a `SessionLost` is about.
    pub(crate) fn in_session(self, id: crate::SessionId) -> Error {
        match self {
            Error::SessionLost { message, .. } => Error::SessionLost {
                session: Some(id),
                message,
            },
            other => other,
        }
    }

    /// A body that broke off after the answer began (never a certificate or a proxy: those fail
    /// before any answer).
    pub(crate) fn broken(e: reqwest::Error) -> Error {
        Error::Transient {
            message: if e.is_timeout() {
                "timed out".into()
            } else {
                "the connection broke off".into()
            },
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a caller may do with each error: try again (and after how long), or not. A paid
    /// message's uncertain outcome is never "try again".
    #[test]
    fn retry_advice() {
        let rate = Error::RateLimited {
            retry_after: Duration::from_secs(7),
        };
        assert!(rate.retryable());
        assert_eq!(rate.retry_after(), Some(Duration::from_secs(7)));
        let down = Error::Transient {
            message: "HTTP 503".into(),
        };
        assert!(down.retryable());
        assert_eq!(down.retry_after(), Some(Duration::from_secs(30)));
        assert!(Error::Busy.retryable());
        assert_eq!(Error::Busy.retry_after(), Some(Duration::from_secs(15)));
        for final_ in [
            Error::OutOfCredits { register_url: None },
            Error::ExportBlocked,
            Error::Unconfirmed {
                message: "no response".into(),
            },
            Error::TokenInvalid { given: true },
        ] {
            assert!(!final_.retryable(), "{final_:?}");
            assert_eq!(final_.retry_after(), None, "{final_:?}");
        }
    }
}

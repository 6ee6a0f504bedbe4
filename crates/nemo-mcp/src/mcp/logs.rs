//! The server's log events as `notifications/message`, at the level the client sets.
//!
//! MCP logging is deprecated from protocol 2026-07-28 (SEP-2577), but the hosts in use today
//! speak the 2025 versions, where `logging/setLevel` is how a user sees a server's warnings. In
//! the 2026-07-28 era the level comes with each request instead ([`forward_during`]).
#![allow(deprecated)]

use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::service::{Peer, RoleServer};
use std::sync::{Arc, Mutex};

/// The MCP log level (named here, where its deprecation is allowed).
pub type LogLevel = LoggingLevel;

/// What a client gets before it sets a level: warnings and errors.
pub fn default_level() -> LogLevel {
    LoggingLevel::Warning
}

fn rank(l: LoggingLevel) -> u8 {
    match l {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

fn of_tracing(l: tracing::Level) -> LoggingLevel {
    match l {
        tracing::Level::ERROR => LoggingLevel::Error,
        tracing::Level::WARN => LoggingLevel::Warning,
        tracing::Level::INFO => LoggingLevel::Info,
        _ => LoggingLevel::Debug,
    }
}

/// Forward the server's log events to `peer` while it is connected, those at `level` or more
/// severe (read anew for each event, so `logging/setLevel` takes effect at once).
pub fn forward_logs(peer: Peer<RoleServer>, level: Arc<Mutex<LoggingLevel>>) {
    forwarder(peer, level);
}

/// Protocol 2026-07-28 has no `logging/setLevel`: a request carries its level in `_meta`
/// (`io.modelcontextprotocol/logLevel`). The server's log events at that level or more severe
/// go to the client while that request is in flight, and stop when the guard (held for the
/// request) is dropped. A request without a level gets no log lines.
pub fn forward_during(peer: Peer<RoleServer>, level: LoggingLevel) -> DuringRequest {
    DuringRequest(forwarder(peer, Arc::new(Mutex::new(level))))
}

/// Log lines for one request; they stop when this is dropped.
pub struct DuringRequest(tokio::task::JoinHandle<()>);

impl Drop for DuringRequest {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn forwarder(
    peer: Peer<RoleServer>,
    level: Arc<Mutex<LoggingLevel>>,
) -> tokio::task::JoinHandle<()> {
    let mut rx = crate::support::logging::subscribe();
    tokio::spawn(async move {
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            };
            let want = *crate::support::sync::lock(&level);
            let at = of_tracing(event.level);
            if rank(at) < rank(want) {
                continue;
            }
            let mut note = LoggingMessageNotificationParam::new(at, event.text.into());
            note.logger = Some(event.target);
            if peer.notify_logging_message(note).await.is_err() {
                return; // the client is gone
            }
        }
    })
}

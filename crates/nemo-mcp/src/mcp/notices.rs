//! What the server offers a client besides tools: its log events as `notifications/message`
//! (at the level the client sets), and completions of prompt and resource arguments.
//!
//! MCP logging is deprecated from protocol 2026-07-28 (SEP-2577), but the hosts in use today
//! speak the 2025 versions, where `logging/setLevel` is how a user sees a server's warnings.
#![allow(deprecated)]

use crate::app::App;
use rmcp::model::{ArgumentInfo, LoggingLevel, LoggingMessageNotificationParam, Reference};
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
    });
}

/// Completions: the `files` argument of the prompts (files and folders inside the allowed
/// folders, from what is typed after the last comma) and the `id` of `nemo://jobs/{id}`.
pub async fn complete(app: &Arc<App>, r: &Reference, arg: &ArgumentInfo) -> Vec<String> {
    match r {
        Reference::Prompt(_) if arg.name == "files" => {
            let (done, typed) = match arg.value.rsplit_once(',') {
                Some((d, t)) => (format!("{d}, "), t.trim_start().to_string()),
                None => (String::new(), arg.value.trim_start().to_string()),
            };
            let policy = app.input_policy();
            let found = tokio::task::spawn_blocking(move || paths_like(&typed, &policy))
                .await
                .unwrap_or_default();
            found.into_iter().map(|p| format!("{done}{p}")).collect()
        }
        Reference::Resource(t) if t.uri.starts_with("nemo://jobs/") && arg.name == "id" => app
            .jobs
            .list()
            .into_iter()
            .map(|j| j.id)
            .filter(|id| id.starts_with(arg.value.trim()))
            .take(100)
            .collect(),
        _ => Vec::new(),
    }
}

/// Entries of the folder `typed` points into whose names start as typed, inside the allowed
/// folders only (checked on the path as written, then each entry by the upload policy).
fn paths_like(typed: &str, policy: &crate::files::paths::InputPolicy) -> Vec<String> {
    let typed = if typed.is_empty() {
        match policy.lexical.first() {
            Some(d) => format!("{}/", d.display()),
            None => return Vec::new(),
        }
    } else {
        typed.to_string()
    };
    let (dir, stem) = match typed.rsplit_once('/') {
        Some((d, s)) => (format!("{d}/"), s.to_string()),
        None => return Vec::new(),
    };
    let dir_path = std::path::Path::new(&dir);
    if !dir_path.is_absolute() {
        return Vec::new();
    }
    // Above an allowed folder, only the allowed folders themselves are offered: listing a
    // folder outside them would tell what is there.
    if !policy.lexical.iter().any(|a| dir_path.starts_with(a)) {
        let mut roots: Vec<String> = policy
            .lexical
            .iter()
            .map(|a| format!("{}/", a.display()))
            .filter(|a| a.starts_with(&typed))
            .collect();
        roots.sort();
        roots.dedup();
        return roots;
    }
    let Ok(entries) = std::fs::read_dir(dir_path) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            if !name.starts_with(&stem) || name.starts_with('.') {
                return None;
            }
            let full = format!("{dir}{name}");
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                Some(format!("{full}/"))
            } else {
                crate::files::paths::resolve_input(&full, policy)
                    .ok()
                    .map(|_| full)
            }
        })
        .collect();
    out.sort();
    out.truncate(100);
    out
}

/// Resources a client subscribed to (`resources/subscribe`), per MCP session.
#[derive(Default)]
pub struct Subscriptions {
    uris: Mutex<std::collections::HashSet<String>>,
}

impl Subscriptions {
    fn has(&self, uri: &str) -> bool {
        crate::support::sync::lock(&self.uris).contains(uri)
    }

    /// Stop sending updates for `uri`.
    pub fn remove(&self, uri: &str) {
        crate::support::sync::lock(&self.uris).remove(uri);
    }

    /// Subscribe `peer` to `uri` (`nemo://timeline` or `nemo://jobs/{id}`): it gets
    /// `notifications/resources/updated` when the resource changes (a job at most twice a
    /// second, until it finishes; the timeline when a generation or upload finishes).
    pub fn add(
        self: &Arc<Self>,
        app: &Arc<App>,
        uri: &str,
        peer: Peer<RoleServer>,
    ) -> Result<(), String> {
        let uri = uri.to_string();
        if uri == "nemo://timeline" {
            let mut events = app.jobs.events();
            self.insert(&uri);
            let me = self.clone();
            tokio::spawn(async move {
                loop {
                    let kind = match events.recv().await {
                        Ok(crate::jobs::JobEvent::Finished { kind, .. }) => kind,
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            continue
                        }
                        Err(_) => return,
                    };
                    if !me.has(&uri) {
                        return;
                    }
                    if kind != crate::jobs::JobKind::Export
                        && peer.notify_resource_updated(updated(&uri)).await.is_err()
                    {
                        return;
                    }
                }
            });
            return Ok(());
        }
        let Some(id) = uri.strip_prefix("nemo://jobs/") else {
            return Err(format!("no resource {uri}"));
        };
        let Some(mut rx) = app.jobs.watch(id) else {
            return Err(format!("no job {id}"));
        };
        self.insert(&uri);
        let me = self.clone();
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                if !me.has(&uri) {
                    return;
                }
                let finished = rx.borrow_and_update().status().is_finished();
                if peer.notify_resource_updated(updated(&uri)).await.is_err() || finished {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        });
        Ok(())
    }

    fn insert(&self, uri: &str) {
        crate::support::sync::lock(&self.uris).insert(uri.to_string());
    }
}

fn updated(uri: &str) -> rmcp::model::ResourceUpdatedNotificationParam {
    rmcp::model::ResourceUpdatedNotificationParam::new(uri)
}

/// `notifications/resources/list_changed` whenever a job (a `nemo://jobs/{id}` resource) appears.
pub fn announce_new_jobs(app: &Arc<App>, peer: Peer<RoleServer>) {
    let mut events = app.jobs.events();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(crate::jobs::JobEvent::Started { .. }) => {
                    if peer.notify_resource_list_changed().await.is_err() {
                        return;
                    }
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            }
        }
    });
}

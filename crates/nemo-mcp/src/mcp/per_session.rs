//! One project per MCP session over `--http`: each session gets its own `App` forked from the
//! process's (the same account, settings and shared state; its own current project and jobs),
//! so two hosts on one server never see or edit each other's video.

use crate::app::App;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The most clients (MCP sessions, workspaces) whose `App` is held at once; the least recently
/// used goes first. Going costs nothing a client would notice: its project is remembered in the
/// state database under its scope (`CurrentProject::scoped`) and its jobs are in the journal,
/// so its next call finds both again.
const MAX_SESSIONS: usize = 1024;

/// One project per MCP session, made on first use.
pub struct PerSession {
    map: Mutex<HashMap<String, (Arc<App>, u64)>>,
    clock: std::sync::atomic::AtomicU64,
    max: usize,
}

impl Default for PerSession {
    /// At most [`MAX_SESSIONS`], or `NEMO_HTTP_CLIENTS_HELD` (tests make eviction happen).
    fn default() -> Self {
        let max = std::env::var("NEMO_HTTP_CLIENTS_HELD")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .map_or(MAX_SESSIONS, |n| n.clamp(1, MAX_SESSIONS));
        PerSession {
            map: Mutex::default(),
            clock: Default::default(),
            max,
        }
    }
}

impl PerSession {
    /// The project of this MCP session, forked from `base` on first use.
    pub fn app(&self, base: &Arc<App>, session: &str) -> Arc<App> {
        let now = self
            .clock
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut map = crate::support::sync::lock(&self.map);
        if let Some((app, used)) = map.get_mut(session) {
            *used = now;
            return app.clone();
        }
        if map.len() >= self.max {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        let app = base.fork(session);
        map.insert(session.to_string(), (app.clone(), now));
        app
    }

    pub fn len(&self) -> usize {
        crate::support::sync::lock(&self.map).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

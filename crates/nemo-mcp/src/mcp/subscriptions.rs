//! Resource notifications in both protocol eras. Legacy (2025): `resources/subscribe` per URI
//! ([`Subscriptions`]) and list changes to every client ([`announce_new_jobs`]). 2026-07-28:
//! `subscriptions/listen` ([`serve`]), where `resources/subscribe` is gone, with the same
//! notifications. A new job makes the
//! resource list change (each job is `nemo://jobs/{id}`); a job's resource is updated as it
//! moves (at most twice a second, until it ends); the timeline when a generation or an upload
//! ends. Claude Code opens this stream at start and retries for a few seconds if it fails.

use crate::app::App;
use crate::jobs::{JobEvent, JobKind};
use rmcp::model::SubscriptionFilter;
use rmcp::service::{Peer, RoleServer, SubscriptionContext, SubscriptionSink};
use rmcp::ErrorData as McpError;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

const TIMELINE: &str = "nemo://timeline";
const JOBS: &str = "nemo://jobs/";

/// What this server notifies of, out of what the client asks for.
pub fn accepted(requested: &SubscriptionFilter) -> SubscriptionFilter {
    let mut f = SubscriptionFilter::new();
    f.resources_list_changed = requested.resources_list_changed.filter(|on| *on);
    f.resource_subscriptions = requested.resource_subscriptions.as_ref().map(|uris| {
        uris.iter()
            .filter(|u| *u == TIMELINE || u.starts_with(JOBS))
            .cloned()
            .collect()
    });
    f
}

/// Serve one stream until the client cancels it or goes away.
pub async fn serve(app: Arc<App>, context: SubscriptionContext) -> Result<(), McpError> {
    let sink = context.sink().clone();
    let accepted = context.accepted().clone();
    let uris = accepted.resource_subscriptions.clone().unwrap_or_default();
    for id in uris.iter().filter_map(|u| u.strip_prefix(JOBS)) {
        if let Some(rx) = app.jobs.watch(id) {
            tokio::spawn(follow_job(sink.clone(), format!("{JOBS}{id}"), rx));
        }
    }
    let timeline = uris.iter().any(|u| u == TIMELINE);
    let list = accepted.resources_list_changed == Some(true);
    let mut events = app.jobs.events();
    loop {
        let event = tokio::select! {
            _ = context.cancelled() => return Ok(()),
            e = events.recv() => e,
        };
        let sent = match event {
            Ok(JobEvent::Started { .. }) if list => sink.notify_resource_list_changed().await,
            Ok(JobEvent::Finished { kind, .. }) if timeline && kind != JobKind::Export => {
                sink.notify_resource_updated(TIMELINE).await
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            _ => Ok(()),
        };
        if sent.is_err() {
            // The stream is closed (or the client gone): nothing more to send on it.
            return Ok(());
        }
    }
}

async fn follow_job(
    sink: SubscriptionSink,
    uri: String,
    mut rx: tokio::sync::watch::Receiver<crate::jobs::Job>,
) {
    while rx.changed().await.is_ok() {
        let finished = rx.borrow_and_update().status().is_finished();
        if sink.notify_resource_updated(uri.clone()).await.is_err() || finished {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_resources_are_accepted() {
        let mut asked = SubscriptionFilter::new();
        asked.resources_list_changed = Some(true);
        asked.tools_list_changed = Some(true);
        asked.resource_subscriptions = Some(vec![
            TIMELINE.into(),
            "nemo://jobs/gen_0123456789ab".into(),
            "file:///etc/passwd".into(),
        ]);
        let f = accepted(&asked);
        assert_eq!(f.resources_list_changed, Some(true));
        assert_eq!(f.tools_list_changed, None, "the tool list never changes");
        assert_eq!(
            f.resource_subscriptions.unwrap(),
            [TIMELINE, "nemo://jobs/gen_0123456789ab"]
        );
    }
}

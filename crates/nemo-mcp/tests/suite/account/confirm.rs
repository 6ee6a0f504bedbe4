//! Elicitation with a real client that declares it: a `generate` that would leave fewer credits
//! than NEMO_CONFIRM_BELOW is asked first; a "no" sends nothing and charges nothing, a "yes"
//! sends once. Out of credits, the registration page is shown (URL mode). A client without
//! elicitation sees no change. Counts from the simulator: messages sent, credits charged.
//! Both protocol eras: by an elicitation request (2025-11-25), and by a multi-round-trip
//! request (2026-07-28, where a server cannot send requests; the client answers and retries).

use crate::common;

use common::*;
use nemo_mcp::NemoServer;
use nemo_sim::SimConfig;
use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::json;
use std::sync::{Arc, Mutex};

const EDIT: &str = "combine these images into a 10-second video with music";

#[derive(Clone)]
struct Asked {
    /// What the user answers to a form.
    confirm: bool,
    forms: Arc<Mutex<Vec<String>>>,
    urls: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Asked {
    fn get_info(&self) -> ClientConfig {
        let mut caps = ClientCapabilities::default();
        caps.elicitation = Some(
            ElicitationCapability::new()
                .with_form(FormElicitationCapability::new())
                .with_url(UrlElicitationCapability::new()),
        );
        ClientConfig::new(caps, Implementation::new("asking-host", "1"))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _c: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        match request {
            ElicitRequestParams::FormElicitationParams { message, .. } => {
                self.forms.lock().unwrap().push(message);
                Ok(ElicitResult::new(ElicitationAction::Accept)
                    .with_content(json!({"confirm": self.confirm})))
            }
            ElicitRequestParams::UrlElicitationParams { url, .. } => {
                self.urls.lock().unwrap().push(url.to_string());
                Ok(ElicitResult::new(ElicitationAction::Accept))
            }
            _ => Ok(ElicitResult::new(ElicitationAction::Decline)),
        }
    }
}

/// A server on `h`'s simulator and folders, with a client that answers forms with `confirm`,
/// opening in the 2026-07-28 era when `discovers`.
async fn asking_client(
    h: &Harness,
    confirm: bool,
    discovers: bool,
) -> (rmcp::service::RunningService<RoleClient, Asked>, Asked) {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = NemoServer::new(h.app.clone());
    tokio::spawn(async move {
        if let Ok(s) = server.serve(a).await {
            let _ = s.waiting().await;
        }
    });
    let asked = Asked {
        confirm,
        forms: Arc::default(),
        urls: Arc::default(),
    };
    let client = if discovers {
        use rmcp::{ClientLifecycleMode, ClientServiceExt};
        let mode = ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        };
        asked.clone().serve_with_lifecycle(b, mode).await.unwrap()
    } else {
        asked.clone().serve(b).await.unwrap()
    };
    let version = client.peer_info().map(|i| i.protocol_version.to_string());
    let want = if discovers {
        "2026-07-28"
    } else {
        "2025-11-25"
    };
    assert_eq!(version.as_deref(), Some(want));
    (client, asked)
}

async fn generate(c: &rmcp::service::RunningService<RoleClient, Asked>) -> CallToolResult {
    c.call_tool(Harness::params("generate", json!({"instruction": EDIT})))
        .await
        .unwrap()
}

/// Credits charged so far (of the 100 an account starts with), once every turn has settled.
async fn charged(h: &Harness) -> i64 {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let accounts = h.sim.control().accounts();
        if accounts.iter().all(|a| a.frozen == 0) || tokio::time::Instant::now() > deadline {
            let left: i64 = accounts.iter().map(|a| a.available + a.frozen).sum();
            return if accounts.is_empty() { 0 } else { 100 - left };
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_no_sends_nothing_and_a_yes_sends_once() {
    a_no_then_a_yes(false).await;
}

#[tokio::test]
async fn a_no_sends_nothing_and_a_yes_sends_once_in_the_2026_era() {
    a_no_then_a_yes(true).await;
}

async fn a_no_then_a_yes(discovers: bool) {
    // 100 credits, an edit about 50: 50 left, under a threshold of 60, so the user is asked.
    let h = Harness::with(SimConfig::fast(), |s| s.confirm_below = 60).await;
    upload_two(&h).await;
    let (no, asked) = asking_client(&h, false, discovers).await;
    let r = generate(&no).await;
    assert_eq!(r.is_error, Some(true), "{}", text_of(&r));
    assert_eq!(body(&r)["code"], "not_confirmed");
    assert_eq!(asked.forms.lock().unwrap().len(), 1);
    assert!(asked.forms.lock().unwrap()[0].contains("about 50 credits"));
    assert_eq!(
        h.sim.control().attempted_messages().len(),
        0,
        "sent after a no"
    );
    assert_eq!(charged(&h).await, 0);
    let (yes, asked) = asking_client(&h, true, discovers).await;
    let r = generate(&yes).await;
    let b = h.finish(body(&r)).await;
    assert_eq!(b["status"], "succeeded", "{b}");
    assert_eq!(asked.forms.lock().unwrap().len(), 1);
    assert_eq!(h.sim.control().attempted_messages().len(), 1);
    assert_eq!(charged(&h).await, 50);
    // A client that cannot ask: unchanged behaviour (sent, charged).
    let r = h
        .call("generate", json!({"instruction": "add a title \"Sale\""}))
        .await;
    let b = h.finish(body(&r)).await;
    assert_eq!(b["status"], "succeeded", "{b}");
    assert_eq!(h.sim.control().attempted_messages().len(), 2);
    assert_eq!(charged(&h).await, 100);
}

#[tokio::test]
async fn out_of_credits_shows_the_registration_page() {
    registration_page(false).await;
}

#[tokio::test]
async fn out_of_credits_shows_the_registration_page_in_the_2026_era() {
    registration_page(true).await;
}

async fn registration_page(discovers: bool) {
    let h = Harness::start().await;
    upload_two(&h).await;
    h.sim.control().set_credits(None, 0);
    let (c, asked) = asking_client(&h, true, discovers).await;
    let r = generate(&c).await;
    assert_eq!(r.is_error, Some(true));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while asked.urls.lock().unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no URL elicitation");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(asked.urls.lock().unwrap()[0].contains("/register"));
    assert_eq!(h.sim.control().attempted_messages().len(), 0);
}

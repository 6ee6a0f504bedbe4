//! Money over time, counted on nemo-sim's side: messages sent and credits charged on every
//! path. Spending turned off, a daily and a per-session budget (kept across a restart by the
//! spend ledger), and confirmation on a host without elicitation (`confirm: true`) and with it
//! (the dialog, whatever the model passes).

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
const TITLE: &str = "add a title \"Spring sale\"";

async fn generate(h: &Harness, args: serde_json::Value) -> (serde_json::Value, bool) {
    let r = h.call("generate", args).await;
    if r.is_error == Some(true) {
        return (body(&r), true);
    }
    (h.finish(body(&r)).await, false)
}

#[tokio::test]
async fn with_spending_off_paid_tools_refuse_and_free_ones_act() {
    let h = Harness::with(SimConfig::fast(), |s| s.budgets.spending_off = true).await;
    upload_two(&h).await;
    let (b, err) = generate(&h, json!({"instruction": EDIT})).await;
    assert!(err, "{b}");
    assert_eq!(b["code"], "spending_disabled");
    assert!(b["message"]
        .as_str()
        .unwrap()
        .contains("NEMO_ALLOW_SPENDING=0"));
    let r = h
        .call(
            "make_video",
            json!({"instruction": EDIT, "paths": [h.media("c.png", &png(16, 16))]}),
        )
        .await;
    assert_eq!(body(&r)["code"], "spending_disabled");
    let t = h.call("get_timeline", json!({})).await;
    assert_ne!(t.is_error, Some(true), "a free tool still acts");
    let c = h.call("get_credits", json!({})).await;
    assert!(
        text_of(&c).contains("Spending is turned off"),
        "{}",
        text_of(&c)
    );
    assert_eq!(counts(&h).await, (0, 0));
}

#[tokio::test]
async fn the_daily_budget_holds_across_a_restart() {
    let h = Harness::with(SimConfig::fast(), |s| s.budgets.per_day = Some(80)).await;
    upload_two(&h).await;
    let (b, err) = generate(&h, json!({"instruction": EDIT})).await;
    assert!(!err && b["status"] == "succeeded", "{b}");
    assert_eq!(counts(&h).await, (1, 50));
    let (b, err) = generate(&h, json!({"instruction": TITLE})).await;
    assert!(err, "{b}");
    assert_eq!(b["code"], "over_budget");
    let m = b["message"].as_str().unwrap();
    assert!(
        m.contains("NEMO_MAX_CREDITS_PER_DAY") && m.contains("50 of the 80"),
        "{m}"
    );
    assert_eq!(counts(&h).await, (1, 50));
    let h = h.restart().await;
    let (b, err) = generate(&h, json!({"instruction": TITLE})).await;
    assert!(
        err && b["code"] == "over_budget",
        "the ledger was kept: {b}"
    );
    let c = h.call("get_credits", json!({})).await;
    assert_eq!(body(&c)["spent"]["today"], 50, "{}", body(&c));
    assert!(text_of(&c).contains("Spent today: 50"), "{}", text_of(&c));
    assert_eq!(counts(&h).await, (1, 50));
}

#[tokio::test]
async fn the_session_budget_counts_this_session_only() {
    let h = Harness::with(SimConfig::fast(), |s| s.budgets.per_session = Some(60)).await;
    upload_two(&h).await;
    let (b, _) = generate(&h, json!({"instruction": EDIT})).await;
    assert_eq!(b["status"], "succeeded", "{b}");
    let (b, err) = generate(&h, json!({"instruction": TITLE})).await;
    assert!(err && b["code"] == "over_budget", "{b}");
    assert!(b["message"]
        .as_str()
        .unwrap()
        .contains("NEMO_MAX_CREDITS_PER_SESSION"));
    assert_eq!(counts(&h).await, (1, 50));
    // A restart is a new MCP session (stdio): its budget starts again.
    let h = h.restart().await;
    let (b, err) = generate(&h, json!({"instruction": TITLE})).await;
    assert!(!err && b["status"] == "succeeded", "{b}");
    assert_eq!(counts(&h).await, (2, 100));
}

#[tokio::test]
async fn without_elicitation_the_estimate_comes_back_and_confirm_true_sends_once() {
    let h = Harness::with(SimConfig::fast(), |s| s.confirm_spending = true).await;
    upload_two(&h).await;
    let (b, err) = generate(&h, json!({"instruction": EDIT})).await;
    assert!(err, "{b}");
    assert_eq!(b["code"], "confirmation_required");
    assert!(
        b["message"].as_str().unwrap().contains("about 50 credits"),
        "{b}"
    );
    assert!(
        b["next_step"].as_str().unwrap().contains("confirm: true"),
        "{b}"
    );
    assert_eq!(counts(&h).await, (0, 0));
    let (b, err) = generate(&h, json!({"instruction": EDIT, "confirm": true})).await;
    assert!(!err && b["status"] == "succeeded", "{b}");
    assert_eq!(counts(&h).await, (1, 50));
    // make_video asks the same way, before anything is uploaded.
    let uploads = h
        .sim
        .log()
        .iter()
        .filter(|x| x.path.contains("upload"))
        .count();
    let r = h
        .call(
            "make_video",
            json!({"instruction": TITLE, "paths": [h.media("c.png", &png(16, 16))]}),
        )
        .await;
    assert_eq!(body(&r)["code"], "confirmation_required");
    let after = h
        .sim
        .log()
        .iter()
        .filter(|x| x.path.contains("upload"))
        .count();
    assert_eq!(after, uploads, "nothing uploaded before the confirmation");
    assert_eq!(counts(&h).await, (1, 50));
    // Confirmed, make_video sends its instruction once.
    let r = h
        .call(
            "make_video",
            json!({"instruction": TITLE, "paths": [h.media("c.png", &png(16, 16))], "confirm": true, "export": false}),
        )
        .await;
    let b = h.finish(body(&r)).await;
    assert_eq!(b["status"], "succeeded", "{b}");
    assert_eq!(counts(&h).await, (2, 100));
}

#[derive(Clone)]
struct Dialog {
    forms: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Dialog {
    fn get_info(&self) -> ClientConfig {
        let mut caps = ClientCapabilities::default();
        caps.elicitation =
            Some(ElicitationCapability::new().with_form(FormElicitationCapability::new()));
        ClientConfig::new(caps, Implementation::new("dialog-host", "1"))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _c: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = request {
            self.forms.lock().unwrap().push(message);
        }
        // The user says no.
        Ok(ElicitResult::new(ElicitationAction::Accept).with_content(json!({"confirm": false})))
    }
}

#[tokio::test]
async fn with_elicitation_the_dialog_decides_even_when_the_model_says_confirm() {
    let h = Harness::with(SimConfig::fast(), |s| s.confirm_spending = true).await;
    upload_two(&h).await;
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = NemoServer::new(h.app.clone());
    tokio::spawn(async move {
        if let Ok(s) = server.serve(a).await {
            let _ = s.waiting().await;
        }
    });
    let dialog = Dialog {
        forms: Arc::default(),
    };
    let c = dialog.clone().serve(b).await.unwrap();
    let r = c
        .call_tool(Harness::params(
            "generate",
            json!({"instruction": EDIT, "confirm": true}),
        ))
        .await
        .unwrap();
    assert_eq!(body(&r)["code"], "not_confirmed", "{}", text_of(&r));
    assert_eq!(dialog.forms.lock().unwrap().len(), 1);
    assert_eq!(counts(&h).await, (0, 0));
}

/// With `NEMO_CONFIRM_SPENDING` on, the paid tools carry Claude Code's
/// `anthropic/requiresUserInteraction` (that host then asks before each call); off, no tool does.
#[tokio::test]
async fn confirm_spending_marks_the_paid_tools_for_the_hosts_own_prompt() {
    let key = "anthropic/requiresUserInteraction";
    let marked = |tools: &[rmcp::model::Tool]| -> Vec<String> {
        let mut v: Vec<String> = tools
            .iter()
            .filter(|t| {
                t.meta
                    .as_ref()
                    .is_some_and(|m| m.0.get(key) == Some(&json!(true)))
            })
            .map(|t| t.name.to_string())
            .collect();
        v.sort();
        v
    };
    let on = Harness::with(SimConfig::fast(), |s| s.confirm_spending = true).await;
    let tools = on.client.list_all_tools().await.unwrap();
    assert_eq!(marked(&tools), ["generate", "make_video"]);
    let off = Harness::start().await;
    assert!(marked(&off.client.list_all_tools().await.unwrap()).is_empty());
}

/// The balance reads a turn makes before its message leaves (the cost guard's, the "before"
/// figure), counted in the simulator's log of the turn that started at `from`.
fn credit_reads_before_the_message(h: &Harness, from: usize) -> usize {
    h.sim.log()[from..]
        .iter()
        .take_while(|r| !r.path.contains("run_sse"))
        .filter(|r| r.path.contains("credits"))
        .count()
}

/// Every balance read after the first `before` ones fails (503), through every retry.
fn balance_fails_after(h: &Harness, before: usize) {
    use nemo_sim::{Fault, FaultAction, Route};
    let c = h.sim.control();
    if before > 0 {
        c.inject(Fault::new(Route::Credits, FaultAction::Delay { ms: 0 }).times(before as u32));
    }
    c.inject(
        Fault::new(
            Route::Credits,
            FaultAction::Status {
                status: 503,
                body: String::new(),
            },
        )
        .times(1000),
    );
}

/// Money fails closed: a turn whose cost cannot be read afterwards (the balance request fails
/// through its retries) is recorded at its estimate, and a turn that ends with an error inside
/// its stream is recorded too. With a daily budget of 60, after such a turn a turn of about 50
/// is refused before it is sent, until the balance is read again and shows what the turn
/// really cost. Counted on the simulator: messages sent, credits charged.
#[tokio::test]
async fn turns_whose_cost_cannot_be_read_count_at_their_estimate() {
    use nemo_sim::{Fault, FaultAction, Route, StreamErrorForm};
    let h = Harness::with(SimConfig::fast(), |s| s.budgets.per_day = Some(60)).await;
    upload_two(&h).await;
    // 1. A turn that ends with an in-stream error (nemo-sim charges nothing for it): its cost
    //    is read, 0, and nothing counts.
    let stream_error = || {
        Fault::new(
            Route::RunSse,
            FaultAction::StreamError {
                form: StreamErrorForm::WithDetails,
                code: None,
            },
        )
    };
    h.sim.control().inject(stream_error());
    let from = h.sim.log().len();
    let (b, err) = generate(&h, json!({"instruction": EDIT})).await;
    assert!(err || b["status"] == "failed", "{b}");
    assert_eq!(counts(&h).await, (1, 0));
    let before = credit_reads_before_the_message(&h, from);
    // 2. The same, but its cost cannot be read after the error: it counts at its estimate.
    h.sim.control().inject(stream_error());
    balance_fails_after(&h, before);
    let (b, _) = generate(&h, json!({"instruction": EDIT})).await;
    assert_eq!(counts(&h).await, (2, 0), "{b}");
    h.sim.control().clear_faults();
    let (b, err) = generate(&h, json!({"instruction": TITLE})).await;
    assert!(
        err && b["code"] == "over_budget",
        "the failed turn counted: {b}"
    );
    assert_eq!(counts(&h).await, (2, 0));
    // 3. Until the balance is read again: it shows the turn cost nothing, and the estimate
    //    is replaced by that. The next turn goes through.
    let c = h.call("get_credits", json!({})).await;
    assert_eq!(body(&c)["spent"]["today"], 0, "corrected: {}", body(&c));
    let (b, err) = generate(&h, json!({"instruction": TITLE})).await;
    assert!(!err && b["status"] == "succeeded", "{b}");
    assert_eq!(counts(&h).await, (3, 50));
}

/// A turn that succeeds but whose cost cannot be read afterwards counts at its estimate: a
/// second turn of about 50 goes over a daily budget of 60 and is refused before it is sent.
#[tokio::test]
async fn a_paid_turn_whose_cost_cannot_be_read_counts_at_its_estimate() {
    let h = Harness::with(SimConfig::fast(), |s| s.budgets.per_day = Some(60)).await;
    upload_two(&h).await;
    // How many balance reads come before a message, learnt from an ordinary turn; then, on a
    // fresh account, the reads after the message fail.
    let from = h.sim.log().len();
    let (b, err) = generate(&h, json!({"instruction": EDIT})).await;
    assert!(!err && b["status"] == "succeeded", "{b}");
    assert_eq!(counts(&h).await, (1, 50));
    let before = credit_reads_before_the_message(&h, from);
    let h = Harness::with(SimConfig::fast(), |s| s.budgets.per_day = Some(60)).await;
    upload_two(&h).await;
    balance_fails_after(&h, before);
    let (b, err) = generate(&h, json!({"instruction": EDIT})).await;
    assert!(!err && b["status"] == "succeeded", "{b}");
    assert!(b["result"]["credits_spent"].is_null(), "unknown: {b}");
    h.sim.control().clear_faults();
    let (b, err) = generate(&h, json!({"instruction": TITLE})).await;
    assert!(
        err && b["code"] == "over_budget",
        "the estimate counted: {b}"
    );
    assert_eq!(counts(&h).await, (1, 50));
    let c = h.call("get_credits", json!({})).await;
    assert_eq!(body(&c)["spent"]["today"], 50, "{}", body(&c));
}

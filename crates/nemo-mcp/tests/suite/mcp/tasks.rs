//! The tasks extension with a real client that declares it (rmcp's, over a pipe): the job tools
//! answer with a task whose id is the job id; `tasks/get` polls it to the same result `get_job`
//! gives, `tasks/cancel` stops it (a render is cancelled on the backend), and a restarted server
//! answers for the tasks of the previous one. Credits are counted from the simulator's log.

use crate::common;

use common::*;
use nemo_mcp::NemoServer;
use nemo_sim::SimConfig;
use rmcp::model::*;
use rmcp::service::RunningService;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
struct TasksHost;

impl ClientHandler for TasksHost {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_tasks().build(),
            Implementation::new("tasks-host", "1"),
        )
    }
}

type Client = RunningService<RoleClient, TasksHost>;

/// A host that supports tasks, connected in-process, opening in the 2025-11-25 era
/// (`initialize`).
async fn tasks_client(app: Arc<nemo_mcp::App>) -> Client {
    tasks_client_in(app, rmcp::ClientLifecycleMode::Initialize).await
}

/// The same host opening in the 2026-07-28 era (`server/discover`, no `initialize`).
async fn tasks_client_discovering(app: Arc<nemo_mcp::App>) -> Client {
    let mode = rmcp::ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    };
    tasks_client_in(app, mode).await
}

async fn tasks_client_in(app: Arc<nemo_mcp::App>, mode: rmcp::ClientLifecycleMode) -> Client {
    use rmcp::ClientServiceExt;
    let (a, b) = tokio::io::duplex(1 << 16);
    let server = NemoServer::new(app);
    tokio::spawn(async move {
        if let Ok(s) = server.serve(a).await {
            let _ = s.waiting().await;
        }
    });
    TasksHost.serve_with_lifecycle(b, mode).await.unwrap()
}

/// Call a tool once; the task it answers with.
async fn start(c: &Client, name: &'static str, args: Value) -> Task {
    match c.call_tool_once(Harness::params(name, args)).await.unwrap() {
        CallToolResponse::Task(created) => {
            assert_eq!(created.result_type, ResultType::TASK);
            created.task
        }
        other => panic!("{name} did not answer with a task: {other:?}"),
    }
}

/// Poll `tasks/get` (faster than the suggested interval: the simulator is time-scaled) until
/// the task ends, with a deadline.
async fn settle(c: &Client, id: &str) -> DetailedTask {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = c
            .get_task(GetTaskParams::new(id.to_string()))
            .await
            .unwrap();
        if got.task.status().is_terminal() {
            return got.task;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "task {id} never ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The quick edit's instruction sent as a task and followed to its end: the task and its result.
async fn generate_task(c: &Client) -> (Task, CallToolResult) {
    let gen = start(
        c,
        "generate",
        json!({"instruction": "combine into a 5 second video"}),
    )
    .await;
    let done = result_of(settle(c, &gen.task_id).await);
    (gen, done)
}

fn result_of(task: DetailedTask) -> CallToolResult {
    match task.payload {
        TaskPayload::Completed { result } => serde_json::from_value(Value::Object(result)).unwrap(),
        other => panic!("not completed: {other:?}"),
    }
}

const START: i64 = 1000;

/// A simulator whose new accounts start with [`START`] credits, time-scaled.
fn sim(time_scale: f64) -> SimConfig {
    let mut c = SimConfig::fast().with_time_scale(time_scale);
    c.starting_credits = START;
    c
}

/// Credits charged so far, once every turn has settled on the backend.
async fn charged(h: &Harness) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let accounts = h.sim.control().accounts();
        if accounts.iter().all(|a| a.frozen == 0) || tokio::time::Instant::now() > deadline {
            assert_eq!(accounts.len(), 1, "one account");
            return START - accounts.iter().map(|a| a.available + a.frozen).sum::<i64>();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn upload_generate_and_export_are_tasks_polled_to_the_same_results_as_get_job() {
    let h = Harness::with(sim(0.1), |_| {}).await;
    let c = tasks_client(h.app.clone()).await;
    let a = h.media("a.png", &png(16, 16));

    let upload = start(&c, "upload_media", json!({"paths": [a]})).await;
    assert!(
        upload.task_id.starts_with("upl_"),
        "the task id is the job id"
    );
    assert_eq!(upload.status, TaskStatus::Working);
    assert!(upload.poll_interval_ms.is_some());
    let up = result_of(settle(&c, &upload.task_id).await);
    assert_eq!(body(&up)["status"], "succeeded", "{}", text_of(&up));

    let (gen, done) = generate_task(&c).await;
    assert_ne!(done.is_error, Some(true), "{}", text_of(&done));
    assert!(text_of(&done).contains("NemoVideo"), "{}", text_of(&done));
    // The same job, through the tool every host has.
    let via_get_job = h
        .call("get_job", json!({"job_id": gen.task_id, "wait_s": 0}))
        .await;
    assert_eq!(body(&via_get_job), body(&done));

    let export = start(&c, "export_video", json!({})).await;
    let saved = body(&result_of(settle(&c, &export.task_id).await));
    assert_eq!(saved["status"], "succeeded", "{saved}");
    assert!(std::path::Path::new(saved["result"]["path"].as_str().unwrap()).is_file());

    assert_eq!(h.sim.control().messages().len(), 1, "one message sent");
    assert_eq!(charged(&h).await, 50, "one edit charged");
}

#[tokio::test]
async fn a_bad_call_is_answered_at_once_not_as_a_task() {
    let h = Harness::start().await;
    let c = tasks_client(h.app.clone()).await;
    let r = c
        .call_tool_once(Harness::params("generate", json!({"instruction": "  "})))
        .await
        .unwrap();
    let CallToolResponse::Complete(r) = r else {
        panic!("a refused call is no task: {r:?}");
    };
    assert_eq!(r.is_error, Some(true));
    // An export question is answered free and at once: nothing to wait for, so no task.
    let r = c
        .call_tool_once(Harness::params(
            "generate",
            json!({"instruction": "export the video"}),
        ))
        .await
        .unwrap();
    assert!(matches!(r, CallToolResponse::Complete(_)), "{r:?}");
    assert!(h.sim.control().messages().is_empty());
    let unknown = c
        .get_task(GetTaskParams::new("gen_000000000000".to_string()))
        .await;
    assert!(unknown.is_err(), "an unknown task is an error: {unknown:?}");
}

#[tokio::test]
async fn cancelling_an_export_task_cancels_the_render_on_the_backend() {
    let h = Harness::with(SimConfig::fast().with_time_scale(0.2), |_| {}).await;
    upload_two(&h).await;
    h.finish(body(
        &h.call(
            "generate",
            json!({"instruction": "combine into a 5 second video", "wait_s": 0}),
        )
        .await,
    ))
    .await;
    let c = tasks_client(h.app.clone()).await;
    let export = start(&c, "export_video", json!({})).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while h.sim.control().renders().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no render submitted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.cancel_task(CancelTaskParams::new(export.task_id.clone()))
        .await
        .unwrap();
    let ended = settle(&c, &export.task_id).await;
    assert_eq!(ended.status(), TaskStatus::Cancelled);
    let renders = h.sim.control().renders();
    assert_eq!(renders.len(), 1);
    assert_eq!(
        renders[0].1, "failed",
        "the render was cancelled on the backend"
    );
    let listed = body(&h.call("list_jobs", json!({})).await);
    assert!(listed.to_string().contains("cancelled"), "{listed}");
}

#[tokio::test]
async fn a_task_outlives_a_restart_and_its_message_is_never_resent() {
    let h = Harness::with(sim(0.1), |s| {
        s.recovery_first = Duration::from_millis(400);
        s.recovery_then = Duration::from_millis(400);
    })
    .await;
    h.call(
        "upload_media",
        json!({"paths": [h.media("a.png", &png(10, 10))]}),
    )
    .await;
    let c = tasks_client(h.app.clone()).await;
    let gen = start(
        &c,
        "generate",
        json!({"instruction": "combine into a 20 second video"}),
    )
    .await;
    // The turn is under way on the backend (the message was accepted), then the server dies.
    until("the message sent", || {
        !h.sim.control().messages().is_empty()
    })
    .await;
    let _ = c.cancel().await;
    let h2 = h.restart().await;
    assert_eq!(
        h2.journal_entry(&gen.task_id).status(),
        nemo_mcp::testing::JobStatus::Running,
        "the task was cut off mid-turn"
    );
    let c2 = tasks_client(h2.app.clone()).await;
    let ended = settle(&c2, &gen.task_id).await;
    let r = result_of(ended);
    assert_eq!(body(&r)["status"], "succeeded", "{}", text_of(&r));
    assert_eq!(body(&r)["result"]["duration_s"], 20.0);
    let recovered = body(&r)["result"]["recovered"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(recovered.contains("project state"), "{recovered}");
    assert_eq!(
        h2.sim.control().attempted_messages().len(),
        1,
        "never re-sent"
    );
    assert_eq!(charged(&h2).await, 50, "charged once");
}

#[tokio::test]
async fn a_client_without_tasks_waits_as_before_and_cannot_call_tasks_get() {
    let h = Harness::start().await;
    let r = h
        .client
        .call_tool_once(Harness::params(
            "upload_media",
            json!({"paths": [h.media("a.png", &png(10, 10))]}),
        ))
        .await
        .unwrap();
    assert!(matches!(r, CallToolResponse::Complete(_)), "{r:?}");
    let refused = h
        .client
        .get_task(GetTaskParams::new("upl_000000000000"))
        .await;
    assert!(refused.is_err(), "{refused:?}");
}

/// In the 2026-07-28 era the job tools answer with tasks too, polled to the same results
/// (issue #32: every task behaves the same in both eras); one message, one charge.
#[tokio::test]
async fn in_the_2026_era_job_tools_are_tasks_polled_to_the_same_results() {
    let h = Harness::with(sim(0.1), |_| {}).await;
    let c = tasks_client_discovering(h.app.clone()).await;
    let a = h.media("a.png", &png(16, 16));
    let upload = start(&c, "upload_media", json!({"paths": [a]})).await;
    assert!(upload.task_id.starts_with("upl_"), "{upload:?}");
    let up = result_of(settle(&c, &upload.task_id).await);
    assert_eq!(body(&up)["status"], "succeeded", "{}", text_of(&up));
    let (gen, done) = generate_task(&c).await;
    let via_get_job = h
        .call("get_job", json!({"job_id": gen.task_id, "wait_s": 0}))
        .await;
    assert_eq!(body(&via_get_job), body(&done));
    assert_eq!(h.sim.control().messages().len(), 1, "one message sent");
    assert_eq!(charged(&h).await, 50, "one edit charged");
}

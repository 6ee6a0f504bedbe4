//! Helpers shared by the end-to-end tests in `tests/`.

use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The `nemo-mcp` binary of this workspace, next to the running test's own executable (built by
/// `cargo test --workspace`; built here if it is missing).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let bin = dir.join(format!("nemo-mcp{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-p", "nemo-mcp", "--bin", "nemo-mcp"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building nemo-mcp failed");
    }
    bin
}

/// Call a tool; its structured content and whether it is an error result.
pub async fn call(
    c: &RunningService<RoleClient, ()>,
    name: &'static str,
    args: Value,
) -> (Value, bool) {
    let r = c
        .call_tool(
            CallToolRequestParams::new(name)
                .with_arguments(args.as_object().cloned().unwrap_or_default()),
        )
        .await
        .expect("the tool call is answered");
    (
        r.structured_content.clone().unwrap_or(Value::Null),
        r.is_error == Some(true),
    )
}

/// Follow a job with get_job; returns the final body and how many get_job calls it took.
pub async fn follow(c: &RunningService<RoleClient, ()>, mut body: Value) -> (Value, u32) {
    let mut polls = 0;
    while body["status"] == "running" {
        polls += 1;
        assert!(polls < 50, "too many polls");
        body = call(
            c,
            "get_job",
            json!({"job_id": body["job_id"], "wait_s": 20}),
        )
        .await
        .0;
    }
    (body, polls)
}

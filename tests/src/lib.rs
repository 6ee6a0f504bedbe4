//! Helpers shared by the end-to-end tests in `tests/`.

pub mod proxy;
pub mod tls;

use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The `nemo-mcp` binary of this workspace, next to the running test's own executable, built
/// (once per test process) from the sources being tested: a binary left from an older build is
/// never tested in their place (cargo rebuilds it only if they changed).
pub fn binary() -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    let exe = std::env::current_exe().expect("the test knows its own path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    BUILT.call_once(|| {
        let mut build = std::process::Command::new(env!("CARGO"));
        build.args(["build", "-q", "-p", "nemo-mcp", "--bin", "nemo-mcp"]);
        // What cargo set for this test (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, …) must not reach
        // the nested build: build scripts see those variables, so the build would differ from
        // the outer one and rebuild ring, rustls and the rest on every test run.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            let keep = matches!(k.as_str(), "CARGO_HOME" | "CARGO_TARGET_DIR")
                || k.starts_with("CARGO_REGISTRIES_")
                || k.starts_with("CARGO_NET_")
                || k.starts_with("CARGO_HTTP_")
                || k.starts_with("CARGO_BUILD_")
                || k.starts_with("CARGO_PROFILE_");
            if k.starts_with("CARGO_") && !keep {
                build.env_remove(&k);
            }
        }
        if dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building nemo-mcp failed");
    });
    dir.join(format!("nemo-mcp{}", std::env::consts::EXE_SUFFIX))
}

/// A HOME for [`server_command`]: a temporary folder with `media/` (where uploads may come from)
/// and `out/` (where exports go).
pub fn server_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a temporary folder");
    for d in ["media", "out"] {
        std::fs::create_dir_all(home.path().join(d)).expect("the server's folders");
    }
    home
}

/// The server as a host starts it: HOME (and so the state folder) in `home`, the API at `api`
/// (nemo-sim), outputs in `home/out`, uploads from `home/media`, short waits, debug logs.
pub fn server_command(home: &Path, api: &str, web: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(binary());
    cmd.env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("NEMO_TOKEN")
        .env_remove("NEMO_STATE_DIR")
        .env("NEMO_API_URL", api)
        .env("NEMO_WEB_URL", web)
        .env("NEMO_OUTPUT_DIR", home.join("out"))
        .env("NEMO_ALLOWED_DIRS", home.join("media"))
        .env("NEMO_RENDER_POLL_MS", "50")
        .env("NEMO_PROGRESS_INTERVAL_MS", "200")
        .env("NEMO_RECOVERY_WAIT_MS", "400")
        .env("NEMO_LOG", "debug");
    cmd
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

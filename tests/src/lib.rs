//! Helpers shared by the end-to-end tests in `tests/`.

pub mod http;
pub mod proxy;
pub mod tls;
pub mod world;

use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use rmcp::ServiceExt;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The server binary under test: this package's `nemo-mcp-e2e` (the server's own `main.rs`),
/// which cargo builds from the sources being tested before it runs this package's tests, next
/// to the running test's own executable (`target/<profile>/deps/..`).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let bin = dir.join(format!("nemo-mcp-e2e{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is built by `cargo test -p e2e`",
        bin.display()
    );
    bin
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

/// A server process as a host runs one: its stdin and stdout are the MCP channel, driven by
/// rmcp's client. Dropping it closes the channel and kills the process, as a host that quits
/// does. (It derefs to the client, so `call(&server, ..)` works.)
pub struct Server {
    pub client: RunningService<RoleClient, ()>,
    pub pid: u32,
    process: tokio::process::Child,
}

impl std::ops::Deref for Server {
    type Target = RunningService<RoleClient, ()>;
    fn deref(&self) -> &Self::Target {
        &self.client
    }
}

impl Server {
    /// `kill -9` the server, as a crash or a killed host does: no exit handlers run.
    pub fn kill9(&self) {
        let killed = std::process::Command::new("kill")
            .args(["-9", &self.pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(killed, "kill -9 {}", self.pid);
    }

    /// Close the channel, as a host that quits does, and give the server a few seconds to
    /// exit by itself (it is killed when this returns if it has not).
    pub async fn cancel(mut self) -> Result<rmcp::service::QuitReason, tokio::task::JoinError> {
        let quit = self.client.cancel().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.process.wait()).await;
        quit
    }
}

/// Start `cmd` (usually [`server_command`]) with its stderr sent to `stderr`, and connect.
///
/// The pipes go to rmcp as a plain reader and writer, the transport the server itself is built
/// with. rmcp's child-process transport would turn on a feature (and `nix`, and so `libc`'s
/// `extra_traits`) that the server's own build does not have: `cargo test` and `cargo run`
/// would then each compile tokio, hyper, rustls, rmcp and the server for themselves.
pub async fn serve(mut cmd: tokio::process::Command, stderr: Stdio) -> Server {
    let mut process = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let pid = process.id().expect("a running server has a pid");
    let stdout = process.stdout.take().expect("stdout is piped");
    let stdin = process.stdin.take().expect("stdin is piped");
    let client = ().serve((stdout, stdin)).await.expect("the server initializes");
    Server {
        client,
        pid,
        process,
    }
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

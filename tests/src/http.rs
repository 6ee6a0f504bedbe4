//! `nemo-mcp --http`, started by a test against a simulator and spoken to with raw HTTP
//! requests, in both protocol eras: 2025 (`initialize`, an `Mcp-Session-Id`) and 2026-07-28
//! (no session; each request carries its version and capabilities in `_meta`).

use nemo_sim::{Sim, SimConfig};
use serde_json::{json, Value};
use std::time::Duration;

/// The JSON-RPC message in a response that may be JSON or an SSE stream.
pub fn message(body: &str) -> Value {
    if let Ok(v) = serde_json::from_str(body) {
        return v;
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("result").is_some() || v.get("error").is_some())
        .unwrap_or_else(|| panic!("no JSON-RPC message in {body:?}"))
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The server over HTTP against a simulator, in its own home folder.
pub struct Server {
    pub sim: nemo_sim::SimHandle,
    pub home: tempfile::TempDir,
    pub child: tokio::process::Child,
    pub url: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(|_| {}).await
    }

    /// Started with `tweak` applied to its command (a lower descriptor limit, say).
    pub async fn start_with(tweak: impl FnOnce(&mut tokio::process::Command)) -> Server {
        let sim = Sim::start(SimConfig::fast()).await.unwrap();
        let home = tempfile::tempdir().unwrap();
        Server::on(sim, home, tweak).await
    }

    /// The server stopped and started again on the same home and simulator (a new port).
    pub async fn restart(mut self) -> Server {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
        Server::on(self.sim, self.home, |_| {}).await
    }

    async fn on(
        sim: nemo_sim::SimHandle,
        home: tempfile::TempDir,
        tweak: impl FnOnce(&mut tokio::process::Command),
    ) -> Server {
        let port = free_port();
        let token_file = home.path().join("mcp-token");
        let mut cmd = tokio::process::Command::new(crate::binary());
        cmd.args(["--http", &format!("127.0.0.1:{port}")])
            .arg("--token-file")
            .arg(&token_file)
            .env("HOME", home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("NEMO_TOKEN")
            .env("NEMO_API_URL", sim.base_url())
            .env("NEMO_RENDER_POLL_MS", "50")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        tweak(&mut cmd);
        let child = cmd.spawn().unwrap();
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let token = std::fs::read_to_string(&token_file)
            .expect("the server made its token file")
            .trim()
            .to_string();
        Server {
            sim,
            home,
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
            token,
            http: reqwest::Client::new(),
        }
    }

    pub fn request(&self, body: &Value, session: Option<&str>) -> reqwest::RequestBuilder {
        let mut rb = self
            .http
            .post(&self.url)
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json")
            .json(body);
        if let Some(s) = session {
            rb = rb.header("Mcp-Session-Id", s);
        }
        rb
    }

    pub async fn post(&self, body: Value, session: Option<&str>) -> reqwest::Response {
        self.request(&body, session)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// Initialize a session; its id.
    pub async fn session(&self, name: &str) -> String {
        let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":name,"version":"0"}}});
        let r = self.post(init, None).await;
        assert!(r.status().is_success(), "{}", r.status());
        let session = r
            .headers()
            .get("mcp-session-id")
            .expect("a session id")
            .to_str()
            .unwrap()
            .to_string();
        let init_msg = message(&r.text().await.unwrap());
        assert_eq!(init_msg["result"]["serverInfo"]["name"], "nemo-mcp");
        let r = self
            .post(
                json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
                Some(&session),
            )
            .await;
        assert!(r.status().is_success());
        session
    }

    pub async fn call(&self, session: &str, tool: &str, args: Value) -> Value {
        let call = json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":tool,"arguments":args}});
        let r = self.post(call, Some(session)).await;
        message(&r.text().await.unwrap())["result"].clone()
    }

    /// A request of the 2026-07-28 era: no session; the version and capabilities in `_meta`
    /// and in the `MCP-Protocol-Version` header. `session`: a header it sends anyway (a
    /// client may carry one it was never issued).
    pub async fn post_new_era(&self, method: &str, params: Value, session: Option<&str>) -> Value {
        let mut params = params;
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "new-era-client", "version": "0"}
        });
        let name = params["name"].as_str().map(str::to_string);
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
        let mut rb = self
            .request(&body, session)
            .header("MCP-Protocol-Version", "2026-07-28")
            .header("Mcp-Method", method);
        if let Some(n) = name {
            rb = rb.header("Mcp-Name", n);
        }
        let r = rb.bearer_auth(&self.token).send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{status}: {text}");
        message(&text)
    }

    /// A tool call of the 2026-07-28 era, in `workspace` when given: its result.
    pub async fn call_new_era(&self, workspace: Option<&str>, tool: &str, args: Value) -> Value {
        let mut args = args;
        if let Some(w) = workspace {
            args["workspace"] = json!(w);
        }
        self.post_new_era("tools/call", json!({"name": tool, "arguments": args}), None)
            .await["result"]
            .clone()
    }

    /// A job followed to its end with `get_job` (2026-07-28 era, in `workspace`).
    pub async fn follow_new_era(&self, workspace: &str, mut body: Value) -> Value {
        for _ in 0..30 {
            if body["status"] != "running" {
                return body;
            }
            body = self
                .call_new_era(
                    Some(workspace),
                    "get_job",
                    json!({"job_id": body["job_id"], "wait_s": 20}),
                )
                .await["structuredContent"]
                .clone();
        }
        panic!("never ended: {body}");
    }
}

//! `nemo-mcp --http 127.0.0.1:PORT`: the same server over streamable HTTP, spoken to with raw
//! HTTP requests (initialize, tools/list, tools/call).

use e2e::binary;
use nemo_sim::{Sim, SimConfig};
use serde_json::{json, Value};
use std::time::Duration;

/// The JSON-RPC message in a response that may be JSON or an SSE stream.
fn message(body: &str) -> Value {
    if let Ok(v) = serde_json::from_str(body) {
        return v;
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("result").is_some() || v.get("error").is_some())
        .unwrap_or_else(|| panic!("no JSON-RPC message in {body:?}"))
}

#[tokio::test]
async fn the_server_over_streamable_http() {
    let sim = Sim::start(SimConfig::fast()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = tokio::process::Command::new(binary())
        .args(["--http", &format!("127.0.0.1:{port}")])
        .env("HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("NEMO_TOKEN")
        .env("NEMO_API_URL", sim.base_url())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let post = |body: Value, session: Option<String>| {
        let mut rb = http
            .post(&url)
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json")
            .json(&body);
        if let Some(s) = session {
            rb = rb.header("Mcp-Session-Id", s);
        }
        rb.send()
    };
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw-http","version":"0"}}});
    let r = post(init, None).await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let session = r
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_string());
    let init_msg = message(&r.text().await.unwrap());
    assert_eq!(init_msg["result"]["serverInfo"]["name"], "nemo-mcp");
    let r = post(
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        session.clone(),
    )
    .await
    .unwrap();
    assert!(r.status().is_success());
    let list = message(
        &post(
            json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}),
            session.clone(),
        )
        .await
        .unwrap()
        .text()
        .await
        .unwrap(),
    );
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 9);
    let call = json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_credits","arguments":{}}});
    let credits = message(&post(call, session).await.unwrap().text().await.unwrap());
    assert_eq!(
        credits["result"]["structuredContent"]["available"], 100,
        "{credits}"
    );
    child.kill().await.ok();
}

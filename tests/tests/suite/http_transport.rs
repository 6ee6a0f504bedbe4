//! `nemo-mcp --http 127.0.0.1:PORT`: the same server over streamable HTTP, spoken to with raw
//! HTTP requests (initialize, tools/list, tools/call), and guarded as the MCP specification
//! asks: `Origin` validated, a bearer token required, loopback unless told otherwise, and one
//! project per MCP session.

use e2e::binary;
use e2e::http::{free_port, message, Server};
use serde_json::json;
use std::time::Duration;

fn row(attack: &str, observed: &str, test: &str) {
    println!("| {attack} | {observed} | `http_transport::{test}` |");
}

#[tokio::test]
async fn the_server_over_streamable_http() {
    let mut s = Server::start().await;
    let session = s.session("raw-http").await;
    let list = message(
        &s.post(
            json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}),
            Some(&session),
        )
        .await
        .text()
        .await
        .unwrap(),
    );
    assert_eq!(list["result"]["tools"].as_array().unwrap().len(), 11);
    let credits = s.call(&session, "get_credits", json!({})).await;
    assert_eq!(credits["structuredContent"]["available"], 100, "{credits}");
    s.child.kill().await.ok();
}

#[tokio::test]
async fn a_request_without_the_token_or_from_another_origin_is_refused() {
    let mut s = Server::start().await;
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"0"}}});
    // No token, a wrong one, a token of another length.
    let none = s.request(&init, None).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    for wrong in [
        "0".repeat(s.token.len()),
        "x".into(),
        format!("{}0", s.token),
    ] {
        let r = s
            .request(&init, None)
            .bearer_auth(&wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{wrong}");
    }
    // A web page of another origin, even one that somehow has the token.
    for origin in [
        "https://evil.example",
        "http://localhost.evil.example",
        "null",
    ] {
        let r = s
            .request(&init, None)
            .bearer_auth(&s.token)
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{origin}");
    }
    // A local page (the Inspector's UI) with the token is welcome.
    let r = s
        .request(&init, None)
        .bearer_auth(&s.token)
        .header("Origin", "http://localhost:6274")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    // The token never appears in what the server says.
    let text = r.text().await.unwrap();
    assert!(!text.contains(&s.token));
    row(
        "`--http`: `initialize` with no token, a wrong token, and with `Origin: https://evil.example` (even with the token)",
        "401 with `WWW-Authenticate: Bearer`; 403 for the foreign origin; a loopback origin with the token is served",
        "a_request_without_the_token_or_from_another_origin_is_refused",
    );
    s.child.kill().await.ok();
}

#[tokio::test]
async fn two_sessions_work_on_two_projects_and_never_see_each_others_jobs() {
    let mut s = Server::start().await;
    let (a, b) = (s.session("host-a").await, s.session("host-b").await);
    let png = s.home.path().join("a.png");
    std::fs::write(
        &png,
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0",
    )
    .unwrap();
    let up = s
        .call(&a, "upload_media", json!({"paths":[png.to_str().unwrap()]}))
        .await;
    let job = up["structuredContent"]["job_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{up}"))
        .to_string();
    let pa = s.call(&a, "connect", json!({})).await["structuredContent"]["project_id"].clone();
    let pb = s.call(&b, "connect", json!({})).await["structuredContent"]["project_id"].clone();
    assert!(pa.is_string() && pb.is_string());
    assert_ne!(pa, pb, "each session has its own project");
    let la = s.call(&a, "list_jobs", json!({})).await;
    let lb = s.call(&b, "list_jobs", json!({})).await;
    assert_eq!(
        la["structuredContent"]["jobs"].as_array().unwrap().len(),
        1,
        "{la}"
    );
    assert_eq!(
        lb["structuredContent"]["jobs"].as_array().unwrap().len(),
        0,
        "{lb}"
    );
    let peek = s.call(&b, "get_job", json!({"job_id": job})).await;
    assert_eq!(peek["isError"], true, "{peek}");
    assert_eq!(peek["structuredContent"]["code"], "unknown_job", "{peek}");
    let b_tl = s.call(&b, "get_timeline", json!({})).await;
    assert_eq!(b_tl["structuredContent"]["media_count"], 0, "{b_tl}");
    // An edit in the first session: sent once, charged once, to the first session's project;
    // the second session's timeline stays empty.
    let mut g = s
        .call(
            &a,
            "generate",
            json!({"instruction": "combine these images into a 10-second video with music"}),
        )
        .await["structuredContent"]
        .clone();
    for _ in 0..20 {
        if g["status"] != "running" {
            break;
        }
        g = s
            .call(&a, "get_job", json!({"job_id": g["job_id"], "wait_s": 20}))
            .await["structuredContent"]
            .clone();
    }
    assert_eq!(g["status"], "succeeded", "{g}");
    let control = s.sim.control();
    assert_eq!(control.attempted_messages().len(), 1, "messages sent");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while control.accounts().iter().any(|u| u.frozen > 0) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "credits never settled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let left: i64 = control
        .accounts()
        .iter()
        .map(|u| u.available + u.frozen)
        .sum();
    assert_eq!(100 - left, 50, "credits charged");
    let b_tl = s.call(&b, "get_timeline", json!({})).await;
    assert_eq!(b_tl["structuredContent"]["media_count"], 0, "{b_tl}");
    assert_eq!(b_tl["structuredContent"]["exportable"], false, "{b_tl}");
    // The first session's export: its bytes are readable by that session's player view only.
    let mut e = s.call(&a, "export_video", json!({})).await["structuredContent"].clone();
    for _ in 0..20 {
        if e["status"] != "running" {
            break;
        }
        e = s
            .call(&a, "get_job", json!({"job_id": e["job_id"], "wait_s": 20}))
            .await["structuredContent"]
            .clone();
    }
    assert_eq!(e["status"], "succeeded", "{e}");
    let piece = json!({"job_id": e["job_id"], "offset": 0});
    let own = s.call(&a, "read_export_piece", piece.clone()).await;
    assert_eq!(own["structuredContent"]["offset"], 0, "{own}");
    assert!(own["structuredContent"]["data"]
        .as_str()
        .is_some_and(|d| !d.is_empty()));
    let other = s.call(&b, "read_export_piece", piece).await;
    assert_eq!(other["isError"], true, "{other}");
    assert_eq!(other["structuredContent"]["code"], "unknown_job", "{other}");
    row(
        "`--http`: a second MCP session's player view asks for the first one's export by job id (`read_export_piece`)",
        "`unknown_job`: exports are read through their own session's jobs only",
        "two_sessions_work_on_two_projects_and_never_see_each_others_jobs",
    );
    row(
        "`--http`: a second MCP session calls `list_jobs`, `get_job` with the first one's job id, and `get_timeline`",
        "no jobs, `unknown_job`, an empty timeline: each session has its own project and jobs",
        "two_sessions_work_on_two_projects_and_never_see_each_others_jobs",
    );
    s.child.kill().await.ok();
}

#[tokio::test]
async fn a_non_loopback_address_needs_allow_remote() {
    let home = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(binary())
        .args(["--http", &format!("0.0.0.0:{}", free_port())])
        .env("HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env("NEMO_API_URL", "http://127.0.0.1:9")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--allow-remote"), "{err}");
    assert!(out.stdout.is_empty());
    row(
        "`--http 0.0.0.0:PORT` without `--allow-remote`",
        "refused at start with the reason; exit code 1",
        "a_non_loopback_address_needs_allow_remote",
    );
}

//! Several clients on one `nemo-mcp --http` (issue 44), in both protocol eras, each making a
//! video: a 2026-07-28 client works in a workspace the server handed it (never one keyed on a
//! header it did not issue), a 2025 client in its MCP session; none sees or edits another's
//! current project or jobs. Every paid path counts messages and credits from nemo-sim's log.
//! And the front door under load: half-open connections cannot starve a real request.

use e2e::http::{message, Server};
use serde_json::{json, Value};
use std::time::Duration;

const PROMO: &str = "combine these images into a 10-second promo video with music";

fn png(dir: &std::path::Path, name: &str, rgb: [u8; 3]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, nemo_sim::sample::png(64, 48, rgb, 1)).unwrap();
    p.display().to_string()
}

/// (messages sent, credits charged once settled), from the simulator.
async fn counts(s: &Server) -> (usize, i64) {
    let control = s.sim.control();
    for _ in 0..400 {
        if control.accounts().iter().all(|u| u.frozen == 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let left: i64 = control.accounts().iter().map(|u| u.available).sum();
    let accounts = control.accounts().len() as i64;
    (control.attempted_messages().len(), accounts * 100 - left)
}

fn media_names(timeline: &Value) -> String {
    timeline.to_string()
}

/// Two clients of the 2026-07-28 era on one server, each making a video in the workspace
/// `connect` handed it: each timeline holds only its own media, each `list_jobs` only its own
/// jobs; one message and 50 credits each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_new_era_clients_each_make_a_video_in_their_own_workspace() {
    let s = Server::start().await;
    let dir = s.home.path();
    // Without a workspace, a tool is refused with the step that fixes it; nothing is sent.
    let refused = s
        .call_new_era(None, "make_video", json!({"instruction": PROMO}))
        .await;
    assert_eq!(refused["isError"], true, "{refused}");
    assert_eq!(
        refused["structuredContent"]["code"], "workspace_required",
        "{refused}"
    );
    // The tool list asks for it.
    let tools = s.post_new_era("tools/list", json!({}), None).await;
    let make = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "make_video")
        .unwrap()
        .clone();
    assert!(
        make["inputSchema"]["required"]
            .to_string()
            .contains("workspace"),
        "{make}"
    );
    let mut workspaces = Vec::new();
    for name in ["a", "b"] {
        let c = s.call_new_era(None, "connect", json!({})).await;
        let w = c["structuredContent"]["workspace"]
            .as_str()
            .unwrap_or_else(|| panic!("{c}"))
            .to_string();
        assert!(
            c["content"].to_string().contains(&w),
            "said in the text too: {c}"
        );
        workspaces.push((name, w));
    }
    assert_ne!(workspaces[0].1, workspaces[1].1);
    let mut made = Vec::new();
    for (name, w) in &workspaces {
        let photo = png(
            dir,
            &format!("{name}-photo.png"),
            if *name == "a" {
                [200, 30, 30]
            } else {
                [30, 30, 200]
            },
        );
        let v = s
            .call_new_era(
                Some(w),
                "make_video",
                json!({"instruction": PROMO, "paths": [photo], "wait_s": 0}),
            )
            .await;
        assert_ne!(v["isError"], true, "{v}");
        made.push(v["structuredContent"].clone());
    }
    for ((_, w), v) in workspaces.iter().zip(made) {
        let done = s.follow_new_era(w, v).await;
        assert_eq!(done["status"], "succeeded", "{done}");
    }
    for (name, w) in &workspaces {
        let other = if *name == "a" { "b" } else { "a" };
        let tl = s.call_new_era(Some(w), "get_timeline", json!({})).await;
        let text = media_names(&tl);
        assert!(
            !text.contains(&format!("{other}-photo")),
            "{name} sees {other}'s media: {text}"
        );
        let jobs = s.call_new_era(Some(w), "list_jobs", json!({})).await;
        let n = jobs["structuredContent"]["jobs"]
            .as_array()
            .map_or(0, Vec::len);
        assert!(n >= 1, "{jobs}");
        // Another workspace's job ids are unknown here.
        let (_, mine) = workspaces.iter().find(|(n2, _)| n2 == name).unwrap();
        assert_eq!(mine, w);
    }
    let jobs_a = s
        .call_new_era(Some(&workspaces[0].1), "list_jobs", json!({}))
        .await;
    let jobs_b = s
        .call_new_era(Some(&workspaces[1].1), "list_jobs", json!({}))
        .await;
    let ids = |v: &Value| -> Vec<String> {
        v["structuredContent"]["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["job_id"].as_str().unwrap().to_string())
            .collect()
    };
    let (a_ids, b_ids) = (ids(&jobs_a), ids(&jobs_b));
    assert!(
        a_ids.iter().all(|id| !b_ids.contains(id)),
        "{a_ids:?} {b_ids:?}"
    );
    let peek = s
        .call_new_era(
            Some(&workspaces[1].1),
            "get_job",
            json!({"job_id": a_ids[0]}),
        )
        .await;
    assert_eq!(peek["structuredContent"]["code"], "unknown_job", "{peek}");
    assert_eq!(
        counts(&s).await,
        (2, 100),
        "(messages, credits): one paid edit each"
    );
}

/// A sessionless (2026-07-28) request that carries another client's `Mcp-Session-Id` header
/// gets nothing of that session: the header was issued to someone else, and is not read.
/// A forged workspace is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_header_or_a_forged_workspace_opens_nothing() {
    let s = Server::start().await;
    let session = s.session("old-era-host").await;
    let photo = png(s.home.path(), "mine.png", [10, 200, 10]);
    let up = s
        .call(&session, "upload_media", json!({"paths": [photo]}))
        .await;
    let job = up["structuredContent"]["job_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{up}"))
        .to_string();
    // The same job id, asked for sessionlessly with the session's header.
    let stolen = s
        .post_new_era(
            "tools/call",
            json!({"name": "list_jobs", "arguments": {}}),
            Some(&session),
        )
        .await;
    assert_eq!(
        stolen["result"]["structuredContent"]["code"], "workspace_required",
        "{stolen}"
    );
    for forged in ["ws_0123456789abcdef0123456789abcdef", session.as_str()] {
        let r = s
            .call_new_era(Some(forged), "get_job", json!({"job_id": job}))
            .await;
        assert_eq!(
            r["structuredContent"]["code"], "workspace_required",
            "{forged}: {r}"
        );
    }
    // A real workspace still does not see the session's job.
    let c = s.call_new_era(None, "connect", json!({})).await;
    let w = c["structuredContent"]["workspace"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s
        .call_new_era(Some(&w), "get_job", json!({"job_id": job}))
        .await;
    assert_eq!(r["structuredContent"]["code"], "unknown_job", "{r}");
    assert_eq!(counts(&s).await.0, 0);
}

/// A workspace's project is kept in the state database: the server restarted (every client's
/// `App` gone) finds it again, with the same project and its media.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_finds_its_project_after_its_server_restarts() {
    let mut s = Server::start().await;
    let c = s.call_new_era(None, "connect", json!({})).await;
    let w = c["structuredContent"]["workspace"]
        .as_str()
        .unwrap()
        .to_string();
    let project = c["structuredContent"]["project_id"].clone();
    let photo = png(s.home.path(), "kept.png", [90, 90, 200]);
    let up = s
        .call_new_era(
            Some(&w),
            "upload_media",
            json!({"paths": [photo], "wait_s": 20}),
        )
        .await;
    let up = s.follow_new_era(&w, up["structuredContent"].clone()).await;
    assert_eq!(up["status"], "succeeded", "{up}");
    s = s.restart().await;
    let again = s.call_new_era(Some(&w), "connect", json!({})).await;
    assert_eq!(again["structuredContent"]["project_id"], project, "{again}");
    assert_eq!(again["structuredContent"]["new_project"], false, "{again}");
    let tl = s.call_new_era(Some(&w), "get_timeline", json!({})).await;
    assert_eq!(tl["structuredContent"]["media_count"], 1, "{tl}");
}

/// With the server's descriptors at 256, 300 connections that send half a request and wait
/// do not keep a real request out: it is answered within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_leave_a_real_request_answered() {
    let s = Server::start_with(|cmd| {
        // SAFETY: setrlimit only, in the child before exec.
        unsafe {
            cmd.pre_exec(|| {
                let r = libc::rlimit {
                    rlim_cur: 256,
                    rlim_max: 256,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &r) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
    })
    .await;
    let port: u16 = s
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut held = Vec::new();
    for _ in 0..300 {
        use tokio::io::AsyncWriteExt;
        if let Ok(mut c) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            let _ = c
                .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .await;
            held.push(c);
        }
    }
    let started = std::time::Instant::now();
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"real","version":"0"}}});
    let r = tokio::time::timeout(Duration::from_secs(5), s.post(init, None))
        .await
        .expect("answered");
    let took = started.elapsed();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        message(&r.text().await.unwrap())["result"]["serverInfo"]["name"],
        "nemo-mcp"
    );
    println!("| 300 half-open connections, descriptors at 256 | a real `initialize` answered in {} ms | `http_clients::half_open_connections_leave_a_real_request_answered` |", took.as_millis());
    assert!(took < Duration::from_secs(1), "{took:?}");
    drop(held);
}

/// A 2025 client whose project was dropped from memory (more clients than the server holds:
/// here 2, through `NEMO_HTTP_CLIENTS_HELD`) finds it again on its next call: the same
/// project, its media, `new_project: false`. It used to get a new, empty one silently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_evicted_and_back_finds_its_project() {
    let s = Server::start_with(|cmd| {
        cmd.env("NEMO_HTTP_CLIENTS_HELD", "2");
    })
    .await;
    let a = s.session("a").await;
    let first = s.call(&a, "connect", json!({})).await;
    let project = first["structuredContent"]["project_id"].clone();
    let photo = png(s.home.path(), "a.png", [200, 100, 0]);
    let up = s
        .call(&a, "upload_media", json!({"paths": [photo], "wait_s": 20}))
        .await;
    assert_ne!(up["isError"], true, "{up}");
    // Two other clients take the places held.
    for name in ["b", "c"] {
        let other = s.session(name).await;
        let c = s.call(&other, "connect", json!({})).await;
        assert_ne!(c["structuredContent"]["project_id"], project, "{c}");
    }
    let back = s.call(&a, "connect", json!({})).await;
    assert_eq!(back["structuredContent"]["project_id"], project, "{back}");
    assert_eq!(back["structuredContent"]["new_project"], false, "{back}");
    let tl = s.call(&a, "get_timeline", json!({})).await;
    assert_eq!(tl["structuredContent"]["media_count"], 1, "{tl}");
    println!("| a 2025 client's project dropped from memory (3 clients, 2 held) | the same project and its media on its next call | `http_clients::a_session_evicted_and_back_finds_its_project` |");
}

/// Peak resident memory of a process, in MiB (Linux).
fn peak_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<f64>()
        .unwrap()
        / 1024.0
}

/// 3,000 `initialize` calls: at most 1,000 sessions are held (the rest refused with a message
/// that says why), and the server stays under 150 MiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_thousand_sessions_stay_bounded() {
    let s = Server::start().await;
    let pid = s.child.id().unwrap();
    let (mut opened, mut refused) = (0, 0);
    let mut said = String::new();
    let mut first = None;
    for i in 0..3000 {
        let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name": format!("c{i}"),"version":"0"}}});
        let r = s.post(init, None).await;
        if r.status().is_success() {
            opened += 1;
            if first.is_none() {
                first = r
                    .headers()
                    .get("mcp-session-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
            }
        } else {
            refused += 1;
            said = r.text().await.unwrap();
        }
    }
    let peak = peak_mib(pid);
    println!("| 3,000 `initialize` calls | {opened} sessions held, {refused} refused; peak RSS {peak:.0} MiB (limit 150) | `http_clients::three_thousand_sessions_stay_bounded` |");
    assert_eq!(opened, 1000);
    assert!(said.contains("open MCP sessions"), "{said}");
    assert!(peak < 150.0, "{peak:.0} MiB");
    // The sessions held still work.
    let held = first.expect("a session id");
    let r = s
        .post(
            json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
            Some(&held),
        )
        .await;
    assert!(r.status().is_success());
    let jobs = s.call(&held, "list_jobs", json!({})).await;
    assert!(jobs["structuredContent"]["jobs"].is_array(), "{jobs}");
}

/// Each client's requests say its own host (`X-Skill-Platform`): a Cursor client's say
/// `cursor`, and a client that came after it still says its own. One server used to take the
/// first Cursor client's platform for every client from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_client_s_requests_say_its_own_platform() {
    let s = Server::start_with(|cmd| {
        cmd.env_remove("SKILL_SOURCE");
    })
    .await;
    let cursor = s.session("Cursor").await;
    let other = s.session("claude-code").await;
    let platforms = |from: usize| -> Vec<String> {
        s.sim.log()[from..]
            .iter()
            .map(|r| r.skill_platform.clone().unwrap_or_default())
            .collect()
    };
    let r = s.call(&cursor, "get_credits", json!({})).await;
    assert_ne!(r["isError"], true, "{r}");
    let theirs = platforms(0);
    assert!(
        !theirs.is_empty() && theirs.iter().all(|p| p == "cursor"),
        "{theirs:?}"
    );
    let mark = s.sim.log().len();
    let r = s.call(&other, "get_credits", json!({})).await;
    assert_ne!(r["isError"], true, "{r}");
    let c = s.call_new_era(None, "connect", json!({})).await;
    let w = c["structuredContent"]["workspace"]
        .as_str()
        .unwrap_or_else(|| panic!("{c}"));
    let r = s.call_new_era(Some(w), "get_credits", json!({})).await;
    assert_ne!(r["isError"], true, "{r}");
    let ours = platforms(mark);
    assert!(
        ours.len() >= 2 && ours.iter().all(|p| p == "unknown"),
        "{ours:?}"
    );
    assert_eq!(counts(&s).await, (0, 0));
}

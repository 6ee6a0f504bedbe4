//! The built `nemo-mcp` binary, driven by a real MCP client (rmcp over a child process's stdio),
//! against nemo-sim, with HOME, output and allowed folders in a temporary directory.

use e2e::{call, follow};
use nemo_sim::{Sim, SimConfig, SimHandle};
use rmcp::model::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

const PROMO: &str =
    "combine these images into a 30-second promo video with music and text overlays";

struct World {
    sim: SimHandle,
    home: tempfile::TempDir,
}

impl World {
    async fn new(config: SimConfig) -> World {
        let sim = Sim::start(config).await.unwrap();
        let home = e2e::server_home();
        World { sim, home }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.home.path().join(p)
    }
    fn media(&self, name: &str) -> String {
        let p = self.path("media").join(name);
        std::fs::write(&p, nemo_sim::sample::png(64, 48, [30, 120, 200], 2)).unwrap();
        p.display().to_string()
    }
    fn command(&self) -> tokio::process::Command {
        e2e::server_command(self.home.path(), self.sim.base_url(), self.sim.web_url())
    }
    /// Start the server; its stderr goes to `stderr-N.log`.
    async fn server(&self, n: u32) -> e2e::Server {
        let log = std::fs::File::create(self.path(&format!("stderr-{n}.log"))).unwrap();
        e2e::serve(self.command(), Stdio::from(log)).await
    }
    fn stderr(&self) -> String {
        (0..5)
            .filter_map(|n| std::fs::read_to_string(self.path(&format!("stderr-{n}.log"))).ok())
            .collect()
    }
    /// A query on the state database every server process of the user shares.
    fn db_rows(&self, sql: &str) -> Vec<String> {
        let conn = rusqlite::Connection::open(self.path(".config/nemo-mcp/state.db")).unwrap();
        let mut s = conn.prepare(sql).unwrap();
        let rows = s.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }
    fn token(&self) -> String {
        let c: Value = serde_json::from_str(
            &self.db_rows("SELECT value FROM kv WHERE key = 'credentials'")[0],
        )
        .unwrap();
        c["token"].as_str().unwrap().to_string()
    }
    /// Every file in the output folder but the captions and frames beside an MP4 (so a `.part`
    /// left behind shows here too).
    fn mp4s(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.path("out"))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                let frames = p.to_string_lossy().ends_with(".frames.jpg");
                !(frames
                    || (p.extension().is_some_and(|e| e == "srt" || e == "vtt")
                        && p.with_extension("mp4").is_file()))
            })
            .collect()
    }
}

#[tokio::test]
async fn quick_edit_leaves_one_mp4_in_three_calls() {
    let w = World::new(SimConfig::fast()).await;
    let c = w.server(0).await;
    let mut paths: Vec<String> = (1..=5)
        .map(|i| w.media(&format!("product-{i}.png")))
        .collect();
    paths.push(w.media("logo.png"));
    let mut calls = 0;
    let (up, err) = call(&c, "upload_media", json!({"paths": paths})).await;
    calls += 1;
    assert!(!err, "{up}");
    let (up, p1) = follow(&c, up).await;
    assert_eq!(up["result"]["uploaded"].as_array().unwrap().len(), 6);
    let (g, err) = call(&c, "generate", json!({"instruction": PROMO})).await;
    calls += 1;
    assert!(!err, "{g}");
    let (g, p2) = follow(&c, g).await;
    assert_eq!(g["result"]["duration_s"], 30.0);
    let (e, err) = call(&c, "export_video", json!({})).await;
    calls += 1;
    assert!(!err, "{e}");
    let (e, p3) = follow(&c, e).await;
    assert_eq!(e["status"], "succeeded", "{e}");
    assert_eq!(calls, 3);
    eprintln!(
        "quick edit: {calls} tool calls + {} get_job polls",
        p1 + p2 + p3
    );
    let files = w.mp4s();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "mp4");
    let bytes = std::fs::read(&files[0]).unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
    assert_eq!(
        bytes.len() as u64,
        e["result"]["size_bytes"].as_u64().unwrap()
    );
    // Secrets: the token is nowhere in stderr (debug level), results or the journal.
    let token = w.token();
    assert!(!w.stderr().contains(&token));
    assert!(!w.stderr().is_empty(), "the server logged to stderr");
    for v in [&up, &g, &e] {
        assert!(!v.to_string().contains(&token));
    }
    let rows = w.db_rows(
        "SELECT body FROM jobs UNION ALL SELECT body FROM projects
         UNION ALL SELECT value FROM kv WHERE key != 'credentials'",
    );
    assert!(!rows.is_empty());
    for row in rows {
        assert!(!row.contains(&token), "{row}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(w.path(".config/nemo-mcp/state.db")), 0o600);
        assert_eq!(mode(w.path(".config/nemo-mcp")), 0o700);
        for f in ["state.db-wal", "state.db-shm"] {
            assert_eq!(mode(w.path(&format!(".config/nemo-mcp/{f}"))), 0o600);
        }
    }
    // Every file written anywhere under HOME (outputs, journal, session, logs), except the
    // private credentials file itself, is free of the token.
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out)
            } else {
                out.push(p)
            }
        }
    }
    let mut files = Vec::new();
    walk(w.home.path(), &mut files);
    let token_bytes = token.as_bytes();
    // The database holds the token in its one row (read above, row by row).
    let database = |f: &PathBuf| {
        f.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("state.db"))
    };
    for f in files.iter().filter(|f| !database(f)) {
        // A temporary file may be renamed away between the listing and the read (the server
        // still runs); its bytes are then in the file it became, which is read too.
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        assert!(
            !bytes
                .windows(token_bytes.len())
                .any(|win| win == token_bytes),
            "token found in {}",
            f.display()
        );
    }
    // Resources too; and the links handed to people carry no token (only claim/register links).
    for uri in [
        "nemo://timeline".to_string(),
        format!("nemo://jobs/{}", e["job_id"].as_str().unwrap()),
    ] {
        let r = c
            .read_resource(ReadResourceRequestParams::new(uri))
            .await
            .unwrap();
        assert!(!serde_json::to_string(&r).unwrap().contains(&token));
    }
    let link = e["result"]["project_link"].as_str().unwrap();
    assert!(
        link.contains("/workspace/claim?ct=clm_") && !link.contains("nmv_"),
        "{link}"
    );
    // The client id is shared with the official skill's file.
    assert!(w.path(".config/nemovideo/client_id").exists());
    let _ = c.cancel().await;
}

#[tokio::test]
async fn a_silent_edit_is_reported_from_the_timeline() {
    let w = World::new(SimConfig::fast()).await;
    w.sim.control().set_silence(Some(true));
    let c = w.server(0).await;
    call(
        &c,
        "upload_media",
        json!({"paths": [w.media("a.png"), w.media("b.png")]}),
    )
    .await;
    let (g, _) = call(&c, "generate", json!({"instruction": PROMO})).await;
    let (g, _) = follow(&c, g).await;
    assert_eq!(g["result"]["reply"], "");
    let changes = g["result"]["changes"].as_str().unwrap();
    assert!(
        changes.contains("Added Video")
            && changes.contains("Added BGM")
            && changes.contains("Length 0s → 30s"),
        "{changes}"
    );
    let _ = c.cancel().await;
}

#[tokio::test]
async fn killed_mid_render_then_restarted_finishes_and_downloads_once() {
    let w = World::new(SimConfig::fast().with_time_scale(0.05)).await;
    let c = w.server(0).await;
    call(&c, "upload_media", json!({"paths": [w.media("a.png")]})).await;
    let (g, _) = call(
        &c,
        "generate",
        json!({"instruction": "combine into a 6 second video"}),
    )
    .await;
    follow(&c, g).await;
    let (e, _) = call(&c, "export_video", json!({"wait_s": 0.3})).await;
    assert_eq!(e["status"], "running", "{e}");
    let job_id = e["job_id"].as_str().unwrap().to_string();
    // Until the render id is journaled (in the shared state database).
    for _ in 0..200 {
        let rows = w.db_rows(&format!("SELECT body FROM jobs WHERE id = '{job_id}'"));
        if rows.iter().any(|b| b.contains("\"render_id\":\"render_")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    c.kill9();
    drop(c);
    assert!(w.mp4s().is_empty(), "killed before the download");
    let c2 = w.server(1).await;
    let (done, _) = follow(&c2, json!({"status": "running", "job_id": job_id})).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let files = w.mp4s();
    assert_eq!(files.len(), 1, "{files:?}");
    let submits = w
        .sim
        .log()
        .iter()
        .filter(|x| x.path == "/api/render/proxy/lambda")
        .count();
    assert_eq!(submits, 1, "no second render (no duplicate, no orphan)");
    let _ = c2.cancel().await;
}

#[tokio::test]
async fn killed_mid_generation_then_restarted_recovers_from_state() {
    let w = World::new(SimConfig::fast().with_time_scale(0.1)).await;
    let c = w.server(0).await;
    call(&c, "upload_media", json!({"paths": [w.media("a.png")]})).await;
    let (g, _) = call(
        &c,
        "generate",
        json!({"instruction": "combine into a 25 second video", "wait_s": 0.3}),
    )
    .await;
    assert_eq!(g["status"], "running", "{g}");
    c.kill9();
    drop(c);
    let c2 = w.server(1).await;
    let (done, _) = follow(&c2, json!({"status": "running", "job_id": g["job_id"]})).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["duration_s"], 25.0);
    assert!(done["result"]["recovered"].is_string());
    assert_eq!(
        w.sim.control().attempted_messages().len(),
        1,
        "the message was never sent again"
    );
    let _ = c2.cancel().await;
}

#[tokio::test]
async fn stdout_carries_only_json_rpc_even_for_garbage_input() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let w = World::new(SimConfig::fast()).await;
    let mut child = w
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}});
    let garbage = [
        "not json at all",
        "{",
        "[]",
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"no/such\"}",
        "\u{0}\u{1}binary",
    ];
    stdin
        .write_all(format!("{init}\n").as_bytes())
        .await
        .unwrap();
    stdin
        .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n")
        .await
        .unwrap();
    for g in garbage {
        stdin.write_all(format!("{g}\n").as_bytes()).await.unwrap();
    }
    let list = json!({"jsonrpc":"2.0","id":2,"method":"tools/list"});
    stdin
        .write_all(format!("{list}\n").as_bytes())
        .await
        .unwrap();
    let mut got_list = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Ok(Some(line))) = tokio::time::timeout_at(deadline, lines.next_line()).await {
        let v: Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("non-JSON on stdout: {line:?}"));
        assert_eq!(v["jsonrpc"], "2.0", "{line}");
        if v["id"] == 2 {
            got_list = v["result"]["tools"]
                .as_array()
                .is_some_and(|t| t.len() == 11);
            break;
        }
    }
    assert!(got_list, "the server kept answering after garbage input");
    let _ = child.kill().await;
}

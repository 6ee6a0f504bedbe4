//! In-process harness: nemo-sim as the backend, the server and an rmcp client joined by a pipe.
#![allow(dead_code)]

use nemo_mcp::{App, NemoServer, Settings};
use nemo_sim::{Sim, SimConfig, SimHandle};
use rmcp::model::*;
use rmcp::service::{NotificationContext, RoleClient, RunningService};
use rmcp::{ClientHandler, ServiceExt};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
pub struct Recorder {
    pub progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    /// `notifications/message`: (level, logger, text).
    pub logs: Arc<Mutex<Vec<(String, String, String)>>>,
    /// `notifications/resources/updated` URIs, in order.
    pub updated: Arc<Mutex<Vec<String>>>,
    /// How many `notifications/resources/list_changed` came.
    pub list_changed: Arc<Mutex<usize>>,
    /// Declares the MCP Apps extension (a host that renders views).
    pub renders_apps: bool,
    /// Opens in the 2026-07-28 era (`server/discover`, no `initialize`), as Claude Code does.
    pub discovers: bool,
}

impl ClientHandler for Recorder {
    fn get_info(&self) -> ClientConfig {
        if !self.renders_apps {
            return ClientConfig::default();
        }
        let mut caps = ClientCapabilities::default();
        let mut ui = JsonObject::new();
        ui.insert("mimeTypes".into(), json!(["text/html;profile=mcp-app"]));
        caps.extensions = Some([("io.modelcontextprotocol/ui".to_string(), ui)].into());
        ClientConfig::new(caps, Implementation::new("nemo-tests", "0"))
    }

    async fn on_progress(&self, p: ProgressNotificationParam, _c: NotificationContext<RoleClient>) {
        self.progress.lock().unwrap().push(p);
    }

    async fn on_resource_updated(
        &self,
        p: ResourceUpdatedNotificationParam,
        _c: NotificationContext<RoleClient>,
    ) {
        self.updated.lock().unwrap().push(p.uri);
    }

    async fn on_resource_list_changed(&self, _c: NotificationContext<RoleClient>) {
        *self.list_changed.lock().unwrap() += 1;
    }

    #[allow(deprecated)]
    async fn on_logging_message(
        &self,
        p: LoggingMessageNotificationParam,
        _c: NotificationContext<RoleClient>,
    ) {
        let level = serde_json::to_value(p.level).unwrap_or_default();
        self.logs.lock().unwrap().push((
            level.as_str().unwrap_or_default().to_string(),
            p.logger.unwrap_or_default(),
            p.data.as_str().unwrap_or_default().to_string(),
        ));
    }
}

pub struct Harness {
    pub sim: SimHandle,
    pub dir: tempfile::TempDir,
    pub app: Arc<App>,
    pub client: RunningService<RoleClient, Recorder>,
    pub recorder: Recorder,
}

pub fn png(w: u32, h: u32) -> Vec<u8> {
    nemo_sim::sample::png(w, h, [200, 100, 50], 1)
}

pub fn settings_for(sim: &SimHandle, dir: &Path) -> Settings {
    let mut t = nemo_client::Timeouts::fast();
    t.sse_heartbeats_only = Duration::from_secs(3);
    let config = nemo_client::Config::new(sim.base_url(), dir.join("state"))
        .with_web_url(sim.web_url())
        .with_client_id_file(dir.join("client_id"))
        .with_timeouts(t);
    std::fs::create_dir_all(dir.join("media")).unwrap();
    let mut s = Settings::new(config, dir.join("out"), vec![dir.join("media")]);
    s.render_poll = Duration::from_millis(20);
    s.progress_every = Duration::from_millis(50);
    s.recovery_first = Duration::from_millis(100);
    s.recovery_then = Duration::from_millis(100);
    s.settle_first = Duration::from_millis(50);
    s.default_wait = Duration::from_secs(20);
    s
}

impl Harness {
    pub async fn start() -> Harness {
        Self::with(SimConfig::fast(), |_| {}).await
    }

    pub async fn with(sim: SimConfig, tweak: impl FnOnce(&mut Settings)) -> Harness {
        let sim = Sim::start(sim).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings_for(&sim, dir.path());
        tweak(&mut settings);
        Self::on(sim, dir, settings).await
    }

    /// A host that renders MCP Apps (declares the UI extension).
    pub async fn rendering_apps(sim: SimConfig) -> Harness {
        let sim = Sim::start(sim).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let settings = settings_for(&sim, dir.path());
        let recorder = Recorder {
            renders_apps: true,
            ..Recorder::default()
        };
        Self::on_with(sim, dir, settings, recorder).await
    }

    /// A host as `recorder` describes it (its era, whether it renders views).
    pub async fn as_host(sim: SimConfig, recorder: Recorder) -> Harness {
        let sim = Sim::start(sim).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let settings = settings_for(&sim, dir.path());
        Self::on_with(sim, dir, settings, recorder).await
    }

    /// A server (a "restart") on an existing simulator and folder.
    pub async fn on(sim: SimHandle, dir: tempfile::TempDir, settings: Settings) -> Harness {
        Self::on_with(sim, dir, settings, Recorder::default()).await
    }

    async fn on_with(
        sim: SimHandle,
        dir: tempfile::TempDir,
        settings: Settings,
        recorder: Recorder,
    ) -> Harness {
        let app = App::new(settings).unwrap();
        nemo_mcp::testing::resume_all(&app);
        let (a, b) = tokio::io::duplex(1 << 16);
        let server = NemoServer::new(app.clone());
        tokio::spawn(async move {
            if let Ok(s) = server.serve(a).await {
                let _ = s.waiting().await;
            }
        });
        let client = if recorder.discovers {
            use rmcp::{ClientLifecycleMode, ClientServiceExt};
            let mode = ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            };
            recorder
                .clone()
                .serve_with_lifecycle(b, mode)
                .await
                .unwrap()
        } else {
            recorder.clone().serve(b).await.unwrap()
        };
        Harness {
            sim,
            dir,
            app,
            client,
            recorder,
        }
    }

    /// A "kill" and a restart: the server's job tasks stop without an outcome (the journal keeps
    /// them `running`, as a crash leaves it), then a new server starts on the same simulator
    /// and folder and resumes them.
    pub async fn restart(self) -> Harness {
        let stopped = self.stop().await;
        stopped.start().await
    }

    /// The "kill" alone: what a crash leaves (the simulator, the folder with its journal, the
    /// settings), for a test to change the journal before [`Stopped::start`].
    pub async fn stop(self) -> Stopped {
        let Harness {
            sim,
            dir,
            app,
            client,
            ..
        } = self;
        let settings = app.settings.clone();
        let _ = client.cancel().await;
        app.shutdown().await;
        drop(app);
        Stopped { sim, dir, settings }
    }

    /// A job's journal entry as in the shared state database (in today's format).
    pub fn journal_entry(&self, job_id: &str) -> nemo_mcp::testing::Job {
        self.app.jobs.journal().get(job_id).unwrap()
    }

    pub fn media(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.dir.path().join("media").join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    }

    pub fn params(
        name: impl Into<std::borrow::Cow<'static, str>>,
        args: Value,
    ) -> CallToolRequestParams {
        CallToolRequestParams::new(name)
            .with_arguments(args.as_object().cloned().unwrap_or_default())
    }

    pub async fn call(&self, name: &'static str, args: Value) -> CallToolResult {
        self.client
            .call_tool(Self::params(name, args))
            .await
            .unwrap()
    }

    /// A call with a progress token (so the server sends progress notifications), and that token.
    /// rmcp's client numbers the token of every request itself (a token set by the caller is
    /// replaced), so it is read from the request as sent.
    pub async fn call_tracked(
        &self,
        name: &'static str,
        args: Value,
    ) -> (CallToolResult, ProgressToken) {
        let request =
            ClientRequest::CallToolRequest(CallToolRequest::new(Self::params(name, args)));
        let handle = self
            .client
            .send_cancellable_request(request, rmcp::service::PeerRequestOptions::no_options())
            .await
            .unwrap();
        let token = handle.progress_token.clone();
        match handle.await_response().await.unwrap() {
            ServerResult::CallToolResult(r) => (r, token),
            other => panic!("not a tool result: {other:?}"),
        }
    }

    pub fn progress_for(&self, token: &ProgressToken) -> Vec<ProgressNotificationParam> {
        self.recorder
            .progress
            .lock()
            .unwrap()
            .iter()
            .filter(|p| &p.progress_token == token)
            .cloned()
            .collect()
    }

    /// Follow a job to its end with get_job; returns the final structured body.
    pub async fn finish(&self, mut body: Value) -> Value {
        for _ in 0..100 {
            if body["status"] != "running" {
                return body;
            }
            let r = self
                .call("get_job", json!({"job_id": body["job_id"], "wait_s": 10}))
                .await;
            body = r.structured_content.clone().unwrap();
            if r.is_error == Some(true) {
                return body;
            }
        }
        panic!("job never finished: {body}");
    }

    /// The files in the output folder, but the captions beside an MP4 of the same name
    /// (written whenever the timeline has text; `file_checks.rs` holds them).
    pub fn outputs(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("out"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        // The sidecars beside an MP4: its captions and its frames (`x.frames.jpg`).
        let captions = |p: &PathBuf| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let frames = name
                .strip_suffix(".frames.jpg")
                .is_some_and(|stem| p.with_file_name(format!("{stem}.mp4")).is_file());
            frames
                || (p.extension().is_some_and(|e| e == "srt" || e == "vtt")
                    && p.with_extension("mp4").is_file())
        };
        v.retain(|p| !captions(p));
        v.sort();
        v
    }

    /// Every byte the server wrote to disk in its state folder.
    pub fn state_files_text(&self) -> String {
        let mut all = String::new();
        fn walk(p: &Path, all: &mut String) {
            if let Ok(rd) = std::fs::read_dir(p) {
                for e in rd.flatten() {
                    let path = e.path();
                    let db = path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("state.db"));
                    if path.is_dir() {
                        walk(&path, all);
                    } else if db {
                        // Read row by row below, where the token has its one place.
                    } else if let Ok(b) = std::fs::read(&path) {
                        all.push_str(&String::from_utf8_lossy(&b));
                    }
                }
            }
        }
        walk(&self.dir.path().join("state"), &mut all);
        all.push_str(&db_text_but_credentials(&self.dir.path().join("state")));
        all
    }

    /// The anonymous token the server is using (read from the state database).
    pub fn token(&self) -> String {
        let c: Value =
            serde_json::from_str(&self.app.state.get_value("credentials").unwrap().unwrap())
                .unwrap();
        c["token"].as_str().unwrap().to_string()
    }
}

/// Wait (with a deadline) until `done` holds; `what` names it if it never does.
pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "{what}: never");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn text_of(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn body(r: &CallToolResult) -> Value {
    r.structured_content.clone().unwrap_or(Value::Null)
}

/// Upload two images (a.png, b.png): a project ready for `generate`.
pub async fn upload_two(h: &Harness) {
    let up = h
        .call(
            "upload_media",
            json!({"paths": [h.media("a.png", &png(16, 16)), h.media("b.png", &png(16, 16))]}),
        )
        .await;
    assert_eq!(body(&up)["status"], "succeeded", "{}", text_of(&up));
}

/// An `out_of_credits` error whose next step is the registration link this simulator's user can
/// be given (with `?bind=<user id>` when the backend told it).
pub fn assert_out_of_credits_with_link(h: &Harness, error: &Value) {
    assert_eq!(error["code"], "out_of_credits", "{error}");
    let next = error["next_step"].as_str().unwrap_or_default();
    assert!(next.ends_with(&h.sim.expected_register_link()), "{error}");
}

/// The error of a tool answer: the body of an error result, or a failed job's `error`.
pub fn error_of(b: &Value) -> Value {
    if b["error"].is_object() {
        b["error"].clone()
    } else {
        b.clone()
    }
}

/// (messages sent, credits charged of the 100 an account starts with), counted on nemo-sim's
/// side once every turn has settled (nothing reserved).
pub async fn counts(h: &Harness) -> (usize, i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let accounts = h.sim.control().accounts();
        if accounts.iter().all(|a| a.frozen == 0) || tokio::time::Instant::now() > deadline {
            let left: i64 = accounts.iter().map(|a| a.available + a.frozen).sum();
            let charged = if accounts.is_empty() { 0 } else { 100 - left };
            return (h.sim.control().attempted_messages().len(), charged);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How many renders were submitted to nemo-sim.
pub fn render_submits(h: &Harness) -> usize {
    h.sim
        .log()
        .iter()
        .filter(|r| r.path == "/api/render/proxy/lambda")
        .count()
}

/// A stopped server's world: see [`Harness::stop`].
pub struct Stopped {
    pub sim: SimHandle,
    pub dir: tempfile::TempDir,
    pub settings: Settings,
}

impl Stopped {
    /// A new server on the same simulator and folder: it resumes what the journal holds.
    pub async fn start(self) -> Harness {
        Harness::on(self.sim, self.dir, self.settings).await
    }
}

/// Every row of the state database as text, but the stored credentials (the token's one place).
pub fn db_text_but_credentials(state_dir: &Path) -> String {
    let conn = rusqlite::Connection::open(state_dir.join("state.db")).unwrap();
    let mut s = conn
        .prepare(
            "SELECT body FROM jobs UNION ALL SELECT body FROM projects
             UNION ALL SELECT value FROM kv WHERE key != 'credentials'
             UNION ALL SELECT project || ' ' || session FROM charges",
        )
        .unwrap();
    let rows = s.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
}

/// Every sentence of a result's text that tells the model what to do (names a tool, or asks it
/// to ask the user) is in the structured content too: Claude Code, Codex and Copilot CLI give
/// the model only that part when there is one (issue #32).
pub fn assert_structured_says_it_all(name: &str, r: &CallToolResult) {
    const TOOLS: &[&str] = &[
        "get_job",
        "generate",
        "export_video",
        "connect",
        "upload_media",
        "make_video",
        "get_credits",
        "get_timeline",
        "list_jobs",
        "list_projects",
        "cancel_job",
        "ask the user",
    ];
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Value::Object(o) => o.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    let s = r
        .structured_content
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: a result without structured content"));
    let mut said = Vec::new();
    strings(s, &mut said);
    let text = text_of(r);
    for line in text.lines() {
        for sentence in line.split(". ") {
            let core = sentence
                .trim()
                .trim_start_matches("Next step: ")
                .trim_start_matches("Next: ")
                .trim_start_matches("Running low: ")
                .trim_end_matches('.')
                .trim();
            if core.is_empty() || !TOOLS.iter().any(|t| core.contains(t)) {
                continue;
            }
            let found = said.iter().any(|v| {
                v.contains(core) || (v.chars().count() >= 30 && core.contains(v.as_str()))
            });
            assert!(
                found,
                "{name}: the text tells the model {core:?}, but the structured content does not: {s}"
            );
        }
    }
}

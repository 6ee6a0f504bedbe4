#![doc = include_str!("../README.md")]

mod agent;
mod app;
pub mod config;
pub mod faults;
pub mod font;
mod gate;
pub mod log;
mod media;
pub mod mp4;
mod render_file;
mod reply;
mod routes;
pub mod sample;
mod sse_frames;
mod state;
pub mod strict;
mod world;

pub use agent::GUI_SENTENCES;
pub use config::{
    Envelope, ErrorForm, EventFamily, HeartbeatForm, RenderShape, Renderer, RunChoice,
    SessionIdForm, SimConfig, Variants,
};
pub use faults::{Fault, FaultAction, Route, StreamErrorForm};
pub use log::LoggedRequest;

use state::{AppState, Shared};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The simulator: start one per test with [`Sim::start`].
pub struct Sim;

impl Sim {
    /// Serve a new simulator on 127.0.0.1. It stops when the handle is dropped.
    pub async fn start(config: SimConfig) -> std::io::Result<SimHandle> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], config.port))).await?;
        let addr = listener.local_addr()?;
        let (data_dir, tempdir) = match &config.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                (dir.clone(), None)
            }
            None => {
                let t = tempfile::Builder::new().prefix("nemo-sim-").tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let shared: AppState = Arc::new(Shared {
            config,
            base_url: base_url.clone(),
            data_dir,
            world: Mutex::default(),
            faults: Mutex::default(),
            log: Mutex::default(),
            silence: Mutex::default(),
            epoch: std::time::Instant::now(),
        });
        let router = app::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                stopped.await.ok();
            });
            if let Err(e) = serve.await {
                tracing::error!("nemo-sim stopped: {e}");
            }
        });
        Ok(SimHandle {
            base_url,
            addr,
            control: SimControl { shared },
            _stop: stop,
            _tempdir: tempdir,
        })
    }
}

/// A running simulator.
pub struct SimHandle {
    base_url: String,
    addr: SocketAddr,
    control: SimControl,
    _stop: oneshot::Sender<()>,
    _tempdir: Option<tempfile::TempDir>,
}

impl SimHandle {
    /// The API base URL (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// The web base URL for links given to people (the same server serves small pages).
    pub fn web_url(&self) -> &str {
        &self.base_url
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn control(&self) -> &SimControl {
        &self.control
    }
    /// A copy of the request log so far.
    pub fn log(&self) -> Vec<LoggedRequest> {
        self.control.log()
    }
    pub fn data_dir(&self) -> &Path {
        &self.control.shared.data_dir
    }
    /// The variants this instance speaks (with this run's choices filled in).
    pub fn variants(&self) -> Variants {
        self.control.shared.config.variants
    }
    /// The registration link a client can give the (one) anonymous user: with `?bind=<user id>`
    /// when some response told the user id, the plain page when none does (`no_user_id`).
    pub fn expected_register_link(&self) -> String {
        let user = self
            .control
            .accounts()
            .into_iter()
            .find(|a| !a.registered)
            .map(|a| a.user_id);
        match user.filter(|_| !self.variants().no_user_id) {
            Some(u) => format!("{}/register?bind={u}", self.web_url()),
            None => format!("{}/register", self.web_url()),
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let shared = &self.control.shared;
        if !shared.config.fail_on_refusal || std::thread::panicking() {
            return;
        }
        let refused = self.control.refused();
        assert!(
            refused.is_empty(),
            "the strict simulator refused requests unlike the seeds' form: {refused:?}"
        );
    }
}

/// Scripting and inspection of a running simulator (also reachable over HTTP under `/_sim`).
#[derive(Clone)]
pub struct SimControl {
    shared: AppState,
}

/// A summary of one user's account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub user_id: String,
    pub available: i64,
    pub frozen: i64,
    pub registered: bool,
}

impl SimControl {
    pub(crate) fn from_shared(shared: AppState) -> Self {
        Self { shared }
    }

    pub fn inject(&self, fault: Fault) {
        self.shared.faults().push(fault);
    }
    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }
    /// Every issued token stops working now (as if 7 days had passed).
    pub fn expire_tokens(&self) {
        let mut w = self.shared.world();
        let past = w.now() - chrono::Duration::seconds(1);
        for t in w.tokens.values_mut() {
            t.expires_at = past;
        }
    }
    /// Move the simulator's clock forward.
    pub fn advance_clock(&self, by: std::time::Duration) {
        let mut w = self.shared.world();
        w.clock_offset += chrono::Duration::from_std(by).unwrap_or_default();
    }
    /// Set every user's available credits (or one user's).
    pub fn set_credits(&self, user_id: Option<&str>, available: i64) {
        let mut w = self.shared.world();
        for u in w
            .users
            .values_mut()
            .filter(|u| user_id.is_none_or(|id| id == u.id))
        {
            u.available = available;
        }
    }
    /// Each turn's charge as it settled: (session id, credits; 0 for a turn given back).
    pub fn charges(&self) -> Vec<(u64, i64)> {
        self.shared.world().charges.clone()
    }
    pub fn fail_next_render(&self) {
        self.shared.world().fail_next_render = true;
    }
    /// `Some(true)`: every edit is silent; `Some(false)`: none is; `None`: about 30%.
    pub fn set_silence(&self, silence: Option<bool>) {
        *self
            .shared
            .silence
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = silence;
    }
    /// Forget a session, as the backend does when one expires.
    pub fn drop_session(&self, session_id: u64) -> bool {
        self.shared.world().sessions.remove(&session_id).is_some()
    }
    pub fn accounts(&self) -> Vec<Account> {
        let w = self.shared.world();
        let mut v: Vec<Account> = w
            .users
            .values()
            .map(|u| Account {
                user_id: u.id.clone(),
                available: u.available,
                frozen: u.frozen,
                registered: u.registered,
            })
            .collect();
        v.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        v
    }
    /// The draft of a session, as the state endpoint would give it.
    pub fn draft(&self, session_id: u64) -> Option<serde_json::Value> {
        self.shared
            .world()
            .sessions
            .get(&session_id)
            .map(|s| s.draft.clone())
    }
    pub fn session_ids(&self) -> Vec<u64> {
        self.shared.world().sessions.keys().copied().collect()
    }
    /// (id, status) of every render submitted so far.
    pub fn renders(&self) -> Vec<(String, String)> {
        let w = self.shared.world();
        let mut v: Vec<_> = w
            .renders
            .values()
            .map(|r| (r.id.clone(), r.status.as_str().to_string()))
            .collect();
        v.sort();
        v
    }
    pub fn log(&self) -> Vec<LoggedRequest> {
        self.shared.log().clone()
    }
    /// The `/run_sse` messages that started a turn (were accepted and charged), in order.
    pub fn messages(&self) -> Vec<String> {
        let log = self.shared.log();
        log.iter()
            .filter(|e| e.turn_started)
            .filter_map(|e| e.message.clone())
            .collect()
    }

    /// Requests the strict simulator refused as unlike the seeds' form: (path, reason).
    pub fn refused(&self) -> Vec<(String, String)> {
        self.shared
            .log()
            .iter()
            .filter_map(|e| Some((e.path.clone(), e.rejected.clone()?)))
            .collect()
    }

    /// Every `/run_sse` message received, including refused ones.
    pub fn attempted_messages(&self) -> Vec<String> {
        self.shared
            .log()
            .iter()
            .filter_map(|e| e.message.clone())
            .collect()
    }
}

/// Run a simulator until Ctrl-C (the `nemo-sim` binary and `nemo-mcp sim`).
pub async fn serve_forever(config: SimConfig) -> std::process::ExitCode {
    match Sim::start(config).await {
        Ok(sim) => {
            tracing::info!(
                "nemo-sim listening on {} (control under {}/_sim)",
                sim.base_url(),
                sim.base_url()
            );
            let _ = tokio::signal::ctrl_c().await;
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("nemo-sim could not start: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

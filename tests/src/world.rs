//! Several hosts on one HOME (one state folder) against one simulator: the world the
//! multi-process tests (`shared_state`, `unkind_world`) build their cases in.

use crate::call;
use nemo_sim::{Sim, SimConfig, SimHandle};
use rmcp::service::RunningService;
use rmcp::RoleClient;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// What the multi-process tests ask for: a paid edit of 50 credits in nemo-sim.
pub const PROMO: &str = "combine these images into a 10-second promo video with music";

pub type Client = RunningService<RoleClient, ()>;

/// A server process on the shared HOME, as a host starts one.
pub type Host = crate::Server;

pub struct World {
    pub sim: SimHandle,
    pub home: tempfile::TempDir,
    next: std::sync::atomic::AtomicU32,
}

impl World {
    pub async fn new(config: SimConfig) -> World {
        let sim = Sim::start(config).await.unwrap();
        let home = crate::server_home();
        World {
            sim,
            home,
            next: Default::default(),
        }
    }
    pub fn path(&self, p: &str) -> PathBuf {
        self.home.path().join(p)
    }
    pub fn media(&self, name: &str) -> String {
        let p = self.path("media").join(name);
        std::fs::write(&p, nemo_sim::sample::png(64, 48, [200, 120, 30], 3)).unwrap();
        p.display().to_string()
    }
    /// A server process, as a host starts one: its own stdio, the shared HOME.
    pub async fn host(&self, env: &[(&str, &str)]) -> Host {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = std::fs::File::create(self.path(&format!("stderr-{n}.log"))).unwrap();
        let mut cmd =
            crate::server_command(self.home.path(), self.sim.base_url(), self.sim.web_url());
        cmd.env("NEMO_RECOVERY_WAIT_MS", "300")
            .env("NEMO_ADOPT_EVERY_MS", "200");
        for (k, v) in env {
            cmd.env(k, v);
        }
        crate::serve(cmd, Stdio::from(log)).await
    }
    pub fn mp4s(&self) -> Vec<PathBuf> {
        self.mp4s_in("out")
    }
    /// The MP4s in the folder `dir` of HOME.
    pub fn mp4s_in(&self, dir: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.path(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "mp4"))
            .collect();
        v.sort();
        v
    }
    /// (paid messages sent, credits charged, renders submitted), from the simulator.
    pub fn counts(&self) -> (usize, i64, usize) {
        let c = self.sim.control();
        (
            c.messages().len(),
            c.charges().iter().map(|(_, n)| n).sum(),
            c.renders().len(),
        )
    }
    /// What the shared database's ledger says was charged.
    pub fn ledger(&self) -> i64 {
        let conn = rusqlite::Connection::open(self.path(".config/nemo-mcp/state.db")).unwrap();
        conn.query_row("SELECT COALESCE(SUM(credits), 0) FROM charges", [], |r| {
            r.get(0)
        })
        .unwrap()
    }
    pub fn stderr(&self) -> String {
        (0..self.next.load(std::sync::atomic::Ordering::Relaxed))
            .filter_map(|n| std::fs::read_to_string(self.path(&format!("stderr-{n}.log"))).ok())
            .collect()
    }
}

/// Wait until the simulator's own log says `seen` (paid messages, credits, renders), then
/// read the job `id` on `c`. A kill that must land after something reached the backend waits
/// on the backend, not on a progress line: "sending the instruction to NemoVideo" is said just
/// before the message leaves, and a slow machine kills the owner in between.
pub async fn until_sim(
    w: &World,
    c: &Client,
    id: &str,
    seen: impl Fn((usize, i64, usize)) -> bool,
) -> Value {
    for _ in 0..400 {
        if seen(w.counts()) {
            return call(c, "get_job", json!({"job_id": id, "wait_s": 0}))
                .await
                .0;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the simulator never saw what job {id} was to send: {:?}",
        w.counts()
    );
}

/// Wait on `c` until the job `id` says `what` in its message (or ends).
pub async fn until_message(c: &Client, id: &str, what: &str) -> Value {
    for _ in 0..400 {
        let (b, _) = call(c, "get_job", json!({"job_id": id, "wait_s": 0})).await;
        if b["status"] != "running" || b["message"].as_str().unwrap_or("").contains(what) {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {id} never said {what:?}");
}

//! The simulator's state: users and their credits, tokens, sessions with their timelines,
//! renders and claim tokens. One `Mutex<World>`; handlers never hold it across an await.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub available: i64,
    pub frozen: i64,
    pub registered: bool,
}

#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub user_id: String,
    pub expires_at: DateTime<Utc>,
}

/// An uploaded or generated asset, as the state's `video_infos` lists it.
#[derive(Debug, Clone)]
pub struct Asset {
    pub filename: String,
    pub file_type: &'static str,
    pub cdn_url: String,
    /// Where the bytes are on the simulator's disk (none for URL uploads).
    pub path: Option<PathBuf>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_s: Option<f64>,
    pub hash: String,
}

impl Asset {
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "filename": self.filename,
            "file_type": self.file_type,
            "cdn_url": self.cdn_url,
            "hash": self.hash,
        });
        if let Some(w) = self.width {
            v["width"] = json!(w);
        }
        if let Some(h) = self.height {
            v["height"] = json!(h);
        }
        if let Some(d) = self.duration_s {
            v["duration"] = json!(d);
        }
        v
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: u64,
    pub task_id: String,
    pub task_name: String,
    pub user_id: String,
    pub language: String,
    pub assets: Vec<Asset>,
    /// The timeline in the backend's short-key form (`t`/`tt`/`sg`/`d`/`m`).
    pub draft: Value,
    pub generated_media: Vec<Value>,
    pub turn_running: bool,
    pub turns: u32,
}

impl Session {
    pub fn state_json(&self) -> Value {
        let (w, h) = (
            self.draft["m"]["width"].as_u64().unwrap_or(1920),
            self.draft["m"]["height"].as_u64().unwrap_or(1080),
        );
        json!({
            "video_infos": self.assets.iter().map(Asset::to_json).collect::<Vec<_>>(),
            "draft": self.draft,
            "canvas_config": {"width": w, "height": h, "aspect_ratio": aspect(w, h)},
            "video_analyses": [],
            "generated_media": self.generated_media,
        })
    }
}

fn aspect(w: u64, h: u64) -> String {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let g = gcd(w, h).max(1);
    format!("{}:{}", w / g, h / g)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderStatus {
    Pending,
    Processing,
    Completed,
    Failed,
}

impl RenderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RenderStatus::Pending => "pending",
            RenderStatus::Processing => "processing",
            RenderStatus::Completed => "completed",
            RenderStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Render {
    pub id: String,
    pub session_id: u64,
    pub status: RenderStatus,
    pub progress: u8,
    pub error: Option<String>,
    pub output: Option<PathBuf>,
    pub size: u64,
    pub duration_s: f64,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub started: Instant,
    /// When it completed, in milliseconds since the simulator started (for benchmarks).
    pub completed_ms: Option<u64>,
}

#[derive(Debug, Default)]
pub struct World {
    pub users: HashMap<String, User>,
    pub tokens: HashMap<String, TokenInfo>,
    /// Anonymous client id → its user (renewal keeps the same user).
    pub clients: HashMap<String, String>,
    pub sessions: HashMap<u64, Session>,
    pub renders: HashMap<String, Render>,
    /// claim token → session id.
    pub claims: HashMap<String, u64>,
    /// Added to the wall clock: tests move time forward to expire tokens.
    pub clock_offset: chrono::Duration,
    pub fail_next_render: bool,
    /// Each turn's charge: (session id, credits), in the order the turns settled.
    pub charges: Vec<(u64, i64)>,
    next_id: u64,
}

impl World {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }

    /// A fresh number, unique within this simulator.
    pub fn next(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A session id in the range real ones fall in: above 2^53 and below 2^63.
    pub fn new_session_id(&mut self) -> u64 {
        let n = self.next();
        5_529_798_706_024_415_232u64 + n * 7919
    }

    pub fn user_mut(&mut self, id: &str) -> Option<&mut User> {
        self.users.get_mut(id)
    }

    /// The user a bearer token belongs to, if the token is known and live.
    pub fn user_for_token(&self, token: &str) -> Option<String> {
        let info = self.tokens.get(token)?;
        (info.expires_at > self.now()).then(|| info.user_id.clone())
    }
}

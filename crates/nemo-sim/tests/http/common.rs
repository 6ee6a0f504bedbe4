//! What every file of the HTTP suite shares: a plain client of the simulator's API.

use nemo_sim::*;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use std::time::Duration;

pub(crate) const ATTR: [(&str, &str); 3] = [
    ("X-Skill-Source", "test"),
    ("X-Skill-Version", "0.1.0"),
    ("X-Skill-Platform", "unknown"),
];

pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    v
}

pub(crate) struct Api {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: String,
    pub(crate) sid: String,
    pub(crate) envelope: Envelope,
}

/// The data of a successful answer in any envelope.
pub(crate) fn data(envelope: Envelope, body: Value) -> Value {
    match envelope {
        Envelope::Code => {
            assert_eq!(body["code"], 0, "{body}");
            body["data"].clone()
        }
        Envelope::Success => {
            assert_eq!(body["success"], true, "{body}");
            body["data"].clone()
        }
        Envelope::Bare => body,
    }
}

pub(crate) fn sid_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_u64().expect("exact integer").to_string(),
        other => panic!("session id {other}"),
    }
}

impl Api {
    pub(crate) async fn new(sim: &SimHandle, envelope: Envelope) -> Api {
        let http = reqwest::Client::new();
        let base = sim.base_url().to_string();
        let r = http
            .post(format!("{base}/api/auth/anonymous-token"))
            .header("X-Client-Id", uuid())
            .headers(attr())
            .send()
            .await
            .unwrap();
        let token = data(envelope, r.json().await.unwrap())["token"]
            .as_str()
            .unwrap()
            .to_string();
        let mut api = Api {
            http,
            base,
            token,
            sid: String::new(),
            envelope,
        };
        let d = api
            .post(
                "/api/tasks/me/with-session/nemo_agent",
                json!({"task_name":"project","language":"en"}),
            )
            .await;
        api.sid = sid_text(&d["session_id"]);
        api
    }
    pub(crate) async fn raw_post(&self, path: &str, body: Value) -> reqwest::Response {
        let mut rb = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .headers(attr());
        if path == "/run_sse" {
            rb = rb.header("Accept", "text/event-stream");
        }
        rb.json(&body).send().await.unwrap()
    }
    pub(crate) async fn post(&self, path: &str, body: Value) -> Value {
        data(
            self.envelope,
            self.raw_post(path, body).await.json().await.unwrap(),
        )
    }
    pub(crate) async fn raw_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .headers(attr())
            .send()
            .await
            .unwrap()
    }
    pub(crate) async fn get(&self, path: &str) -> Value {
        data(
            self.envelope,
            self.raw_get(path).await.json().await.unwrap(),
        )
    }
    pub(crate) async fn state(&self) -> Value {
        self.get(&format!("/api/state/nemo_agent/me/{}/latest", self.sid))
            .await["state"]
            .clone()
    }
    pub(crate) async fn credits(&self) -> (i64, i64) {
        let c = self.get("/api/credits/balance/simple").await;
        (
            c["available"].as_i64().unwrap(),
            c["frozen"].as_i64().unwrap(),
        )
    }
    pub(crate) async fn upload(&self, files: &[(&str, Vec<u8>)]) -> reqwest::Response {
        let mut form = Form::new();
        for (name, bytes) in files {
            form = form.part(
                "files",
                Part::bytes(bytes.clone()).file_name(name.to_string()),
            );
        }
        self.upload_form(attr(), form).await.unwrap()
    }
    /// A multipart upload with these headers (besides the token); the transport's result as is.
    pub(crate) async fn upload_form(
        &self,
        headers: reqwest::header::HeaderMap,
        form: Form,
    ) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(format!(
                "{}/api/upload-video/nemo_agent/me/{}",
                self.base, self.sid
            ))
            .bearer_auth(&self.token)
            .headers(headers)
            .multipart(form)
            .send()
            .await
    }
    /// Send a message and read the whole stream as text.
    pub(crate) async fn sse(&self, text: &str) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}/run_sse", self.base))
            .bearer_auth(&self.token)
            .headers(attr())
            .header("Accept", "text/event-stream")
            .json(&json!({"app_name":"nemo_agent","user_id":"me","session_id":self.sid,"new_message":{"parts":[{"text":text}]}}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap_or_default())
    }
    pub(crate) async fn render(&self, id: &str, draft: Value) -> Value {
        self.post("/api/render/proxy/lambda", json!({"id": id, "sessionId": self.sid, "draft": draft, "output": {"format":"mp4","quality":"high"}})).await
    }
    /// Poll a render until it finishes; returns the status body.
    pub(crate) async fn wait_render(&self, id: &str) -> Value {
        for _ in 0..400 {
            let b: Value = self
                .raw_get(&format!("/api/render/proxy/lambda/{id}"))
                .await
                .json()
                .await
                .unwrap();
            let st = b["status"]
                .as_str()
                .or(b["data"]["status"].as_str())
                .unwrap()
                .to_string();
            if st == "completed" || st == "failed" {
                return b;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("render {id} never finished");
    }
}

pub(crate) fn uuid() -> String {
    format!(
        "c-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

pub(crate) fn attr() -> reqwest::header::HeaderMap {
    let mut h = reqwest::header::HeaderMap::new();
    for (k, v) in ATTR {
        h.insert(k, v.parse().unwrap());
    }
    h
}

pub(crate) fn data_lines(stream: &str) -> Vec<Value> {
    stream
        .split("\n\n")
        .filter_map(|frame| {
            let d: Vec<&str> = frame
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            serde_json::from_str(&d.join("\n")).ok()
        })
        .collect()
}

/// The defaults, with this run's open choices pinned: these tests assert the simulator's exact
/// forms (the client's tests are the ones that take whatever the run chose).
pub(crate) fn pinned() -> Variants {
    Variants {
        error_form: ErrorForm::CodeIn200,
        no_user_id: false,
        ..Variants::default()
    }
}

pub(crate) async fn sim_with(variants: Variants) -> SimHandle {
    Sim::start(SimConfig::fast().with_variants(variants))
        .await
        .unwrap()
}

pub(crate) const PROMO: &str =
    "combine these images into a 30-second promo video with music and text overlays";

//! The simulator through plain HTTP (reqwest), never through nemo-client: every endpoint, every
//! variant and every fault, asserting the state changes.

use nemo_sim::*;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use std::time::Duration;

const ATTR: [(&str, &str); 3] = [
    ("X-Skill-Source", "test"),
    ("X-Skill-Version", "0.1.0"),
    ("X-Skill-Platform", "unknown"),
];

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    v
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
    sid: String,
    envelope: Envelope,
}

/// The data of a successful answer in any envelope.
fn data(envelope: Envelope, body: Value) -> Value {
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

fn sid_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_u64().expect("exact integer").to_string(),
        other => panic!("session id {other}"),
    }
}

impl Api {
    async fn new(sim: &SimHandle, envelope: Envelope) -> Api {
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
    async fn raw_post(&self, path: &str, body: Value) -> reqwest::Response {
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
    async fn post(&self, path: &str, body: Value) -> Value {
        data(
            self.envelope,
            self.raw_post(path, body).await.json().await.unwrap(),
        )
    }
    async fn raw_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .headers(attr())
            .send()
            .await
            .unwrap()
    }
    async fn get(&self, path: &str) -> Value {
        data(
            self.envelope,
            self.raw_get(path).await.json().await.unwrap(),
        )
    }
    async fn state(&self) -> Value {
        self.get(&format!("/api/state/nemo_agent/me/{}/latest", self.sid))
            .await["state"]
            .clone()
    }
    async fn credits(&self) -> (i64, i64) {
        let c = self.get("/api/credits/balance/simple").await;
        (
            c["available"].as_i64().unwrap(),
            c["frozen"].as_i64().unwrap(),
        )
    }
    async fn upload(&self, files: &[(&str, Vec<u8>)]) -> reqwest::Response {
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
    async fn upload_form(
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
    async fn sse(&self, text: &str) -> (u16, String) {
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
    async fn render(&self, id: &str, draft: Value) -> Value {
        self.post("/api/render/proxy/lambda", json!({"id": id, "sessionId": self.sid, "draft": draft, "output": {"format":"mp4","quality":"high"}})).await
    }
    /// Poll a render until it finishes; returns the status body.
    async fn wait_render(&self, id: &str) -> Value {
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

fn uuid() -> String {
    format!(
        "c-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn attr() -> reqwest::header::HeaderMap {
    let mut h = reqwest::header::HeaderMap::new();
    for (k, v) in ATTR {
        h.insert(k, v.parse().unwrap());
    }
    h
}

fn data_lines(stream: &str) -> Vec<Value> {
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
fn pinned() -> Variants {
    Variants {
        error_form: ErrorForm::CodeIn200,
        no_user_id: false,
        ..Variants::default()
    }
}

async fn sim_with(variants: Variants) -> SimHandle {
    Sim::start(SimConfig::fast().with_variants(variants))
        .await
        .unwrap()
}

const PROMO: &str =
    "combine these images into a 30-second promo video with music and text overlays";

#[tokio::test]
async fn the_seed_flow_end_to_end() {
    let sim = sim_with(pinned()).await;
    let api = Api::new(&sim, Envelope::Code).await;
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("p1.png", png(800, 600)),
        ("p2.png", png(640, 480)),
        ("logo.png", png(200, 200)),
    ];
    let up: Value = api.upload(&files).await.json().await.unwrap();
    let up = data(Envelope::Code, up);
    assert_eq!(up["files"].as_array().unwrap().len(), 3);
    assert_eq!(up["files"][0]["file_type"], "image");
    assert_eq!(up["files"][0]["width"], 800);
    assert_eq!(up["files"][1]["height"], 480);
    assert_eq!(up["session_state_applied"], true);
    // The cdn_url serves the uploaded bytes.
    let cdn = up["files"][2]["cdn_url"].as_str().unwrap();
    assert_eq!(
        reqwest::get(cdn)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        &png(200, 200)[..]
    );

    assert_eq!(api.credits().await, (100, 0));
    let (status, stream) = api.sse(PROMO).await;
    assert_eq!(status, 200);
    assert!(stream.contains(": ping"), "heartbeats while working");
    assert_eq!(sim.control().messages(), vec![PROMO.to_string()]);
    assert_eq!(
        api.credits().await,
        (50, 0),
        "an edit costs 50 and nothing stays frozen"
    );

    let state = api.state().await;
    let draft = &state["draft"];
    assert_eq!(draft["d"], 30_000);
    let kinds: Vec<u64> = draft["t"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tt"].as_u64().unwrap())
        .collect();
    assert_eq!(kinds, vec![0, 1, 7]);
    assert_eq!(state["video_infos"].as_array().unwrap().len(), 3);
    assert_eq!(state["canvas_config"]["aspect_ratio"], "16:9");

    let r = api.render("render_1", draft.clone()).await;
    assert_eq!(r["status"], "pending");
    let done = api.wait_render("render_1").await;
    assert_eq!(done["status"], "completed");
    let url = done["output"]["url"].as_str().unwrap();
    let mp4 = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    assert_eq!(&mp4[4..8], b"ftyp");
    assert_eq!(done["output"]["size"].as_u64().unwrap(), mp4.len() as u64);
    // The /download fallback serves the same file.
    let fallback = api
        .raw_get("/api/render/proxy/render_1/download")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(fallback, mp4);
    // The claim link.
    let claim = api
        .post(
            "/api/auth/claim-token",
            json!({"task_id": "x", "session_id": api.sid}),
        )
        .await;
    assert!(claim["claim_token"].as_str().unwrap().starts_with("clm_"));
    // Every API request carried the attribution headers (the plain GETs of this test did not).
    let api_calls: Vec<_> = sim
        .log()
        .into_iter()
        .filter(|e| e.path.starts_with("/api") || e.path == "/run_sse")
        .collect();
    assert!(api_calls.len() >= 12, "{}", api_calls.len());
    assert!(api_calls.iter().all(|e| e.attributed()));
    assert!(sim.log().iter().any(|e| !e.attributed()));
}

#[tokio::test]
async fn envelopes_and_session_id_forms() {
    let forms = [Envelope::Code, Envelope::Success, Envelope::Bare]
        .into_iter()
        .flat_map(|e| [SessionIdForm::String, SessionIdForm::Number].map(|s| (e, s)))
        .zip(ErrorForm::ALL.into_iter().cycle());
    for ((envelope, sid_form), error_form) in forms {
        {
            let sim = sim_with(Variants {
                envelope,
                session_id: sid_form,
                error_form,
                ..pinned()
            })
            .await;
            let api = Api::new(&sim, envelope).await;
            assert!(
                api.sid.parse::<u64>().unwrap() > (1u64 << 53),
                "big ids survive in {envelope:?}/{sid_form:?}"
            );
            let raw: Value = api
                .raw_get(&format!("/api/state/nemo_agent/me/{}/latest", api.sid))
                .await
                .json()
                .await
                .unwrap();
            let d = data(envelope, raw);
            match sid_form {
                SessionIdForm::String => assert!(d["session_id"].is_string()),
                SessionIdForm::Number => assert!(d["session_id"].is_u64()),
            }
            // Errors in each envelope and each error form.
            let r = api.raw_get("/api/state/nemo_agent/me/42/latest").await;
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let code = body["code"].as_i64();
            let case = format!("{envelope:?}/{error_form:?}: {status} {text}");
            match error_form {
                ErrorForm::CodeIn200 => assert_eq!((status, code), (200, Some(1002)), "{case}"),
                ErrorForm::Both => assert_eq!((status, code), (404, Some(1002)), "{case}"),
                ErrorForm::StatusOnly => {
                    assert_eq!((status, code), (404, None), "{case}");
                    assert!(text.contains("session not found"), "{case}");
                }
            }
            if envelope == Envelope::Success {
                assert_eq!(body["success"], false, "{case}");
            }
        }
    }
}

#[tokio::test]
async fn event_families_heartbeats_and_partials() {
    for family in [EventFamily::Adk, EventFamily::Simple] {
        for heartbeat in [
            HeartbeatForm::Comment,
            HeartbeatForm::EmptyData,
            HeartbeatForm::Json,
            HeartbeatForm::EventName,
        ] {
            let v = Variants {
                event_family: family,
                heartbeat,
                partial_chunks: true,
                ..pinned()
            };
            let sim = sim_with(v).await;
            sim.control().set_silence(Some(false));
            let api = Api::new(&sim, Envelope::Code).await;
            api.upload(&[("a.png", png(10, 10))]).await;
            let (_, stream) = api.sse("combine into a 10 second video").await;
            let marker = match heartbeat {
                HeartbeatForm::Comment => ": ping\n\n",
                HeartbeatForm::EmptyData => "data: \n\n",
                HeartbeatForm::Json => "{\"type\":\"heartbeat\"}",
                HeartbeatForm::EventName => "event: heartbeat\n",
            };
            assert!(
                stream.contains(marker),
                "{family:?}/{heartbeat:?}: {stream}"
            );
            let events = data_lines(&stream);
            match family {
                EventFamily::Simple => {
                    assert!(events.iter().any(|e| e["type"] == "text"));
                    assert!(events.iter().any(|e| e["type"] == "tool_call"));
                    assert!(events.iter().any(|e| e["type"] == "tool_result"));
                }
                EventFamily::Adk => {
                    assert!(
                        events.iter().any(|e| e["partial"] == true),
                        "partial chunks"
                    );
                    assert!(events
                        .iter()
                        .any(|e| e["content"]["parts"][0]["thought"] == true));
                    assert!(events
                        .iter()
                        .any(
                            |e| e["content"]["parts"][0]["functionCall"]["name"] == "edit_timeline"
                        ));
                    assert!(events
                        .iter()
                        .any(|e| e["content"]["parts"][0]["functionResponse"].is_object()));
                }
            }
        }
    }
}

#[tokio::test]
async fn snake_case_and_multiline_variants() {
    let sim = sim_with(Variants {
        snake_case_keys: true,
        multiline_data: true,
        ..pinned()
    })
    .await;
    sim.control().set_silence(Some(false));
    let api = Api::new(&sim, Envelope::Code).await;
    api.upload(&[("a.png", png(10, 10))]).await;
    let (_, stream) = api.sse("combine into a 10 second video").await;
    assert!(stream.contains("\"invocation_id\""));
    assert!(stream.contains("\"function_call\""));
    assert!(stream
        .lines()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| w[0].starts_with("data: ") && w[1].starts_with("data: ")));
    assert!(!data_lines(&stream).is_empty());
}

#[tokio::test]
async fn silent_edits_still_change_the_draft_and_about_thirty_percent_are_silent() {
    let sim = sim_with(pinned()).await;
    sim.control().set_silence(Some(true));
    let api = Api::new(&sim, Envelope::Code).await;
    sim.control().set_credits(None, 10_000);
    api.upload(&[("a.png", png(10, 10)), ("b.png", png(10, 10))])
        .await;
    let (_, stream) = api.sse(PROMO).await;
    let texts: Vec<Value> = data_lines(&stream)
        .into_iter()
        .filter(|e| {
            e["content"]["parts"][0]["text"].is_string()
                && e["content"]["parts"][0]["thought"] != true
        })
        .collect();
    assert!(texts.is_empty(), "silent edit said {texts:?}");
    assert_eq!(api.state().await["draft"]["d"], 30_000);
    // The default rule: deterministic, about 3 in 10.
    sim.control().set_silence(None);
    let mut silent = 0;
    for n in 0..10 {
        let (_, stream) = api.sse(&format!("make it {} seconds", 10 + n)).await;
        let said = data_lines(&stream).iter().any(|e| {
            e["content"]["parts"][0]["text"].is_string()
                && e["content"]["parts"][0]["thought"] != true
        });
        silent += (!said) as u32;
    }
    assert!((2..=4).contains(&silent), "{silent} of 10 silent");
}

#[tokio::test]
async fn generation_costs_100_and_credits_freeze_while_running() {
    let sim = Sim::start(SimConfig {
        time_scale: 0.02,
        ..SimConfig::fast().with_variants(pinned())
    })
    .await
    .unwrap();
    let api = Api::new(&sim, Envelope::Code).await;
    let http = api.http.clone();
    let req = http
        .post(format!("{}/run_sse", api.base))
        .bearer_auth(&api.token)
        .headers(attr())
        .header("Accept", "text/event-stream")
        .json(&json!({"app_name":"nemo_agent","user_id":"me","session_id":api.sid,"new_message":{"parts":[{"text":"generate a clip of a city timelapse at night"}]}}))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(api.credits().await, (0, 100), "frozen while the turn runs");
    let _ = req.text().await;
    assert_eq!(api.credits().await, (0, 0));
    assert_eq!(
        api.state().await["generated_media"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Out of credits: 2001 before any stream.
    api.upload(&[("a.png", png(10, 10))]).await;
    let r = api.raw_post("/run_sse", json!({"app_name":"nemo_agent","user_id":"me","session_id":api.sid,"new_message":{"parts":[{"text":PROMO}]}})).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 2001);
}

#[tokio::test]
async fn tokens_client_ids_rate_limits_and_renewal() {
    let sim = sim_with(pinned()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/auth/anonymous-token", sim.base_url());
    let r = http.post(&url).headers(attr()).send().await.unwrap();
    assert_eq!(r.status(), 400, "no X-Client-Id");
    let first: Value = http
        .post(&url)
        .header("X-Client-Id", "client-a")
        .headers(attr())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["data"]["credits"], 100);
    assert!(first["data"]["token"]
        .as_str()
        .unwrap()
        .starts_with("nmv_usr_"));
    assert!(first["data"]["expires_at"].is_string());
    let again = http
        .post(&url)
        .header("X-Client-Id", "client-a")
        .headers(attr())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 429);
    assert!(again.headers().get("retry-after").is_some());
    // After 7 days the token is dead, and the same client gets a new token for the same user.
    let token = first["data"]["token"].as_str().unwrap();
    let credits = format!("{}/api/credits/balance/simple", sim.base_url());
    assert_eq!(
        http.get(&credits)
            .bearer_auth(token)
            .headers(attr())
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["code"],
        0
    );
    sim.control()
        .advance_clock(Duration::from_secs(7 * 24 * 3600 + 1));
    assert_eq!(
        http.get(&credits)
            .bearer_auth(token)
            .headers(attr())
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["code"],
        1001
    );
    let renewed: Value = http
        .post(&url)
        .header("X-Client-Id", "client-a")
        .headers(attr())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(renewed["data"]["user_id"], first["data"]["user_id"]);
    assert_ne!(renewed["data"]["token"], first["data"]["token"]);
    // expire_tokens ends every token now.
    sim.control().expire_tokens();
    let t2 = renewed["data"]["token"].as_str().unwrap();
    assert_eq!(
        http.get(&credits)
            .bearer_auth(t2)
            .headers(attr())
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["code"],
        1001
    );
    assert_eq!(sim.control().accounts().len(), 1);
}

#[tokio::test]
async fn newer_token_shape_has_no_user() {
    let sim = sim_with(Variants {
        token_without_user: true,
        ..pinned()
    })
    .await;
    let r: Value = reqwest::Client::new()
        .post(format!("{}/api/auth/anonymous-token", sim.base_url()))
        .headers(attr())
        .header("X-Client-Id", "x")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        r["data"]["user_id"].is_null()
            && r["data"]["expires_at"].is_null()
            && r["data"]["token"].is_string()
    );
}

#[tokio::test]
async fn upload_checks_and_url_uploads() {
    let sim = Sim::start(SimConfig {
        max_upload_bytes: 1000,
        ..SimConfig::fast().with_variants(pinned())
    })
    .await
    .unwrap();
    let api = Api::new(&sim, Envelope::Code).await;
    let bad: Value = api
        .upload(&[("notes.txt", b"hello".to_vec())])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bad["code"], 4001);
    let big: Value = api
        .upload(&[("big.png", vec![1u8; 2000])])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(big["code"], 4002);
    let urls = api
        .post(
            &format!("/api/upload-video/nemo_agent/me/{}", api.sid),
            json!({"urls":["https://example.com/a/clip.mp4?x=1"],"source_type":"url"}),
        )
        .await;
    assert_eq!(urls["files"][0]["file_type"], "video");
    assert_eq!(urls["files"][0]["filename"], "clip.mp4");
    let r: Value = api
        .raw_post(
            &format!("/api/upload-video/nemo_agent/me/{}", api.sid),
            json!({"urls":["file:///etc/passwd"],"source_type":"url"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(r["code"], 0);
    assert_eq!(
        api.state().await["video_infos"].as_array().unwrap().len(),
        1
    );
    let lost: Value = api
        .raw_post(
            "/api/upload-video/nemo_agent/me/123",
            json!({"urls":["https://e.com/a.png"],"source_type":"url"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(lost["code"], 1002);
}

#[tokio::test]
async fn render_shapes_fallback_failure_and_cancel() {
    for shape in [
        RenderShape::TopLevel,
        RenderShape::InData,
        RenderShape::CodeData,
    ] {
        let sim = sim_with(Variants {
            render_shape: shape,
            render_without_url: shape == RenderShape::CodeData,
            ..pinned()
        })
        .await;
        let api = Api::new(&sim, Envelope::Code).await;
        api.upload(&[("a.png", png(10, 10))]).await;
        api.sse("combine into a 5 second video").await;
        let draft = api.state().await["draft"].clone();
        let id = "render_1700000000001";
        api.render(id, draft.clone()).await;
        let done = api.wait_render(id).await;
        match shape {
            RenderShape::TopLevel => assert!(done["output"]["url"].is_string()),
            RenderShape::InData => {
                assert!(done["data"]["outputUrl"].is_string());
                assert!(done["data"]["completedAt"].is_i64());
            }
            RenderShape::CodeData => {
                assert_eq!(done["data"]["status"], "completed");
                assert!(
                    done["data"]["output"].is_null(),
                    "no URL: the client must use /download"
                );
                let f = api
                    .raw_get(&format!("/api/render/proxy/{id}/download"))
                    .await
                    .bytes()
                    .await
                    .unwrap();
                assert_eq!(&f[4..8], b"ftyp");
            }
        }
        // Duplicate ids are refused.
        let dup: Value = api
            .raw_post(
                "/api/render/proxy/lambda",
                json!({"id":id,"sessionId":api.sid,"draft":draft,"output":{"format":"mp4","quality":"high"}}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_ne!(dup["code"], 0);
    }
    let sim = sim_with(pinned()).await;
    let api = Api::new(&sim, Envelope::Code).await;
    api.render("render_2", json!({"t": []})).await;
    let failed = api.wait_render("render_2").await;
    assert_eq!(failed["status"], "failed");
    assert!(failed["error"].as_str().unwrap().contains("empty"));
    sim.control().fail_next_render();
    api.render(
        "render_3",
        json!({"t": [{"tt":0,"sg":[{"st":0,"et":1000}]}], "d": 1000}),
    )
    .await;
    assert_eq!(api.wait_render("render_3").await["status"], "failed");
    let slow = Sim::start(SimConfig {
        time_scale: 1.0,
        ..SimConfig::fast().with_variants(pinned())
    })
    .await
    .unwrap();
    let api = Api::new(&slow, Envelope::Code).await;
    api.render(
        "render_5",
        json!({"t": [{"tt":0,"sg":[{"st":0,"et":1000}]}], "d": 1000}),
    )
    .await;
    // The contract: cancel has no body.
    let cancel = api
        .http
        .post(format!(
            "{}/api/render/proxy/lambda/render_5/cancel",
            api.base
        ))
        .bearer_auth(&api.token)
        .headers(attr())
        .send()
        .await
        .unwrap();
    let body: Value = cancel.json().await.unwrap();
    assert_eq!(body["code"], 0, "{body}");
    assert_eq!(
        slow.control().renders(),
        vec![("render_5".to_string(), "failed".to_string())]
    );
    let missing = api.raw_get("/api/render/proxy/lambda/nope").await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn export_without_attribution_is_402() {
    let sim = Sim::start(SimConfig {
        fail_on_refusal: false,
        ..SimConfig::fast().with_variants(pinned())
    })
    .await
    .unwrap();
    let api = Api::new(&sim, Envelope::Code).await;
    let r = api
        .http
        .post(format!("{}/api/render/proxy/lambda", api.base))
        .bearer_auth(&api.token)
        .json(&json!({"id":"render_1","sessionId":api.sid,"draft":{"t":[{"tt":0,"sg":[{}]}]},"output":{"format":"mp4","quality":"high"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 402);
    assert!(!sim.log().last().unwrap().attributed());
}

#[tokio::test]
async fn scripted_http_faults() {
    let sim = sim_with(pinned()).await;
    let api = Api::new(&sim, Envelope::Code).await;
    let c = sim.control();
    c.inject(
        Fault::new(
            Route::Credits,
            FaultAction::Status {
                status: 503,
                body: "busy".into(),
            },
        )
        .times(2),
    );
    assert_eq!(
        api.raw_get("/api/credits/balance/simple").await.status(),
        503
    );
    assert_eq!(
        api.raw_get("/api/credits/balance/simple").await.status(),
        503
    );
    assert_eq!(
        api.raw_get("/api/credits/balance/simple").await.status(),
        200
    );
    c.inject(Fault::new(Route::State, FaultAction::Code { code: 1011 }));
    let b: Value = api
        .raw_get(&format!("/api/state/nemo_agent/me/{}/latest", api.sid))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b["code"], 1011);
    c.inject(Fault::new(
        Route::Credits,
        FaultAction::RateLimit { retry_after_s: 7 },
    ));
    let r = api.raw_get("/api/credits/balance/simple").await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["retry-after"].to_str().unwrap()
        ),
        (429, "7")
    );
    c.inject(Fault::new(Route::Credits, FaultAction::Drop));
    let dropped = api
        .http
        .get(format!("{}/api/credits/balance/simple", api.base))
        .bearer_auth(&api.token)
        .headers(attr())
        .send()
        .await;
    assert!(dropped.is_err() || dropped.unwrap().bytes().await.is_err());
    c.inject(Fault::new(Route::Credits, FaultAction::Delay { ms: 150 }));
    let t = std::time::Instant::now();
    api.raw_get("/api/credits/balance/simple").await;
    assert!(t.elapsed() >= Duration::from_millis(150));
    // Cut mid-body on a download.
    api.upload(&[("a.png", png(10, 10))]).await;
    api.sse("combine into a 5 second video").await;
    api.render("render_4", api.state().await["draft"].clone())
        .await;
    api.wait_render("render_4").await;
    c.inject(Fault::new(
        Route::Download,
        FaultAction::DropMidBody { after_bytes: 100 },
    ));
    // The cut may come before the headers are flushed (a send error) or after (a body error).
    let r = api
        .http
        .get(format!("{}/renders/r.mp4", api.base))
        .send()
        .await;
    assert!(
        r.is_err() || r.unwrap().bytes().await.is_err(),
        "the body breaks off"
    );
    // Dropped mid-upload: the connection breaks and nothing is added to the session.
    let before = api.state().await["video_infos"].as_array().unwrap().len();
    c.inject(Fault::new(
        Route::Upload,
        FaultAction::DropMidBody { after_bytes: 50 },
    ));
    let mut form = Form::new();
    form = form.part(
        "files",
        Part::bytes(vec![7u8; 100_000]).file_name("big.png"),
    );
    let up = api.upload_form(attr(), form).await;
    assert!(up.is_err() || up.unwrap().bytes().await.is_err());
    assert_eq!(
        api.state().await["video_infos"].as_array().unwrap().len(),
        before
    );
    // The log says which requests were hit.
    assert_eq!(sim.log().iter().filter(|e| e.fault.is_some()).count(), 8);
}

#[tokio::test]
async fn scripted_stream_faults() {
    let sim = sim_with(pinned()).await;
    sim.control().set_silence(Some(false));
    sim.control().set_credits(None, 1000);
    let api = Api::new(&sim, Envelope::Code).await;
    sim.control().set_credits(None, 1000);
    api.upload(&[("a.png", png(10, 10))]).await;
    // Cut after 2 events: the turn still completes server-side.
    sim.control().inject(Fault::new(
        Route::RunSse,
        FaultAction::CutStream { after_events: 2 },
    ));
    let r = api.http.post(format!("{}/run_sse", api.base)).bearer_auth(&api.token).headers(attr()).header("Accept", "text/event-stream")
        .json(&json!({"app_name":"nemo_agent","user_id":"me","session_id":api.sid,"new_message":{"parts":[{"text":"combine into a 12 second video"}]}}))
        .send().await.unwrap();
    assert!(r.text().await.is_err(), "stream broken");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        api.state().await["draft"]["d"],
        12_000,
        "the edit landed anyway"
    );
    assert_eq!(api.credits().await, (950, 0));
    // Malformed frames are mixed in, the turn still completes.
    sim.control()
        .inject(Fault::new(Route::RunSse, FaultAction::MalformedFrames));
    let (_, stream) = api.sse("make it 9 seconds").await;
    assert!(stream.contains("data: not json at all"));
    assert_eq!(api.state().await["draft"]["d"], 9_000);
    // Every in-stream error form ends the turn without a charge or an edit.
    for form in [
        StreamErrorForm::Unescaped,
        StreamErrorForm::WithDetails,
        StreamErrorForm::SystemAuthor,
        StreamErrorForm::ErrorCode,
    ] {
        sim.control().inject(Fault::new(
            Route::RunSse,
            FaultAction::StreamError { form, code: None },
        ));
        let before = api.credits().await;
        let (_, stream) = api.sse("make it 20 seconds").await;
        let expected = match form {
            StreamErrorForm::Unescaped => "\"quota\"",
            StreamErrorForm::WithDetails => "error_details",
            StreamErrorForm::SystemAuthor => "\"author\":\"system\"",
            StreamErrorForm::ErrorCode => "errorCode",
        };
        assert!(stream.contains(expected), "{form:?}: {stream}");
        assert_eq!(api.credits().await, before);
        assert_eq!(api.state().await["draft"]["d"], 9_000);
    }
    // Heartbeats only: nothing but heartbeats, for the (scaled) 15 minutes.
    sim.control()
        .inject(Fault::new(Route::RunSse, FaultAction::HeartbeatsOnly));
    let (_, stream) = api.sse("make it 30 seconds").await;
    assert!(stream
        .split("\n\n")
        .filter(|f| !f.is_empty())
        .all(|f| f == ": ping"));
    // Unknown session: HTTP 404 with detail.
    let r = api.raw_post("/run_sse", json!({"app_name":"nemo_agent","user_id":"me","session_id":"77","new_message":{"parts":[{"text":"hi"}]}})).await;
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().await.unwrap()["detail"]
        .as_str()
        .unwrap()
        .contains("Session not found"));
}

#[tokio::test]
async fn control_over_http() {
    let sim = sim_with(pinned()).await;
    let http = reqwest::Client::new();
    let b = sim.base_url();
    http.post(format!("{b}/_sim/faults"))
        .json(&json!({"route":"credits","action":{"kind":"status","status":502},"times":1}))
        .send()
        .await
        .unwrap();
    let api = Api::new(&sim, Envelope::Code).await;
    assert_eq!(
        api.raw_get("/api/credits/balance/simple").await.status(),
        502
    );
    http.post(format!("{b}/_sim/credits"))
        .json(&json!({"available": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.credits().await, (7, 0));
    http.post(format!("{b}/_sim/expire_tokens"))
        .send()
        .await
        .unwrap();
    let r: Value = api
        .raw_get("/api/credits/balance/simple")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["code"], 1001);
    let log: Vec<Value> = http
        .get(format!("{b}/_sim/log"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(log
        .iter()
        .all(|e| !e["path"].as_str().unwrap().starts_with("/_sim")));
    let page = http
        .get(format!("{b}/register?bind=anon_x"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Register"));
}

#[tokio::test]
async fn state_reports_the_task_name_given_at_creation() {
    let sim = sim_with(pinned()).await;
    let api = Api::new(&sim, Envelope::Code).await;
    let d = api
        .post(
            "/api/tasks/me/with-session/nemo_agent",
            json!({"task_name": "spring promo", "language": "en"}),
        )
        .await;
    let sid = sid_text(&d["session_id"]);
    let state = api
        .get(&format!("/api/state/nemo_agent/me/{sid}/latest"))
        .await;
    assert_eq!(state["task_name"], "spring promo");
}

/// A PNG named `.png`, in `bytes` bytes.
fn png_of(bytes: usize) -> Vec<u8> {
    let mut v = png(4, 4);
    v.resize(bytes, 0);
    v
}

#[tokio::test]
async fn strict_mode_refuses_what_no_seed_sends_and_lenient_mode_takes_it() {
    for strict in [true, false] {
        let sim = Sim::start(SimConfig {
            strict,
            fail_on_refusal: false,
            max_upload_bytes: 4000,
            max_upload_bytes_free_tools: 1000,
            ..SimConfig::fast().with_variants(pinned())
        })
        .await
        .unwrap();
        let api = Api::new(&sim, Envelope::Code).await;
        // A refusal is an HTTP 400 (in every error form) with a non-zero code.
        let refused = |r: &Value| r["code"] != 0;
        let session = "/api/tasks/me/with-session/nemo_agent";
        let mut deviations: Vec<(&str, bool)> = Vec::new();
        // Session: extra field, missing language.
        let r = api
            .raw_post(
                session,
                json!({"task_name":"project","language":"en","x":1}),
            )
            .await;
        let status = r.status();
        let r: Value = r.json().await.unwrap();
        deviations.push(("session: extra field", status == 400 && refused(&r)));
        let r: Value = api
            .raw_post(session, json!({"task_name":"project"}))
            .await
            .json()
            .await
            .unwrap();
        deviations.push(("session: no language", refused(&r)));
        // A GET without one attribution header.
        let r = api
            .http
            .get(format!("{}/api/credits/balance/simple", api.base))
            .bearer_auth(&api.token)
            .header("X-Skill-Source", "test")
            .header("X-Skill-Version", "1")
            .send()
            .await
            .unwrap();
        deviations.push(("credits: no X-Skill-Platform", r.status() == 403));
        // Render: an option no seed sends; no output; no attribution (402 in both modes).
        api.upload(&[("a.png", png(10, 10))]).await;
        api.sse("combine into a 5 second video").await;
        let draft = api.state().await["draft"].clone();
        let r: Value = api.raw_post("/api/render/proxy/lambda", json!({"id":"render_7","sessionId":api.sid,"draft":draft,"output":{"format":"mp4","quality":"high","resolution":"1080p"}})).await.json().await.unwrap();
        deviations.push(("render: output.resolution", refused(&r)));
        let r: Value = api
            .raw_post(
                "/api/render/proxy/lambda",
                json!({"id":"render_8","sessionId":api.sid,"draft":draft}),
            )
            .await
            .json()
            .await
            .unwrap();
        deviations.push(("render: no output", refused(&r)));
        // /run_sse: no Accept; a user id other than "me".
        let msg = json!({"app_name":"nemo_agent","user_id":"me","session_id":api.sid,"new_message":{"parts":[{"text":"what can you do?"}]}});
        let r = api
            .http
            .post(format!("{}/run_sse", api.base))
            .bearer_auth(&api.token)
            .headers(attr())
            .json(&msg)
            .send()
            .await
            .unwrap();
        deviations.push(("run_sse: no Accept", r.status() == 422));
        let mut other = msg.clone();
        other["user_id"] = json!("anon_1");
        let r = api.raw_post("/run_sse", other).await;
        deviations.push(("run_sse: user_id not me", r.status() == 422));
        // Uploads: a PNG named .mp4; 2000 bytes under the 200 MB-profile's (here 1000) limit.
        let r: Value = api
            .upload(&[("clip.mp4", png(10, 10))])
            .await
            .json()
            .await
            .unwrap();
        deviations.push(("upload: content is not its type", r["code"] == 4001));
        let mut claims_free_tools = attr();
        claims_free_tools.insert(
            "X-Skill-Source",
            "free-video-generation-tools".parse().unwrap(),
        );
        let form = Form::new().part("files", Part::bytes(png_of(2000)).file_name("b.png"));
        let free_tools = api.upload_form(claims_free_tools, form).await.unwrap();
        let r: Value = free_tools.json().await.unwrap();
        assert_eq!(
            r["code"], 4002,
            "the claimed profile's limit applies in both modes: {r}"
        );
        let r: Value = api
            .upload(&[("c.png", png_of(2000))])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["code"], 0, "the other profiles' limit is higher: {r}");
        for (what, was_refused) in &deviations {
            assert_eq!(*was_refused, strict, "strict={strict}: {what}");
        }
        // The log says why each request unlike the seeds' form was refused (the content check
        // is the backend's 4001, not a form refusal).
        let reasons = sim.control().refused();
        assert_eq!(
            reasons.len(),
            if strict { deviations.len() - 1 } else { 0 },
            "{reasons:?}"
        );
        assert!(!strict || reasons.iter().any(|(_, why)| why.contains("resolution")));
        let unattributed = api
            .http
            .post(format!("{}/api/render/proxy/lambda", api.base))
            .bearer_auth(&api.token)
            .json(&json!({"id":"render_9","sessionId":api.sid,"draft":draft,"output":{"format":"mp4","quality":"high"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(unattributed.status(), 402);
    }
}

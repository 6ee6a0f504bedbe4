//! The seed's flow through plain HTTP: end to end, the envelopes and session id forms, the
//! stream's event families, heartbeats and partial frames, silent edits, what a generation
//! costs, and the state's task name.

use crate::common::*;
use nemo_sim::*;
use serde_json::{json, Value};
use std::time::Duration;

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

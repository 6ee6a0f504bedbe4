//! Scripted faults over HTTP and in the stream, and the control API over HTTP.

use crate::common::*;
use nemo_sim::*;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use std::time::Duration;

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

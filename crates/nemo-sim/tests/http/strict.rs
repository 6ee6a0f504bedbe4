//! Strict mode refuses what no seed sends; lenient mode takes it.

use crate::common::*;
use nemo_sim::*;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

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

//! Uploads (files and URLs) and renders (their shapes, the fallback, failures, cancelling).

use crate::common::*;
use nemo_sim::*;
use serde_json::{json, Value};

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

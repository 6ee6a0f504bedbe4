//! Tokens, client ids, rate limits and renewal; the newer token shape; attribution required
//! for an export.

use crate::common::*;
use nemo_sim::*;
use serde_json::{json, Value};
use std::time::Duration;

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

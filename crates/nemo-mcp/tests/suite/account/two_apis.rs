//! Two hosts set up for two APIs (`NEMO_API_URL`: a staging backend beside the real one) on
//! one state folder. Each keeps its own account's token: a host starting again finds its
//! token among the credentials the other host's token replaced, instead of asking its backend
//! for a new one at every start (and pushing the other's out of the history each time).

use crate::common;

use common::*;
use nemo_sim::{Sim, SimConfig, SimHandle};
use serde_json::json;

fn token_requests(sim: &SimHandle) -> usize {
    sim.log()
        .iter()
        .filter(|r| r.path == "/api/auth/anonymous-token")
        .count()
}

#[tokio::test]
async fn hosts_on_two_apis_each_keep_their_own_token() {
    let a = Harness::start().await;
    a.call("get_credits", json!({})).await;
    let a = a.stop().await;
    let sim_b = Sim::start(SimConfig::fast()).await.unwrap();
    let b_settings = settings_for(&sim_b, a.dir.path());
    let b_app = nemo_mcp::App::new(b_settings).unwrap();
    b_app.client.credits().await.unwrap();
    drop(b_app);
    assert_eq!(token_requests(&sim_b), 1);
    // Host A again, after B saved its own token over A's.
    let a = a.start().await;
    let r = a.call("get_credits", json!({})).await;
    assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
    assert_eq!(
        token_requests(&a.sim),
        1,
        "A's token was found, not replaced"
    );
    assert_eq!(a.sim.control().accounts().len(), 1);
    // And B again: its own token is now among the replaced ones too.
    let b_app = nemo_mcp::App::new(settings_for(&sim_b, a.dir.path())).unwrap();
    b_app.client.credits().await.unwrap();
    assert_eq!(token_requests(&sim_b), 1);
}

/// The client id file is shared by every backend, so two hosts on two APIs with the anonymous
/// token used to read as one account: host B (a staging API) took over host A's running
/// `make_video` and ran it against B's backend, which knows neither its project nor its
/// media. Now an account of another backend is another account: B leaves A's job as it was
/// (nothing uploaded or sent to B's backend), and A, started again, finishes it once.
#[tokio::test]
async fn a_job_of_another_api_is_never_taken_over() {
    use nemo_sim::{Fault, FaultAction, Route};
    let a = Harness::start().await;
    a.sim
        .control()
        .inject(Fault::new(Route::Upload, FaultAction::Delay { ms: 30_000 }));
    let r = a
        .call(
            "make_video",
            json!({"instruction": "combine these images into a 10-second video",
                   "paths": [a.media("a.png", &png(10, 10))], "wait_s": 0}),
        )
        .await;
    let job = body(&r);
    let job_id = job["job_id"].as_str().unwrap().to_string();
    until("the upload held", || {
        a.sim
            .log()
            .iter()
            .any(|r| r.path.starts_with("/api/upload-video/"))
    })
    .await;
    let stopped = a.stop().await;
    let sim_b = Sim::start(SimConfig::fast()).await.unwrap();
    let b_settings = settings_for(&sim_b, stopped.dir.path());
    let (sim_a, a_settings) = (stopped.sim, stopped.settings);
    let b = Harness::on(sim_b, stopped.dir, b_settings).await;
    b.call("get_credits", json!({})).await;
    until("B looked at A's job and left it", || {
        b.app.jobs.left_here(&job_id).is_some()
    })
    .await;
    let said = text_of(&b.call("get_job", json!({"job_id": job_id})).await);
    assert!(said.contains("left as it was"), "{said}");
    let on_b: Vec<String> = b.sim.log().iter().map(|r| r.path.clone()).collect();
    assert!(
        !on_b
            .iter()
            .any(|p| p.starts_with("/api/upload-video/") || p.contains("run_sse")),
        "{on_b:?}"
    );
    assert_eq!(counts(&b).await, (0, 0));
    let stopped = b.stop().await;
    let a = Harness::on(sim_a, stopped.dir, a_settings).await;
    let done = a.finish(job).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(counts(&a).await, (1, 50));
}

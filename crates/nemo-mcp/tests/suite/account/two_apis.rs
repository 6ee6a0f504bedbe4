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

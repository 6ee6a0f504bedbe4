//! What a take-over leaves alone, and what it says: a gone process's running jobs that this
//! server cannot run (a newer version's, or made under another account) stay as they were for
//! a server that can, a generation whose "sending" mark is missing is never said to be
//! uncharged, and a paid step is held to the budgets of both the process that made the job
//! and the one that runs it. Every case counts what was sent and charged.

use super::restart::{make_video_with_its_upload_held, uploads};
use crate::common;

use common::*;
use serde_json::json;
use std::path::Path;

/// Rows `(id, kind, body)` a gone process left running in the state database at `state`.
fn plant(state: &Path, rows: &[(&str, &str, String)]) {
    let db = nemo_mcp::testing::StateDb::open(state).unwrap();
    let now = chrono::Utc::now().to_rfc3339();
    db.write("a gone runner's jobs", |tx| {
        for (id, kind, body) in rows {
            tx.execute(
                "INSERT INTO jobs (id, kind, runner, running, created_at, body) VALUES (?1, ?2, 'gone-process', 1, ?3, ?4)",
                [*id, *kind, now.as_str(), body.as_str()],
            )?;
        }
        Ok(())
    })
    .unwrap();
}

/// A job's row as it stands: (its runner, whether running).
fn row(state: &Path, job: &str) -> (String, i64) {
    nemo_mcp::testing::StateDb::open(state)
        .unwrap()
        .read("the row", |tx| {
            tx.query_row(
                "SELECT runner, running FROM jobs WHERE id = ?1",
                [job],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .unwrap()
}

/// A running job of a gone process that this server cannot run (here: a newer version's
/// journal format) is left as it was for a server that can, never claimed and dropped, and
/// `get_job` says why instead of "no job".
#[tokio::test]
async fn a_running_job_this_server_cannot_run_is_left_as_it_was_and_said() {
    let h = Harness::start().await;
    let stopped = h.stop().await;
    let state = stopped.settings.client.state_dir.clone();
    let id = "gen_0123456789ab";
    // Beside it, a job of the same gone runner that this server can run (an upload: taken over,
    // it ends as interrupted): once it is taken, the take-over has met both rows.
    let readable = nemo_mcp::testing::Job::upload(vec!["a.png".into()]);
    let newer = json!({"version": 99, "id": id, "kind": "generate", "what": "a newer shape"});
    let readable_body = serde_json::to_string(&readable).unwrap();
    plant(
        &state,
        &[
            (id, "gen", newer.to_string()),
            (readable.id.as_str(), "upl", readable_body),
        ],
    );
    let h2 = stopped.start().await;
    let row = |job: &str| row(&state, job);
    until("the readable job taken over", || {
        row(&readable.id).0 != "gone-process"
    })
    .await;
    let r = h2.call("get_job", json!({"job_id": id, "wait_s": 0})).await;
    assert_eq!(r.is_error, Some(true));
    let e = body(&r);
    assert_eq!(e["code"], "interrupted", "{e}");
    let said = text_of(&r);
    assert!(
        said.contains("cannot read or run it") && said.contains("newer than this server's"),
        "{said}"
    );
    let (runner, running) = row(id);
    assert_eq!((runner.as_str(), running), ("gone-process", 1));
    assert_eq!(counts(&h2).await, (0, 0));
}

/// Hosts on one state folder set up with different accounts (one with a `NEMO_TOKEN`, one on
/// the anonymous token): a gone host's running jobs are taken over only by a process of the
/// account they were made under. Followed with the wrong token, a generation's project reads
/// as lost and its instruction would be sent again, charged to the other account.
#[tokio::test]
async fn a_job_made_under_another_account_is_never_taken_over() {
    let h = Harness::start().await;
    h.call("get_credits", json!({})).await;
    let mine = h.app.jobs.journal().account();
    assert!(
        mine.as_deref().is_some_and(|a| a.starts_with("client-")),
        "{mine:?}"
    );
    let stopped = h.stop().await;
    let state = stopped.settings.client.state_dir.clone();
    let mut theirs = nemo_mcp::testing::Job::generation(
        "make it 30 seconds",
        Some(nemo_mcp::testing::CostKind::Edit),
    );
    theirs.account = Some("token-0123456789abcdef".into());
    let mut ours = nemo_mcp::testing::Job::upload(vec!["a.png".into()]);
    ours.account = mine.clone();
    plant(
        &state,
        &[
            (
                theirs.id.as_str(),
                "gen",
                serde_json::to_string(&theirs).unwrap(),
            ),
            (
                ours.id.as_str(),
                "upl",
                serde_json::to_string(&ours).unwrap(),
            ),
        ],
    );
    let h2 = stopped.start().await;
    let row = |job: &str| row(&state, job);
    until("our own job taken over", || {
        row(&ours.id).0 != "gone-process"
    })
    .await;
    let (runner, running) = row(&theirs.id);
    assert_eq!((runner.as_str(), running), ("gone-process", 1));
    let r = h2
        .call("get_job", json!({"job_id": theirs.id, "wait_s": 0}))
        .await;
    let said = text_of(&r);
    assert!(said.contains("another NemoVideo account"), "{said}");
    let listed = text_of(&h2.call("list_jobs", json!({})).await);
    assert!(listed.contains("left as it was"), "{listed}");
    // A job this process starts is recorded under its account.
    h2.call(
        "upload_media",
        json!({"paths": [h2.media("b.png", &png(8, 8))]}),
    )
    .await;
    let started = h2.app.jobs.journal().all();
    assert!(
        started
            .iter()
            .filter(|j| j.id != ours.id && j.id != theirs.id)
            .all(|j| j.account == mine),
        "{started:?}"
    );
    assert_eq!(counts(&h2).await, (0, 0));
}

/// A generation a gone process left running with no "sending" mark: the mark is on the disk
/// before a message leaves, so it most likely never left. But a missing mark proves nothing
/// for certain (a state folder restored from a backup, a disk that lied): the job never says
/// "nothing was charged", and sends nothing itself.
#[tokio::test]
async fn a_generation_without_its_sending_mark_is_most_likely_not_sent_never_nothing_charged() {
    let h = Harness::start().await;
    let stopped = h.stop().await;
    let state = stopped.settings.client.state_dir.clone();
    let job = nemo_mcp::testing::Job::generation(
        "make it 30 seconds",
        Some(nemo_mcp::testing::CostKind::Edit),
    );
    plant(
        &state,
        &[(job.id.as_str(), "gen", serde_json::to_string(&job).unwrap())],
    );
    let h2 = stopped.start().await;
    let done = h2
        .finish(json!({"status": "running", "job_id": job.id}))
        .await;
    let e = error_of(&done);
    assert_eq!(e["code"], "interrupted", "{done}");
    let r = h2
        .call("get_job", json!({"job_id": job.id, "wait_s": 0}))
        .await;
    let said = text_of(&r);
    assert!(said.contains("most likely not sent"), "{said}");
    assert!(said.contains("may have been sent and charged"), "{said}");
    assert!(!said.contains("nothing was charged"), "{said}");
    assert!(said.contains("get_timeline"), "{said}");
    assert_eq!(counts(&h2).await, (0, 0));
}

/// Host A (no budget) stops while its `make_video`'s upload is held; host B, set up with
/// spending turned off (`NEMO_ALLOW_SPENDING=0`), takes the job over: it uploads the media
/// again (free), and never sends the paid instruction. Nothing sent, nothing charged.
#[tokio::test]
async fn a_host_with_spending_off_takes_over_a_make_video_and_sends_nothing_paid() {
    let h = Harness::start().await;
    let (job, _) = make_video_with_its_upload_held(&h, json!({})).await;
    let mut stopped = h.stop().await;
    stopped.settings.budgets.spending_off = true;
    let h2 = stopped.start().await;
    let done = h2.finish(job).await;
    assert_eq!(done["code"], "spending_disabled", "{done}");
    assert!(
        done["message"]
            .as_str()
            .unwrap()
            .contains("nothing was sent"),
        "{done}"
    );
    assert_eq!(uploads(&h2.sim), 2, "the cut upload, then once more");
    assert_eq!(counts(&h2).await, (0, 0));
}

/// The same for a set of two versions taken over by a host with a daily budget of 60: the
/// first version (50) fits, the second would bring the day to 100 and is not sent.
#[tokio::test]
async fn a_set_taken_over_is_held_to_the_daily_budget_of_the_host_that_runs_it() {
    let h = Harness::start().await;
    let (job, _) = make_video_with_its_upload_held(
        &h,
        json!({"variants": ["tiktok", "square"], "confirm": true}),
    )
    .await;
    let mut stopped = h.stop().await;
    stopped.settings.budgets.per_day = Some(60);
    let h2 = stopped.start().await;
    let done = h2.finish(job).await;
    let versions = done["result"]["variants"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let made = versions.iter().filter(|v| v["status"] == "made").count();
    assert_eq!(made, 1, "{done}");
    assert!(
        done.to_string().contains("NEMO_MAX_CREDITS_PER_DAY"),
        "{done}"
    );
    assert_eq!(counts(&h2).await, (1, 50));
}

/// Host A, set up with the `maker-free` profile as a Cursor skill, stops while its
/// `make_video`'s upload is held; host B (the default profile, another platform) takes the job
/// over. Every request B sends for it says what A's would have (source, version, platform),
/// and B's own requests still say B's. One message, 50 credits.
#[tokio::test]
async fn a_job_taken_over_is_sent_as_the_host_that_made_it_sent_it() {
    let sim = nemo_sim::SimConfig::fast();
    let h = Harness::with(sim, |s| {
        s.client.profile = nemo_client::Profile::MakerFree;
        s.client.skill_version = "0.9.1".into();
        s.client.platform_override = Some("cursor".into());
    })
    .await;
    let (job, _) = make_video_with_its_upload_held(&h, json!({})).await;
    let mut stopped = h.stop().await;
    let made_by_a = stopped.sim.log().len();
    stopped.settings.client.profile = nemo_client::Profile::NemoMcp;
    stopped.settings.client.skill_version = "1.0.0".into();
    stopped.settings.client.platform_override = Some("unknown".into());
    let h2 = stopped.start().await;
    let done = h2.finish(job).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let log = h2.sim.log();
    let for_the_job = &log[made_by_a..];
    assert!(for_the_job.iter().any(|r| r.path.contains("run_sse")));
    for r in for_the_job {
        assert_eq!(
            (
                r.skill_source.as_deref(),
                r.skill_version.as_deref(),
                r.skill_platform.as_deref()
            ),
            (Some("maker-free"), Some("0.9.1"), Some("cursor")),
            "{} {}",
            r.method,
            r.path
        );
    }
    assert_eq!(counts(&h2).await, (1, 50));
    // What B asks for itself is B's.
    h2.call("get_credits", json!({})).await;
    let own = h2.sim.log();
    let last = own.last().unwrap();
    assert_eq!(last.skill_source.as_deref(), Some("nemo-mcp"), "{last:?}");
    assert_eq!(last.skill_platform.as_deref(), Some("unknown"));
}

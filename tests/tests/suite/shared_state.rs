//! Several hosts at once: real `nemo-mcp` processes (3 or more) on one state folder, as Claude
//! Desktop, Cursor and a few Claude Code terminals start them, against nemo-sim. Every path
//! that can spend is counted from the simulator: paid messages sent, credits charged, renders
//! submitted, files written; and the ledger in the shared database is checked against them.

use e2e::world::{until_message, until_sim, Host, World, PROMO};
use e2e::{call, follow};
use nemo_sim::SimConfig;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_starting_together_without_a_token_share_one_account() {
    let w = World::new(SimConfig::fast()).await;
    let (h1, h2, h3) = tokio::join!(w.host(&[]), w.host(&[]), w.host(&[]));
    let (r1, r2, r3) = tokio::join!(
        call(&h1.client, "get_credits", json!({})),
        call(&h2.client, "get_credits", json!({})),
        call(&h3.client, "get_credits", json!({}))
    );
    for (b, err) in [&r1, &r2, &r3] {
        assert!(!err, "{b}");
    }
    let tokens = w
        .sim
        .log()
        .iter()
        .filter(|x| x.path == "/api/auth/anonymous-token")
        .count();
    assert_eq!(tokens, 1, "one anonymous token for three processes");
    assert_eq!(w.sim.control().accounts().len(), 1, "one account");
}

/// A starts make_video; B starts while A uploads, C while A's instruction streams, D while A
/// exports. None of them takes A's job for an orphan: one message, one charge, one render, one
/// file, and each of them shows A's job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_starting_during_a_make_video_never_run_it_again() {
    let w = World::new(SimConfig::fast().with_time_scale(0.1)).await;
    let a = w.host(&[]).await;
    let paths = [w.media("p1.png"), w.media("p2.png"), w.media("logo.png")];
    let (started, err) = call(
        &a.client,
        "make_video",
        json!({"instruction": PROMO, "paths": paths, "wait_s": 0, "filename": "Promo"}),
    )
    .await;
    assert!(!err, "{started}");
    let id = started["job_id"].as_str().unwrap().to_string();
    let b = w.host(&[]).await;
    let during = until_message(&a.client, &id, "NemoVideo").await;
    assert_eq!(
        during["status"], "running",
        "C starts during the generation: {during}"
    );
    let c = w.host(&[]).await;
    let during = until_message(&a.client, &id, "export").await;
    assert_eq!(
        during["status"], "running",
        "D starts during the export: {during}"
    );
    let d = w.host(&[]).await;
    // Another host sees A's job (its last journaled progress) but does not run it.
    let (seen, err) = call(&d.client, "get_job", json!({"job_id": id, "wait_s": 0})).await;
    assert!(!err, "{seen}");
    let (listed, _) = call(&c.client, "list_jobs", json!({})).await;
    assert!(listed.to_string().contains(&id), "{listed}");
    let (done, _) = follow(&a.client, started).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    // B follows it to its end from its own host, through the journal.
    let (from_b, _) = follow(&b.client, json!({"status": "running", "job_id": id})).await;
    assert_eq!(from_b["status"], "succeeded", "{from_b}");
    tokio::time::sleep(Duration::from_millis(600)).await; // two sweeps of every process
    assert_eq!(w.counts(), (1, 50, 1), "(messages, credits, renders)");
    assert_eq!(w.mp4s().len(), 1, "{:?}", w.mp4s());
    assert_eq!(
        w.ledger(),
        50,
        "the ledger agrees with the backend's charges"
    );
}

/// The owner is killed with `kill -9` mid-generation, then another owner mid-export: a host
/// still running takes each job over (decided by the dead process's lock, not a timeout) and
/// finishes it exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_owner_s_job_is_finished_once_by_another_host() {
    let w = World::new(SimConfig::fast().with_time_scale(0.1)).await;
    let a = w.host(&[]).await;
    let b = w.host(&[]).await;
    let c = w.host(&[]).await;
    let paths = [w.media("p1.png"), w.media("p2.png")];
    let (started, err) = call(
        &a.client,
        "make_video",
        json!({"instruction": PROMO, "paths": paths, "wait_s": 0, "filename": "First"}),
    )
    .await;
    assert!(!err, "{started}");
    let id = started["job_id"].as_str().unwrap().to_string();
    let at_kill = until_sim(&w, &a.client, &id, |(messages, _, _)| messages == 1).await;
    assert_eq!(
        at_kill["status"], "running",
        "killed mid-generation: {at_kill}"
    );
    a.kill9();
    let (done, _) = follow(&b.client, json!({"status": "running", "job_id": id})).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(w.counts(), (1, 50, 1), "(messages, credits, renders)");

    // Mid-export: B exports; B dies; C finishes the download once.
    let (e, err) = call(
        &b.client,
        "export_video",
        json!({"filename": "Second", "wait_s": 0}),
    )
    .await;
    assert!(!err, "{e}");
    let eid = e["job_id"].as_str().unwrap().to_string();
    let at_kill = until_sim(&w, &b.client, &eid, |(_, _, renders)| renders == 2).await;
    assert_eq!(at_kill["status"], "running", "killed mid-export: {at_kill}");
    b.kill9();
    let (done, _) = follow(&c.client, json!({"status": "running", "job_id": eid})).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (messages, credits, renders) = w.counts();
    assert_eq!((messages, credits, renders), (1, 50, 2));
    let files = w.mp4s();
    assert_eq!(files.len(), 2, "First and Second, each once: {files:?}");
    for f in &files {
        assert!(std::fs::metadata(f).unwrap().len() > 1000);
    }
    assert_eq!(w.ledger(), 50);
    assert!(
        w.stderr().contains("taking over"),
        "the take-over is logged"
    );
}

/// Two hosts each asking for about 50 credits with 60 left in the day: one goes, the other is
/// refused before sending, naming the setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_racing_a_daily_budget_spend_it_once() {
    let w = World::new(SimConfig::fast()).await;
    let env = [("NEMO_MAX_CREDITS_PER_DAY", "60")];
    let (a, b) = (w.host(&env).await, w.host(&env).await);
    let args = json!({"instruction": PROMO, "wait_s": 0});
    let ((ra, ea), (rb, eb)) = tokio::join!(
        call(&a.client, "generate", args.clone()),
        call(&b.client, "generate", args.clone())
    );
    assert!(ea != eb, "exactly one is refused: {ra} {rb}");
    let refused = if ea { &ra } else { &rb };
    assert_eq!(refused["code"], "over_budget", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("NEMO_MAX_CREDITS_PER_DAY"),
        "{refused}"
    );
    let went = if ea { (&b, rb) } else { (&a, ra) };
    let (done, _) = follow(&went.0.client, went.1).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(w.sim.control().messages().len(), 1);
    assert_eq!(w.ledger(), w.counts().1);
}

/// Two hosts making projects at once both keep theirs in the library; each keeps its own
/// current project; a third host lists both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_making_projects_at_once_lose_none() {
    let w = World::new(SimConfig::fast()).await;
    let (a, b, c) = (w.host(&[]).await, w.host(&[]).await, w.host(&[]).await);
    let new = json!({"new_project": true});
    let ((pa, _), (pb, _)) = tokio::join!(
        call(&a.client, "connect", new.clone()),
        call(&b.client, "connect", new.clone())
    );
    let (ida, idb) = (pa["project_id"].clone(), pb["project_id"].clone());
    assert_ne!(ida, idb);
    let (listed, _) = call(&c.client, "list_projects", json!({})).await;
    let text = listed.to_string();
    assert!(
        text.contains(ida.as_str().unwrap()) && text.contains(idb.as_str().unwrap()),
        "{listed}"
    );
    // A's new project did not move B's.
    let (again, _) = call(&b.client, "connect", json!({})).await;
    assert_eq!(again["project_id"], idb);
}

/// A state database that cannot be read (garbage bytes): kept aside, reported once, and a
/// fresh one works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_is_kept_aside_and_reported_once() {
    let w = World::new(SimConfig::fast()).await;
    let state = w.path(".config/nemo-mcp");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("state.db"), vec![0x5au8; 16384]).unwrap();
    let a = w.host(&[]).await;
    let text = |r: rmcp::model::CallToolResult| {
        r.content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect::<String>()
    };
    let connect = || {
        a.client
            .call_tool(rmcp::model::CallToolRequestParams::new("connect"))
    };
    let first = text(connect().await.unwrap());
    assert!(
        first.contains("could not be read") && first.contains("kept as"),
        "{first}"
    );
    let second = text(connect().await.unwrap());
    assert!(!second.contains("could not be read"), "told once: {second}");
    let kept = std::fs::read_dir(&state)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .contains("state.db.damaged-")
        })
        .count();
    assert_eq!(kept, 1, "kept aside, never deleted");
    assert!(w.stderr().contains("could not be read"));
}

/// A small, seeded generator (xorshift64*): the same seed, the same run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// 200+ random steps of starting, stopping, `kill -9` and tool calls across 4 server processes
/// on one state folder. Then: every instruction was sent at most once, every job ended, every
/// export file is whole and written once, the ledger's total is the backend's, and the library
/// has every project made. `NEMO_SEED` repeats a run; a failure prints its seed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_starts_stops_kills_and_calls_across_four_hosts() {
    let seed: u64 = std::env::var("NEMO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("random_starts_stops_kills_and_calls_across_four_hosts: NEMO_SEED={seed}");
    let mut rng = Rng(seed);
    let w = World::new(SimConfig::fast().with_time_scale(0.02)).await;
    let media = [w.media("r1.png"), w.media("r2.png")];
    let mut hosts: Vec<Option<Host>> = (0..4).map(|_| None).collect();
    let mut jobs: Vec<String> = Vec::new();
    let mut projects: Vec<String> = Vec::new();
    // The account exists and is funded before anything is paid for (a top-up during a turn
    // would be read as part of its cost).
    let first = w.host(&[]).await;
    let _ = call(&first.client, "get_credits", json!({})).await;
    w.sim.control().set_credits(None, 1_000_000);
    hosts[0] = Some(first);
    for step in 0..220 {
        let slot = rng.below(hosts.len());
        let Some(h) = &hosts[slot] else {
            hosts[slot] = Some(w.host(&[]).await);
            continue;
        };
        match rng.below(12) {
            0 => {
                // A host closes: the server exits when its stdin does (given a few seconds
                // before it is killed).
                if let Some(h) = hosts[slot].take() {
                    let _ = h.cancel().await;
                }
            }
            1 => {
                h.kill9();
                hosts[slot] = None;
            }
            2 | 3 => {
                let (b, err) = call(
                    &h.client,
                    "make_video",
                    json!({
                        "instruction": format!("combine these images into a 10-second video, take {step}"),
                        "paths": media, "wait_s": 0, "export": rng.below(2) == 0,
                    }),
                )
                .await;
                if let Some(id) = b["job_id"].as_str().filter(|_| !err) {
                    jobs.push(id.to_string());
                }
            }
            4 => {
                let (b, err) = call(&h.client, "export_video", json!({"wait_s": 0})).await;
                if let Some(id) = b["job_id"].as_str().filter(|_| !err) {
                    jobs.push(id.to_string());
                }
            }
            5 => {
                let (b, _) = call(&h.client, "connect", json!({"new_project": true})).await;
                if let Some(id) = b["project_id"].as_str() {
                    projects.push(id.to_string());
                }
            }
            6 | 7 if !jobs.is_empty() => {
                let id = &jobs[rng.below(jobs.len())];
                let _ = call(&h.client, "get_job", json!({"job_id": id, "wait_s": 0.2})).await;
            }
            8 => {
                let _ = call(&h.client, "list_jobs", json!({})).await;
            }
            9 => {
                let _ = call(&h.client, "upload_media", json!({"paths": media})).await;
            }
            _ => {
                let _ = call(&h.client, "get_credits", json!({})).await;
            }
        }
    }
    // One host stays: it takes over whatever the dead left running, and everything ends.
    let last = match hosts.iter_mut().find_map(Option::take) {
        Some(h) => h,
        None => w.host(&[]).await,
    };
    for id in &jobs {
        let (done, _) = follow(&last.client, json!({"status": "running", "job_id": id})).await;
        assert_ne!(done["status"], "running", "seed {seed}: {done}");
    }
    let (listed, _) = call(&last.client, "list_jobs", json!({})).await;
    let all = listed["jobs"].as_array().cloned().unwrap_or_default();
    assert!(
        all.iter().all(|j| j["status"] != "running"),
        "seed {seed}: every job ended: {listed}"
    );
    // Every instruction at most once.
    let messages = w.sim.control().messages();
    let mut unique = messages.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), messages.len(), "seed {seed}: {messages:?}");
    // Every export file whole, and written once: one file per succeeded export.
    let conn = rusqlite::Connection::open(w.path(".config/nemo-mcp/state.db")).unwrap();
    let exports: Vec<Value> = {
        let mut s = conn
            .prepare("SELECT body FROM jobs WHERE kind = 'exp'")
            .unwrap();
        let rows = s.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.map(|b| serde_json::from_str(&b.unwrap()).unwrap())
            .collect()
    };
    let saved: Vec<&Value> = exports
        .iter()
        .filter(|e| e["work"]["outcome"]["status"] == "succeeded")
        .collect();
    for e in &saved {
        let r = &e["work"]["outcome"]["result"];
        let size = std::fs::metadata(r["path"].as_str().unwrap())
            .unwrap()
            .len();
        assert_eq!(size, r["size_bytes"].as_u64().unwrap(), "seed {seed}: {e}");
    }
    // Which export saved which file, for a failure to name the two that share one.
    let by_export: Vec<String> = saved
        .iter()
        .map(|e| format!("{} {}", e["id"], e["work"]["outcome"]["result"]["path"]))
        .collect();
    assert_eq!(
        w.mp4s().len(),
        saved.len(),
        "seed {seed}: one file per export: {:?}; exports: {by_export:#?}",
        w.mp4s()
    );
    // The ledger's total is the backend's charges.
    tokio::time::sleep(Duration::from_millis(500)).await;
    if w.ledger() != w.counts().1 {
        let mut q = conn
            .prepare("SELECT at || ' ' || job_id || ' ' || project || ' ' || credits || ' estimated=' || estimated || ' before=' || COALESCE(total_before, '-') FROM charges ORDER BY at")
            .unwrap();
        let rows: Vec<String> = q
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        eprintln!(
            "LEDGER {rows:#?}\nSIM {:?}\nMESSAGES {}",
            w.sim.control().charges(),
            w.sim.control().messages().len()
        );
        for line in w
            .stderr()
            .lines()
            .filter(|l| l.contains("estimate") || l.contains("resuming"))
        {
            eprintln!("HOST {line}");
        }
    }
    assert_eq!(w.ledger(), w.counts().1, "seed {seed}");
    // The library has every project made.
    // Every page of it (a page stays within what the strictest host keeps).
    let mut lib = String::new();
    let mut args = json!({"limit": 100});
    loop {
        let (page, _) = call(&last.client, "list_projects", args.clone()).await;
        lib.push_str(&page.to_string());
        match page["next_cursor"].as_str() {
            Some(c) => args = json!({"limit": 100, "cursor": c}),
            None => break,
        }
    }
    for p in &projects {
        assert!(lib.contains(p.as_str()), "seed {seed}: {p} missing");
    }
}

/// A paid edit on a project where another host's generation is running is refused, naming that
/// job, as within one process: one message in all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_edit_waits_for_another_host_s_generation_in_the_same_project() {
    let w = World::new(SimConfig::fast().with_time_scale(0.1)).await;
    let a = w.host(&[]).await;
    let (first, err) = call(
        &a.client,
        "generate",
        json!({"instruction": PROMO, "wait_s": 0}),
    )
    .await;
    assert!(!err, "{first}");
    let id = first["job_id"].as_str().unwrap().to_string();
    // B starts on the project A used last.
    let b = w.host(&[]).await;
    let (second, _) = call(
        &b.client,
        "generate",
        json!({"instruction": "add a title that says Spring Sale", "wait_s": 0}),
    )
    .await;
    assert_eq!(second["job_id"], first["job_id"], "{second}");
    assert!(second.to_string().contains("NOT sent"), "{second}");
    let (done, _) = follow(&b.client, json!({"status": "running", "job_id": id})).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(w.sim.control().messages().len(), 1);
}

/// `cancel_job` in one host on another host's running export: its runner stops it (and the
/// render on NemoVideo), asked through the shared journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_cancels_another_host_s_job() {
    let w = World::new(SimConfig::fast().with_time_scale(0.3)).await;
    let a = w.host(&[]).await;
    let b = w.host(&[]).await;
    let (made, err) = call(
        &a.client,
        "make_video",
        json!({"instruction": PROMO, "paths": [w.media("c.png")], "export": false}),
    )
    .await;
    let (made, _) = follow(&a.client, made).await;
    assert!(!err && made["status"] == "succeeded", "{made}");
    let (e, _) = call(&a.client, "export_video", json!({"wait_s": 0})).await;
    let id = e["job_id"].as_str().unwrap().to_string();
    let during = until_message(&a.client, &id, "rendering").await;
    assert_eq!(
        during["status"], "running",
        "cancelled while it runs: {during}"
    );
    let (asked, err) = call(&b.client, "cancel_job", json!({"job_id": id})).await;
    assert!(!err, "{asked}");
    let (done, _) = follow(&b.client, json!({"status": "running", "job_id": id})).await;
    assert_eq!(done["status"], "cancelled", "{done}");
    assert!(w.mp4s().is_empty());
}

//! The built binary against a hostile backend: huge JSON replies, a huge SSE line and a download
//! far larger than announced. The server's peak memory (VmHWM) must stay under 64 MB, whatever
//! the backend sends.

use e2e::{binary, call, follow};
use nemo_sim::{Fault, FaultAction, Route, Sim, SimConfig};
use serde_json::json;
use std::process::Stdio;

/// Peak resident memory of a process, in MB (Linux).
fn peak_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[tokio::test]
async fn peak_memory_stays_under_64_mb_against_hostile_bodies() {
    let sim = Sim::start(SimConfig::fast()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    for d in ["media", "out"] {
        std::fs::create_dir_all(home.path().join(d)).unwrap();
    }
    let mut cmd = tokio::process::Command::new(binary());
    cmd.env("HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("NEMO_TOKEN")
        .env_remove("NEMO_STATE_DIR")
        .env("NEMO_API_URL", sim.base_url())
        .env("NEMO_WEB_URL", sim.web_url())
        .env("NEMO_OUTPUT_DIR", home.path().join("out"))
        .env("NEMO_ALLOWED_DIRS", home.path().join("media"))
        .env("NEMO_RENDER_POLL_MS", "50")
        .env("NEMO_RECOVERY_WAIT_MS", "400");
    let client = e2e::serve(cmd, Stdio::null()).await;
    let pid = client.pid;
    let control = sim.control();
    // 1. Huge JSON replies to a read and to the state.
    control.inject(Fault::new(
        Route::Credits,
        FaultAction::HugeBody {
            bytes: 1_500_000_000,
        },
    ));
    let (e, err) = call(&client, "get_credits", json!({})).await;
    assert!(err && e["code"] == "unsafe_answer", "{e}");
    // 2. A project, then a turn whose stream starts with a 256 MB line.
    let png = nemo_sim::sample::png(64, 48, [30, 120, 200], 2);
    let paths: Vec<String> = ["a.png", "b.png"]
        .iter()
        .map(|n| {
            let p = home.path().join("media").join(n);
            std::fs::write(&p, &png).unwrap();
            p.display().to_string()
        })
        .collect();
    let (up, _) = call(&client, "upload_media", json!({"paths": paths})).await;
    assert_eq!(follow(&client, up).await.0["status"], "succeeded");
    control.inject(Fault::new(
        Route::RunSse,
        FaultAction::HugeSseLine { bytes: 256 << 20 },
    ));
    let (g, _) = call(
        &client,
        "generate",
        json!({"instruction": "combine these images into a 10-second video with music"}),
    )
    .await;
    assert_eq!(follow(&client, g).await.0["status"], "succeeded");
    // 3. A download 1.5 GB larger than announced.
    control.inject(
        Fault::new(
            Route::Download,
            FaultAction::ExtraBytes {
                bytes: 1_500_000_000,
            },
        )
        .times(2),
    );
    let (x, _) = call(&client, "export_video", json!({})).await;
    let x = follow(&client, x).await.0;
    let code = if x["error"].is_object() {
        &x["error"]["code"]
    } else {
        &x["code"]
    };
    assert_eq!(code, "unsafe_answer", "{x}");
    let peak = peak_mb(pid).expect("VmHWM (Linux)");
    println!("| hostile bodies (1.5 GB JSON, 256 MB SSE line, 1.5 GB extra download) | peak RSS {peak:.1} MB (limit 64 MB) | `hostile_memory` |");
    assert!(peak < 64.0, "peak memory {peak:.1} MB");
    client.cancel().await.ok();
}

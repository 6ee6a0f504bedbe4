//! `nemo-mcp demo`: the whole quick edit, offline. An embedded nemo-sim plays NemoVideo, this
//! server runs in-process, and a real MCP client (rmcp, over a pipe) calls its tools exactly as a
//! host would: make a 30-second promo from five product photos and a logo in one call
//! (`make_video`), refine it with `generate`, export it again. Progress goes to stderr; the
//! MP4's path to stdout.

use crate::config::Settings;
use rmcp::model::*;
use rmcp::service::{NotificationContext, RoleClient};
use rmcp::{ClientHandler, ServiceExt};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Prints progress notifications, each distinct line once (the server repeats the last one
/// every few seconds to keep hosts from timing out).
#[derive(Default)]
struct Printer {
    last: std::sync::Mutex<String>,
}

impl ClientHandler for Printer {
    async fn on_progress(&self, p: ProgressNotificationParam, _c: NotificationContext<RoleClient>) {
        let pct = p
            .total
            .map(|t| format!(" {:>3.0}%", p.progress / t * 100.0))
            .unwrap_or_default();
        let line = format!("   …{pct} {}", p.message.unwrap_or_default());
        let mut last = crate::support::sync::lock(&self.last);
        if *last != line {
            eprintln!("{line}");
            *last = line;
        }
    }
}

fn say(s: &str) {
    eprintln!("{s}");
}

pub async fn run(output_dir: Option<PathBuf>) -> ExitCode {
    match demo(output_dir).await {
        Ok(path) => super::output::answer(&path.display().to_string()),
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn demo(output_dir: Option<PathBuf>) -> Result<PathBuf, String> {
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("nemo-demo-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let media = work.path().join("media");
    let out = output_dir.unwrap_or_else(|| std::env::temp_dir().join("nemo-mcp-demo"));
    say("nemo-mcp demo: the quick edit against a built-in NemoVideo simulator (no network, no account)");
    let sim = nemo_sim::Sim::start(nemo_sim::SimConfig {
        time_scale: 0.05,
        ..Default::default()
    })
    .await
    .map_err(|e| format!("simulator: {e}"))?;
    say(&format!("1. simulator on {}", sim.base_url()));
    let inputs = make_media(&media)?;
    say(&format!(
        "2. made five product photos and a logo in {}",
        media.display()
    ));
    let mut host = Host::connect(&sim, work.path(), out, media).await?;

    let paths: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    let instruction =
        "combine these images into a 30-second promo video with music and text overlays";
    say(&format!(
        "3. make_video: the six images, \"{instruction}\" (upload, generate, export in one job)"
    ));
    let first = host
        .call(
            "make_video",
            json!({"paths": paths, "instruction": instruction}),
        )
        .await?;
    say(&format!(
        "   uploaded {} files; first cut saved to {}",
        first["result"]["uploaded"],
        first["result"]["path"].as_str().unwrap_or("?")
    ));
    print_generation(&first);
    say("4. generate: a refinement (\"add a title \\\"Spring Sale\\\"\")");
    let g2 = host
        .call(
            "generate",
            json!({"instruction": "add a title \"Spring Sale\""}),
        )
        .await?;
    print_generation(&g2);
    say("5. export_video");
    let e = host
        .call("export_video", json!({"filename": "spring-sale-promo"}))
        .await?;
    let path = PathBuf::from(
        e["result"]["path"]
            .as_str()
            .ok_or("the export gave no path")?,
    );
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    say(&format!(
        "   saved {} ({:.1} MB) in {:.1} s in all",
        path.display(),
        size as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    ));
    check_playable(&path);
    let _ = host.peer.cancel().await;
    Ok(path)
}

/// Five product photos and a logo, as PNGs in `dir`.
fn make_media(dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut inputs = Vec::new();
    let colors = [
        [220, 80, 60],
        [60, 160, 90],
        [50, 110, 210],
        [240, 190, 40],
        [150, 70, 180],
    ];
    for (i, c) in colors.iter().enumerate() {
        let p = dir.join(format!("product-{}.png", i + 1));
        std::fs::write(&p, nemo_sim::sample::png(640, 480, *c, i as u32))
            .map_err(|e| e.to_string())?;
        inputs.push(p);
    }
    let logo = dir.join("logo.png");
    std::fs::write(&logo, nemo_sim::sample::png(320, 320, [20, 20, 20], 9))
        .map_err(|e| e.to_string())?;
    inputs.push(logo);
    Ok(inputs)
}

/// The MCP client side of the demo: calls tools as a host would, following running jobs.
struct Host {
    peer: rmcp::service::RunningService<RoleClient, Printer>,
    token: i64,
}

impl Host {
    /// This server, in-process over a pipe, against the simulator.
    async fn connect(
        sim: &nemo_sim::SimHandle,
        work: &Path,
        out: PathBuf,
        media: PathBuf,
    ) -> Result<Host, String> {
        let mut client = nemo_client::Config::new(sim.base_url(), work.join("state"))
            .with_web_url(sim.web_url())
            .with_client_id_file(work.join("client_id"));
        client.platform_override = Some("demo".into());
        let mut settings = Settings::new(client, out, vec![media]);
        settings.render_poll = Duration::from_millis(250);
        settings.progress_every = Duration::from_millis(500);
        let app = crate::App::new(settings)?;
        let (server_io, client_io) = tokio::io::duplex(1 << 16);
        let server = crate::NemoServer::new(app);
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let peer = Printer::default()
            .serve(client_io)
            .await
            .map_err(|e| format!("MCP client: {e}"))?;
        Ok(Host { peer, token: 0 })
    }

    /// Call a tool (with a progress token) and wait for its job, as a host would.
    async fn call(&mut self, name: &'static str, args: Value) -> Result<Value, String> {
        self.token += 1;
        let mut meta = RequestMetaObject::default();
        meta.set_progress_token(ProgressToken(NumberOrString::Number(self.token)));
        let mut params = CallToolRequestParams::new(name)
            .with_arguments(args.as_object().cloned().unwrap_or_default());
        params.meta = Some(meta);
        let mut r = self
            .peer
            .call_tool(params)
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        loop {
            let body = r.structured_content.clone().unwrap_or(Value::Null);
            if r.is_error == Some(true) {
                return Err(format!(
                    "{name}: {}",
                    body["message"].as_str().unwrap_or("failed")
                ));
            }
            if body["status"] != "running" {
                return Ok(body);
            }
            let args = json!({"job_id": body["job_id"]});
            r = self
                .peer
                .call_tool(
                    CallToolRequestParams::new("get_job")
                        .with_arguments(args.as_object().cloned().unwrap_or_default()),
                )
                .await
                .map_err(|e| format!("get_job: {e}"))?;
        }
    }
}

fn print_generation(v: &Value) {
    let r = &v["result"];
    let reply = r["reply"].as_str().unwrap_or_default();
    say(&format!(
        "   NemoVideo: {}",
        if reply.is_empty() {
            "(made the edit without comment)"
        } else {
            reply
        }
    ));
    say(&format!(
        "   changes: {}",
        r["changes"].as_str().unwrap_or_default()
    ));
    say(&format!(
        "   {}",
        r["timeline"].as_str().unwrap_or_default()
    ));
    if let Some(spent) = r["credits_spent"].as_i64() {
        say(&format!(
            "   credits spent: {spent}, left: {}",
            r["credits_left"]
        ));
    }
}

fn check_playable(path: &Path) {
    let probe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration:stream=codec_name,width,height",
            "-of",
            "compact=p=0:nk=1",
        ])
        .arg(path)
        .output();
    match probe {
        Ok(o) if o.status.success() => {
            let info = String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            say(&format!("   ffprobe: {info}"));
        }
        Ok(o) => say(&format!(
            "   ffprobe could not read it: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(_) => say("   (ffprobe is not installed; skipping the playback check)"),
    }
}

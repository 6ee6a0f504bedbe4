//! The player view (an MCP App) as a client sees it: negotiated by the UI extension; the tools'
//! `_meta`; the view's resource; an export's bytes read in pieces through the app-only tool, and
//! every way such a read is refused; and, for a client without the extension, nothing changed.

use crate::common;

use base64::Engine as _;
use common::*;
use nemo_sim::SimConfig;
use rmcp::model::*;
use serde_json::{json, Value};

const PIECE: u64 = 524_286;
const UI: &str = "io.modelcontextprotocol/ui";
const VIEW: &str = "ui://nemo/player";
const SHOWN_BY: [&str; 4] = ["export_video", "make_video", "get_job", "get_timeline"];

/// make_video with two images, followed to its end: its final body.
async fn made(h: &Harness) -> Value {
    let r = h
        .call(
            "make_video",
            json!({
                "instruction": "combine these images into a 10-second video with a title \"Spring\"",
                "paths": [h.media("a.png", &png(64, 48)), h.media("b.png", &png(64, 48))],
            }),
        )
        .await;
    assert_ne!(r.is_error, Some(true), "{r:?}");
    let done = h.finish(r.structured_content.unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    done
}

/// Fails the test without ffmpeg: the tests that need it are `#[ignore]`d with that reason, so
/// `cargo test` lists them as ignored instead of passing them unrun.
fn sim_with_ffmpeg() -> SimConfig {
    let has = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has,
        "ffmpeg is not on PATH: the simulator needs it for a large export"
    );
    let mut c = SimConfig::fast();
    c.renderer = nemo_sim::Renderer::Auto;
    // About 1.2 MB for 10 s: three pieces, the last one short.
    c.render_kbps = Some(1000);
    c
}

async fn piece(h: &Harness, job: &str, offset: u64) -> CallToolResult {
    h.call(
        "read_export_piece",
        json!({"job_id": job, "offset": offset}),
    )
    .await
}

fn code(r: &CallToolResult) -> String {
    assert_eq!(r.is_error, Some(true), "{r:?}");
    r.structured_content.as_ref().unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_rendering_client_sees_the_links_the_view_and_the_app_only_tool() {
    let h = Harness::rendering_apps(SimConfig::fast()).await;
    let info = h.client.peer_info().unwrap();
    let ext = info.capabilities.extensions.as_ref().unwrap();
    assert!(ext.contains_key(UI), "the server declares the extension");

    let tools = h.client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 12);
    for t in &tools {
        let meta = serde_json::to_value(&t.meta).unwrap();
        if SHOWN_BY.contains(&t.name.as_ref()) {
            assert_eq!(meta["ui"]["resourceUri"], VIEW, "{}", t.name);
            assert_eq!(meta["ui/resourceUri"], VIEW, "{}", t.name);
            assert!(meta["ui"].get("visibility").is_none());
        } else if t.name == "read_export_piece" {
            assert_eq!(meta["ui"]["visibility"], json!(["app"]));
            assert_eq!(meta["ui"]["resourceUri"], VIEW);
        } else {
            assert!(t.meta.is_none(), "{} has _meta", t.name);
        }
    }
    let whole = serde_json::to_string(&json!({ "tools": tools })).unwrap();
    println!(
        "tools/list with the view: {} characters",
        whole.chars().count()
    );
    assert!(whole.chars().count() <= 9000, "{}", whole.chars().count());

    let listed = h.client.list_all_resources().await.unwrap();
    let view = listed
        .iter()
        .find(|r| r.uri == VIEW)
        .expect("the view is listed");
    assert_eq!(view.mime_type.as_deref(), Some("text/html;profile=mcp-app"));
    let read = h
        .client
        .read_resource(ReadResourceRequestParams::new(VIEW))
        .await
        .unwrap();
    let c = serde_json::to_value(&read.contents[0]).unwrap();
    assert_eq!(c["mimeType"], "text/html;profile=mcp-app");
    assert_eq!(c["uri"], VIEW);
    assert_eq!(c["_meta"]["ui"]["prefersBorder"], true);
    assert!(c["_meta"]["ui"].get("domain").is_none());
    let html = c["text"].as_str().unwrap();
    assert!(html.starts_with("<!doctype html>") && html.contains("<video"));
    assert!(html.len() <= 100 * 1024);
    let templates = h.client.list_all_resource_templates().await.unwrap();
    assert!(templates
        .iter()
        .any(|t| t.uri_template.starts_with("nemo://thumbnails/")));
}

#[tokio::test]
async fn without_the_extension_nothing_changes() {
    let plain = Harness::start().await;
    let tools = plain.client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 11);
    assert!(tools.iter().all(|t| t.meta.is_none()));
    assert!(tools.iter().all(|t| t.name != "read_export_piece"));
    let resources = plain.client.list_all_resources().await.unwrap();
    assert!(resources.iter().all(|r| !r.uri.starts_with("ui://")));
    let templates = plain.client.list_all_resource_templates().await.unwrap();
    assert!(templates
        .iter()
        .all(|t| !t.uri_template.starts_with("nemo://thumbnails/")));

    // The same video made for both clients: the same texts and structured content (ids and
    // paths aside); the result carries no `_meta`.
    let ui = Harness::rendering_apps(SimConfig::fast()).await;
    let (a, b) = (made(&plain).await, made(&ui).await);
    let shape = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.extend(
            v["result"]
                .as_object()
                .unwrap()
                .keys()
                .map(|k| format!("result.{k}")),
        );
        keys.sort();
        keys
    };
    assert_eq!(shape(&a), shape(&b));
    // The contact sheet (decoded in-process, with or without ffmpeg): for the host without
    // the view only.
    let has_image = |r: &CallToolResult| r.content.iter().any(|c| c.as_image().is_some());
    let poster = plain.call("get_job", json!({"job_id": a["job_id"]})).await;
    assert!(has_image(&poster), "the contact sheet");
    let none = ui.call("get_job", json!({"job_id": b["job_id"]})).await;
    assert!(!has_image(&none), "the view shows the video: no poster");
    let texts = |h: &Harness, job: &Value| {
        let h = h.client.clone();
        let job = job.clone();
        async move {
            let r = h
                .call_tool(Harness::params("get_job", json!({"job_id": job})))
                .await
                .unwrap();
            assert!(r.meta.is_none());
            let text = r.content[0].as_text().unwrap().text.clone();
            text.replace(job.as_str().unwrap(), "JOB")
        }
    };
    let (ta, tb) = (
        texts(&plain, &a["job_id"]).await,
        texts(&ui, &b["job_id"]).await,
    );
    let strip = |t: &str, dir: &std::path::Path| t.replace(&dir.display().to_string(), "DIR");
    let norm = |t: String| {
        t.split_whitespace()
            .map(|w| {
                if w.contains("exp_") || w.contains("upl_") || w.contains("gen_") {
                    "ID"
                } else {
                    w
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        norm(strip(&ta, plain.dir.path())),
        norm(strip(&tb, ui.dir.path()))
    );
}

#[tokio::test]
#[ignore = "needs ffmpeg on PATH (.ci/run installs it and runs --include-ignored)"]
async fn an_export_is_read_in_pieces_and_refused_when_it_should_be() {
    let sim = sim_with_ffmpeg();
    let h = Harness::rendering_apps(sim).await;
    let done = made(&h).await;
    let video_job = done["job_id"].as_str().unwrap().to_string();
    let path = std::path::PathBuf::from(done["result"]["path"].as_str().unwrap());
    let bytes = std::fs::read(&path).unwrap();
    let total = bytes.len() as u64;
    assert!(
        total > 2 * PIECE,
        "the export is {total} bytes: too small for three pieces"
    );

    // First, middle and last piece (through the make_video job: its export is found).
    let mut offset = 0;
    let mut joined = String::new();
    let mut pieces = 0;
    loop {
        let r = piece(&h, &video_job, offset).await;
        assert_ne!(r.is_error, Some(true), "{r:?}");
        let p = r.structured_content.unwrap();
        let length = p["length"].as_u64().unwrap();
        assert!(length <= 512 * 1024);
        assert_eq!(p["offset"], offset);
        assert_eq!(p["total_bytes"], total);
        assert_eq!(p["mime_type"], "video/mp4");
        let data = p["data"].as_str().unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap();
        assert_eq!(raw, bytes[offset as usize..(offset + length) as usize]);
        // No message near the 1 MB that hosts refuse.
        let message = serde_json::to_string(&p).unwrap();
        assert!(message.len() < 1_000_000, "{}", message.len());
        joined.push_str(data);
        pieces += 1;
        offset += length;
        if p["done"] == true {
            break;
        }
        assert!(length == PIECE, "only the last piece is short");
    }
    assert!(pieces >= 3);
    assert_eq!(offset, total);
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&joined)
            .unwrap(),
        bytes,
        "the pieces' base64 joins into the file's"
    );

    // An offset past the end; a job that is not an export; an unknown job; a bad id.
    assert_eq!(
        code(&piece(&h, &video_job, total).await),
        "invalid_argument"
    );
    let upload = h
        .call("list_jobs", json!({}))
        .await
        .structured_content
        .unwrap()["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job_id"].as_str().unwrap().starts_with("upl_"))
        .map(|j| j["job_id"].as_str().unwrap().to_string())
        .unwrap();
    let r = piece(&h, &upload, 0).await;
    assert_eq!(code(&r), "invalid_argument");
    assert!(r.content[0]
        .as_text()
        .unwrap()
        .text
        .contains("no exported video"));
    assert_eq!(code(&piece(&h, "exp_doesnotexist", 0).await), "unknown_job");
    assert_eq!(
        code(&piece(&h, "../../etc/passwd", 0).await),
        "invalid_argument"
    );

    // A changed file (same name, other bytes), then a deleted one.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let r = piece(&h, &video_job, 0).await;
    assert_eq!(code(&r), "export_missing");
    assert!(r.content[0].as_text().unwrap().text.contains("was changed"));
    std::fs::remove_file(&path).unwrap();
    let r = piece(&h, &video_job, 0).await;
    assert_eq!(code(&r), "export_missing");
    assert!(r.content[0]
        .as_text()
        .unwrap()
        .text
        .contains("moved or deleted"));
    assert!(r.content[0]
        .as_text()
        .unwrap()
        .text
        .contains("export_video"));
}

#[tokio::test]
async fn a_storyboard_on_request_and_thumbnails_for_the_view() {
    let h = Harness::rendering_apps(SimConfig::fast()).await;
    made(&h).await;
    let plain = h.call("get_timeline", json!({})).await;
    assert!(
        plain.content.iter().all(|c| c.as_image().is_none()),
        "no image unless asked"
    );
    let r = h.call("get_timeline", json!({"storyboard": true})).await;
    let img = r
        .content
        .iter()
        .find_map(|c| c.as_image())
        .expect("a storyboard image");
    assert_eq!(img.mime_type, "image/jpeg");
    let jpeg = base64::engine::general_purpose::STANDARD
        .decode(&img.data)
        .unwrap();
    assert!(jpeg.len() <= 200 * 1024);
    let caption = r
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.clone())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(caption.contains("2 with their picture"), "{caption}");
    assert!(
        caption.contains("\"Spring\""),
        "the title overlay is named: {caption}"
    );

    let thumb = h
        .client
        .read_resource(ReadResourceRequestParams::new("nemo://thumbnails/a.png"))
        .await
        .unwrap();
    let c = serde_json::to_value(&thumb.contents[0]).unwrap();
    assert_eq!(c["mimeType"], "image/jpeg");
    assert!(h
        .client
        .read_resource(ReadResourceRequestParams::new(
            "nemo://thumbnails/%2Fetc%2Fpasswd"
        ))
        .await
        .is_err());
}

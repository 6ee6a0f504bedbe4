//! Every request the server makes, compared with the seeds' literal form
//! (`tests/data/seed_requests.json`, written from the seeds and the contract) for each of the
//! five profiles: same method and path, the same body keys at every level, the seeds' constant
//! values, and the headers with their values (attribution of the active profile on all of them).

use crate::common;

use common::*;
use nemo_client::Profile;
use nemo_sim::{LoggedRequest, SimConfig, SimHandle, Variants};
use serde_json::{json, Value};

fn forms() -> Vec<Value> {
    let text = include_str!("../../data/seed_requests.json");
    let doc: Value = serde_json::from_str(text).expect("seed_requests.json is JSON");
    doc["endpoints"].as_array().expect("endpoints").clone()
}

/// Whether `value` fits a placeholder or literal of the seed form.
fn fits_text(template: &str, value: &str) -> bool {
    let Some(start) = template.find('<') else {
        return template == value;
    };
    let Some(end) = template[start..].find('>').map(|e| start + e) else {
        return template == value;
    };
    let (prefix, name, suffix) = (
        &template[..start],
        &template[start + 1..end],
        &template[end + 1..],
    );
    let Some(middle) = value
        .strip_prefix(prefix)
        .and_then(|v| v.strip_suffix(suffix))
    else {
        return false;
    };
    let digits = !middle.is_empty() && middle.bytes().all(|b| b.is_ascii_digit());
    match name {
        "sid" | "ts" => digits,
        "lang" => {
            let mut parts = middle.split('-');
            let first = parts.next().unwrap_or_default();
            (2..=3).contains(&first.len())
                && first.bytes().all(|b| b.is_ascii_lowercase())
                && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        }
        _ => !middle.trim().is_empty(),
    }
}

/// Compare a JSON body with the seed form: the same keys at every level, constants equal,
/// placeholders satisfied. Returns what differs.
fn body_diff(template: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    match (template, value) {
        (Value::String(t), v) if t == "<json>" => {
            if !v.is_object() {
                out.push(format!("{at}: expected a JSON object, got {v}"));
            }
        }
        (Value::String(t), Value::String(v)) => {
            if !fits_text(t, v) {
                out.push(format!("{at}: {v:?} is not {t:?}"));
            }
        }
        (Value::Object(t), Value::Object(v)) => {
            for k in t.keys().filter(|k| !v.contains_key(*k)) {
                out.push(format!("{at}.{k}: missing"));
            }
            for k in v.keys().filter(|k| !t.contains_key(*k)) {
                out.push(format!("{at}.{k}: not in the seeds' form"));
            }
            for (k, tv) in t {
                if let Some(vv) = v.get(k) {
                    body_diff(tv, vv, &format!("{at}.{k}"), out);
                }
            }
        }
        (Value::Array(t), Value::Array(v)) => {
            let Some(each) = t.first() else { return };
            if v.is_empty() {
                out.push(format!("{at}: empty list"));
            }
            for (i, item) in v.iter().enumerate() {
                body_diff(each, item, &format!("{at}[{i}]"), out);
            }
        }
        (t, v) if t == v => {}
        (t, v) => out.push(format!("{at}: {v} is not {t}")),
    }
}

/// The seed form a logged request claims to be (by method and path), if any.
fn form_of<'a>(forms: &'a [Value], e: &LoggedRequest) -> Vec<&'a Value> {
    forms
        .iter()
        .filter(|f| f["method"] == e.method.as_str())
        .filter(|f| {
            let t: Vec<&str> = f["path"].as_str().unwrap_or_default().split('/').collect();
            let p: Vec<&str> = e.path.split('/').collect();
            t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| fits_text(t, p))
        })
        .collect()
}

/// What differs between a logged request and the seed form (empty when they agree).
fn request_diff(form: &Value, e: &LoggedRequest, attribution: &[String; 3]) -> Vec<String> {
    let mut out = Vec::new();
    let seen = [&e.skill_source, &e.skill_version, &e.skill_platform];
    for (name, (want, got)) in ["X-Skill-Source", "X-Skill-Version", "X-Skill-Platform"]
        .iter()
        .zip(attribution.iter().zip(seen))
    {
        if got.as_deref() != Some(want.as_str()) {
            out.push(format!("{name}: {got:?}, not {want:?}"));
        }
    }
    let bearer = form["bearer"].as_bool().unwrap_or(true);
    if e.authorized != bearer {
        out.push(format!("Authorization: Bearer present={}", e.authorized));
    }
    let headers = form["headers"].as_object().cloned().unwrap_or_default();
    let content_type = headers.get("Content-Type").and_then(Value::as_str);
    match (content_type, e.content_type.as_deref()) {
        (None, None) => {}
        (Some(want), Some(got)) if got.split(';').next() == Some(want) => {}
        (want, got) => out.push(format!("Content-Type: {got:?}, not {want:?}")),
    }
    if let Some(want) = headers.get("Accept").and_then(Value::as_str) {
        if e.accept.as_deref() != Some(want) {
            out.push(format!("Accept: {:?}, not {want:?}", e.accept));
        }
    }
    if headers.contains_key("X-Client-Id") && e.client_id.as_deref().is_none_or(str::is_empty) {
        out.push("X-Client-Id: missing".into());
    }
    match (&form["body"], &form["parts"], &e.body) {
        (Value::Null, Value::Null, None) => {}
        (Value::Null, Value::String(part), None) => {
            if e.parts.is_empty() || e.parts.iter().any(|p| p != part) {
                out.push(format!("multipart parts {:?}, not all {part:?}", e.parts));
            }
        }
        (template, _, Some(body)) if !template.is_null() => {
            body_diff(template, body, "body", &mut out)
        }
        (template, _, body) => out.push(format!("body {body:?}, not {template}")),
    }
    out
}

/// The session languages the log shows, in order.
fn session_languages(log: &[LoggedRequest]) -> Vec<String> {
    log.iter()
        .filter(|e| e.path == "/api/tasks/me/with-session/nemo_agent")
        .filter_map(|e| Some(e.body.as_ref()?["language"].as_str()?.to_string()))
        .collect()
}

/// Run `nemo-mcp doctor` with a profile and a Japanese locale against the simulator.
async fn doctor(sim: &SimHandle, profile: Profile) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_nemo-mcp"))
        .arg("doctor")
        .env("HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("NEMO_TOKEN")
        .env_remove("NEMO_STATE_DIR")
        .env_remove("SKILL_SOURCE")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "ja_JP.UTF-8")
        .env("NEMO_PROFILE", profile.source())
        .env("NEMO_API_URL", sim.base_url())
        .env("NEMO_WEB_URL", sim.web_url())
        .env("NEMO_OUTPUT_DIR", home.path().join("out"))
        .env("NEMO_ALLOWED_DIRS", home.path())
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "doctor failed: {text}");
    text
}

/// The whole product through the MCP tools, so every endpoint is called at least once.
async fn every_endpoint(h: &Harness) {
    // A project created by an instruction speaks its language.
    let first = h
        .call(
            "generate",
            json!({"instruction": "生成一段城市夜景的短视频"}),
        )
        .await;
    assert_ne!(first.is_error, Some(true), "{}", text_of(&first));
    h.finish(body(&first)).await;
    h.sim.control().set_credits(None, 1000);
    // A new project before any instruction speaks the host's language (here "es").
    let c = h.call("connect", json!({"new_project": true})).await;
    assert_ne!(c.is_error, Some(true), "{}", text_of(&c));
    let up = h
        .call(
            "upload_media",
            json!({"paths": [h.media("a.png", &png(16, 16)), h.media("b.png", &png(16, 16))],
                   "urls": ["https://media.example.com/logo.png"]}),
        )
        .await;
    assert_eq!(body(&up)["status"], "succeeded", "{}", text_of(&up));
    let g = h
        .call(
            "generate",
            json!({"instruction": "combine these images into a 30-second promo video with music and text overlays"}),
        )
        .await;
    let gen = h.finish(body(&g)).await;
    assert_eq!(gen["status"], "succeeded", "{}", text_of(&g));
    let e = h.call("export_video", json!({})).await;
    let done = h.finish(body(&e)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let id = done["result"]["render_id"].as_str().unwrap().to_string();
    // Cancel is the client's (no tool waits on a finished render to cancel it).
    let _ = h
        .app
        .client
        .cancel_render(&nemo_client::RenderId::from_journal(id))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_has_the_seed_form_in_every_profile() {
    let forms = forms();
    println!("| profile | requests | endpoints | session languages |\n|---|---|---|---|");
    for profile in Profile::ALL {
        let variants = Variants {
            // Completed renders without a URL: the `/download` fallback is called too.
            render_without_url: true,
            ..Variants::default()
        };
        let h = Harness::with(SimConfig::fast().with_variants(variants), |s| {
            s.client.profile = profile;
            s.language = "es".into();
        })
        .await;
        every_endpoint(&h).await;
        let in_process = [
            profile.source().to_string(),
            h.app.client.config().skill_version.clone(),
            h.app.client.platform(),
        ];
        let served = h.sim.log().len();
        let report = doctor(&h.sim, profile).await;
        assert!(report.contains(profile.source()), "{report}");
        let from_doctor = [
            profile.source().to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
            "unknown".to_string(),
        ];
        let log = h.sim.log();
        let mut seen = std::collections::BTreeSet::new();
        for (i, e) in log.iter().enumerate() {
            if !nemo_sim::strict::is_api(&e.path) {
                continue; // a file on the CDN, not an API request
            }
            let matches = form_of(&forms, e);
            assert!(
                !matches.is_empty(),
                "{}: {} {} is in no seed",
                profile.source(),
                e.method,
                e.path
            );
            let attribution = if i < served {
                &in_process
            } else {
                &from_doctor
            };
            let diffs: Vec<_> = matches
                .iter()
                .map(|f| (f, request_diff(f, e, attribution)))
                .collect();
            let Some((form, _)) = diffs.iter().find(|(_, d)| d.is_empty()) else {
                panic!(
                    "{}: {} {} differs from the seeds' form: {:?}",
                    profile.source(),
                    e.method,
                    e.path,
                    diffs
                        .iter()
                        .map(|(f, d)| (f["name"].as_str().unwrap_or_default(), d))
                        .collect::<Vec<_>>()
                );
            };
            seen.insert(form["name"].as_str().unwrap_or_default().to_string());
        }
        let missing: Vec<_> = forms
            .iter()
            .filter_map(|f| f["name"].as_str())
            .filter(|n| !seen.contains(*n))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: never called: {missing:?}",
            profile.source()
        );
        // First instruction in Chinese; then the host's language; then doctor under ja_JP.
        assert_eq!(
            session_languages(&log),
            ["zh-CN", "es", "ja"],
            "{}",
            profile.source()
        );
        println!(
            "| {} | {} | {} | {} |",
            profile.source(),
            log.iter()
                .filter(|e| nemo_sim::strict::is_api(&e.path))
                .count(),
            seen.len(),
            session_languages(&log).join(", ")
        );
    }
}

#[test]
fn the_comparison_sees_deviations() {
    let forms = forms();
    let render = forms.iter().find(|f| f["name"] == "render").unwrap();
    let mut diffs = Vec::new();
    let with_resolution = json!({"id":"render_1","sessionId":"7","draft":{},
        "output":{"format":"mp4","quality":"high","resolution":"1080p"}});
    body_diff(&render["body"], &with_resolution, "body", &mut diffs);
    assert_eq!(diffs, ["body.output.resolution: not in the seeds' form"]);
    let mut diffs = Vec::new();
    body_diff(
        &render["body"],
        &json!({"id":"r1","sessionId":7,"draft":{},"output":{"format":"mp4","quality":"high"}}),
        "body",
        &mut diffs,
    );
    assert_eq!(diffs.len(), 2, "{diffs:?}");
    assert!(fits_text(
        "/api/state/nemo_agent/me/<sid>/latest",
        "/api/state/nemo_agent/me/42/latest"
    ));
    assert!(!fits_text("<sid>", "4x"));
    assert!(fits_text("<lang>", "zh-CN") && !fits_text("<lang>", "english"));
}

/// The profile table (`docs/configuration.md`): one row per profile, with the code's source and limit, and, where
/// the seeds are beside the repository (`../shared/seeds`), the seed's own source and limit.
#[test]
fn the_profile_table_matches_the_code_and_the_seeds() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    let section = readme
        .split("## Profiles")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Profiles section");
    let rows: Vec<Vec<String>> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().replace('`', ""))
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), Profile::ALL.len(), "{rows:?}");
    let seeds = root.join("../shared/seeds");
    for (p, row) in Profile::ALL.iter().zip(&rows) {
        assert!(row[0].starts_with(p.source()), "{row:?}");
        assert_eq!(row[1], p.source());
        let mb = p.max_upload_bytes() / (1024 * 1024);
        assert_eq!(row[3], format!("{mb} MB"), "{row:?}");
        let Ok(seed) = std::fs::read_to_string(seeds.join(&row[2])) else {
            assert!(row[2] == "—" || !seeds.exists(), "seed {} missing", row[2]);
            continue;
        };
        assert!(
            seed.contains(p.source()),
            "{} does not name {}",
            row[2],
            p.source()
        );
        // Each seed states its limit as "Max file size is N MB" or "up to N MB".
        let limit = seed
            .split("Max file size is ")
            .nth(1)
            .or_else(|| {
                seed.split("up to ")
                    .find(|s| s.trim_start().starts_with(char::is_numeric))
            })
            .and_then(|s| s.split("MB").next())
            .and_then(|n| n.trim().parse::<u64>().ok());
        assert_eq!(limit, Some(mb), "{}", row[2]);
    }
}

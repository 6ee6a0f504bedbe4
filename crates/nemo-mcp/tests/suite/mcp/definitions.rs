//! Every tool's definition as a host receives it, held by a snapshot (issue #33): a change to a
//! name, a description, a schema or an annotation fails here with a diff, so a reviewer sees
//! every change to what the model reads and to the `outputSchema` a job result also journals.
//! Both protocol eras (`initialize`, 2025-11-25; `server/discover`, 2026-07-28) must send the
//! very same definitions, and the README's `tools/list` sizes are the measured ones.
//!
//! After a deliberate change: `NEMO_UPDATE_SNAPSHOTS=1 cargo test -p nemo-mcp --test all
//! definitions`, then review the diff of `tests/snapshots/tools/`.

use crate::common::*;
use nemo_sim::SimConfig;
use serde_json::{json, Value};
use std::path::PathBuf;

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/tools")
}

async fn tools_of(recorder: Recorder) -> (Vec<Value>, String) {
    let h = Harness::as_host(SimConfig::fast(), recorder).await;
    let version = h
        .client
        .peer_info()
        .map(|i| i.protocol_version.to_string())
        .unwrap_or_default();
    let tools = h.client.list_all_tools().await.expect("tools/list");
    let tools = tools
        .iter()
        .map(|t| serde_json::to_value(t).expect("a tool as JSON"))
        .collect();
    (tools, version)
}

/// The lines of `a` and `b` that differ, marked, for a failure message.
fn diff(a: &str, b: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out = Vec::new();
    for i in 0..a.len().max(b.len()) {
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) if x == y => {}
            (x, y) => {
                if let Some(x) = x {
                    out.push(format!("{:>4} - {x}", i + 1));
                }
                if let Some(y) = y {
                    out.push(format!("{:>4} + {y}", i + 1));
                }
            }
        }
    }
    out.join("\n")
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON") + "\n"
}

#[tokio::test]
async fn every_tool_definition_is_the_snapshot_in_both_eras() {
    let (legacy, legacy_version) = tools_of(Recorder::default()).await;
    let (modern, modern_version) = tools_of(Recorder {
        discovers: true,
        ..Recorder::default()
    })
    .await;
    assert_eq!(legacy_version, "2025-11-25");
    assert_eq!(modern_version, "2026-07-28");
    assert!(legacy.len() >= 11, "{} tools", legacy.len());
    assert_eq!(
        pretty(&json!(legacy)),
        pretty(&json!(modern)),
        "both eras send the same tools"
    );
    let update = std::env::var_os("NEMO_UPDATE_SNAPSHOTS").is_some();
    let dir = snapshot_dir();
    let mut failures = Vec::new();
    let mut names = Vec::new();
    for tool in &legacy {
        let name = tool["name"].as_str().expect("a tool name").to_string();
        let path = dir.join(format!("{name}.json"));
        let now = pretty(tool);
        if update {
            std::fs::create_dir_all(&dir).expect("the snapshot folder");
            std::fs::write(&path, &now).expect("a snapshot written");
        }
        match std::fs::read_to_string(&path) {
            Ok(held) if held == now => {}
            Ok(held) => failures.push(format!("{name} changed:\n{}", diff(&held, &now))),
            Err(_) => failures.push(format!("{name} has no snapshot ({})", path.display())),
        }
        names.push(format!("{name}.json"));
    }
    // A snapshot whose tool is gone is a removed tool: say so too.
    for entry in std::fs::read_dir(&dir).expect("the snapshot folder") {
        let file = entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        if file.ends_with(".json") && !names.contains(&file) {
            failures.push(format!("{file}: the tool is no longer listed"));
        }
    }
    assert!(
        failures.is_empty(),
        "tool definitions differ from tests/snapshots/tools (NEMO_UPDATE_SNAPSHOTS=1 to accept):\n{}",
        failures.join("\n\n")
    );
}

/// `tools/list` as a number of characters, with the thousands separated as the README writes it.
fn size(tools: &[Value]) -> String {
    let n = serde_json::to_string(&json!({ "tools": tools }))
        .expect("JSON")
        .chars()
        .count();
    format!("{},{:03}", n / 1000, n % 1000)
}

#[tokio::test]
async fn the_readme_states_the_measured_tool_list_sizes() {
    let (plain, _) = tools_of(Recorder::default()).await;
    let (apps, _) = tools_of(Recorder {
        renders_apps: true,
        ..Recorder::default()
    })
    .await;
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("the README");
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let want = format!(
        "`tools/list` is {} characters for the {} tools ({} for a host that renders MCP Apps",
        size(&plain),
        plain.len(),
        size(&apps)
    );
    assert!(readme.contains(&want), "the README should say: {want}");
}

/// What hosts cut (issue #32): Claude Code keeps 2,048 characters of the server's instructions
/// and of each tool description, and shows the model only names and instructions until it
/// searches; Cursor wants `server + tool` within 60 characters, Claude Code `mcp__server__tool`
/// within 128.
#[tokio::test]
async fn instructions_and_descriptions_fit_the_hosts_cuts() {
    let h = Harness::start().await;
    let info = h.client.peer_info().expect("the server's info");
    let instructions = info.instructions.clone().unwrap_or_default();
    assert!(
        instructions.chars().count() <= 2048,
        "{} characters",
        instructions.len()
    );
    // Where a tool is first named as a word ("generates" is not `generate`).
    let first = |name: &str| {
        instructions
            .match_indices(name)
            .find(|(i, _)| {
                let after = instructions[i + name.len()..].chars().next();
                !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
            .map_or(usize::MAX, |(i, _)| i)
    };
    for lead in ["make_video", "get_job"] {
        for other in ["generate", "upload_media", "export_video"] {
            assert!(
                first(lead) < first(other),
                "{lead} comes before {other}: {instructions}"
            );
        }
    }
    let tools = h.client.list_all_tools().await.expect("tools/list");
    for t in &tools {
        let d = t.description.as_deref().unwrap_or_default();
        assert!(
            d.chars().count() <= 2048,
            "{}: {} characters",
            t.name,
            d.len()
        );
        // The README's Codex and Claude Code examples name the server `nemovideo`.
        let cursor = format!("nemovideo{}", t.name);
        let claude = format!("mcp__nemovideo__{}", t.name);
        assert!(cursor.len() <= 40, "{cursor}: well under Cursor's 60");
        assert!(claude.len() <= 64, "{claude}: well under Claude Code's 128");
    }
}

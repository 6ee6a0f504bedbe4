//! What the model reads of the tools, through a real MCP client: every tool listed with its
//! schemas and honest annotations (each with its reason), a lean list within its budget,
//! input schemas in the subset every host reads, texts written for a model, and the README's
//! results of each tool.

use crate::common;

use super::tools::PROMO;
use common::*;
use rmcp::model::*;
use serde_json::json;

#[tokio::test]
async fn tools_are_listed_with_schemas_and_honest_annotations() {
    let h = Harness::start().await;
    let tools = h.client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for n in [
        "connect",
        "upload_media",
        "generate",
        "get_job",
        "list_jobs",
        "cancel_job",
        "get_credits",
        "get_timeline",
        "export_video",
        "make_video",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    for t in &tools {
        assert!(t.output_schema.is_some(), "{} has no output schema", t.name);
        let a = t
            .annotations
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no annotations", t.name));
        let desc = t.description.as_deref().unwrap_or_default();
        assert!(
            desc.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{}: no Chinese phrase",
            t.name
        );
        if ["generate", "make_video"].contains(&t.name.as_ref()) {
            assert_ne!(
                a.read_only_hint,
                Some(true),
                "spending credits is not read-only"
            );
            assert_eq!(a.destructive_hint, Some(true));
        }
        if ["get_credits", "get_timeline", "get_job", "list_jobs"].contains(&t.name.as_ref()) {
            assert_eq!(a.read_only_hint, Some(true), "{}", t.name);
        }
    }
    // Every sub-schema is an object: the TypeScript SDK rejects boolean schemas (`true`).
    fn no_bool_schemas(v: &serde_json::Value, path: &str) {
        if let Some(props) = v.get("properties").and_then(|p| p.as_object()) {
            for (k, s) in props {
                assert!(s.is_object(), "{path}.{k} is {s}");
                no_bool_schemas(s, &format!("{path}.{k}"));
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(s) = v.get(key).filter(|s| !s.is_object()) {
                assert!(
                    s == &json!(false) && key == "additionalProperties",
                    "{path}.{key} is {s}"
                );
            }
        }
        if let Some(defs) = v.get("$defs").and_then(|d| d.as_object()) {
            for (k, s) in defs {
                no_bool_schemas(s, &format!("{path}.$defs.{k}"));
            }
        }
    }
    for t in &tools {
        no_bool_schemas(
            &serde_json::to_value(&t.input_schema).unwrap(),
            &format!("{}.input", t.name),
        );
        no_bool_schemas(
            &serde_json::to_value(t.output_schema.as_ref().unwrap()).unwrap(),
            &format!("{}.output", t.name),
        );
    }
    let gen = tools.iter().find(|t| t.name == "generate").unwrap();
    let schema = serde_json::to_value(&gen.input_schema).unwrap();
    assert!(schema["properties"]["instruction"]["description"]
        .as_str()
        .unwrap()
        .contains("user's words"));
    assert_eq!(schema["required"], json!(["instruction"]));
}

/// Each tool's annotations, with the reason a host may rely on: hosts auto-approve tools that say
/// they are read-only or harmless, so a tool that spends credits must not say so.
#[tokio::test]
async fn annotations_are_honest_and_each_has_its_reason() {
    let h = Harness::start().await;
    let tools = h.client.list_tools(None).await.unwrap().tools;
    // (tool, read_only, destructive, idempotent, open_world, why)
    let expected = [
        ("connect", false, false, false, true,
         "new_project=true starts another project each time: not idempotent"),
        ("upload_media", false, false, false, true,
         "adds media to the project on NemoVideo's servers; a second call adds it again"),
        ("generate", false, true, false, true,
         "spends credits and may replace the timeline's content: destructive, never auto-approved"),
        ("get_job", true, false, true, false, "reads this server's own job record"),
        ("list_jobs", true, false, true, false, "reads this server's own job records"),
        ("cancel_job", false, false, true, true,
         "stops work the user started (a render is cancelled on the backend) but deletes and overwrites nothing: the spec's destructive means that; twice is the same"),
        ("get_credits", true, false, true, true, "reads the account's balance from NemoVideo"),
        ("list_projects", true, false, true, false, "reads this installation's project library"),
        ("get_timeline", true, false, true, true, "reads the project's state from NemoVideo"),
        ("export_video", false, false, false, true,
         "writes a new file each time, never over an existing one"),
        ("make_video", false, true, false, true,
         "sends its instruction to the current project like generate, which may replace the timeline's content: destructive (the Codex example approves it in its config)"),
    ];
    assert_eq!(tools.len(), expected.len());
    for (name, read_only, destructive, idempotent, open_world, why) in expected {
        let t = tools
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no tool {name}"));
        let a = t
            .annotations
            .clone()
            .unwrap_or_else(|| panic!("{name}: no annotations"));
        // Unset hints take the specification's defaults (read-only false, destructive true,
        // idempotent false, open-world true); destructive and idempotent mean nothing for a
        // read-only tool.
        let read_only_seen = a.read_only_hint.unwrap_or(false);
        let seen = (
            read_only_seen,
            !read_only_seen && a.destructive_hint.unwrap_or(true),
            !read_only_seen && a.idempotent_hint.unwrap_or(false),
            a.open_world_hint.unwrap_or(true),
        );
        let want = (
            read_only,
            !read_only && destructive,
            !read_only && idempotent,
            open_world,
        );
        assert_eq!(seen, want, "{name}: {why}");
        if !read_only {
            // Said out loud, never left to a host's reading of the defaults.
            assert_eq!(a.destructive_hint, Some(destructive), "{name}: {why}");
        }
    }
}

/// What a host model reads before it does anything: the whole `tools/list` answer. It must stay
/// small (at most 9,000 characters for the current tool set), and say less rather than drop
/// schemas.
#[tokio::test]
async fn the_tool_list_is_lean() {
    let h = Harness::start().await;
    let tools = h.client.list_all_tools().await.unwrap();
    let whole = serde_json::to_string(&json!({ "tools": tools })).unwrap();
    println!("tools/list: {} characters", whole.chars().count());
    for t in &tools {
        let one = serde_json::to_string(t).unwrap();
        let input = serde_json::to_string(&t.input_schema).unwrap();
        let output = serde_json::to_string(&t.output_schema).unwrap();
        println!(
            "  {:<14} {:>5} (description {:>4}, input {:>4}, output {:>4})",
            t.name,
            one.chars().count(),
            t.description.as_deref().unwrap_or_default().chars().count(),
            input.chars().count(),
            output.chars().count()
        );
    }
    assert!(
        whole.chars().count() <= 9000,
        "tools/list is {} characters",
        whole.chars().count()
    );
}

/// Every input schema is in the subset OpenAI, Gemini and Anthropic function declarations all
/// accept: no `$ref`/`$defs`, no type arrays or `null`, no `anyOf`/`oneOf`, no `format`.
#[tokio::test]
async fn input_schemas_use_the_common_subset() {
    let h = Harness::start().await;
    let tools = h.client.list_all_tools().await.unwrap();
    let mut found = Vec::new();
    for t in &tools {
        let input = serde_json::to_value(&t.input_schema).unwrap();
        nemo_mcp::testing::outside_subset(&input, &format!("{}.input", t.name), &mut found);
        assert_eq!(input["type"], "object", "{}", t.name);
        assert!(t.title.is_some(), "{} has no title", t.name);
        // The server's icon comes once, in `initialize`; not again on every tool.
        assert!(t.icons.is_none(), "{} repeats the server's icon", t.name);
    }
    assert!(found.is_empty(), "outside the subset: {found:?}");
    let info = h.client.peer_info().unwrap();
    assert!(
        info.server_info
            .as_ref()
            .and_then(|s| s.icons.as_ref())
            .is_some_and(|i| !i.is_empty()),
        "the server has its icon"
    );
    // The walk finds what schemars writes by default (so it can fail).
    let raw = serde_json::to_value(schemars::schema_for!(nemo_mcp::testing::GenerateArgs)).unwrap();
    let mut raw_found = Vec::new();
    nemo_mcp::testing::outside_subset(&raw, "raw", &mut raw_found);
    assert!(!raw_found.is_empty());
}

/// Texts for a model: the backend's reply is quoted as NemoVideo's without its calls to action,
/// no message starts with an internal id, list_jobs says what was asked and what it cost, and an
/// export's progress ends at 100.
#[tokio::test]
async fn texts_are_written_for_a_model() {
    let h = Harness::start().await;
    upload_two(&h).await;
    let r = h.call("generate", json!({"instruction": PROMO})).await;
    let b = h.finish(body(&r)).await;
    let done = h
        .call("get_job", json!({"job_id": b["job_id"], "wait_s": 0}))
        .await;
    let text = text_of(&done);
    assert!(text.contains("NemoVideo's AI replied: \""), "{text}");
    let reply = b["result"]["reply"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    for cta in ["ask me", "tell me", "click"] {
        assert!(!reply.contains(cta), "a call to action in {reply:?}");
    }
    assert!(b["result"]["next_step"]
        .as_str()
        .unwrap()
        .contains("export_video"));
    let (x, token) = h.call_tracked("export_video", json!({})).await;
    let x = h.finish(body(&x)).await;
    assert_eq!(x["status"], "succeeded", "{x}");
    let last = h
        .progress_for(&token)
        .last()
        .cloned()
        .expect("export progress");
    assert_eq!((last.progress, last.total), (100.0, Some(100.0)));
    let l = h.call("list_jobs", json!({})).await;
    let lines = text_of(&l);
    assert!(lines.contains("generate \"combine these images"), "{lines}");
    assert!(lines.contains("50 credits"), "{lines}");
    assert!(lines.contains(".mp4"), "{lines}");
    for line in lines.lines() {
        let l = line.trim_start_matches("- ");
        assert!(
            !["gen_", "exp_", "upl_"].iter().any(|p| l.starts_with(p)),
            "{line}"
        );
    }
    let bad = h
        .call("get_job", json!({"job_id": "exp_000000000000"}))
        .await;
    assert!(!text_of(&bad).starts_with("Error (unknown_job): exp_"));
}

/// One real result of each tool as a model receives it (text, then structured content), for
/// docs/tools.md's results: `cargo test -p nemo-mcp --test all readme -- --nocapture`.
#[tokio::test]
async fn readme_results_of_each_tool() {
    let h = Harness::start().await;
    let show = |name: &str, r: &CallToolResult| {
        assert_structured_says_it_all(name, r);
        let mut s = r.structured_content.clone().unwrap_or_default();
        // Long lists shortened for the page.
        if let Some(a) = s.pointer_mut("/tracks").and_then(|t| t.as_array_mut()) {
            a.truncate(1);
        }
        println!(
            "#### `{name}`\n\n```text\n{}\n```\n\n```json\n{}\n```\n",
            text_of(r),
            serde_json::to_string(&s).unwrap()
        );
    };
    let r = h.call("connect", json!({})).await;
    show("connect", &r);
    let up = h
        .call(
            "upload_media",
            json!({"paths": [h.media("product-1.png", &png(64, 48)), h.media("logo.png", &png(32, 32))]}),
        )
        .await;
    show("upload_media", &up);
    let g = h
        .call("generate", json!({"instruction": PROMO, "wait_s": 0}))
        .await;
    show("generate (still running)", &g);
    let done = h
        .call(
            "get_job",
            json!({"job_id": body(&g)["job_id"], "wait_s": 30}),
        )
        .await;
    show("get_job (the generation, done)", &done);
    let r = h.call("get_timeline", json!({})).await;
    show("get_timeline", &r);
    let r = h.call("get_credits", json!({})).await;
    show("get_credits", &r);
    let x = h
        .call("export_video", json!({"filename": "spring promo"}))
        .await;
    let x = if body(&x)["status"] == "running" {
        h.call(
            "get_job",
            json!({"job_id": body(&x)["job_id"], "wait_s": 30}),
        )
        .await
    } else {
        x
    };
    show("export_video", &x);
    let r = h.call("list_jobs", json!({})).await;
    show("list_jobs", &r);
    let c = h
        .call("cancel_job", json!({"job_id": body(&g)["job_id"]}))
        .await;
    show("cancel_job (a finished job: nothing to stop)", &c);
    assert_eq!(body(&x)["status"], "succeeded");
    // The quick edit in one call, in a new project (the same files are sent again there).
    h.call("connect", json!({"new_project": true})).await;
    let m = h
        .call(
            "make_video",
            json!({"paths": [h.media("product-1.png", &png(64, 48)), h.media("logo.png", &png(32, 32))],
                   "instruction": PROMO, "wait_s": 30}),
        )
        .await;
    let m = h.finish(body(&m)).await;
    let m = h
        .call("get_job", json!({"job_id": m["job_id"], "wait_s": 0}))
        .await;
    show("make_video (followed to its end)", &m);
    let again = h
        .call(
            "upload_media",
            json!({"paths": [h.media("logo.png", &png(32, 32))]}),
        )
        .await;
    show("upload_media (a file already in the project)", &again);
    assert_eq!(body(&m)["status"], "succeeded");
}

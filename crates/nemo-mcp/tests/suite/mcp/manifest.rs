//! The MCPB design card (`mcp-manifest.json`, from which every bundle's `manifest.json` is
//! generated) against the server itself: the tools a host shows before installing are the
//! tools the server lists, and the settings a bundle offers reach the server.

use crate::common;
use common::Harness;
use serde_json::Value;

fn card() -> Value {
    serde_json::from_str(include_str!("../../../../../mcp-manifest.json")).expect("the card parses")
}

#[tokio::test]
async fn the_manifest_lists_every_tool_the_server_lists() {
    let h = Harness::start().await;
    let mut served: Vec<String> = h
        .client
        .list_tools(None)
        .await
        .unwrap()
        .tools
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    served.sort();
    let card = card();
    let mut listed: Vec<String> = card["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, served);
    assert_eq!(
        card["version"].as_str(),
        Some(env!("CARGO_PKG_VERSION")),
        "one version everywhere"
    );
}

/// Each setting: its kind, and the variable or argument that carries it to the server.
#[test]
fn the_manifest_offers_the_settings_and_passes_each_to_the_server() {
    let card = card();
    let config = &card["user_config"];
    assert_eq!(config["token"]["sensitive"], true);
    assert_eq!(config["output_dir"]["type"], "directory");
    assert_eq!(config["allowed_dirs"]["type"], "directory");
    assert_eq!(config["allowed_dirs"]["multiple"], true);
    assert_eq!(config["profile"]["type"], "string");
    let mcp = &card["server"]["mcp_config"];
    let env = &mcp["env"];
    assert_eq!(env["NEMO_TOKEN"], "${user_config.token}");
    assert_eq!(env["NEMO_OUTPUT_DIR"], "${user_config.output_dir}");
    assert_eq!(env["NEMO_PROFILE"], "${user_config.profile}");
    // Money over time: the confirmation, the switch and the budgets.
    for (setting, var, kind) in [
        ("confirm_spending", "NEMO_CONFIRM_SPENDING", "boolean"),
        ("allow_spending", "NEMO_ALLOW_SPENDING", "boolean"),
        ("max_credits_per_day", "NEMO_MAX_CREDITS_PER_DAY", "number"),
        (
            "max_credits_per_session",
            "NEMO_MAX_CREDITS_PER_SESSION",
            "number",
        ),
    ] {
        assert_eq!(config[setting]["type"], kind, "{setting}");
        assert_eq!(env[var], format!("${{user_config.{setting}}}"), "{var}");
    }
    let args: Vec<&str> = mcp["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // A multiple setting expands to several arguments only as a whole argument.
    assert_eq!(
        args[args.len() - 2..],
        ["--allowed-dirs", "${user_config.allowed_dirs}"]
    );
    assert_eq!(card["server"]["type"], "node");
    assert_eq!(card["server"]["entry_point"], "server/launch.js");
}

//! The player view: an MCP App (`ui://nemo/player`) that shows an export playing, a running job's
//! progress, a failed job's error, or the timeline as lanes, inside hosts that render MCP Apps.
//!
//! Negotiated: only a client that declares the UI extension (`io.modelcontextprotocol/ui`) sees
//! the tools' `_meta.ui`, the view's resource and the app-only tool that reads an export in
//! pieces ([`pieces`]). Every other client gets the tools, texts and structured content it got
//! before. The page is one self-contained HTML file embedded in the binary: no framework and
//! nothing fetched; it speaks the host bridge (JSON-RPC over `postMessage`) itself.

pub mod pieces;

use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::RoleServer;
use serde_json::json;

/// The extension's identifier.
pub const EXTENSION: &str = "io.modelcontextprotocol/ui";
/// The view's resource.
pub const URI: &str = "ui://nemo/player";
/// The MIME type hosts look for.
pub const MIME: &str = "text/html;profile=mcp-app";
/// The page.
pub const HTML: &str = include_str!("player.html");
/// The app-only tool that reads an export's bytes.
pub const PIECE_TOOL: &str = "read_export_piece";
/// The tools whose results can hold a finished or running export, or a timeline.
pub const SHOWN_BY: [&str; 4] = ["export_video", "make_video", "get_job", "get_timeline"];

/// Whether this request's client renders MCP Apps: it declared the extension and, when it
/// names MIME types, ours among them.
pub fn client_renders(ctx: &RequestContext<RoleServer>) -> bool {
    ctx.client_capabilities()
        .and_then(|c| c.extensions)
        .and_then(|e| e.get(EXTENSION).cloned())
        .is_some_and(|settings| match settings.get("mimeTypes") {
            Some(serde_json::Value::Array(types)) => types.iter().any(|t| t == MIME),
            _ => true,
        })
}

/// Declares the extension in the server's capabilities (in `initialize`), next to any other.
pub fn declare(capabilities: &mut ServerCapabilities) {
    capabilities
        .extensions
        .get_or_insert_with(ExtensionCapabilities::new)
        .insert(EXTENSION.to_string(), JsonObject::new());
}

/// `_meta` linking a tool to the view: the current key and the older flat one (hosts of the
/// first drafts read only that), as the official helper writes them. The app-only tool gets
/// only the current key: its visibility is new with it, and no host shows a view for it.
fn link(app_only: bool) -> MetaObject {
    let mut meta = MetaObject(JsonObject::new());
    if app_only {
        meta.0.insert(
            "ui".into(),
            json!({ "resourceUri": URI, "visibility": ["app"] }),
        );
    } else {
        meta.0.insert("ui".into(), json!({ "resourceUri": URI }));
        meta.0.insert("ui/resourceUri".into(), json!(URI));
    }
    meta
}

/// The tools as this client should see them: linked to the view and with the app-only tool for
/// a client that renders apps; exactly the plain list (without the app-only tool) for others.
pub fn tools_for(mut tools: Vec<Tool>, renders: bool) -> Vec<Tool> {
    if !renders {
        tools.retain(|t| t.name != PIECE_TOOL);
        return tools;
    }
    for t in &mut tools {
        if t.name == PIECE_TOOL {
            t.meta = Some(link(true));
        } else if SHOWN_BY.contains(&t.name.as_ref()) {
            t.meta = Some(link(false));
        }
    }
    tools
}

/// The view's entry in `resources/list`.
pub fn resource() -> Resource {
    Resource::new(URI, "player")
        .with_title("NemoVideo player")
        .with_description("Plays an exported video, follows a running job, shows the timeline")
        .with_mime_type(MIME)
}

/// The view's contents: the page, asking for a border and declaring no outside origin (the
/// host's default policy applies: nothing is fetched; the video plays from a `data:` URI).
pub fn contents() -> ResourceContents {
    let mut meta = MetaObject(JsonObject::new());
    meta.0
        .insert("ui".into(), json!({ "prefersBorder": true, "csp": {} }));
    ResourceContents::text(HTML, URI)
        .with_mime_type(MIME)
        .with_meta(meta)
}

/// Thumbnails of uploaded images for the view's timeline lanes, by segment label.
pub const THUMBNAILS: &str = "nemo://thumbnails/";

/// The thumbnails' template (listed for clients that render apps).
pub fn thumbnail_template() -> ResourceTemplate {
    ResourceTemplate::new(format!("{THUMBNAILS}{{label}}"), "thumbnail")
        .with_description("A small JPEG of an image this server uploaded, by its segment label")
        .with_mime_type("image/jpeg")
}

/// A thumbnail, or why not: only images this server uploaded, found by the label's name.
pub async fn read_thumbnail(
    app: std::sync::Arc<crate::app::App>,
    uri: &str,
) -> Result<ReadResourceResult, rmcp::ErrorData> {
    let label = uri.strip_prefix(THUMBNAILS).unwrap_or_default();
    let label = percent_encoding::percent_decode_str(label)
        .decode_utf8_lossy()
        .to_string();
    let jpeg = tokio::task::spawn_blocking(move || {
        crate::previews::thumbnail(
            &crate::previews::LocalMedia::of(&app.jobs, &app.input_policy()),
            &label,
        )
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| rmcp::ErrorData::resource_not_found("no uploaded image has this name", None))?;
    Ok(ReadResourceResult::new(vec![ResourceContents::blob(
        crate::mcp::encoding::base64(&jpeg),
        uri,
    )
    .with_mime_type("image/jpeg")]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_small_and_self_contained() {
        assert!(HTML.len() <= 100 * 1024, "{} bytes", HTML.len());
        let lower = HTML.to_lowercase();
        // Nothing fetched: no remote script, style, image or font, and no markup built from data.
        for banned in [
            "http://",
            "https://",
            "innerhtml",
            "outerhtml",
            "insertadjacenthtml",
            "document.write",
            "eval(",
        ] {
            assert!(!lower.contains(banned), "the page contains {banned}");
        }
        for blocked in ["blob:", "createobjecturl"] {
            assert!(
                !lower.contains(blocked),
                "{blocked}: object URLs are blocked by hosts"
            );
        }
    }

    #[test]
    fn only_rendering_clients_see_the_links_and_the_app_only_tool() {
        let tool =
            |name: &'static str| Tool::new(name, "d", std::sync::Arc::new(JsonObject::new()));
        let all = vec![tool("connect"), tool("export_video"), tool(PIECE_TOOL)];
        let plain = tools_for(all.clone(), false);
        assert_eq!(plain.len(), 2);
        assert!(plain.iter().all(|t| t.meta.is_none()));
        let linked = tools_for(all, true);
        assert_eq!(linked.len(), 3);
        assert!(linked[0].meta.is_none());
        let m = serde_json::to_value(&linked[1].meta).unwrap();
        assert_eq!(m["ui"]["resourceUri"], URI);
        assert_eq!(m["ui/resourceUri"], URI);
        let m = serde_json::to_value(&linked[2].meta).unwrap();
        assert_eq!(m["ui"]["visibility"], json!(["app"]));
    }
}

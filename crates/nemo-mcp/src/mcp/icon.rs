//! The one icon: a film frame with a play mark cut out (drawn in the opposite direction, so
//! the default fill rule leaves it empty), as a small SVG data URI (no file to ship, no
//! request to make). The same string is in `mcp-manifest.json`; a test keeps them equal.

use rmcp::model::Icon;

/// `data:image/svg+xml,…`: a 24×24 SVG, percent-encoded where a URI needs it.
pub const ICON_URI: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 8 8'%3E%3Cpath d='M0 1h8v6H0zm3 1v4l3-2z'/%3E%3C/svg%3E";

pub fn icons() -> Vec<Icon> {
    vec![Icon::new(ICON_URI).with_mime_type("image/svg+xml")]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_manifest_carries_the_same_icon() {
        let manifest: serde_json::Value =
            serde_json::from_str(include_str!("../../../../mcp-manifest.json")).unwrap();
        assert_eq!(manifest["icons"][0]["src"], super::ICON_URI);
        let svg = super::ICON_URI
            .strip_prefix("data:image/svg+xml,")
            .unwrap()
            .replace("%3C", "<")
            .replace("%3E", ">")
            .replace("%23", "#");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
    }
}

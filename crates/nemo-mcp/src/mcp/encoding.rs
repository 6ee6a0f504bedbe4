//! Bytes as text for JSON: what images and video pieces travel as in MCP messages.

/// Standard base64 with padding (what MCP image content and resource blobs carry).
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

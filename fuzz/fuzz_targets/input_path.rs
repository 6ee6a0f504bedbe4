#![no_main]
//! Any text as an upload path: never a panic, and a path that is accepted lies inside the
//! allowed folder once resolved (no `..`, link, `~` or odd prefix gets out of it).
use libfuzzer_sys::fuzz_target;
use nemo_mcp::testing::{resolve_input, InputPolicy};
use std::path::PathBuf;
use std::sync::OnceLock;

fn allowed() -> &'static (tempfile::TempDir, PathBuf) {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let canonical = dir.path().canonicalize().expect("a real folder");
        std::fs::write(canonical.join("a.png"), b"\x89PNG").expect("a file");
        (dir, canonical)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let (dir, canonical) = allowed();
    let policy = InputPolicy {
        lexical: vec![dir.path().to_path_buf(), canonical.clone()],
        canonical: vec![canonical.clone()],
        private: Vec::new(),
    };
    if let Ok(p) = resolve_input(raw, &policy) {
        assert!(p.starts_with(canonical), "{raw:?} resolved to {}", p.display());
    }
});

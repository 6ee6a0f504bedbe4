//! Helpers shared by the end-to-end tests in `tests/`.

use std::path::{Path, PathBuf};

/// The `nemo-mcp` binary of this workspace, next to the running test's own executable (built by
/// `cargo test --workspace`; built here if it is missing).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let bin = dir.join(format!("nemo-mcp{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-p", "nemo-mcp", "--bin", "nemo-mcp"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building nemo-mcp failed");
    }
    bin
}

//! `cargo run` and `cargo test` share one build: every package the server is built from has
//! the same features whether cargo resolves the server alone or the whole workspace with its
//! tests. A test-only feature (rmcp's child-process transport turned on `nix` and so `libc`'s
//! `extra_traits`) would make each command compile tokio, hyper, rustls, rmcp and the server
//! for itself, a minute or more on two cores.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// `cargo tree`'s packages and their features, for these arguments.
fn features(args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(cargo)
        .current_dir(root)
        .args([
            "tree",
            "--offline",
            "--prefix",
            "none",
            "--format",
            "{p}|{f}",
        ])
        .args(args)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut map = BTreeMap::<String, BTreeSet<String>>::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let line = line.trim_end_matches(" (*)");
        let Some((package, features)) = line.split_once('|') else {
            continue;
        };
        let set = features
            .split(',')
            .filter(|f| !f.is_empty())
            .map(String::from);
        map.entry(package.trim().to_string())
            .or_default()
            .extend(set);
    }
    map
}

#[test]
fn the_server_and_the_tests_build_each_package_with_the_same_features() {
    let server = features(&["-p", "nemo-mcp", "--edges", "normal,build"]);
    let workspace = features(&["--workspace", "--edges", "normal,build,dev"]);
    assert!(
        server.len() > 100,
        "the server's packages: {}",
        server.len()
    );
    let differ: Vec<String> = server
        .iter()
        .filter(|(package, _)| !package.contains(" ("))
        .filter_map(|(package, alone)| {
            let with_tests = workspace.get(package)?;
            (alone != with_tests).then(|| {
                let extra: Vec<_> = with_tests.difference(alone).collect();
                format!("{package}: the tests add {extra:?}")
            })
        })
        .collect();
    assert!(
        differ.is_empty(),
        "cargo run and cargo test would each compile these (and all that depends on them): {differ:#?}"
    );
}

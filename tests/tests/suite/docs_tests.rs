//! Every promise in `docs/security.md` and `docs/reliability.md` names the test that holds it.
//! This holds the names to the code: each one is a test (or a test module, or a file) that
//! exists, in a file of the module the name says, so a renamed or deleted test cannot leave a
//! promise standing on nothing.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Rust files of the repository's crates and tests (not the build's).
fn rust_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name();
            if name == "target" || name == "node_modules" || name.to_string_lossy().starts_with('.')
            {
                continue;
            }
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for top in ["crates", "tests", "fuzz"] {
        walk(&root().join(top), &mut out);
    }
    out
}

/// The names in the last column of every table whose last header says "test".
fn named_tests(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut header: Option<Vec<String>> = None;
    for line in page.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let cells: Vec<String> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect();
        let Some(h) = &header else {
            header = Some(cells);
            continue;
        };
        if cells[0].chars().all(|c| "-: ".contains(c)) {
            continue;
        }
        if !h.last().is_some_and(|t| t.to_lowercase().contains("test")) {
            continue;
        }
        let Some(last) = cells.last() else { continue };
        out.extend(last.split('`').skip(1).step_by(2).map(str::to_string));
    }
    out
}

/// The crate labels a name may stand beside (`e2e` `state_folder::…`).
const CRATES: [&str; 6] = [
    "e2e",
    "nemo-mcp",
    "nemo_mcp",
    "nemo_client",
    "nemo-client",
    "nemo-sim",
];

/// Whether `name` is a test or test module in this repository: `module::…::function` needs
/// `fn function` in a file of that module (`module.rs` or `module/…`); `module::tests` and
/// `module::*` need the module; a path needs the file.
fn exists(name: &str, files: &[(PathBuf, String)]) -> bool {
    if name.contains('/') {
        return root().join(name).exists();
    }
    let parts: Vec<&str> = name.split("::").collect();
    let in_module = |module: &str, path: &Path| {
        path.file_stem().is_some_and(|s| s == module)
            || path
                .components()
                .any(|c| c.as_os_str().to_string_lossy() == module)
    };
    let last = parts[parts.len() - 1];
    let module = parts[..parts.len() - 1]
        .iter()
        .rev()
        .find(|p| **p != "tests")
        .copied();
    if last == "tests" || last == "*" {
        let Some(module) = module else { return false };
        return files.iter().any(|(p, _)| in_module(module, p));
    }
    let defines = |text: &str| {
        text.contains(&format!("fn {last}("))
            || text.contains(&format!("fn {last}<"))
            || text.contains(&format!("mod {last}"))
    };
    files.iter().any(|(p, text)| {
        (module.is_none_or(|m| in_module(m, p)) && defines(text))
            || (module.is_none() && p.file_stem().is_some_and(|s| s == last))
    })
}

#[test]
fn every_test_a_promise_names_exists() {
    let files: Vec<(PathBuf, String)> = rust_files()
        .into_iter()
        .filter_map(|p| Some((p.clone(), std::fs::read_to_string(&p).ok()?)))
        .collect();
    let mut missing = Vec::new();
    let mut checked = 0;
    for page in ["docs/security.md", "docs/reliability.md"] {
        let text = std::fs::read_to_string(root().join(page)).unwrap();
        let names = named_tests(&text);
        assert!(names.len() > 20, "{page}: its tables name {names:?}");
        for name in names {
            if CRATES.contains(&name.as_str()) {
                continue;
            }
            checked += 1;
            if !exists(&name, &files) {
                missing.push(format!("{page}: {name}"));
            }
        }
    }
    assert!(checked > 60, "only {checked} names checked");
    assert!(
        missing.is_empty(),
        "promises naming no test:\n{}",
        missing.join("\n")
    );
}

#[test]
fn a_name_that_is_not_a_test_is_found_out() {
    let files = vec![(
        PathBuf::from("crates/nemo-mcp/src/run/video.rs"),
        "fn follow(a: u8) {}\n#[test]\nfn a_lost_step() {}".to_string(),
    )];
    assert!(exists("nemo_mcp::run::video::tests::a_lost_step", &files));
    assert!(exists("video::tests", &files));
    assert!(!exists(
        "nemo_mcp::run::video::tests::a_renamed_step",
        &files
    ));
    assert!(!exists("nemo_mcp::run::other::tests::a_lost_step", &files));
    assert!(!exists("tests/no/such/file.mjs", &files));
}

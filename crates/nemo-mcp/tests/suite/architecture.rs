//! The house's rules, read from the source (issue #33):
//! - every room of `nemo-mcp` uses only the rooms its row of the README's table allows;
//! - `rmcp` is named only in `mcp` and `cli` (the engine answers in its own types);
//! - no file imports another that imports it back, in `nemo-mcp`, `nemo-client` and `nemo-sim`,
//!   inside a folder too (sibling `super::` paths count; a child's use of its own parent does not,
//!   as the parent declares the child).
//!
//! An edge is every `crate::…` and `super::…` path outside comments and test modules, also
//! inside `use` groups, resolved to the longest prefix that is a module file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// file module ("run/video") → the file modules it names, each with one line that names it.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn crate_src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
        .join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path: `run/video.rs` → `run/video`, `run/mod.rs` → `run`, `lib.rs` → ``.
fn module_of(rel: &Path) -> String {
    let s = rel.with_extension("").to_string_lossy().replace('\\', "/");
    let s = s.strip_suffix("/mod").unwrap_or(&s);
    match s {
        "lib" | "main" => String::new(),
        _ => s.to_string(),
    }
}

/// `…/tests.rs` declared by its parent as `#[cfg(test)] mod tests;`.
fn is_test_file(src: &Path, rel: &Path) -> bool {
    if rel.file_name().is_none_or(|n| n != "tests.rs") {
        return false;
    }
    let folder = src.join(rel.parent().unwrap_or(Path::new("")));
    let parent = ["mod.rs", "lib.rs", "main.rs"]
        .iter()
        .map(|f| folder.join(f))
        .find(|f| f.exists())
        .or_else(|| {
            let f = folder.with_extension("rs");
            f.exists().then_some(f)
        });
    parent
        .and_then(|p| std::fs::read_to_string(p).ok())
        .is_some_and(|t| t.contains("#[cfg(test)]\nmod tests;"))
}

/// The source without `//` comments, string literals' contents and the test module at its end.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|l| {
            let mut out = String::new();
            let mut in_str = false;
            let mut prev = ' ';
            for (i, c) in l.char_indices() {
                if !in_str && c == '/' && l[i..].starts_with("//") {
                    break;
                }
                if c == '"' && prev != '\\' {
                    in_str = !in_str;
                } else if !in_str {
                    out.push(c);
                }
                prev = c;
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The full paths of a use tree starting at `s` (after `crate::` or `super::`): `a::b::{c, d::e}`
/// gives `a::b::c` and `a::b::d::e`.
fn paths_of(s: &str) -> Vec<String> {
    fn tree(s: &[char], i: &mut usize, prefix: &str, out: &mut Vec<String>) {
        let mut path = prefix.to_string();
        loop {
            while *i < s.len() && s[*i].is_whitespace() {
                *i += 1;
            }
            if *i < s.len() && s[*i] == '{' {
                *i += 1;
                loop {
                    tree(s, i, &path, out);
                    while *i < s.len() && s[*i].is_whitespace() {
                        *i += 1;
                    }
                    match s.get(*i) {
                        Some(',') => *i += 1,
                        Some('}') => {
                            *i += 1;
                            return;
                        }
                        _ => return,
                    }
                    while *i < s.len() && s[*i].is_whitespace() {
                        *i += 1;
                    }
                    if s.get(*i) == Some(&'}') {
                        *i += 1;
                        return;
                    }
                }
            }
            let start = *i;
            while *i < s.len() && is_ident(s[*i]) {
                *i += 1;
            }
            if start == *i {
                out.push(path);
                return;
            }
            let id: String = s[start..*i].iter().collect();
            path = if path.is_empty() {
                id
            } else {
                format!("{path}::{id}")
            };
            if s.get(*i) == Some(&':') && s.get(*i + 1) == Some(&':') {
                *i += 2;
            } else {
                out.push(path);
                return;
            }
        }
    }
    let chars: Vec<char> = s.chars().take(4000).collect();
    let mut out = Vec::new();
    tree(&chars, &mut 0, "", &mut out);
    out
}

/// The module files a path names: the longest prefix of it that is a module.
fn resolve(modules: &BTreeSet<String>, path: &[&str]) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("/"))
        .find(|m| modules.contains(m))
}

fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(f.strip_prefix(src).expect("inside src")))
        .collect();
    let mut g = Graph::new();
    for file in &files {
        let rel = file.strip_prefix(src).expect("inside src");
        let me = module_of(rel);
        let text = std::fs::read_to_string(file).expect("a source file");
        // A test module in its own file (`#[cfg(test)] mod tests;`) is test code as a test
        // module at a file's end is: set up with whatever it needs.
        let code = if is_test_file(src, rel) {
            String::new()
        } else {
            code_of(&text)
        };
        let edges = g.entry(me.clone()).or_default();
        // A file's parent module: `super` from `run/video` is `run`; from `run` (mod.rs) it is ``.
        let parent: Vec<&str> = me.split('/').filter(|s| !s.is_empty()).collect();
        let parent = &parent[..parent.len().saturating_sub(1)];
        for (kw, base) in [("crate::", Vec::new()), ("super::", parent.to_vec())] {
            for (i, _) in code.match_indices(kw) {
                if i > 0 && code[..i].ends_with(|c: char| is_ident(c) || c == ':') {
                    continue;
                }
                for p in paths_of(&code[i + kw.len()..]) {
                    let mut full = base.clone();
                    full.extend(p.split("::").filter(|s| !s.is_empty()));
                    let Some(target) = resolve(&modules, &full) else {
                        continue;
                    };
                    // A child naming its own parent (or an ancestor): the parent declares it.
                    let ancestor = me.starts_with(&format!("{target}/")) || target.is_empty();
                    if target != me && !ancestor {
                        edges.entry(target).or_insert_with(|| format!("{kw}{p}"));
                    }
                }
            }
        }
    }
    g
}

/// Every edge that lies on a cycle, with the path that makes it.
fn cycles(g: &Graph) -> Vec<String> {
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(m) = stack.pop() {
            for next in g.get(&m).into_iter().flat_map(|e| e.keys()) {
                if next == to {
                    return true;
                }
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        false
    };
    let mut out = Vec::new();
    for (from, edges) in g {
        for (to, via) in edges {
            if reaches(to, from) {
                out.push(format!("{from} -> {to} (`{via}`)"));
            }
        }
    }
    out
}

fn room(module: &str) -> &str {
    module.split('/').next().unwrap_or(module)
}

/// The README's room table: room → the rooms it may use ("every room above" and "every room"
/// spelled out from the table's order).
fn room_table() -> Vec<(String, BTreeSet<String>)> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("the README");
    let table = readme
        .split("<!-- rooms: begin -->")
        .nth(1)
        .and_then(|t| t.split("<!-- rooms: end -->").next())
        .expect("the README has the room table between its markers");
    let mut rows: Vec<(String, BTreeSet<String>)> = Vec::new();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`').to_string();
        let uses = cells[3];
        let allowed: BTreeSet<String> = if uses == "every room above" {
            rows.iter().map(|(r, _)| r.clone()).collect()
        } else if uses == "every room" {
            BTreeSet::from(["*".to_string()])
        } else {
            uses.split(',')
                .map(|u| u.trim().trim_matches('`').to_string())
                .filter(|u| !u.is_empty() && u != "—")
                .collect()
        };
        rows.push((name, allowed));
    }
    rows
}

fn check_cycles(crate_dir: &str) {
    let g = graph(&crate_src(crate_dir));
    assert!(
        g.len() > 5,
        "the module graph of {crate_dir} was read: {g:?}"
    );
    let found = cycles(&g);
    assert!(
        found.is_empty(),
        "import cycles in {crate_dir}:\n{}",
        found.join("\n")
    );
}

#[test]
fn nemo_mcp_has_no_import_cycles_between_files() {
    check_cycles("nemo-mcp");
}

#[test]
fn nemo_client_has_no_import_cycles_between_files() {
    check_cycles("nemo-client");
}

#[test]
fn nemo_sim_has_no_import_cycles_between_files() {
    check_cycles("nemo-sim");
}

#[test]
fn every_room_uses_only_what_the_readme_table_allows() {
    let src = crate_src("nemo-mcp");
    let table = room_table();
    let allowed: BTreeMap<&str, &BTreeSet<String>> =
        table.iter().map(|(r, a)| (r.as_str(), a)).collect();
    let g = graph(&src);
    let mut rooms_on_disk: BTreeSet<&str> = g.keys().map(|m| room(m)).collect();
    rooms_on_disk.remove("");
    let listed: BTreeSet<&str> = allowed.keys().copied().collect();
    assert_eq!(
        rooms_on_disk, listed,
        "every folder and top file of src/ has a row in the README's room table"
    );
    let mut wrong = Vec::new();
    for (from, edges) in &g {
        let a = room(from);
        if a.is_empty() {
            continue;
        }
        for (to, via) in edges {
            let b = room(to);
            let ok = b == a || b.is_empty() || allowed[a].contains(b) || allowed[a].contains("*");
            if !ok {
                wrong.push(format!(
                    "{from} uses {to} (`{via}`): `{a}` may not use `{b}`"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn rmcp_is_named_only_in_mcp_and_cli() {
    let src = crate_src("nemo-mcp");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("inside src");
        let m = module_of(rel);
        if matches!(room(&m), "mcp" | "cli") {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(f).expect("a source file"));
        if code.contains("rmcp::") || code.contains("rmcp;") {
            wrong.push(rel.display().to_string());
        }
    }
    assert!(
        wrong.is_empty(),
        "rmcp named outside mcp/ and cli/: {wrong:?}"
    );
}

/// The checks find what they are for: a cycle inside a folder through sibling `super::` paths
/// and a grouped `use`, a cycle between rooms, and a room reaching above its row; and they
/// ignore comments, strings, test modules and a child's use of its parent.
#[test]
fn the_checks_find_a_planted_cycle() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let src = dir.path();
    let write = |p: &str, text: &str| {
        let path = src.join(p);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a folder");
        std::fs::write(path, text).expect("a file");
    };
    write("lib.rs", "mod run; mod jobs; mod a;");
    write(
        "run/mod.rs",
        "mod video; mod variants; use crate::jobs::Job;",
    );
    write("run/video.rs", "fn f() { super::variants::run() }");
    write(
        "run/variants.rs",
        "use super::{video::{self, run as go}, *};\n// super::nothing in a comment\nlet s = \"crate::a::X\";",
    );
    write("jobs/mod.rs", "mod job; pub use job::Job;");
    write(
        "jobs/job.rs",
        "use super::*; use crate::a::X;\n#[cfg(test)]\nmod tests { use crate::run; }",
    );
    write("a.rs", "");
    let g = graph(src);
    let found = cycles(&g);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("run/variants -> run/video"),
        "{found:?}"
    );
    assert!(
        found[1].starts_with("run/video -> run/variants"),
        "{found:?}"
    );
    assert!(
        !g["jobs/job"].contains_key("jobs"),
        "a child's use of its parent is no edge"
    );
    assert!(
        !g["jobs/job"].contains_key("run"),
        "a test module is no edge"
    );
    assert!(g["jobs/job"].contains_key("a"));
    assert!(!g["run/variants"].contains_key("a"), "a string is no edge");
    assert!(
        g["run"].contains_key("jobs"),
        "a re-exported item resolves to the module naming it"
    );
    // Between rooms: jobs → run would close a cycle with run → jobs.
    write("jobs/job.rs", "use crate::run::video::f;");
    write("run/video.rs", "use crate::jobs::job::Job;");
    write("run/variants.rs", "");
    let found = cycles(&graph(src));
    assert!(
        found.iter().any(|c| c.starts_with("jobs/job -> run/video")),
        "{found:?}"
    );
}

#[test]
fn use_trees_are_read_to_full_paths() {
    assert_eq!(
        paths_of("a::b::{c, d::{e, f}, self}, g;"),
        ["a::b::c", "a::b::d::e", "a::b::d::f", "a::b::self"]
    );
    assert_eq!(paths_of("x::Y::new()"), ["x::Y::new"]);
}

//! Every link in the README and the docs leads somewhere: a relative link names a file or
//! folder of the repository, and a `#fragment` names a heading (or an `<a id>`) of its page.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The pages checked: the README, every page of docs/, packaging's and the skill.
fn pages() -> Vec<PathBuf> {
    let r = root();
    let mut v = vec![
        r.join("README.md"),
        r.join("packaging/README.md"),
        r.join("skills/nemovideo/SKILL.md"),
    ];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(r.join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    v.extend(docs);
    v
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// A page's lines outside code fences.
fn prose(text: &str) -> impl Iterator<Item = &str> {
    let mut in_code = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            return false;
        }
        !in_code
    })
}

/// The anchors of a page: its headings' slugs and its explicit ids.
fn anchors(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text) {
        if let Some(h) = line.strip_prefix('#') {
            let h = h.trim_start_matches('#');
            out.push(slug(&h.replace('`', "")));
        }
        let mut rest = line;
        while let Some(i) = rest.find("id=\"") {
            let after = &rest[i + 4..];
            if let Some(end) = after.find('"') {
                out.push(after[..end].to_string());
            }
            rest = after;
        }
    }
    out
}

/// The markdown links of a page outside code: their targets.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text) {
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            match after.find(')') {
                Some(end) => {
                    out.push(after[..end].to_string());
                    rest = &after[end..];
                }
                None => break,
            }
        }
    }
    out
}

#[test]
fn every_link_of_the_readme_and_the_docs_leads_somewhere() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let dir = page.parent().unwrap();
        for target in links(&text) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            checked += 1;
            let (path, fragment) = match target.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                page.clone()
            } else {
                dir.join(path)
            };
            if !file.exists() {
                broken.push(format!("{}: {target} (no such file)", page.display()));
                continue;
            }
            if let Some(f) = fragment {
                if file.extension().is_some_and(|x| x == "md") {
                    let there = std::fs::read_to_string(&file).unwrap();
                    if !anchors(&there).iter().any(|a| a == f) {
                        broken.push(format!("{}: {target} (no such heading)", page.display()));
                    }
                }
            }
        }
    }
    assert!(checked > 20, "{checked} links checked");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_stays_short() {
    let lines = std::fs::read_to_string(root().join("README.md"))
        .unwrap()
        .lines()
        .count();
    assert!(
        lines <= 300,
        "the README is {lines} lines (at most 300: the rest goes to docs/)"
    );
}

#[test]
fn the_check_finds_a_broken_link_and_a_broken_anchor() {
    assert_eq!(slug("Company networks"), "company-networks");
    assert_eq!(slug("`--http` for the clients"), "--http-for-the-clients");
    let a = anchors(
        "# Hosts\n## What each host does\n<a id=\"proxies\"></a>\n```\n# not a heading\n```",
    );
    assert!(a.contains(&"what-each-host-does".to_string()) && a.contains(&"proxies".to_string()));
    assert!(!a.contains(&"not-a-heading".to_string()));
    assert_eq!(
        links("see [x](docs/a.md#b) and [y](https://e.x)"),
        ["docs/a.md#b", "https://e.x"]
    );
}

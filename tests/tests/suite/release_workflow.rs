//! The release no one can tamper with (issue 44), checked on the workflow file itself: every
//! action pinned by commit, read-only permissions by default, tools installed only from a
//! lockfile with their install scripts off, building apart from publishing, provenance on npm
//! and attestations over every artifact and `SHA256SUMS`. Each rule is also run on a workflow
//! that breaks it, so the check is known to fail.

use std::path::Path;

fn workflows() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            n.ends_with(".yml") || n.ends_with(".yaml")
        })
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The text of a line without its YAML comment.
fn code(line: &str) -> &str {
    match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    }
}

/// The jobs of a workflow: (name, its lines).
fn jobs(text: &str) -> Vec<(String, Vec<&str>)> {
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    let mut in_jobs = false;
    for line in text.lines() {
        if line.starts_with("jobs:") {
            in_jobs = true;
            continue;
        }
        if !in_jobs {
            continue;
        }
        if let Some(name) = line
            .strip_prefix("  ")
            .filter(|l| !l.starts_with(' ') && l.ends_with(':') && !l.starts_with('#'))
        {
            out.push((name.trim_end_matches(':').to_string(), Vec::new()));
        } else if let Some((_, lines)) = out.last_mut() {
            lines.push(line);
        }
    }
    out
}

/// Every rule broken by `text`, as sentences.
fn broken(text: &str) -> Vec<String> {
    let mut why = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let c = code(line).trim();
        if let Some(u) = c
            .strip_prefix("- uses:")
            .or_else(|| c.strip_prefix("uses:"))
        {
            let u = u.trim();
            let pinned = u.starts_with("./")
                || u.split_once('@').is_some_and(|(_, r)| {
                    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
                });
            if !pinned {
                why.push(format!("line {}: `{u}` is not pinned by a commit", n + 1));
            }
        }
        let installs_unlocked = c.contains("npm install")
            || c.contains("npm i ")
            || c.contains("npx ")
            || c.contains("yarn add")
            || (c.contains("pip install") && !c.contains("--require-hashes"))
            || (c.contains("cargo install") && !c.contains("--locked"))
            || (c.contains("npm ci") && !c.contains("--ignore-scripts"));
        if installs_unlocked {
            why.push(format!(
                "line {}: a tool installed without a lockfile (or with its scripts on): `{c}`",
                n + 1
            ));
        }
        if c.contains("npm publish") && !c.contains("--provenance") {
            why.push(format!("line {}: npm publish without --provenance", n + 1));
        }
    }
    let top_read_only = text.lines().any(|l| {
        let l = code(l);
        l == "permissions: read-all" || l == "permissions: {}" || l == "permissions:"
    });
    if !top_read_only {
        why.push("no top-level `permissions:` (read-only by default)".into());
    }
    let publishes = |l: &&str| {
        let c = code(l);
        c.contains("npm publish")
            || c.contains("gh-action-pypi-publish")
            || c.contains("action-gh-release")
    };
    let builds = |l: &&str| {
        let c = code(l);
        c.contains("cargo ") || c.contains("build.sh") || c.contains("npm ci")
    };
    for (name, lines) in jobs(text) {
        if lines.iter().any(publishes) {
            if lines.iter().any(builds) {
                why.push(format!("job `{name}` both builds and publishes"));
            }
            let writes = lines.iter().any(|l| code(l).trim() == "contents: write");
            if !writes {
                why.push(format!(
                    "job `{name}` publishes without its own `permissions:`"
                ));
            }
        } else if lines.iter().any(|l| code(l).trim() == "contents: write") {
            why.push(format!(
                "job `{name}` may write the repository but publishes nothing"
            ));
        }
    }
    let release = text.contains("tags:");
    if release {
        let attested = text
            .lines()
            .any(|l| code(l).contains("attest-build-provenance"))
            && text
                .lines()
                .any(|l| code(l).contains("subject-path: target/dist/*"));
        if !attested {
            why.push("the release's artifacts and SHA256SUMS are not attested".into());
        }
    }
    why
}

#[test]
fn the_release_workflow_is_pinned_locked_split_and_attested() {
    let all = workflows();
    assert!(!all.is_empty());
    for (name, text) in &all {
        let why = broken(text);
        assert!(why.is_empty(), "{name}:\n{}", why.join("\n"));
    }
}

#[test]
fn the_check_fails_on_a_workflow_that_breaks_each_rule() {
    let (_, good) = workflows()
        .into_iter()
        .find(|(n, _)| n == "ci.yml")
        .unwrap();
    assert!(broken(&good).is_empty());
    let cases = [
        (
            "actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0",
            "actions/checkout@v4",
            "not pinned",
        ),
        (
            "npm ci --prefix packaging/tools --ignore-scripts --no-audit --no-fund",
            "npm install --no-save @anthropic-ai/mcpb",
            "without a lockfile",
        ),
        (
            "npm publish --provenance --access public \"$t\"",
            "npm publish --access public \"$t\"",
            "--provenance",
        ),
        ("permissions: read-all\n", "\n", "top-level"),
        (
            "          subject-path: target/dist/*",
            "          subject-path: target/dist/nemo-mcp.tgz",
            "not attested",
        ),
    ];
    for (from, to, said) in cases {
        assert!(good.contains(from), "{from}");
        let bad = good.replacen(from, to, 1);
        let why = broken(&bad).join("\n");
        assert!(
            why.contains(said),
            "changing `{from}` should break `{said}`: {why}"
        );
    }
    // Publishing from the job that builds.
    let bad = good.replacen(
        "      - name: wheels for PyPI",
        "      - run: bash packaging/build.sh\n      - name: wheels for PyPI",
        1,
    );
    assert!(broken(&bad)
        .join("\n")
        .contains("both builds and publishes"));
}

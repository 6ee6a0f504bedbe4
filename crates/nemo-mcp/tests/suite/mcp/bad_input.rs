//! The bad-input suite: every case gets a clear error and no request leaves the machine
//! (asserted on the simulator's log, which must stay empty). `--nocapture` prints the table.

use crate::common;

use common::*;
use serde_json::Value;

/// The bad inputs (`tests/data/bad_inputs.jsonl`: label, tool, arguments), with their
/// placeholders filled in: `$MEDIA/` and `$OUTSIDE/` for the allowed and an outside folder,
/// `$REPEAT:c:n` for `n` times the character `c`, `$LIST:n:item` for a list of `n` items.
fn corpus(media: &std::path::Path, outside: &std::path::Path) -> Vec<(String, String, Value)> {
    fn fill(v: Value, media: &str, outside: &str) -> Value {
        match v {
            Value::String(s) => {
                if let Some(rest) = s.strip_prefix("$LIST:") {
                    let (n, item) = rest.split_once(':').expect("$LIST:n:item");
                    let item = fill(Value::String(item.into()), media, outside);
                    return Value::Array(vec![item; n.parse().expect("a count")]);
                }
                if let Some(rest) = s.strip_prefix("$REPEAT:") {
                    let (c, n) = rest.split_once(':').expect("$REPEAT:c:n");
                    return Value::String(c.repeat(n.parse().expect("a count")));
                }
                Value::String(s.replace("$MEDIA", media).replace("$OUTSIDE", outside))
            }
            Value::Array(a) => {
                Value::Array(a.into_iter().map(|x| fill(x, media, outside)).collect())
            }
            Value::Object(o) => Value::Object(
                o.into_iter()
                    .map(|(k, x)| (k, fill(x, media, outside)))
                    .collect(),
            ),
            other => other,
        }
    }
    let (media, outside) = (media.display().to_string(), outside.display().to_string());
    include_str!("../../data/bad_inputs.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let c: Value = serde_json::from_str(line).expect("a JSON line");
            let text = |k: &str| c[k].as_str().expect("label and tool").to_string();
            (
                text("label"),
                text("tool"),
                fill(c["args"].clone(), &media, &outside),
            )
        })
        .collect()
}

#[tokio::test]
async fn bad_inputs_get_clear_errors_and_send_nothing() {
    let h = Harness::start().await;
    let media = h.dir.path().join("media");
    std::fs::write(media.join("empty.png"), b"").unwrap();
    std::fs::write(media.join("text.png"), b"hello, I am text").unwrap();
    std::fs::write(media.join("tool.exe"), b"MZ\x90\0").unwrap();
    std::fs::write(media.join("noext"), png(4, 4)).unwrap();
    std::fs::create_dir_all(media.join("folder.png")).unwrap();
    std::fs::create_dir_all(media.join(".ssh")).unwrap();
    std::fs::write(media.join(".ssh").join("id_rsa.png"), png(4, 4)).unwrap();
    std::fs::write(
        media.join(".ssh").join("id_rsa"),
        b"-----BEGIN OPENSSH PRIVATE KEY-----",
    )
    .unwrap();
    let big = std::fs::File::create(media.join("huge.mp4")).unwrap();
    big.set_len(600 * 1024 * 1024).unwrap(); // sparse: costs no disk
    let outside_dir = tempfile::tempdir().unwrap();
    std::fs::write(outside_dir.path().join("secret.png"), png(4, 4)).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        outside_dir.path().join("secret.png"),
        media.join("escape.png"),
    )
    .unwrap();
    let cases = corpus(&media, outside_dir.path());
    assert!(cases.len() >= 30);
    println!("| input | answer |\n|---|---|");
    for (label, tool, args) in &cases {
        let r = h
            .client
            .call_tool(Harness::params(tool.clone(), args.clone()))
            .await
            .unwrap_or_else(|e| panic!("{label}: answered as a protocol error: {e}"));
        assert_eq!(r.is_error, Some(true), "{label}: {}", text_of(&r));
        let text = text_of(&r);
        let b = body(&r);
        let summary = match b["code"].as_str() {
            Some(code) => format!("`{code}`: {}", b["message"].as_str().unwrap_or_default()),
            None => text.clone(),
        };
        assert!(summary.len() > 10, "{label}: unclear error {summary:?}");
        assert!(
            !summary.contains("panicked") && !summary.contains("RUST_BACKTRACE"),
            "{label}: {summary}"
        );
        let short: String = summary
            .replace('|', "\\|")
            .replace('\n', " ")
            .chars()
            .take(160)
            .collect();
        println!("| {label} | {short} |");
    }
    let log = h.sim.log();
    assert!(
        log.is_empty(),
        "requests left the machine: {:?}",
        log.iter().map(|e| &e.path).collect::<Vec<_>>()
    );
}

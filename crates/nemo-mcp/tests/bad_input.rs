//! The bad-input suite: every case gets a clear error and no request leaves the machine
//! (asserted on the simulator's log, which must stay empty). `--nocapture` prints the table.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn bad_inputs_get_clear_errors_and_send_nothing() {
    let h = Harness::start().await;
    let media = h.dir.path().join("media");
    let p = |name: &str| media.join(name).display().to_string();
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
    let huge_text = "a".repeat(1024 * 1024);

    let cases: Vec<(&str, &'static str, Value)> = vec![
        ("generate: no arguments", "generate", json!({})),
        (
            "generate: instruction is a number",
            "generate",
            json!({"instruction": 42}),
        ),
        (
            "generate: instruction is null",
            "generate",
            json!({"instruction": null}),
        ),
        (
            "generate: instruction is a list",
            "generate",
            json!({"instruction": ["a"]}),
        ),
        (
            "generate: empty instruction",
            "generate",
            json!({"instruction": ""}),
        ),
        (
            "generate: whitespace instruction",
            "generate",
            json!({"instruction": " \n\t "}),
        ),
        (
            "generate: 1 MB instruction",
            "generate",
            json!({"instruction": huge_text}),
        ),
        (
            "generate: wait_s is text",
            "generate",
            json!({"instruction": "hi", "wait_s": "soon"}),
        ),
        ("get_job: no job_id", "get_job", json!({})),
        (
            "get_job: unknown id",
            "get_job",
            json!({"job_id": "gen_000000000000"}),
        ),
        (
            "get_job: path-like id",
            "get_job",
            json!({"job_id": "../../etc/passwd"}),
        ),
        (
            "get_job: 10 000-character id",
            "get_job",
            json!({"job_id": "x".repeat(10_000)}),
        ),
        (
            "cancel_job: unknown id",
            "cancel_job",
            json!({"job_id": "exp_000000000000"}),
        ),
        ("upload_media: no arguments", "upload_media", json!({})),
        (
            "upload_media: empty lists",
            "upload_media",
            json!({"paths": [], "urls": []}),
        ),
        (
            "upload_media: paths is a string",
            "upload_media",
            json!({"paths": "/tmp/a.png"}),
        ),
        (
            "upload_media: 51 inputs",
            "upload_media",
            json!({"paths": vec![p("a.png"); 51]}),
        ),
        (
            "upload: nonexistent path",
            "upload_media",
            json!({"paths": [p("nope.png")]}),
        ),
        (
            "upload: a directory",
            "upload_media",
            json!({"paths": [p("folder.png")]}),
        ),
        (
            "upload: empty file",
            "upload_media",
            json!({"paths": [p("empty.png")]}),
        ),
        (
            "upload: text named .png (wrong magic bytes)",
            "upload_media",
            json!({"paths": [p("text.png")]}),
        ),
        (
            "upload: unsupported extension (.exe)",
            "upload_media",
            json!({"paths": [p("tool.exe")]}),
        ),
        (
            "upload: no extension",
            "upload_media",
            json!({"paths": [p("noext")]}),
        ),
        (
            "upload: 600 MB file (over the 500 MB limit)",
            "upload_media",
            json!({"paths": [p("huge.mp4")]}),
        ),
        (
            "upload: symlink escaping the allowed folders",
            "upload_media",
            json!({"paths": [p("escape.png")]}),
        ),
        (
            "upload: `..` traversal",
            "upload_media",
            json!({"paths": [format!("{}/../media/a.png", media.display())]}),
        ),
        (
            "upload: file outside the allowed folders",
            "upload_media",
            json!({"paths": [outside_dir.path().join("secret.png").display().to_string()]}),
        ),
        (
            "upload: ~/.ssh/id_rsa-like key",
            "upload_media",
            json!({"paths": [p(".ssh/id_rsa")]}),
        ),
        (
            "upload: a real PNG inside .ssh",
            "upload_media",
            json!({"paths": [p(".ssh/id_rsa.png")]}),
        ),
        (
            "upload: relative path",
            "upload_media",
            json!({"paths": ["photos/a.png"]}),
        ),
        (
            "upload: path with a NUL byte",
            "upload_media",
            json!({"paths": ["/tmp/a\u{0}.png"]}),
        ),
        (
            "upload: file: URL",
            "upload_media",
            json!({"urls": ["file:///etc/passwd"]}),
        ),
        (
            "upload: data: URL",
            "upload_media",
            json!({"urls": ["data:image/png;base64,iVBORw0KGgo="]}),
        ),
        (
            "upload: javascript: URL",
            "upload_media",
            json!({"urls": ["javascript:alert(1)"]}),
        ),
        (
            "upload: URL without a host",
            "upload_media",
            json!({"urls": ["https:///a.png"]}),
        ),
        (
            "upload: URL with a password",
            "upload_media",
            json!({"urls": ["https://user:pw@example.com/a.png"]}),
        ),
        (
            "upload: file: path given as a path",
            "upload_media",
            json!({"paths": ["file:///etc/passwd"]}),
        ),
        (
            "export_video: resolution (no such option)",
            "export_video",
            json!({"resolution": "8k"}),
        ),
        (
            "export_video: 1000-character filename",
            "export_video",
            json!({"filename": "n".repeat(1000)}),
        ),
        (
            "connect: new_project is text",
            "connect",
            json!({"new_project": "yes please"}),
        ),
    ];
    assert!(cases.len() >= 30);
    println!("| input | answer |\n|---|---|");
    for (label, tool, args) in &cases {
        let r = h
            .client
            .call_tool(Harness::params(tool, args.clone()))
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

//! `nemo-mcp doctor` against nemo-sim: passes when all is well; names each problem and its fix
//! and exits non-zero otherwise.

use nemo_sim::{Sim, SimConfig};

async fn doctor(home: &std::path::Path, env: &[(&str, String)]) -> (bool, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nemo-mcp"));
    cmd.arg("doctor")
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("NEMO_TOKEN")
        .env_remove("NEMO_STATE_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_passes_and_names_each_problem_with_its_fix() {
    let sim = Sim::start(SimConfig::fast()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("out");
    let base = vec![
        ("NEMO_API_URL", sim.base_url().to_string()),
        ("NEMO_WEB_URL", sim.web_url().to_string()),
        ("NEMO_OUTPUT_DIR", out.display().to_string()),
        ("NEMO_ALLOWED_DIRS", home.path().display().to_string()),
    ];
    let (ok, text) = doctor(home.path(), &base).await;
    assert!(ok, "{text}");
    assert!(text.contains("all checks passed"), "{text}");
    for check in [
        "proxy: none",
        "trusted certificates",
        "download path",
        "API reachable",
        "token",
        "credits",
        "session",
        "output folder",
        "allowed folders",
    ] {
        assert!(
            text.contains(&format!("ok    {check}")),
            "{check} in {text}"
        );
    }

    let mut unreachable = base.clone();
    unreachable[0].1 = "http://127.0.0.1:9".into();
    let (ok, text) = doctor(home.path(), &unreachable).await;
    assert!(!ok);
    assert!(
        text.contains("FAIL  API reachable")
            && text.contains("fix: check your network, or NEMO_API_URL"),
        "{text}"
    );

    // A proxy that cannot be reached is named as the cause, its password masked.
    let mut proxied = base.clone();
    proxied.push(("HTTP_PROXY", "http://corp:s3cret@127.0.0.1:9".into()));
    let (ok, text) = doctor(home.path(), &proxied).await;
    assert!(!ok);
    assert!(
        text.contains("ok    proxy: https → direct, http → http://corp:***@127.0.0.1:9"),
        "{text}"
    );
    assert!(
        text.contains("FAIL  download path") && text.contains("could not be reached"),
        "{text}"
    );
    assert!(text.contains("fix: nothing reached NemoVideo"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");

    let blocker = home.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let mut unwritable = base.clone();
    unwritable[2].1 = blocker.join("videos").display().to_string();
    let (ok, text) = doctor(home.path(), &unwritable).await;
    assert!(!ok);
    assert!(
        text.contains("FAIL  output folder") && text.contains("fix: set NEMO_OUTPUT_DIR"),
        "{text}"
    );

    let mut bad_token = base.clone();
    bad_token.push(("NEMO_TOKEN", "nmv_usr_definitely_wrong".into()));
    let (ok, text) = doctor(home.path(), &bad_token).await;
    assert!(!ok);
    assert!(
        text.contains("FAIL  token") && text.contains("fix: set a valid NEMO_TOKEN"),
        "{text}"
    );
    assert!(
        !text.contains("definitely_wrong"),
        "the token is never printed"
    );
}

/// A wrong setting stops the server before it starts, named on stderr with what is allowed
/// (exit 2), and stdout, the MCP channel, stays empty.
#[tokio::test]
async fn a_bad_setting_is_named_and_the_server_does_not_start() {
    let home = tempfile::tempdir().unwrap();
    let cases = [
        (
            "NEMO_PROFILE",
            "bogus",
            "unknown NEMO_PROFILE \"bogus\"; one of: ",
        ),
        (
            "NEMO_API_URL",
            "ftp://api.example",
            "not an http(s) URL: ftp://api.example",
        ),
        (
            "NEMO_WEB_URL",
            "file:///etc",
            "not an http(s) URL: file:///etc",
        ),
    ];
    for (key, value, said) in cases {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_nemo-mcp"))
            .env("HOME", home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("NEMO_STATE_DIR")
            .env_remove("NEMO_PROFILE")
            .env(key, value)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key}: {stderr}");
        assert!(stderr.contains(said), "{key}: {stderr}");
        assert!(out.stdout.is_empty(), "{key}: stdout {:?}", out.stdout);
    }
}

//! Company networks, as a user behind them meets them: the built `nemo-mcp` binary, driven by
//! a real MCP client, makes the whole quick edit (`make_video`: upload, generate, export,
//! download) through a real proxy (Debian's tinyproxy, named `localhost`) and through a local
//! HTTPS front whose test CA is trusted only through `SSL_CERT_FILE`. Without that CA, or with a
//! proxy that refuses or wants a password, the answer names the cause, and nemo-sim's log shows
//! that nothing was sent.

use e2e::proxy::{ProxyOptions, Tinyproxy};
use e2e::tls::TestCa;
use e2e::{binary, call, follow};
use nemo_sim::{Sim, SimConfig, SimHandle};
use rmcp::service::RunningService;
use rmcp::RoleClient;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;

const PROMO: &str =
    "combine these images into a 30-second promo video with music and text overlays";

/// The variables a company machine may carry; each test sets only its own.
const NETWORK_VARS: [&str; 10] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

struct World {
    sim: SimHandle,
    home: tempfile::TempDir,
    api_url: String,
}

impl World {
    /// nemo-sim reached directly.
    async fn plain() -> World {
        let sim = Sim::start(SimConfig::fast()).await.unwrap();
        let api_url = sim.base_url().to_string();
        World::around(sim, api_url)
    }

    /// nemo-sim behind an HTTPS front at `https://localhost:PORT` with the test CA.
    async fn behind_tls(ca: &TestCa) -> World {
        let front = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api_url = format!("https://localhost:{}", front.local_addr().unwrap().port());
        let sim = Sim::start(SimConfig::fast().with_public_url(&api_url))
            .await
            .unwrap();
        ca.front(front, sim.addr());
        World::around(sim, api_url)
    }

    /// The same, with the test CA written to a file and named by `SSL_CERT_FILE`.
    async fn behind_trusted_tls() -> (World, (&'static str, String)) {
        let ca = TestCa::new();
        let w = World::behind_tls(&ca).await;
        let file = w.path("gateway-ca.pem");
        ca.write_ca(&file);
        (w, ("SSL_CERT_FILE", file.display().to_string()))
    }

    fn around(sim: SimHandle, api_url: String) -> World {
        let home = e2e::server_home();
        World { sim, home, api_url }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.home.path().join(p)
    }

    fn media(&self, name: &str) -> String {
        let p = self.path("media").join(name);
        std::fs::write(&p, nemo_sim::sample::png(64, 48, [200, 90, 30], 3)).unwrap();
        p.display().to_string()
    }

    /// Start the server with these network variables (and no others).
    async fn server(&self, net: &[(&str, String)]) -> e2e::Server {
        let mut cmd = tokio::process::Command::new(binary());
        cmd.env("HOME", self.home.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("NEMO_TOKEN")
            .env_remove("NEMO_STATE_DIR")
            .env("NEMO_API_URL", &self.api_url)
            .env("NEMO_WEB_URL", &self.api_url)
            .env("NEMO_OUTPUT_DIR", self.path("out"))
            .env("NEMO_ALLOWED_DIRS", self.path("media"))
            .env("NEMO_RENDER_POLL_MS", "50")
            .env("NEMO_RECOVERY_WAIT_MS", "400")
            .env("NEMO_LOG", "debug");
        for v in NETWORK_VARS {
            cmd.env_remove(v);
        }
        for (k, v) in net {
            cmd.env(k, v);
        }
        let log = std::fs::File::create(self.path("stderr.log")).unwrap();
        e2e::serve(cmd, Stdio::from(log)).await
    }

    /// The whole quick edit in one call, followed to its end: the saved MP4's path.
    async fn quick_edit(&self, c: &RunningService<RoleClient, ()>) -> String {
        let paths = [self.media("product-1.png"), self.media("logo.png")];
        let (r, err) = call(
            c,
            "make_video",
            json!({"instruction": PROMO, "paths": paths}),
        )
        .await;
        assert!(!err, "{r}");
        let (done, _) = follow(c, r).await;
        assert_eq!(done["status"], "succeeded", "{done}\n{}", self.stderr());
        let path = done["result"]["path"].as_str().unwrap().to_string();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[4..8], b"ftyp", "an MP4 was saved");
        path
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.path("stderr.log")).unwrap_or_default()
    }

    fn messages_sent(&self) -> usize {
        self.sim.control().attempted_messages().len()
    }
}

/// A paid call that fails on the network: its error body, after checking nothing was sent.
async fn refused_generate(w: &World, c: &RunningService<RoleClient, ()>) -> Value {
    let (r, err) = call(c, "generate", json!({"instruction": PROMO})).await;
    let r = if err { r } else { follow(c, r).await.0 };
    let error = if err { r.clone() } else { r["error"].clone() };
    assert_eq!(w.messages_sent(), 0, "no message may be sent: {r}");
    error
}

#[tokio::test]
#[ignore = "needs tinyproxy on PATH (.ci/run installs it and runs --include-ignored)"]
async fn the_quick_edit_goes_through_a_real_proxy_named_by_host_name() {
    let proxy = Tinyproxy::start(ProxyOptions::default());
    let w = World::plain().await;
    let c = w
        .server(&[("HTTP_PROXY", proxy.url()), ("HTTPS_PROXY", proxy.url())])
        .await;
    w.quick_edit(&c).await;
    assert_eq!(w.messages_sent(), 1);
    let carried = proxy.requests();
    let sim = w.sim.base_url();
    for what in ["/api/upload", "/run_sse", "/api/render", ".mp4"] {
        assert!(
            carried.iter().any(|r| r.contains(sim) && r.contains(what)),
            "the proxy carried no {what} request: {carried:#?}"
        );
    }
    // Every request the simulator saw came through the proxy.
    assert!(carried.len() >= w.sim.log().len(), "{carried:#?}");
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn the_quick_edit_goes_through_an_https_front_trusted_by_ssl_cert_file() {
    let (w, trust) = World::behind_trusted_tls().await;
    let c = w.server(&[trust]).await;
    w.quick_edit(&c).await;
    assert_eq!(w.messages_sent(), 1);
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn without_the_gateways_ca_the_answer_is_the_certificate_error_and_nothing_is_sent() {
    let ca = TestCa::new();
    let w = World::behind_tls(&ca).await;
    let c = w.server(&[]).await;
    let error = refused_generate(&w, &c).await;
    assert_eq!(error["code"], "certificate_untrusted", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("localhost"), "{message}");
    assert!(!message.contains("unreachable"), "{message}");
    assert!(error["next_step"]
        .as_str()
        .unwrap()
        .contains("SSL_CERT_FILE"));
    assert!(w.sim.log().is_empty(), "{:?}", w.sim.log());
    c.cancel().await.unwrap();
}

#[tokio::test]
#[ignore = "needs tinyproxy on PATH (.ci/run installs it and runs --include-ignored)"]
async fn a_proxy_that_wants_a_password_is_named_and_a_password_in_its_url_gets_through() {
    let proxy = Tinyproxy::start(ProxyOptions {
        basic_auth: Some(("corp".into(), "s3cret".into())),
        ..Default::default()
    });
    let (w, trust) = World::behind_trusted_tls().await;
    let c = w
        .server(&[("HTTPS_PROXY", proxy.url()), trust.clone()])
        .await;
    let error = refused_generate(&w, &c).await;
    assert_eq!(error["code"], "proxy_auth_required", "{error}");
    assert!(error["message"].as_str().unwrap().contains("localhost"));
    assert!(w.sim.log().is_empty());
    c.cancel().await.unwrap();

    let c = w
        .server(&[("HTTPS_PROXY", proxy.url_with("corp", "s3cret")), trust])
        .await;
    w.quick_edit(&c).await;
    assert!(
        proxy.requests().iter().any(|r| r.starts_with("CONNECT")),
        "{:?}",
        proxy.requests()
    );
    assert!(
        !w.stderr().contains("s3cret"),
        "the proxy password was logged"
    );
    c.cancel().await.unwrap();
}

#[tokio::test]
#[ignore = "needs tinyproxy on PATH (.ci/run installs it and runs --include-ignored)"]
async fn a_proxy_that_refuses_the_connection_is_named_as_the_cause() {
    // tinyproxy's own rule: CONNECT only to port 443, so the front's port is refused.
    let proxy = Tinyproxy::start(ProxyOptions {
        connect_ports: vec![443],
        ..Default::default()
    });
    let (w, trust) = World::behind_trusted_tls().await;
    let c = w.server(&[("HTTPS_PROXY", proxy.url()), trust]).await;
    let error = refused_generate(&w, &c).await;
    assert_eq!(error["code"], "proxy_failed", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("refused"),
        "{error}"
    );
    assert!(w.sim.log().is_empty());
    c.cancel().await.unwrap();
}

//! `nemo-mcp doctor`: one line per check, a fix for each failure, and an exit code.

use crate::config::Settings;
use nemo_client::{Client, TokenSource};
use std::io::Write;
use std::process::ExitCode;

struct Report {
    failures: usize,
    out: Vec<String>,
}

impl Report {
    fn ok(&mut self, what: &str, detail: impl std::fmt::Display) {
        self.out.push(format!("ok    {what}: {detail}"));
    }
    fn fail(&mut self, what: &str, detail: impl std::fmt::Display, fix: impl std::fmt::Display) {
        self.failures += 1;
        self.out
            .push(format!("FAIL  {what}: {detail}\n      fix: {fix}"));
    }
    fn warn(&mut self, what: &str, detail: impl std::fmt::Display) {
        self.out.push(format!("warn  {what}: {detail}"));
    }
}

/// Run every check; the report goes to stdout (this is a command, not the MCP server).
pub async fn run(settings: Settings) -> ExitCode {
    let report = check(&settings).await;
    let mut stdout = std::io::stdout().lock();
    for line in &report.out {
        let _ = writeln!(stdout, "{line}");
    }
    let verdict = if report.failures == 0 {
        "all checks passed".to_string()
    } else {
        format!("{} check(s) failed", report.failures)
    };
    let _ = writeln!(stdout, "{verdict}");
    if report.failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn check(settings: &Settings) -> Report {
    let mut r = Report {
        failures: 0,
        out: Vec::new(),
    };
    let c = &settings.client;
    r.ok(
        "configuration",
        format!(
            "API {}, web {}, profile {}, state in {}",
            c.api_url,
            c.web_url,
            c.profile.source(),
            c.state_dir.display()
        ),
    );
    // The state every server process of the user shares: the token among it.
    let state = match crate::state::StateDb::open(&c.state_dir) {
        Ok(db) => {
            crate::moving_in::old_files(&db);
            std::sync::Arc::new(db)
        }
        Err(e) => {
            r.fail(
                "state",
                e,
                "make the state folder writable, or set NEMO_STATE_DIR",
            );
            return r;
        }
    };
    r.ok(
        "state",
        format!(
            "shared by every nemo-mcp of this user: {}",
            state.dir().join(crate::state::DB_FILE).display()
        ),
    );
    let client = match Client::new(c.clone()) {
        Ok(client) => client.with_credential_store(std::sync::Arc::new(
            crate::state::credentials::Shared::new(state.clone()),
        )),
        Err(e) => {
            r.fail("client", e, "check the configuration values above");
            return r;
        }
    };
    check_network(&client, &mut r).await;
    check_reach(&client, c, &mut r).await;
    if r.failures == 0 {
        check_account(&client, settings, &state, &mut r).await;
    } else {
        r.warn("token", "not checked (the API is unreachable)");
    }
    check_folders(settings, &mut r);
    r
}

/// The proxy and the trusted roots in use, and TLS through them to the API and on the
/// download path (which has its own address rules).
async fn check_network(client: &Client, r: &mut Report) {
    let net = client.network();
    r.ok("proxy", &net.proxy);
    r.ok("trusted certificates", &net.trust);
    for problem in &net.trust.problems {
        r.warn("trusted certificates", problem);
    }
    let api = &client.config().api_url;
    let tls = if api.starts_with("https://") {
        "TLS verified"
    } else {
        "plain http, no TLS"
    };
    match client.probe_download_path().await {
        Ok(status) => r.ok(
            "download path",
            format!("{api} answered (HTTP {status}, {tls})"),
        ),
        Err(e) => {
            let fix = crate::errors::ToolError::from_client(&e, &client.config().web_url)
                .next_step
                .unwrap_or_else(|| "check your network and proxy settings".into());
            r.fail("download path", e, fix);
        }
    }
}

async fn check_reach(client: &Client, c: &nemo_client::Config, r: &mut Report) {
    match client.ping().await {
        Ok(status) => r.ok(
            "API reachable",
            format!("{} answered (HTTP {status})", c.api_url),
        ),
        // Getting the token was refused: the API did answer; the token check reports why.
        Err(e) if !is_network_failure(&e) => {
            r.ok("API reachable", format!("{} answered: {e}", c.api_url))
        }
        Err(e) => {
            r.fail(
                "API reachable",
                &e,
                crate::errors::ToolError::from_client(&e, &c.web_url)
                    .next_step
                    .filter(|_| !matches!(e, nemo_client::Error::Transient { .. }))
                    .unwrap_or_else(|| {
                        format!("check your network, or NEMO_API_URL (now {})", c.api_url)
                    }),
            );
        }
    }
}

fn is_network_failure(e: &nemo_client::Error) -> bool {
    matches!(
        e,
        nemo_client::Error::Transient { .. }
            | nemo_client::Error::CertificateUntrusted { .. }
            | nemo_client::Error::Proxy { .. }
    )
}

/// The token, the credits and the project.
async fn check_account(
    client: &Client,
    settings: &Settings,
    state: &std::sync::Arc<crate::state::StateDb>,
    r: &mut Report,
) {
    let c = &settings.client;
    match client.credits().await {
        Ok(credits) => {
            match client.token_source() {
                TokenSource::Given => r.ok("token", "NEMO_TOKEN accepted"),
                TokenSource::Anonymous => {
                    let expiry = client
                        .credentials()
                        .await
                        .and_then(|c| c.expires_at)
                        .map(|e| format!(", expires {}", e.format("%Y-%m-%d %H:%M UTC")))
                        .unwrap_or_default();
                    r.ok("token", format!("anonymous token valid{expiry}"));
                }
            }
            if credits.available < crate::account::estimate::LOW_CREDITS {
                let fix = client
                    .register_url()
                    .map(|u| format!("register for more: {u}"))
                    .unwrap_or_else(|| format!("top up at {}", c.web_url));
                r.warn(
                    "credits",
                    format!(
                        "{} available: less than one edit ({fix})",
                        credits.available
                    ),
                );
            } else {
                r.ok(
                    "credits",
                    format!(
                        "{} available, {} reserved",
                        credits.available, credits.frozen
                    ),
                );
            }
        }
        Err(e @ nemo_client::Error::TokenInvalid { .. }) => {
            r.fail(
                "token",
                &e,
                "set a valid NEMO_TOKEN, or unset it to use a free anonymous token",
            );
        }
        Err(e) => r.fail(
            "token",
            &e,
            "run doctor again later; if it persists, check NEMO_API_URL",
        ),
    }
    if r.failures == 0 {
        let project = crate::project::current::CurrentProject::remembered(state.clone());
        match project.get(client, &settings.language).await {
            Ok(s) => r.ok("session", format!("project {}", s.session_id)),
            Err(e) => r.fail(
                "session",
                e,
                "start over with a new project (connect with new_project=true)",
            ),
        }
    }
}

fn check_folders(settings: &Settings, r: &mut Report) {
    match crate::run::export::check_output_dir(&settings.output_dir) {
        Ok(()) => r.ok(
            "output folder",
            format!("{} is writable", settings.output_dir.display()),
        ),
        Err(e) => r.fail(
            "output folder",
            e.message,
            "set NEMO_OUTPUT_DIR to a folder you can write to",
        ),
    }
    if settings.allowed_dirs.is_empty() {
        r.fail(
            "allowed folders",
            "none exists, so no local file can be uploaded",
            "set NEMO_ALLOWED_DIRS to existing folders (default: your home)",
        );
    } else {
        let dirs: Vec<String> = settings
            .allowed_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        r.ok("allowed folders", dirs.join(", "));
    }
}

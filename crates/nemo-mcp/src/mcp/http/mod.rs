//! The same server over streamable HTTP (`nemo-mcp --http 127.0.0.1:PORT`), at `/mcp`.
//!
//! A local HTTP port can be reached by any local process and, through the browser, by any web
//! page. So: requests from a web page of another origin are refused (`Origin`, as the MCP
//! specification requires), every request needs the bearer token kept in a private file, the
//! server binds to loopback unless told otherwise, and each MCP session works on its own
//! project: one host never sees or edits another's video.

mod connections;
mod sessions;

use crate::app::App;
use crate::mcp::per_session::PerSession;
use crate::mcp::server::NemoServer;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How `--http` is secured.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub addr: SocketAddr,
    /// Origins allowed besides the loopback ones (`--allow-origin`).
    pub allow_origins: Vec<String>,
    /// Where the bearer token is kept (`--token-file`); a new one is made if it does not exist.
    pub token_file: PathBuf,
    /// Serve on a non-loopback address (`--allow-remote`).
    pub allow_remote: bool,
}

/// Read the token from `path`, or make a new random one there (mode 0600). An existing file
/// is used only when it is this user's, not a link, and readable by no one else: a token others
/// could read (or have planted) guards nothing.
pub fn load_or_create_token(path: &Path) -> std::io::Result<String> {
    check_token_file(path)?;
    if let Ok(t) = std::fs::read_to_string(path) {
        let t = t.trim().to_string();
        if t.len() >= 16 && t.bytes().all(|b| b.is_ascii_graphic()) {
            return Ok(t);
        }
        return Err(std::io::Error::other(format!(
            "{} does not hold a usable token (16 or more visible characters)",
            path.display()
        )));
    }
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    nemo_client::files::write_private(path, token.as_bytes())?;
    Ok(token)
}

#[cfg(unix)]
fn check_token_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let refuse = |why: String| {
        Err(std::io::Error::other(format!(
            "{} {why}: delete it to have a new token made (then give the new one to your clients)",
            path.display()
        )))
    };
    if meta.file_type().is_symlink() {
        return refuse("is a symbolic link".into());
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return refuse(format!("belongs to another user (uid {})", meta.uid()));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return refuse(format!(
            "can be read or written by other users (mode {mode:o}), so the token may be known to them"
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_token_file(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Whether a browser origin may call the server: the loopback origins, any port, and the
/// ones given.
fn origin_allowed(origin: &str, extra: &[String]) -> bool {
    let o = origin.trim().to_ascii_lowercase();
    if extra.iter().any(|e| e.trim().to_ascii_lowercase() == o) {
        return true;
    }
    let Some(rest) = o
        .strip_prefix("http://")
        .or_else(|| o.strip_prefix("https://"))
    else {
        return false;
    };
    let host = if let Some(v6) = rest.strip_prefix('[') {
        v6.split(']').next().map(|h| format!("[{h}]"))
    } else {
        rest.split(':').next().map(str::to_string)
    };
    let port_ok = |after: &str| {
        after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| p.parse::<u16>().is_ok())
    };
    match host.as_deref() {
        Some(h @ ("localhost" | "127.0.0.1" | "[::1]")) => port_ok(&rest[h.len()..]),
        _ => false,
    }
}

/// Both sides equal, in time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Why a request was turned away.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Origin,
    Token,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Origin => (
                StatusCode::FORBIDDEN,
                "this origin may not use the MCP server (see --allow-origin)",
            )
                .into_response(),
            Refusal::Token => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "a bearer token is required: see the token file named when the server started",
            )
                .into_response(),
        }
    }
}

/// The check in front of every request: `Origin`, then the bearer token.
fn admit(headers: &HeaderMap, token: &str, extra_origins: &[String]) -> Result<(), Refusal> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ok = origin
            .to_str()
            .is_ok_and(|o| origin_allowed(o, extra_origins));
        if !ok {
            return Err(Refusal::Origin);
        }
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match given {
        Some(g) if same_secret(g.as_bytes(), token.as_bytes()) => Ok(()),
        _ => Err(Refusal::Token),
    }
}

/// The router: `/mcp`, behind the origin and token checks.
pub fn router(
    app: Arc<App>,
    token: String,
    allow_origins: Vec<String>,
    remote: bool,
) -> axum::Router {
    let sessions = Arc::new(PerSession::default());
    let mut config = StreamableHttpServerConfig::default();
    if remote {
        // Host names of a remote server are the operator's; the token guards it instead.
        config.allowed_hosts.clear();
    }
    let service = StreamableHttpService::new(
        move || Ok(NemoServer::per_session(app.clone(), sessions.clone())),
        Arc::new(sessions::Capped::new(
            LocalSessionManager::default(),
            sessions::MAX_LIVE,
        )),
        config,
    );
    let token = Arc::new(token);
    let origins = Arc::new(allow_origins);
    axum::Router::new()
        .nest_service("/mcp", service)
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let (token, origins) = (token.clone(), origins.clone());
                async move {
                    match admit(req.headers(), &token, &origins) {
                        Ok(()) => next.run(req).await,
                        Err(refusal) => refusal.into_response(),
                    }
                }
            },
        ))
}

pub async fn serve(app: Arc<App>, options: HttpOptions) -> std::io::Result<()> {
    if !options.addr.ip().is_loopback() && !options.allow_remote {
        return Err(std::io::Error::other(format!(
            "refusing to serve on {}, which is not a loopback address: anyone who can reach it could use your NemoVideo account. Pass --allow-remote to do it anyway (the bearer token still guards it)",
            options.addr
        )));
    }
    let token = load_or_create_token(&options.token_file).map_err(|e| {
        std::io::Error::other(format!(
            "the HTTP token file {}: {e}",
            options.token_file.display()
        ))
    })?;
    let router = router(
        app,
        token,
        options.allow_origins.clone(),
        options.allow_remote,
    );
    let listener = tokio::net::TcpListener::bind(options.addr).await?;
    let max = connections::max_connections();
    let addr = listener.local_addr()?;
    // The token itself is never printed: it stays in its private file.
    tracing::info!(
        "MCP over streamable HTTP at http://{addr}/mcp; send `Authorization: Bearer <token>` with the token in {}",
        options.token_file.display()
    );
    if !addr.ip().is_loopback() {
        tracing::warn!("serving MCP on a non-loopback address ({addr}): the bearer token is all that guards your credits");
    }
    tracing::info!(
        "holding at most {max} connections and {} MCP sessions; a request's headers must arrive within {} s",
        sessions::MAX_LIVE,
        connections::HEADER_TIMEOUT.as_secs()
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let on_signal = stop.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        on_signal.cancel();
    });
    connections::serve(listener, router, max, stop).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        for ok in [
            "http://localhost",
            "http://localhost:6274",
            "http://127.0.0.1:3000",
            "http://[::1]:8080",
            "https://localhost",
        ] {
            assert!(origin_allowed(ok, &[]), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "http://localhost.evil.example",
            "http://127.0.0.1.nip.io",
            "http://localhost:99999",
            "null",
            "file://",
        ] {
            assert!(!origin_allowed(bad, &[]), "{bad}");
        }
        assert!(origin_allowed(
            "https://app.example.com",
            &["https://app.example.com".into()]
        ));
    }

    #[test]
    fn tokens_are_made_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state").join("http-token");
        let a = load_or_create_token(&p).unwrap();
        assert_eq!(a, load_or_create_token(&p).unwrap());
        assert!(a.len() >= 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        std::fs::write(&p, "short").unwrap();
        assert!(load_or_create_token(&p).is_err());
        // A token file others may read is refused, with the fix.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(&p, &a).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            let why = load_or_create_token(&p).unwrap_err().to_string();
            assert!(
                why.contains("mode 644") && why.contains("delete it"),
                "{why}"
            );
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
            assert_eq!(load_or_create_token(&p).unwrap(), a);
            let link = dir.path().join("linked-token");
            std::os::unix::fs::symlink(&p, &link).unwrap();
            assert!(load_or_create_token(&link)
                .unwrap_err()
                .to_string()
                .contains("symbolic link"));
        }
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
    }
}

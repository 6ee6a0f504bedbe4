//! The same server over streamable HTTP (`nemo-mcp --http 127.0.0.1:PORT`), at `/mcp`.

use crate::app::App;
use crate::server::NemoServer;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::net::SocketAddr;
use std::sync::Arc;

pub async fn serve(app: Arc<App>, addr: SocketAddr) -> std::io::Result<()> {
    if !addr.ip().is_loopback() {
        tracing::warn!("serving MCP on a non-loopback address ({addr}): anyone who can reach it can spend your credits");
    }
    let service = StreamableHttpService::new(
        move || Ok(NemoServer::new(app.clone())),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default(),
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(
        "MCP over streamable HTTP at http://{}/mcp",
        listener.local_addr()?
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

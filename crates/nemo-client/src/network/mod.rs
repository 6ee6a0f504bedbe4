//! How the client reaches the network: which proxy carries each request ([`proxy`]), which
//! certificate authorities are trusted ([`trust`]), where a download may go ([`egress`]), and
//! what a failed connection is called ([`failure`]). One [`Network`] serves every connection:
//! API calls, uploads, the agent's stream, render polling and downloads.

pub mod egress;
pub(crate) mod failure;
pub mod proxy;
pub mod trust;

pub use proxy::ProxyRules;
pub use trust::{Trust, TrustSettings, TrustSource};

use std::sync::Arc;
use std::time::Duration;

/// The network settings, as configured: proxies and where trusted roots come from. Where they
/// come from (the environment, a settings file) is the application's business;
/// [`NetworkSettings::from_env`] reads the usual variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetworkSettings {
    pub proxy: ProxyRules,
    pub trust: TrustSettings,
}

impl NetworkSettings {
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY` (either case), `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR`. A proxy value that is not a usable proxy URL is an error naming it.
    pub fn from_env() -> Result<NetworkSettings, String> {
        Ok(NetworkSettings {
            proxy: ProxyRules::from_env()?,
            trust: TrustSettings::from_env(),
        })
    }

    pub fn with_proxy(mut self, proxy: ProxyRules) -> Self {
        self.proxy = proxy;
        self
    }

    pub fn with_trust(mut self, trust: TrustSettings) -> Self {
        self.trust = trust;
        self
    }
}

/// The settings made ready: the roots loaded, the proxy rules kept for every decision.
#[derive(Debug, Clone)]
pub struct Network {
    pub proxy: ProxyRules,
    pub trust: Trust,
}

const USER_AGENT: &str = concat!("nemo-client/", env!("CARGO_PKG_VERSION"));

impl Network {
    pub fn new(settings: &NetworkSettings) -> Network {
        Network {
            proxy: settings.proxy.clone(),
            trust: Trust::load(&settings.trust),
        }
    }

    /// The client for API calls, uploads, the agent's stream and render polling.
    pub fn api_client(&self, connect: Duration) -> Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .connect_timeout(connect)
            .user_agent(USER_AGENT)
            .proxy(self.proxy.for_reqwest())
            .use_preconfigured_tls(self.trust.tls_config()?)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))
    }

    /// The client for downloads: the same proxy and roots, the download rules on every hop
    /// ([`egress::DownloadPolicy`]), the guarded resolver, and a read timeout so a stalled
    /// transfer ends.
    pub fn download_client(
        &self,
        api_url: &str,
        connect: Duration,
        idle: Duration,
    ) -> Result<reqwest::Client, String> {
        let policy = egress::DownloadPolicy::new(api_url, &self.proxy);
        let resolver = egress::GuardedResolver::new(policy.resolved_here());
        reqwest::Client::builder()
            .connect_timeout(connect)
            .read_timeout(idle)
            .user_agent(USER_AGENT)
            .proxy(self.proxy.for_reqwest())
            .use_preconfigured_tls(self.trust.tls_config()?)
            .redirect(policy.redirects())
            .dns_resolver(Arc::new(resolver))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))
    }
}

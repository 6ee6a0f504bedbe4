//! Where downloads may go. A render's `output.url` comes from the backend, so a hostile or
//! broken backend could point it at the user's own machine or network (`http://127.0.0.1:…`,
//! a router, a cloud metadata address) and have the answer saved as a video. A download may go
//! only to the API's own origin (same scheme, host and port: how the backend proxies renders),
//! or to an `https` host whose every address is public. The same rule holds for every redirect
//! hop, and host names are checked after DNS resolution, by the resolver that connects.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The scheme, host and port of a URL, lower-cased; `None` if it is not an http(s) URL.
pub fn origin(url: &reqwest::Url) -> Option<(String, String, u16)> {
    let scheme = url.scheme().to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    Some((scheme, host, url.port_or_known_default()?))
}

/// Whether an address belongs to this machine or a private network.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // carrier-grade NAT
                || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
        }
    }
}

/// The rule for one URL (the first one, or any redirect hop).
#[derive(Debug, Clone)]
pub struct DownloadPolicy {
    api: Option<(String, String, u16)>,
}

impl DownloadPolicy {
    pub fn new(api_url: &str) -> DownloadPolicy {
        DownloadPolicy {
            api: reqwest::Url::parse(api_url).ok().as_ref().and_then(origin),
        }
    }

    /// Whether the URL is on the API's own origin (the token may go there).
    pub fn is_api(&self, url: &reqwest::Url) -> bool {
        self.api.is_some() && origin(url) == self.api
    }

    /// `Ok` if a download may fetch `url`; else why not. Host names are checked again when
    /// they resolve ([`GuardedResolver`]).
    pub fn check(&self, url: &reqwest::Url) -> Result<(), String> {
        if self.is_api(url) {
            return Ok(());
        }
        if url.scheme() != "https" {
            return Err("a download from another origin than the API must use https".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("a download URL with credentials in it".into());
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) if is_private(IpAddr::V4(ip)) => {
                Err("a download URL pointing at a private or local address".into())
            }
            Some(url::Host::Ipv6(ip)) if is_private(IpAddr::V6(ip)) => {
                Err("a download URL pointing at a private or local address".into())
            }
            Some(_) => Ok(()),
            None => Err("a download URL without a host".into()),
        }
    }

    /// The same rule for every redirect hop.
    pub fn redirects(self) -> reqwest::redirect::Policy {
        reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                return attempt.error("more than 5 redirects");
            }
            match self.check(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(why) => attempt.error(format!("redirect refused: {why}")),
            }
        })
    }
}

/// A resolver that refuses private and local addresses for every host but the API's own
/// (which may well be local: a proxy, a test backend).
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    api_host: Option<String>,
}

impl GuardedResolver {
    pub fn new(api_url: &str) -> GuardedResolver {
        GuardedResolver {
            api_host: reqwest::Url::parse(api_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase)),
        }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let exempt = self.api_host.as_deref() == Some(host.as_str());
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| exempt || !is_private(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves only to private or local addresses").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client for downloads: the policy on every hop, the guarded resolver, and a read
/// timeout so a stalled transfer ends.
pub fn download_client(
    api_url: &str,
    connect: std::time::Duration,
    idle: std::time::Duration,
) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(connect)
        .read_timeout(idle)
        .redirect(DownloadPolicy::new(api_url).redirects())
        .dns_resolver(Arc::new(GuardedResolver::new(api_url)))
        .user_agent(concat!("nemo-client/", env!("CARGO_PKG_VERSION")))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls() {
        let p = DownloadPolicy::new("http://127.0.0.1:8787");
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(p
            .check(&u("http://127.0.0.1:8787/api/render/proxy/r/download"))
            .is_ok());
        for bad in [
            "http://127.0.0.1:9999/x.mp4",
            "https://127.0.0.1:8787/x.mp4",
            "http://cdn.example.com/x.mp4",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/x.mp4",
            "https://u:p@cdn.example.com/x.mp4",
            "file:///etc/passwd",
        ] {
            assert!(p.check(&u(bad)).is_err(), "{bad}");
        }
        assert!(p.check(&u("https://cdn.example.com/x.mp4")).is_ok());
        assert!(p.is_api(&u("http://127.0.0.1:8787/y")));
        assert!(!p.is_api(&u("http://127.0.0.1:8788/y")));
    }

    #[tokio::test]
    async fn the_resolver_refuses_local_names_but_the_apis() {
        use reqwest::dns::Resolve;
        let r = GuardedResolver::new("http://localhost:8787");
        let name = |s: &str| s.parse::<reqwest::dns::Name>().unwrap();
        assert!(r.resolve(name("localhost")).await.is_ok());
        let other = GuardedResolver::new("https://api.example.com");
        assert!(other.resolve(name("localhost")).await.is_err());
    }
}

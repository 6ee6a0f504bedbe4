//! Where downloads may go. A render's `output.url` comes from the backend, so a hostile or
//! broken backend could point it at the user's own machine or network (`http://127.0.0.1:…`,
//! a router, a cloud metadata address) and have the answer saved as a video. A download may go
//! only to the API's own origin (same scheme, host and port: how the backend proxies renders),
//! or to an `https` host whose every address is public. The same rule holds for every redirect
//! hop, and host names are checked after DNS resolution, by the resolver that connects.
//!
//! Through a proxy the rule is about the download's target, never the proxy: the proxy may well
//! be `proxy.corp` on a private address. The target's name is then resolved by the proxy, not
//! here, so it is checked by name (see [`DownloadPolicy::check`] and `docs/security.md`).

use super::ProxyRules;
use std::net::{IpAddr, SocketAddr};

/// The scheme, host and port of a URL, lower-cased; `None` if it is not an http(s) URL.
pub fn origin(url: &reqwest::Url) -> Option<(String, String, u16)> {
    let scheme = url.scheme().to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    Some((scheme, host, url.port_or_known_default()?))
}

/// Whether an address belongs to this machine, a private network, or a range no public host
/// uses. An IPv6 address that carries an IPv4 one (IPv4-mapped, IPv4-compatible, NAT64, 6to4)
/// is judged by the IPv4 address it carries: `64:ff9b::7f00:1` is `127.0.0.1` through a NAT64.
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
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
                || o[0] >= 240 // reserved (240.0.0.0/4)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated, still routed inside sites)
        }
    }
}

/// The IPv4 address an IPv6 one carries, in the forms that reach it: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`, and the local
/// prefix `64:ff9b:1::/48`), and 6to4 (`2002:aabb:ccdd::`).
fn embedded_v4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let s = v6.segments();
    let o = v6.octets();
    let last = || std::net::Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    // IPv4-compatible: ::a.b.c.d (but not :: and ::1, judged as IPv6 above).
    if s[..6].iter().all(|x| *x == 0) && (s[6] != 0 || s[7] > 1) {
        return Some(last());
    }
    if s[0] == 0x64 && s[1] == 0xff9b && (s[2..6].iter().all(|x| *x == 0) || s[2] == 1) {
        return Some(last());
    }
    if s[0] == 0x2002 {
        return Some(std::net::Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

/// Names that only ever mean this machine or its local network: refused as a download target
/// reached through a proxy, where the name is not resolved here.
fn is_local_name(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    !host.contains('.')
        || [
            "localhost",
            "local",
            "internal",
            "lan",
            "home.arpa",
            "intranet",
            "corp",
        ]
        .iter()
        .any(|s| host == *s || host.ends_with(&format!(".{s}")))
}

/// The rule for one URL (the first one, or any redirect hop).
#[derive(Debug, Clone)]
pub struct DownloadPolicy {
    api: Option<(String, String, u16)>,
    proxy: ProxyRules,
}

impl DownloadPolicy {
    pub fn new(api_url: &str, proxy: &ProxyRules) -> DownloadPolicy {
        DownloadPolicy {
            api: reqwest::Url::parse(api_url).ok().as_ref().and_then(origin),
            proxy: proxy.clone(),
        }
    }

    /// Whether the URL is on the API's own origin (the token may go there).
    pub fn is_api(&self, url: &reqwest::Url) -> bool {
        self.api.is_some() && origin(url) == self.api
    }

    /// The names this machine resolves without the private-address rule: the API's host (it
    /// may be local: a test backend, a company's front) and the proxies' hosts. Only a request
    /// to the API's origin, or one carried by a proxy, ever asks for them ([`Self::check`]).
    pub fn resolved_here(&self) -> Vec<String> {
        let mut names = self.proxy.proxy_hosts();
        if let Some((_, host, _)) = &self.api {
            names.push(host.trim_matches(['[', ']']).to_string());
        }
        names
    }

    /// `Ok` if a download may fetch `url`; else why not.
    ///
    /// - The API's own origin: always.
    /// - Anything else: `https`, no credentials, no private or local address literal.
    /// - Reached directly: its name is resolved by [`GuardedResolver`], which refuses private
    ///   addresses; a name that resolver exempts (the API's host on another port, a proxy's
    ///   host) is refused here.
    /// - Reached through a proxy: the proxy resolves the name, so the name itself must not be
    ///   one that only means a local machine (`localhost`, a single label such as `router`,
    ///   `.local`, `.internal`, `.lan`, `.home.arpa`, `.intranet`, `.corp`).
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
        let name = match url.host() {
            Some(url::Host::Ipv4(ip)) if is_private(IpAddr::V4(ip)) => {
                return Err("a download URL pointing at a private or local address".into())
            }
            Some(url::Host::Ipv6(ip)) if is_private(IpAddr::V6(ip)) => {
                return Err("a download URL pointing at a private or local address".into())
            }
            Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(_) => return Ok(()),
            None => return Err("a download URL without a host".into()),
        };
        if self.proxy.proxy_for(url).is_some() {
            if is_local_name(&name) {
                return Err(format!(
                    "a download URL naming a local host ({name}) through the proxy"
                ));
            }
        } else if self.resolved_here().contains(&name) {
            return Err(format!(
                "a download URL on {name} outside the API's own origin"
            ));
        }
        Ok(())
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

/// A resolver that refuses private and local addresses for every host but the exempt ones:
/// the API's own (which may well be local) and the proxies' (see
/// [`DownloadPolicy::resolved_here`]).
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    exempt: Vec<String>,
}

impl GuardedResolver {
    pub fn new(exempt: Vec<String>) -> GuardedResolver {
        GuardedResolver {
            exempt: exempt.into_iter().map(|h| h.to_ascii_lowercase()).collect(),
        }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let exempt = self.exempt.contains(&host);
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
            // IPv6 forms carrying a private IPv4 address.
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::c0a8:101",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "fec0::1",
            "192.0.0.8",
            "240.0.0.1",
            "255.255.255.254",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:5db8:d822::1",
        ] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls() {
        let p = DownloadPolicy::new("http://127.0.0.1:8787", &ProxyRules::none());
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
        let p = DownloadPolicy::new("http://localhost:8787", &ProxyRules::none());
        let r = GuardedResolver::new(p.resolved_here());
        let name = |s: &str| s.parse::<reqwest::dns::Name>().unwrap();
        assert!(r.resolve(name("localhost")).await.is_ok());
        let other = GuardedResolver::new(vec!["api.example.com".into()]);
        assert!(other.resolve(name("localhost")).await.is_err());
    }

    /// Through a proxy on a private address (`proxy.corp`, here `localhost`), the proxy's name
    /// resolves here; the target's rules are unchanged, and a target that names a local host is
    /// refused by name since the proxy, not this machine, resolves it.
    #[tokio::test]
    async fn through_a_proxy_the_rules_are_the_targets() {
        use reqwest::dns::Resolve;
        let proxy = ProxyRules::from_values(
            None,
            Some(("HTTPS_PROXY", "http://localhost:3128".into())),
            None,
            Some("direct.example.com".into()),
        )
        .unwrap();
        let p = DownloadPolicy::new("https://api.example.com", &proxy);
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(p.check(&u("https://cdn.example.com/x.mp4")).is_ok());
        assert!(p.check(&u("https://api.example.com/r/x.mp4")).is_ok());
        for bad in [
            "https://localhost/x.mp4",
            "https://router/x.mp4",
            "https://nas.local/x.mp4",
            "https://metadata.google.internal/x",
            "https://10.0.0.1/x.mp4",
            "http://cdn.example.com/x.mp4",
        ] {
            assert!(p.check(&u(bad)).is_err(), "{bad}");
        }
        // A proxy's own name is never a direct target (the resolver exempts it).
        let direct = ProxyRules::from_values(
            None,
            Some(("HTTPS_PROXY", "http://proxy.example.com:3128".into())),
            None,
            Some("proxy.example.com".into()),
        )
        .unwrap();
        let q = DownloadPolicy::new("https://api.example.com", &direct);
        assert!(q.check(&u("https://proxy.example.com/x.mp4")).is_err());
        // Reached directly, the API's host on another port would resolve unguarded: refused.
        let none = DownloadPolicy::new("http://localhost:8787", &ProxyRules::none());
        assert!(none.check(&u("https://localhost:8443/x.mp4")).is_err());
        let r = GuardedResolver::new(p.resolved_here());
        let name = |s: &str| s.parse::<reqwest::dns::Name>().unwrap();
        assert!(r.resolve(name("localhost")).await.is_ok());
    }
}

//! Which proxy a request goes through: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`
//! (either case), read once and used for every connection — API calls, uploads, the agent's
//! stream, render polling and downloads — and by the download rules, which must know whether a
//! target is reached directly (resolved here) or through the proxy (resolved there).
//!
//! The rules are ours rather than reqwest's so that the client, the download rules, `doctor`
//! and the error messages all agree on one answer for one URL.

use std::fmt;
use std::net::IpAddr;

/// The proxy settings. [`ProxyRules::none`] sends everything directly.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyRules {
    http: Option<url::Url>,
    https: Option<url::Url>,
    no_proxy: Vec<NoProxyEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum NoProxyEntry {
    /// `*`: no proxy for anything.
    All,
    /// A name: itself and every name under it (`example.com`, `.example.com`, `*.example.com`).
    Domain(String),
    /// An address, or a network in CIDR form.
    Net(IpAddr, u8),
}

/// A proxy URL as given: `proxy.corp:3128`, `http://user:pw@proxy.corp:3128`.
fn parse_proxy(var: &str, raw: &str) -> Result<url::Url, String> {
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("http://{raw}")
    };
    let url = url::Url::parse(&with_scheme)
        .map_err(|e| format!("{var} is not a proxy URL ({e}): {}", mask_text(raw)))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "{var} names a {other} proxy; only http:// and https:// proxies are supported"
            ))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{var} has no host: {}", mask_text(raw)));
    }
    Ok(url)
}

/// A proxy value with any password masked, for messages written before it parsed.
fn mask_text(raw: &str) -> String {
    match raw.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => raw.to_string(),
    }
}

fn parse_no_proxy(raw: &str) -> Vec<NoProxyEntry> {
    raw.split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .filter_map(|e| {
            if e == "*" {
                return Some(NoProxyEntry::All);
            }
            if let Some((ip, bits)) = e.split_once('/') {
                let ip: IpAddr = ip.trim_matches(['[', ']']).parse().ok()?;
                let max = if ip.is_ipv4() { 32 } else { 128 };
                let bits = bits.parse::<u8>().ok().filter(|b| *b <= max)?;
                return Some(NoProxyEntry::Net(ip, bits));
            }
            let bare = e.trim_matches(['[', ']']);
            if let Ok(ip) = bare.parse::<IpAddr>() {
                let bits = if ip.is_ipv4() { 32 } else { 128 };
                return Some(NoProxyEntry::Net(ip, bits));
            }
            // `host:port`: the port is not part of the rule (as curl).
            let host = match e.rsplit_once(':') {
                Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
                _ => e,
            };
            let host = host.trim_start_matches("*.").trim_start_matches('.');
            (!host.is_empty()).then(|| NoProxyEntry::Domain(host.to_ascii_lowercase()))
        })
        .collect()
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl ProxyRules {
    /// No proxy at all.
    pub fn none() -> ProxyRules {
        ProxyRules::default()
    }

    /// From the environment. Upper case wins over lower case; `HTTP_PROXY` is ignored when
    /// `REQUEST_METHOD` is set (a CGI program, where it comes from a request header: "httpoxy").
    pub fn from_env() -> Result<ProxyRules, String> {
        let get = |names: [&'static str; 2]| {
            names.into_iter().find_map(|n| {
                std::env::var(n)
                    .ok()
                    .map(|v| (n, v.trim().to_string()))
                    .filter(|(_, v)| !v.is_empty())
            })
        };
        // Under CGI only the lower-case name: the upper-case one comes from a request header.
        let cgi = std::env::var_os("REQUEST_METHOD").is_some();
        let http = get(if cgi {
            ["http_proxy"; 2]
        } else {
            ["HTTP_PROXY", "http_proxy"]
        });
        ProxyRules::from_values(
            http,
            get(["HTTPS_PROXY", "https_proxy"]),
            get(["ALL_PROXY", "all_proxy"]),
            get(["NO_PROXY", "no_proxy"]).map(|(_, v)| v),
        )
    }

    /// From values as `(variable name, value)`: `ALL_PROXY` fills in for a scheme without its own.
    pub fn from_values(
        http: Option<(&str, String)>,
        https: Option<(&str, String)>,
        all: Option<(&str, String)>,
        no_proxy: Option<String>,
    ) -> Result<ProxyRules, String> {
        let parse = |v: Option<(&str, String)>| v.map(|(n, v)| parse_proxy(n, &v)).transpose();
        let all = parse(all)?;
        Ok(ProxyRules {
            http: parse(http)?.or_else(|| all.clone()),
            https: parse(https)?.or(all),
            no_proxy: no_proxy.as_deref().map(parse_no_proxy).unwrap_or_default(),
        })
    }

    /// Whether any proxy is configured.
    pub fn is_set(&self) -> bool {
        self.http.is_some() || self.https.is_some()
    }

    /// The proxy that carries a request to `url`, if any.
    pub fn proxy_for(&self, url: &url::Url) -> Option<&url::Url> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        (!self.bypassed(url)).then_some(proxy)
    }

    fn bypassed(&self, url: &url::Url) -> bool {
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        self.no_proxy.iter().any(|e| match e {
            NoProxyEntry::All => true,
            NoProxyEntry::Net(net, bits) => ip.is_some_and(|ip| in_net(ip, *net, *bits)),
            NoProxyEntry::Domain(d) => {
                ip.is_none() && (host == *d || host.ends_with(&format!(".{d}")))
            }
        })
    }

    /// The proxies' host names (lower case): the only names resolved locally on their behalf.
    pub fn proxy_hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = [&self.http, &self.https]
            .into_iter()
            .flatten()
            .filter_map(|u| u.host_str().map(str::to_ascii_lowercase))
            .map(|h| h.trim_matches(['[', ']']).to_string())
            .collect();
        hosts.dedup();
        hosts
    }

    /// The proxy for reqwest: the same answer as [`ProxyRules::proxy_for`], credentials in the
    /// proxy URL sent as `Proxy-Authorization`.
    pub fn for_reqwest(&self) -> reqwest::Proxy {
        let rules = self.clone();
        reqwest::Proxy::custom(move |url| rules.proxy_for(url).cloned())
    }
}

/// A proxy URL for people and logs: its password never shown.
pub fn display(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.as_str().trim_end_matches('/').to_string()
}

impl fmt::Debug for ProxyRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// What `doctor` shows: `https → http://proxy.corp:3128, http → …, except: localhost`.
impl fmt::Display for ProxyRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_set() {
            return f.write_str("none (direct connections)");
        }
        let shown = |u: &Option<url::Url>| u.as_ref().map(display).unwrap_or("direct".into());
        write!(
            f,
            "https → {}, http → {}",
            shown(&self.https),
            shown(&self.http)
        )?;
        if !self.no_proxy.is_empty() {
            let except: Vec<String> = self
                .no_proxy
                .iter()
                .map(|e| match e {
                    NoProxyEntry::All => "*".to_string(),
                    NoProxyEntry::Domain(d) => d.clone(),
                    NoProxyEntry::Net(ip, bits) => format!("{ip}/{bits}"),
                })
                .collect();
            write!(f, "; not for {}", except.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    fn rules(
        http: Option<&str>,
        https: Option<&str>,
        all: Option<&str>,
        no: Option<&str>,
    ) -> ProxyRules {
        ProxyRules::from_values(
            http.map(|v| ("HTTP_PROXY", v.to_string())),
            https.map(|v| ("HTTPS_PROXY", v.to_string())),
            all.map(|v| ("ALL_PROXY", v.to_string())),
            no.map(str::to_string),
        )
        .unwrap()
    }

    #[test]
    fn each_scheme_has_its_proxy_and_all_fills_in() {
        let r = rules(Some("proxy.corp:3128"), None, Some("http://all:8080"), None);
        assert_eq!(
            r.proxy_for(&u("http://api.example.com/x"))
                .unwrap()
                .as_str(),
            "http://proxy.corp:3128/"
        );
        assert_eq!(
            r.proxy_for(&u("https://api.example.com/x"))
                .unwrap()
                .as_str(),
            "http://all:8080/"
        );
        assert!(ProxyRules::none()
            .proxy_for(&u("https://api.example.com"))
            .is_none());
        assert_eq!(r.proxy_hosts(), vec!["proxy.corp", "all"]);
    }

    #[test]
    fn no_proxy_names_suffixes_addresses_and_networks() {
        let r = rules(
            None,
            Some("http://p:1"),
            None,
            Some("example.com, .internal.net,*.corp, 10.0.0.0/8 ,192.168.1.7,[::1], host:8080"),
        );
        for direct in [
            "https://example.com/",
            "https://cdn.example.com/",
            "https://a.internal.net/",
            "https://x.corp/",
            "https://10.2.3.4/",
            "https://192.168.1.7/",
            "https://[::1]/",
            "https://host/",
        ] {
            assert!(r.proxy_for(&u(direct)).is_none(), "{direct}");
        }
        for proxied in [
            "https://notexample.com/",
            "https://192.168.1.8/",
            "https://11.0.0.1/",
            "https://corp.example.org/",
        ] {
            assert!(r.proxy_for(&u(proxied)).is_some(), "{proxied}");
        }
        let all = rules(None, Some("http://p:1"), None, Some("*"));
        assert!(all.proxy_for(&u("https://x.y/")).is_none());
    }

    #[test]
    fn bad_values_are_named_and_passwords_never_shown() {
        let socks =
            ProxyRules::from_values(None, None, Some(("ALL_PROXY", "socks5://p:1".into())), None)
                .unwrap_err();
        assert!(
            socks.contains("ALL_PROXY") && socks.contains("socks5"),
            "{socks}"
        );
        let bad = ProxyRules::from_values(
            Some(("HTTP_PROXY", "http://u:secret@".into())),
            None,
            None,
            None,
        )
        .unwrap_err();
        assert!(!bad.contains("secret"), "{bad}");
        let r = rules(
            None,
            Some("http://user:secret@proxy.corp:3128"),
            None,
            Some("localhost"),
        );
        let shown = r.to_string();
        assert!(!shown.contains("secret"), "{shown}");
        assert!(
            shown.contains("user:***@proxy.corp:3128") && shown.contains("not for localhost"),
            "{shown}"
        );
        assert!(!format!("{r:?}").contains("secret"));
    }
}

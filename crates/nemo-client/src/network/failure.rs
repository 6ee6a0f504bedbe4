//! A request that got no answer, named by its cause. A company network fails in ways that are
//! not "NemoVideo is unreachable": a gateway's certificate we do not trust, a proxy that wants a
//! password or refuses the connection. Each gets its own error, with what to do about it.

use super::proxy;
use super::Network;
use crate::error::{Error, ProxyProblem};
use std::error::Error as StdError;

/// A transport failure of a paid request: only a failure to connect proves that nothing
/// left (DNS, refused, TLS, a proxy's refusal all fail in the connect phase); anything later
/// is unconfirmed.
pub(crate) fn paid_transport(e: reqwest::Error, net: &Network) -> Error {
    if e.is_connect() {
        transport(e, net)
    } else {
        Error::Unconfirmed {
            message: transport(e, net).to_string(),
        }
    }
}

/// A request that got no answer: a certificate or a proxy named as the cause where it is one
/// (below), else a transient failure.
pub(crate) fn transport(e: reqwest::Error, net: &Network) -> Error {
    if let Some(named) = classify(&e, net) {
        return named;
    }
    if e.is_redirect() {
        // Our redirect policy refused a hop (see `egress`), or there were too many.
        return Error::Unsafe {
            message: "a redirect to an address outside the allowed ones was refused".into(),
        };
    }
    // reqwest's message can contain the URL; ours never carry tokens (none is ever in a URL).
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the connection broke off"
    } else {
        "request failed"
    };
    Error::Transient {
        message: kind.to_string(),
    }
}

/// The named cause of a failed request, if it has one we know.
fn classify(e: &reqwest::Error, net: &Network) -> Option<Error> {
    let url = e.url();
    let host = url
        .and_then(|u| u.host_str())
        .unwrap_or("the server")
        .to_string();
    let via = url.and_then(|u| net.proxy.proxy_for(u)).map(proxy::display);
    let mut cause: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cause {
        if let Some(reason) = certificate_problem(err) {
            return Some(Error::CertificateUntrusted {
                host,
                reason,
                trust: net.trust.to_string(),
            });
        }
        if let Some(problem) = tunnel_problem(&err.to_string()) {
            return Some(Error::Proxy {
                proxy: via.unwrap_or_else(|| "in use".into()),
                problem,
            });
        }
        cause = next(err);
    }
    match via {
        Some(proxy) if e.is_connect() => Some(Error::Proxy {
            proxy,
            problem: ProxyProblem::Unreachable,
        }),
        _ => None,
    }
}

/// The next error in the chain. `io::Error::source` skips the error it wraps (it returns that
/// error's source), and TLS errors arrive wrapped in one, so look inside it first.
fn next<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    if let Some(io) = err.downcast_ref::<std::io::Error>() {
        if let Some(inner) = io.get_ref() {
            return Some(inner as &(dyn StdError + 'static));
        }
    }
    err.source()
}

fn certificate_problem(err: &(dyn StdError + 'static)) -> Option<String> {
    match err.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(why) => Some(match why {
            rustls::CertificateError::UnknownIssuer => {
                "it is signed by an authority this machine does not trust".to_string()
            }
            rustls::CertificateError::Expired | rustls::CertificateError::NotValidYet => {
                "it is outside its validity dates: check the clock".to_string()
            }
            other => format!("{other:?}"),
        }),
        _ => None,
    }
}

/// hyper-util's `CONNECT` tunnel errors, by their text (the type is not reachable from reqwest).
fn tunnel_problem(text: &str) -> Option<ProxyProblem> {
    let what = text.strip_prefix("tunnel error: ")?;
    Some(match what {
        "proxy authorization required" => ProxyProblem::AuthRequired,
        "failed to create underlying connection" => ProxyProblem::Unreachable,
        _ => ProxyProblem::Refused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunnel_errors_by_their_text() {
        assert_eq!(
            tunnel_problem("tunnel error: proxy authorization required"),
            Some(ProxyProblem::AuthRequired)
        );
        assert_eq!(
            tunnel_problem("tunnel error: unsuccessful"),
            Some(ProxyProblem::Refused)
        );
        assert_eq!(
            tunnel_problem("tunnel error: failed to create underlying connection"),
            Some(ProxyProblem::Unreachable)
        );
        assert_eq!(tunnel_problem("connection refused"), None);
    }

    #[test]
    fn a_certificate_error_is_found_inside_an_io_error() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let outer: &(dyn StdError + 'static) = &io;
        let inner = next(outer).unwrap();
        assert!(certificate_problem(inner)
            .unwrap()
            .contains("does not trust"));
        assert!(certificate_problem(outer).is_none());
    }
}

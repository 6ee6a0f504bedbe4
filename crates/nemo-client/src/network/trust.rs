//! Which certificate authorities we trust. A company's TLS-inspecting gateway re-signs every
//! connection with its own CA, which IT installs in the system's trust store (or names in
//! `SSL_CERT_FILE`); built-in roots alone would refuse it. So, as curl and OpenSSL do:
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` when set (and nothing else), else the system's store, and
//! the built-in webpki roots only where that yields no certificate at all.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the roots come from, as configured (`SSL_CERT_FILE`, `SSL_CERT_DIR`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustSettings {
    pub cert_file: Option<PathBuf>,
    pub cert_dirs: Vec<PathBuf>,
}

impl TrustSettings {
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` (a list of folders, as `PATH`).
    pub fn from_env() -> TrustSettings {
        let file = std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty());
        let dirs = std::env::var_os("SSL_CERT_DIR")
            .map(|v| {
                std::env::split_paths(&v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        TrustSettings {
            cert_file: file.map(PathBuf::from),
            cert_dirs: dirs,
        }
    }

    /// Trust exactly this PEM file (tests; a host that wants its own bundle).
    pub fn file(path: impl Into<PathBuf>) -> TrustSettings {
        TrustSettings {
            cert_file: Some(path.into()),
            cert_dirs: Vec::new(),
        }
    }
}

/// Where the loaded roots came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustSource {
    /// `SSL_CERT_FILE` and/or `SSL_CERT_DIR`.
    Configured(TrustSettings),
    /// The operating system's trust store.
    System,
    /// The roots compiled in (webpki-roots): the system offered none.
    BuiltIn,
}

/// The roots every connection verifies against, and how they were found.
#[derive(Clone)]
pub struct Trust {
    pub source: TrustSource,
    /// How many root certificates were loaded.
    pub count: usize,
    /// What could not be read on the way (a missing `SSL_CERT_FILE`, a bad certificate).
    pub problems: Vec<String>,
    roots: Arc<rustls::RootCertStore>,
}

impl Trust {
    pub fn load(settings: &TrustSettings) -> Trust {
        let configured = settings.cert_file.is_some() || !settings.cert_dirs.is_empty();
        let mut problems = Vec::new();
        let mut certs = Vec::new();
        if configured {
            let mut add = |r: rustls_native_certs::CertificateResult| {
                certs.extend(r.certs);
                problems.extend(r.errors.iter().map(|e| e.to_string()));
            };
            if let Some(file) = &settings.cert_file {
                add(rustls_native_certs::load_certs_from_paths(Some(file), None));
            }
            for dir in &settings.cert_dirs {
                add(rustls_native_certs::load_certs_from_paths(None, Some(dir)));
            }
        } else {
            let r = rustls_native_certs::load_native_certs();
            certs = r.certs;
            problems.extend(r.errors.iter().map(|e| e.to_string()));
        }
        let mut roots = rustls::RootCertStore::empty();
        let (added, rejected) = roots.add_parsable_certificates(certs);
        if rejected > 0 {
            problems.push(format!("{rejected} certificate(s) could not be parsed"));
        }
        let mut source = if configured {
            TrustSource::Configured(settings.clone())
        } else {
            TrustSource::System
        };
        if added == 0 {
            if configured {
                problems.push("no certificate could be read from SSL_CERT_FILE / SSL_CERT_DIR; using the built-in roots".into());
            }
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            source = TrustSource::BuiltIn;
        }
        for p in &problems {
            tracing::warn!("trusted certificates: {p}");
        }
        Trust {
            source,
            count: roots.len(),
            problems,
            roots: Arc::new(roots),
        }
    }

    /// The TLS settings for reqwest: these roots, the ring provider, TLS 1.2 and 1.3.
    pub fn tls_config(&self) -> Result<rustls::ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS settings: {e}"))?
            .with_root_certificates(self.roots.clone())
            .with_no_client_auth())
    }
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// `the system's trust store (146 certificates)`, `SSL_CERT_FILE=/etc/corp-ca.pem (1 certificate)`.
impl fmt::Display for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            TrustSource::System => f.write_str("the system's trust store")?,
            TrustSource::BuiltIn => f.write_str("the built-in roots")?,
            TrustSource::Configured(s) => {
                let mut parts = Vec::new();
                if let Some(file) = &s.cert_file {
                    parts.push(format!("SSL_CERT_FILE={}", file.display()));
                }
                if !s.cert_dirs.is_empty() {
                    let dirs: Vec<String> = s
                        .cert_dirs
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect();
                    parts.push(format!("SSL_CERT_DIR={}", dirs.join(":")));
                }
                f.write_str(&parts.join(", "))?;
            }
        }
        let s = if self.count == 1 { "" } else { "s" };
        write!(f, " ({} certificate{s})", self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_cannot_be_read_falls_back_to_the_built_in_roots_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let t = Trust::load(&TrustSettings::file(dir.path().join("missing.pem")));
        assert_eq!(t.source, TrustSource::BuiltIn);
        assert!(t.count > 100, "{}", t.count);
        assert!(!t.problems.is_empty());
        assert!(t.tls_config().is_ok());
    }

    #[test]
    fn an_empty_folder_is_a_problem_too_and_the_display_names_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let settings = TrustSettings {
            cert_file: None,
            cert_dirs: vec![dir.path().to_path_buf()],
        };
        let t = Trust::load(&settings);
        assert_eq!(t.source, TrustSource::BuiltIn);
        let shown = Trust {
            source: TrustSource::Configured(settings),
            count: 1,
            problems: vec![],
            roots: Arc::new(rustls::RootCertStore::empty()),
        }
        .to_string();
        assert!(
            shown.starts_with("SSL_CERT_DIR=") && shown.ends_with("(1 certificate)"),
            "{shown}"
        );
    }
}

//! Where the backend is, who we say we are (profile and attribution), where state is kept,
//! and how long we wait.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_API_URL: &str = "https://mega-api-prod.nemovideo.ai";
pub const DEFAULT_WEB_URL: &str = "https://nemovideo.com";

/// The attribution profiles of the contract: one per seed skill, plus our own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Profile {
    #[default]
    NemoMcp,
    VideoMakerFreeWebsite,
    FreeVideoGenerationTools,
    MakerFree,
    VideoCreatorFree,
}

impl Profile {
    pub const ALL: [Profile; 5] = [
        Profile::NemoMcp,
        Profile::VideoMakerFreeWebsite,
        Profile::FreeVideoGenerationTools,
        Profile::MakerFree,
        Profile::VideoCreatorFree,
    ];

    /// The `X-Skill-Source` value, which is also the profile's name.
    pub fn source(self) -> &'static str {
        match self {
            Profile::NemoMcp => "nemo-mcp",
            Profile::VideoMakerFreeWebsite => "video-maker-free-website",
            Profile::FreeVideoGenerationTools => "free-video-generation-tools",
            Profile::MakerFree => "maker-free",
            Profile::VideoCreatorFree => "video-creator-free",
        }
    }

    /// The largest upload the profile allows, in bytes.
    pub fn max_upload_bytes(self) -> u64 {
        match self {
            Profile::FreeVideoGenerationTools => 200 * 1024 * 1024,
            _ => 500 * 1024 * 1024,
        }
    }

    pub fn parse(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.source() == name.trim())
    }
}

/// Who a request says it comes from: the values of the three attribution headers. A job
/// records the ones it was made under, so that a process that takes it over speaks for it as
/// its maker did (and is held to its maker's profile, whose upload limit differs).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Attribution {
    /// `X-Skill-Source`: a profile's name, or a source no profile of this version knows.
    pub source: String,
    /// `X-Skill-Version`.
    pub version: String,
    /// `X-Skill-Platform`.
    pub platform: String,
}

impl Attribution {
    pub fn new(
        source: impl Into<String>,
        version: impl Into<String>,
        platform: impl Into<String>,
    ) -> Attribution {
        Attribution {
            source: source.into(),
            version: version.into(),
            platform: platform.into(),
        }
    }

    /// The profile its source names; `None` for a source no profile has.
    pub fn profile(&self) -> Option<Profile> {
        Profile::parse(&self.source)
    }

    /// The three headers, in the contract's names.
    pub fn headers(&self) -> [(&'static str, &str); 3] {
        [
            ("X-Skill-Source", &self.source),
            ("X-Skill-Version", &self.version),
            ("X-Skill-Platform", &self.platform),
        ]
    }
}

/// Timeouts and waits; tests shorten them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Timeouts {
    pub connect: Duration,
    /// For ordinary JSON calls.
    pub request: Duration,
    /// The longest wait for `/run_sse`'s response headers after the message was written.
    pub sse_headers: Duration,
    /// The longest a `/run_sse` turn may stream.
    pub sse_total: Duration,
    /// The longest a stream may send nothing but heartbeats.
    pub sse_heartbeats_only: Duration,
    /// Wait on HTTP 429 without `Retry-After`.
    pub rate_limit_wait: Duration,
    /// Never wait longer than this on a 429, whatever `Retry-After` says.
    pub rate_limit_max_wait: Duration,
    /// First backoff step for retried GETs (doubles each time).
    pub retry_backoff: Duration,
    /// How many times an idempotent GET is tried in all.
    pub get_attempts: u32,
    /// The longest an upload, a download or a JSON reply may move no byte (a stalled peer).
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(15),
            request: Duration::from_secs(60),
            sse_headers: Duration::from_secs(60),
            sse_total: Duration::from_secs(15 * 60),
            sse_heartbeats_only: Duration::from_secs(10 * 60),
            rate_limit_wait: Duration::from_secs(30),
            rate_limit_max_wait: Duration::from_secs(60),
            retry_backoff: Duration::from_millis(500),
            get_attempts: 4,
            idle: Duration::from_secs(60),
        }
    }
}

impl Timeouts {
    /// Short waits for tests against a fast simulator.
    pub fn fast() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(20),
            sse_headers: Duration::from_secs(5),
            sse_total: Duration::from_secs(60),
            sse_heartbeats_only: Duration::from_secs(2),
            rate_limit_wait: Duration::from_millis(50),
            rate_limit_max_wait: Duration::from_millis(200),
            retry_backoff: Duration::from_millis(10),
            get_attempts: 4,
            idle: Duration::from_secs(5),
        }
    }
}

/// The client's configuration: [`Config::new`] and the `with_*` methods. Where the values come
/// from (environment variables, a settings file) is the application's business.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    pub api_url: String,
    pub web_url: String,
    /// A token given by the caller (a registered account's); never renewed by us. Without one
    /// the client gets free anonymous tokens.
    pub token: Option<String>,
    /// A client id given by the caller (for the anonymous-token endpoint).
    pub client_id: Option<String>,
    /// Shared with the official skill: `~/.config/nemovideo/client_id`.
    pub client_id_file: PathBuf,
    /// Anonymous credentials are kept here (a private file); the caller chooses the folder.
    pub state_dir: PathBuf,
    pub profile: Profile,
    /// `X-Skill-Version`; the crate version by default.
    pub skill_version: String,
    /// `X-Skill-Platform` when forced by `SKILL_SOURCE`.
    pub platform_override: Option<String>,
    pub timeouts: Timeouts,
    /// Proxies and trusted roots; none and the system's store unless set
    /// ([`crate::NetworkSettings::from_env`] reads the usual variables).
    pub network: crate::NetworkSettings,
}

fn home() -> PathBuf {
    dirs::home_dir().unwrap_or_else(|| PathBuf::from("."))
}

impl Config {
    /// Defaults for the given API base, state under `state_dir`.
    pub fn new(api_url: impl Into<String>, state_dir: impl Into<PathBuf>) -> Config {
        let api_url = api_url.into().trim_end_matches('/').to_string();
        Config {
            web_url: DEFAULT_WEB_URL.to_string(),
            api_url,
            token: None,
            client_id: None,
            client_id_file: home().join(".config").join("nemovideo").join("client_id"),
            state_dir: state_dir.into(),
            profile: Profile::default(),
            skill_version: env!("CARGO_PKG_VERSION").to_string(),
            platform_override: None,
            timeouts: Timeouts::default(),
            network: crate::NetworkSettings::default(),
        }
    }

    pub fn with_web_url(mut self, web: impl Into<String>) -> Self {
        self.web_url = web.into().trim_end_matches('/').to_string();
        self
    }
    pub fn with_profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
    pub fn with_client_id_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.client_id_file = path.into();
        self
    }
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }
    pub fn with_network(mut self, network: crate::NetworkSettings) -> Self {
        self.network = network;
        self
    }
    pub fn credentials_path(&self) -> PathBuf {
        self.state_dir.join("credentials.json")
    }
}

/// `X-Skill-Platform` from where the binary is installed and what the host calls itself.
pub fn detect_platform(exe: Option<&Path>, home: &Path, host: Option<&str>) -> &'static str {
    if let Some(exe) = exe {
        if exe.starts_with(home.join(".clawhub")) {
            return "clawhub";
        }
        if exe.starts_with(home.join(".cursor").join("skills")) {
            return "cursor";
        }
    }
    if host.is_some_and(|h| h.to_ascii_lowercase().contains("cursor")) {
        return "cursor";
    }
    "unknown"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles() {
        assert_eq!(Profile::parse("maker-free"), Some(Profile::MakerFree));
        assert_eq!(
            Profile::FreeVideoGenerationTools.max_upload_bytes(),
            200 * 1024 * 1024
        );
        assert_eq!(Profile::default().source(), "nemo-mcp");
        assert!(Profile::parse("nope").is_none());
    }

    #[test]
    fn platform_detection() {
        let home = Path::new("/home/u");
        assert_eq!(
            detect_platform(Some(Path::new("/home/u/.clawhub/bin/nemo-mcp")), home, None),
            "clawhub"
        );
        assert_eq!(
            detect_platform(
                Some(Path::new("/home/u/.cursor/skills/x/nemo-mcp")),
                home,
                None
            ),
            "cursor"
        );
        assert_eq!(
            detect_platform(Some(Path::new("/usr/bin/nemo-mcp")), home, Some("Cursor")),
            "cursor"
        );
        assert_eq!(
            detect_platform(
                Some(Path::new("/usr/bin/nemo-mcp")),
                home,
                Some("claude-ai")
            ),
            "unknown"
        );
    }
}

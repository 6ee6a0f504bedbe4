//! The server's own settings (on top of the client's): folders, waits and polling, all from the
//! environment with sensible defaults.

pub mod locale;
pub mod placeholders;

use nemo_client::{Config, Profile};
use std::path::PathBuf;
use std::time::Duration;

/// The longest a tool call waits before answering `running` (hosts cut calls at about 60 s).
pub const MAX_WAIT: Duration = Duration::from_secs(55);
pub const DEFAULT_WAIT: Duration = Duration::from_secs(45);

#[derive(Debug, Clone)]
pub struct Settings {
    pub client: Config,
    /// The language of a project started before any instruction (by an upload): the host's
    /// locale when run as a server, `en` when embedded.
    pub language: String,
    /// Where exports are saved.
    pub output_dir: PathBuf,
    /// Local files may only be uploaded from inside these (canonical) folders.
    pub allowed_dirs: Vec<PathBuf>,
    /// The same folders as given (absolute ones) and as resolved: what a path is checked
    /// against before the file system is touched.
    pub allowed_lexical: Vec<PathBuf>,
    pub default_wait: Duration,
    /// Progress is notified at least this often while a call waits.
    pub progress_every: Duration,
    /// The longest gap between two render polls (while the progress says nothing); near the
    /// predicted finish they come closer (`nemo_client::PollClock`). `NEMO_RENDER_POLL_MS`.
    pub render_poll: Duration,
    pub render_timeout: Duration,
    /// The contract's recovery after a broken stream: first wait, later waits, reads.
    pub recovery_first: Duration,
    pub recovery_then: Duration,
    pub recovery_reads: u32,
    /// The quick state reads before concluding a turn changed nothing (or before the contract's
    /// schedule after a cut turn): this first wait, doubling, `settle_reads` times (1, 2, 4, 8 s).
    pub settle_first: Duration,
    pub settle_reads: u32,
    /// Ask the user (MCP elicitation, where the host supports it) before a `generate` that would
    /// leave fewer credits than this (`NEMO_CONFIRM_BELOW`, default 20).
    pub confirm_below: i64,
    /// Ask before any spending (`NEMO_CONFIRM=always`).
    pub confirm_always: bool,
    /// Confirm every paid call (`NEMO_CONFIRM_SPENDING=1`): by elicitation where the host has
    /// it, else by answering with the estimate and waiting for a call with `confirm: true`.
    pub confirm_spending: bool,
    /// A small poster frame (image content) on an export's result for hosts without the player
    /// view, when `ffmpeg` is on PATH (`NEMO_POSTER`, default on).
    pub poster: bool,
    /// Variants of one `make_video` running at once (`NEMO_VARIANT_CONCURRENCY`, 1–6, default 3).
    pub variant_concurrency: usize,
    /// `NEMO_ALLOW_SPENDING`, `NEMO_MAX_CREDITS_PER_DAY`, `NEMO_MAX_CREDITS_PER_SESSION`.
    pub budgets: crate::account::spend::Budgets,
}

/// A setting from the environment: `None` when unset, empty, or an unexpanded `${…}`
/// placeholder (`crate::config::placeholders`); the home folder expanded.
fn env(k: &str) -> Option<String> {
    let raw = std::env::var(k).ok()?;
    crate::config::placeholders::resolve(k, &raw, dirs::home_dir().as_deref())
}

/// A wait in seconds as text, bounded to `0..=MAX_WAIT`; `None` for what is not a finite number
/// (`NaN`, `inf`, words), which would otherwise panic in `Duration::from_secs_f64`.
fn wait_seconds(text: &str) -> Option<Duration> {
    let s = text.trim().parse::<f64>().ok().filter(|s| s.is_finite())?;
    Some(Duration::from_secs_f64(
        s.clamp(0.0, MAX_WAIT.as_secs_f64()),
    ))
}

fn env_ms(k: &str) -> Option<Duration> {
    env(k)
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
}

/// A yes/no setting: `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off` (a bundle passes
/// `true`/`false`). Anything else is a configuration error naming the setting: a guard on
/// spending must not be guessed.
fn env_flag(k: &str) -> Result<Option<bool>, String> {
    let Some(v) = env(k) else { return Ok(None) };
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(Some(true)),
        "0" | "false" | "no" | "off" => Ok(Some(false)),
        _ => Err(format!("{k}={v:?}: expected 1 or 0 (true or false)")),
    }
}

/// At most this many variants in one `make_video`.
pub const MAX_VARIANTS: usize = 6;
/// Variants running at once unless `NEMO_VARIANT_CONCURRENCY` says otherwise.
pub const DEFAULT_VARIANT_CONCURRENCY: usize = 3;

/// A credit budget: a whole number of credits, at least 0. Anything else is a configuration
/// error naming the setting.
fn env_credits(k: &str) -> Result<Option<i64>, String> {
    let Some(v) = env(k) else { return Ok(None) };
    v.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0 && n.fract() == 0.0)
        .map(|n| Some(n as i64))
        .ok_or_else(|| format!("{k}={v:?}: expected a whole number of credits"))
}

/// `~/.config/nemo-mcp` (or the platform's config directory): credentials, the current
/// project, the job journal and the projects' media records.
pub fn default_state_dir() -> PathBuf {
    dirs::config_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".config")))
        .unwrap_or_else(|| PathBuf::from(".config"))
        .join("nemo-mcp")
}

/// The client's configuration from `NEMO_API_URL`, `NEMO_WEB_URL`, `NEMO_TOKEN`,
/// `NEMO_CLIENT_ID`, `NEMO_STATE_DIR`, `NEMO_PROFILE`, `NEMO_SKILL_VERSION` and `SKILL_SOURCE`.
pub fn client_config_from_env() -> Result<Config, String> {
    let state_dir = env("NEMO_STATE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(default_state_dir);
    let mut c = Config::new(
        env("NEMO_API_URL").unwrap_or_else(|| nemo_client::config::DEFAULT_API_URL.into()),
        state_dir,
    );
    if let Some(web) = env("NEMO_WEB_URL") {
        c = c.with_web_url(web);
    }
    c.token = env("NEMO_TOKEN");
    c.client_id = env("NEMO_CLIENT_ID");
    if let Some(p) = env("NEMO_PROFILE") {
        c.profile = Profile::parse(&p).ok_or_else(|| {
            let names: Vec<_> = Profile::ALL.iter().map(|p| p.source()).collect();
            format!("unknown NEMO_PROFILE {p:?}; one of: {}", names.join(", "))
        })?;
    }
    if let Some(v) = env("NEMO_SKILL_VERSION") {
        c.skill_version = v;
    }
    c.platform_override = env("SKILL_SOURCE");
    c.network = nemo_client::NetworkSettings::from_env()?;
    for url in [&c.api_url, &c.web_url] {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("configuration: not an http(s) URL: {url}"));
        }
    }
    Ok(c)
}

/// `~/Videos/NemoVideo` (the platform's Videos folder).
pub fn default_output_dir() -> PathBuf {
    dirs::video_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join("Videos")))
        .unwrap_or_else(|| PathBuf::from("Videos"))
        .join("NemoVideo")
}

impl Settings {
    /// Where uploads may come from: the allowed folders, never our own state (credentials,
    /// journal, client id), as configured and as resolved. The server and the commands that
    /// take files (`brand set`) check against the same policy.
    /// Defaults around a client configuration (for embedding: the demo, tests).
    pub fn new(client: Config, output_dir: PathBuf, allowed_dirs: Vec<PathBuf>) -> Settings {
        let canonical: Vec<PathBuf> = allowed_dirs
            .iter()
            .filter_map(|p| p.canonicalize().ok())
            .collect();
        let mut lexical: Vec<PathBuf> = allowed_dirs
            .iter()
            .filter(|p| p.is_absolute() && p.exists())
            .map(|p| p.components().collect())
            .chain(canonical.iter().cloned())
            .collect();
        lexical.dedup();
        Settings {
            client,
            language: "en".into(),
            output_dir,
            allowed_dirs: canonical,
            allowed_lexical: lexical,
            default_wait: DEFAULT_WAIT,
            progress_every: Duration::from_secs(5),
            render_poll: Duration::from_secs(10),
            render_timeout: Duration::from_secs(20 * 60),
            recovery_first: Duration::from_secs(30),
            recovery_then: Duration::from_secs(60),
            recovery_reads: 5,
            settle_first: Duration::from_secs(1),
            settle_reads: 4,
            confirm_below: 20,
            confirm_always: false,
            confirm_spending: false,
            poster: true,
            variant_concurrency: DEFAULT_VARIANT_CONCURRENCY,
            budgets: crate::account::spend::Budgets::default(),
        }
    }

    /// Everything from the environment; `profile` (from `--profile`) wins over `NEMO_PROFILE`.
    pub fn from_env(profile: Option<Profile>) -> Result<Settings, String> {
        let mut client = client_config_from_env()?;
        if let Some(p) = profile {
            client.profile = p;
        }
        let output_dir = env("NEMO_OUTPUT_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(default_output_dir);
        let allowed = match env("NEMO_ALLOWED_DIRS") {
            Some(v) => std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect(),
            None => dirs::home_dir().into_iter().collect::<Vec<_>>(),
        };
        // The defaults are `Settings::new`'s (which canonicalizes the allowed folders); the
        // environment only overrides what it sets.
        let mut s = Settings::new(client, output_dir, allowed);
        s.language = locale::of_host();
        if let Some(v) = env("NEMO_DEFAULT_WAIT_S") {
            match wait_seconds(&v) {
                Some(wait) => s.default_wait = wait,
                None => tracing::warn!(
                    "NEMO_DEFAULT_WAIT_S={v:?} is not a finite number of seconds; using {} s",
                    s.default_wait.as_secs()
                ),
            }
        }
        if let Some(v) = env("NEMO_CONFIRM_BELOW") {
            match v.parse::<i64>() {
                Ok(n) => s.confirm_below = n,
                Err(_) => tracing::warn!(
                    "NEMO_CONFIRM_BELOW={v:?} is not a whole number; using {}",
                    s.confirm_below
                ),
            }
        }
        s.confirm_always = env("NEMO_CONFIRM").is_some_and(|v| v.eq_ignore_ascii_case("always"));
        s.confirm_spending = env_flag("NEMO_CONFIRM_SPENDING")?.unwrap_or(false);
        s.poster = env_flag("NEMO_POSTER")?.unwrap_or(true);
        if let Some(v) = env("NEMO_VARIANT_CONCURRENCY") {
            let max = MAX_VARIANTS;
            s.variant_concurrency = v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    format!(
                        "NEMO_VARIANT_CONCURRENCY={v:?}: expected a whole number from 1 to {max}"
                    )
                })?;
        }
        s.budgets = crate::account::spend::Budgets {
            spending_off: !env_flag("NEMO_ALLOW_SPENDING")?.unwrap_or(true),
            per_day: env_credits("NEMO_MAX_CREDITS_PER_DAY")?,
            per_session: env_credits("NEMO_MAX_CREDITS_PER_SESSION")?,
        };
        if let Some(d) = env_ms("NEMO_PROGRESS_INTERVAL_MS") {
            s.progress_every = d;
        }
        if let Some(d) = env_ms("NEMO_RENDER_POLL_MS") {
            s.render_poll = d;
        }
        if let Some(d) = env_ms("NEMO_RECOVERY_WAIT_MS") {
            s.recovery_first = d;
            s.recovery_then = d;
            s.settle_first = d.min(s.settle_first);
        }
        Ok(s)
    }

    /// Folders given on the command line (`--allowed-dirs`) replace the environment's, once
    /// placeholders are resolved; none left (all unexpanded `${…}`) keeps the environment's.
    pub fn with_allowed_dirs_given(self, given: &[String]) -> Settings {
        let home = dirs::home_dir();
        let dirs: Vec<PathBuf> = given
            .iter()
            .filter_map(|d| {
                crate::config::placeholders::resolve("--allowed-dirs", d, home.as_deref())
            })
            .map(PathBuf::from)
            .collect();
        if dirs.is_empty() {
            return self;
        }
        let fresh = Settings::new(self.client.clone(), self.output_dir.clone(), dirs);
        Settings {
            allowed_dirs: fresh.allowed_dirs,
            allowed_lexical: fresh.allowed_lexical,
            ..self
        }
    }

    /// Where earlier versions kept one file per job: read once, when the old files are moved
    /// into the shared database ([`crate::moving_in`]).
    pub fn journal_dir(&self) -> PathBuf {
        self.client.state_dir.join("jobs")
    }

    /// After a turn whose end was not seen: quick reads, then the contract's schedule.
    pub fn recovery_waits(&self) -> nemo_client::RecoveryWaits {
        self.settle_waits().then(nemo_client::RecoveryWaits::new(
            self.recovery_first,
            self.recovery_then,
            self.recovery_reads,
        ))
    }

    /// After a finished turn that shows no change yet: the quick reads only.
    pub fn settle_waits(&self) -> nemo_client::RecoveryWaits {
        nemo_client::RecoveryWaits::quick(self.settle_first, self.settle_reads)
    }

    /// A bounded wait from a tool argument.
    pub fn wait(&self, wait_s: Option<f64>) -> Duration {
        match wait_s {
            Some(s) if s.is_finite() => {
                Duration::from_secs_f64(s.clamp(0.0, MAX_WAIT.as_secs_f64()))
            }
            _ => self.default_wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_from_text_are_bounded_and_never_panic() {
        assert_eq!(wait_seconds("12.5"), Some(Duration::from_millis(12_500)));
        assert_eq!(wait_seconds("-3"), Some(Duration::ZERO));
        assert_eq!(wait_seconds("1e9"), Some(MAX_WAIT));
        for bad in ["NaN", "inf", "-inf", "soon", ""] {
            assert_eq!(wait_seconds(bad), None, "{bad}");
        }
    }

    /// A bundle passes its folders as arguments; one the host left as `${user_config.…}` is
    /// no folder, and `${HOME}` is the home folder.
    #[test]
    fn folders_given_on_the_command_line_replace_the_environments_but_placeholders_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let env_dir = dir.path().join("env");
        let given = dir.path().join("given");
        std::fs::create_dir_all(&env_dir).unwrap();
        std::fs::create_dir_all(&given).unwrap();
        let client = Config::new("http://127.0.0.1:1", dir.path().join("state"));
        let s = Settings::new(client, dir.path().join("out"), vec![env_dir.clone()]);
        let kept = s
            .clone()
            .with_allowed_dirs_given(&["${user_config.allowed_dirs}".to_string()]);
        assert_eq!(kept.allowed_dirs, vec![env_dir.canonicalize().unwrap()]);
        let replaced = s.with_allowed_dirs_given(&[given.display().to_string()]);
        assert_eq!(replaced.allowed_dirs, vec![given.canonicalize().unwrap()]);
    }
}

//! What a simulator instance looks like: the response variants it speaks and how fast time runs.
//!
//! The contract lists several shapes for the same thing (three envelopes, two event families,
//! several render-status layouts, four heartbeat forms). One simulator instance speaks one choice
//! of each, so a test can prove the client against every combination.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// How JSON responses are wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Envelope {
    /// `{"code":0,"message":"ok","data":{..}}`; errors are HTTP 200 with a non-zero `code`.
    #[default]
    Code,
    /// `{"success":true,"data":{..}}`; errors are `{"success":false,"error":".."}` with an HTTP status.
    Success,
    /// The bare object; errors are `{"code":N,"message":".."}` with an HTTP status.
    Bare,
}

/// Where the render-status fields sit (contract §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RenderShape {
    /// `{"status":..,"progress":..,"output":{"url":..,"duration":..,"size":..}}`
    #[default]
    TopLevel,
    /// `{"success":true,"data":{"id":..,"status":..,"outputUrl":..,"createdAt":..,"completedAt":..}}`
    InData,
    /// `{"code":0,"data":{"status":..,"progress":..,"output":{"url":..}}}`
    CodeData,
}

/// Which of the two SSE event families `/run_sse` emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventFamily {
    /// Google ADK events: `{"content":{"parts":[..]},"author":..,"invocationId":..}`.
    #[default]
    Adk,
    /// `{"type":"text","content":".."}` and friends.
    Simple,
}

/// How "still working" is said on the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeartbeatForm {
    /// `: ping`
    #[default]
    Comment,
    /// `data: ` with nothing after it.
    EmptyData,
    /// `data: {"type":"heartbeat"}`
    Json,
    /// `event: heartbeat`
    EventName,
}

/// How `session_id` is written in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionIdForm {
    #[default]
    String,
    /// A bare JSON number (above 2^53, so a client going through f64 loses digits).
    Number,
}

/// How rendered files are produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Renderer {
    /// ffmpeg when it is on PATH, else the built-in encoder.
    #[default]
    Auto,
    /// Always the built-in encoder (fast; what unit tests use).
    Builtin,
}

/// How an error code reaches the client (contract "Response envelopes": "Errors arrive as an
/// HTTP status, as a non-zero `code` in a 200 response, or both").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorForm {
    /// HTTP 200 with the non-zero code in the envelope.
    CodeIn200,
    /// The HTTP status and a message, no code.
    StatusOnly,
    /// The HTTP status and the code.
    Both,
}

impl ErrorForm {
    pub const ALL: [ErrorForm; 3] = [ErrorForm::CodeIn200, ErrorForm::StatusOnly, ErrorForm::Both];
}

/// What this test run chose where the contract leaves the backend a choice. Every simulator
/// started without an explicit choice uses it, so one run of the suite speaks one combination
/// and the next run likely another: the client never depends on one guess. `NEMO_SIM_SEED`
/// repeats a run's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunChoice {
    pub seed: u64,
    pub error_form: ErrorForm,
    /// No response carries `user_id`.
    pub no_user_id: bool,
}

impl RunChoice {
    pub fn from_seed(seed: u64) -> RunChoice {
        RunChoice {
            seed,
            error_form: ErrorForm::ALL[(seed % 3) as usize],
            no_user_id: (seed / 3) % 2 == 1,
        }
    }

    /// This process's choice: from `NEMO_SIM_SEED`, else from the clock. Said once on stderr.
    pub fn this_run() -> RunChoice {
        static CHOICE: std::sync::OnceLock<RunChoice> = std::sync::OnceLock::new();
        *CHOICE.get_or_init(|| {
            let seed = std::env::var("NEMO_SIM_SEED")
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or_else(|| {
                    let t = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default();
                    t.as_nanos() as u64 ^ u64::from(std::process::id())
                });
            let c = RunChoice::from_seed(seed);
            eprintln!(
                "nemo-sim: this run's choices: errors {:?}, user_id omitted: {} (NEMO_SIM_SEED={seed} repeats them)",
                c.error_form, c.no_user_id
            );
            c
        })
    }
}

/// All variant choices of one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variants {
    pub envelope: Envelope,
    pub render_shape: RenderShape,
    pub event_family: EventFamily,
    pub heartbeat: HeartbeatForm,
    pub session_id: SessionIdForm,
    /// ADK only: emit `partial:true` token chunks before each full text.
    pub partial_chunks: bool,
    /// ADK only: snake_case keys (`invocation_id`, `function_call`) instead of camelCase.
    pub snake_case_keys: bool,
    /// Spread each JSON payload over several `data:` lines.
    pub multiline_data: bool,
    /// Completed renders carry no URL, so clients must use the `/download` fallback.
    pub render_without_url: bool,
    /// The anonymous-token response carries only `token` and `credits` (newer servers).
    pub token_without_user: bool,
    /// Upload responses leave `cdn_url` out (the contract: fields may be missing), so a client
    /// cannot give the media to another project by reference.
    pub upload_without_cdn_url: bool,
    /// No response carries `user_id` (token, session, state): a client must still give a
    /// registration link when credits run out. By default, this run's choice.
    pub no_user_id: bool,
    /// How errors carry their code. By default, this run's choice.
    pub error_form: ErrorForm,
}

impl Default for Variants {
    /// The first variant of each kind, and this run's choice where the contract is open.
    fn default() -> Self {
        let run = RunChoice::this_run();
        Variants {
            envelope: Envelope::default(),
            render_shape: RenderShape::default(),
            event_family: EventFamily::default(),
            heartbeat: HeartbeatForm::default(),
            session_id: SessionIdForm::default(),
            partial_chunks: false,
            snake_case_keys: false,
            multiline_data: false,
            render_without_url: false,
            token_without_user: false,
            upload_without_cdn_url: false,
            no_user_id: run.no_user_id,
            error_form: run.error_form,
        }
    }
}

impl Variants {
    /// Apply one `key=value` setting, as given to `--variant`.
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let (key, value) = spec.split_once('=').unwrap_or((spec, "true"));
        let flag = || -> Result<bool, String> {
            bool::from_str(value).map_err(|_| format!("{key}: expected true/false, got {value:?}"))
        };
        match (key, value) {
            ("envelope", "code") => self.envelope = Envelope::Code,
            ("envelope", "success") => self.envelope = Envelope::Success,
            ("envelope", "bare") => self.envelope = Envelope::Bare,
            ("render", "top") => self.render_shape = RenderShape::TopLevel,
            ("render", "data") => self.render_shape = RenderShape::InData,
            ("render", "code") => self.render_shape = RenderShape::CodeData,
            ("events", "adk") => self.event_family = EventFamily::Adk,
            ("events", "simple") => self.event_family = EventFamily::Simple,
            ("heartbeat", "comment") => self.heartbeat = HeartbeatForm::Comment,
            ("heartbeat", "empty") => self.heartbeat = HeartbeatForm::EmptyData,
            ("heartbeat", "json") => self.heartbeat = HeartbeatForm::Json,
            ("heartbeat", "event") => self.heartbeat = HeartbeatForm::EventName,
            ("session_id", "string") => self.session_id = SessionIdForm::String,
            ("session_id", "number") => self.session_id = SessionIdForm::Number,
            ("partial", _) => self.partial_chunks = flag()?,
            ("snake_case", _) => self.snake_case_keys = flag()?,
            ("multiline", _) => self.multiline_data = flag()?,
            ("render_without_url", _) => self.render_without_url = flag()?,
            ("token_without_user", _) => self.token_without_user = flag()?,
            ("upload_without_cdn_url", _) => self.upload_without_cdn_url = flag()?,
            ("no_user_id", _) => self.no_user_id = flag()?,
            ("errors", "code") => self.error_form = ErrorForm::CodeIn200,
            ("errors", "status") => self.error_form = ErrorForm::StatusOnly,
            ("errors", "both") => self.error_form = ErrorForm::Both,
            _ => return Err(format!("unknown variant {spec:?}")),
        }
        Ok(())
    }
}

/// Configuration of one simulator instance.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// 0 picks a free port.
    pub port: u16,
    pub variants: Variants,
    /// Every duration (heartbeat interval, generation time, render time) is multiplied by this.
    pub time_scale: f64,
    /// Where uploads and renders are stored; a temporary directory when `None`.
    pub data_dir: Option<PathBuf>,
    pub renderer: Renderer,
    /// The backend's upload limit for requests that claim a profile other than
    /// `free-video-generation-tools`.
    pub max_upload_bytes: u64,
    /// The limit for requests that claim `free-video-generation-tools` (seed 001: 200 MB).
    pub max_upload_bytes_free_tools: u64,
    /// Credits a new anonymous user starts with.
    pub starting_credits: i64,
    /// Tokens this instance accepts as registered users (as if issued by the web site).
    pub registered_tokens: Vec<String>,
    /// Reject what the real backend might reject (the default): requests that differ from the
    /// seeds' form, missing attribution, uploads over the claimed profile's limit, files whose
    /// bytes are not their type. `false` (`--lenient`) accepts them, for experiments.
    pub strict: bool,
    /// Tests: when the handle is dropped, fail (panic) if any request was refused as unlike the
    /// seeds' form, so every test that uses the simulator also checks the client's requests.
    pub fail_on_refusal: bool,
    /// A realistic render profile (seconds, before the time scale): each render takes a time
    /// drawn from this range (the contract: 30–90 s) and its progress is uneven (slow to start,
    /// faster later). `None`: every render takes the nominal 40 s, progress linear.
    pub render_secs: Option<(f64, f64)>,
    /// The origin clients reach this instance by, when a front (a TLS terminator, a reverse
    /// proxy) stands before it: the upload and render URLs it hands out use it. `None`: its own
    /// `http://127.0.0.1:PORT`.
    pub public_url: Option<String>,
    /// With ffmpeg: render the video at this constant bitrate (kbit/s, padded), so exports are
    /// as large as real ones (a 1080p export runs 8–30 Mbit/s: tens of MB). `None`: as small as
    /// the encoder makes it.
    pub render_kbps: Option<u32>,
    /// A backend that renders a file of another length than its timeline says (this fraction
    /// of it): what clients that check their files must notice. `None`: the timeline's length.
    pub render_length: Option<f64>,
    /// The built-in renderer's picture size (sides multiples of 16): the demo's 1280×720, or
    /// smaller for tests, whose renders are made by the hundred.
    pub builtin_size: (u32, u32),
}

/// The built-in renderer's picture size by default (the demo's).
pub const BUILTIN_SIZE: (u32, u32) = (1280, 720);

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            port: 0,
            variants: Variants::default(),
            time_scale: 1.0,
            data_dir: None,
            renderer: Renderer::Auto,
            max_upload_bytes: 500 * 1024 * 1024,
            max_upload_bytes_free_tools: 200 * 1024 * 1024,
            starting_credits: 100,
            render_secs: None,
            public_url: None,
            render_kbps: None,
            render_length: None,
            builtin_size: BUILTIN_SIZE,
            registered_tokens: Vec::new(),
            strict: true,
            fail_on_refusal: false,
        }
    }
}

impl SimConfig {
    /// A configuration for tests: fast time, the built-in renderer, and a failed test when a
    /// request was refused as unlike the seeds' form.
    pub fn fast() -> Self {
        Self {
            time_scale: 0.01,
            renderer: Renderer::Builtin,
            // A sixteenth of the demo's pixels: the same pictures, title and tone, made quickly.
            builtin_size: (320, 176),
            fail_on_refusal: true,
            ..Self::default()
        }
    }

    pub fn with_variants(mut self, variants: Variants) -> Self {
        self.variants = variants;
        self
    }

    pub fn with_public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into().trim_end_matches('/').to_string());
        self
    }

    pub fn with_time_scale(mut self, time_scale: f64) -> Self {
        self.time_scale = time_scale;
        self
    }

    /// How long the render with this id takes (scaled): drawn from [`SimConfig::render_secs`]
    /// by the id (so it is the same on every status request), else the nominal time.
    pub fn render_time(&self, id: &str) -> Duration {
        let Some((lo, hi)) = self
            .render_secs
            .filter(|(lo, hi)| lo.is_finite() && hi >= lo)
        else {
            return self.scaled(timing::RENDER);
        };
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut h);
        let u = (h.finish() % 10_000) as f64 / 10_000.0;
        self.scaled(Duration::from_secs_f64((lo + (hi - lo) * u).max(0.0)))
    }

    /// Progress (0–1) after `x` (0–1) of the render time: linear, or uneven in the realistic
    /// profile (slow to start, as encoders warm up, then faster).
    pub fn render_progress(&self, x: f64) -> f64 {
        let x = x.clamp(0.0, 1.0);
        if self.render_secs.is_some() {
            x.powf(1.4)
        } else {
            x
        }
    }

    /// Scale a nominal duration by the time scale.
    pub fn scaled(&self, nominal: Duration) -> Duration {
        let scale = if self.time_scale.is_finite() {
            self.time_scale.max(0.0)
        } else {
            1.0
        };
        nominal.mul_f64(scale)
    }
}

/// Nominal (unscaled) durations of backend work, from the contract's typical figures.
pub mod timing {
    use std::time::Duration;
    pub const HEARTBEAT: Duration = Duration::from_secs(5);
    pub const TEXT_TURN: Duration = Duration::from_secs(6);
    pub const EDIT_TURN: Duration = Duration::from_secs(15);
    pub const GENERATION_TURN: Duration = Duration::from_secs(120);
    pub const RENDER: Duration = Duration::from_secs(40);
    /// How long a stalled (heartbeat-only) stream goes on: the contract's 15-minute limit.
    pub const STALL: Duration = Duration::from_secs(15 * 60);
    pub const TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_specs_parse() {
        let mut v = Variants::default();
        v.set("envelope=success").unwrap();
        v.set("heartbeat=event").unwrap();
        v.set("partial").unwrap();
        v.set("session_id=number").unwrap();
        assert_eq!(v.envelope, Envelope::Success);
        assert_eq!(v.heartbeat, HeartbeatForm::EventName);
        assert!(v.partial_chunks);
        assert_eq!(v.session_id, SessionIdForm::Number);
        v.set("errors=status").unwrap();
        assert_eq!(v.error_form, ErrorForm::StatusOnly);
        assert!(v.set("envelope=xml").is_err());
        assert!(v.set("partial=maybe").is_err());
    }

    #[test]
    fn every_seed_gives_a_choice_and_seeds_cover_all_of_them() {
        let choices: std::collections::HashSet<_> = (0..6)
            .map(RunChoice::from_seed)
            .map(|c| (c.error_form, c.no_user_id))
            .collect();
        assert_eq!(choices.len(), 6);
    }

    #[test]
    fn durations_scale() {
        let c = SimConfig::default().with_time_scale(0.5);
        assert_eq!(c.scaled(Duration::from_secs(10)), Duration::from_secs(5));
    }
}

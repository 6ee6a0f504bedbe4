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

/// All variant choices of one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
    /// No response carries `user_id` (token, session, state): a client must still give a
    /// registration link when credits run out.
    pub no_user_id: bool,
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
            ("no_user_id", _) => self.no_user_id = flag()?,
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
    /// The backend's own upload limit.
    pub max_upload_bytes: u64,
    /// Credits a new anonymous user starts with.
    pub starting_credits: i64,
    /// Tokens this instance accepts as registered users (as if issued by the web site).
    pub registered_tokens: Vec<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            port: 0,
            variants: Variants::default(),
            time_scale: 1.0,
            data_dir: None,
            renderer: Renderer::Auto,
            max_upload_bytes: 500 * 1024 * 1024,
            starting_credits: 100,
            registered_tokens: Vec::new(),
        }
    }
}

impl SimConfig {
    /// A configuration for tests: fast time, the built-in renderer.
    pub fn fast() -> Self {
        Self {
            time_scale: 0.01,
            renderer: Renderer::Builtin,
            ..Self::default()
        }
    }

    pub fn with_variants(mut self, variants: Variants) -> Self {
        self.variants = variants;
        self
    }

    pub fn with_time_scale(mut self, time_scale: f64) -> Self {
        self.time_scale = time_scale;
        self
    }

    /// Scale a nominal duration by the time scale.
    pub fn scaled(&self, nominal: Duration) -> Duration {
        nominal.mul_f64(self.time_scale.max(0.0))
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
        assert!(v.set("envelope=xml").is_err());
        assert!(v.set("partial=maybe").is_err());
    }

    #[test]
    fn durations_scale() {
        let c = SimConfig::default().with_time_scale(0.5);
        assert_eq!(c.scaled(Duration::from_secs(10)), Duration::from_secs(5));
    }
}

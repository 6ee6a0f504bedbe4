//! Logs go to stderr only (stdout is the MCP channel), with anything that looks like a NemoVideo
//! token masked as a last line of defence (tokens are also never formatted in the first place).

use std::io::Write;
use tracing_subscriber::fmt::MakeWriter;

/// The prefixes of NemoVideo secrets: user tokens (`nmv_usr_…`) and claim tokens (`clm_…`).
const SECRET_PREFIXES: [&str; 2] = ["nmv_", "clm_"];

/// Replace `nmv_usr_...`/`clm_...`-style secrets with a mask.
pub fn redact(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    loop {
        let next = SECRET_PREFIXES
            .iter()
            .filter_map(|p| rest.find(p).map(|i| (i, *p)))
            .min();
        let Some((i, prefix)) = next else {
            break;
        };
        out.push_str(&rest[..i]);
        let tail = &rest[i + prefix.len()..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(tail.len());
        out.push_str(prefix);
        out.push_str("***");
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

pub struct Redacting;

pub struct RedactingWriter {
    buf: Vec<u8>,
}

impl Write for RedactingWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactingWriter {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let _ = std::io::stderr().write_all(redact(&text).as_bytes());
    }
}

impl<'a> MakeWriter<'a> for Redacting {
    type Writer = RedactingWriter;
    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter { buf: Vec::new() }
    }
}

/// `NEMO_LOG` or `RUST_LOG` (else `default`), to stderr; this server's own events at info and
/// above also go to [`subscribe`]rs (the MCP client, as `notifications/message`).
pub fn init(default: &str) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = std::env::var("NEMO_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| default.into());
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new(filter))
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(Redacting)
                .with_ansi(false)
                .with_target(false),
        )
        .with(Forward)
        .try_init();
}

/// One log event for an MCP client: its level and its (redacted) text.
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub level: tracing::Level,
    pub target: String,
    pub text: String,
}

/// The most characters of one log event sent to a client.
const MAX_FORWARDED: usize = 4_000;

fn channel() -> &'static tokio::sync::broadcast::Sender<LogEvent> {
    static TX: std::sync::OnceLock<tokio::sync::broadcast::Sender<LogEvent>> =
        std::sync::OnceLock::new();
    TX.get_or_init(|| tokio::sync::broadcast::channel(256).0)
}

/// The server's log events from now on (a slow reader loses the oldest, never blocks logging).
pub fn subscribe() -> tokio::sync::broadcast::Receiver<LogEvent> {
    channel().subscribe()
}

/// Sends this crate's events (never the SDK's: a log about sending a notification must not
/// cause another notification) to [`subscribe`]rs.
struct Forward;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Forward {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let meta = event.metadata();
        if !meta.target().starts_with("nemo") || *meta.level() > tracing::Level::INFO {
            return;
        }
        if channel().receiver_count() == 0 {
            return;
        }
        let mut text = String::new();
        event.record(&mut Text(&mut text));
        // A log line may quote the backend (up to an SSE event's megabyte): each one sent
        // to a client is held to a few kilobytes, so the channel's 256 stay small.
        let _ = channel().send(LogEvent {
            level: *meta.level(),
            target: meta.target().to_string(),
            text: super::excerpt(&redact(&text), MAX_FORWARDED),
        });
    }
}

struct Text<'a>(&'a mut String);

impl tracing::field::Visit for Text<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        if field.name() == "message" {
            self.0.push_str(&format!("{value:?}"));
        } else {
            self.0.push_str(&format!("{}={value:?}", field.name()));
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            if !self.0.is_empty() {
                self.0.push(' ');
            }
            self.0.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_masked() {
        assert_eq!(super::redact("token=nmv_usr_abc123 ok"), "token=nmv_*** ok");
        assert_eq!(super::redact("no secrets"), "no secrets");
        assert_eq!(
            super::redact("claim?token=clm_9f8e7d&x=1 then nmv_usr_z"),
            "claim?token=clm_***&x=1 then nmv_***"
        );
    }

    /// A log line quoting a megabyte of the backend's words reaches a client cut to a few
    /// kilobytes (its start and end kept), its token still masked.
    #[test]
    fn a_forwarded_line_is_bounded() {
        use tracing_subscriber::layer::SubscriberExt;
        let mut rx = super::subscribe();
        let words = "backend words ".repeat(80_000);
        let subscriber = tracing_subscriber::registry().with(super::Forward);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!("nmv_usr_secret said: {words} (job gen_0123456789ab)");
        });
        let event = rx.try_recv().unwrap();
        assert!(event.text.chars().count() <= super::MAX_FORWARDED + super::super::CUT.len());
        assert!(
            event.text.starts_with("nmv_*** said: backend words"),
            "{}",
            &event.text[..80]
        );
        assert!(event.text.ends_with("(job gen_0123456789ab)"));
    }
}

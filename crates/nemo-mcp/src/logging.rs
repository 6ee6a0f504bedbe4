//! Logs go to stderr only (stdout is the MCP channel), with anything that looks like a NemoVideo
//! token masked as a last line of defence (tokens are also never formatted in the first place).

use std::io::Write;
use tracing_subscriber::fmt::MakeWriter;

/// Replace `nmv_usr_...`/`clm_...`-style secrets with a mask.
pub fn redact(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find("nmv_") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(tail.len());
        out.push_str("nmv_***");
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

/// `NEMO_LOG` or `RUST_LOG` (else `default`), to stderr.
pub fn init(default: &str) {
    let filter = std::env::var("NEMO_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| default.into());
    let _ = tracing_subscriber::fmt()
        .with_writer(Redacting)
        .with_ansi(false)
        .with_target(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .try_init();
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_masked() {
        assert_eq!(super::redact("token=nmv_usr_abc123 ok"), "token=nmv_*** ok");
        assert_eq!(super::redact("no secrets"), "no secrets");
    }
}

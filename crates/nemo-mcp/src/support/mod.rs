//! Support: small pieces every room may use and that use no room: the mutex helper, the log
//! setup (stderr only: stdout is the MCP channel), the clock people read times in, and the
//! excerpt of a text too long to say whole.

pub mod logging;
pub mod sync;

/// What a cut leaves in the middle of a text: said, never silent.
pub const CUT: &str = " … (cut to fit) … ";

/// `text` in at most `keep` characters and the cut: its start and its end (where a message
/// names its job, and a step its tool), the middle said to be cut. For words that come from
/// the backend and can be any length.
pub fn excerpt(text: &str, keep: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= keep {
        return text.to_string();
    }
    let tail = (keep / 3).min(160);
    let head = keep - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push_str(CUT);
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// The first `bytes` bytes of `secret`'s SHA-256, in hex: a name for a secret (a workspace
/// handle, a token) that can be kept and compared without holding it.
pub fn hashed(secret: &str, bytes: usize) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(secret.as_bytes())
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `65.2` → `1:05`: a time in a video as people read it (storyboard and contact-sheet labels,
/// the notes on a file's pictures and sound).
pub fn clock(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_excerpt_keeps_both_ends() {
        let e = super::excerpt(&format!("start {} end (job vid_1)", "x".repeat(1000)), 60);
        assert!(
            e.starts_with("start xx") && e.ends_with("x end (job vid_1)"),
            "{e}"
        );
        assert_eq!(e.chars().count(), 60 + super::CUT.chars().count());
        assert_eq!(super::excerpt("short", 60), "short");
    }

    #[test]
    fn clock_reads_minutes_and_seconds() {
        assert_eq!(super::clock(0.0), "0:00");
        assert_eq!(super::clock(65.2), "1:05");
        assert_eq!(super::clock(-3.0), "0:00");
        assert_eq!(super::clock(600.0), "10:00");
    }
}

//! Support: small pieces every room may use and that use no room: the mutex helper, the log
//! setup (stderr only: stdout is the MCP channel) and the clock people read times in.

pub mod logging;
pub mod sync;

/// `65.2` → `1:05`: a time in a video as people read it (storyboard and contact-sheet labels,
/// the notes on a file's pictures and sound).
pub fn clock(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock_reads_minutes_and_seconds() {
        assert_eq!(super::clock(0.0), "0:00");
        assert_eq!(super::clock(65.2), "1:05");
        assert_eq!(super::clock(-3.0), "0:00");
        assert_eq!(super::clock(600.0), "10:00");
    }
}

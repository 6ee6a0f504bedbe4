//! The lengths compared: what a request states ("a 30-second promo"), what the timeline says
//! and what the file is; a sentence when they differ.

/// The length a request states ("a 30-second promo", "15s", "1 minute"), in seconds.
pub fn requested_length(instruction: &str) -> Option<f64> {
    let lower = instruction.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '-' || c == ',' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let digits: String = w
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let Ok(n) = digits.parse::<f64>() else {
            continue;
        };
        let unit = match &w[digits.len()..] {
            "" => words.get(i + 1).copied().unwrap_or(""),
            rest => rest,
        };
        let unit = unit.trim_end_matches(['.', ';', ':']);
        let seconds = if matches!(unit, "s" | "sec" | "secs" | "second" | "seconds")
            || unit.starts_with('秒')
        {
            n
        } else if matches!(unit, "min" | "mins" | "minute" | "minutes") || unit.starts_with("分钟")
        {
            n * 60.0
        } else {
            continue;
        };
        if seconds > 0.0 && seconds <= 3600.0 {
            return Some(seconds);
        }
    }
    None
}

/// How a length note begins.
pub const LENGTH_DIFFERS: &str = "Length differs";

/// What differs between what was asked, what the timeline says and what the file is: one
/// sentence, or none when they agree (within a second, or 5 % for long videos).
pub fn mismatch(asked: Option<f64>, timeline: Option<f64>, file: f64) -> Option<String> {
    let off = |want: f64| (want - file).abs() > (want * 0.05).max(1.0);
    let asked_off = asked.is_some_and(off);
    let timeline_off = timeline.is_some_and(off);
    if !asked_off && !timeline_off {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(a) = asked {
        parts.push(format!("asked for {a:.0} s"));
    }
    if let Some(t) = timeline {
        parts.push(format!("the timeline says {t:.1} s"));
    }
    Some(format!(
        "{LENGTH_DIFFERS}: {}, but the file is {file:.1} s long; check it before sharing, or ask for a change with generate and export again",
        parts.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stated_lengths_are_read_from_requests() {
        let cases = [
            ("combine these into a 30-second promo video", Some(30.0)),
            ("make a 15s clip", Some(15.0)),
            ("a 1 minute video with music", Some(60.0)),
            ("做一个 20 秒的视频", Some(20.0)),
            ("add a title \"Sale\"", None),
            ("use 5 photos", None),
        ];
        for (text, want) in cases {
            assert_eq!(requested_length(text), want, "{text}");
        }
    }

    #[test]
    fn a_mismatch_names_all_three_lengths() {
        assert_eq!(mismatch(Some(30.0), Some(30.0), 30.4), None);
        let m = mismatch(Some(30.0), Some(30.0), 20.0).unwrap();
        assert!(
            m.contains("asked for 30 s") && m.contains("timeline says 30.0 s"),
            "{m}"
        );
        assert!(m.contains("the file is 20.0 s"), "{m}");
        assert!(mismatch(None, Some(12.0), 10.0).is_some());
        assert_eq!(mismatch(None, None, 10.0), None);
    }
}

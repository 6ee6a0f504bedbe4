//! The lengths compared: what a request states ("a 30-second promo"), what the timeline says
//! and what the file is; a sentence when they differ.

/// The length a request states, in seconds: "a 30-second promo", "15s", "1 minute", "a
/// one-minute video", "half a minute", "30秒", "一分钟", "二十秒", "半分钟" (the languages the seeds
/// serve). A limit ("under a minute", "一分钟以内") is no length to make: see [`asked_length`].
/// Held against `tests/data/lengths.tsv`.
pub fn requested_length(instruction: &str) -> Option<f64> {
    asked_length(instruction)
        .filter(|a| !a.at_most)
        .map(|a| a.seconds)
}

/// A length a request asks for: one to make, or one not to pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AskedLength {
    pub seconds: f64,
    /// "under a minute", "at most 30 seconds", "不超过30秒", "一分钟以内": a limit, which any
    /// shorter video keeps.
    pub at_most: bool,
}

/// The length a request asks for, as a length to make or a limit.
pub fn asked_length(instruction: &str) -> Option<AskedLength> {
    let (seconds, at_most) = chinese_length(instruction).or_else(|| english_length(instruction))?;
    (seconds > 0.0 && seconds <= 3600.0).then_some(AskedLength { seconds, at_most })
}

/// English words that make the length after them a limit ("under", "at most", "up to").
fn english_limit(before: &[&str]) -> bool {
    let last = before.last().copied().unwrap_or_default();
    let two = match before {
        [.., a, b] => (*a, *b),
        _ => ("", ""),
    };
    matches!(last, "under" | "within" | "max" | "maximum" | "below")
        || matches!(
            two,
            ("at", "most")
                | ("up", "to")
                | ("less", "than")
                | ("longer", "than")
                | ("more", "than")
                | ("shorter", "than")
        )
}

fn english_number(w: &str) -> Option<f64> {
    let digits: String = w
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    if !digits.is_empty() && digits.len() == w.len() {
        return digits.parse().ok();
    }
    let n = match w {
        "a" | "an" | "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "fifteen" => 15,
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "forty-five" => 45,
        "fifty" => 50,
        "sixty" => 60,
        "ninety" => 90,
        _ => return None,
    };
    Some(f64::from(n))
}

/// Seconds per unit word ("s", "sec", "seconds", "min", "minute", …).
fn english_unit(u: &str) -> Option<f64> {
    let u = u.trim_end_matches(['.', ';', ':', '!', '?']);
    if matches!(u, "s" | "sec" | "secs" | "second" | "seconds") {
        Some(1.0)
    } else if matches!(u, "min" | "mins" | "minute" | "minutes") {
        Some(60.0)
    } else {
        None
    }
}

fn english_length(instruction: &str) -> Option<(f64, bool)> {
    let lower = instruction.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '-' || c == ',' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let limit = english_limit(&words[..i]);
        // "half a minute"
        if *w == "half" && words.get(i + 1) == Some(&"a") {
            if let Some(unit) = words.get(i + 2).and_then(|u| english_unit(u)) {
                return Some((unit / 2.0, limit));
            }
        }
        // "30s", "15sec": the number and its unit in one word.
        let digits: String = w
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        if !digits.is_empty() && digits.len() < w.len() {
            if let (Ok(n), Some(unit)) = (digits.parse::<f64>(), english_unit(&w[digits.len()..])) {
                return Some((n * unit, limit));
            }
            continue;
        }
        let Some(n) = english_number(w) else {
            continue;
        };
        if let Some(unit) = words.get(i + 1).and_then(|u| english_unit(u)) {
            // "a" and "an" count only before a unit ("a minute"), as any number word does.
            return Some((n * unit, limit));
        }
    }
    None
}

/// A Chinese numeral of up to three digits' worth ("二十", "三十五", "十五", "两"), or digits.
fn chinese_number(s: &str) -> Option<f64> {
    if s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return s.parse().ok();
    }
    let digit = |c: char| {
        "零一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|d| d as u32)
            .or((c == '两').then_some(2))
    };
    let mut total = 0u32;
    let mut current = 0u32;
    for c in s.chars() {
        match c {
            '十' => {
                total += current.max(1) * 10;
                current = 0;
            }
            '百' => {
                total += current.max(1) * 100;
                current = 0;
            }
            c => current = digit(c)?,
        }
    }
    Some(f64::from(total + current))
}

fn chinese_length(instruction: &str) -> Option<(f64, bool)> {
    let chars: Vec<char> = instruction.chars().collect();
    let is_num =
        |c: char| c.is_ascii_digit() || c == '.' || "零一二两三四五六七八九十百".contains(c);
    let mut i = 0;
    while i < chars.len() {
        // "不超过", "最多", "不到", "少于" before it, "以内", "之内", "以下" after it: a limit.
        let limit_around = |start: usize, after: usize| {
            let before: String = chars[..start].iter().collect();
            let before = before.trim_end();
            let rest: String = chars[after.min(chars.len())..].iter().take(2).collect();
            ["不超过", "最多", "不到", "少于", "最长"]
                .iter()
                .any(|w| before.ends_with(w))
                || ["以内", "之内", "以下"].iter().any(|w| rest.starts_with(w))
                // "一分钟内", not "30秒内容" (thirty seconds of content).
                || (rest.starts_with('内') && !rest.starts_with("内容"))
        };
        // "半分钟": half a minute.
        if chars[i] == '半' && chars.get(i + 1) == Some(&'分') {
            let after = i + if chars.get(i + 2) == Some(&'钟') {
                3
            } else {
                2
            };
            return Some((30.0, limit_around(i, after)));
        }
        if !is_num(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_num(chars[i]) {
            i += 1;
        }
        let number: String = chars[start..i].iter().collect();
        // "20 秒": a space may stand between the number and its unit.
        let mut u = i;
        while chars.get(u).is_some_and(|c| c.is_whitespace()) {
            u += 1;
        }
        let (unit, after) = match chars.get(u) {
            Some('秒') => (1.0, u + 1),
            Some('分') if chars.get(u + 1) == Some(&'钟') => (60.0, u + 2),
            Some('分') => (60.0, u + 1),
            _ => continue,
        };
        if let Some(n) = chinese_number(&number) {
            return Some((n * unit, limit_around(start, after)));
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

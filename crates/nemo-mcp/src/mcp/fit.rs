//! Every result fits the strictest host, whatever the backend says. Lists are paged
//! (`paging`), but free text comes from NemoVideo too: a reply (up to 64 KB), an error message
//! (a refusal's body, an in-stream error of up to 1 MB), a timeline's names. Codex cuts a
//! result at about 10 KiB or 256 lines, mid-JSON; so each result's structured content is held
//! to [`STRUCTURED_BUDGET`] bytes of compact JSON by shortening its longest strings, and its
//! text to [`TEXT_LINES`] lines and [`TEXT_BUDGET`] bytes, each cut said where it is.

use crate::support::{excerpt as shorten, CUT};
use serde_json::Value;

/// The most bytes of compact JSON a result's structured content takes.
pub const STRUCTURED_BUDGET: usize = 8 * 1024;
/// The most lines, and bytes, of a result's text.
pub const TEXT_LINES: usize = 200;
pub const TEXT_BUDGET: usize = 8 * 1024;
/// A string is never cut shorter than this.
const KEEP: usize = 120;

/// Shorten `value`'s longest strings until it takes at most `budget` bytes as compact JSON.
pub fn structured(value: &mut Value, budget: usize) {
    // Each round halves (at least) the longest string: a few dozen rounds at most.
    for _ in 0..64 {
        let size = serde_json::to_string(value).map_or(0, |s| s.len());
        if size <= budget {
            return;
        }
        let Some(longest) = longest_string(value) else {
            return;
        };
        let chars = longest.chars().count();
        if chars <= KEEP + CUT.chars().count() {
            return;
        }
        let excess = size - budget;
        let keep = chars
            .saturating_sub(excess + CUT.chars().count())
            .min(chars / 2)
            .max(KEEP);
        *longest = shorten(longest, keep);
    }
}

/// A value a caller uses as it is (a file to open, a job to ask for, a page to turn to): never
/// cut, only words are.
fn names_a_thing(key: &str) -> bool {
    key.ends_with("path")
        || key.ends_with("_id")
        || key.ends_with("url")
        || key.ends_with("uri")
        || matches!(
            key,
            "frames" | "captions" | "cursor" | "next_cursor" | "workspace"
        )
}

fn longest_string(value: &mut Value) -> Option<&mut String> {
    match value {
        Value::String(s) => Some(s),
        Value::Array(items) => items
            .iter_mut()
            .filter_map(longest_string)
            .max_by_key(|s| s.len()),
        Value::Object(map) => map
            .iter_mut()
            .filter(|(key, _)| !names_a_thing(key))
            .filter_map(|(_, v)| longest_string(v))
            .max_by_key(|s| s.len()),
        _ => None,
    }
}

/// `text` in at most [`TEXT_LINES`] lines and [`TEXT_BUDGET`] bytes: over-long lines are cut
/// first (one line of a backend's words), then lines past the limit, then bytes.
pub fn text(text: &str) -> String {
    if text.len() <= TEXT_BUDGET && text.lines().count() <= TEXT_LINES {
        return text.to_string();
    }
    let per_line = TEXT_BUDGET / 4;
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| {
            if l.len() <= per_line {
                l.to_string()
            } else {
                shorten(l, per_line / 4)
            }
        })
        .collect();
    if lines.len() > TEXT_LINES {
        let more = lines.len() - (TEXT_LINES - 1);
        lines.truncate(TEXT_LINES - 1);
        lines.push(format!("… ({more} more lines cut to fit)"));
    }
    let mut out = lines.join("\n");
    if out.len() > TEXT_BUDGET {
        let mut end = TEXT_BUDGET - CUT.len() - 1;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push_str(CUT);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_long_backend_message_is_cut_and_the_rest_kept() {
        let mut v = json!({
            "code": "rejected",
            "message": format!("NemoVideo refused the request: {}", "words ".repeat(80_000)),
            "next_step": "call export_video",
            "retryable": false,
        });
        structured(&mut v, STRUCTURED_BUDGET);
        let size = serde_json::to_string(&v).unwrap().len();
        assert!(size <= STRUCTURED_BUDGET, "{size}");
        assert_eq!(v["next_step"], "call export_video");
        assert_eq!(v["code"], "rejected");
        let m = v["message"].as_str().unwrap();
        assert!(m.starts_with("NemoVideo refused the request: words"));
        assert!(m.contains(CUT), "{m}");
    }

    #[test]
    fn several_long_strings_are_each_cut_and_small_results_left_alone() {
        let mut v = json!({
            "reply": "é".repeat(30_000),
            "timeline": "t".repeat(20_000),
            "items": [{"path": format!("/{}.mp4", "a".repeat(300))}, {"changes": "c".repeat(9_000)}],
        });
        structured(&mut v, STRUCTURED_BUDGET);
        assert!(serde_json::to_string(&v).unwrap().len() <= STRUCTURED_BUDGET);
        assert_eq!(
            v["items"][0]["path"].as_str().unwrap().len(),
            305,
            "a path is never cut"
        );
        let small = json!({"path": "/a.mp4", "reply": "done"});
        let mut same = small.clone();
        structured(&mut same, STRUCTURED_BUDGET);
        assert_eq!(same, small);
    }

    #[test]
    fn text_keeps_to_its_lines_and_bytes() {
        let many = (0..500)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let t = text(&many);
        assert_eq!(t.lines().count(), TEXT_LINES);
        assert!(t.ends_with("(301 more lines cut to fit)"), "{t}");
        let wide = format!(
            "Error (rejected): {} (job vid_0123456789ab)\nNext step: call export_video",
            "ü".repeat(50_000)
        );
        let t = text(&wide);
        assert!(t.len() <= TEXT_BUDGET);
        assert!(t.ends_with("Next step: call export_video"), "{t}");
        assert!(
            t.contains(&format!("{CUT}üü")) && t.contains("(job vid_0123456789ab)"),
            "{t}"
        );
        assert_eq!(text("short\ntext"), "short\ntext");
    }
}

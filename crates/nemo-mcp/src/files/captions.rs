//! Captions beside the MP4: the timeline's text segments (titles, overlays, subtitles) as SubRip
//! (`.srt`) and WebVTT (`.vtt`) files, timed from the draft, for the platforms and players that
//! take a captions file. Written only when the timeline has text, never over an existing file.

use nemo_client::{Timeline, TrackKind};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One caption: from, to (milliseconds) and its text on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

/// The timeline's text segments as cues, in time order. A segment without an end lasts to the
/// timeline's end (or three seconds); empty texts are left out.
pub fn cues(t: &Timeline) -> Vec<Cue> {
    let mut out: Vec<Cue> = t
        .tracks
        .iter()
        .filter(|k| k.kind == TrackKind::Text)
        .flat_map(|k| &k.segments)
        .filter_map(|s| {
            let text = s
                .label
                .as_deref()?
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if text.is_empty() {
                return None;
            }
            let start_ms = s.start_ms.unwrap_or(0);
            let end_ms = s
                .end_ms
                .or(t.duration_ms)
                .filter(|e| *e > start_ms)
                .unwrap_or(start_ms.saturating_add(3000));
            Some(Cue {
                start_ms,
                end_ms,
                text,
            })
        })
        .collect();
    out.sort_by_key(|c| (c.start_ms, c.end_ms));
    out
}

fn stamp(ms: u64, decimal: char) -> String {
    format!(
        "{:02}:{:02}:{:02}{decimal}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// A caption's text as a line of a captions file: no line break, no cue separator, and no
/// `-->` (WebVTT ends a cue's text at a blank line and reads `-->` as timing).
fn line(text: &str) -> String {
    text.replace("-->", "→").replace(['\r', '\n'], " ")
}

/// How captions are laid out for a file of a shape: the longest line, and where the cue sits
/// (WebVTT's `line:` setting), so the text stays inside the platform's safe zone: a vertical
/// file's app puts its buttons and caption over the bottom fifth and the right edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub max_line: usize,
    /// Percent from the top where the cue's last line sits (None: the player's default).
    pub line_pct: Option<u32>,
}

impl Layout {
    /// For a `w`×`h` file (unknown: the broadcast default, 42 characters).
    pub fn for_size(size: Option<(u32, u32)>) -> Layout {
        match size {
            Some((w, h)) if w < h => Layout {
                max_line: 32,
                line_pct: Some(70),
            },
            Some((w, h)) if w == h => Layout {
                max_line: 36,
                line_pct: Some(80),
            },
            _ => Layout {
                max_line: 42,
                line_pct: None,
            },
        }
    }
}

impl Default for Layout {
    fn default() -> Self {
        Layout::for_size(None)
    }
}

/// `text` broken into lines of at most `max` columns (a CJK character is two), at spaces
/// where there are any.
fn wrap(text: &str, max: usize) -> String {
    let width = |c: char| if c > '\u{2E80}' { 2 } else { 1 };
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut cols = 0;
    for word in text.split(' ') {
        let w: usize = word.chars().map(width).sum();
        if cols > 0 && cols + 1 + w <= max {
            current.push(' ');
            current.push_str(word);
            cols += 1 + w;
            continue;
        }
        if cols > 0 {
            lines.push(std::mem::take(&mut current));
        }
        // A word (or a run of CJK) longer than a line is cut by columns.
        cols = 0;
        for c in word.chars() {
            if cols + width(c) > max {
                lines.push(std::mem::take(&mut current));
                cols = 0;
            }
            current.push(c);
            cols += width(c);
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines.join("\n")
}

/// SubRip: numbered cues, `00:00:01,000 --> 00:00:03,000`.
#[cfg(test)]
pub fn srt(cues: &[Cue]) -> String {
    srt_laid_out(cues, Layout::default())
}

fn srt_laid_out(cues: &[Cue], layout: Layout) -> String {
    let mut s = String::new();
    for (i, c) in cues.iter().enumerate() {
        s.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            stamp(c.start_ms, ','),
            stamp(c.end_ms, ','),
            wrap(&line(&c.text), layout.max_line)
        ));
    }
    s
}

/// WebVTT: the header, then cues with `00:00:01.000 --> 00:00:03.000`. Cue text is escaped
/// (`&`, `<`, `>`): WebVTT reads tags in it.
#[cfg(test)]
pub fn vtt(cues: &[Cue]) -> String {
    vtt_laid_out(cues, Layout::default())
}

fn vtt_laid_out(cues: &[Cue], layout: Layout) -> String {
    let mut s = String::from("WEBVTT\n\n");
    let setting = layout
        .line_pct
        .map(|p| format!(" line:{p}%"))
        .unwrap_or_default();
    for c in cues {
        let text = wrap(&line(&c.text), layout.max_line)
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        s.push_str(&format!(
            "{} --> {}{setting}\n{text}\n\n",
            stamp(c.start_ms, '.'),
            stamp(c.end_ms, '.')
        ));
    }
    s
}

/// Write `<mp4 stem>.srt` and `.vtt` beside the MP4; the files written. A name already taken
/// is left alone (and said in the error), never overwritten.
pub fn write_beside(mp4: &Path, cues: &[Cue], layout: Layout) -> Result<Vec<PathBuf>, String> {
    if cues.is_empty() {
        return Ok(Vec::new());
    }
    let mut written = Vec::new();
    let mut failed = Vec::new();
    for (ext, body) in [
        ("srt", srt_laid_out(cues, layout)),
        ("vtt", vtt_laid_out(cues, layout)),
    ] {
        let path = mp4.with_extension(ext);
        let made = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(body.as_bytes()));
        match made {
            Ok(()) => written.push(path),
            Err(e) => failed.push(format!("{}: {e}", path.display())),
        }
    }
    if failed.is_empty() {
        Ok(written)
    } else {
        Err(format!("captions not written: {}", failed.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nemo_client::{Segment, Track};

    /// Times read from the backend at the end of `u64`: a cue past every clock, never an
    /// overflow (a panic in a debug build, which the demo runs).
    #[test]
    fn a_segment_at_the_end_of_time_is_a_cue_not_a_panic() {
        let mut last = Segment::spanning(0.0, 1.0, "Late");
        last.start_ms = Some(u64::MAX - 1);
        last.end_ms = None;
        let t = Timeline {
            tracks: vec![Track {
                kind: TrackKind::Text,
                type_code: None,
                segments: vec![last],
            }],
            duration_ms: None,
            ..timeline()
        };
        let c = cues(&t);
        assert_eq!((c[0].start_ms, c[0].end_ms), (u64::MAX - 1, u64::MAX));
        assert!(srt(&c).contains("Late") && vtt(&c).contains("Late"));
    }

    fn timeline() -> Timeline {
        Timeline {
            tracks: vec![
                Track {
                    kind: TrackKind::Video,
                    type_code: None,
                    segments: vec![Segment::spanning(0.0, 30.0, "a.png")],
                },
                Track {
                    kind: TrackKind::Text,
                    type_code: None,
                    segments: vec![
                        Segment::spanning(27.0, 30.0, "Shop now"),
                        Segment::spanning(0.0, 3.5, "Spring <b>Sale</b> --> 50% & more\nnow"),
                        Segment::spanning(5.0, 6.0, "   "),
                    ],
                },
            ],
            duration_ms: Some(30_000),
            title: None,
        }
    }

    #[test]
    fn text_segments_become_cues_in_time_order() {
        let c = cues(&timeline());
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].start_ms, c[0].end_ms), (0, 3500));
        assert_eq!(c[1].text, "Shop now");
    }

    #[test]
    fn both_formats_are_well_formed() {
        let c = cues(&timeline());
        let s = srt(&c);
        assert!(s.starts_with("1\n00:00:00,000 --> 00:00:03,500\nSpring <b>Sale</b> → 50% & more now\n\n2\n00:00:27,000 --> 00:00:30,000\nShop now\n\n"), "{s}");
        let v = vtt(&c);
        assert!(v.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:03.500\nSpring &lt;b&gt;Sale&lt;/b&gt; → 50% &amp; more now\n\n"), "{v}");
    }

    #[test]
    fn files_are_written_beside_and_never_over_others() {
        let dir = tempfile::tempdir().unwrap();
        let mp4 = dir.path().join("promo.mp4");
        let written = write_beside(&mp4, &cues(&timeline()), Layout::default()).unwrap();
        assert_eq!(
            written,
            [dir.path().join("promo.srt"), dir.path().join("promo.vtt")]
        );
        let again = write_beside(&mp4, &cues(&timeline()), Layout::default()).unwrap_err();
        assert!(again.contains("promo.srt"), "{again}");
        assert!(write_beside(&mp4, &[], Layout::default())
            .unwrap()
            .is_empty());
    }

    /// A vertical file's captions: lines of at most 32 columns, the cue set above the bottom
    /// fifth; a wide file's keep the broadcast 42 and the player's placement.
    #[test]
    fn captions_fit_the_shape_of_their_file() {
        let cue = Cue {
            start_ms: 0,
            end_ms: 3000,
            text: "Spring sale: fifty percent off every sneaker in the store this weekend only"
                .into(),
        };
        let vertical = vtt_laid_out(
            std::slice::from_ref(&cue),
            Layout::for_size(Some((1080, 1920))),
        );
        assert!(vertical.contains("--> 00:00:03.000 line:70%"), "{vertical}");
        let text: Vec<&str> = vertical
            .lines()
            .skip(3)
            .take_while(|l| !l.is_empty())
            .collect();
        assert!(
            text.len() >= 3 && text.iter().all(|l| l.chars().count() <= 32),
            "{text:?}"
        );
        let wide = srt_laid_out(
            std::slice::from_ref(&cue),
            Layout::for_size(Some((1920, 1080))),
        );
        assert!(wide.lines().all(|l| l.chars().count() <= 42), "{wide}");
        assert_eq!(
            wrap("春季大促全场五折仅限本周末欢迎光临选购", 16)
                .lines()
                .count(),
            3
        );
        assert_eq!(wrap("short", 32), "short");
    }
}

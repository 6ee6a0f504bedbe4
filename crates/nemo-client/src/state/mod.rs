//! Typed views over the session state. The draft itself stays opaque JSON (it is passed back to
//! the render call untouched); what is known of it (`t`/`tt`/`sg`/`d`/`m`) is read leniently for
//! summaries, the exportable check and diffs.

pub(crate) mod answer;

pub use answer::{AssetInfo, SessionState};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackKind {
    Video,
    Audio,
    Text,
    Other,
}

impl TrackKind {
    fn from_tt(tt: Option<i64>) -> TrackKind {
        match tt {
            Some(0) => TrackKind::Video,
            Some(1) => TrackKind::Audio,
            Some(7) => TrackKind::Text,
            _ => TrackKind::Other,
        }
    }
    /// How the contract's summary names the track.
    pub fn label(self) -> &'static str {
        match self {
            TrackKind::Video => "Video",
            TrackKind::Audio => "BGM",
            TrackKind::Text => "Title",
            TrackKind::Other => "Track",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    pub label: Option<String>,
    /// Volume in percent, where the segment has one.
    pub volume_pct: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Track {
    pub kind: TrackKind,
    /// The raw `tt` value.
    pub type_code: Option<i64>,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Timeline {
    pub tracks: Vec<Track>,
    pub duration_ms: Option<u64>,
    pub title: Option<String>,
}

fn ms(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| *f >= 0.0)
            .map(|f| f as u64),
        _ => None,
    }
}

fn first<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().filter_map(|k| v.get(*k)).find(|x| !x.is_null())
}

impl Segment {
    /// A labelled segment from `start_s` to `end_s` seconds (previews, benchmarks, tests).
    pub fn spanning(start_s: f64, end_s: f64, label: &str) -> Segment {
        Segment {
            start_ms: Some((start_s * 1000.0) as u64),
            end_ms: Some((end_s * 1000.0) as u64),
            label: Some(label.to_string()),
            volume_pct: None,
        }
    }

    fn from_json(v: &Value) -> Segment {
        let start_ms = first(
            v,
            &[
                "st",
                "s",
                "start",
                "start_ms",
                "startTime",
                "start_time",
                "b",
            ],
        )
        .and_then(ms);
        let end_ms = first(v, &["et", "e", "end", "end_ms", "endTime", "end_time"])
            .and_then(ms)
            .or_else(|| {
                let dur = first(v, &["dur", "duration", "d", "len"]).and_then(ms)?;
                Some(start_ms.unwrap_or(0).saturating_add(dur))
            });
        let label = first(
            v,
            &["n", "name", "text", "title", "label", "content", "txt"],
        )
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
        let volume_pct = first(v, &["vol", "volume", "v"])
            .and_then(Value::as_f64)
            .map(|f| {
                if f <= 1.0 {
                    (f * 100.0).round() as u32
                } else {
                    f.round() as u32
                }
            });
        Segment {
            start_ms,
            end_ms,
            label,
            volume_pct,
        }
    }
}

impl Timeline {
    /// Read what is known from an opaque draft; anything unexpected is skipped, never an error.
    pub fn from_draft(draft: &Value) -> Timeline {
        let tracks = draft
            .get("t")
            .and_then(Value::as_array)
            .map(|ts| {
                ts.iter()
                    .filter(|t| t.is_object())
                    .map(|t| {
                        let type_code = t.get("tt").and_then(Value::as_i64);
                        Track {
                            kind: TrackKind::from_tt(type_code),
                            type_code,
                            segments: t
                                .get("sg")
                                .and_then(Value::as_array)
                                .map(|s| s.iter().map(Segment::from_json).collect())
                                .unwrap_or_default(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let title = draft
            .get("m")
            .and_then(|m| m.get("title"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut tl = Timeline {
            tracks,
            duration_ms: draft.get("d").and_then(ms),
            title,
        };
        if tl.duration_ms.is_none() {
            tl.duration_ms = tl
                .tracks
                .iter()
                .flat_map(|t| t.segments.iter().filter_map(|s| s.end_ms))
                .max();
        }
        tl
    }

    /// At least one track has a segment.
    pub fn is_exportable(&self) -> bool {
        self.tracks.iter().any(|t| !t.segments.is_empty())
    }

    /// `Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)`
    pub fn summary(&self) -> String {
        if self.tracks.is_empty() {
            return "Timeline is empty (no tracks yet)".to_string();
        }
        let n = self.tracks.len();
        let items: Vec<String> = self
            .tracks
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{}. {}", i + 1, t.describe()))
            .collect();
        format!(
            "Timeline ({n} track{}): {}",
            if n == 1 { "" } else { "s" },
            items.join(" ")
        )
    }
}

/// 10000 → "10s", 2500 → "2.5s".
pub fn secs(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        let s = format!("{:.1}", ms as f64 / 1000.0);
        format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

impl Track {
    fn span(&self) -> Option<(u64, u64)> {
        let start = self
            .segments
            .iter()
            .filter_map(|s| s.start_ms)
            .min()
            .unwrap_or(0);
        let end = self.segments.iter().filter_map(|s| s.end_ms).max()?;
        Some((start, end))
    }

    /// `Video: a.png, b.png +3 more (0-30s)`
    pub fn describe(&self) -> String {
        let labels: Vec<&str> = self
            .segments
            .iter()
            .filter_map(|s| s.label.as_deref())
            .collect();
        let shown: Vec<String> = labels
            .iter()
            .take(3)
            .map(|l| {
                if self.kind == TrackKind::Text {
                    format!("\"{l}\"")
                } else {
                    l.to_string()
                }
            })
            .collect();
        let mut name = if shown.is_empty() {
            match self.segments.len() {
                0 => "empty".to_string(),
                1 => "1 segment".to_string(),
                n => format!("{n} segments"),
            }
        } else {
            shown.join(", ")
        };
        if labels.len() > 3 {
            name.push_str(&format!(" +{} more", labels.len() - 3));
        }
        let mut detail = Vec::new();
        if let Some((a, b)) = self.span() {
            detail.push(format!("{}-{}", secs(a).trim_end_matches('s'), secs(b)));
        }
        if let Some(v) = self.segments.iter().find_map(|s| s.volume_pct) {
            detail.push(format!("{v}%"));
        }
        if detail.is_empty() {
            format!("{}: {name}", self.kind.label())
        } else {
            format!("{}: {name} ({})", self.kind.label(), detail.join(", "))
        }
    }
}

/// What changed between two timelines, worded for people.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TimelineDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    pub length: Option<(Option<u64>, Option<u64>)>,
}

impl TimelineDiff {
    pub fn between(before: &Timeline, after: &Timeline) -> TimelineDiff {
        let mut d = TimelineDiff::default();
        // Tracks are matched by kind and their position among tracks of that kind.
        let keyed = |t: &Timeline| -> Vec<((TrackKind, usize), Track)> {
            let mut seen = std::collections::HashMap::new();
            t.tracks
                .iter()
                .map(|tr| {
                    let n = seen.entry(tr.kind).or_insert(0usize);
                    *n += 1;
                    ((tr.kind, *n), tr.clone())
                })
                .collect()
        };
        let (b, a) = (keyed(before), keyed(after));
        for (key, track) in &a {
            match b.iter().find(|(k, _)| k == key) {
                None => d.added.push(track.describe()),
                Some((_, old)) if old != track => {
                    let (on, nn) = (old.segments.len(), track.segments.len());
                    let what = if on != nn {
                        format!("{} ({} → {} segments)", track.describe(), on, nn)
                    } else {
                        format!(
                            "{} (was {})",
                            track.describe(),
                            old.describe().split_once(": ").map_or("", |x| x.1)
                        )
                    };
                    d.changed.push(what);
                }
                _ => {}
            }
        }
        for (key, track) in &b {
            if !a.iter().any(|(k, _)| k == key) {
                d.removed.push(track.describe());
            }
        }
        if before.duration_ms != after.duration_ms {
            d.length = Some((before.duration_ms, after.duration_ms));
        }
        d
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.length.is_none()
    }

    /// `Added BGM: Lo-fi (0-30s, 35%). Length 0s → 30s.`
    pub fn describe(&self) -> String {
        if self.is_empty() {
            return "No change to the timeline.".to_string();
        }
        let mut parts = Vec::new();
        for a in &self.added {
            parts.push(format!("Added {a}."));
        }
        for c in &self.changed {
            parts.push(format!("Changed {c}."));
        }
        for r in &self.removed {
            parts.push(format!("Removed {r}."));
        }
        if let Some((old, new)) = self.length {
            let f = |x: Option<u64>| x.map(secs).unwrap_or_else(|| "0s".into());
            parts.push(format!("Length {} → {}.", f(old), f(new)));
        }
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract_example() -> Value {
        json!({"t": [
            {"tt": 0, "sg": [{"st": 0, "et": 10000, "n": "city timelapse"}]},
            {"tt": 1, "sg": [{"st": 0, "et": 10000, "n": "Lo-fi", "vol": 0.35}]},
            {"tt": 7, "sg": [{"st": 0, "et": 3000, "n": "Urban Dreams"}]}
        ], "d": 10000})
    }

    #[test]
    fn summary_in_the_contracts_format() {
        assert_eq!(
            Timeline::from_draft(&contract_example()).summary(),
            "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: \"Urban Dreams\" (0-3s)"
        );
    }

    #[test]
    fn other_key_spellings_are_read() {
        let d = json!({"t": [{"tt": 1, "sg": [{"start": 1500, "duration": 2000, "name": "x", "volume": 80}]}]});
        let t = Timeline::from_draft(&d);
        assert_eq!(
            t.tracks[0].segments[0],
            Segment {
                start_ms: Some(1500),
                end_ms: Some(3500),
                label: Some("x".into()),
                volume_pct: Some(80)
            }
        );
        assert_eq!(t.duration_ms, Some(3500));
        assert_eq!(t.summary(), "Timeline (1 track): 1. BGM: x (1.5-3.5s, 80%)");
    }

    #[test]
    fn garbage_drafts_do_not_break() {
        for d in [
            json!(null),
            json!([]),
            json!({"t": 5}),
            json!({"t": [1, "x", {"sg": "no"}]}),
            json!({"t": [{"tt": "7", "sg": [{"st": -5}]}]}),
        ] {
            let t = Timeline::from_draft(&d);
            let _ = t.summary();
        }
        assert!(!Timeline::from_draft(&json!({"t": [{"tt": 0, "sg": []}]})).is_exportable());
        assert!(Timeline::from_draft(&contract_example()).is_exportable());
    }

    #[test]
    fn diff_worded_for_people() {
        let before = Timeline::from_draft(
            &json!({"t": [{"tt": 0, "sg": [{"st": 0, "et": 10000, "n": "a.png"}]}], "d": 10000}),
        );
        let after = Timeline::from_draft(&contract_example());
        let d = TimelineDiff::between(&before, &after);
        assert_eq!(d.added.len(), 2);
        assert_eq!(d.changed.len(), 1);
        assert!(
            d.describe().contains("Added BGM: Lo-fi (0-10s, 35%)."),
            "{}",
            d.describe()
        );
        assert!(d
            .describe()
            .contains("Added Title: \"Urban Dreams\" (0-3s)."));
        let back = TimelineDiff::between(&after, &before);
        assert_eq!(back.removed.len(), 2);
        assert!(TimelineDiff::between(&after, &after).is_empty());
        let longer = Timeline {
            duration_ms: Some(30000),
            ..after.clone()
        };
        assert!(TimelineDiff::between(&after, &longer)
            .describe()
            .contains("Length 10s → 30s."));
    }
}

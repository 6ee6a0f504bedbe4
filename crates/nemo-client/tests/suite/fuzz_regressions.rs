//! Replays the fuzz corpus regression cases (`fuzz/regressions/<target>/*`) with the same
//! checks as the fuzz targets, so `cargo test` guards what fuzzing found.

use nemo_client::envelope::parse;
use nemo_client::sse::{decode_all, interpret, Decoder};
use nemo_client::{RenderStatus, Timeline, TimelineDiff};
use std::path::PathBuf;

fn cases(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no cases in {}", dir.display());
    v
}

#[test]
fn sse_cases() {
    for (path, data) in cases("sse") {
        let whole = decode_all(&data);
        for cut in 0..=data.len() {
            let mut d = Decoder::new();
            let mut frames = Vec::new();
            d.feed(&data[..cut], &mut frames);
            d.feed(&data[cut..], &mut frames);
            d.finish(&mut frames);
            let mut events = Vec::new();
            frames.iter().for_each(|f| interpret(f, &mut events));
            assert_eq!(whole, events, "{} split at {cut}", path.display());
        }
    }
}

#[test]
fn envelope_cases() {
    for (_, data) in cases("envelope") {
        let status = 100 + (u16::from_le_bytes([data[0], data[1]]) % 500);
        if let Err(f) = parse(status, &data[2..], None) {
            assert!(!f.message.is_empty());
        }
    }
}

/// The fuzz cases: parsing any JSON never panics (the claim of this test; the progress is
/// clamped by construction, so its range is checked where it can be wrong, below).
#[test]
fn render_status_cases() {
    for (_, data) in cases("render_status") {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&data) {
            let _ = RenderStatus::from_json(&v);
        }
    }
}

/// Progress as the backend may send it, in both envelopes: each value maps to the percent a
/// poll schedule can trust (out-of-range values pinned, fractions floored, other types absent).
#[test]
fn render_progress_is_read_as_sent() {
    let cases = [
        (serde_json::json!(42.7), Some(42)),
        (serde_json::json!(-5), Some(0)),
        (serde_json::json!(150), Some(100)),
        (serde_json::json!(100), Some(100)),
        (serde_json::json!("50"), None),
        (serde_json::Value::Null, None),
    ];
    for (p, want) in cases {
        let top = serde_json::json!({"status": "processing", "progress": p});
        let wrapped =
            serde_json::json!({"code": 0, "data": {"status": "processing", "progress": p}});
        assert_eq!(
            RenderStatus::from_json(&top).progress,
            want,
            "top level: {p}"
        );
        assert_eq!(
            RenderStatus::from_json(&wrapped).progress,
            want,
            "in data: {p}"
        );
    }
}

#[test]
fn timeline_cases() {
    for (_, data) in cases("timeline") {
        let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
        let parse = |b: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(b).unwrap_or(serde_json::Value::Null)
        };
        let (a, b) = (
            parse(&data[..split]),
            parse(data.get(split + 1..).unwrap_or(&[])),
        );
        let (ta, tb) = (Timeline::from_draft(&a), Timeline::from_draft(&b));
        let _ = (ta.summary(), tb.summary());
        let _ = TimelineDiff::between(&ta, &tb).describe();
        assert!(TimelineDiff::between(&ta, &ta).is_empty());
    }
}

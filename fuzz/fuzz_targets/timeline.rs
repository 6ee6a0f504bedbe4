#![no_main]
//! Any two JSON drafts: summaries and diffs never panic; a draft never differs from itself.
use libfuzzer_sys::fuzz_target;
use nemo_client::{Timeline, TimelineDiff};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let parse = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).unwrap_or(serde_json::Value::Null);
    let (a, b) = (parse(&data[..split]), parse(data.get(split + 1..).unwrap_or(&[])));
    let (ta, tb) = (Timeline::from_draft(&a), Timeline::from_draft(&b));
    let _ = (ta.summary(), tb.summary(), ta.is_exportable());
    let _ = TimelineDiff::between(&ta, &tb).describe();
    assert!(TimelineDiff::between(&ta, &ta).is_empty());
});

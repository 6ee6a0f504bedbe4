#![no_main]
//! Any JSON as a render status: never panics; progress stays within 0–100.
use libfuzzer_sys::fuzz_target;
use nemo_client::RenderStatus;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let s = RenderStatus::from_json(&v);
        assert!(s.progress.is_none_or(|p| p <= 100));
    }
});

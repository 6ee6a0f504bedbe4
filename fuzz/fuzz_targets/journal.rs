#![no_main]
//! Any bytes as a journal row's body (every version the journal reads): never a panic; a row
//! that reads is written back at today's version and reads back the same.
use libfuzzer_sys::fuzz_target;
use nemo_mcp::testing::parse_journal_entry;

fuzz_target!(|data: &[u8]| {
    if let Ok(job) = parse_journal_entry(data) {
        let text = serde_json::to_vec(&job).expect("a job serializes");
        let again = parse_journal_entry(&text).expect("a job written reads back");
        assert_eq!(
            serde_json::to_value(&job).expect("a job serializes"),
            serde_json::to_value(&again).expect("a job serializes")
        );
    }
});

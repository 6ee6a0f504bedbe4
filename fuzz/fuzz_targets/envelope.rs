#![no_main]
//! Envelope parsing of any status and body never panics, and a failure always has a message.
use libfuzzer_sys::fuzz_target;
use nemo_client::envelope::parse;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = 100 + (u16::from_le_bytes([data[0], data[1]]) % 500);
    if let Err(f) = parse(status, &data[2..], None) {
        assert!(!f.message.is_empty());
        let _ = f.kind();
    }
});

#![no_main]
//! The SSE decoder and event interpretation: any bytes, split at any point, never panic, and a
//! split never changes the events.
use libfuzzer_sys::fuzz_target;
use nemo_client::sse::{decode_all, interpret, Decoder};

fuzz_target!(|data: &[u8]| {
    let whole = decode_all(data);
    if data.is_empty() {
        return;
    }
    let cut = data[0] as usize % data.len();
    let mut d = Decoder::new();
    let mut frames = Vec::new();
    d.feed(&data[..cut], &mut frames);
    d.feed(&data[cut..], &mut frames);
    d.finish(&mut frames);
    let mut events = Vec::new();
    frames.iter().for_each(|f| interpret(f, &mut events));
    assert_eq!(whole, events);
});

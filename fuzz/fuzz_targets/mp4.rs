#![no_main]
//! Any bytes as a saved export: the MP4 reader (boxes, sample tables), the sound decoders
//! (AAC, FLAC), the H.264 decoder (OpenH264, C++) and the contact sheet. A damaged file must
//! give reasons, never a panic or a crash, since the export still succeeds around it.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("export.mp4");
    std::fs::write(&path, data).expect("the file is written");
    let _reasons = nemo_mcp::testing::check_mp4(&path);
});

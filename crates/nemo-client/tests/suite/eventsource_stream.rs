//! `eventsource-stream` (the SSE crate the design names) against our decoder, on the streams
//! the contract describes. The crate agrees on well-formed streams split anywhere, but it fails
//! two cases that matter for a paid turn, so `sse::Decoder` stays. These tests show both cases:
//!
//! 1. **The last event before the connection closes, without its blank line.** The agent's
//!    final answer can end that way when the gateway closes the stream right after it. The
//!    crate drops the event, as the SSE specification says. The turn then looks cut off, and
//!    the reply text is lost (the outcome is still read from the project state). Our decoder
//!    keeps the event (`Decoder::finish`).
//! 2. **A line with invalid UTF-8.** The crate ends the stream with an error, so every later
//!    event of the turn is lost. Our decoder decodes the line lossily and goes on.
//!
//! If a later version of the crate passes these, switch to it, keeping the line cap as a
//! wrapper over the byte stream.

use eventsource_stream::Eventsource;
use futures_util::{stream, StreamExt};
use nemo_client::sse::{Decoder, Frame};

/// The contract's ADK form: thoughts, partial text, a call, a response, a two-line `data:`.
const STREAM: &str = concat!(
    "data: {\"content\":{\"parts\":[{\"text\":\"Hel\"}]},\"partial\":true}\n\n",
    "data: {\"content\":{\"parts\":[{\"text\":\"Hello\"}]}}\n\n",
    "event: heartbeat\ndata: {}\n\n",
    "data: {\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"edit\",\"args\":{}}}]}}\r\n\r\n",
    "data: {\"content\":\n",
    "data:  {\"parts\":[{\"text\":\"Done\"}]}}\n\n",
);

/// Our frames, comments left out (the crate has none to compare).
fn ours(chunks: &[&[u8]]) -> Vec<Frame> {
    let mut d = Decoder::new();
    let mut frames = Vec::new();
    for c in chunks {
        d.feed(c, &mut frames);
    }
    d.finish(&mut frames);
    frames.retain(|f| *f != Frame::Comment);
    frames
}

/// The crate's events as our frames, and whether it ended with an error.
async fn theirs(chunks: &[&[u8]]) -> (Vec<Frame>, bool) {
    let owned: Vec<Result<Vec<u8>, std::io::Error>> =
        chunks.iter().map(|c| Ok(c.to_vec())).collect();
    let mut events = stream::iter(owned).eventsource();
    let mut frames = Vec::new();
    while let Some(e) = events.next().await {
        match e {
            Ok(e) => frames.push(Frame::Event {
                name: (e.event != "message").then_some(e.event),
                data: e.data,
            }),
            Err(_) => return (frames, true),
        }
    }
    (frames, false)
}

#[tokio::test]
async fn both_agree_on_a_well_formed_stream_split_anywhere() {
    let bytes = STREAM.as_bytes();
    let whole = ours(&[bytes]);
    assert_eq!(whole.len(), 5);
    for cut in 0..=bytes.len() {
        let parts = [&bytes[..cut], &bytes[cut..]];
        assert_eq!(
            theirs(&parts).await,
            (whole.clone(), false),
            "split at {cut}"
        );
        assert_eq!(ours(&parts), whole, "split at {cut}");
    }
}

#[tokio::test]
async fn the_crate_drops_a_final_answer_cut_before_its_blank_line() {
    let cut = STREAM.trim_end_matches('\n');
    let mine = ours(&[cut.as_bytes()]);
    let (crate_frames, _) = theirs(&[cut.as_bytes()]).await;
    assert_eq!(mine.len(), 5, "our decoder keeps the final answer");
    assert_eq!(
        crate_frames.len(),
        4,
        "eventsource-stream drops it: this is why sse::Decoder stays"
    );
    assert!(matches!(mine.last(), Some(Frame::Event { data, .. }) if data.contains("Done")));
}

#[tokio::test]
async fn the_crate_ends_the_stream_at_invalid_utf8() {
    let mut bytes = b"data: {\"content\":{\"parts\":[{\"text\":\"caf\xe9\"}]}}\n\n".to_vec();
    bytes.extend_from_slice(STREAM.as_bytes());
    let mine = ours(&[&bytes]);
    let (crate_frames, failed) = theirs(&[&bytes]).await;
    assert_eq!(mine.len(), 6, "our decoder goes on after the bad line");
    assert!(
        failed && crate_frames.len() < 6,
        "eventsource-stream stops with an error and loses the rest: {crate_frames:?}"
    );
}

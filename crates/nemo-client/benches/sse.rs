//! SSE parsing throughput (decoder + interpretation) for each frame form of the contract.
//! `cargo bench -p nemo-client --bench sse`: one JSON line per form on stdout (the median time
//! of one parse of the whole stream, after a second of warming up), which bench/run reads into
//! docs. A plain loop rather than a statistics crate: the test build need not compile one.

use nemo_client::sse::{interpret, Decoder};
use std::hint::black_box;
use std::time::{Duration, Instant};

const EVENTS: usize = 2000;

fn stream(form: &str) -> Vec<u8> {
    let frame = match form {
        "adk_text" => "data: {\"content\":{\"parts\":[{\"text\":\"Sure! I combined your six images into a 30-second promo.\"}],\"role\":\"model\"},\"author\":\"nemo_agent\",\"invocationId\":\"e-8c1f\",\"id\":\"evt-1\",\"timestamp\":1773423600.1,\"actions\":{\"stateDelta\":{}},\"partial\":false}\n\n".to_string(),
        "adk_tool_call" => "data: {\"content\":{\"parts\":[{\"functionCall\":{\"id\":\"call_1\",\"name\":\"edit_timeline\",\"args\":{\"operations\":[\"combine\",\"music\"]}}}],\"role\":\"model\"},\"author\":\"nemo_agent\",\"invocationId\":\"e-8c1f\"}\n\n".to_string(),
        "simple_text" => "data: {\"type\":\"text\",\"content\":\"Sure! I combined your six images into a 30-second promo.\"}\n\n".to_string(),
        "comment_heartbeat" => ": ping\n\n".to_string(),
        "json_heartbeat" => "data: {\"type\":\"heartbeat\"}\n\n".to_string(),
        "multiline_data" => "data: {\"type\":\"text\",\n data: \"content\":\"split over two lines\"}\n\n".replace("\n data", "\ndata"),
        other => panic!("{other}"),
    };
    frame.repeat(EVENTS).into_bytes()
}

pub const FORMS: [&str; 6] = [
    "adk_text",
    "adk_tool_call",
    "simple_text",
    "comment_heartbeat",
    "json_heartbeat",
    "multiline_data",
];

fn parse(bytes: &[u8]) -> usize {
    let mut d = Decoder::new();
    let mut frames = Vec::new();
    let mut events = Vec::new();
    // Feed in 4 KiB reads, as from a socket.
    for chunk in bytes.chunks(4096) {
        d.feed(chunk, &mut frames);
        for f in frames.drain(..) {
            interpret(&f, &mut events);
        }
    }
    d.finish(&mut frames);
    frames.iter().for_each(|f| interpret(f, &mut events));
    events.len()
}

fn main() {
    for form in FORMS {
        let bytes = stream(form);
        assert_eq!(parse(&bytes), EVENTS, "{form}");
        let warm = Instant::now();
        while warm.elapsed() < Duration::from_secs(1) {
            black_box(parse(black_box(&bytes)));
        }
        let mut samples: Vec<f64> = Vec::new();
        let measuring = Instant::now();
        while measuring.elapsed() < Duration::from_secs(3) || samples.len() < 11 {
            let t = Instant::now();
            black_box(parse(black_box(&bytes)));
            samples.push(t.elapsed().as_nanos() as f64);
        }
        samples.sort_by(f64::total_cmp);
        let median_ns = samples[samples.len() / 2];
        println!(
            "{{\"form\":\"{form}\",\"median_ns\":{median_ns},\"bytes\":{},\"events\":{EVENTS},\"samples\":{}}}",
            bytes.len(),
            samples.len()
        );
    }
}

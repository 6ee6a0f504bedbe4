//! SSE parsing throughput (decoder + interpretation) for each frame form of the contract.
//! `cargo bench -p nemo-client --bench sse`; bench/run reads the estimates into docs.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nemo_client::sse::{interpret, Decoder};

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

fn bench(c: &mut Criterion) {
    for form in FORMS {
        let bytes = stream(form);
        assert_eq!(parse(&bytes), EVENTS, "{form}");
        let mut g = c.benchmark_group(format!("sse_bytes/{form}"));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("parse", |b| b.iter(|| parse(std::hint::black_box(&bytes))));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! `/run_sse` streams: an incremental SSE decoder (frames split anywhere, multi-line `data:`,
//! comments, `event:` names) and the interpretation of both event families into [`AgentEvent`]s.
//!
//! The decoder is ours rather than `eventsource-stream`'s: that crate drops a final event cut off
//! before its blank line (the agent's last answer, when the gateway closes right after it) and
//! ends the whole stream at a line of invalid UTF-8; `tests/suite/eventsource_stream.rs` shows both,
//! and that the two agree on well-formed streams split anywhere. Ours also caps line and event
//! sizes, and keeps comments (the gateway's heartbeats) as frames.

mod decoder;
mod events;

pub use decoder::{Decoder, Frame};
pub use events::{classify_stream_error, interpret, AgentEvent, StreamErrorKind};

/// Decode a whole byte sequence (for tests, fuzzing and benchmarks).
pub fn decode_all(bytes: &[u8]) -> Vec<AgentEvent> {
    let mut d = Decoder::new();
    let mut frames = Vec::new();
    d.feed(bytes, &mut frames);
    d.finish(&mut frames);
    let mut events = Vec::new();
    for f in &frames {
        interpret(f, &mut events);
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ADK_STREAM: &str = concat!(
        ": ping\n\n",
        "data: {\"content\":{\"parts\":[{\"text\":\"thinking\",\"thought\":true}],\"role\":\"model\"},\"author\":\"nemo_agent\"}\n\n",
        "data: {\"content\":{\"parts\":[{\"text\":\"Hel\"}]},\"partial\":true}\n\n",
        "data: {\"content\":{\"parts\":[{\"text\":\"Hello\"}]},\"partial\":false}\n\n",
        "data: {\"content\":{\"parts\":[{\"functionCall\":{\"id\":\"1\",\"name\":\"edit\",\"args\":{\"a\":1}}}]}}\n\n",
        "data: \n\n",
        "event: heartbeat\ndata: {}\n\n",
        "data: {\"type\":\"heartbeat\"}\n\n",
        "data: {\"content\":{\"parts\":[{\"function_response\":{\"name\":\"edit\",\"response\":{\"ok\":true}}}]}}\n\n",
        "data: {\"content\":\n",
        "data:  {\"parts\":[{\"text\":\"Done, click Export\"}]}}\n\n",
    );

    fn expected() -> Vec<AgentEvent> {
        vec![
            AgentEvent::Heartbeat,
            AgentEvent::Heartbeat,
            AgentEvent::Heartbeat,
            AgentEvent::Text("Hello".into()),
            AgentEvent::ToolCall {
                name: "edit".into(),
                args: json!({"a": 1}),
            },
            AgentEvent::Heartbeat,
            AgentEvent::Heartbeat,
            AgentEvent::Heartbeat,
            AgentEvent::ToolResult {
                name: "edit".into(),
                result: json!({"ok": true}),
            },
            AgentEvent::Text("Done, click Export".into()),
        ]
    }

    #[test]
    fn every_frame_form() {
        assert_eq!(decode_all(ADK_STREAM.as_bytes()), expected());
    }

    #[test]
    fn frames_split_at_every_byte() {
        let bytes = ADK_STREAM.as_bytes();
        for cut in 0..=bytes.len() {
            let mut d = Decoder::new();
            let mut frames = Vec::new();
            d.feed(&bytes[..cut], &mut frames);
            d.feed(&bytes[cut..], &mut frames);
            d.finish(&mut frames);
            let mut events = Vec::new();
            frames.iter().for_each(|f| interpret(f, &mut events));
            assert_eq!(events, expected(), "split at byte {cut}");
        }
        // And one byte at a time, with CRLF line ends.
        let crlf = ADK_STREAM.replace('\n', "\r\n");
        let mut d = Decoder::new();
        let mut frames = Vec::new();
        for b in crlf.as_bytes() {
            d.feed(std::slice::from_ref(b), &mut frames);
        }
        d.finish(&mut frames);
        let mut events = Vec::new();
        frames.iter().for_each(|f| interpret(f, &mut events));
        assert_eq!(events, expected());
    }

    #[test]
    fn json_that_is_not_an_object_is_no_event_and_a_repeated_key_is_still_read() {
        // A struct can be read from a JSON array by position: an array must stay no event.
        let s = "data: [\"text\", \"hi\"]\n\ndata: 7\n\ndata: {\"type\":\"text\",\"content\":\"a\",\"content\":\"b\"}\n\n";
        assert_eq!(decode_all(s.as_bytes()), vec![AgentEvent::Text("b".into())]);
    }

    #[test]
    fn simplified_family() {
        let s = "data: {\"type\":\"text\",\"content\":\"hi\"}\n\ndata: {\"type\":\"tool_call\",\"name\":\"t\",\"args\":{}}\n\ndata: {\"type\":\"tool_result\",\"name\":\"t\",\"result\":1}\n\n";
        assert_eq!(
            decode_all(s.as_bytes()),
            vec![
                AgentEvent::Text("hi".into()),
                AgentEvent::ToolCall {
                    name: "t".into(),
                    args: json!({})
                },
                AgentEvent::ToolResult {
                    name: "t".into(),
                    result: json!(1)
                },
            ]
        );
    }

    /// The contract lists no error in the simplified family; `{"type":"error"}` is its natural
    /// spelling, and a turn that says it failed must not pass for a silent edit.
    #[test]
    fn a_simplified_error_event_is_an_error() {
        let s = "data: {\"type\":\"error\",\"message\":\"quota\"}\n\ndata: {\"type\":\"error\",\"content\":\"broke\"}\n\n";
        assert_eq!(
            decode_all(s.as_bytes()),
            vec![
                AgentEvent::Error("quota".into()),
                AgentEvent::Error("broke".into())
            ]
        );
    }

    #[test]
    fn the_four_error_forms() {
        let cases = [
            ("data: {\"error\": \"model \"quota\" exceeded\"}\n\n", "model \"quota\" exceeded"),
            ("data: {\"error\":\"boom\",\"error_details\":{\"x\":1}}\n\n", "boom"),
            ("data: {\"author\":\"system\",\"content\":{\"parts\":[{\"text\":\"Error: broke\"}]}}\n\n", "broke"),
            ("data: {\"errorCode\":\"SAFETY\",\"errorMessage\":\"blocked\"}\n\n", "SAFETY: blocked"),
            ("data: {\"error_code\":\"MAX_TOKENS\"}\n\n", "MAX_TOKENS"),
        ];
        for (frame, msg) in cases {
            assert_eq!(
                decode_all(frame.as_bytes()),
                vec![AgentEvent::Error(msg.into())],
                "{frame}"
            );
        }
    }

    #[test]
    fn in_stream_errors_are_classified_by_code_and_wording() {
        use StreamErrorKind::*;
        for (msg, kind) in [
            ("model call failed: \"quota\" exceeded", Other),
            ("insufficient credits (code 2001)", OutOfCredits),
            ("2001: out of credits", OutOfCredits),
            ("Error 2001", OutOfCredits),
            ("积分不足", OutOfCredits),
            ("order 120015 failed", Other),
            ("SAFETY: blocked", Refused),
            ("MAX_TOKENS", Refused),
            ("code 1002: session not found", Session),
            ("error code 1002", Session),
            ("Session not found", Session),
            ("1001 token expired", Token),
            ("failed with 1010", Token),
            ("Unauthorized", Token),
        ] {
            assert_eq!(classify_stream_error(msg), kind, "{msg}");
        }
    }

    #[test]
    fn an_empty_final_model_event_ends_the_turn() {
        let s = "data: {\"content\":{\"parts\":[],\"role\":\"model\"},\"partial\":false,\"author\":\"nemo_agent\"}\n\n";
        assert_eq!(decode_all(s.as_bytes()), vec![AgentEvent::Final]);
        let echo = "data: {\"content\":{\"parts\":[],\"role\":\"user\"}}\n\n";
        assert_eq!(decode_all(echo.as_bytes()), vec![AgentEvent::Heartbeat]);
        // A partial chunk or a system event with nothing in it is a sign of life, not the end.
        let partial = "data: {\"content\":{\"parts\":[],\"role\":\"model\"},\"partial\":true}\n\n";
        assert_eq!(decode_all(partial.as_bytes()), vec![AgentEvent::Heartbeat]);
        let system = "data: {\"content\":{\"parts\":[]},\"author\":\"system\"}\n\n";
        assert_eq!(decode_all(system.as_bytes()), vec![AgentEvent::Heartbeat]);
    }

    /// Only the system author's "Error: …" text is an error; the agent may begin a reply with
    /// the word, and a system notice without it is shown as text.
    #[test]
    fn only_a_system_error_text_is_an_error() {
        let frame = |author: &str, text: &str| {
            format!("data: {{\"content\":{{\"parts\":[{{\"text\":\"{text}\"}}]}},\"author\":\"{author}\"}}\n\n")
        };
        assert_eq!(
            decode_all(frame("system", "Error: quota exceeded").as_bytes()),
            vec![AgentEvent::Error("quota exceeded".into())]
        );
        assert_eq!(
            decode_all(frame("nemo_agent", "Errors fixed: the clip is trimmed").as_bytes()),
            vec![AgentEvent::Text("Errors fixed: the clip is trimmed".into())]
        );
        assert_eq!(
            decode_all(frame("system", "the session was resumed").as_bytes()),
            vec![AgentEvent::Text("the session was resumed".into())]
        );
    }

    #[test]
    fn malformed_frames_are_skipped() {
        let s = "data: {\"content\": {\"parts\": [{\"text\": \"trunc\n\ndata: not json\n\ndata: log line \"error\": \"not ours\"\n\nretry: 10\n\nid: 3\n\ndata: [1,2]\n\ndata: {\"type\":\"text\",\"content\":\"ok\"}\n\n";
        assert_eq!(
            decode_all(s.as_bytes()),
            vec![AgentEvent::Text("ok".into())]
        );
    }

    #[test]
    fn oversized_lines_and_events_are_dropped_with_bounded_memory() {
        let cap = crate::limits::MAX_SSE_LINE_BYTES;
        let mut d = Decoder::new();
        let mut out = Vec::new();
        d.feed(b"data: ", &mut out);
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..(cap * 3 / chunk.len()) {
            d.feed(&chunk, &mut out);
            assert!(
                d.line.capacity() <= cap * 2,
                "the line buffer stays bounded"
            );
        }
        d.feed(b"\n\ndata: {\"ok\":1}\n\n", &mut out);
        assert_eq!(
            out,
            vec![Frame::Event {
                name: None,
                data: "{\"ok\":1}".into()
            }]
        );
        assert_eq!(d.dropped, 1);
        // Many data lines, each under the cap, that add up past it: the event is dropped.
        let mut out = Vec::new();
        let line = format!("data: {}\n", "y".repeat(cap / 4));
        for _ in 0..8 {
            d.feed(line.as_bytes(), &mut out);
        }
        d.feed(b"\ndata: after\n\n", &mut out);
        assert_eq!(
            out,
            vec![Frame::Event {
                name: None,
                data: "after".into()
            }]
        );
    }

    #[test]
    fn a_last_frame_without_blank_line_counts() {
        assert_eq!(
            decode_all(b"data: {\"type\":\"text\",\"content\":\"end\"}"),
            vec![AgentEvent::Text("end".into())]
        );
    }
}

//! `/run_sse` streams: an incremental SSE decoder (frames split anywhere, multi-line `data:`,
//! comments, `event:` names) and the interpretation of both event families into [`AgentEvent`]s.
//!
//! The decoder is ours rather than `eventsource-stream`'s: that crate drops a final event cut off
//! before its blank line (the agent's last answer, when the gateway closes right after it) and
//! ends the whole stream at a line of invalid UTF-8; `tests/eventsource_stream.rs` shows both,
//! and that the two agree on well-formed streams split anywhere. Ours also caps line and event
//! sizes, and keeps comments (the gateway's heartbeats) as frames.

use serde_json::Value;

/// One SSE frame, before interpretation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A `: comment` line (a heartbeat on NemoVideo's gateway).
    Comment,
    /// A dispatched event: its `event:` name, if any, and its (joined) `data:` lines.
    Event { name: Option<String>, data: String },
}

/// Incremental SSE decoder: feed it bytes as they arrive, get complete frames back.
///
/// A line or an event longer than [`crate::limits::MAX_SSE_LINE_BYTES`] is dropped whole (no
/// partial JSON is ever interpreted), so memory stays bounded whatever the backend sends.
#[derive(Debug, Default)]
pub struct Decoder {
    line: Vec<u8>,
    data: Option<String>,
    name: Option<String>,
    /// The current line passed the cap: skip to its end.
    long_line: bool,
    /// The current event passed the cap: drop it at its end.
    long_event: bool,
    /// Lines and events dropped for their size.
    pub dropped: usize,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed bytes as they arrive (frames may be split anywhere); whole frames go to `out`.
    ///
    /// ```
    /// use nemo_client::sse::{interpret, Decoder};
    /// use nemo_client::AgentEvent;
    /// let mut decoder = Decoder::new();
    /// let (mut frames, mut events) = (Vec::new(), Vec::new());
    /// decoder.feed(b"data: {\"type\":\"text\",\"con", &mut frames);
    /// decoder.feed(b"tent\":\"Done!\"}\n\n", &mut frames);
    /// for frame in &frames {
    ///     interpret(frame, &mut events);
    /// }
    /// assert_eq!(events, vec![AgentEvent::Text("Done!".into())]);
    /// ```
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<Frame>) {
        let cap = crate::limits::MAX_SSE_LINE_BYTES;
        while !bytes.is_empty() {
            let newline = bytes.iter().position(|&b| b == b'\n');
            let (part, rest) = match newline {
                Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
                None => (bytes, None),
            };
            if !self.long_line {
                let room = cap.saturating_sub(self.line.len());
                if part.len() > room {
                    self.long_line = true;
                    self.dropped += 1;
                    tracing::warn!("dropping an SSE line longer than {cap} bytes");
                    self.line = Vec::new();
                } else {
                    self.line.extend_from_slice(part);
                }
            }
            let Some(rest) = rest else { break };
            bytes = rest;
            let mut line = std::mem::take(&mut self.line);
            if std::mem::take(&mut self.long_line) {
                // The end of an oversized line: its event is dropped too.
                self.long_event = true;
                continue;
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            self.line_done(&line, out);
        }
    }

    /// The stream ended: a last frame without its blank line still counts.
    pub fn finish(&mut self, out: &mut Vec<Frame>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, out);
        }
        self.dispatch(out);
    }

    fn dispatch(&mut self, out: &mut Vec<Frame>) {
        let data = self.data.take();
        let name = self.name.take();
        if std::mem::take(&mut self.long_event) {
            return;
        }
        if data.is_some() || name.is_some() {
            out.push(Frame::Event {
                name,
                data: data.unwrap_or_default(),
            });
        }
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<Frame>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            out.push(Frame::Comment);
            return;
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data"
                if self.data.as_ref().map_or(0, String::len) + value.len()
                    > crate::limits::MAX_SSE_LINE_BYTES =>
            {
                if !self.long_event {
                    self.dropped += 1;
                    tracing::warn!("dropping an SSE event larger than the cap");
                }
                self.long_event = true;
                self.data = None;
            }
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            "event" => self.name = Some(value.to_string()),
            _ => {} // id, retry and unknown fields mean nothing here
        }
    }
}

/// What the agent did, in one vocabulary for both event families.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AgentEvent {
    /// Text for the user (still to be GUI-translated). Partial chunks never appear here.
    Text(String),
    ToolCall {
        name: String,
        args: Value,
    },
    ToolResult {
        name: String,
        result: Value,
    },
    /// Still working (heartbeats, token chunks, hidden thoughts).
    Heartbeat,
    /// A final response with nothing to show (ADK: a model event, not partial, with no text,
    /// call or response): the agent finished without comment.
    Final,
    /// The backend reported an error inside the stream; the turn is over.
    Error(String),
}

fn get<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel)
        .or_else(|| v.get(snake))
        .filter(|x| !x.is_null())
}

/// The message of an `{"error": "..."}` line that is not valid JSON (older ADK versions do not
/// escape it): everything between the first quote after the key and the last quote.
fn unescaped_error(data: &str) -> Option<String> {
    let t = data.trim();
    if !t.starts_with('{') || !t.contains("\"error\"") {
        return None;
    }
    let after = &t[t.find("\"error\"")? + 7..];
    let after = after
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let end = after.rfind('"')?;
    Some(after[..end].to_string())
}

/// Interpret one frame. Frames that mean nothing (malformed, unknown) give no events.
pub fn interpret(frame: &Frame, out: &mut Vec<AgentEvent>) {
    let (name, data) = match frame {
        Frame::Comment => return out.push(AgentEvent::Heartbeat),
        Frame::Event { name, data } => (name.as_deref(), data.trim()),
    };
    if name == Some("heartbeat") || data.is_empty() {
        return out.push(AgentEvent::Heartbeat);
    }
    let v: Value = match serde_json::from_str(data) {
        Ok(v) => v,
        Err(_) => {
            if let Some(msg) = unescaped_error(data) {
                out.push(AgentEvent::Error(msg));
            } else {
                tracing::debug!(len = data.len(), "ignoring a malformed SSE frame");
            }
            return;
        }
    };
    if !v.is_object() {
        return;
    }
    if let Some(e) = v.get("error").filter(|e| !e.is_null()) {
        let msg = e
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string());
        return out.push(AgentEvent::Error(msg));
    }
    match v.get("type").and_then(Value::as_str) {
        Some(t) => typed_event(&v, t, out),
        None => adk_event(&v, out),
    }
}

/// The `{"type": …}` form of an event.
fn typed_event(v: &Value, t: &str, out: &mut Vec<AgentEvent>) {
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let name = text("name");
    match t {
        "text" | "message" => {
            let content = v
                .get("content")
                .or_else(|| v.get("text"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !content.is_empty() {
                out.push(AgentEvent::Text(content.to_string()));
            }
        }
        "tool_call" | "toolCall" => out.push(AgentEvent::ToolCall {
            name,
            args: v
                .get("args")
                .or_else(|| v.get("arguments"))
                .cloned()
                .unwrap_or(Value::Null),
        }),
        "tool_result" | "toolResult" => out.push(AgentEvent::ToolResult {
            name,
            result: v.get("result").cloned().unwrap_or(Value::Null),
        }),
        "heartbeat" | "ping" => out.push(AgentEvent::Heartbeat),
        "error" => out.push(AgentEvent::Error(text("message").if_empty(text("content")))),
        _ => {}
    }
}

/// An ADK event: an error code, or content parts (text, function calls and responses).
fn adk_event(v: &Value, out: &mut Vec<AgentEvent>) {
    if let Some(code) = get(v, "errorCode", "error_code") {
        let code = code
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| code.to_string());
        let msg = get(v, "errorMessage", "error_message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return out.push(AgentEvent::Error(if msg.is_empty() {
            code
        } else {
            format!("{code}: {msg}")
        }));
    }
    let partial = v.get("partial").and_then(Value::as_bool).unwrap_or(false);
    let system = v.get("author").and_then(Value::as_str) == Some("system");
    let from_user = v
        .get("content")
        .and_then(|c| c.get("role"))
        .and_then(Value::as_str)
        == Some("user");
    let parts = v
        .get("content")
        .and_then(|c| c.get("parts"))
        .and_then(Value::as_array);
    let Some(parts) = parts else {
        return out.push(AgentEvent::Heartbeat);
    };
    let before = out.len();
    let mut thoughts = false;
    for p in parts {
        if p.get("thought").and_then(Value::as_bool) == Some(true) {
            thoughts = true;
        } else {
            adk_part(p, partial, system, out);
        }
    }
    if out.len() == before {
        if !partial && !thoughts && !from_user && !system {
            return out.push(AgentEvent::Final);
        }
        // Partial chunks, thoughts, user echoes: signs of life, nothing to show.
        out.push(AgentEvent::Heartbeat);
    }
}

/// One content part of an ADK event (not a thought).
fn adk_part(p: &Value, partial: bool, system: bool, out: &mut Vec<AgentEvent>) {
    let name_of = |x: &Value| {
        x.get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if let Some(text) = p.get("text").and_then(Value::as_str) {
        if system && text.trim_start().starts_with("Error") {
            out.push(AgentEvent::Error(
                text.trim_start()
                    .trim_start_matches("Error:")
                    .trim()
                    .to_string(),
            ));
        } else if !partial && !text.is_empty() {
            out.push(AgentEvent::Text(text.to_string()));
        }
    } else if let Some(call) = get(p, "functionCall", "function_call") {
        out.push(AgentEvent::ToolCall {
            name: name_of(call),
            args: call.get("args").cloned().unwrap_or(Value::Null),
        });
    } else if let Some(resp) = get(p, "functionResponse", "function_response") {
        out.push(AgentEvent::ToolResult {
            name: name_of(resp),
            result: resp.get("response").cloned().unwrap_or(Value::Null),
        });
    }
}

/// What an in-stream error means, from its code and its wording (the contract's four forms
/// carry a code in the text, an `errorCode`, or only words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamErrorKind {
    OutOfCredits,
    Token,
    Session,
    /// The model declined (safety filters, length limits): rephrasing may help.
    Refused,
    Other,
}

/// Whether one of `codes` appears in `text` as a word of its own ("code 2001", "2001:"), not as
/// digits inside another number.
fn has_code(text: &str, codes: &[i64]) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(|w| w.parse::<i64>().ok())
        .any(|w| codes.contains(&w))
}

pub fn classify_stream_error(message: &str) -> StreamErrorKind {
    use crate::envelope::codes;
    let lower = message.to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if has_code(&lower, &[codes::OUT_OF_CREDITS])
        || any(&[
            "insufficient credit",
            "out of credit",
            "not enough credit",
            "credits exhausted",
            "积分不足",
            "余额不足",
        ])
    {
        StreamErrorKind::OutOfCredits
    } else if has_code(&lower, &[codes::SESSION_NOT_FOUND]) || any(&["session not found"]) {
        StreamErrorKind::Session
    } else if has_code(&lower, &codes::TOKEN_INVALID)
        || any(&[
            "token expired",
            "invalid token",
            "token is invalid",
            "unauthorized",
        ])
    {
        StreamErrorKind::Token
    } else if any(&[
        "safety",
        "max_tokens",
        "recitation",
        "prohibited_content",
        "blocklist",
        "spii",
        "content policy",
        "blocked",
    ]) {
        StreamErrorKind::Refused
    } else {
        StreamErrorKind::Other
    }
}

trait IfEmpty {
    fn if_empty(self, other: String) -> String;
}
impl IfEmpty for String {
    fn if_empty(self, other: String) -> String {
        if self.is_empty() {
            other
        } else {
            self
        }
    }
}

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
        let s = "data: {\"content\": {\"parts\": [{\"text\": \"trunc\n\ndata: not json\n\nretry: 10\n\nid: 3\n\ndata: [1,2]\n\ndata: {\"type\":\"text\",\"content\":\"ok\"}\n\n";
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

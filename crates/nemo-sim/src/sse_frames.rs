//! SSE frames as the backend writes them, in the instance's event family and heartbeat form.

use crate::config::{EventFamily, HeartbeatForm, Variants};
use crate::faults::StreamErrorForm;
use serde_json::{json, Map, Value};

pub struct FrameWriter {
    pub variants: Variants,
    pub invocation: String,
    seq: u64,
}

impl FrameWriter {
    pub fn new(variants: Variants, invocation: String) -> Self {
        Self {
            variants,
            invocation,
            seq: 0,
        }
    }

    fn data(&self, payload: &Value) -> String {
        let text = payload.to_string();
        if self.variants.multiline_data && text.len() > 8 {
            // JSON may break across lines at any whitespace-free point between tokens: split
            // after the first comma, which sits between two members.
            if let Some(i) = text.find(",\"") {
                return format!("data: {}\ndata: {}\n\n", &text[..=i], &text[i + 1..]);
            }
        }
        format!("data: {text}\n\n")
    }

    fn adk(&mut self, parts: Value, partial: bool) -> Value {
        self.seq += 1;
        let mut e = json!({
            "content": {"parts": parts, "role": "model"},
            "author": "nemo_agent",
            "invocationId": self.invocation,
            "id": format!("evt-{}-{}", self.invocation, self.seq),
            "timestamp": chrono::Utc::now().timestamp_millis() as f64 / 1000.0,
            "actions": {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {}},
        });
        if partial {
            e["partial"] = json!(true);
        }
        if self.variants.snake_case_keys {
            e = snake_keys(e);
        }
        e
    }

    /// A text reply: token chunks first when partial events are on (ADK only), then the full text.
    pub fn text(&mut self, text: &str) -> Vec<String> {
        match self.variants.event_family {
            EventFamily::Simple => vec![self.data(&json!({"type": "text", "content": text}))],
            EventFamily::Adk => {
                let mut out = Vec::new();
                if self.variants.partial_chunks {
                    let chars: Vec<char> = text.chars().collect();
                    for chunk in chars.chunks(12) {
                        let s: String = chunk.iter().collect();
                        let e = self.adk(json!([{"text": s}]), true);
                        out.push(self.data(&e));
                    }
                }
                let e = self.adk(json!([{"text": text}]), false);
                out.push(self.data(&e));
                out
            }
        }
    }

    /// A thought part (ADK only): not for the user.
    pub fn thought(&mut self, text: &str) -> Option<String> {
        (self.variants.event_family == EventFamily::Adk).then(|| {
            let e = self.adk(json!([{"text": text, "thought": true}]), false);
            self.data(&e)
        })
    }

    pub fn tool_call(&mut self, name: &str, args: &Value) -> String {
        let id = format!("call_{}", self.seq + 1);
        match self.variants.event_family {
            EventFamily::Simple => {
                self.data(&json!({"type": "tool_call", "name": name, "args": args}))
            }
            EventFamily::Adk => {
                let e = self.adk(
                    json!([{"functionCall": {"id": id, "name": name, "args": args}}]),
                    false,
                );
                self.data(&e)
            }
        }
    }

    pub fn tool_result(&mut self, name: &str, result: &Value) -> String {
        let id = format!("call_{}", self.seq);
        match self.variants.event_family {
            EventFamily::Simple => {
                self.data(&json!({"type": "tool_result", "name": name, "result": result}))
            }
            EventFamily::Adk => {
                let e = self.adk(
                    json!([{"functionResponse": {"id": id, "name": name, "response": result}}]),
                    false,
                );
                self.data(&e)
            }
        }
    }

    /// An empty final model event (ADK only): the agent finished without a word.
    pub fn final_empty(&mut self) -> Option<String> {
        (self.variants.event_family == EventFamily::Adk).then(|| {
            let mut e = self.adk(json!([]), false);
            e["partial"] = json!(false);
            self.data(&e)
        })
    }

    pub fn heartbeat(&self) -> String {
        match self.variants.heartbeat {
            HeartbeatForm::Comment => ": ping\n\n".into(),
            HeartbeatForm::EmptyData => "data: \n\n".into(),
            HeartbeatForm::Json => "data: {\"type\":\"heartbeat\"}\n\n".into(),
            HeartbeatForm::EventName => "event: heartbeat\ndata: {}\n\n".into(),
        }
    }

    pub fn error(&mut self, form: StreamErrorForm, message: &str) -> String {
        match form {
            // Older ADK versions format the message into the JSON without escaping it.
            StreamErrorForm::Unescaped => format!("data: {{\"error\": \"{message}\"}}\n\n"),
            StreamErrorForm::WithDetails => {
                self.data(&json!({"error": message, "error_details": {"type": "InternalError", "retryable": false}}))
            }
            StreamErrorForm::SystemAuthor => {
                let mut e = self.adk(json!([{"text": format!("Error: {message}")}]), false);
                e["author"] = json!("system");
                self.data(&e)
            }
            StreamErrorForm::ErrorCode => {
                let mut e = self.adk(json!([]), false);
                e["errorCode"] = json!("MAX_TOKENS");
                e["errorMessage"] = json!(message);
                self.data(&e)
            }
        }
    }

    /// Frames no parser should choke on (and none should take for content).
    pub fn malformed(&self) -> Vec<String> {
        vec![
            "data: {\"content\": {\"parts\": [{\"text\": \"trunc\n\n".into(),
            "data: not json at all\n\n".into(),
            "retry: 3000\n\n".into(),
            "id: 42\nfoo: bar\n\n".into(),
            "data: [1,2,3]\n\n".into(),
        ]
    }
}

fn snake(key: &str) -> String {
    let mut out = String::new();
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The same event with snake_case keys (payload contents of args/response are left alone).
fn snake_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let keep = k == "args" || k == "response";
                out.insert(snake(&k), if keep { v } else { snake_keys(v) });
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(snake_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_variant_renames_keys() {
        let v = Variants {
            snake_case_keys: true,
            ..Variants::default()
        };
        let mut w = FrameWriter::new(v, "e-1".into());
        let f = w.tool_call("edit_timeline", &json!({"keepCase": 1}));
        assert!(f.contains("\"function_call\""), "{f}");
        assert!(f.contains("\"invocation_id\""), "{f}");
        assert!(f.contains("\"keepCase\""), "{f}");
    }

    #[test]
    fn multiline_frames_rejoin_to_the_same_json() {
        let v = Variants {
            multiline_data: true,
            ..Variants::default()
        };
        let mut w = FrameWriter::new(v, "e-1".into());
        let f = w.text("hello").pop().unwrap();
        assert_eq!(f.matches("data: ").count(), 2);
        let joined: Vec<&str> = f.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
        let v: Value = serde_json::from_str(&joined.join("\n")).unwrap();
        assert_eq!(v["content"]["parts"][0]["text"], "hello");
    }

    #[test]
    fn unescaped_error_is_not_json() {
        let mut w = FrameWriter::new(Variants::default(), "e".into());
        let f = w.error(StreamErrorForm::Unescaped, "bad \"quote\" here");
        assert!(serde_json::from_str::<Value>(f.trim_start_matches("data: ").trim()).is_err());
    }
}

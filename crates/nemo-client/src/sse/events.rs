//! What the frames mean: both event families (ADK events and the `{"type": …}` form) read into
//! serde types at the edge and told in one vocabulary, [`AgentEvent`].

use super::Frame;
use crate::wire::lenient;
use serde::Deserialize;
use serde_json::Value;

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

/// One event line of either family. The ADK form is `{content: {role, parts}, partial,
/// author, errorCode, errorMessage}`; the other is `{type, content | text, name, args |
/// arguments, result, message}`; either may be a bare `{error}`. `content` is text in one family
/// and an object in the other, so it stays a `Value` until the family is known. Every field is
/// lenient: one in a shape we do not know counts as absent.
#[derive(Deserialize, Default)]
#[serde(default)]
struct EventWire {
    error: Value,
    #[serde(rename = "type", deserialize_with = "lenient")]
    kind: Option<String>,
    content: Value,
    #[serde(deserialize_with = "lenient")]
    text: Option<String>,
    #[serde(deserialize_with = "lenient")]
    name: Option<String>,
    args: Value,
    arguments: Value,
    result: Value,
    #[serde(deserialize_with = "lenient")]
    message: Option<String>,
    #[serde(rename = "errorCode")]
    error_code_camel: Value,
    error_code: Value,
    #[serde(rename = "errorMessage", deserialize_with = "lenient")]
    error_message_camel: Option<String>,
    #[serde(deserialize_with = "lenient")]
    error_message: Option<String>,
    #[serde(deserialize_with = "lenient")]
    partial: Option<bool>,
    #[serde(deserialize_with = "lenient")]
    author: Option<String>,
}

/// An ADK event's `content`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ContentWire {
    #[serde(deserialize_with = "lenient")]
    role: Option<String>,
    #[serde(deserialize_with = "parts")]
    parts: Option<Vec<PartWire>>,
}

/// One ADK content part: text (maybe a thought), a function call or a function response.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PartWire {
    #[serde(deserialize_with = "lenient")]
    text: Option<String>,
    #[serde(deserialize_with = "lenient")]
    thought: Option<bool>,
    #[serde(rename = "functionCall", deserialize_with = "lenient")]
    function_call_camel: Option<CallWire>,
    #[serde(deserialize_with = "lenient")]
    function_call: Option<CallWire>,
    #[serde(rename = "functionResponse", deserialize_with = "lenient")]
    function_response_camel: Option<CallWire>,
    #[serde(deserialize_with = "lenient")]
    function_response: Option<CallWire>,
}

/// A function call (`args`) or its response (`response`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct CallWire {
    #[serde(deserialize_with = "lenient")]
    name: Option<String>,
    args: Value,
    response: Value,
}

/// `parts` when it is a list (absent otherwise); each item read on its own, an item in an
/// unknown shape giving an empty part.
fn parts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<PartWire>>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(v.as_array().map(|items| {
        items
            .iter()
            .map(|p| serde_json::from_value(p.clone()).unwrap_or_default())
            .collect()
    }))
}

/// A JSON value as text: a string as it is, anything else as JSON.
fn as_text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
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
    let e = match event_wire(data) {
        Ok(Some(e)) => e,
        // JSON, but not an object: nothing an event can be.
        Ok(None) => return,
        Err(_) => {
            if let Some(msg) = unescaped_error(data) {
                out.push(AgentEvent::Error(msg));
            } else {
                tracing::debug!(len = data.len(), "ignoring a malformed SSE frame");
            }
            return;
        }
    };
    if !e.error.is_null() {
        return out.push(AgentEvent::Error(as_text(&e.error)));
    }
    match e.kind.clone() {
        Some(t) => typed_event(e, &t, out),
        None => adk_event(e, out),
    }
}

/// A frame's data as an event: `Ok(None)` for JSON that is not an object, `Err` for what is
/// not JSON. An object is read straight into the wire type (one pass); only one the type
/// refuses as a whole (a duplicate key, say) is read as a value first.
fn event_wire(data: &str) -> Result<Option<EventWire>, serde_json::Error> {
    if data.starts_with('{') {
        if let Ok(e) = serde_json::from_str::<EventWire>(data) {
            return Ok(Some(e));
        }
    }
    let v: Value = serde_json::from_str(data)?;
    Ok(v.is_object()
        .then(|| serde_json::from_value(v).unwrap_or_default()))
}

/// The `{"type": …}` form of an event.
fn typed_event(e: EventWire, t: &str, out: &mut Vec<AgentEvent>) {
    let name = e.name.unwrap_or_default();
    match t {
        "text" | "message" => {
            let content = match &e.content {
                Value::Null => e.text.unwrap_or_default(),
                c => c.as_str().unwrap_or_default().to_string(),
            };
            if !content.is_empty() {
                out.push(AgentEvent::Text(content));
            }
        }
        "tool_call" | "toolCall" => out.push(AgentEvent::ToolCall {
            name,
            args: if e.args.is_null() {
                e.arguments
            } else {
                e.args
            },
        }),
        "tool_result" | "toolResult" => out.push(AgentEvent::ToolResult {
            name,
            result: e.result,
        }),
        "heartbeat" | "ping" => out.push(AgentEvent::Heartbeat),
        "error" => out.push(AgentEvent::Error(
            e.message
                .unwrap_or_default()
                .if_empty(e.content.as_str().unwrap_or_default().to_string()),
        )),
        _ => {}
    }
}

/// An ADK event: an error code, or content parts (text, function calls and responses).
fn adk_event(e: EventWire, out: &mut Vec<AgentEvent>) {
    let code = if e.error_code_camel.is_null() {
        &e.error_code
    } else {
        &e.error_code_camel
    };
    if !code.is_null() {
        let msg = e
            .error_message_camel
            .or(e.error_message)
            .unwrap_or_default();
        return out.push(AgentEvent::Error(if msg.is_empty() {
            as_text(code)
        } else {
            format!("{}: {msg}", as_text(code))
        }));
    }
    let partial = e.partial.unwrap_or(false);
    let system = e.author.as_deref() == Some("system");
    let content: ContentWire = serde_json::from_value(e.content).unwrap_or_default();
    let from_user = content.role.as_deref() == Some("user");
    let Some(parts) = content.parts else {
        return out.push(AgentEvent::Heartbeat);
    };
    let before = out.len();
    let mut thoughts = false;
    for p in parts {
        if p.thought == Some(true) {
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
fn adk_part(p: PartWire, partial: bool, system: bool, out: &mut Vec<AgentEvent>) {
    if let Some(text) = p.text {
        if system && text.trim_start().starts_with("Error") {
            out.push(AgentEvent::Error(
                text.trim_start()
                    .trim_start_matches("Error:")
                    .trim()
                    .to_string(),
            ));
        } else if !partial && !text.is_empty() {
            out.push(AgentEvent::Text(text));
        }
    } else if let Some(call) = p.function_call_camel.or(p.function_call) {
        out.push(AgentEvent::ToolCall {
            name: call.name.unwrap_or_default(),
            args: call.args,
        });
    } else if let Some(resp) = p.function_response_camel.or(p.function_response) {
        out.push(AgentEvent::ToolResult {
            name: resp.name.unwrap_or_default(),
            result: resp.response,
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

//! Contract §3: sending a message to the backend agent and reading its stream.

use crate::client::{Answer, Replay, Want};
use crate::error::{Error, Result};
use crate::session::SessionId;
use crate::sse::{self, classify_stream_error, AgentEvent, Decoder, Frame, StreamErrorKind};
use crate::text;
use crate::Project;
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// The events of one turn. Ends when the backend closes the stream; yields
/// `Err(StreamBroken | StreamTimedOut)` once if it does not end well. Dropping it closes the
/// connection.
pub struct AgentStream {
    inner: Pin<Box<dyn Stream<Item = Result<AgentEvent>> + Send>>,
    session_id: SessionId,
}

impl AgentStream {
    /// The session the message went to.
    pub fn session_id(&self) -> SessionId {
        self.session_id
    }
}

impl Stream for AgentStream {
    type Item = Result<AgentEvent>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

struct Reader {
    body: Body,
    decoder: Decoder,
    frames: Vec<Frame>,
    queue: VecDeque<AgentEvent>,
    started: Instant,
    last_content: Instant,
    total: Duration,
    heartbeats_only: Duration,
    events: usize,
    done: bool,
}

impl Reader {
    async fn next(mut self) -> Option<(Result<AgentEvent>, Reader)> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                if e != AgentEvent::Heartbeat {
                    self.last_content = Instant::now();
                }
                self.events += 1;
                return Some((Ok(e), self));
            }
            if self.done {
                return None;
            }
            let hard = self.started + self.total;
            let deadline = hard.min(self.last_content + self.heartbeats_only);
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_) => {
                    self.done = true;
                    let heartbeats_only = deadline < hard;
                    return Some((Err(Error::StreamTimedOut { heartbeats_only }), self));
                }
                Ok(None) => {
                    self.decoder.finish(&mut self.frames);
                    self.drain();
                    self.done = true;
                }
                Ok(Some(Err(_))) => {
                    self.done = true;
                    return Some((
                        Err(Error::StreamBroken {
                            events: self.events,
                        }),
                        self,
                    ));
                }
                Ok(Some(Ok(bytes))) => {
                    self.decoder.feed(&bytes, &mut self.frames);
                    self.drain();
                }
            }
        }
    }

    fn drain(&mut self) {
        let mut events = Vec::new();
        for f in self.frames.drain(..) {
            sse::interpret(&f, &mut events);
        }
        self.queue.extend(events);
    }
}

/// The seeds' `/run_sse` body, exactly.
#[derive(Serialize)]
struct RunSse<'a> {
    app_name: &'a str,
    user_id: &'a str,
    session_id: String,
    new_message: NewMessage<'a>,
}

#[derive(Serialize)]
struct NewMessage<'a> {
    parts: [TextPart<'a>; 1],
}

#[derive(Serialize)]
struct TextPart<'a> {
    text: &'a str,
}

impl Project<'_> {
    /// An error the agent reported inside its stream, as the same [`Error`] the HTTP form of
    /// that failure gives (out of credits with the registration link, token, this project
    /// lost), or as a refusal, or in the backend's own words.
    pub async fn stream_failure(&self, message: &str) -> Error {
        let message: String = message.trim().chars().take(300).collect();
        match classify_stream_error(&message) {
            StreamErrorKind::OutOfCredits => {
                self.learn_user_id().await;
                Error::OutOfCredits {
                    register_url: self.client.register_url(),
                }
            }
            StreamErrorKind::Token => Error::TokenInvalid {
                given: self.client.token_source() == crate::TokenSource::Given,
            },
            StreamErrorKind::Session => Error::SessionLost {
                session: Some(self.id),
                message,
            },
            StreamErrorKind::Refused => Error::ContentRefused { message },
            StreamErrorKind::Other => Error::AgentFailed { message },
        }
    }

    /// Send one message to the project's agent. The message is paid for and sent once:
    /// nothing here retries after the backend may have accepted it (a re-send is charged
    /// twice). Token renewal and a 429 are handled while the backend is still refusing, when
    /// nothing was accepted. How a failure is reported says whether the message may have
    /// arrived: [`Error::Unconfirmed`] when it may, any other error when it provably did not.
    /// A lost project is [`Error::SessionLost`]: the caller decides what to do.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = nemo_sim::Sim::start(nemo_sim::SimConfig::fast()).await?;
    /// # let dir = tempfile::tempdir()?;
    /// # let config = nemo_client::Config::new(sim.base_url(), dir.path().join("state"))
    /// #     .with_client_id_file(dir.path().join("client_id"));
    /// use futures_util::StreamExt;
    /// use nemo_client::TurnReply;
    /// let client = nemo_client::Client::new(config)?;
    /// let project = client.create_project("en").await?.handle(&client);
    /// let mut stream = project.send("make a 10-second video with a title \"Hello\"").await?;
    /// let mut reply = TurnReply::default();
    /// while let Some(event) = stream.next().await {
    ///     reply.push(&event?);
    /// }
    /// assert!(reply.is_complete(), "the turn ended with a final answer");
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, message: &str) -> Result<AgentStream> {
        let session = self.id;
        let timeouts = self.client.config().timeouts.clone();
        let url = self.client.url("/run_sse");
        let body = RunSse {
            app_name: "nemo_agent",
            user_id: "me",
            session_id: session.to_string(),
            new_message: NewMessage {
                parts: [TextPart { text: message }],
            },
        };
        let answer = self
            .client
            .execute(Want::Stream, Replay::Paid, |http, token| {
                Ok(http
                    .post(&url)
                    .bearer_auth(token.expose())
                    .header("Accept", "text/event-stream")
                    .json(&body))
            })
            .await
            .map_err(|e| e.in_session(session))?;
        let resp = match answer {
            Answer::Stream(r) => r,
            // A 2xx JSON answer to a message is not a turn; it may still have been taken.
            Answer::Json(_) => {
                return Err(Error::Unconfirmed {
                    message: "the backend answered with JSON instead of an event stream".into(),
                })
            }
        };
        let now = Instant::now();
        let reader = Reader {
            body: Box::pin(resp.bytes_stream()),
            decoder: Decoder::new(),
            frames: Vec::new(),
            queue: VecDeque::new(),
            started: now,
            last_content: now,
            total: timeouts.sse_total,
            heartbeats_only: timeouts.sse_heartbeats_only,
            events: 0,
            done: false,
        };
        let inner = futures_util::stream::unfold(reader, Reader::next);
        Ok(AgentStream {
            inner: Box::pin(inner),
            session_id: session,
        })
    }
}

/// What a turn said and did, accumulated from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnReply {
    pub texts: Vec<String>,
    pub tool_calls: Vec<String>,
    pub heartbeats: usize,
    /// The backend's in-stream error, if it sent one.
    pub error: Option<String>,
    /// Function calls still waiting for their response.
    open_calls: usize,
    /// The reply passed [`crate::limits::MAX_REPLY_CHARS`]; later text is dropped.
    truncated: bool,
    /// The last content event was a final response (ADK: not partial, no function call or
    /// response in it).
    last_final: bool,
}

impl TurnReply {
    pub fn push(&mut self, event: &AgentEvent) {
        match event {
            AgentEvent::Text(t) => {
                // Bounded: a turn's reply is for reading, not a channel for megabytes.
                let kept: usize = self.texts.iter().map(String::len).sum();
                if self.truncated {
                } else if kept + t.len() <= crate::limits::MAX_REPLY_CHARS {
                    self.texts.push(t.clone());
                } else {
                    let room = crate::limits::MAX_REPLY_CHARS.saturating_sub(kept);
                    let mut cut: String = t.chars().take(room / 4).collect();
                    cut.push_str(" […]");
                    self.texts.push(cut);
                    self.truncated = true;
                }
                self.last_final = true;
            }
            AgentEvent::Final => self.last_final = true,
            AgentEvent::ToolCall { name, .. } => {
                self.tool_calls.push(name.clone());
                self.open_calls += 1;
                self.last_final = false;
            }
            AgentEvent::ToolResult { .. } => {
                self.open_calls = self.open_calls.saturating_sub(1);
                self.last_final = false;
            }
            AgentEvent::Heartbeat => self.heartbeats += 1,
            AgentEvent::Error(e) => self.error = Some(e.clone()),
        }
    }

    /// Whether the stream ended a finished turn (ADK semantics): its last content event was a
    /// final response and no function call waits for its response. A stream that closes
    /// cleanly otherwise was cut in the middle of the turn: the backend may still be working.
    pub fn is_complete(&self) -> bool {
        self.error.is_some() || (self.last_final && self.open_calls == 0)
    }

    /// Whether the agent did any work beyond talking (a tool ran or was started).
    pub fn did_work(&self) -> bool {
        !self.tool_calls.is_empty()
    }

    /// The reply for people: GUI-translated, without a trailing "temporary issue" line after
    /// normal text. Empty when the backend said nothing (a silent edit).
    pub fn reply(&self) -> String {
        let mut texts: Vec<&str> = self.texts.iter().map(String::as_str).collect();
        while texts.len() > 1 && texts.last().is_some_and(|t| text::is_temporary_issue(t)) {
            texts.pop();
        }
        text::translate_gui(texts.join("\n\n").trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn turn(events: &[AgentEvent]) -> TurnReply {
        let mut t = TurnReply::default();
        events.iter().for_each(|e| t.push(e));
        t
    }

    #[test]
    fn completeness_follows_adk() {
        let call = AgentEvent::ToolCall {
            name: "edit".into(),
            args: Value::Null,
        };
        let result = AgentEvent::ToolResult {
            name: "edit".into(),
            result: Value::Null,
        };
        let text = AgentEvent::Text("done".into());
        assert!(turn(std::slice::from_ref(&text)).is_complete());
        assert!(turn(&[text.clone(), call.clone(), result.clone(), text.clone()]).is_complete());
        assert!(turn(&[call.clone(), result.clone(), AgentEvent::Final]).is_complete());
        // Closed with a call still open, or right after a tool result: cut mid-turn.
        assert!(!turn(&[text.clone(), call.clone()]).is_complete());
        assert!(!turn(&[text.clone(), call.clone(), AgentEvent::Heartbeat]).is_complete());
        assert!(!turn(&[call.clone(), result.clone()]).is_complete());
        assert!(!turn(&[]).is_complete());
        assert!(!turn(&[AgentEvent::Heartbeat]).is_complete());
    }

    #[test]
    fn a_reply_is_bounded() {
        let big = AgentEvent::Text("z".repeat(crate::limits::MAX_REPLY_CHARS / 2 + 1));
        let t = turn(&[big.clone(), big.clone(), big]);
        assert!(t.reply().len() <= crate::limits::MAX_REPLY_CHARS + 16);
        assert!(t.reply().ends_with("[…]"));
        assert!(t.is_complete());
    }
}

//! Contract §3: sending a message to the backend agent and reading its stream.

use crate::client::{Answer, Want};
use crate::error::{Error, Result};
use crate::session::SessionId;
use crate::sse::{self, AgentEvent, Decoder, Frame};
use crate::text;
use crate::Client;
use futures_util::{Stream, StreamExt};
use serde_json::json;
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

impl Client {
    /// Send one message to the agent. The message is sent once: this never retries after the
    /// backend accepted it (a re-send would be charged twice). Token renewal, a 429 and a lost
    /// session are handled before the stream starts, when nothing was accepted yet.
    pub async fn send_message(&self, message: &str) -> Result<AgentStream> {
        let timeouts = self.config().timeouts.clone();
        let url = self.url("/run_sse");
        let (session_id, resp) = self
            .with_session(|s| {
                let url = url.clone();
                async move {
                    let body = json!({
                        "app_name": "nemo_agent",
                        "user_id": "me",
                        "session_id": s.session_id.to_string(),
                        "new_message": {"parts": [{"text": message}]},
                    });
                    let answer = self
                        .execute(Want::Stream, false, |http, token| {
                            Ok(http
                                .post(&url)
                                .bearer_auth(token.expose())
                                .header("Accept", "text/event-stream")
                                .json(&body))
                        })
                        .await?;
                    match answer {
                        Answer::Stream(r) => Ok((s.session_id, r)),
                        Answer::Json(_) => Err(Error::Protocol {
                            message: "expected an event stream".into(),
                        }),
                    }
                }
            })
            .await?;
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
            session_id,
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
}

impl TurnReply {
    pub fn push(&mut self, event: &AgentEvent) {
        match event {
            AgentEvent::Text(t) => self.texts.push(t.clone()),
            AgentEvent::ToolCall { name, .. } => self.tool_calls.push(name.clone()),
            AgentEvent::ToolResult { .. } => {}
            AgentEvent::Heartbeat => self.heartbeats += 1,
            AgentEvent::Error(e) => self.error = Some(e.clone()),
        }
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

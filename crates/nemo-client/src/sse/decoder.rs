//! The SSE wire format: bytes in, frames out.

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
    pub(super) line: Vec<u8>,
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

//! Scriptable faults: "the next N requests to route R do X".
//!
//! Faults are queued per route and consumed in order, so a test can script a burst ("three 503s,
//! then normal service") and assert what the client did about it.

use serde::{Deserialize, Serialize};

/// The API areas a fault can target, named after the contract's endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Token,
    Session,
    Upload,
    RunSse,
    Credits,
    State,
    RenderSubmit,
    RenderStatus,
    RenderCancel,
    /// The rendered file itself and the `/download` fallback.
    Download,
    Claim,
}

impl Route {
    /// Which route a request path belongs to; `None` for the control and web pages.
    pub fn of(method: &str, path: &str) -> Option<Route> {
        let post = method == "POST";
        Some(match path {
            "/api/auth/anonymous-token" => Route::Token,
            "/api/auth/claim-token" => Route::Claim,
            "/api/tasks/me/with-session/nemo_agent" => Route::Session,
            "/run_sse" => Route::RunSse,
            "/api/credits/balance/simple" => Route::Credits,
            "/api/render/proxy/lambda" => Route::RenderSubmit,
            p if p.starts_with("/api/upload-video/") => Route::Upload,
            p if p.starts_with("/api/state/") => Route::State,
            p if p.starts_with("/renders/") => Route::Download,
            p if p.starts_with("/api/render/proxy/lambda/") && p.ends_with("/cancel") && post => {
                Route::RenderCancel
            }
            p if p.starts_with("/api/render/proxy/lambda/") => Route::RenderStatus,
            p if p.starts_with("/api/render/proxy/") && p.ends_with("/download") => Route::Download,
            _ => return None,
        })
    }
}

/// The four in-stream error forms of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamErrorForm {
    /// `data: {"error":"<msg with "unescaped" quotes>"}` (older ADK: not valid JSON).
    Unescaped,
    /// `data: {"error":"..","error_details":{..}}` then close.
    WithDetails,
    /// An event with `"author":"system"` and text `Error: ...`.
    SystemAuthor,
    /// An event carrying `errorCode`/`errorMessage`.
    ErrorCode,
}

/// What happens to a request hit by a fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this HTTP status and a plain-text (or empty) body.
    Status {
        status: u16,
        #[serde(default)]
        body: String,
    },
    /// Answer with this error code in the active envelope.
    Code { code: i64 },
    /// Answer 429 with a `Retry-After` header.
    RateLimit { retry_after_s: u64 },
    /// Wait this long (not scaled) before handling the request normally.
    Delay { ms: u64 },
    /// Close the connection without an answer.
    Drop,
    /// Handle the request but close the connection after this many bytes of the answer
    /// (for uploads: after this many bytes of the request body have been read).
    DropMidBody { after_bytes: u64 },
    /// `/run_sse`: the stream is cut after this many events; the turn itself goes on server-side.
    CutStream { after_events: u32 },
    /// `/run_sse`: malformed frames are mixed into the stream.
    MalformedFrames,
    /// `/run_sse`: only heartbeats, until the stream's 15-minute limit (scaled).
    HeartbeatsOnly,
    /// `/run_sse`: the stream ends with an in-stream error in this form; nothing is charged.
    /// With a `code`, the message carries it ("insufficient credits (code 2001)" for 2001).
    StreamError {
        form: StreamErrorForm,
        #[serde(default)]
        code: Option<i64>,
    },
    /// `/run_sse`: the turn is accepted (credits frozen, the agent works and is charged), then
    /// the POST fails before the first event: this HTTP status (a gateway's 502/504).
    AcceptedThenStatus { status: u16 },
    /// `/run_sse`: the turn is accepted, then the connection is reset before any answer.
    AcceptedThenReset,
    /// `/run_sse`: the turn is accepted, then the response headers are held back this long
    /// (not scaled).
    AcceptedThenStall { ms: u64 },
    /// `/run_sse`: the stream closes cleanly right after a function call, with no response to
    /// it and no final answer; the agent goes on and its change lands later.
    CloseWithOpenCall,
    /// `/run_sse`: the turn finishes on the stream, but its change reaches the state this long
    /// (not scaled) after the stream closed.
    LateState { ms: u64 },
    /// `/run_sse`: the turn runs and is charged, but changes nothing (the agent still claims
    /// it did).
    NoChange,
    // ---- A hostile (or badly broken) backend: what a client must survive. ----
    /// Answer `200 application/json` with a body of this many bytes that never ends as JSON.
    HugeBody { bytes: u64 },
    /// `/run_sse`: before the turn's events, one line of this many bytes (the turn goes on).
    HugeSseLine { bytes: u64 },
    /// `/run_sse`: the turn works, but its timeline comes out at this fraction of the length it
    /// should have (an agent that got the length wrong this once): the file a client exports
    /// really is shorter than asked.
    ShortTimeline { fraction: f64 },
    /// `/run_sse`: the turn works, but leaves the frame shape as it was (an agent that did not
    /// take "vertical 9:16" this once): the file comes out in the old shape.
    IgnoreShape,
    /// `/run_sse`: the turn works, but adds no music (an agent that missed "with music" this
    /// once): the file comes out with no sound track.
    IgnoreMusic,
    /// `/run_sse`: the turn works, but puts no text on the picture (an agent that missed
    /// "text overlays" this once): no text track, no title drawn.
    IgnoreText,
    /// `/run_sse`: the turn works, but takes the middle segment out of the video track and
    /// moves none of the others up (an agent that deleted a scene this once): the file shows
    /// black where it was, for the segment's length.
    HoleInVideo,
    /// Answer `302` to this location.
    Redirect { location: String },
    /// Pass this many bytes of the answer (for uploads: read this many bytes of the request
    /// body), then send (or read) nothing more and never close.
    StallMidBody { after_bytes: u64 },
    /// Send this many bytes more than the answer holds (and its `Content-Length` says so).
    ExtraBytes { bytes: u64 },
    /// Answer `200` with these bytes and this content type instead.
    Serve { content_type: String, body: String },
    /// A completed render's status names this download URL and/or announces this size.
    RenderOutput {
        #[serde(default)]
        url: Option<String>,
        #[serde(default)]
        size: Option<u64>,
    },
}

/// One scripted fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    pub route: Route,
    pub action: FaultAction,
    /// How many matching requests it hits.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub fn new(route: Route, action: FaultAction) -> Self {
        Self {
            route,
            action,
            times: 1,
        }
    }
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }
}

/// The queue of pending faults.
#[derive(Debug, Default)]
pub struct FaultPlan {
    pending: Vec<Fault>,
}

impl FaultPlan {
    pub fn push(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.pending.push(fault);
        }
    }

    /// Take the next fault for a route, if any.
    pub fn take(&mut self, route: Route) -> Option<FaultAction> {
        let idx = self.pending.iter().position(|f| f.route == route)?;
        let fault = &mut self.pending[idx];
        let action = fault.action.clone();
        fault.times -= 1;
        if fault.times == 0 {
            self.pending.remove(idx);
        }
        Some(action)
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_recognised() {
        assert_eq!(Route::of("POST", "/run_sse"), Some(Route::RunSse));
        assert_eq!(
            Route::of("GET", "/api/render/proxy/lambda/r1"),
            Some(Route::RenderStatus)
        );
        assert_eq!(
            Route::of("POST", "/api/render/proxy/lambda/r1/cancel"),
            Some(Route::RenderCancel)
        );
        assert_eq!(
            Route::of("GET", "/api/render/proxy/r1/download"),
            Some(Route::Download)
        );
        assert_eq!(
            Route::of("GET", "/api/state/nemo_agent/me/1/latest"),
            Some(Route::State)
        );
        assert_eq!(Route::of("GET", "/_sim/log"), None);
    }

    #[test]
    fn faults_are_consumed_in_order() {
        let mut plan = FaultPlan::default();
        plan.push(
            Fault::new(
                Route::Credits,
                FaultAction::Status {
                    status: 503,
                    body: String::new(),
                },
            )
            .times(2),
        );
        plan.push(Fault::new(Route::Credits, FaultAction::Drop));
        assert!(matches!(
            plan.take(Route::Credits),
            Some(FaultAction::Status { status: 503, .. })
        ));
        assert!(plan.take(Route::State).is_none());
        assert!(matches!(
            plan.take(Route::Credits),
            Some(FaultAction::Status { .. })
        ));
        assert_eq!(plan.take(Route::Credits), Some(FaultAction::Drop));
        assert!(plan.take(Route::Credits).is_none());
    }

    #[test]
    fn faults_round_trip_as_json() {
        let f: Fault = serde_json::from_str(
            r#"{"route":"run_sse","action":{"kind":"cut_stream","after_events":3}}"#,
        )
        .unwrap();
        assert_eq!(f.times, 1);
        assert_eq!(f.action, FaultAction::CutStream { after_events: 3 });
    }
}

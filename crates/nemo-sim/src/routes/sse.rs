//! Contract §3: `/run_sse`. The turn runs in its own task: the backend's agent keeps working when
//! a client disconnects, which is exactly why clients must never re-send a message.

use crate::agent::{self, TurnKind};
use crate::config::timing;
use crate::faults::{FaultAction, StreamErrorForm};
use crate::reply::ApiError;
use crate::routes::parse_session_id;
use crate::sse_frames::FrameWriter;
use crate::state::{AppState, LogSeq, StreamFault};
use axum::body::{Body, Bytes};
use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::mpsc;

fn detail(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({"detail": msg}))).into_response()
}

pub async fn run_sse(
    State(s): State<AppState>,
    Extension(seq): Extension<LogSeq>,
    fault: Option<Extension<StreamFault>>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    let user = match s.authorize(&headers) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (sid, text) = match read_message(body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let plan = match begin_turn(&s, sid, &user, &text) {
        Ok(p) => p,
        Err(r) => return r,
    };
    s.log_turn_started(seq.0);
    let turn_no = s.world().sessions.get(&sid).map(|x| x.turns).unwrap_or(0);
    let silent = is_silent(&s, sid, turn_no, &plan);
    let fault = fault.map(|Extension(StreamFault(a))| a);
    let (tx, rx) = mpsc::channel::<String>(64);
    let writer = FrameWriter::new(
        s.config.variants,
        format!("e-{}", uuid::Uuid::new_v4().simple()),
    );
    let turn = Turn {
        s: s.clone(),
        sid,
        user,
        plan,
        silent,
        turn_no,
        fault: fault.clone(),
    };
    tokio::spawn(run_turn(turn, writer, tx));

    // The turn is accepted and runs (and is charged) whatever happens to this answer.
    match fault {
        Some(FaultAction::AcceptedThenStatus { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            return (status, "upstream error").into_response();
        }
        Some(FaultAction::AcceptedThenReset) => return crate::gate::dropped_connection(),
        Some(FaultAction::AcceptedThenStall { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        _ => {}
    }
    let cut_after = match fault {
        Some(FaultAction::CutStream { after_events }) => Some(after_events as usize),
        _ => None,
    };
    event_stream(rx, cut_after)
}

/// The session and the message's text, or the backend's 422/404 for a body without them.
// A refusal is the answer itself, built once and sent at once: no need to box it.
#[allow(clippy::result_large_err)]
fn read_message(body: Option<Json<Value>>) -> Result<(u64, String), Response> {
    let Some(Json(body)) = body else {
        return Err(detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "body must be JSON",
        ));
    };
    let text = crate::gate::message_text(&body).unwrap_or_default();
    if body["app_name"] != "nemo_agent" || text.trim().is_empty() {
        return Err(detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "app_name, session_id and new_message.parts[].text are required",
        ));
    }
    let Some(sid) = parse_session_id(&body["session_id"]) else {
        return Err(detail(
            StatusCode::NOT_FOUND,
            "Session not found: missing session_id",
        ));
    };
    Ok((sid, text))
}

/// Plan the turn, check the credits and freeze them, under one lock.
#[allow(clippy::result_large_err)]
fn begin_turn(s: &AppState, sid: u64, user: &str, text: &str) -> Result<agent::TurnPlan, Response> {
    let mut w = s.world();
    let Some(session) = w.sessions.get(&sid).filter(|x| x.user_id == user) else {
        return Err(detail(
            StatusCode::NOT_FOUND,
            &format!("Session not found: {sid}"),
        ));
    };
    if session.turn_running {
        return Err(detail(
            StatusCode::CONFLICT,
            "a message is already being processed in this session",
        ));
    }
    let plan = agent::plan(session, text);
    let Some(account) = w.user_mut(user) else {
        return Err(detail(StatusCode::NOT_FOUND, "user not found"));
    };
    if account.available < plan.cost {
        drop(w);
        return Err(s.err(ApiError::NoCredits, "insufficient credits"));
    }
    account.available -= plan.cost;
    account.frozen += plan.cost;
    if let Some(session) = w.sessions.get_mut(&sid) {
        session.turn_running = true;
        session.turns += 1;
    }
    Ok(plan)
}

/// Whether this edit says nothing: as set by the test, else about 30% of edits,
/// deterministically per session and turn.
fn is_silent(s: &AppState, sid: u64, turn_no: u32, plan: &agent::TurnPlan) -> bool {
    plan.kind != TurnKind::Chat
        && s.silence
            .lock()
            .map(|g| *g)
            .unwrap_or(None)
            .unwrap_or_else(|| (sid.wrapping_mul(31) + turn_no as u64 * 7) % 10 < 3)
}

/// The `text/event-stream` answer of the turn's frames, cut after `cut_after` of them.
fn event_stream(rx: mpsc::Receiver<String>, cut_after: Option<usize>) -> Response {
    let frames = tokio_stream_from(rx);
    let body = match cut_after {
        Some(k) => {
            let cut = futures_util::stream::once(async {
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "fault: stream cut",
                ))
            });
            Body::from_stream(frames.take(k).map(Ok::<Bytes, std::io::Error>).chain(cut))
        }
        None => Body::from_stream(frames.map(Ok::<Bytes, std::io::Error>)),
    };
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    r
}

fn tokio_stream_from(mut rx: mpsc::Receiver<String>) -> impl futures_util::Stream<Item = Bytes> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|o| o.map(Bytes::from)))
}

/// The stream side of a turn: frames go out until the stream is closed; after that the turn
/// goes on unheard (a client that disconnected, or a stream the backend closed early).
struct Out {
    tx: Option<mpsc::Sender<String>>,
}

impl Out {
    async fn send(&self, frame: String) {
        if let Some(tx) = &self.tx {
            // A closed receiver means the client went away; the turn goes on regardless.
            let _ = tx.send(frame).await;
        }
    }
    async fn send_all(&self, frames: Vec<String>) {
        for f in frames {
            self.send(f).await;
        }
    }
    /// Close the stream cleanly (the end of the body).
    fn close(&mut self) {
        self.tx = None;
    }
}

/// One accepted turn.
struct Turn {
    s: AppState,
    sid: u64,
    user: String,
    plan: agent::TurnPlan,
    silent: bool,
    turn_no: u32,
    fault: Option<FaultAction>,
}

/// Runs one turn to its end whether or not anybody still listens.
async fn run_turn(turn: Turn, mut w: FrameWriter, tx: mpsc::Sender<String>) {
    let mut out = Out { tx: Some(tx) };
    let outcome_ok = match &turn.fault {
        Some(FaultAction::HeartbeatsOnly) => {
            let beat = turn.beat();
            let stall = turn.s.config.scaled(timing::STALL);
            heartbeats(&out, &w.heartbeat(), beat, stall).await;
            false
        }
        Some(FaultAction::StreamError { form, code }) => {
            tokio::time::sleep(turn.work() / 4).await;
            let f = w.error(*form, &stream_error_message(*code, *form));
            out.send(f).await;
            false
        }
        _ => {
            play(&turn, &mut w, &mut out).await;
            true
        }
    };
    if let Some(FaultAction::LateState { ms }) = turn.fault {
        out.close();
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    settle(turn, outcome_ok);
    // Dropping `out` closes the stream: the end of the turn.
}

impl Turn {
    fn beat(&self) -> Duration {
        self.s
            .config
            .scaled(timing::HEARTBEAT)
            .max(Duration::from_millis(1))
    }

    fn work(&self) -> Duration {
        self.s.config.scaled(match self.plan.kind {
            TurnKind::Chat => timing::TEXT_TURN,
            TurnKind::Edit => timing::EDIT_TURN,
            TurnKind::Generate => timing::GENERATION_TURN,
        })
    }
}

fn stream_error_message(code: Option<i64>, form: StreamErrorForm) -> String {
    match (code, form) {
        (Some(2001), _) => "insufficient credits (code 2001)".to_string(),
        (Some(c), _) => format!("request failed (code {c})"),
        (None, StreamErrorForm::Unescaped) => "model call failed: \"quota\" exceeded".to_string(),
        (None, _) => "model call failed: quota exceeded".to_string(),
    }
}

/// A turn that works: a thought, the opening, the tool call, heartbeats while it works, the
/// tool's result and the closing (or silence).
async fn play(turn: &Turn, w: &mut FrameWriter, out: &mut Out) {
    let (plan, fault) = (&turn.plan, &turn.fault);
    if let Some(t) = w.thought("Planning the edit from the user's media.") {
        out.send(t).await;
    }
    if !turn.silent {
        out.send_all(w.text(&plan.opening)).await;
    }
    if matches!(fault, Some(FaultAction::MalformedFrames)) {
        out.send_all(w.malformed()).await;
    }
    out.send(w.tool_call(plan.tool, &plan.tool_args)).await;
    if matches!(fault, Some(FaultAction::CloseWithOpenCall)) {
        out.close();
    }
    heartbeats(out, &w.heartbeat(), turn.beat(), turn.work()).await;
    out.send(w.tool_result(plan.tool, &json!({"status": "ok"})))
        .await;
    if !turn.silent {
        out.send_all(w.text(&plan.closing)).await;
        // Now and then the backend trails a normal answer with this line.
        if turn.turn_no % 4 == 3 && plan.kind != TurnKind::Chat {
            out.send_all(w.text("I encountered a temporary issue. Please try again later."))
                .await;
        }
    } else if turn.turn_no.is_multiple_of(2) {
        // Silent turns end either right after the tool's response or, as here, with an empty
        // final model event: the contract leaves it open.
        if let Some(f) = w.final_empty() {
            out.send(f).await;
        }
    }
}

/// A draft at `fraction` of its length: its duration and every segment's times scaled.
fn shorten(draft: &mut serde_json::Value, fraction: f64) {
    let f = fraction.clamp(0.05, 1.0);
    let scale = |v: &mut serde_json::Value| {
        if let Some(ms) = v.as_u64() {
            *v = serde_json::json!(((ms as f64) * f).round() as u64);
        }
    };
    scale(&mut draft["d"]);
    if let Some(tracks) = draft["t"].as_array_mut() {
        for t in tracks {
            if let Some(segments) = t["sg"].as_array_mut() {
                for s in segments {
                    scale(&mut s["st"]);
                    scale(&mut s["et"]);
                }
            }
        }
    }
}

/// The turn's end in the world: the draft changed (if it worked), the credits charged or
/// given back.
fn settle(turn: Turn, outcome_ok: bool) {
    let mut world = turn.s.world();
    if let Some(session) = world.sessions.get_mut(&turn.sid) {
        session.turn_running = false;
        if outcome_ok && turn.fault != Some(FaultAction::NoChange) {
            if let Some(mut d) = turn.plan.new_draft {
                if let Some(FaultAction::ShortTimeline { fraction }) = turn.fault {
                    shorten(&mut d, fraction);
                }
                if turn.fault == Some(FaultAction::IgnoreShape) {
                    d["m"]["width"] = serde_json::json!(1920);
                    d["m"]["height"] = serde_json::json!(1080);
                }
                // The music track is `tt` 1 and the text track `tt` 7 (the agent's layout).
                let drop_track = |d: &mut serde_json::Value, tt: u64| {
                    if let Some(tracks) = d["t"].as_array_mut() {
                        tracks.retain(|t| t["tt"].as_u64() != Some(tt));
                    }
                };
                if turn.fault == Some(FaultAction::IgnoreMusic) {
                    drop_track(&mut d, 1);
                }
                if turn.fault == Some(FaultAction::HoleInVideo) {
                    if let Some(segments) = d["t"].as_array_mut().and_then(|t| {
                        t.iter_mut()
                            .find(|t| t["tt"].as_u64() == Some(0))
                            .and_then(|t| t["sg"].as_array_mut())
                    }) {
                        if segments.len() >= 3 {
                            segments.remove(segments.len() / 2);
                        }
                    }
                }
                if turn.fault == Some(FaultAction::IgnoreText) {
                    drop_track(&mut d, 7);
                    if let Some(m) = d["m"].as_object_mut() {
                        m.remove("title");
                    }
                }
                session.draft = d;
            }
            if let Some(g) = turn.plan.generated {
                session.generated_media.push(g);
            }
        }
    }
    let charged = world.user_mut(&turn.user).map(|account| {
        account.frozen -= turn.plan.cost;
        if !outcome_ok {
            account.available += turn.plan.cost;
        }
        if outcome_ok {
            turn.plan.cost
        } else {
            0
        }
    });
    if let Some(c) = charged {
        world.charges.push((turn.sid, c));
    }
}

async fn heartbeats(out: &Out, hb: &str, beat: Duration, total: Duration) {
    let deadline = tokio::time::Instant::now() + total;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(beat.min(deadline - tokio::time::Instant::now())).await;
        out.send(hb.to_string()).await;
    }
}

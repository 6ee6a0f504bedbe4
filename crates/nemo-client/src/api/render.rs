//! Contract §7–9: export a draft, poll the render, cancel it, download the file.

use crate::client::{Answer, Replay, Want};
use crate::error::{Error, Result};
use crate::wire::lenient;
use crate::{Client, Project};
use futures_util::StreamExt;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// A render id: `render_<unix ms>`, the seeds' `render_<ts>`, unique per submit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RenderId(String);

/// The last timestamp handed out, so two renders in one millisecond still get two ids.
static LAST_RENDER_MS: AtomicI64 = AtomicI64::new(0);

impl RenderId {
    /// A new id in the seeds' form `render_<ts>`: the current Unix time in milliseconds, moved
    /// on by one when this process already used that millisecond.
    pub fn generate() -> RenderId {
        let now = chrono::Utc::now().timestamp_millis();
        let mut last = LAST_RENDER_MS.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match LAST_RENDER_MS.compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return RenderId(format!("render_{next}")),
                Err(seen) => last = seen,
            }
        }
    }
    /// An id read back from our own journal.
    pub fn from_journal(id: impl Into<String>) -> RenderId {
        RenderId(id.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RenderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RenderState {
    Pending,
    Processing,
    Completed,
    Failed,
    /// A status we do not know: treated as still running.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderStatus {
    pub state: RenderState,
    pub progress: Option<u8>,
    pub url: Option<String>,
    pub error: Option<String>,
    pub duration_s: Option<f64>,
    pub size: Option<u64>,
}

/// A render status as the backend sends it, in any of the contract's shapes: the fields at the
/// top level or one level down in `data`, the URL as `output.url`, `outputUrl`, `output_url` or
/// `url`. The spellings are separate fields, not serde aliases, because an answer may carry two
/// of them at once, and the order below decides which wins. A field in a shape we do not know
/// is dropped, never fatal.
#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusWire {
    #[serde(deserialize_with = "lenient")]
    status: Option<String>,
    #[serde(deserialize_with = "lenient")]
    progress: Option<f64>,
    #[serde(deserialize_with = "lenient")]
    output: Option<OutputWire>,
    #[serde(rename = "outputUrl", deserialize_with = "lenient")]
    output_url_camel: Option<String>,
    #[serde(deserialize_with = "lenient")]
    output_url: Option<String>,
    #[serde(deserialize_with = "lenient")]
    url: Option<String>,
    #[serde(deserialize_with = "lenient")]
    error: Option<String>,
    #[serde(deserialize_with = "lenient")]
    message: Option<String>,
    #[serde(deserialize_with = "lenient")]
    duration: Option<f64>,
    #[serde(deserialize_with = "lenient")]
    size: Option<u64>,
    #[serde(deserialize_with = "lenient")]
    data: Option<Box<StatusWire>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OutputWire {
    #[serde(deserialize_with = "lenient")]
    url: Option<String>,
    #[serde(deserialize_with = "lenient")]
    duration: Option<f64>,
    #[serde(deserialize_with = "lenient")]
    size: Option<u64>,
}

fn filled(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

impl RenderStatus {
    /// Read a status in any of the contract's shapes (after the envelope is unwrapped).
    pub fn from_json(v: &Value) -> RenderStatus {
        let wire: StatusWire = serde_json::from_value(v.clone()).unwrap_or_default();
        // Some shapes nest the fields one level deeper under `data`.
        let d = match wire.data {
            Some(inner) if wire.status.is_none() => *inner,
            _ => wire,
        };
        let status = filled(d.status).unwrap_or_default().to_ascii_lowercase();
        let state = match status.as_str() {
            "pending" | "queued" => RenderState::Pending,
            "processing" | "running" | "rendering" => RenderState::Processing,
            "completed" | "complete" | "done" | "succeeded" | "success" => RenderState::Completed,
            "failed" | "error" | "cancelled" | "canceled" => RenderState::Failed,
            other => RenderState::Unknown(other.to_string()),
        };
        let output = d.output.unwrap_or_default();
        RenderStatus {
            state,
            progress: d.progress.map(|p| p.clamp(0.0, 100.0) as u8),
            url: filled(output.url)
                .or_else(|| filled(d.output_url_camel))
                .or_else(|| filled(d.output_url))
                .or_else(|| filled(d.url)),
            error: filled(d.error).or_else(|| filled(d.message).filter(|_| status == "failed")),
            duration_s: output.duration.or(d.duration),
            size: output.size.or(d.size),
        }
    }
}

/// The body of a render submit, exactly as the seeds write it:
/// `{"id":"render_<ts>","sessionId":"<sid>","draft":<json>,"output":{"format":"mp4","quality":"high"}}`.
/// No seed sends any other option (a resolution, a frame rate), so none can be set.
#[derive(Debug, Serialize)]
struct RenderRequest<'a> {
    id: &'a str,
    #[serde(rename = "sessionId")]
    session_id: String,
    draft: &'a Value,
    output: RenderOutput,
}

#[derive(Debug, Serialize)]
struct RenderOutput {
    format: &'static str,
    quality: &'static str,
}

impl RenderOutput {
    const SEED: RenderOutput = RenderOutput {
        format: "mp4",
        quality: "high",
    };
}

/// How a render is waited for. Polls are spaced by a [`PollClock`]: close together only near
/// the finish the backend's progress predicts, at most `poll_every` apart while nothing moves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RenderWait {
    /// The longest gap while the progress says nothing (pending, or flat).
    pub poll_every: Duration,
    /// The shortest gap between two polls.
    pub min_gap: Duration,
    pub timeout: Duration,
    /// Consecutive failed polls tolerated before giving up.
    pub max_poll_errors: u32,
}

impl Default for RenderWait {
    fn default() -> Self {
        Self::new(Duration::from_secs(10), Duration::from_secs(20 * 60))
    }
}

impl RenderWait {
    /// `poll_every` the longest gap while nothing moves; the shortest is a tenth of it.
    pub fn new(poll_every: Duration, timeout: Duration) -> Self {
        Self {
            poll_every,
            min_gap: poll_every / 10,
            timeout,
            max_poll_errors: 10,
        }
    }
}

/// When to ask about a render next, from the progress it reports.
///
/// A fixed poll learns of the end half a period late on average. This one estimates the finish
/// from the rate of progress (between the last two polls that saw it move, else since the
/// start), waits [`PollClock::FRACTION`] of the time left (all of it once that is within five
/// short gaps), and so closes in on the finish in a few polls; it backs off (×1.5, up to `max`)
/// while the progress is flat or unknown. Tuned on renders of 30–90 s with linear, slow-start
/// and fast-start progress (see the tests): fewer polls than a fixed poll at `max`, and the end
/// seen within about one short gap.
///
/// ```
/// use nemo_client::PollClock;
/// use std::time::Duration;
/// let mut clock = PollClock::new(Duration::from_secs(1), Duration::from_secs(10));
/// assert_eq!(clock.first(), Duration::from_secs(10));
/// let flat = clock.next(Duration::from_secs(10), Some(0)); // still pending: back off
/// assert!(flat > Duration::from_secs(1));
/// let later = clock.next(Duration::from_secs(20), Some(50)); // half done in 20 s
/// assert!(later >= Duration::from_secs(5) && later <= Duration::from_secs(20));
/// ```
#[derive(Debug, Clone)]
pub struct PollClock {
    min: Duration,
    max: Duration,
    gap: Duration,
    /// The last two polls at which the progress had moved: (time since start, percent).
    moved: [Option<(f64, f64)>; 2],
}

impl PollClock {
    /// The share of the estimated time left to wait before asking again.
    pub const FRACTION: f64 = 0.7;

    pub fn new(min: Duration, max: Duration) -> PollClock {
        let max = max.max(min);
        PollClock {
            min,
            max,
            gap: max,
            moved: [None, None],
        }
    }

    /// The first wait after a submit: `max`, as a render takes 30 s or more and reports no
    /// progress at first.
    pub fn first(&self) -> Duration {
        self.max
    }

    /// Record a poll made `at` (since the submit) that saw `progress` (0–100), and return the
    /// wait before the next one.
    pub fn next(&mut self, at: Duration, progress: Option<u8>) -> Duration {
        let t = at.as_secs_f64();
        let p = f64::from(progress.unwrap_or(0).min(100));
        let last = self.moved[1].unwrap_or((0.0, 0.0));
        if p <= last.1 {
            // Nothing moved: wait longer each time, up to `max`.
            self.gap = self.gap.mul_f64(1.5).min(self.max).max(self.min);
            return self.gap;
        }
        self.moved = [self.moved[1], Some((t, p))];
        let (t0, p0) = self.moved[0].unwrap_or((0.0, 0.0));
        let rate = (p - p0) / (t - t0).max(1e-3);
        let left = (100.0 - p) / rate.max(1e-6);
        // Far from the end, a part of the time left (the estimate improves as it nears);
        // within a few short gaps of it, the estimate itself.
        let min = self.min.as_secs_f64();
        let wait = if left < 5.0 * min {
            left
        } else {
            left * Self::FRACTION
        };
        let wait = wait.clamp(min, 2.0 * self.max.as_secs_f64());
        self.gap = (self.min * 3).min(self.max);
        Duration::from_secs_f64(wait)
    }
}

impl Project<'_> {
    /// Submit a draft for rendering (passed back byte-for-byte). A failed submit is retried once
    /// with a new id; errors that another try cannot fix (plan, token, credits) are not.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = nemo_sim::Sim::start(nemo_sim::SimConfig::fast()).await?;
    /// # let dir = tempfile::tempdir()?;
    /// # let config = nemo_client::Config::new(sim.base_url(), dir.path().join("state"))
    /// #     .with_client_id_file(dir.path().join("client_id"));
    /// use futures_util::StreamExt;
    /// use nemo_client::RenderWait;
    /// let client = nemo_client::Client::new(config)?;
    /// # let photo = dir.path().join("photo.png");
    /// # std::fs::write(&photo, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0")?;
    /// # let limit = client.config().profile.max_upload_bytes();
    /// # let file = nemo_client::validate::validate_media_file(&photo, limit)?;
    /// let project = client.create_project("en").await?.handle(&client);
    /// # project.upload(&[file], None).await?;
    /// let mut turn = project.send("combine these into a 10-second video with music").await?;
    /// while let Some(event) = turn.next().await { event?; }
    /// let state = project.state().await?;
    /// let id = project.submit_render(&state.draft).await?;
    /// let done = client.wait_render(&id, &RenderWait::default(), |_| {}).await?;
    /// let mp4 = dir.path().join("promo.mp4");
    /// let bytes = client.download_render(&id, &done, &mp4, |_, _| {}).await?;
    /// assert_eq!(std::fs::metadata(&mp4)?.len(), bytes);
    /// # Ok(()) }
    /// ```
    pub async fn submit_render(&self, draft: &Value) -> Result<RenderId> {
        self.submit_render_journaled(draft, |_| {}).await
    }

    /// Like [`Project::submit_render`], calling `before_submit` with each id before it is sent,
    /// so a caller can journal it: after a crash, the id of a render that may exist is known.
    pub async fn submit_render_journaled(
        &self,
        draft: &Value,
        mut before_submit: impl FnMut(&RenderId),
    ) -> Result<RenderId> {
        let mut tries = 0;
        loop {
            tries += 1;
            let id = RenderId::generate();
            before_submit(&id);
            let body = RenderRequest {
                id: id.as_str(),
                session_id: self.id.to_string(),
                draft,
                output: RenderOutput::SEED,
            };
            let result = self
                .client
                .json(
                    Method::POST,
                    "/api/render/proxy/lambda",
                    Some(crate::wire::to_value(&body)?),
                )
                .await
                .map_err(|e| e.in_session(self.id));
            match result {
                Ok(_) => return Ok(id),
                Err(
                    e @ (Error::Transient { .. } | Error::Rejected { .. } | Error::Protocol { .. }),
                ) if tries == 1 => {
                    tracing::warn!("render submit failed ({e}); retrying once with a new id");
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Client {
    pub async fn render_status(&self, id: &RenderId) -> Result<RenderStatus> {
        let d = self
            .json(
                Method::GET,
                &format!("/api/render/proxy/lambda/{}", id.as_str()),
                None,
            )
            .await?;
        Ok(RenderStatus::from_json(&d))
    }

    /// Poll until the render completes (`Ok`), fails (`RenderFailed`) or the wait times out.
    /// Unknown statuses count as running; transient poll errors are tolerated.
    pub async fn wait_render(
        &self,
        id: &RenderId,
        wait: &RenderWait,
        mut on_status: impl FnMut(&RenderStatus),
    ) -> Result<RenderStatus> {
        let start = tokio::time::Instant::now();
        let deadline = start + wait.timeout;
        let mut clock = PollClock::new(wait.min_gap, wait.poll_every);
        let mut errors = 0;
        tokio::time::sleep(clock.first()).await;
        loop {
            let mut progress = None;
            match self.render_status(id).await {
                Ok(st) => {
                    errors = 0;
                    on_status(&st);
                    progress = st.progress;
                    match st.state {
                        RenderState::Completed => return Ok(st),
                        RenderState::Failed => {
                            return Err(Error::RenderFailed {
                                reason: st.error.unwrap_or_else(|| "no reason given".into()),
                            })
                        }
                        _ => {}
                    }
                }
                Err(e) if e.retryable() && errors < wait.max_poll_errors => {
                    errors += 1;
                    tracing::debug!("render poll failed ({e}); will poll again");
                }
                Err(e) => return Err(e),
            }
            let gap = clock.next(start.elapsed(), progress);
            if tokio::time::Instant::now() + gap > deadline {
                return Err(Error::Timeout {
                    what: format!("render {id}"),
                });
            }
            tokio::time::sleep(gap).await;
        }
    }

    pub async fn cancel_render(&self, id: &RenderId) -> Result<()> {
        self.json(
            Method::POST,
            &format!("/api/render/proxy/lambda/{}/cancel", id.as_str()),
            None,
        )
        .await?;
        Ok(())
    }

    /// Download a finished render to `dest`: streamed into `dest.part`, renamed when complete.
    /// Uses the status URL, else the `/download` fallback. A broken transfer is resumed (or
    /// restarted) once. Returns the number of bytes.
    ///
    /// The backend chooses the URL, so it is checked ([`crate::egress`]): the API's own origin,
    /// or a public `https` host, on every redirect hop. The file is capped at the announced
    /// size (else [`crate::limits::MAX_DOWNLOAD_BYTES`]), a stall ends it, and it must be an
    /// MP4 (`ftyp` with a known brand) before it takes its name.
    pub async fn download_render(
        &self,
        id: &RenderId,
        status: &RenderStatus,
        dest: &Path,
        on_bytes: impl Fn(u64, Option<u64>) + Send + Sync,
    ) -> Result<u64> {
        let fallback = self.url(&format!("/api/render/proxy/{}/download", id.as_str()));
        let raw = match status.url.as_deref() {
            Some(u) if u.starts_with('/') => self.url(u),
            Some(u) => u.to_string(),
            None => fallback,
        };
        let url = reqwest::Url::parse(&raw).map_err(|_| Error::Protocol {
            message: "the render's download URL is not a URL".into(),
        })?;
        let policy = crate::egress::DownloadPolicy::new(&self.config().api_url);
        let part = part_path(dest);
        if let Err(why) = policy.check(&url) {
            // Nothing was fetched: the reserved `.part` goes too.
            let _ = tokio::fs::remove_file(&part).await;
            return Err(Error::Unsafe {
                message: format!("the render's download URL was refused: {why}"),
            });
        }
        let limit = status.size.filter(|s| *s > 0);
        let mut last = None;
        for _ in 0..2 {
            match self
                .download_once(&url, policy.is_api(&url), &part, limit, &on_bytes)
                .await
            {
                Ok(n) => {
                    check_mp4(&part).await?;
                    tokio::fs::rename(&part, dest).await.map_err(|e| {
                        Error::io(format!("moving the download to {}", dest.display()), e)
                    })?;
                    return Ok(n);
                }
                Err(e @ Error::Transient { .. }) => {
                    tracing::warn!("download interrupted ({e}); trying once more");
                    last = Some(e);
                }
                Err(e) => {
                    if matches!(e, Error::Unsafe { .. }) {
                        let _ = tokio::fs::remove_file(&part).await;
                    }
                    return Err(e);
                }
            }
        }
        Err(last.unwrap_or(Error::Transient {
            message: "download failed".into(),
        }))
    }

    /// The file's response: from the start, or from byte `have` (a `Range` request).
    async fn request_download(
        &self,
        url: &reqwest::Url,
        same_origin: bool,
        have: u64,
    ) -> Result<reqwest::Response> {
        let download = self.inner.download.clone();
        let answer = self
            .execute(Want::Stream, Replay::Retry, |_, token| {
                let mut rb = download.get(url.clone());
                // The token goes only to our API's own origin, never to a CDN host.
                if same_origin {
                    rb = rb.bearer_auth(token.expose());
                }
                if have > 0 {
                    rb = rb.header(reqwest::header::RANGE, format!("bytes={have}-"));
                }
                Ok(rb)
            })
            .await
            .map_err(|e| match e {
                // A refused redirect or address comes back as a failed request.
                Error::Transient { .. } if !same_origin => Error::Unsafe {
                    message: "the download was refused (a redirect or an address outside the allowed ones) or failed".into(),
                },
                e => e,
            })?;
        let Answer::Stream(resp) = answer else {
            return Err(Error::Protocol {
                message: "the download answered with JSON instead of a file".into(),
            });
        };
        Ok(resp)
    }

    async fn download_once(
        &self,
        url: &reqwest::Url,
        same_origin: bool,
        part: &Path,
        announced: Option<u64>,
        on_bytes: &(impl Fn(u64, Option<u64>) + Send + Sync),
    ) -> Result<u64> {
        let have = tokio::fs::symlink_metadata(part)
            .await
            .map(|m| m.len())
            .unwrap_or(0);
        let resp = self.request_download(url, same_origin, have).await?;
        let resumed = resp.status().as_u16() == 206;
        let offered = resp
            .content_length()
            .map(|l| if resumed { l + have } else { l });
        let cap = announced.unwrap_or(crate::limits::MAX_DOWNLOAD_BYTES);
        let total = announced.or(offered);
        if offered.is_some_and(|o| o > cap) {
            return Err(Error::Unsafe {
                message: format!(
                    "the download is larger ({} bytes) than announced ({cap})",
                    offered.unwrap_or(0)
                ),
            });
        }
        let mut file = open_part(part, resumed)
            .await
            .map_err(|e| Error::io(format!("writing {}", part.display()), e))?;
        let mut written = if resumed { have } else { 0 };
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(Error::transport)?;
            if written + chunk.len() as u64 > cap {
                return Err(Error::Unsafe {
                    message: format!("the download went past its announced size ({cap} bytes)"),
                });
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| Error::io(format!("writing {}", part.display()), e))?;
            written += chunk.len() as u64;
            on_bytes(written, total);
        }
        file.flush()
            .await
            .map_err(|e| Error::io(format!("writing {}", part.display()), e))?;
        file.sync_all()
            .await
            .map_err(|e| Error::io(format!("writing {}", part.display()), e))?;
        if total.is_some_and(|t| t != written) {
            return Err(Error::Transient {
                message: format!("download incomplete ({written} bytes)"),
            });
        }
        Ok(written)
    }
}

/// Open the `.part` file for writing without following a symlink planted in its place.
async fn open_part(part: &Path, append: bool) -> std::io::Result<tokio::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).write(true).append(append).truncate(!append);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW).mode(0o644);
    }
    let part = part.to_path_buf();
    let f = tokio::task::spawn_blocking(move || o.open(part))
        .await
        .map_err(std::io::Error::other)??;
    Ok(tokio::fs::File::from_std(f))
}

/// A finished download must be an MP4 before it takes its name.
async fn check_mp4(part: &Path) -> Result<()> {
    use tokio::io::AsyncReadExt;
    let mut head = [0u8; 12];
    let n = match tokio::fs::File::open(part).await {
        Ok(mut f) => f.read(&mut head).await.unwrap_or(0),
        Err(e) => return Err(Error::io(format!("reading {}", part.display()), e)),
    };
    if crate::validate::is_mp4(&head[..n]) {
        Ok(())
    } else {
        let _ = tokio::fs::remove_file(part).await;
        Err(Error::Unsafe {
            message: "the downloaded file is not an MP4 video".into(),
        })
    }
}

/// `video.mp4` → `video.mp4.part`
pub fn part_path(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_three_status_shapes() {
        let top = RenderStatus::from_json(
            &json!({"status":"completed","progress":100,"output":{"url":"u1","duration":30.5,"size":15728640}}),
        );
        assert_eq!(
            (top.state.clone(), top.url.as_deref(), top.size),
            (RenderState::Completed, Some("u1"), Some(15728640))
        );
        // After the envelope is unwrapped, `{"success":true,"data":{..}}` gives the inner object.
        let data = RenderStatus::from_json(
            &json!({"id":"r","status":"completed","outputUrl":"u2","createdAt":1,"completedAt":2}),
        );
        assert_eq!(data.url.as_deref(), Some("u2"));
        let code = RenderStatus::from_json(&json!({"status":"processing","progress":40}));
        assert_eq!(
            (code.state, code.progress),
            (RenderState::Processing, Some(40))
        );
        let nested = RenderStatus::from_json(&json!({"data":{"status":"failed","error":"boom"}}));
        assert_eq!(
            (nested.state, nested.error.as_deref()),
            (RenderState::Failed, Some("boom"))
        );
        let unknown = RenderStatus::from_json(&json!({"status":"warming_up"}));
        assert_eq!(unknown.state, RenderState::Unknown("warming_up".into()));
        assert_eq!(
            RenderStatus::from_json(&json!({"url":"u3","status":"done"}))
                .url
                .as_deref(),
            Some("u3")
        );
    }

    #[test]
    fn ids_are_unique_and_in_the_seed_form() {
        let ids: Vec<RenderId> = (0..1000).map(|_| RenderId::generate()).collect();
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        for id in &ids {
            let ts = id.as_str().strip_prefix("render_").unwrap();
            assert!(ts.parse::<i64>().unwrap() > 1_600_000_000_000, "{id}");
        }
    }

    #[test]
    fn the_submit_body_is_the_seed_body() {
        let draft = json!({"t": [{"tt": 0, "sg": [{}]}], "d": 1000});
        let body = serde_json::to_value(RenderRequest {
            id: "render_1",
            session_id: "42".into(),
            draft: &draft,
            output: RenderOutput::SEED,
        })
        .unwrap();
        assert_eq!(
            body,
            json!({"id": "render_1", "sessionId": "42", "draft": draft,
                   "output": {"format": "mp4", "quality": "high"}})
        );
    }

    /// A render of `total` seconds as the contract describes it (30–90 s) and the simulator's
    /// realistic profile plays it: pending for a tenth, then uneven progress. Returns (polls,
    /// seconds between the end and the poll that saw it) for a schedule, in virtual time.
    fn play(
        total: f64,
        shape: f64,
        mut next: impl FnMut(f64, u8) -> f64,
        first: f64,
    ) -> (u32, f64) {
        let progress = |t: f64| -> u8 {
            if t >= total {
                100
            } else if t < total / 10.0 {
                0
            } else {
                ((t / total).powf(shape) * 100.0).clamp(1.0, 99.0) as u8
            }
        };
        let (mut t, mut polls) = (first, 0);
        loop {
            polls += 1;
            let p = progress(t);
            if p == 100 {
                return (polls, t - total);
            }
            t += next(t, p);
        }
    }

    #[test]
    fn the_poll_clock_sees_the_end_sooner_with_no_more_polls_than_a_fixed_10s_poll() {
        // Progress as the simulator's realistic profile plays it (slow start), linear, and
        // fast at first: the clock must not depend on one shape.
        for shape in [1.4, 1.0, 0.7] {
            poll_clock_against_fixed(shape);
        }
    }

    fn poll_clock_against_fixed(shape: f64) {
        let (mut adaptive, mut fixed) = ((0u32, 0.0f64), (0u32, 0.0f64));
        let mut n = 0.0;
        for total in (30..=90).map(f64::from) {
            let mut clock = PollClock::new(Duration::from_secs(1), Duration::from_secs(10));
            let first = clock.first().as_secs_f64();
            let a = play(
                total,
                shape,
                |t, p| {
                    clock
                        .next(Duration::from_secs_f64(t), Some(p))
                        .as_secs_f64()
                },
                first,
            );
            let f = play(total, shape, |_, _| 10.0, 10.0);
            adaptive = (adaptive.0 + a.0, adaptive.1 + a.1);
            fixed = (fixed.0 + f.0, fixed.1 + f.1);
            n += 1.0;
        }
        let (late_a, late_f) = (adaptive.1 / n, fixed.1 / n);
        println!(
            "renders of 30–90 s, progress (t/T)^{shape}: adaptive {} polls, {late_a:.2} s late on average; fixed 10 s {} polls, {late_f:.2} s late",
            adaptive.0, fixed.0
        );
        assert!(late_a < 1.0, "adaptive: {late_a:.2} s late on average");
        assert!(
            adaptive.0 <= fixed.0,
            "{} polls against {}",
            adaptive.0,
            fixed.0
        );
    }

    #[test]
    fn the_poll_clock_backs_off_while_nothing_moves() {
        let mut clock = PollClock::new(Duration::from_secs(1), Duration::from_secs(10));
        let gaps: Vec<Duration> = (1..8)
            .map(|i| clock.next(Duration::from_secs(i * 5), Some(0)))
            .collect();
        assert!(gaps.windows(2).all(|w| w[1] >= w[0]), "{gaps:?}");
        assert_eq!(gaps.last(), Some(&Duration::from_secs(10)), "capped at max");
        // Progress again: the clock estimates from it.
        let g = clock.next(Duration::from_secs(40), Some(40));
        assert!(g >= Duration::from_secs(1), "{g:?}");
    }
}

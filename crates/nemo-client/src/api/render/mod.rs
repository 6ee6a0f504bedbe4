//! Contract §7–9: export a draft, poll the render, cancel it, download the file.

mod download;
mod poll;
mod status;

pub use download::part_path;
pub use poll::{PollClock, RenderWait};
pub use status::{RenderState, RenderStatus};

use crate::error::{Error, Result};
use crate::{Client, Project};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::atomic::{AtomicI64, Ordering};

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}

//! Contract §4: uploads, streamed from disk with byte progress; URL uploads.

use crate::client::{Answer, Replay, Want};
use crate::error::{Error, Result};
use crate::session::SessionId;
use crate::state::AssetInfo;
use crate::validate::MediaFile;
use crate::Project;
use futures_util::StreamExt;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::client::lock;

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 (hex) of a file's bytes, streamed (for checking media before a re-upload).
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// The SHA-256 (hex) of a checked file's bytes, read by position from its held handle (the
/// same bytes an upload would send). Blocking.
pub fn sha256_media(file: &crate::validate::MediaFile) -> std::io::Result<String> {
    const CHUNK: u64 = 256 * 1024;
    let mut h = Sha256::new();
    let mut pos = 0;
    while pos < file.size {
        let len = CHUNK.min(file.size - pos);
        h.update(file.bytes_at(pos, len as usize)?);
        pos += len;
    }
    Ok(hex(&h.finalize()))
}

/// Notices an upload that stopped moving: no byte taken for `idle` while the body is sent,
/// or no answer within `request` once it is all sent.
struct Watchdog {
    start: tokio::time::Instant,
    /// Milliseconds since `start` of the last byte taken.
    last_ms: AtomicU64,
    sent: AtomicU64,
    total: u64,
}

impl Watchdog {
    fn new(total: u64) -> Watchdog {
        Watchdog {
            start: tokio::time::Instant::now(),
            last_ms: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            total,
        }
    }

    fn moved(&self, sent: u64) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
        self.sent.store(sent, Ordering::Relaxed);
    }

    async fn expired(&self, idle: std::time::Duration, answer: std::time::Duration) -> Error {
        let step = (idle / 10).clamp(
            std::time::Duration::from_millis(20),
            std::time::Duration::from_secs(1),
        );
        loop {
            tokio::time::sleep(step).await;
            let quiet = self
                .start
                .elapsed()
                .saturating_sub(std::time::Duration::from_millis(
                    self.last_ms.load(Ordering::Relaxed),
                ));
            let all_sent = self.sent.load(Ordering::Relaxed) >= self.total;
            let limit = if all_sent { answer } else { idle };
            if quiet > limit {
                return Error::Transient {
                    message: format!(
                        "the upload stalled: {} for {} s",
                        if all_sent {
                            "no answer"
                        } else {
                            "no byte taken"
                        },
                        limit.as_secs()
                    ),
                };
            }
        }
    }
}

/// Called with (bytes sent so far, total bytes) as an upload streams.
pub type UploadProgress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// What the backend made of the uploaded files.
#[derive(Debug, Clone, PartialEq)]
pub struct Uploaded {
    /// The project the media went to.
    pub session_id: Option<SessionId>,
    pub assets: Vec<AssetInfo>,
    /// For file uploads: the SHA-256 (hex) of each file's bytes as sent, in order.
    pub hashes: Vec<String>,
    pub state_applied: bool,
}

fn uploaded(session: SessionId, d: &Value) -> Uploaded {
    let answer = crate::state::answer::UploadAnswer::from_data(d);
    Uploaded {
        session_id: Some(session),
        hashes: Vec::new(),
        assets: answer.files,
        state_applied: answer.session_state_applied.unwrap_or(false),
    }
}

/// The seeds' body for media the backend fetches itself.
#[derive(Serialize)]
struct UrlUpload<'a> {
    urls: &'a [String],
    source_type: &'a str,
}

fn mime(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "avi" => "video/x-msvideo",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "m4a" => "audio/mp4",
        "aac" => "audio/aac",
        _ => "application/octet-stream",
    }
}

impl Project<'_> {
    /// Upload validated files in one multipart request, streaming each from disk (never whole
    /// in memory). A connection that breaks mid-upload is retried once: uploads cost nothing and
    /// the backend keeps nothing of a broken one. Before the retry the project is checked with a
    /// GET: a backend may reject a lost project (or an expired token) before reading the body,
    /// which the sender only sees as a broken connection; the check reports the lost project
    /// as [`Error::SessionLost`], or renews the token so that the retry can succeed.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = nemo_sim::Sim::start(nemo_sim::SimConfig::fast()).await?;
    /// # let dir = tempfile::tempdir()?;
    /// # let config = nemo_client::Config::new(sim.base_url(), dir.path().join("state"))
    /// #     .with_client_id_file(dir.path().join("client_id"));
    /// use nemo_client::validate::validate_media_file;
    /// let client = nemo_client::Client::new(config)?;
    /// # let photo = dir.path().join("photo.png");
    /// # std::fs::write(&photo, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0")?;
    /// let limit = client.config().profile.max_upload_bytes();
    /// let file = validate_media_file(&photo, limit)?; // type, size, no symlink: checked first
    /// let project = client.create_project("en").await?.handle(&client);
    /// let uploaded = project.upload(&[file], None).await?;
    /// assert_eq!(uploaded.assets.len(), 1);
    /// assert_eq!(uploaded.hashes.len(), 1, "each file is hashed as it streams");
    /// # Ok(()) }
    /// ```
    pub async fn upload(
        &self,
        files: &[MediaFile],
        progress: Option<UploadProgress>,
    ) -> Result<Uploaded> {
        if files.is_empty() {
            return Ok(Uploaded {
                session_id: Some(self.id),
                assets: Vec::new(),
                hashes: Vec::new(),
                state_applied: false,
            });
        }
        match self.upload_once(files, progress.clone()).await {
            Err(Error::Transient { message }) => {
                tracing::warn!(
                    "upload interrupted ({message}); checking the project, then retrying once"
                );
                self.state().await?;
                self.upload_once(files, progress).await
            }
            other => other,
        }
    }

    async fn upload_once(
        &self,
        files: &[MediaFile],
        progress: Option<UploadProgress>,
    ) -> Result<Uploaded> {
        let total: u64 = files.iter().map(|f| f.size).sum();
        // One hasher per file, fed as its bytes stream out (the last attempt's are kept).
        let hashers: Arc<Mutex<Vec<Sha256>>> = Arc::default();
        let watchdog = Arc::new(Watchdog::new(total));
        let timeouts = self.client.config().timeouts.clone();
        let session = self.id;
        let upload = {
            let progress = progress.clone();
            let hashers = hashers.clone();
            let watchdog = watchdog.clone();
            async move {
                let url = self
                    .client
                    .url(&format!("/api/upload-video/nemo_agent/me/{session}"));
                let answer = self
                    .client
                    .execute(Want::Json, Replay::Once, |http, token| {
                        let sent = Arc::new(AtomicU64::new(0));
                        let mut form = Form::new();
                        *lock(&hashers) = vec![Sha256::new(); files.len()];
                        for (index, f) in files.iter().enumerate() {
                            // The very file that was checked, from its open handle; never
                            // the path again, which may point elsewhere by now.
                            let (sent, progress) = (sent.clone(), progress.clone());
                            let (hashers, watchdog) = (hashers.clone(), watchdog.clone());
                            let stream = f.chunks(256 * 1024).inspect(move |chunk| {
                                if let (Ok(c), Some(h)) = (chunk, lock(&hashers).get_mut(index)) {
                                    h.update(c);
                                }
                                if let Ok(c) = chunk {
                                    let now = sent.fetch_add(c.len() as u64, Ordering::Relaxed)
                                        + c.len() as u64;
                                    watchdog.moved(now);
                                    if let Some(p) = &progress {
                                        p(now.min(total), total);
                                    }
                                }
                            });
                            let part = Part::stream_with_length(
                                reqwest::Body::wrap_stream(stream),
                                f.size,
                            )
                            .file_name(f.name.clone())
                            .mime_str(mime(&f.name))
                            .map_err(|e| Error::Protocol {
                                message: e.to_string(),
                            })?;
                            form = form.part("files", part);
                        }
                        Ok(http.post(&url).bearer_auth(token.expose()).multipart(form))
                    })
                    .await?;
                match answer {
                    Answer::Json(d) => {
                        let mut up = uploaded(session, &d);
                        up.hashes = std::mem::take(&mut *lock(&hashers))
                            .into_iter()
                            .map(|h| hex(&h.finalize()))
                            .collect();
                        Ok(up)
                    }
                    Answer::Stream(_) => Err(Error::Protocol {
                        message: "expected JSON".into(),
                    }),
                }
            }
        };
        let upload = async move { upload.await.map_err(|e| e.in_session(session)) };
        // A peer that stops reading (or answering) ends the upload instead of holding it.
        tokio::select! {
            r = upload => r,
            e = watchdog.expired(timeouts.idle, timeouts.request) => Err(e),
        }
    }

    /// Let the backend fetch media from http(s) URLs.
    pub async fn upload_urls(&self, urls: &[String]) -> Result<Uploaded> {
        let session = self.id;
        let body = UrlUpload {
            urls,
            source_type: "url",
        };
        let d = self
            .client
            .json(
                Method::POST,
                &format!("/api/upload-video/nemo_agent/me/{session}"),
                Some(crate::wire::to_value(&body)?),
            )
            .await
            .map_err(|e| e.in_session(session))?;
        Ok(uploaded(session, &d))
    }
}

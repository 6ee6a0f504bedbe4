//! Contract §8: downloading a finished render, checked hop by hop and byte by byte.

use super::{RenderId, RenderStatus};
use crate::client::{Answer, Replay, Want};
use crate::error::{Error, Result};
use crate::Client;
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

impl Client {
    /// Download a finished render to `dest`: streamed into `dest.part`, renamed when complete.
    /// Uses the status URL, else the `/download` fallback. A broken transfer is resumed (or
    /// restarted) once. Returns the number of bytes.
    ///
    /// The backend chooses the URL, so it is checked ([`crate::network::egress`]): the API's own origin,
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
        let policy = crate::network::egress::DownloadPolicy::new(
            &self.config().api_url,
            &self.inner.network.proxy,
        );
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
                    take_name(&part, dest).await?;
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
        let offered = offered_length(resp.content_length(), resumed, have);
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
            let chunk = chunk.map_err(Error::broken)?;
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

/// The finished download takes its name, never writing over a file already there (another
/// export's, another process's): a hard link fails if the name exists; where the file system
/// has no links (FAT, some network shares) it is moved after a last look.
async fn take_name(part: &Path, dest: &Path) -> Result<()> {
    let linked = tokio::fs::hard_link(part, dest).await;
    take_name_after(linked, part, dest).await
}

/// [`take_name`] once the link was tried (apart, so a file system without links is tested).
async fn take_name_after(linked: std::io::Result<()>, part: &Path, dest: &Path) -> Result<()> {
    let taken = |e| Error::io(format!("moving the download to {}", dest.display()), e);
    match linked {
        Ok(()) => {
            let _ = tokio::fs::remove_file(part).await;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(taken(e)),
        Err(_) if tokio::fs::try_exists(dest).await.unwrap_or(true) => Err(taken(
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "a file has that name"),
        )),
        Err(_) => tokio::fs::rename(part, dest).await.map_err(taken),
    }
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
/// The whole file's length an answer offers: its own length, plus the bytes already held when
/// it resumes them (`206`). Saturating: a length near `u64::MAX` is refused as too large, never
/// an overflow (a panic in a debug build).
fn offered_length(content_length: Option<u64>, resumed: bool, have: u64) -> Option<u64> {
    content_length.map(|l| if resumed { l.saturating_add(have) } else { l })
}

pub fn part_path(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_enormous_resumed_length_saturates_instead_of_overflowing() {
        use super::offered_length;
        assert_eq!(offered_length(Some(u64::MAX - 5), true, 10), Some(u64::MAX));
        assert_eq!(offered_length(Some(90), true, 10), Some(100));
        assert_eq!(offered_length(Some(90), false, 10), Some(90));
        assert_eq!(offered_length(None, true, 10), None);
    }

    use super::*;

    #[tokio::test]
    async fn a_finished_download_never_writes_over_a_file_of_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("promo.mp4");
        let part = part_path(&dest);
        std::fs::write(&part, b"this download").unwrap();
        take_name(&part, &dest).await.unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"this download");
        assert!(!part.exists());
        // Another export's file already has the name: this one fails, that one stays whole.
        std::fs::write(&part, b"a second download").unwrap();
        let e = take_name(&part, &dest).await.unwrap_err();
        assert!(e.to_string().contains("promo.mp4"), "{e}");
        assert_eq!(std::fs::read(&dest).unwrap(), b"this download");
    }

    #[tokio::test]
    async fn without_hard_links_the_download_is_moved_after_a_last_look() {
        // What FAT or a network share answers a hard link with.
        let no_links = || Err(std::io::Error::from(std::io::ErrorKind::Unsupported));
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("promo.mp4");
        let part = part_path(&dest);
        std::fs::write(&part, b"this download").unwrap();
        take_name_after(no_links(), &part, &dest).await.unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"this download");
        assert!(!part.exists(), "moved, not copied");
        // The name is taken by then: the second download stays a .part, the file stays whole.
        std::fs::write(&part, b"a second download").unwrap();
        let e = take_name_after(no_links(), &part, &dest).await.unwrap_err();
        assert!(e.to_string().contains("promo.mp4"), "{e}");
        assert_eq!(std::fs::read(&dest).unwrap(), b"this download");
        assert_eq!(std::fs::read(&part).unwrap(), b"a second download");
    }
}

//! Bounds on what the backend can make us hold: every body is read with a cap, so a broken or
//! hostile backend can cost at most a few megabytes of memory, never as much as it sends.

use crate::error::{Error, Result};
use std::time::Duration;

/// The largest JSON reply read into memory (state replies with a big draft are well under 1 MB).
pub const MAX_JSON_BYTES: usize = 8 * 1024 * 1024;
/// The largest SSE line or event kept; longer ones are dropped whole (and logged).
pub const MAX_SSE_LINE_BYTES: usize = 1024 * 1024;
/// The most reply text one turn keeps; the rest is cut with a marker.
pub const MAX_REPLY_CHARS: usize = 64 * 1024;
/// The largest render saved when the backend announced no size (a 1080p render is tens of MB).
pub const MAX_DOWNLOAD_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Read a response body, refusing it once it passes `cap` bytes, and giving up when no byte
/// arrives for `idle`. Memory use is bounded by `cap` whatever the backend sends.
pub(crate) async fn read_body(
    mut resp: reqwest::Response,
    cap: usize,
    idle: Duration,
) -> Result<Vec<u8>> {
    if resp.content_length().is_some_and(|l| l > cap as u64) {
        return Err(too_large(cap));
    }
    let mut body = Vec::new();
    loop {
        let chunk = match tokio::time::timeout(idle, resp.chunk()).await {
            Err(_) => {
                return Err(Error::Transient {
                    message: format!("the reply stalled for {} s", idle.as_secs()),
                })
            }
            Ok(r) => r.map_err(Error::broken)?,
        };
        let Some(chunk) = chunk else {
            return Ok(body);
        };
        if body.len() + chunk.len() > cap {
            return Err(too_large(cap));
        }
        body.extend_from_slice(&chunk);
    }
}

fn too_large(cap: usize) -> Error {
    Error::Unsafe {
        message: format!("a reply larger than {} MB was refused", cap / (1024 * 1024)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_are_capped_while_read() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                // Chunked, no length: the cap must hold while reading.
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await;
                let chunk = vec![b'a'; 64 * 1024];
                for _ in 0..64 {
                    let head = format!("{:x}\r\n", chunk.len());
                    if s.write_all(head.as_bytes()).await.is_err()
                        || s.write_all(&chunk).await.is_err()
                        || s.write_all(b"\r\n").await.is_err()
                    {
                        break;
                    }
                }
                let _ = s.write_all(b"0\r\n\r\n").await;
            }
        });
        let url = format!("http://{addr}/");
        let get = || async { reqwest::get(&url).await.unwrap() };
        let e = read_body(get().await, 1024 * 1024, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Unsafe { .. }), "{e}");
        let ok = read_body(get().await, 8 * 1024 * 1024, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(ok.len(), 64 * 64 * 1024);
    }
}

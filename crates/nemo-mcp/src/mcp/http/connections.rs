//! `--http`'s accept loop: bounded and fair. Any local process can open connections to a
//! loopback port; a few hundred that send half a request and wait would use up the process's
//! file descriptors and leave real requests unanswered (`axum::serve` holds every connection
//! with no header deadline). So:
//!
//! - a request's headers must arrive within [`HEADER_TIMEOUT`] (hyper's header-read timer);
//! - at most [`max_connections`] connections are held, well below the descriptor limit;
//! - at the cap, the oldest connection that has not yet sent a whole request is closed to make
//!   room for the new one (a slow or idle client loses its place, a working one never); when
//!   every connection is in a request, the new one waits for a place.

use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The longest a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections held: three quarters of the descriptor limit less what the process
/// needs for itself (the database, logs, downloads, the backend's connections), at most 1,024.
pub fn max_connections() -> usize {
    let limit = descriptor_limit().unwrap_or(1024);
    (limit.saturating_mul(3) / 4)
        .saturating_sub(64)
        .clamp(16, 1024)
}

#[cfg(unix)]
fn descriptor_limit() -> Option<usize> {
    // SAFETY: an all-zero rlimit is valid; getrlimit fills it.
    let mut r: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: RLIMIT_NOFILE with a valid pointer.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0)
        .then(|| usize::try_from(r.rlim_cur).unwrap_or(usize::MAX))
}

#[cfg(not(unix))]
fn descriptor_limit() -> Option<usize> {
    None
}

/// One held connection: whether it has sent a whole request yet, and how to close it.
struct Held {
    order: u64,
    requested: Arc<AtomicBool>,
    close: CancellationToken,
}

/// The connections held, by id.
#[derive(Default)]
struct Table {
    held: Mutex<HashMap<u64, Held>>,
    next: AtomicU64,
}

impl Table {
    #[cfg(test)]
    fn len(&self) -> usize {
        crate::support::sync::lock(&self.held).len()
    }

    /// Close the oldest connection that has not sent a whole request; whether there was one.
    fn shed_one(&self) -> bool {
        let held = crate::support::sync::lock(&self.held);
        let oldest = held
            .values()
            .filter(|h| !h.requested.load(Ordering::Relaxed))
            .min_by_key(|h| h.order);
        match oldest {
            Some(h) => {
                h.close.cancel();
                true
            }
            None => false,
        }
    }
}

/// Serve `router` on `listener` until `stop` is cancelled, holding at most `max` connections.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    max: usize,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let table = Arc::new(Table::default());
    let places = Arc::new(tokio::sync::Semaphore::new(max));
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was taken: go on.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => return Ok(()),
        };
        let place = match places.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // Full: make room by closing a connection that is not in a request.
                if table.shed_one() {
                    tracing::debug!(
                        "at {max} connections: closed the oldest one without a request"
                    );
                } else {
                    tracing::warn!(
                        "at {max} connections, every one in a request: waiting for a place"
                    );
                }
                tokio::select! {
                    p = places.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => return Ok(()),
                    },
                    _ = stop.cancelled() => return Ok(()),
                }
            }
        };
        let id = table.next.fetch_add(1, Ordering::Relaxed);
        let requested = Arc::new(AtomicBool::new(false));
        let close = stop.child_token();
        crate::support::sync::lock(&table.held).insert(
            id,
            Held {
                order: id,
                requested: requested.clone(),
                close: close.clone(),
            },
        );
        let (router, table) = (router.clone(), table.clone());
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    requested.store(true, Ordering::Relaxed);
                    let mut router = router.clone();
                    async move {
                        tower_service::Service::call(&mut router, req.map(axum::body::Body::new))
                            .await
                    }
                });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!("connection ended: {e}");
                    }
                }
                _ = close.cancelled() => {}
            }
            crate::support::sync::lock(&table.held).remove(&id);
            drop(place);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_stays_below_the_descriptor_limit() {
        let max = max_connections();
        if let Some(limit) = descriptor_limit() {
            assert!(max < limit || limit < 16, "{max} of {limit}");
        }
        assert!((16..=1024).contains(&max));
    }

    #[test]
    fn shedding_takes_the_oldest_connection_without_a_request() {
        let table = Table::default();
        let add = |order: u64, requested: bool| {
            let close = CancellationToken::new();
            crate::support::sync::lock(&table.held).insert(
                order,
                Held {
                    order,
                    requested: Arc::new(AtomicBool::new(requested)),
                    close: close.clone(),
                },
            );
            close
        };
        let working = add(0, true);
        let slow_old = add(1, false);
        let slow_new = add(2, false);
        assert!(table.shed_one());
        assert!(slow_old.is_cancelled() && !slow_new.is_cancelled() && !working.is_cancelled());
        assert_eq!(table.len(), 3, "removed by its own task when it ends");
    }
}

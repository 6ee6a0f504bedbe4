//! Contract §4: uploads, streamed to disk chunk by chunk (never whole in memory).

use crate::gate::dropped_connection;
use crate::media::{self, FileKind};
use crate::reply::ApiError;
use crate::state::{AppState, LogSeq};
use crate::world::Asset;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

pub async fn upload(State(s): State<AppState>, Path(sid): Path<String>, req: Request) -> Response {
    let user = match s.authorize(req.headers()) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let seq = req.extensions().get::<LogSeq>().map(|l| l.0);
    let limit = s.upload_limit(req.headers());
    let Some(sid) = sid.parse::<u64>().ok().filter(|id| {
        s.world()
            .sessions
            .get(id)
            .is_some_and(|x| x.user_id == user)
    }) else {
        return s.err(ApiError::SessionNotFound, "session not found");
    };
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let assets = if is_json {
        match Json::<Value>::from_request(req, &()).await {
            Ok(Json(body)) => url_assets(&body),
            Err(_) => Err((
                ApiError::Invalid,
                "body must be JSON {\"urls\":[..]}".to_string(),
            )),
        }
    } else {
        match Multipart::from_request(req, &()).await {
            Ok(multipart) => {
                let mut names = Vec::new();
                let result = file_assets(&s, sid, multipart, limit, &mut names).await;
                if let Some(seq) = seq {
                    s.log_parts(seq, names);
                }
                match result {
                    Ok(a) => Ok(a),
                    // The request body broke off: the client is gone; close the connection too.
                    Err(UploadError::Broken) => return dropped_connection(),
                    Err(UploadError::Malformed(m)) => {
                        if let Some(seq) = seq {
                            s.log_refused(seq, &m);
                        }
                        Err((ApiError::Invalid, m))
                    }
                    Err(UploadError::Rejected(e, m)) => Err((e, m)),
                }
            }
            Err(_) => Err((
                ApiError::Invalid,
                "expected multipart/form-data with `files` parts".to_string(),
            )),
        }
    };
    let mut assets = match assets {
        Ok(a) if a.is_empty() => return s.err(ApiError::Invalid, "no files in the request"),
        Ok(a) => a,
        Err((e, m)) => return s.err(e, &m),
    };
    if is_json {
        // A URL of this backend's own CDN is fetched from it, as a real backend's would be:
        // the same file, with what was learnt of it at its first upload.
        let w = s.world();
        for a in assets.iter_mut() {
            let known = w
                .sessions
                .values()
                .flat_map(|x| x.assets.iter())
                .find(|k| k.cdn_url == a.cdn_url && k.path.is_some());
            if let Some(k) = known {
                *a = Asset {
                    cdn_url: a.cdn_url.clone(),
                    ..k.clone()
                };
            }
        }
    }
    let mut files: Vec<Value> = assets.iter().map(Asset::to_json).collect();
    if s.config.variants.upload_without_cdn_url {
        for f in files.iter_mut() {
            if let Some(o) = f.as_object_mut() {
                o.remove("cdn_url");
            }
        }
    }
    let mut w = s.world();
    let Some(session) = w.sessions.get_mut(&sid) else {
        drop(w);
        return s.err(ApiError::SessionNotFound, "session not found");
    };
    session.assets.extend(assets);
    drop(w);
    s.ok(json!({"files": files, "session_state_applied": true}))
}

enum UploadError {
    Broken,
    /// Not the seeds' form (the strict simulator's refusal).
    Malformed(String),
    Rejected(ApiError, String),
}

fn reject(e: ApiError, m: impl Into<String>) -> UploadError {
    UploadError::Rejected(e, m.into())
}

fn url_assets(body: &Value) -> Result<Vec<Asset>, (ApiError, String)> {
    let urls = body["urls"]
        .as_array()
        .ok_or((ApiError::Invalid, "urls must be a list".to_string()))?;
    let mut out = Vec::new();
    for u in urls {
        let url = u.as_str().unwrap_or_default();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let Some(rest) = rest.filter(|r| !r.is_empty() && !r.starts_with('/')) else {
            return Err((ApiError::Invalid, format!("not an http(s) URL: {url}")));
        };
        let name = rest
            .split(['?', '#'])
            .next()
            .unwrap_or(rest)
            .rsplit('/')
            .next()
            .unwrap_or("media");
        let kind = FileKind::from_name(name).ok_or((
            ApiError::UnsupportedFile,
            format!("unsupported file type: {name}"),
        ))?;
        out.push(Asset {
            filename: name.to_string(),
            file_type: kind.file_type(),
            cdn_url: url.to_string(),
            path: None,
            width: None,
            height: None,
            duration_s: None,
            hash: format!("{:016x}", media::fnv1a(url.as_bytes(), media::FNV_OFFSET)),
        });
    }
    Ok(out)
}

async fn file_assets(
    s: &AppState,
    sid: u64,
    mut multipart: Multipart,
    limit: u64,
    names: &mut Vec<String>,
) -> Result<Vec<Asset>, UploadError> {
    let dir = s.data_dir.join("uploads").join(sid.to_string());
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| reject(ApiError::Invalid, e.to_string()))?;
    let mut out = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => return Err(UploadError::Broken),
        };
        names.push(field.name().unwrap_or_default().to_string());
        if field.name() != Some("files") {
            // The seeds send only `files` parts (`-F "files=@/path"`).
            if s.config.strict {
                return Err(UploadError::Malformed(format!(
                    "unknown multipart part {:?}: only `files`",
                    field.name().unwrap_or_default()
                )));
            }
            continue;
        }
        let name = media::sanitize(field.file_name().unwrap_or("upload"));
        let kind = FileKind::from_name(&name).ok_or_else(|| {
            reject(
                ApiError::UnsupportedFile,
                format!(
                    "unsupported file type: {name}; accepted: {}",
                    media::ACCEPTED.join(", ")
                ),
            )
        })?;
        let n = s.world().next();
        let stored = format!("{n}_{name}");
        let path = dir.join(&stored);
        let (hash, head) = store_part(field, &path, &name, limit).await?;
        if s.config.strict && !media::content_matches(&name, &head) {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(reject(
                ApiError::UnsupportedFile,
                format!("unsupported file type: the content of {name} is not what its name says"),
            ));
        }
        let info = media::probe(kind, &head);
        out.push(Asset {
            filename: name,
            file_type: kind.file_type(),
            cdn_url: format!("{}/cdn/{sid}/{stored}", s.base_url),
            path: Some(path),
            width: info.width,
            height: info.height,
            duration_s: info.duration_s,
            hash: format!("{hash:016x}"),
        });
    }
    Ok(out)
}

/// Write one part to `path` as it streams in, at most `limit` bytes: its hash and its first
/// bytes. A part that breaks off or is too large leaves no file behind.
async fn store_part(
    mut field: axum::extract::multipart::Field<'_>,
    path: &std::path::Path,
    name: &str,
    limit: u64,
) -> Result<(u64, Vec<u8>), UploadError> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| reject(ApiError::Invalid, e.to_string()))?;
    let (mut size, mut hash, mut head) = (0u64, media::FNV_OFFSET, Vec::new());
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(_) => {
                drop(file);
                let _ = tokio::fs::remove_file(path).await;
                return Err(UploadError::Broken);
            }
        };
        size += chunk.len() as u64;
        if size > limit {
            drop(file);
            let _ = tokio::fs::remove_file(path).await;
            let mb = limit / (1024 * 1024);
            return Err(reject(
                ApiError::FileTooLarge,
                format!("file too large: {name} (limit {mb} MB)"),
            ));
        }
        if head.len() < media::HEAD_BYTES {
            let take = (media::HEAD_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hash = media::fnv1a(&chunk, hash);
        file.write_all(&chunk)
            .await
            .map_err(|e| reject(ApiError::Invalid, e.to_string()))?;
    }
    file.flush()
        .await
        .map_err(|e| reject(ApiError::Invalid, e.to_string()))?;
    Ok((hash, head))
}

/// Uploaded files, served back at their `cdn_url`.
pub async fn cdn_file(
    State(s): State<AppState>,
    Path((sid, file)): Path<(String, String)>,
) -> Response {
    if sid.contains(['/', '\\', '.']) || file.contains(['/', '\\']) || file.starts_with('.') {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = s.data_dir.join("uploads").join(sid).join(file);
    match tokio::fs::File::open(&path).await {
        Ok(f) => Body::from_stream(tokio_util::io::ReaderStream::new(f)).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

//! An upload: validated files streamed to the backend with byte progress, and URLs.

use crate::app::App;
use crate::errors::ToolError;
use crate::jobs::results::{RejectedInput, UploadResult, UploadedItem};
use crate::jobs::JobCtx;
use crate::project::media::{MediaRecord, MediaSource};
use nemo_client::{MediaFile, UploadProgress};
use std::sync::Arc;

/// Leave out what this server already put into the current project: a file with the same
/// bytes (hashed only when a recorded upload has its size) or the same URL. The project is the
/// one the upload would go to; without one, there is nothing to compare with.
async fn skip_present(
    app: &App,
    files: Vec<(String, MediaFile)>,
    urls: Vec<String>,
) -> (Vec<(String, MediaFile)>, Vec<String>, Vec<String>) {
    let known = match app.session(None).await {
        Ok(s) => app.media.media(s.session_id),
        Err(_) => Vec::new(),
    };
    if known.is_empty() {
        return (files, urls, Vec::new());
    }
    let mut present = Vec::new();
    let mut send = Vec::new();
    for (input, file) in files {
        let maybe = known
            .iter()
            .any(|m| m.sha256.is_some() && m.size.is_none_or(|s| s == file.size));
        let hash = if maybe {
            let f = file.clone();
            tokio::task::spawn_blocking(move || nemo_client::sha256_media(&f))
                .await
                .ok()
                .and_then(Result::ok)
        } else {
            None
        };
        if hash.is_some() && known.iter().any(|m| m.sha256 == hash) {
            present.push(input);
        } else {
            send.push((input, file));
        }
    }
    let (url_present, url_send): (Vec<_>, Vec<_>) = urls.into_iter().partition(|u| {
        known
            .iter()
            .any(|m| matches!(&m.source, MediaSource::Url { url } if url == u))
    });
    present.extend(url_present);
    (send, url_send, present)
}

/// The inputs as the caller gave them, for the job's record.
pub fn inputs(files: &[(String, MediaFile)], urls: &[String]) -> Vec<String> {
    files
        .iter()
        .map(|(input, _)| input.clone())
        .chain(urls.iter().cloned())
        .collect()
}

/// An upload job keyed by `key`: the one already started under it, or a new one. Its id.
pub fn spawn_keyed(
    app: &Arc<App>,
    key: String,
    checked: crate::files::uploads::CheckedInputs,
) -> String {
    if let Some(j) = app.jobs.by_request(crate::jobs::JobKind::Upload, &key) {
        return j.id;
    }
    let crate::files::uploads::CheckedInputs {
        files,
        urls,
        rejected,
    } = checked;
    let job = crate::jobs::Job::upload(inputs(&files, &urls)).with_request_id(Some(key));
    let a = app.clone();
    match app
        .jobs
        .spawn_once(job, move |ctx| run(a, ctx, files, urls, rejected))
    {
        crate::jobs::Spawned::Started(j) | crate::jobs::Spawned::Existing(j) => j.id,
    }
}

/// What was sent: the items, what to record in the project ledger, notices, and the project.
#[derive(Default)]
struct Sent {
    uploaded: Vec<UploadedItem>,
    records: Vec<MediaRecord>,
    notices: Vec<String>,
    session: Option<nemo_client::SessionId>,
}

pub async fn run(
    app: Arc<App>,
    ctx: JobCtx,
    files: Vec<(String, MediaFile)>,
    urls: Vec<String>,
    rejected: Vec<RejectedInput>,
) -> Result<UploadResult, ToolError> {
    let (files, urls, already_present) = skip_present(&app, files, urls).await;
    let mut sent = Sent::default();
    if !files.is_empty() {
        send_files(&app, &ctx, &files, &mut sent).await?;
    }
    if !urls.is_empty() {
        send_urls(&app, &ctx, &urls, &mut sent).await?;
    }
    if let Some(session) = sent.session {
        app.media.record(session, sent.records).await;
    }
    let project_media = app
        .current_state()
        .await
        .map(|s| s.assets.len())
        .unwrap_or(sent.uploaded.len());
    Ok(UploadResult {
        uploaded: sent.uploaded,
        already_present,
        rejected,
        project_media,
        notice: (!sent.notices.is_empty()).then(|| sent.notices.join(" ")),
        credits_spent: 0,
        next_step: "describe the video with generate, e.g. \"combine these images into a 30-second promo video with music\"".into(),
    })
}

/// Stream the files with byte progress (0–95%).
async fn send_files(
    app: &App,
    ctx: &JobCtx,
    files: &[(String, MediaFile)],
    sent: &mut Sent,
) -> Result<(), ToolError> {
    let total: u64 = files.iter().map(|(_, f)| f.size).sum();
    ctx.progress(
        Some(0.0),
        format!(
            "uploading {} file(s), {} MB",
            files.len(),
            total / 1_000_000
        ),
    );
    let progress_ctx = ctx.clone();
    let progress: UploadProgress = Arc::new(move |done, total| {
        let pct = if total > 0 {
            done as f64 * 100.0 / total as f64
        } else {
            100.0
        };
        progress_ctx.progress(
            Some(pct * 0.95),
            format!("uploaded {} of {} MB", done / 1_000_000, total / 1_000_000),
        );
    });
    let media: Vec<MediaFile> = files.iter().map(|(_, f)| f.clone()).collect();
    let (up, notice) = app
        .in_project(|p| {
            let progress = Some(progress.clone());
            let media = &media;
            async move { p.upload(media, progress).await }
        })
        .await?;
    sent.notices.extend(notice);
    sent.session = up.session_id;
    for (i, asset) in up.assets.into_iter().enumerate() {
        let Some((input, f)) = files.get(i) else {
            continue;
        };
        sent.records.push(MediaRecord {
            source: MediaSource::File {
                path: f.path.clone(),
            },
            sha256: up.hashes.get(i).cloned(),
            asset: asset.url.clone(),
            size: Some(f.size),
        });
        sent.uploaded.push(UploadedItem::new(input.clone(), asset));
    }
    Ok(())
}

/// Ask the backend to fetch the URLs.
async fn send_urls(
    app: &App,
    ctx: &JobCtx,
    urls: &[String],
    sent: &mut Sent,
) -> Result<(), ToolError> {
    ctx.progress(
        Some(95.0),
        format!("asking NemoVideo to fetch {} URL(s)", urls.len()),
    );
    let (up, notice) = app
        .in_project(|p| async move { p.upload_urls(urls).await })
        .await?;
    sent.notices.extend(notice);
    sent.session = up.session_id.or(sent.session);
    for (i, asset) in up.assets.into_iter().enumerate() {
        let url = urls.get(i).cloned().unwrap_or_default();
        sent.records.push(MediaRecord {
            source: MediaSource::Url { url: url.clone() },
            sha256: None,
            asset: asset.url.clone(),
            size: None,
        });
        sent.uploaded.push(UploadedItem::new(url, asset));
    }
    Ok(())
}

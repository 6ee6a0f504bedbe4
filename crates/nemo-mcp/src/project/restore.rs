//! Restoring a project NemoVideo has lost: a new project with the same media, uploaded again
//! from the files this installation recorded (unchanged, same bytes) and the URLs, never a
//! replayed edit. Takes the parts it needs, so it is read and tested without an `App`.

use super::current::CurrentProject;
use super::media::{check_file, MediaLedger, MediaRecord, MediaSource, Restore, Restored};
use crate::errors::{Code, ToolError};
use nemo_client::{validate, Client, Project, SessionId};

/// What a restore works with.
pub struct Parts<'a> {
    pub client: &'a Client,
    /// The process's current project, replaced by the new one.
    pub current: &'a CurrentProject,
    /// The media recorded for each project.
    pub media: &'a MediaLedger,
    /// The language a new project is created in.
    pub language: &'a str,
    /// The profile's largest upload.
    pub max_upload: u64,
    /// For errors' links.
    pub web_url: &'a str,
}

/// Replace the lost project `lost` with a new one holding the same media. With
/// [`Restore::All`], when any recorded file moved or changed, nothing is created and the
/// error lists what is missing; a URL that fails is reported the same way.
pub async fn restore(
    parts: Parts<'_>,
    lost: SessionId,
    need: Restore,
) -> Result<Restored, ToolError> {
    let err = |e: &nemo_client::Error| ToolError::from_client(e, parts.web_url);
    let _guard = parts.media.lock.lock().await;
    // Another call may have restored it meanwhile.
    if let Some(current) = parts.current.peek().await {
        if current.session_id != lost {
            return Ok(Restored {
                session: current.session_id,
                restored: 0,
                missing: Vec::new(),
            });
        }
    }
    let (files, urls, mut missing) = still_present(parts.media.media(lost)).await;
    let not_restored = |missing: &[String]| {
        ToolError::new(
                Code::ProjectNotRestored,
                format!(
                    "NemoVideo has lost the project {lost}, and its media cannot all be uploaded again, so nothing was sent (nothing was charged). Missing: {}",
                    missing.join("; ")
                ),
            )
            .next("ask the user for the missing files, upload them with upload_media, then call generate again")
    };
    if need == Restore::All && !missing.is_empty() {
        return Err(not_restored(&missing));
    }
    let session = parts
        .current
        .replace(parts.client, lost, parts.language)
        .await
        .map_err(|e| err(&e))?;
    let project = session.handle(parts.client);
    let restored = reupload(&parts, &project, files, urls, &mut missing).await?;
    let session = session.session_id;
    let count = restored.len();
    parts.media.record_locked(session, restored);
    if need == Restore::All && !missing.is_empty() {
        return Err(not_restored(&missing));
    }
    Ok(Restored {
        session,
        restored: count,
        missing,
    })
}

/// Upload recorded media again into `project`; what fails is added to `missing`.
async fn reupload(
    parts: &Parts<'_>,
    project: &Project<'_>,
    files: Vec<MediaRecord>,
    urls: Vec<String>,
    missing: &mut Vec<String>,
) -> Result<Vec<MediaRecord>, ToolError> {
    let mut restored = Vec::new();
    let limit = parts.max_upload;
    let mut media = Vec::new();
    for r in &files {
        if let MediaSource::File { path } = &r.source {
            let p = path.clone();
            // Opening may block (a slow disk, a network mount): off the async workers.
            let checked =
                tokio::task::spawn_blocking(move || validate::validate_media_file(&p, limit))
                    .await
                    .unwrap_or_else(|e| Err(validate::Rejection::Unreadable(e.to_string())));
            match checked {
                Ok(m) => media.push((r.clone(), m)),
                Err(why) => missing.push(format!("{} ({why})", path.display())),
            }
        }
    }
    if !media.is_empty() {
        let list: Vec<_> = media.iter().map(|(_, m)| m.clone()).collect();
        let up = project
            .upload(&list, None)
            .await
            .map_err(|e| ToolError::from_client(&e, parts.web_url))?;
        for (i, (record, m)) in media.into_iter().enumerate() {
            restored.push(MediaRecord {
                size: Some(m.size),
                sha256: up.hashes.get(i).cloned().or(record.sha256),
                asset: up.assets.get(i).and_then(|a| a.url.clone()),
                source: record.source,
            });
        }
    }
    for url in urls {
        match project.upload_urls(std::slice::from_ref(&url)).await {
            Ok(up) => restored.push(MediaRecord {
                asset: up.assets.first().and_then(|a| a.url.clone()),
                source: MediaSource::Url { url },
                sha256: None,
                size: None,
            }),
            Err(e) => missing.push(format!("{url} ({e})")),
        }
    }
    Ok(restored)
}

/// The recorded files still as they were (same bytes) and the recorded URLs; what moved or
/// changed is `missing`.
async fn still_present(records: Vec<MediaRecord>) -> (Vec<MediaRecord>, Vec<String>, Vec<String>) {
    let mut missing = Vec::new();
    let mut files = Vec::new();
    let mut urls = Vec::new();
    for r in records {
        match &r.source {
            MediaSource::File { path } => match check_file(path.clone(), r.sha256.clone()).await {
                Ok(()) => files.push(r),
                Err(why) => missing.push(why),
            },
            MediaSource::Url { url } => urls.push(url.clone()),
        }
    }
    (files, urls, missing)
}

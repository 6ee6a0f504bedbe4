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
    /// Where uploads may come from, as this process is set up: a recorded file outside it
    /// (recorded by a host allowed other folders) is missing here, never read.
    pub policy: &'a crate::files::paths::InputPolicy,
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
    let (files, urls, mut missing) = still_present(parts.media.media(lost), parts.policy).await;
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

/// A recorded path as `upload_media` would take it: inside the allowed folders, no secret.
fn allowed(
    path: &std::path::Path,
    policy: &crate::files::paths::InputPolicy,
) -> Result<std::path::PathBuf, String> {
    crate::files::paths::resolve_input(&path.to_string_lossy(), policy)
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
            // Through the same policy as upload_media again (a link may have been swapped in).
            let allowed = match allowed(path, parts.policy) {
                Ok(p) => p,
                Err(why) => {
                    missing.push(format!("{} ({why})", path.display()));
                    continue;
                }
            };
            // Opening may block (a slow disk, a network mount): off the async workers.
            let checked =
                tokio::task::spawn_blocking(move || validate::validate_media_file(&allowed, limit))
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
async fn still_present(
    records: Vec<MediaRecord>,
    policy: &crate::files::paths::InputPolicy,
) -> (Vec<MediaRecord>, Vec<String>, Vec<String>) {
    let mut missing = Vec::new();
    let mut files = Vec::new();
    let mut urls = Vec::new();
    for r in records {
        match &r.source {
            // A path outside this process's allowed folders is missing here: never read. (One
            // that is gone is said so below, as it always was.)
            MediaSource::File { path } if path.exists() && allowed(path, policy).is_err() => {
                let why = allowed(path, policy).err().unwrap_or_default();
                missing.push(format!("{} ({why})", path.display()));
            }
            MediaSource::File { path } => match check_file(path.clone(), r.sha256.clone()).await {
                Ok(()) => files.push(r),
                Err(why) => missing.push(why),
            },
            MediaSource::Url { url } => urls.push(url.clone()),
        }
    }
    (files, urls, missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::media::MediaSource;
    use crate::state::StateDb;
    use std::sync::Arc;

    /// A project in nemo-sim with one photo uploaded and recorded, then lost by the backend.
    struct Lost {
        sim: nemo_sim::SimHandle,
        client: Client,
        current: CurrentProject,
        media: MediaLedger,
        lost: SessionId,
        photo: std::path::PathBuf,
        /// Uploads may come from the folder the photo is in.
        policy: crate::files::paths::InputPolicy,
        _dir: tempfile::TempDir,
    }

    /// Uploads allowed from `dir` only.
    fn policy_for(dir: &std::path::Path) -> crate::files::paths::InputPolicy {
        let canon = dir.canonicalize().unwrap();
        crate::files::paths::InputPolicy {
            lexical: vec![dir.to_path_buf(), canon.clone()],
            canonical: vec![canon],
            private: Vec::new(),
        }
    }

    async fn lost_project() -> Lost {
        let sim = nemo_sim::Sim::start(nemo_sim::SimConfig::fast())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = nemo_client::Config::new(sim.base_url(), dir.path().join("state"));
        let client = Client::new(config).unwrap();
        let db = Arc::new(StateDb::open(&dir.path().join("state")).unwrap());
        let (current, media) = (CurrentProject::in_memory(), MediaLedger::new(db));
        let session = current.get(&client, "en").await.unwrap();
        let photo = dir.path().join("shoe.png");
        std::fs::write(&photo, nemo_sim::sample::png(64, 48, [200, 40, 40], 1)).unwrap();
        let file = validate::validate_media_file(&photo, u64::MAX).unwrap();
        let up = session.handle(&client).upload(&[file], None).await.unwrap();
        let records = vec![
            MediaRecord {
                source: MediaSource::File {
                    path: photo.clone(),
                },
                sha256: Some(nemo_client::sha256_file(&photo).unwrap()),
                size: None,
                asset: up.assets.first().and_then(|a| a.url.clone()),
            },
            MediaRecord {
                source: MediaSource::Url {
                    url: up.assets[0].url.clone().unwrap(),
                },
                sha256: None,
                size: None,
                asset: None,
            },
        ];
        media.record(session.session_id, records).await;
        assert!(sim.control().drop_session(session.session_id.get()));
        Lost {
            sim,
            client,
            current,
            media,
            lost: session.session_id,
            photo,
            policy: policy_for(dir.path()),
            _dir: dir,
        }
    }

    fn parts(l: &Lost) -> Parts<'_> {
        Parts {
            client: &l.client,
            current: &l.current,
            media: &l.media,
            language: "en",
            max_upload: u64::MAX,
            web_url: "https://example.invalid",
            policy: &l.policy,
        }
    }

    fn uploads(sim: &nemo_sim::SimHandle) -> usize {
        let log = sim.control().log();
        log.iter().filter(|r| r.path.contains("upload")).count()
    }

    #[tokio::test]
    async fn a_lost_project_comes_back_as_a_new_one_with_its_file_and_url_and_nothing_sent() {
        let l = lost_project().await;
        let before = uploads(&l.sim);
        let r = restore(parts(&l), l.lost, Restore::All).await.unwrap();
        assert_ne!(r.session, l.lost);
        assert_eq!((r.restored, r.missing.len()), (2, 0), "{r:?}");
        assert_eq!(l.current.peek().await.unwrap().session_id, r.session);
        assert_eq!(l.media.media(r.session).len(), 2);
        // One file upload and one URL upload; no instruction went to the agent.
        assert_eq!(uploads(&l.sim) - before, 2);
        assert!(l.sim.control().messages().is_empty());
        // A second restore of the same loss finds it done (another call's work).
        let again = restore(parts(&l), l.lost, Restore::All).await.unwrap();
        assert_eq!((again.session, again.restored), (r.session, 0));
        assert_eq!(uploads(&l.sim) - before, 2);
    }

    #[tokio::test]
    async fn a_changed_file_stops_a_full_restore_before_anything_is_made() {
        let l = lost_project().await;
        std::fs::write(&l.photo, b"not the photo that was uploaded").unwrap();
        let projects = l.sim.control().session_ids().len();
        let e = restore(parts(&l), l.lost, Restore::All).await.unwrap_err();
        assert_eq!(e.code, Code::ProjectNotRestored);
        assert!(e.message.contains("changed since it was uploaded"), "{e:?}");
        assert_eq!(
            l.sim.control().session_ids().len(),
            projects,
            "no project made"
        );
        // What can be restored is, when all is not needed: the URL; the file is said missing.
        let r = restore(parts(&l), l.lost, Restore::Possible).await.unwrap();
        assert_eq!((r.restored, r.missing.len()), (1, 1), "{r:?}");
    }

    /// A host allowed other folders restores the project: the recorded file, outside its
    /// allowed folders, is missing to it and never uploaded (its own upload_media would refuse
    /// it too); the URL still is.
    #[tokio::test]
    async fn a_recorded_file_outside_the_allowed_folders_is_missing_not_uploaded() {
        let mut l = lost_project().await;
        let elsewhere = tempfile::tempdir().unwrap();
        l.policy = policy_for(elsewhere.path());
        let before = uploads(&l.sim);
        let e = restore(parts(&l), l.lost, Restore::All).await.unwrap_err();
        assert_eq!(e.code, Code::ProjectNotRestored);
        assert!(e.message.contains("shoe.png"), "{e:?}");
        assert_eq!(uploads(&l.sim), before, "nothing uploaded");
        let r = restore(parts(&l), l.lost, Restore::Possible).await.unwrap();
        assert_eq!((r.restored, r.missing.len()), (1, 1), "the URL only: {r:?}");
        assert_eq!(uploads(&l.sim) - before, 1);
    }
}

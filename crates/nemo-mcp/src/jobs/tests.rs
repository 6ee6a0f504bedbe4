//! The job store's tests: spawning, waiting, pruning, cancelling.

use super::*;

fn manager(dir: &std::path::Path) -> JobManager {
    let db = Arc::new(crate::state::StateDb::open(dir).unwrap());
    JobManager::new(db, dir.to_path_buf())
}

/// Run `n` free jobs to their end, one after another.
async fn finish_uploads(m: &JobManager, n: usize) {
    let stop = CancellationToken::new();
    for _ in 0..n {
        let j = m.spawn(Job::upload(Vec::new()), |_| async { Ok(upload_result()) });
        let wait = (Duration::from_secs(5), Duration::from_secs(1));
        m.wait(&j.id, wait.0, wait.1, &stop, |_| async {})
            .await
            .unwrap();
    }
}

fn upload_result() -> results::UploadResult {
    results::UploadResult {
        uploaded: Vec::new(),
        already_present: vec!["a.png".into()],
        rejected: Vec::new(),
        project_media: 1,
        notice: None,
        credits_spent: 0,
        next_step: "generate".into(),
    }
}

#[tokio::test]
async fn jobs_finish_wait_and_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path());
    let job = m.spawn(Job::upload(vec!["a.png".into()]), |ctx| async move {
        ctx.progress(Some(50.0), "half");
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(upload_result())
    });
    let stop = CancellationToken::new();
    let mut ticks = 0;
    let done = m
        .wait(
            &job.id,
            Duration::from_secs(5),
            Duration::from_millis(10),
            &stop,
            |_| {
                ticks += 1;
                async {}
            },
        )
        .await
        .unwrap();
    assert_eq!(done.status(), JobStatus::Succeeded);
    let Work::Upload(u) = &done.work else {
        panic!("an upload job is an upload: {done:?}")
    };
    assert_eq!(u.outcome.result(), Some(&upload_result()));
    assert_eq!(done.progress_pct, Some(100.0));
    assert!(ticks > 0);
}

#[tokio::test]
async fn a_wait_is_bounded_and_a_job_can_be_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path());
    let stop = CancellationToken::new();
    m.spawn(Job::upload(Vec::new()), |_| async { Ok(upload_result()) });
    // Bounded wait returns a running job.
    let slow = m.spawn(Job::export(), |_| async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Err::<results::ExportResult, _>(ToolError::new(crate::errors::Code::Internal, "never"))
    });
    let r = m
        .wait(
            &slow.id,
            Duration::from_millis(30),
            Duration::from_millis(10),
            &stop,
            |_| async {},
        )
        .await
        .unwrap();
    assert_eq!(r.status(), JobStatus::Running);
    // A cancelled caller stops waiting at once; the job runs on.
    let caller = CancellationToken::new();
    caller.cancel();
    let r = m
        .wait(
            &slow.id,
            Duration::from_secs(30),
            Duration::from_secs(1),
            &caller,
            |_| async {},
        )
        .await
        .unwrap();
    assert_eq!(r.status(), JobStatus::Running);
    m.cancel(&slow.id).unwrap();
    let r = m
        .wait(
            &slow.id,
            Duration::from_secs(5),
            Duration::from_millis(10),
            &stop,
            |_| async {},
        )
        .await
        .unwrap();
    assert_eq!(r.status(), JobStatus::Cancelled);
    // All journaled, and seen by another process on the folder.
    let other = manager(dir.path());
    let loaded = other.list();
    assert_eq!(loaded.len(), 2);
    assert!(loaded.iter().all(|j| j.status().is_finished()));
}

#[tokio::test]
async fn finished_jobs_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path());
    // Finished jobs are pruned to the newest KEEP_FINISHED, in memory and on disk.
    finish_uploads(&m, journal::KEEP_FINISHED + 20).await;
    assert_eq!(m.held(), journal::KEEP_FINISHED);
    assert_eq!(m.journal().all().len(), journal::KEEP_FINISHED);
    // A later process that finishes only a few keeps the folder's bound too.
    m.journal().retire();
    let later = manager(dir.path());
    finish_uploads(&later, 5).await;
    assert_eq!(later.journal().count(), journal::KEEP_FINISHED);
}

/// Every job a manager starts records its source's attribution, also through a scoped
/// manager and in the journal; a job that carries its own (one taken over) keeps it.
#[tokio::test]
async fn started_jobs_record_who_their_requests_come_from() {
    let dir = tempfile::tempdir().unwrap();
    let ours = nemo_client::Attribution::new("nemo-mcp", "1.0.0", "unknown");
    let theirs = nemo_client::Attribution::new("maker-free", "0.9.1", "cursor");
    let source = ours.clone();
    let m = manager(dir.path()).attributed_by(Arc::new(move || source.clone()));
    let done = |_| async { Ok(upload_result()) };
    let plain = m.spawn(Job::upload(Vec::new()), done);
    assert_eq!(plain.attribution.as_ref(), Some(&ours));
    let in_session = m.scoped("session-1").spawn(Job::upload(Vec::new()), done);
    assert_eq!(in_session.attribution.as_ref(), Some(&ours));
    let mut taken_over = Job::upload(Vec::new());
    taken_over.attribution = Some(theirs.clone());
    let kept = m.spawn(taken_over, done);
    assert_eq!(kept.attribution.as_ref(), Some(&theirs));
    let journaled = m.journal().get(&kept.id).unwrap();
    assert_eq!(journaled.attribution, Some(theirs));
    // A manager with no source records none (jobs from before, tests).
    let bare = manager(dir.path()).spawn(Job::upload(Vec::new()), done);
    assert_eq!(bare.attribution, None);
}

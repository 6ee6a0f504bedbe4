//! Jobs on disk: one private JSON file per job, written atomically, so a restart finds every
//! job that was running and a torn write is detected (and skipped) rather than trusted.

use super::Job;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

/// Finished jobs kept, in memory and on disk, for `list_jobs` (older ones are pruned).
pub const KEEP_FINISHED: usize = 200;

/// A job id as this server makes them: `gen_`, `exp_`, `upl_` or `vid_` and 12 hex digits.
pub fn valid_job_id(id: &str) -> bool {
    let Some((prefix, hex)) = id.split_once('_') else {
        return false;
    };
    matches!(prefix, "gen" | "exp" | "upl" | "vid")
        && hex.len() == 12
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An id the backend gave (a render id, a session id): short, no separators or dots.
fn valid_backend_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Why a journal entry cannot be trusted, if it cannot. The journal is ours, but a file in a
/// folder can be edited or planted: an entry may never make the server write outside its
/// folders or use ids that are paths.
pub fn check_entry(job: &Job, file_stem: &str, output_dir: &Path) -> Result<(), String> {
    if !valid_job_id(&job.id) || job.id != file_stem {
        return Err("the job id is not one this server makes".into());
    }
    if job
        .render_id
        .as_deref()
        .is_some_and(|r| !valid_backend_id(r))
    {
        return Err("the render id has characters no render id has".into());
    }
    if job
        .session_id
        .as_deref()
        .is_some_and(|r| !valid_backend_id(r))
    {
        return Err("the session id has characters no session id has".into());
    }
    if let Some(p) = &job.output_path {
        if !crate::paths::is_output_file(output_dir, p) {
            return Err("its output file is not directly inside the output folder".into());
        }
    }
    Ok(())
}

impl Journal {
    pub fn new(dir: impl Into<PathBuf>) -> Journal {
        Journal { dir: dir.into() }
    }

    pub fn save(&self, job: &Job) {
        if !valid_job_id(&job.id) {
            tracing::error!("not journaling a job with a malformed id");
            return;
        }
        let path = self.dir.join(format!("{}.json", job.id));
        let result = serde_json::to_vec_pretty(job)
            .map_err(std::io::Error::other)
            .and_then(|bytes| nemo_client::files::write_private(&path, &bytes));
        if let Err(e) = result {
            // The job goes on; only its survival across a restart is at risk.
            tracing::error!(job = %job.id, "could not journal the job: {e}");
        }
    }

    /// Forget a job (pruned).
    pub fn remove(&self, id: &str) {
        if valid_job_id(id) {
            let _ = std::fs::remove_file(self.dir.join(format!("{id}.json")));
        }
    }

    /// Every readable, valid job, oldest first, keeping the newest [`KEEP_FINISHED`] finished
    /// ones. Unreadable (torn, foreign) and invalid entries are skipped and logged.
    pub fn load_all(&self, output_dir: &Path) -> Vec<Job> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut jobs: Vec<Job> = Vec::new();
        for path in entries.filter_map(Result::ok).map(|e| e.path()) {
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let Some(job) = nemo_client::files::read_json::<Job>(&path) else {
                continue;
            };
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            match check_entry(&job, stem, output_dir) {
                Ok(()) => jobs.push(job),
                Err(why) => {
                    tracing::warn!(file = %path.display(), "skipping a journal entry: {why}")
                }
            }
        }
        jobs.sort_by_key(|a| a.created_at);
        let finished: Vec<String> = jobs
            .iter()
            .filter(|j| j.status.is_finished())
            .map(|j| j.id.clone())
            .collect();
        if finished.len() > KEEP_FINISHED {
            let old = &finished[..finished.len() - KEEP_FINISHED];
            for id in old {
                self.remove(id);
            }
            jobs.retain(|j| !old.contains(&j.id));
        }
        jobs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{JobKind, JobStatus};

    #[test]
    fn planted_entries_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().canonicalize().unwrap();
        let j = Journal::new(dir.path().join("jobs"));
        let mut good = Job::new(JobKind::Export);
        good.output_path = Some(out_dir.join("promo.mp4"));
        good.render_id = Some("render_1700000000000".into());
        j.save(&good);
        let plant = |name: &str, job: &Job| {
            std::fs::write(
                dir.path().join("jobs").join(format!("{name}.json")),
                serde_json::to_vec(job).unwrap(),
            )
            .unwrap()
        };
        let mut outside = Job::new(JobKind::Export);
        outside.output_path = Some(PathBuf::from("/etc/cron.d/evil.mp4"));
        plant(&outside.id.clone(), &outside);
        let mut nested = Job::new(JobKind::Export);
        nested.output_path = Some(out_dir.join("sub").join("x.mp4"));
        plant(&nested.id.clone(), &nested);
        let mut traversal = Job::new(JobKind::Export);
        traversal.id = "../../evil".into();
        plant("exp_000000000000", &traversal);
        let mut bad_render = Job::new(JobKind::Export);
        bad_render.render_id = Some("../../x".into());
        plant(&bad_render.id.clone(), &bad_render);
        let loaded = j.load_all(&out_dir);
        assert_eq!(loaded.len(), 1, "{loaded:?}");
        assert_eq!(loaded[0].id, good.id);
        // Pruning keeps the newest finished jobs.
        for _ in 0..(KEEP_FINISHED + 5) {
            let mut f = Job::new(JobKind::Upload);
            f.status = JobStatus::Succeeded;
            j.save(&f);
        }
        let loaded = j.load_all(&out_dir);
        assert_eq!(
            loaded.iter().filter(|j| j.status.is_finished()).count(),
            KEEP_FINISHED
        );
    }
}

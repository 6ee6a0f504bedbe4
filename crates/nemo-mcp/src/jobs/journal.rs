//! Jobs on disk: one private JSON file per job, written atomically, so a restart finds every
//! job that was running and a torn write is detected (and skipped) rather than trusted.

use super::Job;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

/// Finished jobs kept on disk for `list_jobs` after a restart.
const KEEP_FINISHED: usize = 100;

impl Journal {
    pub fn new(dir: impl Into<PathBuf>) -> Journal {
        Journal { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn save(&self, job: &Job) {
        let path = self.dir.join(format!("{}.json", job.id));
        let result = serde_json::to_vec_pretty(job)
            .map_err(std::io::Error::other)
            .and_then(|bytes| nemo_client::files::write_private(&path, &bytes));
        if let Err(e) = result {
            // The job goes on; only its survival across a restart is at risk.
            tracing::error!(job = %job.id, "could not journal the job: {e}");
        }
    }

    /// Every readable job, oldest first. Unreadable (torn, foreign) files are skipped.
    pub fn load_all(&self) -> Vec<Job> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut jobs: Vec<Job> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| nemo_client::files::read_json::<Job>(&p))
            .collect();
        jobs.sort_by_key(|a| a.created_at);
        let finished: Vec<String> = jobs
            .iter()
            .filter(|j| j.status.is_finished())
            .map(|j| j.id.clone())
            .collect();
        if finished.len() > KEEP_FINISHED {
            for id in &finished[..finished.len() - KEEP_FINISHED] {
                let _ = std::fs::remove_file(self.dir.join(format!("{id}.json")));
            }
            jobs.retain(|j| !finished[..finished.len() - KEEP_FINISHED].contains(&j.id));
        }
        jobs
    }
}

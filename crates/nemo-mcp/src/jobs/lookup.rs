//! Finding jobs: one by id, the recent ones of every process, the one a caller's key names,
//! the generation running in a project. This process's own jobs as they are now, the others'
//! as the shared journal last has them.

use super::{job, Job, JobKind, JobManager, JobStatus};
use crate::support::sync::lock;

impl JobManager {
    /// A job: this process's as it is now, another's as last journaled.
    pub fn get(&self, id: &str) -> Option<Job> {
        match self.cell(id) {
            Some(c) => Some(c.tx.borrow().clone()),
            None => self.foreign(id),
        }
    }

    /// Why the running job `id` of a gone process was left as it was by this server (it cannot
    /// read or run it); `None` for any other job.
    pub fn left_here(&self, id: &str) -> Option<String> {
        if !lock(&self.journal.left).contains(id) {
            return None;
        }
        self.unreadable(id)
    }

    /// Why the job `id` is in the shared state but cannot be read or run here (a newer
    /// version's, or one that fails its checks); `None` when it is not there.
    pub fn unreadable(&self, id: &str) -> Option<String> {
        self.journal.unreadable(id, self.owner.as_deref())
    }

    /// Recent jobs of every process, newest first, without the state snapshots a running
    /// generation keeps. This process's own are as they are now.
    pub fn list(&self) -> Vec<Job> {
        self.with_own(self.journal.list(self.owner.as_deref()), usize::MAX)
    }

    /// The newest `limit` jobs of every process (what `list_jobs` shows), newest first: read
    /// without parsing the older ones.
    pub fn recent(&self, limit: usize) -> Vec<Job> {
        self.with_own(self.journal.recent(self.owner.as_deref(), limit), limit)
    }

    /// This process's jobs as they are now, with the journaled ones of the others: light,
    /// newest first, at most `limit`.
    fn with_own(&self, journaled: Vec<Job>, limit: usize) -> Vec<Job> {
        let mut v: Vec<Job> = lock(&self.cells)
            .values()
            .map(|c| c.tx.borrow().light())
            .filter(|j| j.owner == self.owner)
            .collect();
        let mine: std::collections::HashSet<String> = v.iter().map(|j| j.id.clone()).collect();
        v.extend(
            journaled
                .into_iter()
                .filter(|j| !mine.contains(&j.id))
                .map(|j| j.light()),
        );
        v.sort_by_key(|j| std::cmp::Reverse(j.created_at));
        v.truncate(limit);
        v
    }

    /// The job of this kind started with this idempotency key, by any process, if any (in
    /// any project: for the keys this server makes itself, which are unique).
    pub fn by_request(&self, kind: JobKind, request_id: &str) -> Option<Job> {
        self.by_request_in(kind, request_id, None)
    }

    /// The job of this kind a caller started with this key in `project` (see
    /// [`Job::same_request_as`]): reused in another project, the key names no job.
    pub fn by_request_in(
        &self,
        kind: JobKind,
        request_id: &str,
        project: Option<nemo_client::SessionId>,
    ) -> Option<Job> {
        let key = job::RequestKey {
            kind,
            request_id,
            owner: self.owner.as_deref(),
            project: project.map(|p| p.to_string()),
        };
        let here = lock(&self.cells).values().find_map(|c| {
            let j = c.tx.borrow();
            key.matches(&j).then(|| j.clone())
        });
        here.or_else(|| {
            self.journal
                .by_request(kind, request_id, self.owner.as_deref())
                .into_iter()
                .find(|j| key.matches(j))
        })
    }

    /// The generation running in a project, by any process, if any (one at a time per project).
    pub fn running_generation(&self, session_id: nemo_client::SessionId) -> Option<Job> {
        let here = lock(&self.cells).values().find_map(|c| {
            let j = c.tx.borrow();
            (j.status() == JobStatus::Running
                && j.generation_data()
                    .is_some_and(|g| g.session_id == Some(session_id)))
            .then(|| j.light())
        });
        here.or_else(|| {
            self.journal
                .running_generation(&session_id.to_string())
                .map(|j| j.light())
        })
    }
}

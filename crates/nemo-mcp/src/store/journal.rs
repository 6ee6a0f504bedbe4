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
    if job.id.split_once('_').map(|(p, _)| p) != Some(job.kind().prefix()) {
        return Err("the job id is not one of its kind".into());
    }
    let Some(export) = job.export_data() else {
        return Ok(());
    };
    if export
        .render_id
        .as_ref()
        .is_some_and(|r| !valid_backend_id(r.as_str()))
    {
        return Err("the render id has characters no render id has".into());
    }
    if let Some(p) = &export.output_path {
        if !crate::paths::is_output_file(output_dir, p) {
            return Err("its output file is not directly inside the output folder".into());
        }
    }
    Ok(())
}

/// One entry, in today's format or the first one (upgraded).
fn read_entry(path: &Path) -> Result<Job, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    parse_entry(&bytes)
}

pub(super) fn parse_entry(bytes: &[u8]) -> Result<Job, String> {
    #[derive(serde::Deserialize)]
    struct Version {
        #[serde(default)]
        version: u32,
    }
    let v: Version = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    match v.version {
        0 | 1 => serde_json::from_slice::<super::journal_v1::JobV1>(bytes)
            .map_err(|e| e.to_string())?
            .upgrade(),
        super::job::JOURNAL_VERSION => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
        n => Err(format!("journal format {n} is newer than this server's")),
    }
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
            let job = match read_entry(&path) {
                Ok(job) => job,
                Err(why) => {
                    tracing::warn!(file = %path.display(), "skipping a journal entry: {why}");
                    continue;
                }
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
            .filter(|j| j.status().is_finished())
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
    use crate::store::{Ended, Work};

    #[test]
    fn planted_entries_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().canonicalize().unwrap();
        let j = Journal::new(dir.path().join("jobs"));
        let export = |render: &str, path: PathBuf| {
            let mut j = Job::export();
            if let Work::Export(e) = &mut j.work {
                e.render_id = Some(serde_json::from_value(render.into()).unwrap());
                e.output_path = Some(path);
            }
            j
        };
        let good = export("render_1700000000000", out_dir.join("promo.mp4"));
        j.save(&good);
        let plant = |name: &str, job: &Job| {
            std::fs::write(
                dir.path().join("jobs").join(format!("{name}.json")),
                serde_json::to_vec(job).unwrap(),
            )
            .unwrap()
        };
        let outside = export("render_1", PathBuf::from("/etc/cron.d/evil.mp4"));
        plant(&outside.id.clone(), &outside);
        let nested = export("render_2", out_dir.join("sub").join("x.mp4"));
        plant(&nested.id.clone(), &nested);
        let mut traversal = Job::export();
        traversal.id = "../../evil".into();
        plant("exp_000000000000", &traversal);
        let bad_render = export("../../x", out_dir.join("y.mp4"));
        plant(&bad_render.id.clone(), &bad_render);
        let loaded = j.load_all(&out_dir);
        assert_eq!(loaded.len(), 1, "{loaded:?}");
        assert_eq!(loaded[0].id, good.id);
        // Pruning keeps the newest finished jobs.
        for _ in 0..(KEEP_FINISHED + 5) {
            let mut f = Job::upload(Vec::new());
            f.work.end(Ended::Cancelled);
            j.save(&f);
        }
        let loaded = j.load_all(&out_dir);
        assert_eq!(
            loaded.iter().filter(|j| j.status().is_finished()).count(),
            KEEP_FINISHED
        );
    }

    /// Entries written by the first format (no `version`, one bag of fields, untyped results)
    /// load as today's typed jobs, and are written back in today's format.
    /// The first format's fixtures in a journal folder, loaded: (journal folder, output
    /// folder, the folders' guards, the jobs).
    fn load_v1_fixtures() -> (PathBuf, PathBuf, [tempfile::TempDir; 2], Vec<Job>) {
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/journal-v1");
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().canonicalize().unwrap();
        let jobs_dir = dir.path().join("jobs");
        std::fs::create_dir_all(&jobs_dir).unwrap();
        for entry in std::fs::read_dir(&fixtures).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.replace("{OUT}", out_dir.to_str().unwrap());
            std::fs::write(jobs_dir.join(path.file_name().unwrap()), text).unwrap();
        }
        let loaded = Journal::new(&jobs_dir).load_all(&out_dir);
        assert_eq!(loaded.len(), 7, "every entry of the first format loads");
        (jobs_dir, out_dir, [dir, out], loaded)
    }

    #[test]
    fn the_first_journal_format_loads() {
        use crate::store::results::GenerateOutput;
        use crate::store::JobStatus;
        let (_, out_dir, _guards, loaded) = load_v1_fixtures();
        let by_id = |id: &str| loaded.iter().find(|j| j.id == id).unwrap();

        let edited = by_id("gen_0a1b2c3d4e5f");
        assert_eq!(edited.status(), JobStatus::Succeeded);
        assert_eq!(edited.credits_spent(), Some(50));
        assert_eq!(edited.request_id.as_deref(), Some("promo-1"));
        let g = edited.generation_data().unwrap();
        assert_eq!(
            g.session_id.map(|s| s.to_string()).as_deref(),
            Some("1700000000123")
        );
        assert!(matches!(g.outcome.result(), Some(GenerateOutput::Edited(r)) if r.exportable));

        let running = by_id("gen_1b2c3d4e5f60");
        assert_eq!(running.status(), JobStatus::Running);
        let before = running
            .generation_data()
            .unwrap()
            .state_before
            .as_ref()
            .unwrap();
        assert_eq!(
            before.canvas,
            Some((1920, 1080)),
            "the snapshot is read back"
        );
        assert_eq!(running.generation_data().unwrap().credits_before, Some(50));

        let routed = by_id("gen_2c3d4e5f6071");
        assert!(matches!(
            routed.generation_data().unwrap().outcome.result(),
            Some(GenerateOutput::NotSent(r)) if r.tool == "export_video"
        ));
        assert_eq!(routed.credits_spent(), Some(0));

        let rendering = by_id("exp_3d4e5f607182");
        let e = rendering.export_data().unwrap();
        assert_eq!(
            e.render_id.as_ref().unwrap().as_str(),
            "render_1763726400000"
        );
        assert_eq!(
            e.output_path.as_deref(),
            Some(out_dir.join("promo.mp4").as_path())
        );
        assert_eq!(rendering.owner.as_deref(), Some("mcp-session-7"));

        let saved = by_id("exp_4e5f60718293");
        assert_eq!(
            saved.saved_path(),
            Some(out_dir.join("launch.mp4").to_str().unwrap())
        );

        let failed = by_id("upl_5f6071829304");
        assert_eq!(failed.status(), JobStatus::Failed);
        assert_eq!(
            failed.error().unwrap().code,
            crate::errors::Code::Interrupted
        );

        let video = by_id("vid_5f60718293a4");
        let plan = video.video_plan().unwrap();
        assert_eq!(plan.export_job.as_deref(), Some("exp_3d4e5f607182"));
        assert_eq!(plan.steps().count(), 3);
    }

    /// Written back in today's format, and read back the same.
    #[test]
    fn upgraded_entries_are_written_in_todays_format() {
        let (jobs_dir, out_dir, _guards, loaded) = load_v1_fixtures();
        let j = Journal::new(&jobs_dir);
        for job in &loaded {
            j.save(job);
        }
        let again = j.load_all(&out_dir);
        assert_eq!(again, loaded);
        let raw: serde_json::Value =
            serde_json::from_slice(&std::fs::read(jobs_dir.join("exp_3d4e5f607182.json")).unwrap())
                .unwrap();
        assert_eq!(raw["version"], crate::store::job::JOURNAL_VERSION);
        assert_eq!(raw["work"]["kind"], "export");
        assert_eq!(raw["work"]["outcome"]["status"], "running");
        // A format from a newer server is skipped, not misread.
        std::fs::write(jobs_dir.join("gen_ffffffffffff.json"), r#"{"version": 99}"#).unwrap();
        assert_eq!(j.load_all(&out_dir).len(), 7);
    }
}

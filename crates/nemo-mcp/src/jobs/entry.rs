//! What a journaled row may hold, checked whenever one is read: a job id this server makes, ids
//! the backend gave, an output file directly inside its job's own output folder, and a format
//! this server knows. The database is ours, but a folder can be edited or planted like a file.

use super::Job;
use std::path::Path;

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
/// folder can be edited or planted: an entry may never make the server write anywhere but
/// directly inside an output folder, as an `.mp4`, or use ids that are paths. The folder is the
/// job's own, recorded when it was made (hosts set up with other folders share one state
/// folder); `output_dir`, the reading process's, only for an entry that records none.
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
    if export.output_dir.as_ref().is_some_and(|d| !d.is_absolute()) {
        return Err("its output folder is not an absolute path".into());
    }
    if let Some(p) = &export.output_path {
        // An entry from before the folder was recorded is judged against this process's.
        let dir = export.output_dir.as_deref().unwrap_or(output_dir);
        if !crate::files::outputs::is_output_file(dir, p) {
            return Err("its output file is not an MP4 directly inside its output folder".into());
        }
    }
    Ok(())
}

pub(crate) fn parse_entry(bytes: &[u8]) -> Result<Job, String> {
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

//! The exported MP4's bytes for the player view, in pieces.
//!
//! Why pieces: hosts refuse tool results over 1 MB (Claude Desktop) and drop a stdio connection
//! on a message over 10 MiB (the TypeScript SDK), so the view asks for the file a piece at a time
//! through the app-only tool `read_export_piece`. A piece is at most 512 KiB and a multiple of
//! three bytes, so its base64 text joins the previous pieces' unchanged: the view builds one
//! `data:` URI without decoding anything (`blob:` and loopback URLs are blocked by common hosts).
//!
//! What can be read: only a file this server exported into its output folder, named by the job
//! that exported it (never a path from the caller); over `--http` the job list is the caller's
//! own session's. A file moved, changed (its size, or written after the export finished) or
//! deleted is an error that says so.

use crate::app::App;
use crate::errors::{Code, ToolError};
use crate::jobs::{Job, JobStatus};
use serde::Serialize;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The largest piece: 512 KiB rounded down to a multiple of 3 (174,762 × 3 = 524,286 bytes,
/// 699,048 characters of base64: with the envelope well under 1 MB).
pub const PIECE_BYTES: u64 = 524_286;

/// The largest video the view plays: a `data:` URI holds the whole file as base64 in the
/// page's memory (4/3 of it, and the decoder's copy besides); past this the view shows the
/// file's path to open instead, and no piece is served.
pub const MAX_PLAYED_BYTES: u64 = 200 * 1024 * 1024;

/// How late a file's modification time may be after its export finished (the download's last
/// write and rename come just before the job is marked done, on a clock of coarse resolution).
const SLACK_S: i64 = 5;

/// One piece of an exported file.
#[derive(Debug, Serialize)]
pub struct Piece {
    pub job_id: String,
    pub offset: u64,
    /// Bytes in this piece (before base64).
    pub length: u64,
    pub total_bytes: u64,
    /// True for the last piece.
    pub done: bool,
    pub mime_type: &'static str,
    /// The bytes, base64 (standard alphabet, padded only on the last piece).
    pub data: String,
}

/// An export's file, checked: inside the output folder, the size it had, not written since.
#[derive(Debug, Clone)]
pub struct ExportFile {
    pub job_id: String,
    pub path: PathBuf,
    pub size: u64,
}

/// The export a job names: an export job, or a `make_video` job whose export step finished.
pub fn export_job_of(app: &App, job_id: &str) -> Result<Job, ToolError> {
    let unknown = || {
        ToolError::new(Code::UnknownJob, format!("no job {job_id}"))
            .next("call list_jobs to see the jobs")
    };
    let job = app.jobs.get(job_id).ok_or_else(unknown)?;
    if job.export_data().is_some() {
        return Ok(job);
    }
    match job.video_plan().and_then(|p| p.export_job.clone()) {
        Some(export) => app.jobs.get(&export).ok_or_else(unknown),
        None => Err(ToolError::invalid(format!(
            "job {job_id} (from {}) has no exported video",
            job.kind().tool()
        ))
        .next("give the job id of export_video or make_video")),
    }
}

/// The file of a finished export, checked against what the export recorded.
pub fn locate(app: &App, job_id: &str) -> Result<ExportFile, ToolError> {
    let job = export_job_of(app, job_id)?;
    let Some(result) = job.export_data().and_then(|e| e.outcome.result()) else {
        return Err(match job.status() {
            JobStatus::Running => {
                ToolError::new(Code::Busy, format!("export {} is still running", job.id))
                    .next("call get_job until it finishes")
            }
            _ => ToolError::new(
                Code::Failed,
                format!("export {} did not save a video", job.id),
            ),
        });
    };
    let path = PathBuf::from(&result.path);
    let gone = |what: &str| {
        ToolError::new(
            Code::ExportMissing,
            format!(
                "the exported video {} {what} since it was saved",
                file_name(&path)
            ),
        )
        .next("call export_video again to save a fresh copy")
    };
    let meta = match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => m,
        Ok(_) | Err(_) => return Err(gone("was moved or deleted")),
    };
    // Inside the output folder as it is now (a symlink swapped in elsewhere is refused).
    // The job's own folder (another host may have saved it, set up with another folder).
    let dir = job.export_data().map_or_else(
        || app.settings.output_dir.clone(),
        |e| e.folder(&app.settings.output_dir),
    );
    let inside = match (path.canonicalize(), dir.canonicalize()) {
        (Ok(p), Ok(dir)) => p.starts_with(dir),
        _ => false,
    };
    if !inside {
        return Err(gone("is no longer in the output folder"));
    }
    let written_after = match (meta.modified(), job.finished_at) {
        (Ok(m), Some(done)) => {
            let m: chrono::DateTime<chrono::Utc> = m.into();
            (m - done).num_seconds() > SLACK_S
        }
        _ => false,
    };
    if meta.len() != result.size_bytes || written_after {
        return Err(gone("was changed"));
    }
    Ok(ExportFile {
        job_id: job.id.clone(),
        path,
        size: meta.len(),
    })
}

/// The piece of `file` that starts at `offset`.
pub fn read(file: &ExportFile, offset: u64) -> Result<Piece, ToolError> {
    if file.size > MAX_PLAYED_BYTES {
        return Err(ToolError::invalid(format!(
            "the video is too large to play in this view ({} MB; at most {} MB): open the file itself, {}",
            file.size / (1024 * 1024),
            MAX_PLAYED_BYTES / (1024 * 1024),
            file.path.display()
        )));
    }
    if offset >= file.size {
        return Err(ToolError::invalid(format!(
            "offset {offset} is past the end of the video ({} bytes)",
            file.size
        )));
    }
    let length = PIECE_BYTES.min(file.size - offset);
    let mut buf = vec![0u8; length as usize];
    let read = std::fs::File::open(&file.path)
        .and_then(|mut f| {
            f.seek(SeekFrom::Start(offset))?;
            f.read_exact(&mut buf)
        })
        .map_err(|e| {
            ToolError::new(
                Code::ExportMissing,
                format!("the exported video could not be read: {}", e.kind()),
            )
            .next("call export_video again to save a fresh copy")
        });
    read?;
    Ok(Piece {
        job_id: file.job_id.clone(),
        offset,
        length,
        total_bytes: file.size,
        done: offset + length == file.size,
        mime_type: "video/mp4",
        data: crate::mcp::encoding::base64(&buf),
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_as_base64() {
        const { assert!(PIECE_BYTES.is_multiple_of(3) && PIECE_BYTES <= 512 * 1024) };
        // Two pieces' base64 joined equals the whole file's.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.mp4");
        let bytes: Vec<u8> = (0..(PIECE_BYTES + 1000))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        let file = ExportFile {
            job_id: "export_1".into(),
            path,
            size: bytes.len() as u64,
        };
        let a = read(&file, 0).unwrap();
        assert!(!a.done);
        assert_eq!(a.length, PIECE_BYTES);
        let b = read(&file, a.length).unwrap();
        assert!(b.done);
        assert_eq!(b.length, 1000);
        assert_eq!(
            format!("{}{}", a.data, b.data),
            crate::mcp::encoding::base64(&bytes)
        );
        assert!(read(&file, bytes.len() as u64).is_err());
    }

    #[test]
    fn a_video_past_200_mb_is_not_served_and_its_path_is_said() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.mp4");
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(MAX_PLAYED_BYTES + 1).unwrap(); // sparse: no 200 MB written
        let file = ExportFile {
            job_id: "export_1".into(),
            path: path.clone(),
            size: MAX_PLAYED_BYTES + 1,
        };
        let e = read(&file, 0).unwrap_err();
        assert!(
            e.message.contains("too large to play") && e.message.contains("long.mp4"),
            "{e:?}"
        );
    }
}

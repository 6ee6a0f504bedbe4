//! The check of a saved export: its own facts (length, picture size, sound), its sound decoded
//! and measured, its contact sheet. One check reads a file the backend sent, so it is bounded
//! whatever the file says (under 64 MB above idle and a few seconds of CPU: the caps are in
//! `files::mp4` and `previews::frames`), and it is journaled before it runs: a process that
//! dies while checking a file leaves a mark, and whoever takes the export over keeps the file
//! without checking it again, so one crafted render cannot stop every later start.
//!
//! An export's check (`check_file`) adds what the timeline knows: its length against the
//! file's, whether it had text, and the captions written beside the file. What the file is then
//! held against (what was asked) is `run::held`.
//!
//! `nemo-mcp check <file.mp4>` runs the same check on any file and prints what it found.

use crate::app::App;
use crate::files::mp4::{self, Mp4Facts, Mp4File};
use crate::previews::contact_sheet::{self, ContactSheet};
use serde::Serialize;
use std::path::Path;

/// What the check of one file found.
pub struct Inspected {
    /// Its facts, or why they could not be read.
    pub facts: Result<Mp4Facts, String>,
    /// What its sound showed, as sentences (measured in part, not decoded).
    pub heard: Vec<String>,
    /// Its stretches with no sound (in a track that is not silent throughout).
    pub quiet: Vec<mp4::Stretch>,
    /// Its contact sheet (absent: the file could not be read at all).
    pub sheet: Option<Result<ContactSheet, String>>,
}

/// Check the MP4 at `path` (blocking: run it off the async workers).
pub fn inspect(path: &Path) -> Inspected {
    // Its moov read once for its facts, its sound and its pictures.
    let file = Mp4File::open(path);
    let mut facts = file.as_ref().map_err(Clone::clone).and_then(|f| f.facts());
    // Its sound, decoded: a failed music track comes back as digital silence.
    let mut heard = Vec::new();
    let mut quiet = Vec::new();
    if let (Ok(f), Ok(file)) = (facts.as_mut(), &file) {
        if f.audio {
            match file.loudness() {
                Ok(Some(l)) => {
                    f.silent = Some(l.silent());
                    heard = mp4::sound_notes(&l);
                    quiet = mp4::sound_stretches(&l);
                }
                Ok(None) => {}
                Err(why) => heard.push(format!("Its sound could not be checked here: {why}.")),
            }
        }
    }
    // Its pictures (made once per file; the result's image reuses the sheet).
    let sheet = match (&facts, &file) {
        (Ok(_), Ok(file)) => Some(contact_sheet::of_file(file)),
        _ => None,
    };
    Inspected {
        facts,
        heard,
        quiet,
        sheet,
    }
}

/// The contact sheet as `<name>.frames.jpg` beside the MP4 (never over an existing file):
/// a model whose host passes no image can open it with its own image viewer.
pub fn write_frames_beside(
    mp4: &std::path::Path,
    jpeg: &[u8],
) -> Result<std::path::PathBuf, String> {
    use std::io::Write;
    let stem = mp4
        .file_stem()
        .ok_or("the video has no file name")?
        .to_string_lossy();
    let path = mp4.with_file_name(format!("{stem}.frames.jpg"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(jpeg)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// What the saved file is, checked against the timeline, and its captions written.
pub struct Checked {
    pub timeline_s: Option<f64>,
    pub check: crate::jobs::results::FileCheck,
}

/// Read the saved MP4's own facts and compare its length with the rendered timeline's; write
/// the captions. The timeline is read again only when this process did not read it before the
/// render (a render resumed after a restart). Never fails the export: what cannot be done is a
/// note.
pub async fn check_file(
    app: &App,
    path: &std::path::Path,
    captions: bool,
    rendered: Option<nemo_client::Timeline>,
) -> Checked {
    let timeline = match rendered {
        Some(t) => Some(t),
        None => app.current_state().await.ok().map(|s| s.timeline),
    };
    let (p, t) = (path.to_path_buf(), timeline.clone());
    let done = tokio::task::spawn_blocking(move || {
        let found = inspect(&p);
        let cues = t
            .as_ref()
            .map(crate::files::captions::cues)
            .unwrap_or_default();
        // Laid out for this file's shape: a vertical video's lines are shorter and sit higher.
        let size = found
            .facts
            .as_ref()
            .ok()
            .and_then(|f| f.width.zip(f.height));
        let layout = crate::files::captions::Layout::for_size(size);
        let written = if captions {
            crate::files::captions::write_beside(&p, &cues, layout)
        } else {
            Ok(Vec::new())
        };
        // A text track with anything on it (its segments' words may not be given).
        let text = t.as_ref().map(|t| {
            t.tracks
                .iter()
                .any(|k| k.kind == nemo_client::TrackKind::Text && !k.segments.is_empty())
        });
        (found, text, written)
    })
    .await;
    let timeline_s = timeline
        .as_ref()
        .and_then(|t| t.duration_ms)
        .map(|ms| ms as f64 / 1000.0);
    let mut out = Checked {
        timeline_s,
        check: Default::default(),
    };
    let Ok((found, text, written)) = done else {
        return out;
    };
    out.check.text_track = text;
    match found.facts {
        Ok(f) => {
            out.check
                .notes
                .extend(crate::files::mp4::mismatch(None, timeline_s, f.duration_s));
            out.check.file = Some(f);
        }
        Err(why) => out.check.notes.push(format!(
            "The saved file could not be checked: {why}. Play it before sharing it."
        )),
    }
    out.check.notes.extend(found.heard);
    match found.sheet {
        Some(Ok(sheet)) => {
            out.check.frames_s = sheet.frames_s;
            out.check.stretches = sheet.stretches;
            out.check.notes.extend(sheet.notes);
            match write_frames_beside(path, &sheet.jpeg) {
                Ok(p) => out.check.frames = Some(p.display().to_string()),
                Err(why) => out
                    .check
                    .notes
                    .push(format!("The frames were not saved beside it: {why}.")),
            }
        }
        Some(Err(why)) => out.check.notes.push(format!(
            "No pictures could be taken from it here ({why}); play it before sharing it."
        )),
        None => {}
    }
    out.check.stretches.extend(found.quiet);
    match written {
        Ok(files) => out.check.captions = files.iter().map(|p| p.display().to_string()).collect(),
        Err(why) => out.check.notes.push(format!("Captions: {why}.")),
    }
    out
}

/// The note an export ends with when a process died while checking its file: the file is
/// kept and handed over unchecked.
pub const NOT_CHECKED: &str = "The saved file was not checked: a server process stopped while checking it, so it is not read again. Play it before sharing it.";

/// What `nemo-mcp check` prints: the facts and every note, as JSON.
#[derive(Serialize)]
struct Report<'a> {
    path: &'a Path,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a Mp4Facts>,
    frames_s: Vec<f64>,
    notes: Vec<String>,
}

/// The check an export runs, on any file: its findings as one JSON line, and whether the
/// file could be read at all (whatever it showed). `nemo-mcp check` prints it.
pub fn report(path: &Path) -> (Result<String, serde_json::Error>, bool) {
    let found = inspect(path);
    let mut notes = Vec::new();
    if let Err(why) = &found.facts {
        notes.push(format!("It could not be read: {why}."));
    }
    if found.facts.as_ref().is_ok_and(|f| f.silent == Some(true)) {
        notes.push("The sound track is silent throughout.".into());
    }
    notes.extend(found.heard.iter().cloned());
    notes.extend(found.quiet.iter().map(mp4::Stretch::said));
    let mut frames_s = Vec::new();
    match &found.sheet {
        Some(Ok(s)) => {
            frames_s = s.frames_s.clone();
            notes.extend(s.stretches.iter().map(mp4::Stretch::said));
            notes.extend(s.notes.iter().cloned());
        }
        Some(Err(why)) => notes.push(format!("No pictures could be taken from it: {why}.")),
        None => {}
    }
    let report = Report {
        path,
        file: found.facts.as_ref().ok(),
        frames_s,
        notes,
    };
    (serde_json::to_string(&report), found.facts.is_ok())
}

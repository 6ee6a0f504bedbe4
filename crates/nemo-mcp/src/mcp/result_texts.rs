//! What a finished job's text says, one function per kind of result: the file first, then
//! what was done and what it cost, then the next step. The structured content holds the same
//! facts; hosts that give their model only the text (Claude Code for errors, Copilot CLI as
//! one string) lose nothing.

use crate::jobs::results::{
    ExportResult, FileCheck, GenerateResult, RoutedAnswer, UploadResult, VideoResult,
};

fn credits_line(spent: Option<i64>, left: Option<i64>) -> String {
    match (spent, left) {
        (Some(spent), Some(left)) => format!("Credits spent: {spent} ({left} left)."),
        (Some(spent), None) => format!("Credits spent: {spent}."),
        _ => "Credits spent: unknown.".to_string(),
    }
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

pub(super) fn routed_text(r: &RoutedAnswer) -> String {
    format!(
        "{}\nThis was not sent to NemoVideo's AI and nothing was charged. The tool for it: {}.",
        r.answer, r.tool
    )
}

pub(super) fn generate_text(r: &GenerateResult) -> String {
    let spent = credits_line(r.credits_spent, r.credits_left);
    // An edit that changed nothing says so first, with what it still cost.
    let mut t = if !r.changed {
        let mut t = format!("No change was made to the timeline. {spent}");
        if !r.reply.is_empty() {
            t.push_str(&format!("\nNemoVideo's AI replied: \"{}\"", r.reply));
        }
        t.push_str(&format!("\n{}", r.timeline));
        t
    } else {
        let mut t = if r.reply.is_empty() {
            "NemoVideo made the edit without comment.".to_string()
        } else {
            format!("NemoVideo's AI replied: \"{}\"", r.reply)
        };
        t.push_str(&format!(
            "\nWhat changed: {}\n{}\n{spent}",
            r.changes, r.timeline
        ));
        t
    };
    for n in [&r.recovered, &r.notice].into_iter().flatten() {
        t.push_str(&format!("\nNote: {n}"));
    }
    t.push_str(&format!("\nNext: {}", r.next_step));
    t
}

pub(super) fn export_text(r: &ExportResult) -> String {
    let mut t = format!(
        "Video: {} ({:.1} MB) is the MP4, saved.",
        r.path,
        megabytes(r.size_bytes)
    );
    if let Some(link) = &r.project_link {
        t.push_str(&format!("\nOpen the project in a browser: {link}"));
    }
    t.push_str(&file_lines(&r.checked));
    t.push_str(&held_lines(&r.checked));
    t
}

/// What the file was held against and how it differs, one line each (none when nothing was
/// held).
fn held_lines(c: &FileCheck) -> String {
    let (held, differs) = (&c.held, &c.differs);
    let mut t = String::new();
    if !held.is_empty() {
        t.push_str(&format!("\nChecked: {}.", held.join(", ")));
    }
    if !differs.is_empty() {
        t.push_str(&format!(
            "\nDiffers from what was asked: {}.",
            differs.join("; ")
        ));
    }
    t
}

/// What the saved file is, its captions and what its checks found, one line each (the
/// stretches that are `differs` are said there, not twice).
fn file_lines(c: &FileCheck) -> String {
    let differs = &c.differs;
    let (captions, notes) = (&c.captions, &c.notes);
    let mut t = String::new();
    if let Some(f) = &c.file {
        let size = match (f.width, f.height) {
            (Some(w), Some(h)) => format!(", {w}×{h}"),
            _ => String::new(),
        };
        let sound = match (f.audio, f.silent) {
            (true, Some(true)) => "a silent sound track",
            (true, _) => "with sound",
            (false, _) => "no sound track",
        };
        t.push_str(&format!(
            "\nThe file: {:.1} s{size}, {sound}.",
            f.duration_s
        ));
    }
    if !c.frames_s.is_empty() {
        let times: Vec<String> = c.frames_s.iter().map(|s| format!("{s} s")).collect();
        match &c.frames {
            Some(p) => t.push_str(&format!(
                "\nFrames: {p} is an image of the video's frames at {}: open it with your image viewer to see what was made.",
                times.join(", ")
            )),
            None => t.push_str(&format!(
                "\nPictures of the file (the contact sheet): at {}.",
                times.join(", ")
            )),
        }
    }
    if !captions.is_empty() {
        t.push_str(&format!(
            "\nCaptions: {} (SubRip and WebVTT, beside the video).",
            captions.join(", ")
        ));
    }
    for s in &c.stretches {
        let phrase = s.phrase();
        if !differs.iter().any(|d| d.starts_with(&phrase)) {
            t.push_str(&format!("\n{}", s.said()));
        }
    }
    for n in notes {
        t.push_str(&format!("\n{n}"));
    }
    t
}

pub(super) fn upload_text(r: &UploadResult) -> String {
    let mut t = format!(
        "Uploaded {} item(s); the project now has {} media item(s).",
        r.uploaded.len(),
        r.project_media
    );
    if !r.already_present.is_empty() {
        t.push_str(&format!(
            "\nAlready in the project, not sent again: {}",
            r.already_present.join(", ")
        ));
    }
    for rej in &r.rejected {
        t.push_str(&format!("\nNot uploaded: {} ({})", rej.input, rej.reason));
    }
    if let Some(n) = &r.notice {
        t.push_str(&format!("\nNote: {n}"));
    }
    t
}

/// `make_video`'s result: the file first, then what NemoVideo did and what it cost.
pub(super) fn video_text(r: &VideoResult) -> String {
    if !r.variants.is_empty() {
        // A set of variants: its summary lists each version.
        let mut t = r.reply.clone();
        if let Some(n) = &r.notice {
            t.push_str(&format!("\n{n}"));
        }
        t.push_str(&format!("\nNext: {}", r.next_step));
        return t;
    }
    let mut t = match &r.path {
        Some(path) => format!(
            "Made the video. Video: {path} ({:.1} MB) is the MP4, saved.",
            megabytes(r.size_bytes.unwrap_or(0))
        ),
        None => "Made the edit; no MP4 was saved.".to_string(),
    };
    t.push_str(&file_lines(&r.checked));
    if !r.fixed.is_empty() {
        t.push_str(&format!(
            "\nFixed in one more edit: {}.",
            r.fixed.join("; ")
        ));
    }
    t.push_str(&held_lines(&r.checked));
    if !r.reply.is_empty() {
        t.push_str(&format!("\nNemoVideo's AI replied: \"{}\"", r.reply));
    }
    t.push_str(&format!("\nWhat changed: {}\n{}", r.changes, r.timeline));
    if r.uploaded + r.already_present > 0 {
        t.push_str(&format!(
            "\nUploaded {} item(s), {} already in the project.",
            r.uploaded, r.already_present
        ));
    }
    for rej in &r.rejected {
        t.push_str(&format!("\nNot uploaded: {} ({})", rej.input, rej.reason));
    }
    t.push_str(&format!(
        "\n{}",
        credits_line(r.credits_spent, r.credits_left)
    ));
    if let Some(n) = &r.notice {
        t.push_str(&format!("\nNote: {n}"));
    }
    t.push_str(&format!("\nNext: {}", r.next_step));
    t
}

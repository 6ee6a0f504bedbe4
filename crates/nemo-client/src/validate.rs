//! Checks on a local file before anything is sent: accepted extension, content that matches it
//! (magic bytes, so no secret or document can be sent as "media"), size under the limit.

use crate::error::ACCEPTED_EXTENSIONS;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Video,
    Image,
    Audio,
}

/// The kind an extension stands for, if the backend accepts it.
pub fn kind_of_extension(ext: &str) -> Option<MediaKind> {
    Some(match ext.to_ascii_lowercase().as_str() {
        "mp4" | "mov" | "avi" | "webm" | "mkv" => MediaKind::Video,
        "jpg" | "jpeg" | "png" | "gif" | "webp" => MediaKind::Image,
        "mp3" | "wav" | "m4a" | "aac" => MediaKind::Audio,
        _ => return None,
    })
}

/// Whether the first bytes of a file are what its extension says.
pub fn content_matches(ext: &str, head: &[u8]) -> bool {
    let at = |i: usize, m: &[u8]| head.get(i..i + m.len()) == Some(m);
    let riff = |form: &[u8]| at(0, b"RIFF") && at(8, form);
    let iso_bmff = at(4, b"ftyp")
        || at(4, b"moov")
        || at(4, b"mdat")
        || at(4, b"wide")
        || at(4, b"free")
        || at(4, b"skip");
    let mpeg_audio_sync = head.len() >= 2 && head[0] == 0xff && head[1] & 0xe0 == 0xe0;
    match ext.to_ascii_lowercase().as_str() {
        "png" => at(0, b"\x89PNG\r\n\x1a\n"),
        "jpg" | "jpeg" => at(0, &[0xff, 0xd8, 0xff]),
        "gif" => at(0, b"GIF87a") || at(0, b"GIF89a"),
        "webp" => riff(b"WEBP"),
        "mp4" | "mov" | "m4a" => iso_bmff,
        "avi" => riff(b"AVI "),
        "webm" | "mkv" => at(0, &[0x1a, 0x45, 0xdf, 0xa3]),
        "wav" => riff(b"WAVE"),
        "mp3" => at(0, b"ID3") || mpeg_audio_sync,
        "aac" => {
            at(0, b"ADIF")
                || (head.len() >= 2 && head[0] == 0xff && head[1] & 0xf6 == 0xf0)
                || at(0, b"ID3")
        }
        _ => false,
    }
}

/// Why a file cannot be uploaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("no such file")]
    NotFound,
    #[error("not a regular file")]
    NotAFile,
    #[error("the file is empty")]
    Empty,
    #[error("unsupported file type{}: accepted are {}", if ext.is_empty() { String::new() } else { format!(" .{ext}") }, ACCEPTED_EXTENSIONS.join(", "))]
    Unsupported { ext: String },
    #[error("the content is not a .{ext} file (its first bytes do not match the extension)")]
    ContentMismatch { ext: String },
    #[error("too large: {} MB, the limit is {} MB (compress or trim it)", size / 1_048_576, limit / 1_048_576)]
    TooLarge { size: u64, limit: u64 },
    #[error("cannot read it: {0}")]
    Unreadable(String),
}

/// A local file that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub path: PathBuf,
    pub name: String,
    pub size: u64,
    pub kind: MediaKind,
}

/// Check a file (already resolved by the caller's path policy).
pub fn validate_media_file(path: &Path, limit: u64) -> Result<MediaFile, Rejection> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Rejection::NotFound,
        _ => Rejection::Unreadable(e.kind().to_string()),
    })?;
    if !meta.is_file() {
        return Err(Rejection::NotAFile);
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_string();
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let kind = kind_of_extension(&ext).ok_or(Rejection::Unsupported { ext: ext.clone() })?;
    if meta.len() == 0 {
        return Err(Rejection::Empty);
    }
    if meta.len() > limit {
        return Err(Rejection::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut head = [0u8; 16];
    let mut f =
        std::fs::File::open(path).map_err(|e| Rejection::Unreadable(e.kind().to_string()))?;
    let n = f
        .read(&mut head)
        .map_err(|e| Rejection::Unreadable(e.kind().to_string()))?;
    if !content_matches(&ext, &head[..n]) {
        return Err(Rejection::ContentMismatch { ext });
    }
    Ok(MediaFile {
        path: path.to_path_buf(),
        name,
        size: meta.len(),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_for_every_accepted_type() {
        let samples: &[(&str, &[u8])] = &[
            ("png", b"\x89PNG\r\n\x1a\n...."),
            ("jpg", &[0xff, 0xd8, 0xff, 0xe0]),
            ("jpeg", &[0xff, 0xd8, 0xff, 0xdb]),
            ("gif", b"GIF89a.."),
            ("webp", b"RIFF\0\0\0\0WEBPVP8 "),
            ("mp4", b"\0\0\0\x20ftypisom"),
            ("mov", b"\0\0\0\x14ftypqt  "),
            ("m4a", b"\0\0\0\x20ftypM4A "),
            ("avi", b"RIFF\0\0\0\0AVI LIST"),
            ("webm", &[0x1a, 0x45, 0xdf, 0xa3, 1]),
            ("mkv", &[0x1a, 0x45, 0xdf, 0xa3, 1]),
            ("wav", b"RIFF\0\0\0\0WAVEfmt "),
            ("mp3", b"ID3\x04\0"),
            ("aac", &[0xff, 0xf1, 0x50, 0x80]),
        ];
        for ext in ACCEPTED_EXTENSIONS {
            let (_, bytes) = samples
                .iter()
                .find(|(e, _)| e == ext)
                .unwrap_or_else(|| panic!("no sample for {ext}"));
            assert!(content_matches(ext, bytes), "{ext}");
            assert!(
                !content_matches(ext, b"-----BEGIN OPENSSH PRIVATE KEY-----"),
                "{ext}"
            );
            assert!(!content_matches(ext, b"%PDF-1.7"), "{ext}");
        }
        assert!(
            !content_matches("png", &[0xff, 0xd8, 0xff]),
            "a JPEG is not a PNG"
        );
    }

    #[test]
    fn file_checks() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::write(p("a.png"), b"\x89PNG\r\n\x1a\nrest").unwrap();
        std::fs::write(p("key.png"), b"-----BEGIN OPENSSH PRIVATE KEY-----").unwrap();
        std::fs::write(p("empty.png"), b"").unwrap();
        std::fs::write(p("notes.txt"), b"hi").unwrap();
        let ok = validate_media_file(&p("a.png"), 1000).unwrap();
        assert_eq!(
            (ok.name.as_str(), ok.size, ok.kind),
            ("a.png", 12, MediaKind::Image)
        );
        assert_eq!(
            validate_media_file(&p("key.png"), 1000),
            Err(Rejection::ContentMismatch { ext: "png".into() })
        );
        assert_eq!(
            validate_media_file(&p("empty.png"), 1000),
            Err(Rejection::Empty)
        );
        assert_eq!(
            validate_media_file(&p("notes.txt"), 1000),
            Err(Rejection::Unsupported { ext: "txt".into() })
        );
        assert_eq!(
            validate_media_file(&p("a.png"), 5),
            Err(Rejection::TooLarge { size: 12, limit: 5 })
        );
        assert_eq!(
            validate_media_file(&p("none.png"), 5),
            Err(Rejection::NotFound)
        );
        assert_eq!(validate_media_file(dir.path(), 5), Err(Rejection::NotAFile));
    }
}

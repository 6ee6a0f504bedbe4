//! File kinds, header sniffing (image size, video duration) and small helpers for uploads.

/// Extensions the backend accepts (contract §4).
pub const ACCEPTED: &[&str] = &[
    "mp4", "mov", "avi", "webm", "mkv", "jpg", "jpeg", "png", "gif", "webp", "mp3", "wav", "m4a",
    "aac",
];

/// How many leading bytes of an upload are kept for sniffing.
pub const HEAD_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Video,
    Image,
    Audio,
}

impl FileKind {
    pub fn from_name(name: &str) -> Option<FileKind> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "mp4" | "mov" | "avi" | "webm" | "mkv" => FileKind::Video,
            "jpg" | "jpeg" | "png" | "gif" | "webp" => FileKind::Image,
            "mp3" | "wav" | "m4a" | "aac" => FileKind::Audio,
            _ => return None,
        })
    }
    pub fn file_type(self) -> &'static str {
        match self {
            FileKind::Video => "video",
            FileKind::Image => "image",
            FileKind::Audio => "audio",
        }
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct Probe {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_s: Option<f64>,
}

/// What can be read cheaply from the first bytes of a file.
pub fn probe(kind: FileKind, head: &[u8]) -> Probe {
    match kind {
        FileKind::Image => {
            let (width, height) =
                image_size(head).map_or((None, None), |(w, h)| (Some(w), Some(h)));
            Probe {
                width,
                height,
                duration_s: None,
            }
        }
        FileKind::Video => Probe {
            duration_s: mp4_duration(head),
            ..Probe::default()
        },
        FileKind::Audio => Probe::default(),
    }
}

fn be16(b: &[u8], i: usize) -> Option<u32> {
    Some(u16::from_be_bytes(b.get(i..i + 2)?.try_into().ok()?) as u32)
}
fn be32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
}
fn le16(b: &[u8], i: usize) -> Option<u32> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?) as u32)
}
fn le24(b: &[u8], i: usize) -> Option<u32> {
    let s = b.get(i..i + 3)?;
    Some(s[0] as u32 | (s[1] as u32) << 8 | (s[2] as u32) << 16)
}

/// Width and height from a PNG, GIF, JPEG or WebP header.
pub fn image_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((be32(b, 16)?, be32(b, 20)?));
    }
    if b.starts_with(b"GIF8") {
        return Some((le16(b, 6)?, le16(b, 8)?));
    }
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        return match b.get(12..16)? {
            b"VP8X" => Some((le24(b, 24)? + 1, le24(b, 27)? + 1)),
            b"VP8L" => {
                let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
                Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
            }
            b"VP8 " => Some((le16(b, 26)? & 0x3fff, le16(b, 28)? & 0x3fff)),
            _ => None,
        };
    }
    if b.starts_with(&[0xff, 0xd8]) {
        let mut i = 2;
        while i + 9 < b.len() {
            if b[i] != 0xff {
                i += 1;
                continue;
            }
            let marker = b[i + 1];
            let len = be16(b, i + 2)? as usize;
            let is_sof = (0xc0..=0xcf).contains(&marker) && ![0xc4, 0xc8, 0xcc].contains(&marker);
            if is_sof {
                return Some((be16(b, i + 7)?, be16(b, i + 5)?));
            }
            i += 2 + len;
        }
    }
    None
}

/// Duration from an MP4/MOV `mvhd` box, when the `moov` box comes first.
pub fn mp4_duration(b: &[u8]) -> Option<f64> {
    let at = b.windows(4).position(|w| w == b"mvhd")?;
    let version = *b.get(at + 4)?;
    let (timescale, duration) = if version == 1 {
        let ts = be32(b, at + 24)?;
        let d = u64::from_be_bytes(b.get(at + 28..at + 36)?.try_into().ok()?);
        (ts, d)
    } else {
        (be32(b, at + 16)?, be32(b, at + 20)? as u64)
    };
    (timescale > 0).then(|| duration as f64 / timescale as f64)
}

/// Whether the first bytes of a file are what its extension says (the strict simulator refuses a
/// mismatch with 4001, as a backend that probes its media would). Stricter than a client needs
/// to be: an MP4, MOV or M4A must start with an `ftyp` box, as files written by today's tools do.
pub fn content_matches(name: &str, head: &[u8]) -> bool {
    let Some((_, ext)) = name.rsplit_once('.') else {
        return false;
    };
    let at = |i: usize, magic: &[u8]| head.get(i..i + magic.len()) == Some(magic);
    let riff = |form: &[u8]| at(0, b"RIFF") && at(8, form);
    let frame_sync =
        |mask: u8, want: u8| head.len() >= 2 && head[0] == 0xff && head[1] & mask == want;
    match ext.to_ascii_lowercase().as_str() {
        "png" => at(0, b"\x89PNG\r\n\x1a\n"),
        "jpg" | "jpeg" => at(0, &[0xff, 0xd8, 0xff]),
        "gif" => at(0, b"GIF87a") || at(0, b"GIF89a"),
        "webp" => riff(b"WEBP"),
        "mp4" | "mov" | "m4a" => at(4, b"ftyp"),
        "webm" | "mkv" => at(0, &[0x1a, 0x45, 0xdf, 0xa3]),
        "avi" => riff(b"AVI "),
        "wav" => riff(b"WAVE"),
        "mp3" => at(0, b"ID3") || frame_sync(0xe0, 0xe0),
        "aac" => frame_sync(0xf6, 0xf0) || at(0, b"ADIF"),
        _ => false,
    }
}

pub const FNV_OFFSET: u64 = 0xcbf29ce484222325;

/// FNV-1a, continued from `state` (a cheap content hash for the `hash` field).
pub fn fnv1a(bytes: &[u8], mut state: u64) -> u64 {
    for b in bytes {
        state ^= *b as u64;
        state = state.wrapping_mul(0x100000001b3);
    }
    state
}

/// A file name safe to store: no directories, no leading dots, printable characters only.
pub fn sanitize(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = clean.trim_start_matches('.').trim();
    if clean.is_empty() {
        "upload".to_string()
    } else {
        clean.chars().take(120).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_and_gif_sizes() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(image_size(&png), Some((640, 480)));
        let gif = [b'G', b'I', b'F', b'8', b'9', b'a', 0x40, 0x01, 0xf0, 0x00];
        assert_eq!(image_size(&gif), Some((320, 240)));
    }

    #[test]
    fn jpeg_size_from_sof() {
        let jpg = [
            0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01,
            0xe0, 0x02, 0x80, 0x03,
        ];
        assert_eq!(image_size(&jpg), Some((640, 480)));
    }

    #[test]
    fn content_must_match_the_name() {
        assert!(content_matches("a.png", b"\x89PNG\r\n\x1a\n...."));
        assert!(content_matches("a.MP4", b"\0\0\0\x20ftypisom"));
        assert!(!content_matches("a.mp4", b"helofree text, not a video"));
        assert!(!content_matches("a.png", &[0xff, 0xd8, 0xff]));
        assert!(content_matches("a.mp3", b"ID3\x04"));
        assert!(!content_matches("noext", b"ID3"));
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(sanitize("../../etc/passwd"), "passwd");
        assert_eq!(sanitize(".hidden.png"), "hidden.png");
        assert_eq!(sanitize("a b$c.png"), "a b_c.png");
        assert_eq!(sanitize(""), "upload");
        assert_eq!(FileKind::from_name("x.PNG"), Some(FileKind::Image));
        assert_eq!(FileKind::from_name("x.exe"), None);
    }
}

//! Checks on a local file before anything is sent: accepted extension, content that matches it
//! (magic bytes, so no secret or document can be sent as "media"), size under the limit.

use crate::error::ACCEPTED_EXTENSIONS;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// ISO-BMFF brands of real MP4, MOV and M4A files (major or compatible brand in `ftyp`).
const KNOWN_BRANDS: &[&[u8; 4]] = &[
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso8", b"iso9", b"mp41", b"mp42",
    b"mp71", b"avc1", b"avc3", b"hvc1", b"hev1", b"av01", b"M4V ", b"M4VH", b"M4VP", b"M4A ",
    b"M4B ", b"M4P ", b"F4V ", b"F4P ", b"qt  ", b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3gp9",
    b"3g2a", b"3g2b", b"3g2c", b"dash", b"msnv", b"MSNV", b"NDAS", b"mmp4", b"XAVC", b"CAEP",
    b"crx ", b"MiHE", b"MiHB",
];

/// Whether `head` starts with an `ftyp` box naming a known brand (major or compatible).
pub fn is_mp4(head: &[u8]) -> bool {
    if head.get(4..8) != Some(b"ftyp") {
        return false;
    }
    let size = head
        .get(0..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .unwrap_or(0);
    if !(16..=4096).contains(&size) && size != 12 {
        return false;
    }
    let known = |i: usize| {
        head.get(i..i + 4)
            .is_some_and(|b| KNOWN_BRANDS.iter().any(|k| &k[..] == b))
    };
    // The major brand at 8; compatible brands from 16 to the end of the box (as far as read).
    known(8) || (16..size.min(head.len())).step_by(4).any(known)
}

/// An MPEG audio frame header: the sync, then no reserved version, layer, bitrate or rate.
fn is_mpeg_audio_frame(h: &[u8]) -> bool {
    let [a, b, c, ..] = h else { return false };
    *a == 0xff
        && b & 0xe0 == 0xe0
        && (b >> 3) & 3 != 1
        && (b >> 1) & 3 != 0
        && c >> 4 != 0xf
        && (c >> 2) & 3 != 3
}

/// An ADTS (AAC) header: the sync, layer 0, a sampling-rate index that exists.
fn is_adts(h: &[u8]) -> bool {
    let [a, b, c, ..] = h else { return false };
    *a == 0xff && b & 0xf6 == 0xf0 && (c >> 2) & 0xf < 13
}

/// How many bytes of a file's start [`content_matches`] looks at.
pub const HEAD_LEN: usize = 64;

/// Whether the first bytes of a file (up to [`HEAD_LEN`]) are what its extension says.
pub fn content_matches(ext: &str, head: &[u8]) -> bool {
    let at = |i: usize, m: &[u8]| head.get(i..i + m.len()) == Some(m);
    let riff = |form: &[u8]| at(0, b"RIFF") && at(8, form);
    match ext.to_ascii_lowercase().as_str() {
        "png" => at(0, b"\x89PNG\r\n\x1a\n"),
        "jpg" | "jpeg" => at(0, &[0xff, 0xd8, 0xff]),
        "gif" => at(0, b"GIF87a") || at(0, b"GIF89a"),
        "webp" => riff(b"WEBP"),
        "mp4" | "mov" | "m4a" => is_mp4(head),
        "avi" => riff(b"AVI "),
        "webm" | "mkv" => at(0, &[0x1a, 0x45, 0xdf, 0xa3]),
        "wav" => riff(b"WAVE"),
        "mp3" => at(0, b"ID3") || is_mpeg_audio_frame(head),
        "aac" => at(0, b"ADIF") || at(0, b"ID3") || is_adts(head),
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
    #[error("the file changed while it was being checked (it was replaced or is a link)")]
    Changed,
    #[error("cannot read it: {0}")]
    Unreadable(String),
}

/// A local file that passed every check, held open: what is sent is the very file that was
/// checked, read from this handle, whatever happens to the path afterwards.
#[derive(Clone)]
pub struct MediaFile {
    pub path: PathBuf,
    pub name: String,
    pub size: u64,
    pub kind: MediaKind,
    file: Arc<File>,
}

impl std::fmt::Debug for MediaFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaFile")
            .field("path", &self.path)
            .field("size", &self.size)
            .field("kind", &self.kind)
            .finish()
    }
}

impl PartialEq for MediaFile {
    fn eq(&self, o: &Self) -> bool {
        (&self.path, &self.name, self.size, self.kind) == (&o.path, &o.name, o.size, o.kind)
    }
}

impl MediaFile {
    /// `len` bytes of the checked file from `pos`, read by position from the held handle (no
    /// shared offset: an abandoned read of an earlier attempt cannot move a later one).
    /// Blocking.
    pub fn bytes_at(&self, pos: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        let mut done = 0;
        while done < len {
            let n = read_at(&self.file, &mut buf[done..], pos + done as u64)?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file became shorter after it was checked",
                ));
            }
            done += n;
        }
        Ok(buf)
    }

    /// The checked bytes, exactly `size` of them, in chunks read off the async workers.
    pub fn chunks(
        &self,
        chunk: usize,
    ) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
        let (me, size) = (self.clone(), self.size);
        futures_util::stream::try_unfold(0u64, move |pos| {
            let me = me.clone();
            async move {
                if pos >= size {
                    return Ok(None);
                }
                let len = (size - pos).min(chunk as u64) as usize;
                let buf = tokio::task::spawn_blocking(move || me.bytes_at(pos, len))
                    .await
                    .map_err(std::io::Error::other)??;
                Ok(Some((bytes::Bytes::from(buf), pos + len as u64)))
            }
        })
    }
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], pos: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, pos)
}

#[cfg(windows)]
fn read_at(f: &File, buf: &mut [u8], pos: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, pos)
}

/// Hooks for tests that race the file system between the path check and the open.
#[doc(hidden)]
pub mod test_hooks {
    use std::path::Path;
    use std::sync::Mutex;

    type Hook = Box<dyn Fn(&Path) + Send + Sync>;
    pub(crate) static BEFORE_OPEN: Mutex<Option<Hook>> = Mutex::new(None);

    /// Call `hook` with each path just before it is opened (tests only).
    pub fn set_before_open(hook: Option<Hook>) {
        *BEFORE_OPEN.lock().unwrap_or_else(|e| e.into_inner()) = hook;
    }
}

/// Open a file for checking without following a symlink at its last component and without
/// blocking on a FIFO or device (blocking: run it off the async workers).
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    if let Some(hook) = test_hooks::BEFORE_OPEN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
    {
        hook(path);
    }
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    o.open(path)
}

/// Where an open file really is (Linux: `/proc/self/fd`), to catch a folder on the way that
/// was swapped for a link after the path was checked. `None` where it cannot be known.
fn real_path_of(_f: &File) -> Option<PathBuf> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        return std::fs::read_link(format!("/proc/self/fd/{}", _f.as_raw_fd())).ok();
    }
    #[allow(unreachable_code)]
    None
}

/// Check a file (already resolved to a canonical path by the caller's path policy): open it
/// once, check the handle (a regular file, the same path, size, magic bytes), and keep it
/// open for the upload. Blocking: call it off the async workers.
pub fn validate_media_file(path: &Path, limit: u64) -> Result<MediaFile, Rejection> {
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
    let mut file = open_no_follow(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Rejection::NotFound,
        _ if e.raw_os_error() == Some(ELOOP) => Rejection::Changed,
        _ => Rejection::Unreadable(e.kind().to_string()),
    })?;
    let meta = file
        .metadata()
        .map_err(|e| Rejection::Unreadable(e.kind().to_string()))?;
    if !meta.is_file() {
        return Err(Rejection::NotAFile);
    }
    if real_path_of(&file).is_some_and(|real| real != path) {
        return Err(Rejection::Changed);
    }
    if meta.len() == 0 {
        return Err(Rejection::Empty);
    }
    if meta.len() > limit {
        return Err(Rejection::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut head = [0u8; HEAD_LEN];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Rejection::Unreadable(e.kind().to_string())),
        }
    }
    if !content_matches(&ext, &head[..n]) {
        return Err(Rejection::ContentMismatch { ext });
    }
    Ok(MediaFile {
        path: path.to_path_buf(),
        name,
        size: meta.len(),
        kind,
        file: Arc::new(file),
    })
}

#[cfg(unix)]
const ELOOP: i32 = libc::ELOOP;
#[cfg(not(unix))]
const ELOOP: i32 = -1;

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
        // Text that happens to spell a box name at 4..8 is not a video.
        for fake in [
            &b"seesfree-text, not a video"[..],
            b"abcdmoov...",
            b"\0\0\0\x20ftypTEXTnotabrand.....",
        ] {
            assert!(!content_matches("mp4", fake), "{fake:?}");
        }
        // A major brand we do not know, with a known compatible brand, is a video.
        assert!(content_matches("mp4", b"\0\0\0\x18ftypXYZW\0\0\0\0isom"));
        // Two 0xff bytes are not an MP3 frame; a real header is.
        assert!(!content_matches("mp3", &[0xff, 0xff, 0xff, 0xff]));
        assert!(content_matches("mp3", &[0xff, 0xfb, 0x90, 0x64]));
        assert!(!content_matches("aac", &[0xff, 0xf1, 0xfc, 0x80]));
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
        std::fs::create_dir(p("folder.png")).unwrap();
        assert_eq!(
            validate_media_file(&p("folder.png"), 5),
            Err(Rejection::NotAFile)
        );
        #[cfg(unix)]
        {
            // A link is not followed, and a FIFO neither blocks nor passes.
            std::os::unix::fs::symlink(p("a.png"), p("link.png")).unwrap();
            assert_eq!(
                validate_media_file(&p("link.png"), 1000),
                Err(Rejection::Changed)
            );
            let fifo = std::ffi::CString::new(p("pipe.png").to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
            assert_eq!(
                validate_media_file(&p("pipe.png"), 1000),
                Err(Rejection::NotAFile)
            );
        }
        // What is sent is the checked file, even once the path names another.
        let held = validate_media_file(&p("a.png"), 1000).unwrap();
        std::fs::rename(p("key.png"), p("a.png")).unwrap();
        assert_eq!(held.bytes_at(0, 12).unwrap(), b"\x89PNG\r\n\x1a\nrest");
    }
}

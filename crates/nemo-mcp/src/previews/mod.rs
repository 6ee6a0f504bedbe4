//! Previews without the player view, for hosts that show images and for the model itself:
//! a storyboard of the timeline (`get_timeline {storyboard: true}`), a poster frame on an
//! export's result, and the thumbnails the player view shows in its timeline lanes.
//!
//! Everything is made here from the media this server uploaded (the backend's draft is opaque
//! beyond track kinds, times and labels, so a segment is matched to an upload by its label):
//! images need nothing else; a frame of an H.264 MP4 is decoded in-process (`frames`, OpenH264
//! built into the binary), and `ffmpeg` on PATH is used only for what that cannot read (other
//! codecs, other containers). The export's contact sheet (`contact_sheet`) is made the same way.

mod black;
mod cache;
/// The 5×7 bitmap font shared with the simulator's renderer (which draws video titles with it).
use nemo_sim::font;
pub mod contact_sheet;
pub(crate) mod frames;
pub mod poster;
mod quiet;
pub mod storyboard;

use crate::jobs::JobManager;
use image::RgbImage;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The local files this server uploaded, by file name (lower case, with and without extension).
#[derive(Debug, Default, Clone)]
pub struct LocalMedia {
    by_name: HashMap<String, PathBuf>,
}

impl LocalMedia {
    /// From the upload jobs this server knows (newest first: a newer upload of a name wins).
    /// A path is taken only through `policy`, as `upload_media` would take it: the journal is
    /// shared by hosts allowed other folders, and a preview never opens a file this process
    /// could not upload.
    pub fn of(jobs: &JobManager, policy: &crate::files::paths::InputPolicy) -> LocalMedia {
        let mut media = LocalMedia::default();
        for job in jobs.list().iter().rev() {
            let Some(result) = job.upload_result() else {
                continue;
            };
            for item in &result.uploaded {
                let path = Path::new(&item.input);
                if !path.is_absolute() {
                    continue;
                }
                if let Ok(allowed) = crate::files::paths::resolve_input(&item.input, policy) {
                    media.add(&allowed, item.filename.as_deref());
                }
            }
        }
        media
    }

    pub fn add(&mut self, path: &Path, backend_name: Option<&str>) {
        let own = path.file_name().map(|n| n.to_string_lossy().to_string());
        for name in own.iter().map(String::as_str).chain(backend_name) {
            let name = name.to_lowercase();
            if let Some((stem, _)) = name.rsplit_once('.') {
                self.by_name.insert(stem.to_string(), path.to_path_buf());
            }
            self.by_name.insert(name, path.to_path_buf());
        }
    }

    /// The file a segment label names, if this server uploaded it and it is still there.
    pub fn find(&self, label: &str) -> Option<&Path> {
        let path = self.by_name.get(&label.trim().to_lowercase())?;
        path.is_file().then_some(path.as_path())
    }
}

/// What a file is, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// An image this server decodes itself.
    Image,
    /// A video: a frame needs ffmpeg.
    Video,
    Other,
}

pub fn kind_of(path: &Path) -> MediaKind {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" | "png" => MediaKind::Image,
        "mp4" | "mov" | "m4v" | "webm" | "mkv" | "avi" => MediaKind::Video,
        _ => MediaKind::Other,
    }
}

/// `ffmpeg` on PATH, if there is one.
pub fn ffmpeg() -> Option<PathBuf> {
    ffmpeg_on(&std::env::var_os("PATH")?)
}

/// `ffmpeg` in the absolute folders of `path`. An empty entry or a relative one (`.`) names
/// the working directory, which editor hosts set to the open workspace: an `ffmpeg` planted
/// there must never run.
fn ffmpeg_on(path: &std::ffi::OsStr) -> Option<PathBuf> {
    let name = if cfg!(windows) {
        "ffmpeg.exe"
    } else {
        "ffmpeg"
    };
    std::env::split_paths(path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A command for the `ffmpeg` at `program`, with an environment of its own: nothing of ours
/// (`NEMO_TOKEN`, proxy passwords, the host's secrets) is passed on. Only what a decoder may
/// need: the locale, a temporary folder, and on Windows the system's own variables.
pub fn ffmpeg_command(program: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    cmd.env_clear();
    for key in [
        "LANG",
        "LC_ALL",
        "TMPDIR",
        "TMP",
        "TEMP",
        "SYSTEMROOT",
        "WINDIR",
    ] {
        if let Some(v) = std::env::var_os(key) {
            cmd.env(key, v);
        }
    }
    cmd
}

/// An image shrunk to fit inside `w`×`h` (aspect kept), cached by file, size and time written:
/// a storyboard asked for twice decodes nothing the second time.
pub fn shrunk(path: &Path, w: u32, h: u32) -> Option<RgbImage> {
    static SHRUNK: cache::ByFile<(u32, u32), RgbImage> = cache::ByFile::new(256);
    SHRUNK.get_or_make(path, (w, h), || {
        Some(match jpeg_scaled(path, w, h) {
            Some(small) => image::DynamicImage::ImageRgb8(small)
                .thumbnail(w, h)
                .to_rgb8(),
            None => image::ImageReader::open(path)
                .ok()?
                .with_guessed_format()
                .ok()?
                .decode()
                .ok()?
                .thumbnail(w, h)
                .to_rgb8(),
        })
    })
}

/// A JPEG decoded at the smallest of 1/8, 1/4, 1/2 or full size that still covers `w`×`h`:
/// the decoder skips most of the work (a 1080p photo for a 192-pixel tile decodes at 1/8 in
/// about a tenth of the time). `None` for a file that is not a baseline/progressive JPEG in a
/// colour model this handles (the general decoder takes it then).
fn jpeg_scaled(path: &Path, w: u32, h: u32) -> Option<RgbImage> {
    use jpeg_decoder::PixelFormat;
    let file = std::io::BufReader::new(std::fs::File::open(path).ok()?);
    let mut d = jpeg_decoder::Decoder::new(file);
    d.read_info().ok()?;
    let want = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
    let (sw, sh) = d.scale(want(w), want(h)).ok()?;
    let pixels = d.decode().ok()?;
    let format = d.info()?.pixel_format;
    let rgb: Vec<u8> = match format {
        PixelFormat::RGB24 => pixels,
        PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        _ => return None,
    };
    RgbImage::from_raw(u32::from(sw), u32::from(sh), rgb)
}

/// A thumbnail of an uploaded image the label names, as JPEG (the player view's timeline).
pub fn thumbnail(media: &LocalMedia, label: &str) -> Option<Vec<u8>> {
    let path = media.find(label)?;
    if kind_of(path) != MediaKind::Image {
        return None;
    }
    jpeg(&shrunk(path, 96, 54)?, 75)
}

/// JPEG bytes of an image.
pub fn jpeg(img: &RgbImage, quality: u8) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_find_uploaded_files_by_name_with_or_without_extension() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("Shoe.PNG");
        std::fs::write(&p, b"x").unwrap();
        let mut m = LocalMedia::default();
        m.add(&p, Some("shoe_1.png"));
        assert_eq!(m.find("shoe.png"), Some(p.as_path()));
        assert_eq!(m.find("Shoe"), Some(p.as_path()));
        assert_eq!(m.find("shoe_1"), Some(p.as_path()));
        assert_eq!(m.find("other"), None);
        std::fs::remove_file(&p).unwrap();
        assert_eq!(m.find("shoe.png"), None, "a file gone is not found");
    }

    #[cfg(unix)]
    #[test]
    fn ffmpeg_is_looked_for_in_absolute_folders_only_and_gets_no_secrets() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let planted = dir.path().join("ffmpeg");
        std::fs::write(&planted, "#!/bin/sh\nenv\n").unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The planted folder named relatively to the working directory (as `.` names it).
        let here = std::env::current_dir().unwrap();
        let up = "../".repeat(here.components().count().saturating_sub(1));
        let relative = format!(
            "{up}{}",
            dir.path().display().to_string().trim_start_matches('/')
        );
        assert!(std::path::Path::new(&relative).join("ffmpeg").is_file());
        let found = ffmpeg_on(std::ffi::OsStr::new(&format!(":.:{relative}")));
        assert_eq!(
            found, None,
            "relative folders (and the working directory) are never searched"
        );
        let found = ffmpeg_on(&std::env::join_paths([dir.path()]).unwrap());
        assert_eq!(found.as_deref(), Some(planted.as_path()));
        // What it is run with: none of our environment.
        let out = ffmpeg_command(&planted)
            .env_remove("LANG")
            .output()
            .unwrap();
        let env = String::from_utf8_lossy(&out.stdout);
        assert!(!env.contains("NEMO_") && !env.contains("PATH=/"), "{env}");
    }
}

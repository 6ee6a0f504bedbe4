//! Frames from videos with `ffmpeg` (when it is on PATH): an export's poster, a video segment's
//! storyboard tile. Bounded: a frame that takes longer than [`LIMIT`] is given up.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(10);
/// The poster's width in pixels (its height follows the video's shape).
pub const POSTER_WIDTH: u32 = 320;

/// One frame at `at_s` seconds (or the first, for a shorter video), `width` pixels wide, as PNG.
pub fn frame(ffmpeg: &Path, video: &Path, width: u32, at_s: f64) -> Option<Vec<u8>> {
    grab(ffmpeg, video, width, at_s, "png")
}

/// A small JPEG poster of an exported video: a frame a second in (the first frames are often a
/// fade from black). Made once per file (by path, size and time written): every later answer
/// about the same export reuses it instead of running ffmpeg again.
pub fn poster(ffmpeg: &Path, video: &Path, duration_s: Option<f64>) -> Option<Vec<u8>> {
    static POSTERS: super::cache::ByFile<(), Vec<u8>> = super::cache::ByFile::new(64);
    POSTERS.get_or_make(video, (), || {
        let at = duration_s.map_or(1.0, |d| (d / 10.0).clamp(0.0, 1.0));
        grab(ffmpeg, video, POSTER_WIDTH, at, "mjpeg")
    })
}

fn grab(ffmpeg: &Path, video: &Path, width: u32, at_s: f64, codec: &str) -> Option<Vec<u8>> {
    let mut child = super::ffmpeg_command(ffmpeg)
        .args([
            "-nostdin",
            "-v",
            "error",
            "-ss",
            &format!("{at_s:.2}"),
            "-i",
        ])
        .arg(video)
        .args(["-frames:v", "1", "-vf", &format!("scale={width}:-2")])
        .args(["-q:v", "5", "-f", "image2pipe", "-vcodec", codec, "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut out = Vec::new();
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout
            .by_ref()
            .take(4 * 1024 * 1024)
            .read_to_end(&mut buf)
            .map(|_| buf)
    });
    let started = Instant::now();
    let ok = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.success(),
            Ok(None) if started.elapsed() < LIMIT => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
        }
    };
    if let Ok(Ok(bytes)) = reader.join() {
        out = bytes;
    }
    (ok && !out.is_empty()).then_some(out)
}

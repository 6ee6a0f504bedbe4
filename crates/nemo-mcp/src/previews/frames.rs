//! Pictures of an MP4, decoded in this process: the file's own H.264 keyframes through OpenH264
//! (built from source into the binary), so nothing needs `ffmpeg`. Only keyframes are decoded:
//! each stands alone, so a picture costs one decode wherever it lies in the file, and a sheet
//! of a long video costs the same as a short one's.

use crate::files::mp4::{Sample, VideoTrack};
use image::{Rgb, RgbImage};
use openh264::decoder::Decoder;
use openh264::formats::YUVSource;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The largest coded picture read (a 4K keyframe at a high bitrate is a few megabytes; a 1080p picture stored raw, 3 MB).
const MAX_PICTURE: u32 = 8 * 1024 * 1024;
/// The side of the luma grid kept per picture to compare pictures with each other.
pub const GRID: (u32, u32) = (32, 18);

/// One decoded picture, shrunk.
#[derive(Debug, Clone)]
pub struct Picture {
    /// When it shows, in seconds.
    pub at_s: f64,
    /// The picture at the asked width (its height follows the video's shape).
    pub image: RgbImage,
    /// Mean and spread of its brightness (luma, 0–255), over the whole picture.
    pub luma_mean: f64,
    pub luma_spread: f64,
    /// Its brightness on a coarse grid ([`GRID`]), to tell whether two pictures differ.
    pub grid: Vec<u8>,
}

impl Picture {
    /// Black (or nearly): dark everywhere, with hardly any detail.
    pub fn is_black(&self) -> bool {
        black(self.luma_mean, self.luma_spread)
    }

    /// Two pictures show the same thing (mean brightness difference on the grid under 2 of 255).
    pub fn same_as(&self, other: &Picture) -> bool {
        let diff: u64 = self
            .grid
            .iter()
            .zip(&other.grid)
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        (diff as f64) < 2.0 * self.grid.len().max(1) as f64
    }
}

/// A picture of this mean brightness and spread is black (or nearly): dark everywhere, with
/// hardly any detail.
fn black(luma_mean: f64, luma_spread: f64) -> bool {
    luma_mean < 28.0 && luma_spread < 8.0
}

/// Decode `keys` (keyframes of `track`, from the file at `path`) to pictures `width` wide.
/// A keyframe that does not decode is left out; the reason for the first is returned with the
/// pictures that did.
pub fn decode(
    path: &Path,
    track: &VideoTrack,
    keys: &[Sample],
    width: u32,
) -> Result<(Vec<Picture>, Option<String>), String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut decoder = Decoder::new().map_err(|e| format!("the decoder did not start: {e}"))?;
    let mut pictures = Vec::new();
    let mut first_problem = None;
    for key in keys {
        match decode_one(&mut file, len, &mut decoder, track, key, width) {
            Ok(p) => pictures.push(p),
            Err(why) => {
                first_problem.get_or_insert(why);
            }
        }
    }
    Ok((pictures, first_problem))
}

fn decode_one(
    file: &mut std::fs::File,
    len: u64,
    decoder: &mut Decoder,
    track: &VideoTrack,
    key: &Sample,
    width: u32,
) -> Result<Picture, String> {
    let at_s = track.seconds(key);
    if key.size > MAX_PICTURE || key.offset.saturating_add(u64::from(key.size)) > len {
        return Err(format!(
            "the picture at {at_s:.1} s lies past the end of the file (cut short?)"
        ));
    }
    let mut coded = vec![0u8; key.size as usize];
    file.seek(SeekFrom::Start(key.offset))
        .and_then(|_| file.read_exact(&mut coded))
        .map_err(|e| format!("the picture at {at_s:.1} s cannot be read: {e}"))?;
    let stream = track.annex_b(&coded)?;
    let yuv = decoder
        .decode(&stream)
        .map_err(|e| format!("the picture at {at_s:.1} s does not decode: {e}"))?
        .ok_or_else(|| format!("the picture at {at_s:.1} s gave no image"))?;
    Ok(shrink(&yuv, at_s, width))
}

/// What decoding forward from a keyframe may still spend: macroblocks decoded (the work, in
/// the same units whatever the picture size: a 1080p picture is 8,160) and bytes read (a
/// picture's size is the file's word). Counted, never timed, so the same file always gets
/// the same answer; the caller bounds the whole file with one.
#[derive(Debug, Clone, Copy)]
pub struct RunBudget {
    pub macroblocks: u64,
    pub bytes: u64,
}

impl RunBudget {
    /// Whether a picture of `size` bytes and `macroblocks` may be decoded (and if so, counted).
    pub fn spend(&mut self, size: u32, macroblocks: u64) -> bool {
        let ok = self.macroblocks >= macroblocks && self.bytes >= u64::from(size);
        if ok {
            self.macroblocks -= macroblocks;
            self.bytes -= u64::from(size);
        }
        ok
    }
}

/// Decode forward from the keyframe at `from` (its index in `track.samples`, which are in
/// decoding order) to the next keyframe, handing each picture, in the order they show, to
/// `seen` (when it shows, in seconds, and whether it is black) until `seen` returns false or
/// `budget` runs out. Whether the budget lasted (every picture decoded, or `seen` stopped the
/// run); a picture that does not decode ends the run with its reason.
pub fn run(
    path: &Path,
    track: &VideoTrack,
    from: usize,
    budget: &mut RunBudget,
    mut seen: impl FnMut(f64, bool) -> bool,
) -> Result<bool, String> {
    use openh264::decoder::{DecoderConfig, Flush};
    let end = track
        .samples
        .iter()
        .enumerate()
        .skip(from + 1)
        .find(|(_, s)| s.sync)
        .map_or(track.samples.len(), |(i, _)| i);
    let group = track.samples.get(from..end).unwrap_or_default();
    // A decoder hands pictures out in the order they show: the k-th out is the k-th time.
    let mut times: Vec<f64> = group.iter().map(|s| track.seconds(s)).collect();
    times.sort_by(f64::total_cmp);
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
    let mut decoder = Decoder::with_api_config(openh264::OpenH264API::from_source(), config)
        .map_err(|e| format!("the decoder did not start: {e}"))?;
    // Before a decoder has said so, the picture's size from its parameter set (which
    // `annex_b` holds to the largest decoded).
    let per_picture = track.picture_macroblocks();
    let mut shown = 0usize;
    let mut look = |yuv: &dyn YUVSource| -> bool {
        let Some(at_s) = times.get(shown).copied() else {
            return false;
        };
        shown += 1;
        let (w, h) = yuv.dimensions();
        let (mean, spread) = luma_stats(yuv.y(), yuv.strides().0, w, h);
        seen(at_s, black(mean, spread))
    };
    for sample in group {
        if !budget.spend(sample.size, per_picture) {
            return Ok(false);
        }
        let at_s = track.seconds(sample);
        if sample.size > MAX_PICTURE || sample.offset.saturating_add(u64::from(sample.size)) > len {
            return Err(format!(
                "the picture at {at_s:.1} s lies past the end of the file"
            ));
        }
        let mut coded = vec![0u8; sample.size as usize];
        file.seek(SeekFrom::Start(sample.offset))
            .and_then(|_| file.read_exact(&mut coded))
            .map_err(|e| format!("the picture at {at_s:.1} s cannot be read: {e}"))?;
        let stream = track.annex_b(&coded)?;
        let out = decoder
            .decode(&stream)
            .map_err(|e| format!("the picture at {at_s:.1} s does not decode: {e}"))?;
        if let Some(yuv) = out {
            if !look(&yuv) {
                return Ok(true);
            }
        }
    }
    let rest = decoder
        .flush_remaining()
        .map_err(|e| format!("the last pictures do not decode: {e}"))?;
    for yuv in &rest {
        if !look(yuv) {
            break;
        }
    }
    Ok(true)
}

/// Shrink a decoded picture by averaging boxes of its pixels (no aliasing on fine detail), and
/// measure its brightness on the way.
fn shrink(yuv: &impl YUVSource, at_s: f64, width: u32) -> Picture {
    let (w, h) = yuv.dimensions();
    let (ys, us, _) = yuv.strides();
    let (y, u, v) = (yuv.y(), yuv.u(), yuv.v());
    let out_w = width.clamp(1, w.max(1) as u32);
    let out_h = ((h as u64 * u64::from(out_w)) / (w.max(1) as u64)).max(1) as u32;
    let mut image = RgbImage::new(out_w, out_h);
    let px = |plane: &[u8], stride: usize, x: usize, y: usize| -> u32 {
        u32::from(plane.get(y * stride + x).copied().unwrap_or(0))
    };
    for oy in 0..out_h {
        let y0 = oy as usize * h / out_h as usize;
        let y1 = ((oy as usize + 1) * h / out_h as usize).max(y0 + 1);
        for ox in 0..out_w {
            let x0 = ox as usize * w / out_w as usize;
            let x1 = ((ox as usize + 1) * w / out_w as usize).max(x0 + 1);
            // Luma averaged over the box (every other row and column: plenty for a thumbnail);
            // chroma from the box's middle.
            let (mut sum, mut n) = (0u32, 0u32);
            for sy in (y0..y1).step_by(2) {
                for sx in (x0..x1).step_by(2) {
                    sum += px(y, ys, sx, sy);
                    n += 1;
                }
            }
            let luma = sum as f32 / n.max(1) as f32;
            let (cx, cy) = ((x0 + x1) / 4, (y0 + y1) / 4);
            let cb = px(u, us, cx, cy) as f32 - 128.0;
            let cr = px(v, us, cx, cy) as f32 - 128.0;
            image.put_pixel(ox, oy, rgb(luma, cb, cr));
        }
    }
    let (luma_mean, luma_spread) = luma_stats(y, ys, w, h);
    Picture {
        at_s,
        grid: grid(y, ys, w, h),
        image,
        luma_mean,
        luma_spread,
    }
}

/// BT.601 limited range, as H.264 renders are.
pub(super) fn rgb(y: f32, cb: f32, cr: f32) -> Rgb<u8> {
    let c = 1.164 * (y - 16.0);
    let px = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    Rgb([
        px(c + 1.596 * cr),
        px(c - 0.392 * cb - 0.813 * cr),
        px(c + 2.017 * cb),
    ])
}

/// Mean and standard deviation of the luma, from every 4th pixel of every 4th row.
fn luma_stats(y: &[u8], stride: usize, w: usize, h: usize) -> (f64, f64) {
    let (mut sum, mut sq, mut n) = (0f64, 0f64, 0f64);
    for row in (0..h).step_by(4) {
        for col in (0..w).step_by(4) {
            let v = f64::from(y.get(row * stride + col).copied().unwrap_or(0));
            sum += v;
            sq += v * v;
            n += 1.0;
        }
    }
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let mean = sum / n;
    (mean, (sq / n - mean * mean).max(0.0).sqrt())
}

/// The luma sampled on a [`GRID`].
fn grid(y: &[u8], stride: usize, w: usize, h: usize) -> Vec<u8> {
    let (gw, gh) = GRID;
    let mut out = Vec::with_capacity((gw * gh) as usize);
    for gy in 0..gh as usize {
        for gx in 0..gw as usize {
            let (cx, cy) = (
                (2 * gx + 1) * w / (2 * gw as usize),
                (2 * gy + 1) * h / (2 * gh as usize),
            );
            out.push(y.get(cy * stride + cx).copied().unwrap_or(0));
        }
    }
    out
}

/// The picture shown at `at_s` (from the keyframe it starts from), `width` wide: a video
/// segment's storyboard tile.
pub fn at(path: &Path, at_s: f64, width: u32) -> Option<RgbImage> {
    let track = crate::files::mp4::Mp4File::open(path)
        .and_then(|f| f.video_track())
        .ok()?;
    let keys = track.keyframes();
    let key = keys
        .iter()
        .rev()
        .find(|k| track.seconds(k) <= at_s)
        .or(keys.first())?;
    let (mut pictures, _) = decode(path, &track, &[*key], width).ok()?;
    pictures.pop().map(|p| p.image)
}

//! The contact sheet of a saved video: six pictures of the file itself, each labelled with its
//! time, in one small JPEG, so the model (in hosts that pass images) sees what it made; and
//! what the pictures show that a person would want to know before sharing: black stretches,
//! a picture that does not change. Decoded in-process ([`super::frames`]); no ffmpeg.

use super::frames::{self, Picture};
use super::{cache, font, jpeg};
use crate::files::mp4::{Mp4File, Sample, Stretch, StretchKind, VideoTrack};
use crate::support::clock;
use image::{Rgb, RgbImage};
use std::path::Path;

const COLUMNS: u32 = 3;
const ROWS: u32 = 2;
/// Pictures shown.
pub const SHOWN: usize = (COLUMNS * ROWS) as usize;
/// Pictures looked at for black and unchanging stretches (the shown ones among them).
const LOOKED: usize = 12;
const TILE_W: u32 = 256;
/// The sheet's JPEG never exceeds this (hosts put it into the model's context).
pub const MAX_BYTES: usize = 150 * 1024;
/// A picture unchanged for this long is said (a still photo is held for a few seconds).
const FROZEN_S: f64 = 10.0;

/// A sheet and what its pictures showed.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactSheet {
    pub jpeg: Vec<u8>,
    /// The times (seconds) of the pictures shown, left to right, top to bottom.
    pub frames_s: Vec<f64>,
    /// Black or unchanging stretches, in the order they come.
    pub stretches: Vec<Stretch>,
    /// What could not be seen (pictures that could not be decoded), as sentences.
    pub notes: Vec<String>,
}

/// The contact sheet of the MP4 at `path` (made once per file as it is: later calls reuse it).
pub fn of(path: &Path) -> Result<ContactSheet, String> {
    cached(path, || make(&Mp4File::open(path)?))
}

/// The contact sheet of an MP4 already opened (its `moov` read once for all its checks).
pub fn of_file(file: &Mp4File) -> Result<ContactSheet, String> {
    cached(file.path(), || make(file))
}

fn cached(
    path: &Path,
    make: impl FnOnce() -> Result<ContactSheet, String>,
) -> Result<ContactSheet, String> {
    static SHEETS: cache::ByFile<(), ContactSheet> = cache::ByFile::new(32);
    let mut why = None;
    SHEETS
        .get_or_make(path, (), || make().map_err(|e| why = Some(e)).ok())
        .ok_or_else(|| why.unwrap_or_else(|| "it cannot be read".into()))
}

/// The contact sheet of `file`, made now.
pub fn make(file: &Mp4File) -> Result<ContactSheet, String> {
    make_within(file, super::black::budget())
}

/// The same, looking closer at black within `budget`.
pub(super) fn make_within(
    file: &Mp4File,
    mut budget: super::frames::RunBudget,
) -> Result<ContactSheet, String> {
    let path = file.path();
    let track = file.video_track()?;
    let keys = track.keyframes();
    let duration = track
        .samples
        .iter()
        .map(|s| track.seconds(s))
        .fold(0.0, f64::max);
    let looked = spread(&track, &keys, duration, LOOKED);
    let (pictures, problem) = frames::decode(path, &track, &looked, TILE_W)?;
    if pictures.is_empty() {
        return Err(problem.unwrap_or_else(|| "it has no keyframe".into()));
    }
    let shown = spread_pictures(&pictures, duration, SHOWN);
    let mut found = stretches(&pictures, duration);
    // Black the keyframes looked at do not show: looked at closer, within one budget.
    let lone = super::black::closer(path, &track, &keys, &pictures, duration, &mut budget);
    found.extend(lone);
    let between = super::quiet::scan(path, &track, duration, &found, &mut budget);
    found.extend(between);
    let found = merged(found);
    let notes: Vec<String> = problem
        .map(|p| format!("Some pictures could not be decoded: {p}."))
        .into_iter()
        .collect();
    let sheet = compose(&shown);
    let jpeg = [70u8, 55, 40]
        .into_iter()
        .filter_map(|q| jpeg(&sheet, q))
        .find(|j| j.len() <= MAX_BYTES)
        .ok_or("the contact sheet did not fit its size")?;
    Ok(ContactSheet {
        jpeg,
        frames_s: shown.iter().map(|p| round1(p.at_s)).collect(),
        stretches: found,
        notes,
    })
}

fn round1(s: f64) -> f64 {
    (s * 10.0).round() / 10.0
}

/// About `n` keyframes spread over the video: for each of `n` evenly spaced times, the last
/// keyframe at or before it (pictures shown then come from it), each keyframe once.
fn spread(track: &VideoTrack, keys: &[Sample], duration: f64, n: usize) -> Vec<Sample> {
    let mut out: Vec<Sample> = Vec::new();
    for i in 0..n {
        let t = duration * (i as f64 + 0.5) / n as f64;
        let k = keys
            .iter()
            .rev()
            .find(|k| track.seconds(k) <= t + 1e-6)
            .or(keys.first());
        if let Some(k) = k {
            if !out.iter().any(|o| o.offset == k.offset) {
                out.push(*k);
            }
        }
    }
    out
}

/// `n` of the decoded pictures, spread over the video the same way.
fn spread_pictures(pictures: &[Picture], duration: f64, n: usize) -> Vec<Picture> {
    let mut out: Vec<Picture> = Vec::new();
    for i in 0..n {
        let t = duration * (i as f64 + 0.5) / n as f64;
        let nearest = pictures.iter().min_by(|a, b| {
            (a.at_s - t)
                .abs()
                .partial_cmp(&(b.at_s - t).abs())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        if let Some(p) = nearest {
            if !out.iter().any(|o| o.at_s == p.at_s) {
                out.push(p.clone());
            }
        }
    }
    out.sort_by(|a, b| {
        a.at_s
            .partial_cmp(&b.at_s)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    out
}

/// Black stretches (two or more black pictures in a row; a lone one is looked at closer, in
/// [`super::black`]) and a picture
/// that does not change for [`FROZEN_S`] or more, in the order they come.
fn stretches(pictures: &[Picture], duration: f64) -> Vec<Stretch> {
    let mut notes = Vec::new();
    let end_of = |i: usize| pictures.get(i + 1).map_or(duration, |p| p.at_s);
    let runs = |same: &dyn Fn(&Picture, &Picture) -> bool, mark: &dyn Fn(&Picture) -> bool| {
        let mut out = Vec::new();
        let mut i = 0;
        while i < pictures.len() {
            if !mark(&pictures[i]) {
                i += 1;
                continue;
            }
            let mut j = i;
            while j + 1 < pictures.len()
                && mark(&pictures[j + 1])
                && same(&pictures[j], &pictures[j + 1])
            {
                j += 1;
            }
            out.push((i, j));
            i = j + 1;
        }
        out
    };
    for (i, j) in runs(&|_, _| true, &|p| p.is_black()) {
        if j > i {
            notes.push(Stretch::new(
                StretchKind::Black,
                pictures[i].at_s,
                end_of(j),
            ));
        }
    }
    for (i, j) in runs(&|a, b| a.same_as(b), &|p| !p.is_black()) {
        let (from, to) = (pictures[i].at_s, end_of(j));
        if j > i && to - from >= FROZEN_S.min(duration * 0.9) {
            notes.push(Stretch::new(StretchKind::Still, from, to));
        }
    }
    notes
}

/// The stretches in the order they come, black ones that overlap or touch made one.
fn merged(mut found: Vec<Stretch>) -> Vec<Stretch> {
    found.sort_by(|a, b| a.from_s.total_cmp(&b.from_s));
    let mut out: Vec<Stretch> = Vec::with_capacity(found.len());
    for s in found {
        match out
            .iter_mut()
            .rev()
            .find(|o| o.kind == StretchKind::Black && s.kind == StretchKind::Black)
        {
            Some(o) if s.from_s <= o.to_s + 0.05 => o.to_s = o.to_s.max(s.to_s),
            _ => out.push(s),
        }
    }
    out
}

/// The pictures in a grid, each with its time in its corner.
fn compose(pictures: &[Picture]) -> RgbImage {
    let tile_h = pictures
        .iter()
        .map(|p| p.image.height())
        .max()
        .unwrap_or(144)
        .min(TILE_W * 2);
    let cols = COLUMNS.min(pictures.len().max(1) as u32);
    let rows = (pictures.len() as u32).div_ceil(cols).max(1);
    let gap = 4;
    let mut sheet = RgbImage::from_pixel(
        cols * TILE_W + (cols + 1) * gap,
        rows * tile_h + (rows + 1) * gap,
        Rgb([17, 24, 39]),
    );
    for (i, p) in pictures.iter().enumerate() {
        let (c, r) = (i as u32 % cols, i as u32 / cols);
        let (x, y) = (gap + c * (TILE_W + gap), gap + r * (tile_h + gap));
        image::imageops::replace(&mut sheet, &p.image, i64::from(x), i64::from(y));
        let label = clock(p.at_s);
        let w = label.len() as u32 * 12 + 6;
        for yy in y + tile_h.saturating_sub(20)..y + tile_h {
            for xx in x..(x + w).min(x + TILE_W) {
                if let Some(px) = sheet.get_pixel_mut_checked(xx, yy) {
                    *px = Rgb([0, 0, 0]);
                }
            }
        }
        font::draw(
            &mut sheet,
            &label,
            x + 4,
            y + tile_h.saturating_sub(17),
            2,
            Rgb([255, 255, 255]),
        );
    }
    sheet
}

#[cfg(test)]
mod tests {
    use super::*;
    use nemo_sim::mp4::{encode, Scene};

    fn write(scenes: &[([u8; 3], u64)]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.mp4");
        let scenes: Vec<Scene> = scenes
            .iter()
            .map(|(yuv, ms)| Scene {
                duration_ms: *ms,
                yuv: *yuv,
            })
            .collect();
        std::fs::write(&path, encode(&scenes)).unwrap();
        (dir, path)
    }

    /// ffmpeg's pictures, not ours: 8 s of moving test pictures fading out over the last
    /// second, 12 s of black, then 13 s of still colour bars (H.264 High, a keyframe a second).
    /// The fade is not black long enough to be said; the black and the still bars are, where
    /// they are (to within the pictures looked at, about 2.75 s apart).
    #[test]
    fn a_real_fade_to_black_and_a_still_picture_are_said_where_they_are() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mp4/fade-black-still.mp4");
        // Truth: black 0:08–0:20, still 0:20–0:33. The first black picture looked at is the
        // keyframe of 0:09 (the fade's last second is dark but not black).
        let sheet = make(&Mp4File::open(&path).unwrap()).unwrap();
        let said: Vec<String> = sheet.stretches.iter().map(Stretch::said).collect();
        assert_eq!(
            said,
            [
                "The picture is black from 0:09 to 0:20.",
                "The picture does not change from 0:20 to 0:33."
            ]
        );
        assert_eq!(sheet.frames_s.len(), SHOWN);
    }

    #[test]
    fn six_pictures_of_the_file_with_their_times_in_one_small_jpeg() {
        let colours = [
            [81, 90, 240],
            [145, 54, 34],
            [41, 240, 110],
            [210, 16, 146],
            [106, 202, 222],
            [170, 166, 16],
        ];
        let (_d, path) = write(&colours.map(|c| (c, 5000)));
        let sheet = make(&Mp4File::open(&path).unwrap()).unwrap();
        assert_eq!(sheet.frames_s, vec![0.0, 5.0, 10.0, 15.0, 20.0, 25.0]);
        assert!(sheet.jpeg.len() <= MAX_BYTES && sheet.jpeg.starts_with(&[0xff, 0xd8]));
        assert!(
            sheet.notes.is_empty() && sheet.stretches.is_empty(),
            "{sheet:?}"
        );
        // The tiles hold the scenes' own colours: decoded from the file, not drawn.
        let img = image::load_from_memory(&sheet.jpeg).unwrap().to_rgb8();
        for (i, [y, cb, cr]) in colours.into_iter().enumerate() {
            let (c, r) = (i as u32 % COLUMNS, i as u32 / COLUMNS);
            let got = img.get_pixel(4 + c * (TILE_W + 4) + 100, 4 + r * (144 + 4) + 40);
            let want = frames::rgb(f32::from(y), f32::from(cb) - 128.0, f32::from(cr) - 128.0);
            for ch in 0..3 {
                assert!(
                    got[ch].abs_diff(want[ch]) <= 16,
                    "tile {i}: {got:?} vs {want:?}"
                );
            }
        }
    }

    /// The stretches of the file at `path`, as sentences.
    fn stretches_said(path: &Path) -> Vec<String> {
        let sheet = make(&Mp4File::open(path).unwrap()).unwrap();
        sheet.stretches.iter().map(Stretch::said).collect()
    }

    #[test]
    fn black_and_unchanging_stretches_are_said() {
        let black = [16, 128, 128];
        let blue = [41, 240, 110];
        let (_d, path) = write(&[
            (blue, 2000),
            (black, 3000),
            (black, 3000),
            (blue, 2000),
            (blue, 2000),
        ]);
        let notes = stretches_said(&path);
        assert!(
            notes
                .iter()
                .any(|n| n == "The picture is black from 0:02 to 0:08."),
            "{notes:?}"
        );
        let (_d, path) = write(&[
            (blue, 4000),
            (blue, 4000),
            (blue, 4000),
            ([145, 54, 34], 2000),
        ]);
        let notes = stretches_said(&path);
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("The picture does not change from 0:00 to 0:12")),
            "{notes:?}"
        );
    }

    #[test]
    fn a_high_profile_file_from_ffmpeg_decodes_to_six_pictures() {
        // x264 High profile with B-frames and CABAC, a keyframe every second (tests/data/mp4).
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mp4/high-tone.mp4");
        let sheet = make(&Mp4File::open(&path).unwrap()).unwrap();
        assert_eq!(sheet.frames_s.len(), SHOWN, "{:?}", sheet.frames_s);
        assert!(
            sheet.notes.is_empty() && sheet.stretches.is_empty(),
            "{sheet:?}"
        );
        // testsrc2's colour bars: decoded pictures, not grey concealment.
        let img = image::load_from_memory(&sheet.jpeg).unwrap().to_rgb8();
        let colours: std::collections::HashSet<[u8; 3]> =
            img.pixels().map(|p| p.0.map(|c| c / 64)).collect();
        assert!(colours.len() >= 8, "{} colours", colours.len());
    }

    /// A 4K render (x264's) is a reason, read from its parameter set before any decoder sees
    /// it: one of its keyframes would take OpenH264 about 96 MB, past the check's 64.
    #[test]
    fn pictures_too_large_to_decode_are_a_reason_not_a_decode() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mp4/uhd-4k.mp4");
        let why = make(&Mp4File::open(&path).unwrap()).unwrap_err();
        assert!(why.contains("3840×2160, larger than"), "{why}");
    }

    #[test]
    fn a_damaged_file_is_a_reason() {
        let (_d, path) = write(&[([81, 90, 240], 2000)]);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
        assert!(Mp4File::open(&path).and_then(|f| make(&f)).is_err());
        std::fs::write(&path, b"not a video").unwrap();
        assert!(Mp4File::open(&path).and_then(|f| make(&f)).is_err());
    }
}

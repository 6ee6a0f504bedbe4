//! The storyboard: the timeline's visual segments as tiles in time order, each the segment's
//! uploaded image (or a video's frame with ffmpeg, or a labelled tile), with its times under it.
//! Text overlays are named in words next to the image (any script reads there; the tile font
//! is ASCII). JPEG, at most [`MAX_BYTES`].

use super::{font, kind_of, LocalMedia, MediaKind};
use crate::support::clock;
use image::{Rgb, RgbImage};
use nemo_client::{Timeline, TrackKind};
use std::path::Path;

/// The most a storyboard may weigh.
pub const MAX_BYTES: usize = 200 * 1024;
/// Tiles at most (a longer timeline is sampled evenly).
const MAX_TILES: usize = 20;
const TILE_W: u32 = 192;
const TILE_H: u32 = 108;
const CAPTION_H: u32 = 18;
const GAP: u32 = 6;
const COLUMNS: usize = 5;

/// A storyboard and what it shows.
#[derive(Debug)]
pub struct Storyboard {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Tiles drawn, and how many of them are the segment's own picture.
    pub tiles: usize,
    pub pictures: usize,
    /// One line for the model and the user: what the tiles are and the text overlays.
    pub caption: String,
}

/// A visual segment as a tile.
struct Tile<'a> {
    start: f64,
    end: Option<f64>,
    label: &'a str,
}

fn secs(ms: Option<u64>) -> Option<f64> {
    ms.map(|m| m as f64 / 1000.0)
}

/// Makes the storyboard; `None` when the timeline has no visual segment.
pub fn make(t: &Timeline, media: &LocalMedia, ffmpeg: Option<&Path>) -> Option<Storyboard> {
    let mut tiles: Vec<Tile> = t
        .tracks
        .iter()
        .filter(|k| k.kind == TrackKind::Video)
        .flat_map(|k| &k.segments)
        .map(|s| Tile {
            start: secs(s.start_ms).unwrap_or(0.0),
            end: secs(s.end_ms),
            label: s.label.as_deref().unwrap_or(""),
        })
        .collect();
    if tiles.is_empty() {
        return None;
    }
    tiles.sort_by(|a, b| a.start.total_cmp(&b.start));
    if tiles.len() > MAX_TILES {
        let n = tiles.len();
        let keep: Vec<usize> = (0..MAX_TILES).map(|i| i * n / MAX_TILES).collect();
        let mut i = 0;
        tiles.retain(|_| {
            let k = keep.contains(&i);
            i += 1;
            k
        });
    }
    let columns = tiles.len().min(COLUMNS) as u32;
    let rows = tiles.len().div_ceil(COLUMNS) as u32;
    let width = GAP + columns * (TILE_W + GAP);
    let height = GAP + rows * (TILE_H + CAPTION_H + GAP);
    let mut board = RgbImage::from_pixel(width, height, Rgb([24, 24, 27]));
    let mut pictures = 0;
    let images = pictures_of(&tiles, media, ffmpeg);
    for (i, (tile, image)) in tiles.iter().zip(images).enumerate() {
        let x = GAP + (i as u32 % COLUMNS as u32) * (TILE_W + GAP);
        let y = GAP + (i as u32 / COLUMNS as u32) * (TILE_H + CAPTION_H + GAP);
        match image {
            Some(img) => {
                pictures += 1;
                let (w, h) = img.dimensions();
                fill(&mut board, x, y, TILE_W, TILE_H, Rgb([0, 0, 0]));
                image::imageops::replace(
                    &mut board,
                    &img,
                    (x + (TILE_W - w.min(TILE_W)) / 2) as i64,
                    (y + (TILE_H - h.min(TILE_H)) / 2) as i64,
                );
            }
            None => labelled(&mut board, x, y, tile.label, media.find(tile.label)),
        }
        let times = match tile.end {
            Some(end) => format!("{}-{}", clock(tile.start), clock(end)),
            None => clock(tile.start),
        };
        font::draw(
            &mut board,
            &times,
            x + 2,
            y + TILE_H + 5,
            1,
            Rgb([200, 200, 205]),
        );
    }
    let jpeg = [80u8, 60, 40]
        .iter()
        .filter_map(|q| super::jpeg(&board, *q))
        .find(|b| b.len() <= MAX_BYTES)?;
    Some(Storyboard {
        jpeg,
        width,
        height,
        tiles: tiles.len(),
        pictures,
        caption: caption(t, tiles.len(), pictures),
    })
}

/// Every tile's picture, decoded on all cores (decoding is most of a first storyboard's time).
fn pictures_of(tiles: &[Tile], media: &LocalMedia, ffmpeg: Option<&Path>) -> Vec<Option<RgbImage>> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let chunk = tiles.len().div_ceil(workers).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = tiles
            .chunks(chunk)
            .map(|part| {
                let worker = s.spawn(move || {
                    part.iter()
                        .map(|t| picture(media, t.label, ffmpeg))
                        .collect::<Vec<_>>()
                });
                (part.len(), worker)
            })
            .collect();
        // A worker that panicked (a decoder bug on a strange file) leaves its tiles labelled.
        handles
            .into_iter()
            .flat_map(|(n, h)| h.join().unwrap_or_else(|_| vec![None; n]))
            .collect()
    })
}

/// The segment's own picture, shrunk to the tile.
fn picture(media: &LocalMedia, label: &str, ffmpeg: Option<&Path>) -> Option<RgbImage> {
    let path = media.find(label)?;
    match kind_of(path) {
        MediaKind::Image => super::shrunk(path, TILE_W, TILE_H),
        MediaKind::Video => super::frames::at(path, 0.5, TILE_W)
            .map(|i| {
                image::DynamicImage::ImageRgb8(i)
                    .thumbnail(TILE_W, TILE_H)
                    .to_rgb8()
            })
            .or_else(|| {
                super::poster::frame(ffmpeg?, path, TILE_W, 0.5)
                    .and_then(|png| image::load_from_memory(&png).ok())
                    .map(|i| i.thumbnail(TILE_W, TILE_H).to_rgb8())
            }),
        MediaKind::Other => None,
    }
}

/// A tile without a picture: its kind and name in the tile font.
fn labelled(board: &mut RgbImage, x: u32, y: u32, label: &str, file: Option<&Path>) {
    fill(board, x, y, TILE_W, TILE_H, Rgb([55, 65, 81]));
    let kind = match file.map(kind_of) {
        Some(MediaKind::Image) => "IMAGE",
        _ => "VIDEO",
    };
    font::draw(board, kind, x + 8, y + 8, 2, Rgb([255, 255, 255]));
    let name: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(((TILE_W - 16) / 6) as usize)
        .collect();
    font::draw(board, &name, x + 8, y + 34, 1, Rgb([229, 231, 235]));
}

fn fill(board: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: Rgb<u8>) {
    for py in y..(y + h).min(board.height()) {
        for px in x..(x + w).min(board.width()) {
            board.put_pixel(px, py, color);
        }
    }
}

/// "Storyboard: 6 segments (5 with their picture). Text overlays: "Summer Sale" 0:00-0:03; …"
fn caption(t: &Timeline, tiles: usize, pictures: usize) -> String {
    let mut s = format!(
        "Storyboard: {tiles} visual segment(s) in time order ({pictures} with their picture, the others as labelled tiles)."
    );
    let overlays: Vec<String> = t
        .tracks
        .iter()
        .filter(|k| k.kind == TrackKind::Text)
        .flat_map(|k| &k.segments)
        .map(|g| {
            let times = match (secs(g.start_ms), secs(g.end_ms)) {
                (Some(a), Some(b)) => format!(" {}-{}", clock(a), clock(b)),
                (Some(a), None) => format!(" from {}", clock(a)),
                _ => String::new(),
            };
            format!("\"{}\"{times}", g.label.as_deref().unwrap_or(""))
        })
        .collect();
    if !overlays.is_empty() {
        s.push_str(&format!(" Text overlays: {}.", overlays.join("; ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use nemo_client::{Segment, Track};

    fn timeline(tracks: Vec<Track>) -> Timeline {
        Timeline {
            tracks,
            duration_ms: Some(30_000),
            title: None,
        }
    }

    fn track(kind: TrackKind, segments: Vec<Segment>) -> Track {
        Track {
            kind,
            type_code: None,
            segments,
        }
    }

    #[test]
    fn images_become_tiles_and_overlays_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut media = LocalMedia::default();
        let mut segments = vec![];
        for i in 0..10u32 {
            let p = dir.path().join(format!("photo{i}.png"));
            RgbImage::from_pixel(640, 480, Rgb([(i * 20) as u8, 100, 200]))
                .save(&p)
                .unwrap();
            media.add(&p, None);
            segments.push(Segment::spanning(
                i as f64 * 3.0,
                i as f64 * 3.0 + 3.0,
                &format!("photo{i}.png"),
            ));
        }
        segments.push(Segment::spanning(30.0, 33.0, "clip.mp4"));
        let t = timeline(vec![
            track(TrackKind::Video, segments),
            track(
                TrackKind::Text,
                vec![Segment::spanning(0.0, 3.0, "<img src=x onerror=alert(1)>")],
            ),
        ]);
        let b = make(&t, &media, None).unwrap();
        assert_eq!((b.tiles, b.pictures), (11, 10));
        assert!(b.jpeg.len() <= MAX_BYTES);
        assert_eq!(&b.jpeg[..2], &[0xFF, 0xD8]);
        let decoded = image::load_from_memory(&b.jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (b.width, b.height));
        assert!(b
            .caption
            .contains("\"<img src=x onerror=alert(1)>\" 0:00-0:03"));
    }

    /// A video of the user's own gets its picture decoded in-process; one too large to decode
    /// within the check's memory (x264's 4K) gets a labelled tile without ffmpeg.
    #[test]
    fn a_video_tile_is_decoded_unless_it_is_too_large() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mp4");
        let mut media = LocalMedia::default();
        media.add(&data.join("high-tone.mp4"), None);
        media.add(&data.join("uhd-4k.mp4"), None);
        let t = timeline(vec![track(
            TrackKind::Video,
            vec![
                Segment::spanning(0.0, 3.0, "high-tone.mp4"),
                Segment::spanning(3.0, 6.0, "uhd-4k.mp4"),
            ],
        )]);
        let b = make(&t, &media, None).unwrap();
        assert_eq!((b.tiles, b.pictures), (2, 1), "{}", b.caption);
    }

    #[test]
    fn no_visual_segment_no_storyboard() {
        let t = timeline(vec![track(
            TrackKind::Audio,
            vec![Segment::spanning(0.0, 3.0, "music")],
        )]);
        assert!(make(&t, &LocalMedia::default(), None).is_none());
    }
}

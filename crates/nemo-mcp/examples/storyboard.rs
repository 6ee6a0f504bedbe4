//! The storyboard benchmark (docs/benchmarks.md): 10 photos (1920×1080 JPEG, as phones and
//! stock sites give them) along a 30-second timeline with two text overlays; the time to make
//! the storyboard the first time (every photo decoded) and again (decoded photos cached), and
//! its size. `cargo run --release --example storyboard`
use nemo_client::{Segment, Timeline, Track, TrackKind};
use nemo_mcp::testing::{storyboard, LocalMedia};
use std::time::Instant;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut media = LocalMedia::default();
    let mut segments = Vec::new();
    for i in 0..10u32 {
        // A photo-like image: gradients and texture, so the JPEG is of a real photo's size.
        let img = image::RgbImage::from_fn(1920, 1080, |x, y| {
            let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729) ^ (i * 31)) % 64;
            image::Rgb([
                ((x / 8 + i * 20) % 256) as u8,
                ((y / 5) % 256) as u8,
                (n * 3) as u8,
            ])
        });
        let path = dir.path().join(format!("photo{i}.jpg"));
        img.save(&path).expect("a photo written");
        media.add(&path, None);
        segments.push(Segment::spanning(
            i as f64 * 3.0,
            i as f64 * 3.0 + 3.0,
            &format!("photo{i}.jpg"),
        ));
    }
    let photo_bytes: u64 = (0..10)
        .map(|i| std::fs::metadata(dir.path().join(format!("photo{i}.jpg"))).map_or(0, |m| m.len()))
        .sum();
    let timeline = Timeline {
        tracks: vec![
            Track {
                kind: TrackKind::Video,
                type_code: None,
                segments,
            },
            Track {
                kind: TrackKind::Text,
                type_code: None,
                segments: vec![
                    Segment::spanning(0.0, 3.0, "Spring Sale"),
                    Segment::spanning(27.0, 30.0, "Shop now"),
                ],
            },
        ],
        duration_ms: Some(30_000),
        title: None,
    };
    let t = Instant::now();
    let first = storyboard::make(&timeline, &media, None).expect("a storyboard");
    let cold = t.elapsed();
    let mut warm = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        storyboard::make(&timeline, &media, None).expect("a storyboard");
        warm.push(t.elapsed());
    }
    warm.sort();
    println!(
        "| 10 photos, 1920×1080 JPEG ({:.1} MB) | {:.0} ms | {:.1} ms | {}×{} | {:.1} KB | {} of {} |",
        photo_bytes as f64 / 1e6,
        cold.as_secs_f64() * 1000.0,
        warm[warm.len() / 2].as_secs_f64() * 1000.0,
        first.width,
        first.height,
        first.jpeg.len() as f64 / 1024.0,
        first.pictures,
        first.tiles
    );
}

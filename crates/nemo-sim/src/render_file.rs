//! Producing the rendered file: ffmpeg composing the uploaded media and the draft's text when it
//! is installed; otherwise the built-in renderer composes the same (the photos, the title) at
//! 1280×720 with the music's tone (as the ffmpeg render has it) and writes it with the built-in
//! H.264/FLAC writer.

use crate::config::{Renderer, SimConfig};
use crate::mp4;
use crate::world::Asset;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Write the render of `draft` to `out`; returns its size in bytes.
pub async fn produce(
    config: &SimConfig,
    draft: &Value,
    assets: &[Asset],
    out: &Path,
) -> std::io::Result<u64> {
    if let Some(dir) = out.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let total_ms = draft["d"].as_u64().unwrap_or(0).clamp(1000, 600_000);
    let video: Vec<(u64, u64, Option<PathBuf>)> = draft["t"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["tt"].as_u64() == Some(0)))
        .and_then(|t| t["sg"].as_array())
        .map(|sg| {
            sg.iter()
                .map(|s| {
                    let st = s["st"].as_u64().unwrap_or(0);
                    let et = s["et"].as_u64().unwrap_or(st + 1000).max(st + 100);
                    let src = s["src"].as_str().unwrap_or_default();
                    let path = assets
                        .iter()
                        .find(|a| a.cdn_url == src && a.file_type == "image")
                        .and_then(|a| a.path.clone());
                    (st, et, path)
                })
                .collect()
        })
        .unwrap_or_default();
    // A backend whose file is not as long as its timeline (`render_length`).
    let scale = |ms: u64| match config.render_length {
        Some(f) if f > 0.0 => ((ms as f64 * f) as u64).max(100),
        _ => ms,
    };
    let total_ms = scale(total_ms);
    let video: Vec<(u64, u64, Option<PathBuf>)> = video
        .into_iter()
        .map(|(st, et, p)| (scale(st), scale(et).max(scale(st) + 100), p))
        .collect();
    let title = draft["m"]["title"].as_str().map(str::to_string);
    let with_music = draft["t"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t["tt"].as_u64() == Some(1)));

    if config.renderer == Renderer::Auto && ffmpeg_available().await {
        let tmp = out.with_extension("ffmpeg.mp4");
        let args = ffmpeg_args(draft, &video, total_ms, title.as_deref(), with_music, &tmp);
        let args = with_bitrate(args, config.render_kbps);
        match ffmpeg(args, title.is_some()).await {
            Ok(()) => {
                tokio::fs::rename(&tmp, out).await?;
                return Ok(tokio::fs::metadata(out).await?.len());
            }
            Err(e) => {
                tracing::warn!("ffmpeg render failed, using the built-in encoder: {e}");
                let _ = tokio::fs::remove_file(&tmp).await;
            }
        }
    }
    // The built-in renderer: each scene's photo fitted into the picture, the title over it.
    let scenes = scenes(&video, total_ms);
    // The draft's shape (9:16, 1:1, 16:9) at the built-in renderer's size: its longer side
    // kept, the other one following the shape (a vertical render is taller than wide).
    let size = shaped(
        config.builtin_size,
        draft["m"]["width"].as_u64().unwrap_or(1920),
        draft["m"]["height"].as_u64().unwrap_or(1080),
    );
    let bytes = tokio::task::spawn_blocking(move || {
        let shots: Vec<(u64, mp4::Planes)> = scenes
            .iter()
            .enumerate()
            .map(|(i, (ms, fill))| {
                let picture = match fill {
                    Fill::Scene(photo) => compose(i, photo.as_deref(), title.as_deref(), size),
                    Fill::Hole => mp4::Planes::solid(size.0, size.1, [16, 128, 128]),
                };
                (*ms, picture)
            })
            .collect();
        // The music, as the ffmpeg render plays it: a 440 Hz tone at a fifth of full scale.
        let music = with_music.then(|| mp4::Pcm::tone(440.0, 0.2, total_ms));
        mp4::encode_movie(&shots, music.as_ref())
    })
    .await
    .map_err(std::io::Error::other)?;
    tokio::fs::write(out, &bytes).await?;
    Ok(bytes.len() as u64)
}

/// `base` (the built-in renderer's landscape size) in the shape `w`×`h`: the longer side is
/// `base`'s longer one, the shorter follows the ratio, both multiples of 16.
fn shaped(base: (u32, u32), w: u64, h: u64) -> (u32, u32) {
    let long = base.0.max(base.1);
    let (w, h) = (w.max(1) as f64, h.max(1) as f64);
    let short = |ratio: f64| (((f64::from(long) * ratio) / 16.0).round() as u32).max(1) * 16;
    if w >= h {
        (long, short(h / w))
    } else {
        (short(w / h), long)
    }
}

/// One scene of the built-in render: the photo fitted (aspect kept) on a dark ground, or the
/// scene's palette colour when it has none (or it does not decode); the title on a band near
/// the bottom, as the ffmpeg render draws it.
fn compose(
    index: usize,
    photo: Option<&Path>,
    title: Option<&str>,
    (w, h): (u32, u32),
) -> mp4::Planes {
    use image::{Rgb, RgbImage};
    let picture = photo.and_then(|p| image::open(p).ok());
    let ground = match picture {
        Some(_) => Rgb([17, 17, 17]),
        None => Rgb(yuv_to_rgb(mp4::palette(index))),
    };
    let mut canvas = RgbImage::from_pixel(w, h, ground);
    if let Some(img) = picture {
        let fitted = img
            .resize(w, h, image::imageops::FilterType::Triangle)
            .to_rgb8();
        let (x, y) = ((w - fitted.width()) / 2, (h - fitted.height()) / 2);
        image::imageops::replace(&mut canvas, &fitted, i64::from(x), i64::from(y));
    }
    if let Some(title) = title.filter(|t| !t.trim().is_empty()) {
        let scale = (h / 120).max(1); // 6 at 720 lines
        let text: String = title
            .chars()
            .take((w.saturating_sub(40) / (6 * scale)) as usize)
            .collect();
        let text_w = text.chars().count() as u32 * 6 * scale;
        let (band_top, band_h) = (h * 3 / 4, 7 * scale + scale * 16 / 3);
        for y in band_top..(band_top + band_h).min(h) {
            for x in 0..w {
                let p = canvas.get_pixel_mut(x, y);
                *p = Rgb(p.0.map(|c| c / 3));
            }
        }
        crate::font::draw(
            &mut canvas,
            &text,
            (w - text_w.min(w)) / 2,
            band_top + scale * 8 / 3,
            scale,
            Rgb([255, 255, 255]),
        );
    }
    mp4::Planes::from_rgb(w, h, canvas.as_raw())
}

/// BT.601 limited range to RGB (the palette is kept in YCbCr).
fn yuv_to_rgb([y, cb, cr]: [u8; 3]) -> [u8; 3] {
    let (c, d, e) = (
        f32::from(y) - 16.0,
        f32::from(cb) - 128.0,
        f32::from(cr) - 128.0,
    );
    let px = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    [
        px(1.164 * c + 1.596 * e),
        px(1.164 * c - 0.392 * d - 0.813 * e),
        px(1.164 * c + 2.017 * d),
    ]
}

async fn ffmpeg_available() -> bool {
    tokio::process::Command::new("ffmpeg")
        .arg("-version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

/// What fills a stretch of the picture: a segment of the video track (its photo, if it has
/// one), or a hole between segments, which renders black as in any editor.
#[derive(Debug, Clone, PartialEq)]
enum Fill {
    Scene(Option<PathBuf>),
    Hole,
}

/// The stretches of the picture, in order: each segment of the video track, and a hole
/// (black) where a segment starts later than the one before it ends.
fn scenes(video: &[(u64, u64, Option<PathBuf>)], total_ms: u64) -> Vec<(u64, Fill)> {
    if video.is_empty() {
        return vec![(total_ms, Fill::Scene(None))];
    }
    let mut out = Vec::new();
    let mut end: Option<u64> = None;
    for (st, et, photo) in video {
        if let Some(gap) = end.map(|e| st.saturating_sub(e)).filter(|g| *g >= 100) {
            out.push((gap, Fill::Hole));
        }
        out.push((et.saturating_sub(*st), Fill::Scene(photo.clone())));
        end = Some(*et);
    }
    out
}

/// The video inputs (one per scene: a picture, or a color where a scene has none) and their
/// scaling filters.
fn scene_inputs(
    video: &[(u64, u64, Option<PathBuf>)],
    total_ms: u64,
    (w, h): (u64, u64),
    args: &mut Vec<String>,
    filters: &mut Vec<String>,
) -> usize {
    let scenes = scenes(video, total_ms);
    for (i, (ms, fill)) in scenes.iter().enumerate() {
        let secs = format!("{:.3}", *ms as f64 / 1000.0);
        match fill {
            Fill::Hole => {
                args.extend(["-f", "lavfi", "-i"].map(String::from));
                args.push(format!("color=c=black:s={w}x{h}:r=10:d={secs}"));
            }
            Fill::Scene(Some(p)) => {
                args.extend(
                    ["-loop", "1", "-framerate", "10", "-t", &secs, "-i"].map(String::from),
                );
                args.push(p.display().to_string());
            }
            Fill::Scene(None) => {
                let [r, g, b] = [(i * 70) % 256, (i * 130 + 60) % 256, (i * 200 + 120) % 256];
                args.extend(["-f", "lavfi", "-i"].map(String::from));
                args.push(format!(
                    "color=c=0x{r:02x}{g:02x}{b:02x}:s={w}x{h}:r=10:d={secs}"
                ));
            }
        }
        filters.push(format!(
            "[{i}:v]scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10,format=yuv420p[v{i}]"
        ));
    }
    scenes.len()
}

/// ffmpeg's arguments for the draft: scenes, concatenation, the title, music, H.264 in MP4.
fn ffmpeg_args(
    draft: &Value,
    video: &[(u64, u64, Option<PathBuf>)],
    total_ms: u64,
    title: Option<&str>,
    with_music: bool,
    out: &Path,
) -> Vec<String> {
    let w = draft["m"]["width"].as_u64().unwrap_or(1920);
    let h = draft["m"]["height"].as_u64().unwrap_or(1080);
    let mut args: Vec<String> = vec!["-y".into(), "-v".into(), "error".into()];
    let mut filters = Vec::new();
    let n = scene_inputs(video, total_ms, (w, h), &mut args, &mut filters);
    if with_music {
        // Inputs first: the music is the last input.
        args.extend(["-f", "lavfi", "-t"].map(String::from));
        args.push(format!("{:.3}", total_ms as f64 / 1000.0));
        args.extend(["-i", "sine=frequency=440:sample_rate=44100"].map(String::from));
    }
    let inputs: String = (0..n).map(|i| format!("[v{i}]")).collect();
    let mut chain = format!("{inputs}concat=n={n}:v=1:a=0[cat]");
    let label = if let Some(t) = title {
        let safe: String = t
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ')
            .collect();
        chain.push_str(&format!(
            ";[cat]drawtext=text='{safe}':fontcolor=white:box=1:boxcolor=black@0.55:boxborderw=24:fontsize={}:x=(w-text_w)/2:y=(h-text_h)/2:enable='lt(t,3)'[out]",
            h / 12
        ));
        "[out]"
    } else {
        "[cat]"
    };
    filters.push(chain);
    args.push("-filter_complex".into());
    args.push(filters.join(";"));
    args.extend(["-map", label].map(String::from));
    if with_music {
        args.extend([
            "-map".into(),
            format!("{n}:a"),
            "-af".into(),
            "volume=0.2".into(),
            "-c:a".into(),
            "aac".into(),
            "-shortest".into(),
        ]);
    }
    args.extend(
        [
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "stillimage",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
        ]
        .map(String::from),
    );
    args.push(out.display().to_string());
    args
}

/// A constant bitrate (x264 pads with filler data) placed before the output path.
fn with_bitrate(mut args: Vec<String>, kbps: Option<u32>) -> Vec<String> {
    if let Some(k) = kbps.filter(|k| *k > 0) {
        let out = args.pop().unwrap_or_default();
        let rate = format!("{k}k");
        args.extend(["-b:v", &rate, "-minrate", &rate, "-maxrate", &rate].map(String::from));
        args.extend(["-bufsize".into(), format!("{}k", k / 2)]);
        args.extend(["-x264-params", "nal-hrd=cbr"].map(String::from));
        args.push(out);
    }
    args
}

async fn run_ffmpeg(args: &[String]) -> std::io::Result<()> {
    let o = tokio::process::Command::new("ffmpeg")
        .args(args)
        .output()
        .await?;
    if o.status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(
            String::from_utf8_lossy(&o.stderr)
                .chars()
                .take(400)
                .collect::<String>(),
        ))
    }
}

/// Run ffmpeg with `args`; when it fails on a title (drawtext needs a font), render again
/// without the title rather than fail.
async fn ffmpeg(args: Vec<String>, titled: bool) -> std::io::Result<()> {
    match run_ffmpeg(&args).await {
        Err(_) if titled => {
            let args: Vec<String> = args
                .into_iter()
                .map(|a| {
                    if a.contains("drawtext") {
                        a.split(";[cat]drawtext").next().unwrap_or(&a).to_string()
                    } else {
                        a
                    }
                })
                .map(|a| if a == "[out]" { "[cat]".to_string() } else { a })
                .collect();
            run_ffmpeg(&args).await
        }
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A segment that starts after the one before it ends leaves a hole, rendered black; one
    /// that starts where it ends (or, overlapping, earlier) leaves none.
    #[test]
    fn a_hole_between_segments_is_black() {
        let photo = |n: &str| Some(PathBuf::from(n));
        let video = [
            (0, 10_000, photo("a.png")),
            (20_000, 30_000, photo("c.png")),
        ];
        assert_eq!(
            scenes(&video, 30_000),
            [
                (10_000, Fill::Scene(photo("a.png"))),
                (10_000, Fill::Hole),
                (10_000, Fill::Scene(photo("c.png"))),
            ]
        );
        let touching = [
            (0, 10_000, None),
            (10_000, 30_000, None),
            (29_000, 30_000, None),
        ];
        assert!(scenes(&touching, 30_000)
            .iter()
            .all(|(_, f)| *f != Fill::Hole));
        assert_eq!(scenes(&[], 5_000), [(5_000, Fill::Scene(None))]);
    }

    #[test]
    fn a_picture_narrower_than_the_title_margins_composes_without_a_panic() {
        // One macroblock, narrower than the 40 pixels of margin, the tests' size, the demo's.
        for size in [(16, 16), (32, 48), (320, 176), (1280, 720)] {
            let _ = compose(0, None, Some("Spring Sale"), size);
        }
    }

    #[test]
    fn the_built_in_render_takes_the_draft_s_shape() {
        assert_eq!(shaped((1280, 720), 1920, 1080), (1280, 720));
        assert_eq!(shaped((1280, 720), 1080, 1920), (720, 1280));
        assert_eq!(shaped((1280, 720), 1080, 1080), (1280, 1280));
        assert_eq!(shaped((320, 176), 1080, 1920), (176, 320));
    }
}

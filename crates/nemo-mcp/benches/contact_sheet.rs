//! The export's contact sheet, made in-process from an MP4 (budget: ≤ 300 ms and ≤ 150 KB for
//! a 30-second 1080p export). `cargo bench -p nemo-mcp --bench contact_sheet -- [file.mp4]`;
//! without a file, one is made with ffmpeg: 30 s of 1080p30 H.264 High profile (x264, B-frames,
//! CABAC) with AAC sound, as real renders are. Prints the median of 15 runs after 3 warm-ups.

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let arg = std::env::args().skip(1).find(|a| a.ends_with(".mp4"));
    let (path, _dir) = match arg {
        Some(p) => (PathBuf::from(p), None),
        None => {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let path = dir.path().join("high-1080p-30s.mp4");
            let made = std::process::Command::new("ffmpeg")
                .args(["-v", "error", "-y", "-f", "lavfi"])
                .args(["-i", "testsrc2=size=1920x1080:rate=30:duration=30"])
                .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=30"])
                .args([
                    "-c:v",
                    "libx264",
                    "-profile:v",
                    "high",
                    "-preset",
                    "veryfast",
                ])
                .args(["-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"])
                .arg(&path)
                .status();
            if !made.is_ok_and(|s| s.success()) {
                eprintln!("contact_sheet bench: give an MP4, or install ffmpeg to make one");
                return;
            }
            (path, Some(dir))
        }
    };
    let run = || nemo_mcp::testing::contact_sheet(&path).expect("the sheet is made");
    for _ in 0..3 {
        run();
    }
    let mut times = Vec::new();
    let mut sheet = None;
    for _ in 0..15 {
        let t = Instant::now();
        sheet = Some(run());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let sheet = sheet.expect("ran");
    println!(
        "contact sheet of {}: median {:.0} ms (min {:.0}, max {:.0}), {} bytes of JPEG, pictures at {:?} s, notes {:?}",
        path.display(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        sheet.jpeg.len(),
        sheet.frames_s,
        sheet.notes
    );
    let out = std::env::temp_dir().join("contact_sheet.jpg");
    if std::fs::write(&out, &sheet.jpeg).is_ok() {
        println!("the sheet: {}", out.display());
    }
}

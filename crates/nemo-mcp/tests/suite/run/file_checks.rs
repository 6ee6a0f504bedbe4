//! The saved file checked, and its captions (issue #34): an export says what the file itself is
//! (its length, picture size, sound, read from its boxes without ffmpeg), a length unlike the
//! timeline's or the request's is said in the text and the structured content, and the
//! timeline's text is written beside the MP4 as `.srt` and `.vtt`, checked here by strict
//! parsers of both formats.

use crate::common;

use common::*;
use nemo_sim::SimConfig;
use serde_json::{json, Value};
use std::path::Path;

/// A strict SubRip reader: numbered blocks from 1, `HH:MM:SS,mmm --> HH:MM:SS,mmm` with the end
/// after the start, at least one text line, a blank line after each block. (start, end, text).
fn parse_srt(text: &str) -> Vec<(u64, u64, String)> {
    let mut out = Vec::new();
    let blocks: Vec<&str> = text.split("\n\n").filter(|b| !b.is_empty()).collect();
    assert!(text.ends_with("\n\n"), "every block ends with a blank line");
    for (i, block) in blocks.iter().enumerate() {
        let lines: Vec<&str> = block.lines().collect();
        assert_eq!(lines[0], (i + 1).to_string(), "block {i} is numbered");
        let (a, b) = timing(lines[1], ',');
        assert!(lines.len() >= 3, "block {i} has text");
        out.push((a, b, lines[2..].join("\n")));
    }
    out
}

/// A strict WebVTT reader: the `WEBVTT` header, then cues `HH:MM:SS.mmm --> HH:MM:SS.mmm` whose
/// text has no `-->` and no unescaped `<`.
fn parse_vtt(text: &str) -> Vec<(u64, u64, String)> {
    let rest = text.strip_prefix("WEBVTT\n\n").expect("the WEBVTT header");
    rest.split("\n\n")
        .filter(|b| !b.is_empty())
        .map(|block| {
            let lines: Vec<&str> = block.lines().collect();
            let (a, b) = timing(lines[0], '.');
            let text = lines[1..].join("\n");
            assert!(
                !text.is_empty() && !text.contains("-->") && !text.contains('<'),
                "{text}"
            );
            (a, b, text)
        })
        .collect()
}

fn timing(line: &str, sep: char) -> (u64, u64) {
    let (a, b) = line
        .split_once(" --> ")
        .unwrap_or_else(|| panic!("timing: {line}"));
    let ms = |s: &str| -> u64 {
        let b = s.as_bytes();
        assert!(
            s.len() == 12 && b[2] == b':' && b[5] == b':' && b[8] == sep as u8,
            "{s}"
        );
        let n = |r: std::ops::Range<usize>| s[r].parse::<u64>().expect("digits");
        n(0..2) * 3_600_000 + n(3..5) * 60_000 + n(6..8) * 1000 + n(9..12)
    };
    let (a, b) = (ms(a), ms(b));
    assert!(a < b, "{line}");
    (a, b)
}

async fn export(h: &Harness, args: Value) -> Value {
    let r = h.call("export_video", args).await;
    assert_structured_says_it_all("export_video", &r);
    let b = h.finish(body(&r)).await;
    assert_eq!(b["status"], "succeeded", "{b}");
    b
}

#[tokio::test]
async fn an_export_says_what_its_file_is_and_writes_checked_captions() {
    let h = Harness::start().await;
    upload_two(&h).await;
    for instruction in [
        "combine these images into a 12-second video with music",
        "add a title \"Spring <Sale> & more\"",
    ] {
        let r = h
            .call("generate", json!({"instruction": instruction}))
            .await;
        let b = h.finish(body(&r)).await;
        assert_eq!(b["status"], "succeeded", "{b}");
    }
    let b = export(&h, json!({"filename": "promo"})).await;
    let r = &b["result"];
    let file = &r["file"];
    assert!(
        (file["duration_s"].as_f64().unwrap() - 12.0).abs() < 0.5,
        "{r}"
    );
    assert!(file["width"].as_u64().unwrap() > 0, "{r}");
    // "with music": the render has a sound track, decoded here and heard.
    assert_eq!(file["audio"], true, "{r}");
    assert_eq!(file["silent"], false, "{r}");
    // No length mismatch; the two uploads are the same picture, so the file's own pictures
    // (decoded from it: the contact sheet) do not change for its 12 s, and that is said: as
    // a stretch, not as a difference (a photo held still is what a slideshow is).
    assert!(r["notes"].is_null(), "{r}");
    let still = &r["stretches"][0];
    assert_eq!(still["kind"], "still", "{r}");
    assert_eq!(still["from_s"], 0.0, "{r}");
    // To the last picture's end (the file's last frame starts a frame before 12 s).
    assert!(still["to_s"].as_f64().unwrap() > 11.5, "{r}");
    assert_eq!(r["stretches"].as_array().unwrap().len(), 1, "{r}");
    assert!(r["differs"].is_null(), "{r}");
    assert_eq!(r["checked"], json!(["black pictures"]), "{r}");
    assert_eq!(
        r["frames_s"],
        json!([0.0, 6.0]),
        "one picture per scene: {r}"
    );
    let captions: Vec<String> = serde_json::from_value(r["captions"].clone()).unwrap();
    assert_eq!(captions.len(), 2, "{r}");
    let mp4 = Path::new(r["path"].as_str().unwrap());
    // The frames beside the MP4, for a model whose host passes no image: its path in the
    // structured content, a JPEG there.
    let frames = Path::new(r["frames"].as_str().unwrap_or_else(|| panic!("{r}")));
    assert_eq!(
        frames,
        mp4.with_file_name(format!(
            "{}.frames.jpg",
            mp4.file_stem().unwrap().to_string_lossy()
        ))
    );
    let jpeg = std::fs::read(frames).unwrap();
    assert_eq!(&jpeg[..2], b"\xff\xd8", "a JPEG");
    // The text says the three paths the same way, the frames with what to do with them.
    let said = text_of(&h.call("get_job", json!({"job_id": b["job_id"]})).await);
    for line in [
        format!("Video: {}", mp4.display()),
        format!(
            "Frames: {} is an image of the video's frames",
            frames.display()
        ),
        format!("Captions: {}", captions[0]),
        "The picture does not change from 0:00 to 0:12.".to_string(),
        "Checked: black pictures.".to_string(),
    ] {
        assert!(said.contains(&line), "{line}\n{said}");
    }
    assert!(said.contains("open it with your image viewer"), "{said}");
    assert_eq!(Path::new(&captions[0]), mp4.with_extension("srt"));
    let srt = parse_srt(&std::fs::read_to_string(&captions[0]).unwrap());
    let vtt = parse_vtt(&std::fs::read_to_string(&captions[1]).unwrap());
    assert_eq!(srt.len(), vtt.len());
    assert!(!srt.is_empty());
    assert!(
        srt.iter().any(|c| c.2.contains("Spring <Sale> & more")),
        "{srt:?}"
    );
    assert!(
        vtt.iter()
            .any(|c| c.2.contains("Spring &lt;Sale&gt; &amp; more")),
        "{vtt:?}"
    );
    assert!(
        srt.iter().all(|c| c.1 <= 12_000),
        "timed within the video: {srt:?}"
    );
    // Asked not to: no captions files, the MP4 as before.
    let b = export(&h, json!({"filename": "plain", "captions": false})).await;
    assert!(b["result"]["captions"].is_null(), "{b}");
    let plain = Path::new(b["result"]["path"].as_str().unwrap());
    assert!(!plain.with_extension("srt").exists());
}

#[tokio::test]
async fn a_file_shorter_than_asked_and_than_its_timeline_is_said_so() {
    // A backend whose render is two thirds of its timeline.
    let mut sim = SimConfig::fast();
    sim.render_length = Some(0.66);
    let h = Harness::with(sim, |_| {}).await;
    let r = h
        .call(
            "make_video",
            json!({"paths": [h.media("a.png", &png(32, 32)), h.media("b.png", &png(32, 32))],
                   "instruction": "combine these images into a 30-second promo video with music"}),
        )
        .await;
    let b = h.finish(body(&r)).await;
    assert_eq!(b["status"], "succeeded", "the export still succeeds: {b}");
    let done = h
        .call("get_job", json!({"job_id": b["job_id"], "wait_s": 0}))
        .await;
    assert_structured_says_it_all("make_video", &done);
    let notes = body(&done)["result"]["notes"].to_string();
    assert!(
        notes.contains("asked for 30 s") && notes.contains("the timeline says 30.0 s"),
        "{notes}"
    );
    // Two thirds of 30 s, to the frame.
    assert!(
        notes.contains("the file is 19.") || notes.contains("the file is 20.0"),
        "{notes}"
    );
    assert!(
        text_of(&done).contains("Length differs"),
        "{}",
        text_of(&done)
    );
}

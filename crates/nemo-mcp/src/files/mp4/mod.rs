//! What an exported MP4 is, read from its own boxes: its length (`mvhd`), its picture size
//! (`tkhd` of the video track) and whether it has a sound track; the tracks' sample tables
//! (`track`), from which the previews decode pictures; and whether the sound can be heard
//! (`sound`, AAC or FLAC decoded). The file is checked against what was asked and what the timeline
//! says, so a 20-second file made for a "30-second promo" is said to be one. A damaged or cut
//! file gives a clear reason, never a panic: every size is checked against what is left of the
//! file and of the box.

use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The most of `moov` read into memory. A real one is a few hundred kilobytes; a two-hour
/// video at 60 fps with its sound needs about 12 MB of sample tables. The whole check of a file
/// stays under 64 MB above idle whatever it says (`docs/security.md`), and this is its largest part.
const MAX_MOOV: u64 = 16 * 1024 * 1024;
/// The most boxes one container may hold. A real `moov` has a handful of children, a sample
/// description one or two: a container packed with millions of empty boxes is refused here
/// rather than listed.
const MAX_CHILDREN: usize = 4096;

/// The file's own facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Mp4Facts {
    /// Its length, from the movie header.
    pub duration_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// A sound track is present.
    pub audio: bool,
    /// The sound track, decoded, is silent throughout (absent: no sound track, or it could not
    /// be decoded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent: Option<bool>,
}

mod lengths;
mod sound;
pub mod sps;
mod stretches;
mod track;
pub use lengths::{asked_length, mismatch, requested_length, LENGTH_DIFFERS};
pub use sound::Loudness;
pub use stretches::{Stretch, StretchKind};
pub use track::{Sample, VideoTrack};

/// An MP4 opened for reading: its path and its `moov` box, read once for everything asked of
/// it (its facts, its video track, its sound).
#[derive(Debug, Clone)]
pub struct Mp4File {
    path: PathBuf,
    moov: Vec<u8>,
}

impl Mp4File {
    /// Open the MP4 at `path` and read its `moov` box.
    pub fn open(path: &Path) -> Result<Mp4File, String> {
        Ok(Mp4File {
            path: path.to_path_buf(),
            moov: read_moov(path)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its length, picture size and whether it has sound.
    pub fn facts(&self) -> Result<Mp4Facts, String> {
        facts_of_moov(&self.moov)
    }

    /// Its H.264 video track: its pictures and parameter sets.
    pub fn video_track(&self) -> Result<VideoTrack, String> {
        track::video_track(&self.moov)
    }

    /// How loud its sound track is, second by second (decoded); `None` when it has none.
    /// Only the seconds the movie header says the file lasts are measured, and at most
    /// [`sound::MAX_MEASURED_S`] of them: a sample that claims to play at second four billion
    /// is not counted out.
    pub fn loudness(&self) -> Result<Option<Loudness>, String> {
        let duration_s = facts_of_moov(&self.moov)?.duration_s;
        match sound::audio_track(&self.moov)? {
            Some(t) => sound::loudness(&self.path, &t, duration_s).map(Some),
            None => Ok(None),
        }
    }
}

/// Read the facts of the MP4 at `path` (tests).
#[cfg(test)]
fn inspect(path: &Path) -> Result<Mp4Facts, String> {
    Mp4File::open(path)?.facts()
}

/// How loud the sound track of the MP4 at `path` is (tests).
#[cfg(test)]
fn loudness(path: &Path) -> Result<Option<Loudness>, String> {
    Mp4File::open(path)?.loudness()
}

/// What the sound showed that is not a stretch, as sentences (none when all is well). A
/// silent track is a fact of the file (`Mp4Facts::silent`), its quiet stretches are
/// [`sound_stretches`].
pub fn sound_notes(l: &Loudness) -> Vec<String> {
    if l.silent() {
        return Vec::new();
    }
    let mut notes = Vec::new();
    let more = l.silent_stretches().len().saturating_sub(MAX_QUIET_SAID);
    if more > 0 {
        notes.push(format!(
            "{more} more stretches with no sound after the first {MAX_QUIET_SAID}."
        ));
    }
    if let Some(s) = l.measured_to_s {
        notes.push(format!(
            "Its sound was measured up to {} only; listen to the rest before sharing it.",
            crate::support::clock(s as f64)
        ));
    }
    notes
}

/// The most stretches with no sound a result names one by one: a file that falls silent every
/// few seconds for twenty minutes would otherwise fill a result past what hosts pass on.
pub const MAX_QUIET_SAID: usize = 8;

/// The stretches with no sound, in a track that is not silent throughout (the first
/// [`MAX_QUIET_SAID`]; [`sound_notes`] counts the rest).
pub fn sound_stretches(l: &Loudness) -> Vec<Stretch> {
    if l.silent() {
        return Vec::new();
    }
    l.silent_stretches()
        .into_iter()
        .take(MAX_QUIET_SAID)
        .map(|(a, b)| Stretch::new(StretchKind::Quiet, a, b))
        .collect()
}

/// The body of the file's `moov` box, found by walking the top-level boxes.
fn read_moov(path: &Path) -> Result<Vec<u8>, String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    let len = f
        .metadata()
        .map_err(|e| format!("cannot read it: {e}"))?
        .len();
    let mut at = 0u64;
    let mut saw_ftyp = false;
    while at + 8 <= len {
        f.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
        let (kind, header, size) = box_header(&mut f, len - at)?;
        if at == 0 {
            saw_ftyp = &kind == b"ftyp";
            if !saw_ftyp {
                return Err("it is not an MP4 (no ftyp box at its start)".into());
            }
        }
        if &kind == b"moov" {
            let body = size - header;
            if body > MAX_MOOV {
                return Err(format!("its moov box is implausibly large ({body} bytes)"));
            }
            let mut moov = vec![0u8; body as usize];
            f.read_exact(&mut moov)
                .map_err(|_| "it is cut short inside its moov box".to_string())?;
            return Ok(moov);
        }
        at += size;
    }
    Err(if saw_ftyp {
        "it has no moov box (cut short, or still being written)".into()
    } else {
        "it is empty or too short to be an MP4".into()
    })
}

/// The `moov` body of an MP4 held in memory (tests).
#[cfg(test)]
fn moov_of(file: &[u8]) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("t.mp4");
    std::fs::write(&path, file).map_err(|e| e.to_string())?;
    read_moov(&path)
}

/// A box's type, header length and whole size, checked against `left` bytes.
fn box_header(r: &mut impl Read, left: u64) -> Result<([u8; 4], u64, u64), String> {
    let mut h = [0u8; 8];
    r.read_exact(&mut h)
        .map_err(|_| "it is cut short inside a box header".to_string())?;
    let kind = [h[4], h[5], h[6], h[7]];
    let (header, size) = match u32::from_be_bytes([h[0], h[1], h[2], h[3]]) {
        0 => (8, left), // to the end of the file
        1 => {
            let mut big = [0u8; 8];
            r.read_exact(&mut big)
                .map_err(|_| "it is cut short inside a box header".to_string())?;
            (16, u64::from_be_bytes(big))
        }
        n => (8, n as u64),
    };
    if size < header || size > left {
        return Err(format!(
            "its {} box claims {size} bytes where {left} are left: damaged or cut short",
            String::from_utf8_lossy(&kind)
        ));
    }
    Ok((kind, header, size))
}

/// A box's children: (type, body).
type Boxes<'a> = Vec<([u8; 4], &'a [u8])>;

/// The child boxes of `data`, at most [`MAX_CHILDREN`] of them.
fn children(data: &[u8]) -> Result<Boxes<'_>, String> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 8 <= data.len() {
        if out.len() == MAX_CHILDREN {
            return Err(format!(
                "one of its boxes holds more than {MAX_CHILDREN} others: damaged or made to be read slowly"
            ));
        }
        let mut cursor = &data[at..];
        let (kind, header, size) = box_header(&mut cursor, (data.len() - at) as u64)?;
        out.push((kind, &data[at + header as usize..at + size as usize]));
        at += size as usize;
    }
    Ok(out)
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn facts_of_moov(moov: &[u8]) -> Result<Mp4Facts, String> {
    let boxes = children(moov)?;
    let mvhd = boxes
        .iter()
        .find(|(k, _)| k == b"mvhd")
        .map(|(_, b)| *b)
        .ok_or("its moov box has no movie header (mvhd)")?;
    // version 0: 4 created, 4 modified, 4 timescale, 4 duration; version 1: 8, 8, 4, 8.
    let (timescale, duration) = match mvhd.first() {
        Some(1) => (be_u32(mvhd, 20), be_u64(mvhd, 24)),
        _ => (be_u32(mvhd, 12), be_u32(mvhd, 16).map(u64::from)),
    };
    let (Some(timescale), Some(duration)) = (timescale.filter(|t| *t > 0), duration) else {
        return Err("its movie header (mvhd) is damaged".into());
    };
    let mut facts = Mp4Facts {
        duration_s: duration as f64 / timescale as f64,
        width: None,
        height: None,
        audio: false,
        silent: None,
    };
    for (_, trak) in boxes.iter().filter(|(k, _)| k == b"trak") {
        let parts = children(trak)?;
        let handler = parts
            .iter()
            .find(|(k, _)| k == b"mdia")
            .and_then(|(_, mdia)| children(mdia).ok())
            .and_then(|m| m.into_iter().find(|(k, _)| k == b"hdlr"))
            .and_then(|(_, hdlr)| hdlr.get(8..12).map(|h| [h[0], h[1], h[2], h[3]]));
        match handler.as_ref() {
            Some(b"soun") => facts.audio = true,
            Some(b"vide") => {
                if let Some((_, tkhd)) = parts.iter().find(|(k, _)| k == b"tkhd") {
                    // Width and height are the last 8 bytes, 16.16 fixed point.
                    let n = tkhd.len();
                    if n >= 8 {
                        facts.width = be_u32(tkhd, n - 8).map(|w| w >> 16).filter(|w| *w > 0);
                        facts.height = be_u32(tkhd, n - 4).map(|h| h >> 16).filter(|h| *h > 0);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(facts)
}

#[cfg(test)]
mod fixture_tests {
    use super::*;

    /// Twenty minutes falling silent for six seconds in every seven: the first few stretches
    /// named, the rest counted, so a result stays within what hosts pass on.
    #[test]
    fn stretches_with_no_sound_are_named_up_to_a_bound() {
        let per_second: Vec<f32> = (0..1200)
            .map(|s| if s % 7 == 0 { 0.2 } else { 0.0 })
            .collect();
        let l = Loudness {
            per_second,
            measured_to_s: None,
        };
        assert_eq!(sound_stretches(&l).len(), MAX_QUIET_SAID);
        let more = l.silent_stretches().len() - MAX_QUIET_SAID;
        assert!(more > 100, "{more}");
        assert_eq!(
            sound_notes(&l),
            [format!(
                "{more} more stretches with no sound after the first {MAX_QUIET_SAID}."
            )]
        );
    }

    fn data(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/mp4")
            .join(name)
    }

    #[test]
    fn a_tone_is_heard_and_digital_silence_is_said() {
        let tone = loudness(&data("high-tone.mp4")).unwrap().unwrap();
        // 6 s of sound (the encoder's last frame runs a little into a seventh second).
        assert!((6..=7).contains(&tone.per_second.len()), "{tone:?}");
        assert!(!tone.silent() && sound_notes(&tone).is_empty(), "{tone:?}");
        let quiet = loudness(&data("high-silent.mp4")).unwrap().unwrap();
        assert!(quiet.silent(), "{quiet:?}");
        // Silence throughout is a fact of the file, not a stretch in it.
        assert!(sound_notes(&quiet).is_empty() && sound_stretches(&quiet).is_empty());
    }

    /// nemo-sim's built-in renders carry their music as FLAC: heard when it is a tone, said
    /// when it is digital silence.
    #[test]
    fn a_flac_tone_is_heard_and_flac_silence_is_said() {
        use nemo_sim::mp4::{encode_movie, Pcm, Planes};
        let dir = tempfile::tempdir().unwrap();
        let shots = [(3_000, Planes::solid(256, 144, [81, 90, 240]))];
        for (pcm, silent) in [
            (Pcm::tone(440.0, 0.2, 3_000), false),
            (Pcm::silence(3_000), true),
        ] {
            let path = dir.path().join("flac.mp4");
            std::fs::write(&path, encode_movie(&shots, Some(&pcm))).unwrap();
            assert!(inspect(&path).unwrap().audio);
            let l = loudness(&path).unwrap().unwrap();
            assert_eq!(l.per_second.len(), 3, "{l:?}");
            assert_eq!(l.silent(), silent, "{l:?}");
            if !silent {
                // A sine at 0.2 of full scale: RMS 0.2/√2.
                let rms = 0.2 / 2f32.sqrt();
                assert!(
                    l.per_second.iter().all(|r| (r - rms).abs() < 0.005),
                    "{l:?}"
                );
            }
        }
    }

    #[test]
    fn a_sound_coded_otherwise_or_described_wrongly_is_a_reason() {
        use nemo_sim::mp4::{encode_movie, Pcm, Planes};
        let dir = tempfile::tempdir().unwrap();
        let shots = [(1_000, Planes::solid(256, 144, [81, 90, 240]))];
        let file = encode_movie(&shots, Some(&Pcm::tone(440.0, 0.2, 1_000)));
        let at = |kind: &[u8]| file.windows(4).position(|w| w == kind).unwrap();
        let path = dir.path().join("other.mp4");
        let mut opus = file.clone();
        let entry = at(b"fLaC");
        opus[entry..entry + 4].copy_from_slice(b"Opus");
        std::fs::write(&path, &opus).unwrap();
        let why = loudness(&path).unwrap_err();
        assert!(why.contains("coded as Opus"), "{why}");
        // The dfLa's only block made padding: no STREAMINFO.
        let mut no_info = file.clone();
        no_info[at(b"dfLa") + 8] = 0x81;
        std::fs::write(&path, &no_info).unwrap();
        let why = loudness(&path).unwrap_err();
        assert!(why.contains("no STREAMINFO"), "{why}");
        // Its length past the box.
        let mut long = file.clone();
        long[at(b"dfLa") + 11] = 200;
        std::fs::write(&path, &long).unwrap();
        assert!(loudness(&path).unwrap_err().contains("cut short"));
    }

    #[test]
    fn no_sound_track_is_none_and_a_cut_file_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let picture_only = dir.path().join("v.mp4");
        std::fs::write(
            &picture_only,
            nemo_sim::mp4::encode(&[nemo_sim::mp4::Scene {
                duration_ms: 1000,
                yuv: [81, 90, 240],
            }]),
        )
        .unwrap();
        assert_eq!(loudness(&picture_only).unwrap(), None);
        let bytes = std::fs::read(data("high-tone.mp4")).unwrap();
        // moov is at the end of ffmpeg's files: cut inside the sound, the tables point past it.
        let cut = dir.path().join("cut.mp4");
        let mut moved = bytes.clone();
        moved.truncate(bytes.len() / 2);
        std::fs::write(&cut, &moved).unwrap();
        assert!(loudness(&cut).is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A box: size, type, body.
    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn mvhd(timescale: u32, duration: u32) -> Vec<u8> {
        let mut b = vec![0u8; 4 + 8];
        b.extend_from_slice(&timescale.to_be_bytes());
        b.extend_from_slice(&duration.to_be_bytes());
        b.extend_from_slice(&[0u8; 80]);
        bx(b"mvhd", &b)
    }

    fn trak(handler: &[u8; 4], size: Option<(u32, u32)>) -> Vec<u8> {
        let mut tkhd = vec![0u8; 76];
        if let Some((w, h)) = size {
            tkhd.extend_from_slice(&(w << 16).to_be_bytes());
            tkhd.extend_from_slice(&(h << 16).to_be_bytes());
        } else {
            tkhd.extend_from_slice(&[0u8; 8]);
        }
        let mut hdlr = vec![0u8; 8];
        hdlr.extend_from_slice(handler);
        hdlr.extend_from_slice(&[0u8; 13]);
        let mdia = bx(b"mdia", &bx(b"hdlr", &hdlr));
        bx(b"trak", &[bx(b"tkhd", &tkhd), mdia].concat())
    }

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), bytes).unwrap();
        f
    }

    fn mp4(moov_at_end: bool) -> Vec<u8> {
        let ftyp = bx(b"ftyp", b"isom\0\0\x02\0isomavc1");
        let moov = bx(
            b"moov",
            &[
                mvhd(1000, 20_500),
                trak(b"vide", Some((1920, 1080))),
                trak(b"soun", None),
            ]
            .concat(),
        );
        let mdat = bx(b"mdat", &[7u8; 64]);
        if moov_at_end {
            [ftyp, mdat, moov].concat()
        } else {
            [ftyp, moov, mdat].concat()
        }
    }

    #[test]
    fn the_facts_are_read_wherever_the_moov_is() {
        for end in [false, true] {
            let f = file(&mp4(end));
            let facts = inspect(f.path()).unwrap();
            assert_eq!(facts.duration_s, 20.5);
            assert_eq!((facts.width, facts.height), (Some(1920), Some(1080)));
            assert!(facts.audio);
        }
    }

    #[test]
    fn a_damaged_or_cut_file_gives_a_reason_at_every_length() {
        let whole = mp4(true);
        for cut in 0..whole.len() {
            let f = file(&whole[..cut]);
            assert!(inspect(f.path()).is_err(), "cut at {cut}");
        }
        let mut lying = whole.clone();
        lying[..4].copy_from_slice(&0x7fff_ffffu32.to_be_bytes()); // ftyp claims more than there is
        assert!(inspect(file(&lying).path()).unwrap_err().contains("claims"));
        assert!(inspect(file(b"not a video at all").path()).is_err());
    }
}

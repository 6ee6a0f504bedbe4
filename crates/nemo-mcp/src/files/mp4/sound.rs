//! The sound track: how it is coded (AAC in `mp4a`/`esds`, as renders are; FLAC in
//! `fLaC`/`dfLa`), and whether it can be heard: decoded in this process (Symphonia's pure-Rust
//! decoders) and measured second by second. A render whose music failed comes back with a sound
//! track of digital silence; only decoding tells that from music.

use super::children;
use super::track::{child, find_track, sample_list, table, Sample};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use symphonia_bundle_flac::FlacDecoder;
use symphonia_codec_aac::AacDecoder;
use symphonia_core::codecs::audio::well_known::{CODEC_ID_AAC, CODEC_ID_FLAC};
use symphonia_core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia_core::packet::Packet;

/// How a sound track is coded, with what its decoder needs to start.
#[derive(Debug, Clone, PartialEq)]
pub enum SoundCodec {
    /// The AudioSpecificConfig from `esds`.
    Aac { config: Vec<u8> },
    /// The STREAMINFO block's body from `dfLa`.
    Flac { stream_info: Vec<u8> },
}

/// A sound track: its coding and its packets.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioTrack {
    pub timescale: u32,
    pub codec: SoundCodec,
    pub samples: Vec<Sample>,
}

/// The first sound track of a `moov` box's body (`None`: it has none). One coded otherwise
/// than AAC or FLAC is a reason, said as such.
pub fn audio_track(moov: &[u8]) -> Result<Option<AudioTrack>, String> {
    let Some((timescale, stbl)) = find_track(moov, b"soun")? else {
        return Ok(None);
    };
    let stsd = table(stbl, b"stsd")?.ok_or("the sound track has no sample description")?;
    let entries = children(stsd.get(8..).ok_or("the sample description is cut short")?)?;
    let (kind, entry) = entries
        .first()
        .ok_or("the sound track describes no samples")?;
    // An audio sample entry has 28 bytes of fields before its child boxes.
    let boxes = entry
        .get(28..)
        .ok_or("the sound's sample entry is cut short")?;
    let codec = match kind {
        b"mp4a" => SoundCodec::Aac {
            config: aac_config(boxes)?,
        },
        b"fLaC" => SoundCodec::Flac {
            stream_info: flac_stream_info(boxes)?,
        },
        other => {
            return Err(format!(
                "its sound is coded as {}, which is not decoded here",
                String::from_utf8_lossy(other).trim()
            ))
        }
    };
    Ok(Some(AudioTrack {
        timescale,
        codec,
        samples: sample_list(stbl)?,
    }))
}

/// The STREAMINFO block's body in the `dfLa` box among a `fLaC` entry's child `boxes`.
fn flac_stream_info(boxes: &[u8]) -> Result<Vec<u8>, String> {
    let dfla = child(boxes, b"dfLa")?.ok_or("the FLAC sample entry has no dfLa")?;
    // Version and flags, then metadata blocks: last-block flag and type, 24-bit length, body.
    let mut at = 4usize;
    while let Some(header) = dfla.get(at..at + 4) {
        let len =
            usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
        let body = dfla
            .get(at + 4..at + 4 + len)
            .ok_or("the dfLa box is cut short")?;
        if header[0] & 0x7f == 0 {
            return Ok(body.to_vec());
        }
        if header[0] & 0x80 != 0 {
            break;
        }
        at += 4 + len;
    }
    Err("the dfLa box has no STREAMINFO block".into())
}

/// A second quieter than this (RMS, about −60 dBFS) counts as silent.
const SILENT_RMS: f32 = 0.001;
/// A silent stretch is said from this long (a pause between songs is shorter).
pub const SILENT_STRETCH_S: f64 = 5.0;
/// The largest sound packet read (an AAC frame is a few hundred bytes, a FLAC one a few kilobytes).
const MAX_PACKET: u32 = 1 << 20;
/// The most seconds of sound measured: a promo is under a minute, and a long video's silent
/// music shows long before this. Past it the sound is not decoded (said in [`Loudness::measured_to_s`]).
pub const MAX_MEASURED_S: u64 = 20 * 60;
/// The most sound bytes decoded in one check (20 minutes of AAC at 320 kbit/s is 48 MB): a
/// table that points every packet at the same megabyte is stopped here.
const MAX_SOUND_BYTES: u64 = 64 << 20;
/// The most sound packets decoded in one check (20 minutes of 48 kHz AAC is 56,250).
const MAX_PACKETS: usize = 120_000;

/// How loud the sound track is, second by second.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Loudness {
    /// RMS of each second (0–1 full scale).
    pub per_second: Vec<f32>,
    /// Set when the measure stopped before the sound's end (at [`MAX_MEASURED_S`], or at the
    /// byte or packet bound): the seconds measured.
    pub measured_to_s: Option<u64>,
}

impl Loudness {
    /// No second is above the silence line.
    pub fn silent(&self) -> bool {
        !self.per_second.is_empty() && self.per_second.iter().all(|r| *r < SILENT_RMS)
    }

    /// Silent stretches of [`SILENT_STRETCH_S`] or more: (from, to) in seconds.
    pub fn silent_stretches(&self) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, r) in self.per_second.iter().chain([&1.0]).enumerate() {
            match (start, *r < SILENT_RMS) {
                (None, true) => start = Some(i),
                (Some(s), false) => {
                    if (i - s) as f64 >= SILENT_STRETCH_S {
                        out.push((s as f64, i.min(self.per_second.len()) as f64));
                    }
                    start = None;
                }
                _ => {}
            }
        }
        out
    }
}

/// A decoder for `codec`.
fn decoder(codec: &SoundCodec) -> Result<Box<dyn AudioDecoder>, String> {
    let mut params = AudioCodecParameters::new();
    let options = AudioDecoderOptions::default();
    let made: Result<Box<dyn AudioDecoder>, _> = match codec {
        SoundCodec::Aac { config } => {
            params
                .for_codec(CODEC_ID_AAC)
                .with_extra_data(config.clone().into_boxed_slice());
            AacDecoder::try_new(&params, &options).map(|d| Box::new(d) as _)
        }
        SoundCodec::Flac { stream_info } => {
            params
                .for_codec(CODEC_ID_FLAC)
                .with_extra_data(stream_info.clone().into_boxed_slice());
            FlacDecoder::try_new(&params, &options).map(|d| Box::new(d) as _)
        }
    };
    made.map_err(|e| format!("its sound cannot be decoded here: {e}"))
}

/// Decode the sound track of the file at `path` and measure it, over the `duration_s` its
/// movie header gives (never more than [`MAX_MEASURED_S`]). Memory is one slot per second
/// measured and one packet; time, at most [`MAX_PACKETS`] and [`MAX_SOUND_BYTES`] decoded,
/// whatever the sample tables claim.
pub fn loudness(path: &Path, track: &AudioTrack, duration_s: f64) -> Result<Loudness, String> {
    let mut decoder = decoder(&track.codec)?;
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    // The seconds measured: the file's own length (its last packet may run a little into the
    // next second), bounded.
    let seconds = if duration_s.is_finite() && duration_s > 0.0 {
        (duration_s.ceil() as u64).saturating_add(1)
    } else {
        0
    };
    let slots = seconds.min(MAX_MEASURED_S) as usize;
    let mut sums: Vec<(f64, u64)> = Vec::with_capacity(slots.min(4096));
    let mut pcm: Vec<f32> = Vec::new();
    let mut data = Vec::new();
    let (mut bytes, mut packets) = (0u64, 0usize);
    let mut cut = seconds > MAX_MEASURED_S;
    for s in &track.samples {
        if s.size > MAX_PACKET || s.offset.saturating_add(u64::from(s.size)) > len {
            return Err("its sound track runs past the end of the file (cut short?)".into());
        }
        let second = (s.shows_at.max(0) as u64 / u64::from(track.timescale)) as usize;
        if second >= slots {
            continue; // past the file's own length, or past what is measured
        }
        bytes += u64::from(s.size);
        packets += 1;
        if bytes > MAX_SOUND_BYTES || packets > MAX_PACKETS {
            cut = true;
            break;
        }
        data.resize(s.size as usize, 0);
        file.seek(SeekFrom::Start(s.offset))
            .and_then(|_| file.read_exact(&mut data))
            .map_err(|e| format!("its sound cannot be read: {e}"))?;
        let packet = Packet::new(0, s.shows_at.into(), 0u64.into(), data.clone());
        let Ok(buf) = decoder.decode(&packet) else {
            continue; // a damaged packet: the rest still tells
        };
        buf.copy_to_vec_interleaved(&mut pcm);
        if sums.len() <= second {
            sums.resize(second + 1, (0.0, 0));
        }
        let slot = &mut sums[second];
        for v in &pcm {
            slot.0 += f64::from(*v) * f64::from(*v);
            slot.1 += 1;
        }
    }
    Ok(Loudness {
        measured_to_s: cut.then_some(sums.len() as u64),
        per_second: sums
            .iter()
            .map(|(sq, n)| {
                if *n == 0 {
                    0.0
                } else {
                    (sq / *n as f64).sqrt() as f32
                }
            })
            .collect(),
    })
}

/// The AudioSpecificConfig inside the `esds` among an `mp4a` entry's child `boxes` (ES
/// descriptor 0x03 → decoder config 0x04 → decoder specific info 0x05).
fn aac_config(boxes: &[u8]) -> Result<Vec<u8>, String> {
    let esds = child(boxes, b"esds")?.ok_or("the AAC sample entry has no esds")?;
    let mut at = 4usize; // version and flags
                         // Walk the descriptors: a tag, a length in up to four 7-bit bytes, then the body.
    let descriptor = |at: &mut usize| -> Result<(u8, usize), String> {
        let tag = *esds.get(*at).ok_or("the esds is cut short")?;
        *at += 1;
        let mut len = 0usize;
        for _ in 0..4 {
            let b = *esds.get(*at).ok_or("the esds is cut short")?;
            *at += 1;
            len = (len << 7) | usize::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        Ok((tag, len))
    };
    let (tag, _) = descriptor(&mut at)?;
    if tag != 0x03 {
        return Err("the esds has no ES descriptor".into());
    }
    let flags = *esds.get(at + 2).ok_or("the esds is cut short")?;
    at += 3; // ES_ID, flags
    if flags & 0x80 != 0 {
        at += 2; // dependsOn_ES_ID
    }
    if flags & 0x40 != 0 {
        at += 1 + usize::from(*esds.get(at).ok_or("the esds is cut short")?); // URL
    }
    if flags & 0x20 != 0 {
        at += 2; // OCR_ES_Id
    }
    let (tag, _) = descriptor(&mut at)?;
    if tag != 0x04 {
        return Err("the esds has no decoder configuration".into());
    }
    at += 13; // objectTypeIndication, streamType, bufferSize, max and average bitrate
    let (tag, len) = descriptor(&mut at)?;
    if tag != 0x05 {
        return Err("the esds has no AAC configuration".into());
    }
    Ok(esds
        .get(at..at + len)
        .ok_or("the esds's AAC configuration is cut short")?
        .to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretches_are_whole_seconds_of_quiet() {
        let l = Loudness {
            per_second: vec![0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.0],
            ..Default::default()
        };
        assert!(!l.silent());
        assert_eq!(l.silent_stretches(), vec![(1.0, 7.0)]);
        let quiet = Loudness {
            per_second: vec![0.0; 6],
            ..Default::default()
        };
        assert!(quiet.silent());
        assert_eq!(quiet.silent_stretches(), vec![(0.0, 6.0)]);
    }
}

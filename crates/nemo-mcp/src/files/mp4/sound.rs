//! Whether the sound track can be heard: its AAC decoded in this process (Symphonia's pure-Rust
//! AAC-LC decoder) and measured second by second. A render whose music failed comes back with
//! a sound track of digital silence; only decoding tells that from music.

use super::track::AudioTrack;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use symphonia_codec_aac::AacDecoder;
use symphonia_core::codecs::audio::well_known::CODEC_ID_AAC;
use symphonia_core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia_core::packet::Packet;

/// A second quieter than this (RMS, about −60 dBFS) counts as silent.
const SILENT_RMS: f32 = 0.001;
/// A silent stretch is said from this long (a pause between songs is shorter).
pub const SILENT_STRETCH_S: f64 = 5.0;
/// The largest sound packet read (an AAC frame is a few hundred bytes).
const MAX_PACKET: u32 = 1 << 20;

/// How loud the sound track is, second by second.
#[derive(Debug, Clone, PartialEq)]
pub struct Loudness {
    /// RMS of each second (0–1 full scale).
    pub per_second: Vec<f32>,
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

/// Decode the AAC track of the file at `path` and measure it.
pub fn loudness(path: &Path, track: &AudioTrack) -> Result<Loudness, String> {
    let mut params = AudioCodecParameters::new();
    params
        .for_codec(CODEC_ID_AAC)
        .with_extra_data(track.config.clone().into_boxed_slice());
    let mut decoder = AacDecoder::try_new(&params, &AudioDecoderOptions::default())
        .map_err(|e| format!("its sound cannot be decoded here: {e}"))?;
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut sums: Vec<(f64, u64)> = Vec::new();
    let mut pcm: Vec<f32> = Vec::new();
    let mut data = Vec::new();
    for s in &track.samples {
        if s.size > MAX_PACKET || s.offset.saturating_add(u64::from(s.size)) > len {
            return Err("its sound track runs past the end of the file (cut short?)".into());
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
        let second = (s.shows_at.max(0) as u64 / u64::from(track.timescale)) as usize;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretches_are_whole_seconds_of_quiet() {
        let l = Loudness {
            per_second: vec![0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.0],
        };
        assert!(!l.silent());
        assert_eq!(l.silent_stretches(), vec![(1.0, 7.0)]);
        let quiet = Loudness {
            per_second: vec![0.0; 6],
        };
        assert!(quiet.silent());
        assert_eq!(quiet.silent_stretches(), vec![(0.0, 6.0)]);
    }
}

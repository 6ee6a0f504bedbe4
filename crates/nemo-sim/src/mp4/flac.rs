//! The sound side of the built-in writer: a tone (the ffmpeg render's 440 Hz sine at a fifth of
//! full scale) as FLAC frames, for an `fLaC` track in the MP4 (the FLAC-in-ISOBMFF mapping).
//! FLAC because it needs no codec library: each frame is the fixed second-order predictor's
//! residual, Rice-coded, and every player (browsers included) and `ffprobe` read it.

/// Samples per second (as the ffmpeg render's music).
pub const RATE: u32 = 44_100;
/// Samples per frame (all but the last), one of FLAC's coded block sizes.
const BLOCK: usize = 4096;
/// FLAC's block-size code for 4,096 samples.
const BLOCK_CODE: u8 = 0b1100;
/// FLAC's sample-rate code for 44.1 kHz.
const RATE_CODE: u8 = 0b1001;

/// Mono 16-bit samples at [`RATE`].
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    pub samples: Vec<i16>,
}

impl Pcm {
    /// A sine of `hz` at `amplitude` (0–1 of full scale), `ms` long.
    pub fn tone(hz: f64, amplitude: f64, ms: u64) -> Pcm {
        let n = (ms * u64::from(RATE) / 1000) as usize;
        let peak = amplitude.clamp(0.0, 1.0) * f64::from(i16::MAX);
        let step = std::f64::consts::TAU * hz / f64::from(RATE);
        Pcm {
            samples: (0..n)
                .map(|i| (peak * (step * i as f64).sin()).round() as i16)
                .collect(),
        }
    }

    /// Digital silence, `ms` long (a render whose music failed).
    pub fn silence(ms: u64) -> Pcm {
        Pcm {
            samples: vec![0; (ms * u64::from(RATE) / 1000) as usize],
        }
    }
}

/// A sound as FLAC: the STREAMINFO block's body (the decoder's configuration) and the frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Flac {
    pub stream_info: [u8; 34],
    /// Each frame's bytes and how many samples it holds.
    pub frames: Vec<(Vec<u8>, u32)>,
}

/// Encode `pcm` as FLAC frames.
pub fn encode(pcm: &Pcm) -> Flac {
    let frames: Vec<(Vec<u8>, u32)> = pcm
        .samples
        .chunks(BLOCK)
        .enumerate()
        .map(|(i, block)| (frame(i as u64, block), block.len() as u32))
        .collect();
    let block = pcm.samples.len().clamp(16, BLOCK) as u64;
    let mut info = [0u8; 34];
    info[0..2].copy_from_slice(&(block as u16).to_be_bytes()); // smallest block (the last may be less)
    info[2..4].copy_from_slice(&(block as u16).to_be_bytes()); // largest block
                                                               // Frame sizes (6 bytes) unknown: 0. Then rate (20 bits), channels − 1 (3), bits − 1 (5),
                                                               // total samples (36); the MD5 (16 bytes) unknown: 0.
    let packed =
        (u64::from(RATE) << 44) | (15u64 << 36) | (pcm.samples.len() as u64 & ((1 << 36) - 1));
    info[10..18].copy_from_slice(&packed.to_be_bytes());
    Flac {
        stream_info: info,
        frames,
    }
}

/// One frame: header, one subframe (mono), padding, CRC-16.
fn frame(number: u64, block: &[i16]) -> Vec<u8> {
    let mut out = vec![0xff, 0xf8]; // sync code, fixed block size
    let full = block.len() == BLOCK;
    let block_code = if full { BLOCK_CODE } else { 0b0111 }; // 0111: the length follows
    out.push((block_code << 4) | RATE_CODE);
    out.push(0b100 << 1); // mono, 16 bits per sample
    utf8_number(number, &mut out);
    if !full {
        out.extend_from_slice(&((block.len() - 1) as u16).to_be_bytes());
    }
    out.push(crc8(&out));
    let mut bits = Bits::default();
    subframe(block, &mut bits);
    out.extend_from_slice(&bits.finish());
    let crc = crc16(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// A constant block as CONSTANT, a tiny one as VERBATIM, anything else as FIXED order 2 with
/// Rice-coded residuals (one partition, the parameter that codes it shortest).
fn subframe(block: &[i16], b: &mut Bits) {
    if block.iter().all(|s| Some(s) == block.first()) {
        b.put(0b0000_0000, 8);
        b.put(u64::from(block[0] as u16), 16);
        return;
    }
    if block.len() <= 2 {
        b.put(0b0000_0010, 8);
        for s in block {
            b.put(u64::from(*s as u16), 16);
        }
        return;
    }
    b.put(0b0001_0100, 8); // FIXED, order 2
    for s in &block[..2] {
        b.put(u64::from(*s as u16), 16);
    }
    let residual: Vec<u32> = block
        .windows(3)
        .map(|w| i32::from(w[2]) - 2 * i32::from(w[1]) + i32::from(w[0]))
        .map(|r| ((r << 1) ^ (r >> 31)) as u32)
        .collect();
    // The Rice parameter near log2 of the residuals' mean codes them close to shortest.
    let mean = residual.iter().map(|u| u64::from(*u)).sum::<u64>() / residual.len() as u64;
    let k = (64 - mean.leading_zeros()).saturating_sub(1).min(14);
    b.put(0b00, 2); // Rice, 4-bit parameters
    b.put(0, 4); // partition order 0
    b.put(u64::from(k), 4);
    for u in residual {
        // The quotient in unary (that many 0s, then a 1), then the low `k` bits.
        let mut q = u >> k;
        while q >= 32 {
            b.put(0, 32);
            q -= 32;
        }
        b.put(1, q + 1);
        b.put(u64::from(u & ((1 << k) - 1)), k);
    }
}

/// FLAC's frame number: UTF-8's scheme, extended to 36 bits.
fn utf8_number(n: u64, out: &mut Vec<u8>) {
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    let continuation = (1..=6).find(|c| n < 1u64 << (5 * c + 6)).unwrap_or(6);
    let lead_bits = 6 - continuation as u32;
    let marker = !(0xffu8 >> (continuation + 1));
    out.push(marker | ((n >> (6 * continuation)) as u8 & ((1 << lead_bits) - 1)));
    for c in (0..continuation).rev() {
        out.push(0x80 | ((n >> (6 * c)) as u8 & 0x3f));
    }
}

/// CRC-8, polynomial x⁸+x²+x+1 (FLAC's frame header check).
fn crc8(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |mut crc, byte| {
        crc ^= byte;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// CRC-16, polynomial x¹⁶+x¹⁵+x²+1 (FLAC's frame check).
fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |mut crc, byte| {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// Bits written most significant first.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    /// The low `count` bits of `value` (at most 32), whole bytes out as they fill.
    fn put(&mut self, value: u64, count: u32) {
        debug_assert!(count <= 32);
        self.acc = (self.acc << count) | (value & ((1u64 << count) - 1));
        self.n += count;
        while self.n >= 8 {
            self.n -= 8;
            self.out.push((self.acc >> self.n) as u8);
        }
        self.acc &= (1u64 << self.n) - 1;
    }

    /// The bytes, the last one padded with zeros.
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push((self.acc << (8 - self.n)) as u8);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_match_flacs_reference_values() {
        // The CRC catalogue's check values for "123456789".
        assert_eq!(crc8(b"123456789"), 0xf4);
        assert_eq!(crc16(b"123456789"), 0xfee8);
    }

    #[test]
    fn frame_numbers_use_utf8s_scheme() {
        let coded = |n| {
            let mut v = Vec::new();
            utf8_number(n, &mut v);
            v
        };
        assert_eq!(coded(5), vec![5]);
        assert_eq!(coded(0x7ff), vec![0xdf, 0xbf]);
        assert_eq!(coded(0x800), vec![0xe0, 0xa0, 0x80]);
        assert_eq!(coded(6460), "\u{193c}".as_bytes().to_vec());
    }

    #[test]
    fn a_tone_is_smaller_than_its_samples_and_its_frames_say_their_length() {
        let pcm = Pcm::tone(440.0, 0.2, 3_000);
        let flac = encode(&pcm);
        let bytes: usize = flac.frames.iter().map(|(f, _)| f.len()).sum();
        // Under half its 16-bit samples.
        assert!(bytes < pcm.samples.len(), "{bytes} bytes");
        let samples: u32 = flac.frames.iter().map(|(_, n)| n).sum();
        assert_eq!(samples as usize, pcm.samples.len());
        assert!(flac.frames.iter().all(|(f, _)| f[..2] == [0xff, 0xf8]));
        // STREAMINFO: 44.1 kHz, mono, 16 bits, 132,300 samples.
        let packed = u64::from_be_bytes(flac.stream_info[10..18].try_into().unwrap());
        assert_eq!(packed >> 44, 44_100);
        assert_eq!(packed >> 41 & 7, 0);
        assert_eq!(packed >> 36 & 31, 15);
        assert_eq!(packed & ((1 << 36) - 1), 132_300);
    }

    #[test]
    fn silence_is_constant_subframes() {
        let flac = encode(&Pcm::silence(1_000));
        // Header (7 or 9 bytes), CRC-8, subframe header + 16-bit value, CRC-16.
        assert!(
            flac.frames.iter().all(|(f, _)| f.len() <= 14),
            "{:?}",
            flac.frames[0].0
        );
    }
}

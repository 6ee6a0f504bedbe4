//! How large an H.264 stream's pictures are, read from a sequence parameter set (SPS) before a
//! decoder sees it. OpenH264 sizes its buffers from the SPS alone: one 4K keyframe takes it
//! about 96 MB, past the 64 MB the whole file check may use, whatever the container's own
//! `avc1` box claims. So every SPS a decoder would be given (the track's, and any sent inside
//! a sample) is read here first, and a picture larger than [`MAX_MACROBLOCKS`] is not decoded.

/// The largest picture decoded, in 16×16 macroblocks: 2048×2048 or 2560×1600 (OpenH264 then
/// takes about 51 MB; 1080p, 28 MB; 4K, 96 MB).
pub const MAX_MACROBLOCKS: u32 = 16_384;

/// A picture's size in macroblocks (width, height), from an SPS NAL unit (its header byte
/// first, emulation prevention bytes still in). `None`: not an SPS, or damaged.
pub fn macroblocks(nal: &[u8]) -> Option<(u32, u32)> {
    let (&header, body) = nal.split_first()?;
    if header & 0x1f != 7 {
        return None;
    }
    let rbsp = unescape(body);
    let mut b = Bits::new(&rbsp);
    let profile = b.bits(8)?;
    b.bits(16)?; // constraint flags, level
    b.ue()?; // seq_parameter_set_id
    if matches!(
        profile,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        let chroma_format = b.ue()?;
        if chroma_format == 3 {
            b.bits(1)?; // separate_colour_plane_flag
        }
        b.ue()?; // bit_depth_luma_minus8
        b.ue()?; // bit_depth_chroma_minus8
        b.bits(1)?; // qpprime_y_zero_transform_bypass_flag
        if b.bits(1)? == 1 {
            let lists = if chroma_format == 3 { 12 } else { 8 };
            for i in 0..lists {
                if b.bits(1)? == 1 {
                    scaling_list(&mut b, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    b.ue()?; // log2_max_frame_num_minus4
    match b.ue()? {
        0 => {
            b.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            b.bits(1)?; // delta_pic_order_always_zero_flag
            b.se()?; // offset_for_non_ref_pic
            b.se()?; // offset_for_top_to_bottom_field
            let cycle = b.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                b.se()?;
            }
        }
        2 => {}
        _ => return None,
    }
    b.ue()?; // max_num_ref_frames
    b.bits(1)?; // gaps_in_frame_num_value_allowed_flag
    let width = b.ue()?.checked_add(1)?;
    let map_units = b.ue()?.checked_add(1)?;
    let frames_only = b.bits(1)?;
    let height = map_units.checked_mul(2 - frames_only)?;
    Some((width, height))
}

/// Whether a decoder may be given this SPS: its pictures within [`MAX_MACROBLOCKS`]. The
/// reason otherwise, in words.
pub fn allowed(nal: &[u8]) -> Result<(), String> {
    match macroblocks(nal) {
        Some((w, h)) if u64::from(w) * u64::from(h) <= u64::from(MAX_MACROBLOCKS) => Ok(()),
        Some((w, h)) => Err(format!(
            "its pictures are {}×{}, larger than the {} macroblocks (2560×1600) decoded here",
            u64::from(w) * 16,
            u64::from(h) * 16,
            MAX_MACROBLOCKS
        )),
        None => Err("its sequence parameter set is damaged".into()),
    }
}

fn scaling_list(b: &mut Bits<'_>, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            let delta = i64::from(b.se()?);
            next = (last + delta + 256).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

/// The RBSP: `00 00 03` loses its `03`.
fn unescape(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut zeros = 0;
    for &byte in data {
        if zeros >= 2 && byte == 3 {
            zeros = 0;
            continue;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        out.push(byte);
    }
    out
}

struct Bits<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits { data, at: 0 }
    }

    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.at / 8)?;
        let bit = (byte >> (7 - self.at % 8)) & 1;
        self.at += 1;
        Some(u32::from(bit))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |v, _| Some((v << 1) | self.bit()?))
    }

    /// Exp-Golomb, unsigned: at most 31 leading zeros (a larger value is damage).
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        ((1u64 << zeros) - 1 + u64::from(rest)).try_into().ok()
    }

    fn se(&mut self) -> Option<i32> {
        let k = i64::from(self.ue()?);
        let v = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        v.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::mp4::Mp4File;
    use std::path::Path;

    fn sps_of(path: &Path) -> Vec<u8> {
        let track = Mp4File::open(path).unwrap().video_track().unwrap();
        track.sps[0].clone()
    }

    /// The sizes of real streams: x264's High profile (192×108 coded as 12×7 macroblocks) and
    /// nemo-sim's constrained baseline (256×144).
    #[test]
    fn picture_sizes_are_read_from_real_parameter_sets() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mp4");
        assert_eq!(
            macroblocks(&sps_of(&data.join("high-tone.mp4"))),
            Some((12, 7))
        );
        let dir = tempfile::tempdir().unwrap();
        let sim = dir.path().join("sim.mp4");
        let scene = nemo_sim::mp4::Scene {
            duration_ms: 1000,
            yuv: [16, 128, 128],
        };
        std::fs::write(&sim, nemo_sim::mp4::encode(&[scene])).unwrap();
        assert_eq!(macroblocks(&sps_of(&sim)), Some((16, 9)));
        assert!(allowed(&sps_of(&sim)).is_ok());
    }

    /// A 4K SPS (x264's, 3840×2160) is refused before any decoder sees it; damage and other
    /// NAL units are no size.
    #[test]
    fn a_picture_past_the_limit_or_damaged_is_refused() {
        // x264's, High profile, level 5.1, 3840×2160 (240×135 macroblocks), and its
        // constrained baseline one (ultrafast).
        let sps_4k = [
            0x67, 0x64, 0x00, 0x33, 0xac, 0xd9, 0x40, 0x3c, 0x00, 0x43, 0xec, 0x04, 0x40, 0x00,
            0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x05, 0x03, 0xc6, 0x0c, 0x65, 0x80,
        ];
        let baseline_4k = [
            0x67, 0x42, 0xc0, 0x33, 0xda, 0x00, 0xf0, 0x01, 0x0f, 0xb0, 0x11, 0x00, 0x00, 0x03,
            0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x14, 0x0f, 0x18, 0x32, 0xa0,
        ];
        assert_eq!(macroblocks(&baseline_4k), Some((240, 135)));
        assert_eq!(macroblocks(&sps_4k), Some((240, 135)));
        let refused = allowed(&sps_4k).unwrap_err();
        assert!(refused.contains("3840×2160"), "{refused}");
        assert_eq!(macroblocks(&sps_4k[..6]), None);
        assert_eq!(macroblocks(&[0x68, 0xee, 0x3c, 0x80]), None);
        assert!(allowed(&[0x67]).is_err());
        // A run of zeros where a size should be: no overflow, no size.
        assert_eq!(
            macroblocks(&[0x67, 0x42, 0, 0x1e, 0x80, 0, 0, 0, 0, 0]),
            None
        );
    }
}

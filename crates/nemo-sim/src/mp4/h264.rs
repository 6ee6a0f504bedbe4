//! The H.264 side of the built-in writer: the bitstream (Exp-Golomb codes, NAL units with
//! emulation prevention), the parameter sets, and two kinds of picture: an IDR picture of I_PCM
//! macroblocks (the picture's own samples, no transform) and a P picture that skips every
//! macroblock (the previous picture repeats).

struct Bits {
    out: Vec<u8>,
    cur: u8,
    n: u8,
}

impl Bits {
    fn new() -> Self {
        Self {
            out: Vec::new(),
            cur: 0,
            n: 0,
        }
    }
    fn bit(&mut self, b: bool) {
        self.cur = (self.cur << 1) | b as u8;
        self.n += 1;
        if self.n == 8 {
            self.out.push(self.cur);
            self.cur = 0;
            self.n = 0;
        }
    }
    fn bits(&mut self, value: u32, count: u8) {
        for i in (0..count).rev() {
            self.bit((value >> i) & 1 == 1);
        }
    }
    fn ue(&mut self, v: u32) {
        let v = v as u64 + 1;
        let len = 64 - v.leading_zeros() as u8;
        for _ in 0..len - 1 {
            self.bit(false);
        }
        for i in (0..len).rev() {
            self.bit((v >> i) & 1 == 1);
        }
    }
    fn se(&mut self, v: i32) {
        self.ue(if v > 0 {
            (2 * v - 1) as u32
        } else {
            (-2 * v) as u32
        });
    }
    /// Whole bytes; quick when the writer is on a byte boundary (I_PCM samples are).
    fn bytes(&mut self, bytes: &[u8]) {
        if self.n == 0 {
            self.out.extend_from_slice(bytes);
        } else {
            for b in bytes {
                self.bits(u32::from(*b), 8);
            }
        }
    }
    fn align_zero(&mut self) {
        while self.n != 0 {
            self.bit(false);
        }
    }
    fn trailing(mut self) -> Vec<u8> {
        self.bit(true);
        self.align_zero();
        self.out
    }
}

/// NAL header + payload with emulation prevention bytes.
pub(super) fn nal(header: u8, rbsp: &[u8]) -> Vec<u8> {
    let mut out = vec![header];
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

pub(super) const LOG2_MAX_FRAME_NUM: u8 = 16;

pub(super) fn sps(width: u32, height: u32) -> Vec<u8> {
    let mut b = Bits::new();
    b.bits(66, 8); // profile_idc: baseline
    b.bits(0b1100_0000, 8); // constraint_set0/1: constrained baseline
    b.bits(if width * height > 414_720 { 40 } else { 30 }, 8); // level_idc: 3.0, or 4.0 above 720×576
    b.ue(0); // seq_parameter_set_id
    b.ue((LOG2_MAX_FRAME_NUM - 4) as u32);
    b.ue(2); // pic_order_cnt_type 2: output order = decoding order
    b.ue(1); // max_num_ref_frames
    b.bit(false); // gaps_in_frame_num_value_allowed_flag
    b.ue(width / 16 - 1);
    b.ue(height / 16 - 1);
    b.bit(true); // frame_mbs_only_flag
    b.bit(true); // direct_8x8_inference_flag
    b.bit(false); // frame_cropping_flag
    b.bit(false); // vui_parameters_present_flag
    nal(0x67, &b.trailing())
}

pub(super) fn pps() -> Vec<u8> {
    let mut b = Bits::new();
    b.ue(0); // pic_parameter_set_id
    b.ue(0); // seq_parameter_set_id
    b.bit(false); // entropy_coding_mode_flag: CAVLC
    b.bit(false); // bottom_field_pic_order_in_frame_present_flag
    b.ue(0); // num_slice_groups_minus1
    b.ue(0); // num_ref_idx_l0_default_active_minus1
    b.ue(0); // num_ref_idx_l1_default_active_minus1
    b.bit(false); // weighted_pred_flag
    b.bits(0, 2); // weighted_bipred_idc
    b.se(0); // pic_init_qp_minus26
    b.se(0); // pic_init_qs_minus26
    b.se(0); // chroma_qp_index_offset
    b.bit(false); // deblocking_filter_control_present_flag
    b.bit(false); // constrained_intra_pred_flag
    b.bit(false); // redundant_pic_cnt_present_flag
    nal(0x68, &b.trailing())
}

/// A picture in 4:2:0 YCbCr (BT.601, limited range), its sides multiples of 16.
#[derive(Debug, Clone, PartialEq)]
pub struct Planes {
    pub(super) width: u32,
    pub(super) height: u32,
    y: Vec<u8>,
    cb: Vec<u8>,
    cr: Vec<u8>,
}

impl Planes {
    /// One colour all over.
    pub fn solid(width: u32, height: u32, [y, cb, cr]: [u8; 3]) -> Planes {
        let (w, h) = (width.max(16) / 16 * 16, height.max(16) / 16 * 16);
        let (luma, chroma) = ((w * h) as usize, (w * h / 4) as usize);
        Planes {
            width: w,
            height: h,
            y: vec![y; luma],
            cb: vec![cb; chroma],
            cr: vec![cr; chroma],
        }
    }

    /// From RGB pixels (`width`×`height`×3 bytes; sides rounded down to multiples of 16).
    pub fn from_rgb(width: u32, height: u32, rgb: &[u8]) -> Planes {
        let mut p = Planes::solid(width, height, [16, 128, 128]);
        let stride = width as usize * 3;
        let at = |x: usize, y: usize| -> [f32; 3] {
            let i = y * stride + x * 3;
            match rgb.get(i..i + 3) {
                Some(px) => [f32::from(px[0]), f32::from(px[1]), f32::from(px[2])],
                None => [0.0; 3],
            }
        };
        let (w, h) = (p.width as usize, p.height as usize);
        let clamp = |v: f32| v.round().clamp(1.0, 254.0) as u8;
        for y in 0..h {
            for x in 0..w {
                let [r, g, b] = at(x, y);
                p.y[y * w + x] = clamp(16.0 + 0.257 * r + 0.504 * g + 0.098 * b);
            }
        }
        for y in 0..h / 2 {
            for x in 0..w / 2 {
                let mut sum = [0f32; 3];
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let px = at(2 * x + dx, 2 * y + dy);
                    sum = [sum[0] + px[0], sum[1] + px[1], sum[2] + px[2]];
                }
                let [r, g, b] = sum.map(|v| v / 4.0);
                p.cb[y * (w / 2) + x] = clamp(128.0 - 0.148 * r - 0.291 * g + 0.439 * b);
                p.cr[y * (w / 2) + x] = clamp(128.0 + 0.439 * r - 0.368 * g - 0.071 * b);
            }
        }
        p
    }

    pub(super) fn mbs(&self) -> u32 {
        (self.width / 16) * (self.height / 16)
    }
}

/// An IDR picture, every macroblock I_PCM (the picture's own samples).
pub(super) fn idr(picture: &Planes, idr_pic_id: u32) -> Vec<u8> {
    let mut b = Bits::new();
    b.ue(0); // first_mb_in_slice
    b.ue(7); // slice_type: I (all slices)
    b.ue(0); // pic_parameter_set_id
    b.bits(0, LOG2_MAX_FRAME_NUM); // frame_num
    b.ue(idr_pic_id);
    b.bit(false); // no_output_of_prior_pics_flag
    b.bit(false); // long_term_reference_flag
    b.se(0); // slice_qp_delta
    let (w, cw) = (picture.width as usize, picture.width as usize / 2);
    // PCM samples of 0 are best avoided (older decoders reject them).
    let row = |plane: &[u8], stride: usize, x: usize, y: usize, n: usize| -> Vec<u8> {
        plane[y * stride + x..y * stride + x + n]
            .iter()
            .map(|v| (*v).max(1))
            .collect()
    };
    for mb in 0..picture.mbs() as usize {
        let (mx, my) = (mb % (w / 16), mb / (w / 16));
        b.ue(25); // mb_type: I_PCM
        b.align_zero(); // pcm_alignment_zero_bit
        for y in 0..16 {
            b.bytes(&row(&picture.y, w, mx * 16, my * 16 + y, 16));
        }
        for plane in [&picture.cb, &picture.cr] {
            for y in 0..8 {
                b.bytes(&row(plane, cw, mx * 8, my * 8 + y, 8));
            }
        }
    }
    nal(0x65, &b.trailing())
}

/// A P picture that repeats the previous one (every macroblock skipped).
pub(super) fn repeat(frame_num: u32, mbs: u32) -> Vec<u8> {
    let mut b = Bits::new();
    b.ue(0); // first_mb_in_slice
    b.ue(5); // slice_type: P (all slices)
    b.ue(0); // pic_parameter_set_id
    b.bits(frame_num, LOG2_MAX_FRAME_NUM);
    b.bit(false); // num_ref_idx_active_override_flag
    b.bit(false); // ref_pic_list_modification_flag_l0
    b.bit(false); // adaptive_ref_pic_marking_mode_flag
    b.se(0); // slice_qp_delta
    b.ue(mbs); // mb_skip_run: the whole picture
    nal(0x41, &b.trailing())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_codes() {
        let mut b = Bits::new();
        b.ue(0); // 1
        b.ue(1); // 010
        b.ue(2); // 011
        b.se(-1); // ue(2) = 011
        assert_eq!(b.trailing(), vec![0b1010_0110, 0b1110_0000]);
    }

    #[test]
    fn emulation_prevention() {
        assert_eq!(
            nal(0x65, &[0, 0, 1, 0, 0, 0]),
            vec![0x65, 0, 0, 3, 1, 0, 0, 3, 0]
        );
    }
}

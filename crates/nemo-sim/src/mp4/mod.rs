//! A small but valid H.264/MP4 writer, so renders work on a machine with nothing but Rust.
//!
//! Each scene is one IDR picture made of I_PCM macroblocks (raw samples, no transform needed),
//! followed by P pictures that skip every macroblock (the picture repeats). The result is a
//! constrained-baseline stream that any player and `ffprobe` accept: a few kB per solid-colour
//! scene at 256×144 ([`encode`]), or a real picture per scene at any size ([`encode_pictures`]),
//! about 1.4 MB per scene at 1280×720 (raw samples, so nothing is lost).

/// One solid-colour scene.
#[derive(Debug, Clone, Copy)]
pub struct Scene {
    pub duration_ms: u64,
    /// Y, Cb, Cr.
    pub yuv: [u8; 3],
}

pub const WIDTH: u32 = 256;
pub const HEIGHT: u32 = 144;
pub const FPS: u32 = 10;

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
fn nal(header: u8, rbsp: &[u8]) -> Vec<u8> {
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

const LOG2_MAX_FRAME_NUM: u8 = 16;

fn sps(width: u32, height: u32) -> Vec<u8> {
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

fn pps() -> Vec<u8> {
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
    width: u32,
    height: u32,
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

    fn mbs(&self) -> u32 {
        (self.width / 16) * (self.height / 16)
    }
}

/// An IDR picture, every macroblock I_PCM (the picture's own samples).
fn idr(picture: &Planes, idr_pic_id: u32) -> Vec<u8> {
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
fn repeat(frame_num: u32, mbs: u32) -> Vec<u8> {
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

fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(&((body.len() + 8) as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn full(kind: &[u8; 4], version_flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = version_flags.to_be_bytes().to_vec();
    b.extend_from_slice(body);
    boxed(kind, &b)
}

const MATRIX: [u32; 9] = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000];

fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

/// The sample description: one `avc1` entry with its `avcC` (the SPS and the PPS).
fn stsd(sps: &[u8], pps: &[u8], (width, height): (u32, u32)) -> Vec<u8> {
    let mut avcc = vec![1, sps[1], sps[2], sps[3], 0xff, 0xe1];
    avcc.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    avcc.extend_from_slice(sps);
    avcc.push(1);
    avcc.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    avcc.extend_from_slice(pps);
    let avcc = boxed(b"avcC", &avcc);
    let mut avc1 = vec![0; 6];
    avc1.extend_from_slice(&1u16.to_be_bytes());
    avc1.extend_from_slice(&[0; 16]);
    avc1.extend_from_slice(&(width as u16).to_be_bytes());
    avc1.extend_from_slice(&(height as u16).to_be_bytes());
    avc1.extend_from_slice(&u32s(&[0x0048_0000, 0x0048_0000, 0]));
    avc1.extend_from_slice(&1u16.to_be_bytes());
    avc1.extend_from_slice(&[0; 32]);
    avc1.extend_from_slice(&[0x00, 0x18, 0xff, 0xff]);
    avc1.extend_from_slice(&avcc);
    full(
        b"stsd",
        0,
        &[&1u32.to_be_bytes()[..], &boxed(b"avc1", &avc1)].concat(),
    )
}

/// Encode solid-colour scenes into a complete MP4 file (256×144).
pub fn encode(scenes: &[Scene]) -> Vec<u8> {
    let shots: Vec<(u64, Planes)> = scenes
        .iter()
        .map(|s| (s.duration_ms, Planes::solid(WIDTH, HEIGHT, s.yuv)))
        .collect();
    encode_pictures(&shots)
}

/// Encode pictures, each held for its time in milliseconds, into a complete MP4 file. The
/// first picture's size is the video's; the others must have it too.
pub fn encode_pictures(shots: &[(u64, Planes)]) -> Vec<u8> {
    let black = Planes::solid(WIDTH, HEIGHT, [16, 128, 128]);
    let first = shots.first().map_or(&black, |(_, p)| p);
    let (width, height, mbs) = (first.width, first.height, first.mbs());
    let mut samples: Vec<Vec<u8>> = Vec::new();
    let mut sync = Vec::new();
    for (i, (ms, picture)) in shots.iter().enumerate() {
        let picture = if picture.width == width && picture.height == height {
            picture
        } else {
            &black
        };
        let frames = ((ms * FPS as u64).div_ceil(1000)).max(1) as u32;
        sync.push(samples.len() as u32 + 1);
        samples.push(idr(picture, (i % 2) as u32));
        for f in 1..frames {
            samples.push(repeat(f % (1 << LOG2_MAX_FRAME_NUM), mbs));
        }
    }
    if samples.is_empty() {
        sync.push(1);
        samples.push(idr(first, 0));
    }
    let (sps, pps) = (sps(width, height), pps());
    let n = samples.len() as u32;
    let duration_ms = n as u64 * 1000 / FPS as u64;

    let ftyp = boxed(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41");
    let mut mdat_body = Vec::new();
    let mut sizes = Vec::new();
    for s in &samples {
        mdat_body.extend_from_slice(&(s.len() as u32).to_be_bytes());
        mdat_body.extend_from_slice(s);
        sizes.push(s.len() as u32 + 4);
    }
    let mdat = boxed(b"mdat", &mdat_body);
    let chunk_offset = (ftyp.len() + 8) as u32;

    let mut mvhd = u32s(&[0, 0, 1000, duration_ms as u32, 0x10000]);
    mvhd.extend_from_slice(&[0x01, 0x00, 0, 0]);
    mvhd.extend_from_slice(&[0; 8]);
    mvhd.extend_from_slice(&u32s(&MATRIX));
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend_from_slice(&2u32.to_be_bytes());
    let mvhd = full(b"mvhd", 0, &mvhd);

    let mut tkhd = u32s(&[0, 0, 1, 0, duration_ms as u32, 0, 0]);
    tkhd.extend_from_slice(&[0; 8]); // layer, alternate_group, volume, reserved
    tkhd.extend_from_slice(&u32s(&MATRIX));
    tkhd.extend_from_slice(&u32s(&[width << 16, height << 16]));
    let tkhd = full(b"tkhd", 3, &tkhd);

    let mut mdhd = u32s(&[0, 0, FPS, n]);
    mdhd.extend_from_slice(&[0x55, 0xc4, 0, 0]); // language "und"
    let mdhd = full(b"mdhd", 0, &mdhd);
    let mut hdlr = u32s(&[0]);
    hdlr.extend_from_slice(b"vide");
    hdlr.extend_from_slice(&[0; 12]);
    hdlr.extend_from_slice(b"VideoHandler\0");
    let hdlr = full(b"hdlr", 0, &hdlr);

    let vmhd = full(b"vmhd", 1, &[0; 8]);
    let dref = full(
        b"dref",
        0,
        &[&1u32.to_be_bytes()[..], &full(b"url ", 1, &[])].concat(),
    );
    let dinf = boxed(b"dinf", &dref);

    let stsd = stsd(&sps, &pps, (width, height));
    let stts = full(b"stts", 0, &u32s(&[1, n, 1]));
    let stss = full(
        b"stss",
        0,
        &[u32s(&[sync.len() as u32]), u32s(&sync)].concat(),
    );
    let stsc = full(b"stsc", 0, &u32s(&[1, 1, n, 1]));
    let stsz = full(b"stsz", 0, &[u32s(&[0, n]), u32s(&sizes)].concat());
    let stco = full(b"stco", 0, &u32s(&[1, chunk_offset]));
    let stbl = boxed(b"stbl", &[stsd, stts, stss, stsc, stsz, stco].concat());
    let minf = boxed(b"minf", &[vmhd, dinf, stbl].concat());
    let mdia = boxed(b"mdia", &[mdhd, hdlr, minf].concat());
    let trak = boxed(b"trak", &[tkhd, mdia].concat());
    let moov = boxed(b"moov", &[mvhd, trak].concat());
    [ftyp, mdat, moov].concat()
}

/// A pleasant colour per scene index (BT.601 YCbCr).
pub fn palette(i: usize) -> [u8; 3] {
    const COLORS: [[u8; 3]; 6] = [
        [81, 90, 240],   // red
        [145, 54, 34],   // green
        [41, 240, 110],  // blue
        [210, 16, 146],  // yellow
        [106, 202, 222], // magenta
        [170, 166, 16],  // cyan
    ];
    COLORS[i % COLORS.len()]
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

    #[test]
    fn file_has_boxes_and_plays_for_the_scene_time() {
        let f = encode(&[
            Scene {
                duration_ms: 2000,
                yuv: palette(0),
            },
            Scene {
                duration_ms: 1000,
                yuv: palette(1),
            },
        ]);
        assert_eq!(&f[4..8], b"ftyp");
        let mvhd = f.windows(4).position(|w| w == b"mvhd").unwrap();
        let duration = u32::from_be_bytes(f[mvhd + 20..mvhd + 24].try_into().unwrap());
        assert_eq!(duration, 3000);
    }

    /// ffprobe must read what we wrote.
    #[test]
    #[ignore = "needs ffprobe on PATH (.ci/run installs it and runs --include-ignored)"]
    fn ffprobe_accepts_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.mp4");
        std::fs::write(
            &path,
            encode(&[
                Scene {
                    duration_ms: 1500,
                    yuv: palette(2),
                },
                Scene {
                    duration_ms: 500,
                    yuv: palette(3),
                },
            ]),
        )
        .unwrap();
        let out = std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-count_frames",
                "-show_entries",
                "stream=codec_name,width,height,nb_read_frames",
                "-of",
                "csv=p=0",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "h264,256,144,20"
        );
    }
}

//! A small but valid H.264/MP4 writer, so renders work on a machine with nothing but Rust.
//!
//! Each scene is one IDR picture made of I_PCM macroblocks (raw samples, no transform needed),
//! followed by P pictures that skip every macroblock (the picture repeats). The result is a
//! constrained-baseline stream that any player and `ffprobe` accept: a few kB per solid-colour
//! scene at 256×144 ([`encode`]), or a real picture per scene at any size ([`encode_pictures`]),
//! about 1.4 MB per scene at 1280×720 (raw samples, so nothing is lost). With a sound
//! ([`encode_movie`]), a second track holds it as FLAC ([`flac`]), which needs no codec library.
//! The H.264 bitstream is in [`h264`]; this file lays out the boxes.

/// One solid-colour scene.
#[derive(Debug, Clone, Copy)]
pub struct Scene {
    pub duration_ms: u64,
    /// Y, Cb, Cr.
    pub yuv: [u8; 3],
}

mod flac;
mod h264;
pub use flac::Pcm;
pub use h264::Planes;

pub const WIDTH: u32 = 256;
pub const HEIGHT: u32 = 144;
pub const FPS: u32 = 10;

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
    encode_movie(shots, None)
}

/// Encode pictures as [`encode_pictures`] does, with `sound` (when given) as a FLAC track of
/// the video's length.
pub fn encode_movie(shots: &[(u64, Planes)], sound: Option<&Pcm>) -> Vec<u8> {
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
        samples.push(h264::idr(picture, (i % 2) as u32));
        for f in 1..frames {
            samples.push(h264::repeat(f % (1 << h264::LOG2_MAX_FRAME_NUM), mbs));
        }
    }
    if samples.is_empty() {
        sync.push(1);
        samples.push(h264::idr(first, 0));
    }
    let n = samples.len() as u32;
    let duration_ms = n as u64 * 1000 / FPS as u64;
    // H.264 samples are length-prefixed NAL units.
    let video_samples: Vec<Vec<u8>> = samples
        .into_iter()
        .map(|s| [&(s.len() as u32).to_be_bytes()[..], &s].concat())
        .collect();
    let flac = sound.map(|pcm| {
        let mut pcm = pcm.clone();
        pcm.samples
            .resize((duration_ms * u64::from(flac::RATE) / 1000) as usize, 0);
        flac::encode(&pcm)
    });

    let ftyp = boxed(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41");
    let video_at = (ftyp.len() + 8) as u32;
    let video_bytes: usize = video_samples.iter().map(Vec::len).sum();
    let mut mdat_body = video_samples.concat();
    let mut tracks = vec![video_track(
        &video_samples,
        &sync,
        (width, height),
        duration_ms,
        video_at,
    )];
    if let Some(flac) = &flac {
        let sound_at = video_at + video_bytes as u32;
        for (frame, _) in &flac.frames {
            mdat_body.extend_from_slice(frame);
        }
        tracks.push(sound_track(flac, duration_ms, sound_at));
    }
    let mdat = boxed(b"mdat", &mdat_body);

    let mut mvhd = u32s(&[0, 0, 1000, duration_ms as u32, 0x10000]);
    mvhd.extend_from_slice(&[0x01, 0x00, 0, 0]);
    mvhd.extend_from_slice(&[0; 8]);
    mvhd.extend_from_slice(&u32s(&MATRIX));
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend_from_slice(&(tracks.len() as u32 + 1).to_be_bytes()); // next track id
    let mvhd = full(b"mvhd", 0, &mvhd);
    let moov = boxed(b"moov", &[vec![mvhd], tracks].concat().concat());
    [ftyp, mdat, moov].concat()
}

/// The video `trak`: one chunk of `samples` at `chunk_at`, 1 sample per frame at [`FPS`].
fn video_track(
    samples: &[Vec<u8>],
    sync: &[u32],
    (width, height): (u32, u32),
    duration_ms: u64,
    chunk_at: u32,
) -> Vec<u8> {
    let n = samples.len() as u32;
    let mut tkhd = u32s(&[0, 0, 1, 0, duration_ms as u32, 0, 0]);
    tkhd.extend_from_slice(&[0; 8]); // layer, alternate_group, volume, reserved
    tkhd.extend_from_slice(&u32s(&MATRIX));
    tkhd.extend_from_slice(&u32s(&[width << 16, height << 16]));
    let tkhd = full(b"tkhd", 3, &tkhd);
    let (sps, pps) = (h264::sps(width, height), h264::pps());
    let stbl = boxed(
        b"stbl",
        &[
            stsd(&sps, &pps, (width, height)),
            full(b"stts", 0, &u32s(&[1, n, 1])),
            full(
                b"stss",
                0,
                &[u32s(&[sync.len() as u32]), u32s(sync)].concat(),
            ),
            full(b"stsc", 0, &u32s(&[1, 1, n, 1])),
            sizes(samples.iter().map(Vec::len)),
            full(b"stco", 0, &u32s(&[1, chunk_at])),
        ]
        .concat(),
    );
    let vmhd = full(b"vmhd", 1, &[0; 8]);
    trak(tkhd, (FPS, n), b"vide", b"VideoHandler\0", vmhd, stbl)
}

/// The sound `trak`: the FLAC frames as one chunk at `chunk_at`, a sample per frame.
fn sound_track(flac: &flac::Flac, duration_ms: u64, chunk_at: u32) -> Vec<u8> {
    let mut tkhd = u32s(&[0, 0, 2, 0, duration_ms as u32, 0, 0]);
    tkhd.extend_from_slice(&[0, 0, 0, 0, 0x01, 0x00, 0, 0]); // layer, group, volume 1.0
    tkhd.extend_from_slice(&u32s(&MATRIX));
    tkhd.extend_from_slice(&u32s(&[0, 0]));
    let tkhd = full(b"tkhd", 3, &tkhd);
    // fLaC entry: SampleEntry, AudioSampleEntry (mono, 16 bits, the rate as 16.16), dfLa with
    // the STREAMINFO block (the last metadata block, type 0, 34 bytes).
    let mut entry = vec![0; 6];
    entry.extend_from_slice(&1u16.to_be_bytes());
    entry.extend_from_slice(&[0; 8]);
    entry.extend_from_slice(&[0, 1, 0, 16, 0, 0, 0, 0]);
    entry.extend_from_slice(&(flac::RATE << 16).to_be_bytes());
    entry.extend_from_slice(&full(
        b"dfLa",
        0,
        &[&[0x80, 0, 0, 34][..], &flac.stream_info].concat(),
    ));
    let stsd = full(
        b"stsd",
        0,
        &[&1u32.to_be_bytes()[..], &boxed(b"fLaC", &entry)].concat(),
    );
    // Runs of equal frame lengths (all 4,096 samples but the last).
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for (_, len) in &flac.frames {
        match runs.last_mut() {
            Some((count, l)) if l == len => *count += 1,
            _ => runs.push((1, *len)),
        }
    }
    let stts: Vec<u32> = std::iter::once(runs.len() as u32)
        .chain(runs.iter().flat_map(|(c, l)| [*c, *l]))
        .collect();
    let n = flac.frames.len() as u32;
    let stbl = boxed(
        b"stbl",
        &[
            stsd,
            full(b"stts", 0, &u32s(&stts)),
            full(b"stsc", 0, &u32s(&[1, 1, n, 1])),
            sizes(flac.frames.iter().map(|(f, _)| f.len())),
            full(b"stco", 0, &u32s(&[1, chunk_at])),
        ]
        .concat(),
    );
    let smhd = full(b"smhd", 0, &[0; 4]); // balance, reserved
    let length: u32 = flac.frames.iter().map(|(_, l)| l).sum();
    trak(
        tkhd,
        (flac::RATE, length),
        b"soun",
        b"SoundHandler\0",
        smhd,
        stbl,
    )
}

/// `stsz`: each sample's size.
fn sizes(each: impl ExactSizeIterator<Item = usize>) -> Vec<u8> {
    let mut body = u32s(&[0, each.len() as u32]);
    for s in each {
        body.extend_from_slice(&(s as u32).to_be_bytes());
    }
    full(b"stsz", 0, &body)
}

/// A `trak` around its header, media header (`timescale`, `duration` in it), handler, media
/// header of its kind and sample tables.
fn trak(
    tkhd: Vec<u8>,
    (timescale, duration): (u32, u32),
    handler: &[u8; 4],
    name: &[u8],
    media_header: Vec<u8>,
    stbl: Vec<u8>,
) -> Vec<u8> {
    let mut mdhd = u32s(&[0, 0, timescale, duration]);
    mdhd.extend_from_slice(&[0x55, 0xc4, 0, 0]); // language "und"
    let mdhd = full(b"mdhd", 0, &mdhd);
    let mut hdlr = u32s(&[0]);
    hdlr.extend_from_slice(handler);
    hdlr.extend_from_slice(&[0; 12]);
    hdlr.extend_from_slice(name);
    let hdlr = full(b"hdlr", 0, &hdlr);
    let dref = full(
        b"dref",
        0,
        &[&1u32.to_be_bytes()[..], &full(b"url ", 1, &[])].concat(),
    );
    let dinf = boxed(b"dinf", &dref);
    let minf = boxed(b"minf", &[media_header, dinf, stbl].concat());
    let mdia = boxed(b"mdia", &[mdhd, hdlr, minf].concat());
    boxed(b"trak", &[tkhd, mdia].concat())
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

    /// ffprobe must read what we wrote, and ffmpeg decode every picture and sound frame of it
    /// without an error; the sound is the tone (its loudness measured by ffmpeg).
    #[test]
    #[ignore = "needs ffprobe and ffmpeg on PATH (.ci/run installs them and runs --include-ignored)"]
    fn ffprobe_accepts_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.mp4");
        let shots = [
            (1500, Planes::solid(WIDTH, HEIGHT, palette(2))),
            (500, Planes::solid(WIDTH, HEIGHT, palette(3))),
        ];
        let tone = Pcm::tone(440.0, 0.2, 2_000);
        std::fs::write(&path, encode_movie(&shots, Some(&tone))).unwrap();
        let run = |program: &str, args: &[&str]| {
            let out = std::process::Command::new(program)
                .args(args)
                .arg(&path)
                .args(if program == "ffmpeg" {
                    &["-af", "volumedetect", "-f", "null", "-"][..]
                } else {
                    &[]
                })
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            (
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        };
        let (streams, errors) = run(
            "ffprobe",
            &[
                "-v",
                "error",
                "-count_frames",
                "-show_entries",
                "stream=codec_name,width,height,nb_read_frames",
                "-of",
                "csv=p=0",
            ],
        );
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(streams, "h264,256,144,20\nflac,22");
        // -xerror, crccheck: stop at the first decoding or checksum error; volumedetect prints the tone's level.
        let (_, log) = run(
            "ffmpeg",
            &[
                "-v",
                "info",
                "-xerror",
                "-err_detect",
                "crccheck+explode",
                "-i",
            ],
        );
        let mean = log
            .lines()
            .find_map(|l| l.split("mean_volume: ").nth(1))
            .and_then(|v| v.trim_end_matches(" dB").parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{log}"));
        // A sine at 0.2 of full scale: 20·log10(0.2/√2) ≈ −17 dBFS.
        assert!((-18.0..-16.0).contains(&mean), "{mean} dB");
    }
}

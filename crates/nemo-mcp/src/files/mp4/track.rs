//! The tracks' samples, from their sample tables: where each coded picture (or sound packet)
//! lies in the file, when it shows, which pictures a decoder can start at (keyframes), and the
//! video decoder's configuration (`avcC`). Enough to decode chosen pictures of an H.264 MP4
//! without reading the rest of it (the sound track's description is in `sound`). Every count and offset is checked against the tables and the file, so a
//! damaged file gives a reason, never a panic or a huge allocation.

use super::{be_u32, be_u64, children};

/// The most samples a track may list: a 2-hour video at 60 fps has 432,000 pictures, its AAC
/// sound about 340,000 packets. Each costs about 40 bytes while the tables are read, so this
/// bounds a hostile table at about 20 MB.
const MAX_SAMPLES: u64 = 500_000;

/// An H.264 video track.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoTrack {
    /// The track's clock: ticks per second.
    pub timescale: u32,
    /// `AVCProfileIndication`: 66 baseline, 77 main, 100 high.
    pub profile: u8,
    /// Bytes of the length before each NAL unit in a sample (1, 2 or 4).
    pub length_size: usize,
    /// Sequence and picture parameter sets, without start codes.
    pub sps: Vec<Vec<u8>>,
    pub pps: Vec<Vec<u8>>,
    /// In decoding order.
    pub samples: Vec<Sample>,
}

/// One coded picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub offset: u64,
    pub size: u32,
    /// When it shows, in the track's ticks (decoding time plus the composition offset).
    pub shows_at: i64,
    /// A decoder can start here (a keyframe).
    pub sync: bool,
}

impl VideoTrack {
    /// When `s` shows, in seconds.
    pub fn seconds(&self, s: &Sample) -> f64 {
        s.shows_at as f64 / self.timescale as f64
    }

    /// The keyframes, in the order they show.
    pub fn keyframes(&self) -> Vec<Sample> {
        let mut keys: Vec<Sample> = self.samples.iter().filter(|s| s.sync).copied().collect();
        keys.sort_by_key(|s| s.shows_at);
        keys
    }

    /// The macroblocks of one picture, from the track's first SPS; one that cannot be read
    /// counts as the largest decoded (`annex_b` refuses it anyway).
    pub fn picture_macroblocks(&self) -> u64 {
        self.sps
            .first()
            .and_then(|sps| super::sps::macroblocks(sps))
            .map_or(u64::from(super::sps::MAX_MACROBLOCKS), |(w, h)| {
                u64::from(w) * u64::from(h)
            })
    }

    /// A sample's NAL units as an Annex B stream (start codes), with the parameter sets first
    /// so that a keyframe decodes on its own. Every SPS in it (the track's, and any the sample
    /// carries) is read first: pictures too large to decode within the check's memory are a
    /// reason, never handed to a decoder.
    pub fn annex_b(&self, sample: &[u8]) -> Result<Vec<u8>, String> {
        const START: [u8; 4] = [0, 0, 0, 1];
        let mut out = Vec::with_capacity(sample.len() + 64);
        if self.sps.is_empty() {
            return Err("it has no sequence parameter set".into());
        }
        for ps in &self.sps {
            super::sps::allowed(ps)?;
        }
        for ps in self.sps.iter().chain(&self.pps) {
            out.extend_from_slice(&START);
            out.extend_from_slice(ps);
        }
        let mut at = 0usize;
        while at < sample.len() {
            let len_bytes = sample
                .get(at..at + self.length_size)
                .ok_or("a picture ends inside a NAL unit's length")?;
            let len = len_bytes
                .iter()
                .fold(0usize, |n, b| (n << 8) | usize::from(*b));
            at += self.length_size;
            let nal = sample
                .get(at..at + len)
                .ok_or("a picture's NAL unit runs past its end")?;
            if nal.first().is_some_and(|h| h & 0x1f == 7) {
                super::sps::allowed(nal)?;
            }
            out.extend_from_slice(&START);
            out.extend_from_slice(nal);
            at += len;
        }
        Ok(out)
    }
}

/// The first H.264 video track of a `moov` box's body.
pub fn video_track(moov: &[u8]) -> Result<VideoTrack, String> {
    let (timescale, stbl) = find_track(moov, b"vide")?.ok_or("it has no video track")?;
    let stsd = table(stbl, b"stsd")?.ok_or("the video track has no sample description")?;
    let (profile, length_size, sps, pps) = avc_config(stsd)?;
    Ok(VideoTrack {
        timescale,
        profile,
        length_size,
        sps,
        pps,
        samples: sample_list(stbl)?,
    })
}

/// The first track whose handler is `handler`: its timescale and sample tables.
pub(super) fn find_track<'a>(
    moov: &'a [u8],
    handler: &[u8; 4],
) -> Result<Option<(u32, &'a [u8])>, String> {
    for (_, trak) in children(moov)?.into_iter().filter(|(k, _)| k == b"trak") {
        let Some(mdia) = child(trak, b"mdia")? else {
            continue;
        };
        let matches = child(mdia, b"hdlr")?
            .and_then(|h| h.get(8..12))
            .is_some_and(|h| h == handler);
        if !matches {
            continue;
        }
        let mdhd = child(mdia, b"mdhd")?.ok_or("a track has no media header")?;
        let timescale = match mdhd.first() {
            Some(1) => be_u32(mdhd, 20),
            _ => be_u32(mdhd, 12),
        }
        .filter(|t| *t > 0)
        .ok_or("a track's media header is damaged")?;
        let stbl = child(mdia, b"minf")?
            .map(|minf| child(minf, b"stbl"))
            .transpose()?
            .flatten()
            .ok_or("a track has no sample tables")?;
        return Ok(Some((timescale, stbl)));
    }
    Ok(None)
}

pub(super) fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Result<Option<&'a [u8]>, String> {
    Ok(children(data)?
        .into_iter()
        .find(|(k, _)| k == kind)
        .map(|(_, b)| b))
}

pub(super) fn table<'a>(stbl: &'a [u8], kind: &[u8; 4]) -> Result<Option<&'a [u8]>, String> {
    child(stbl, kind)
}

/// A full box's entry count and entries (`width` bytes each), checked to fit.
fn entries(body: &[u8], width: usize, skip: usize) -> Result<(u64, &[u8]), String> {
    let n = be_u32(body, 4 + skip).ok_or("a sample table is cut short")? as u64;
    let start = 8 + skip;
    let need = (n as usize)
        .checked_mul(width)
        .and_then(|b| b.checked_add(start))
        .ok_or("a sample table's count is implausible")?;
    if n > MAX_SAMPLES || need > body.len() {
        return Err("a sample table claims more entries than it holds".into());
    }
    Ok((n, &body[start..need]))
}

/// Every sample of a track, in decoding order, from its sample tables.
pub(super) fn sample_list(stbl: &[u8]) -> Result<Vec<Sample>, String> {
    // stsz: a fixed size, or one per sample.
    let stsz = table(stbl, b"stsz")?.ok_or("the video track has no sample sizes")?;
    let fixed = be_u32(stsz, 4).ok_or("the sample sizes are cut short")?;
    let (count, sizes) = entries(stsz, if fixed == 0 { 4 } else { 0 }, 4)?;
    let size_of = |i: usize| {
        if fixed != 0 {
            fixed
        } else {
            be_u32(sizes, i * 4).unwrap_or(0)
        }
    };
    let count = count as usize;

    // stco / co64: where each chunk starts; stsc: how many samples each chunk holds.
    let chunk_offsets: Vec<u64> = if let Some(stco) = table(stbl, b"stco")? {
        let (n, e) = entries(stco, 4, 0)?;
        (0..n as usize)
            .filter_map(|i| be_u32(e, i * 4).map(u64::from))
            .collect()
    } else if let Some(co64) = table(stbl, b"co64")? {
        let (n, e) = entries(co64, 8, 0)?;
        (0..n as usize).filter_map(|i| be_u64(e, i * 8)).collect()
    } else {
        return Err("the video track has no chunk offsets".into());
    };
    let stsc = table(stbl, b"stsc")?.ok_or("the video track has no sample-to-chunk table")?;
    let (runs_n, runs) = entries(stsc, 12, 0)?;
    let runs: Vec<(u32, u32)> = (0..runs_n as usize)
        .filter_map(|i| Some((be_u32(runs, i * 12)?, be_u32(runs, i * 12 + 4)?)))
        .collect();

    let mut offsets = Vec::with_capacity(count);
    // The run a chunk belongs to: the last one starting at or before it. Runs come in order of
    // their first chunk, so one pointer walks them (a search per chunk was chunks × runs
    // steps: minutes for a damaged table of a few kilobytes).
    let mut run: Option<usize> = None;
    'chunks: for (chunk, base) in chunk_offsets.iter().enumerate() {
        let chunk_no = chunk as u32 + 1;
        loop {
            let next = run.map_or(0, |r| r + 1);
            match runs.get(next) {
                Some((first, _)) if *first <= chunk_no => run = Some(next),
                _ => break,
            }
        }
        let per_chunk = run.and_then(|r| runs.get(r)).map_or(0, |(_, n)| *n);
        let mut at = *base;
        for _ in 0..per_chunk {
            if offsets.len() == count {
                break 'chunks;
            }
            offsets.push(at);
            at = at.saturating_add(u64::from(size_of(offsets.len() - 1)));
        }
    }
    if offsets.len() < count {
        return Err("the sample tables place fewer pictures than they count".into());
    }

    // stts: decoding times; ctts: composition offsets (pictures shown out of decoding order).
    let stts = table(stbl, b"stts")?.ok_or("the video track has no sample times")?;
    let (n, e) = entries(stts, 8, 0)?;
    let mut times = Vec::with_capacity(count);
    let mut t = 0i64;
    'runs: for i in 0..n as usize {
        let (k, delta) = (
            be_u32(e, i * 8).unwrap_or(0),
            be_u32(e, i * 8 + 4).unwrap_or(0),
        );
        for _ in 0..k {
            if times.len() == count {
                break 'runs;
            }
            times.push(t);
            t = t.saturating_add(i64::from(delta));
        }
    }
    times.resize(count, t);
    if let Some(ctts) = table(stbl, b"ctts")? {
        let version = ctts.first().copied().unwrap_or(0);
        let (n, e) = entries(ctts, 8, 0)?;
        // Each run shifts its pictures; a run's count may claim far more pictures than there
        // are (4 billion), so it is cut at the last one rather than counted out.
        let mut i = 0usize;
        for r in 0..n as usize {
            let k = be_u32(e, r * 8).unwrap_or(0) as usize;
            let raw = be_u32(e, r * 8 + 4).unwrap_or(0);
            let off = if version == 1 {
                i64::from(raw as i32)
            } else {
                i64::from(raw)
            };
            let end = i.saturating_add(k).min(times.len());
            for t in &mut times[i..end] {
                *t = t.saturating_add(off);
            }
            i = end;
        }
    }

    // stss: the keyframes (1-based); without it every picture is one.
    let sync: Option<Vec<bool>> = match table(stbl, b"stss")? {
        None => None,
        Some(stss) => {
            let (n, e) = entries(stss, 4, 0)?;
            let mut marks = vec![false; count];
            for i in 0..n as usize {
                if let Some(m) = be_u32(e, i * 4)
                    .and_then(|s| (s as usize).checked_sub(1))
                    .and_then(|s| marks.get_mut(s))
                {
                    *m = true;
                }
            }
            Some(marks)
        }
    };
    Ok((0..count)
        .map(|i| Sample {
            offset: offsets[i],
            size: size_of(i),
            shows_at: times[i],
            sync: sync.as_ref().is_none_or(|m| m[i]),
        })
        .collect())
}

/// The `avcC` of the first sample description: (profile, NAL length size, SPS, PPS).
type AvcConfig = (u8, usize, Vec<Vec<u8>>, Vec<Vec<u8>>);

fn avc_config(stsd: &[u8]) -> Result<AvcConfig, String> {
    // A full box: version and flags, an entry count, then sample entries (boxes).
    let entries = children(stsd.get(8..).ok_or("the sample description is cut short")?)?;
    let (kind, entry) = entries
        .first()
        .ok_or("the video track describes no samples")?;
    if kind != b"avc1" && kind != b"avc3" {
        return Err(format!(
            "its video is {}, not H.264",
            String::from_utf8_lossy(kind).trim()
        ));
    }
    // A visual sample entry has 78 bytes of fields before its child boxes.
    let avcc = child(
        entry
            .get(78..)
            .ok_or("the H.264 sample entry is cut short")?,
        b"avcC",
    )?
    .ok_or("the H.264 sample entry has no avcC")?;
    let profile = *avcc.get(1).ok_or("the avcC is cut short")?;
    let length_size = usize::from(avcc.get(4).ok_or("the avcC is cut short")? & 3) + 1;
    if length_size == 3 {
        return Err("the avcC's NAL length size is invalid".into());
    }
    let mut at = 5usize;
    let mut sets = |count_mask: u8| -> Result<Vec<Vec<u8>>, String> {
        let n = avcc.get(at).ok_or("the avcC is cut short")? & count_mask;
        at += 1;
        let mut out = Vec::new();
        for _ in 0..n {
            let len = avcc
                .get(at..at + 2)
                .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                .ok_or("the avcC is cut short")?;
            out.push(
                avcc.get(at + 2..at + 2 + len)
                    .ok_or("the avcC's parameter set is cut short")?
                    .to_vec(),
            );
            at += 2 + len;
        }
        Ok(out)
    };
    let sps = sets(0x1f)?;
    let pps = sets(0xff)?;
    if sps.is_empty() || pps.is_empty() {
        return Err("the avcC has no parameter sets".into());
    }
    Ok((profile, length_size, sps, pps))
}

#[cfg(test)]
mod tests {
    use super::super::moov_of;
    use super::*;
    use nemo_sim::mp4::{encode, Scene, FPS};

    fn scenes() -> Vec<Scene> {
        [[40, 110, 140], [200, 90, 120], [120, 60, 200]]
            .into_iter()
            .map(|yuv| Scene {
                duration_ms: 2000,
                yuv,
            })
            .collect()
    }

    #[test]
    fn the_tables_place_every_picture_and_mark_each_scene_start() {
        let file = encode(&scenes());
        let track = video_track(&moov_of(&file).unwrap()).unwrap();
        assert_eq!(track.samples.len(), 6 * FPS as usize);
        let keys = track.keyframes();
        let starts: Vec<f64> = keys.iter().map(|k| track.seconds(k)).collect();
        assert_eq!(starts, vec![0.0, 2.0, 4.0]);
        assert_eq!(track.profile, 66);
        for s in &track.samples {
            let end = s.offset as usize + s.size as usize;
            assert!(end <= file.len(), "{s:?}");
        }
        // A keyframe as Annex B: the parameter sets, then its slice (an IDR, type 5).
        let k = keys[1];
        let bytes = &file[k.offset as usize..k.offset as usize + k.size as usize];
        let stream = track.annex_b(bytes).unwrap();
        assert_eq!(&stream[..5], &[0, 0, 0, 1, 0x67]);
        let units: Vec<u8> = stream
            .windows(5)
            .filter(|w| w[..4] == [0, 0, 0, 1])
            .map(|w| w[4] & 0x1f)
            .collect();
        assert_eq!(units, vec![7, 8, 5]);
    }

    #[test]
    fn a_damaged_table_is_a_reason_not_a_panic() {
        let file = encode(&scenes());
        let moov = moov_of(&file).unwrap();
        // Every cut of the moov box and every flipped byte in it: an error or a track, never
        // a panic (offsets past the file are caught when the picture is read).
        for cut in (0..moov.len()).step_by(7) {
            let _ = video_track(&moov[..cut]);
        }
        for at in 0..moov.len() {
            let mut bad = moov.clone();
            bad[at] ^= 0xff;
            let _ = video_track(&bad);
        }
        assert!(video_track(&[]).unwrap_err().contains("no video track"));
    }

    /// A full box (version 0, no flags) around `payload`.
    fn full_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 12) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(payload);
        b
    }

    /// Big-endian words, as the sample tables hold them.
    fn words(w: &[u32]) -> Vec<u8> {
        w.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    /// Sample tables for three 100-byte pictures, 512 ticks apart, in one chunk at 48,
    /// then `more` tables.
    fn three_pictures_and(more: &[Vec<u8>]) -> Vec<u8> {
        let mut stbl = [
            full_box(b"stsz", &words(&[100, 3])),
            full_box(b"stco", &words(&[1, 48])),
            full_box(b"stsc", &words(&[1, 1, 3, 1])),
            full_box(b"stts", &words(&[1, 3, 512])),
        ]
        .concat();
        for m in more {
            stbl.extend_from_slice(m);
        }
        stbl
    }

    #[test]
    fn composition_runs_claiming_billions_of_pictures_shift_the_three_there_are() {
        // 2,000 runs of 4 billion pictures each: counted out one by one, this never ended.
        let mut ctts = 2000u32.to_be_bytes().to_vec();
        for _ in 0..2000 {
            ctts.extend_from_slice(&u32::MAX.to_be_bytes());
            ctts.extend_from_slice(&5u32.to_be_bytes());
        }
        let samples = sample_list(&three_pictures_and(&[full_box(b"ctts", &ctts)])).unwrap();
        let shows: Vec<i64> = samples.iter().map(|s| s.shows_at).collect();
        assert_eq!(shows, vec![5, 517, 1029]);
        let offsets: Vec<u64> = samples.iter().map(|s| s.offset).collect();
        assert_eq!(offsets, vec![48, 148, 248]);
    }

    #[test]
    fn many_chunks_and_many_runs_are_walked_together() {
        // 50,000 empty chunks, then runs that all start after the last chunk but one: a
        // search of the runs for every chunk took 50,000 × 50,000 steps.
        let n = 50_000u32;
        let mut stco = n.to_be_bytes().to_vec();
        let mut stsc = n.to_be_bytes().to_vec();
        for i in 0..n {
            stco.extend_from_slice(&(48 + i).to_be_bytes());
            let first = if i == 0 { n } else { n + i };
            for w in [first, 3, 1] {
                stsc.extend_from_slice(&w.to_be_bytes());
            }
        }
        let stbl = [
            full_box(b"stsz", &words(&[100, 3])),
            full_box(b"stco", &stco),
            full_box(b"stsc", &stsc),
            full_box(b"stts", &words(&[1, 3, 512])),
        ]
        .concat();
        // Only the last chunk holds pictures (the first run starts there).
        let offsets: Vec<u64> = sample_list(&stbl)
            .unwrap()
            .iter()
            .map(|s| s.offset)
            .collect();
        let last = u64::from(48 + n - 1);
        assert_eq!(offsets, vec![last, last + 100, last + 200]);
    }

    #[test]
    fn a_sample_with_a_bad_length_is_refused() {
        let file = encode(&scenes());
        let track = video_track(&moov_of(&file).unwrap()).unwrap();
        assert!(track.annex_b(&[0, 0, 0, 9, 1, 2]).is_err());
        assert!(track.annex_b(&[0, 0]).is_err());
    }
}

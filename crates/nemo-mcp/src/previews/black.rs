//! A closer look at a lone black picture. The contact sheet looks at about a dozen keyframes
//! spread over the video and says a black stretch where two of them in a row are black. One
//! black picture between two that are not is either the first or last picture of a fade
//! (nothing to say) or a black gap shorter than the pictures' spacing, which a person would
//! want to know about before sharing the video. Which one it is shows only closer: first the
//! keyframes between its neighbours (each decodes alone), then, when it is still the only black
//! keyframe (encoders put keyframes 1–10 s apart), the pictures between keyframes, decoded
//! forward from the keyframe before the gap (where the black starts) and from the black one
//! (where it ends). All of it within one budget per file, so a file that says it has a
//! thousand black keyframes costs what a short one does.

use super::frames::{self, Picture, RunBudget};
use crate::files::mp4::{Sample, Stretch, StretchKind, VideoTrack};
use std::path::Path;

/// Black for less than this is a cut or a dip to black between scenes, not a gap.
pub(super) const MIN_BLACK_S: f64 = 1.0;
/// Lone black pictures looked at closer, per file.
const MAX_LONE: usize = 3;
/// More keyframes decoded, per file (about 25 ms each at 1080p).
const MORE_KEYS: usize = 12;

/// What looking closer may spend on one file, here and in [`super::quiet`]: 200 pictures of
/// 1080p (keyframes and the pictures between; 2–5 ms each in a release build, about three
/// times that in a debug one), or as many macroblocks of any size, and 32 MB read.
pub(super) fn budget() -> RunBudget {
    RunBudget {
        macroblocks: 200 * 8_160,
        bytes: 32 * 1024 * 1024,
    }
}

/// What one keyframe looked like.
#[derive(Debug, Clone, Copy)]
struct Seen {
    key: Sample,
    at_s: f64,
    black: bool,
}

/// The black stretches that lone black pictures among `pictures` (decoded from `keys` of
/// `track`, in the order they show) turn out to be, looked at closer.
pub(super) fn closer(
    path: &Path,
    track: &VideoTrack,
    keys: &[Sample],
    pictures: &[Picture],
    duration: f64,
    budget: &mut RunBudget,
) -> Vec<Stretch> {
    let mut found = Vec::new();
    let mut more_keys = MORE_KEYS;
    let key_at = |at_s: f64| keys.iter().find(|k| track.seconds(k) == at_s).copied();
    let lone = (0..pictures.len()).filter(|&i| {
        pictures[i].is_black()
            && (i == 0 || !pictures[i - 1].is_black())
            && pictures.get(i + 1).is_none_or(|p| !p.is_black())
    });
    for i in lone.take(MAX_LONE) {
        let Some(key) = key_at(pictures[i].at_s) else {
            continue;
        };
        // The keyframes between its neighbours, with the neighbours themselves.
        let lo = i.checked_sub(1).map(|p| pictures[p].at_s);
        let hi = pictures.get(i + 1).map(|p| p.at_s);
        let mut seen: Vec<Seen> = [lo, hi]
            .into_iter()
            .flatten()
            .filter_map(|t| key_at(t).map(|k| (k, t)))
            .map(|(key, at_s)| Seen {
                key,
                at_s,
                black: false,
            })
            .collect();
        seen.push(Seen {
            key,
            at_s: pictures[i].at_s,
            black: true,
        });
        // As many as the budget allows, decoded in one pass over the file.
        let per_picture = track.picture_macroblocks();
        let chosen: Vec<Sample> = nearest_first(track, keys, pictures[i].at_s, lo, hi)
            .into_iter()
            .take(more_keys)
            .take_while(|k| budget.spend(k.size, per_picture))
            .collect();
        more_keys -= chosen.len();
        if let Ok((decoded, _)) = frames::decode(path, track, &chosen, 32) {
            seen.extend(decoded.into_iter().filter_map(|p| {
                Some(Seen {
                    key: key_at(p.at_s)?,
                    at_s: p.at_s,
                    black: p.is_black(),
                })
            }));
        }
        seen.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
        let Some(at) = seen.iter().position(|s| s.key.offset == key.offset) else {
            continue;
        };
        let first = (0..=at)
            .rev()
            .take_while(|&j| seen[j].black)
            .last()
            .unwrap_or(at);
        let last = (at..seen.len())
            .take_while(|&j| seen[j].black)
            .last()
            .unwrap_or(at);
        let after = seen.get(last + 1).map_or(duration, |s| s.at_s);
        let stretch = if last > first {
            // Two black keyframes in a row: said as the sheet says them, keyframe to keyframe.
            Some((seen[first].at_s, after))
        } else {
            between_keys(path, track, seen[at], after, budget)
        };
        if let Some((from, to)) = stretch.filter(|(from, to)| to - from >= MIN_BLACK_S) {
            found.push(Stretch::new(StretchKind::Black, from, to));
        }
    }
    found
}

/// The keyframes strictly between `lo` and `hi` (other than the one at `at_s`), nearest to
/// `at_s` first: the ones that tell most about where its black begins and ends.
fn nearest_first(
    track: &VideoTrack,
    keys: &[Sample],
    at_s: f64,
    lo: Option<f64>,
    hi: Option<f64>,
) -> Vec<Sample> {
    let mut inside: Vec<Sample> = keys
        .iter()
        .filter(|k| {
            let t = track.seconds(k);
            t != at_s && lo.is_none_or(|lo| t > lo) && hi.is_none_or(|hi| t < hi)
        })
        .copied()
        .collect();
    inside.sort_by(|a, b| {
        (track.seconds(a) - at_s)
            .abs()
            .total_cmp(&(track.seconds(b) - at_s).abs())
    });
    inside
}

/// Where the black around the only black keyframe `black` begins (decoding forward from the
/// keyframe before it) and ends (decoding forward from `black` itself, up to `next`, the time
/// of the keyframe after it or the video's end).
fn between_keys(
    path: &Path,
    track: &VideoTrack,
    black: Seen,
    next: f64,
    budget: &mut RunBudget,
) -> Option<(f64, f64)> {
    let at = track
        .samples
        .iter()
        .position(|s| s.sync && s.offset == black.key.offset)?;
    // The end: the first picture after it that is not black (none: black to the next keyframe).
    let mut end = None;
    let mut last_black = black.at_s;
    let lasted = frames::run(path, track, at, budget, |at_s, is_black| {
        if at_s < black.at_s {
            return true; // a picture of the group before it, shown first
        }
        if is_black {
            last_black = at_s;
            true
        } else {
            end = Some(at_s);
            false
        }
    })
    .ok()?;
    let end = match end {
        Some(t) => t,
        // Decoded to the next keyframe, black throughout.
        None if lasted => next,
        // Out of budget while black: as far as was seen.
        None => last_black,
    };
    // The start: the first black picture of the last black stretch before the next keyframe.
    // Known only when the pictures were decoded all the way to the black keyframe.
    let mut start = None;
    let before = track.samples[..at].iter().rposition(|s| s.sync);
    if let Some(from) = before {
        let lasted = frames::run(path, track, from, budget, |at_s, is_black| {
            match (is_black, start) {
                (true, None) => start = Some(at_s),
                (false, Some(_)) => start = None,
                _ => {}
            }
            true
        });
        if lasted != Ok(true) {
            start = None;
        }
    }
    Some((start.unwrap_or(black.at_s), end))
}

#[cfg(test)]
mod tests {
    use crate::files::mp4::{Mp4File, Stretch};
    use crate::previews::contact_sheet::make;
    use nemo_sim::mp4::{encode, Scene};
    use std::path::Path;

    const BLACK: [u8; 3] = [16, 128, 128];
    const BLUE: [u8; 3] = [41, 240, 110];

    fn said(path: &Path) -> Vec<String> {
        let sheet = make(&Mp4File::open(path).unwrap()).unwrap();
        sheet.stretches.iter().map(Stretch::said).collect()
    }

    /// The simulator's encoder: one keyframe per scene, the rest of the scene repeats it.
    fn scenes(scenes: &[([u8; 3], u64)]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.mp4");
        let scenes: Vec<Scene> = scenes
            .iter()
            .map(|&(yuv, duration_ms)| Scene { duration_ms, yuv })
            .collect();
        std::fs::write(&path, encode(&scenes)).unwrap();
        (dir, path)
    }

    /// ffmpeg's pictures (tests/data/mp4/README.md): 7 s of test pictures fading in from black
    /// over the first second, 5 s of black, 8 s of test pictures; a keyframe every 5 s, so the
    /// gap holds one keyframe (0:10) and the fade's first picture is another. The gap is found
    /// where it is, from the pictures between keyframes; the fade is said nothing.
    #[test]
    fn a_black_gap_holding_one_keyframe_is_found_where_it_is() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/mp4/short-black-sparse-keys.mp4");
        assert_eq!(said(&path), ["The picture is black from 0:07 to 0:12."]);
    }

    /// One keyframe per scene: a 3 s black scene is one black keyframe, ended by the next
    /// scene's; half a second of black between scenes is a cut, not a gap.
    #[test]
    fn a_black_scene_is_a_gap_and_a_dip_between_scenes_is_not() {
        let (_d, path) = scenes(&[(BLUE, 4000), (BLACK, 3000), (BLUE, 5000)]);
        assert_eq!(said(&path), ["The picture is black from 0:04 to 0:07."]);
        let (_d, path) = scenes(&[(BLUE, 4000), (BLACK, 500), (BLUE, 5000)]);
        assert_eq!(said(&path), Vec::<String>::new());
        // A video that starts on black for two seconds says so (whether that is a fade is
        // decided where the file is held against the request).
        let (_d, path) = scenes(&[(BLACK, 2000), (BLUE, 9000)]);
        assert_eq!(said(&path), ["The picture is black from 0:00 to 0:02."]);
    }

    /// A black scene longer than the budget lets decode: said as far as it was seen black, no
    /// further, and the look stops there. The budget is counted, never timed: the same file
    /// always gets the same answer.
    #[test]
    fn a_gap_past_the_budget_is_said_as_far_as_seen() {
        let (_d, path) = scenes(&[(BLUE, 2000), (BLACK, 80_000), (BLUE, 2000)]);
        // 256×144 is 144 macroblocks: 300 pictures, 30 s at 10 a second.
        let budget = super::RunBudget {
            macroblocks: 144 * 300,
            bytes: u64::MAX,
        };
        let file = Mp4File::open(&path).unwrap();
        let sheet = crate::previews::contact_sheet::make_within(&file, budget).unwrap();
        let [s] = &sheet.stretches[..] else {
            panic!("{:?}", sheet.stretches)
        };
        assert_eq!(s.from_s, 2.0);
        assert!(s.to_s > 25.0 && s.to_s <= 32.0, "{s:?}");
        let again = crate::previews::contact_sheet::make_within(&file, budget).unwrap();
        assert_eq!(again.stretches, sheet.stretches);
    }
}

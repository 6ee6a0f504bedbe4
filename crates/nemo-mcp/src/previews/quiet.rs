//! Black between keyframes. An encoder puts a keyframe where a scene cuts and at least every
//! so often (x264: every 250 pictures, 8–25 s), but a cut *to* black is cheap to code from the
//! picture before it, so a black gap often starts without a keyframe, and one shorter than
//! the keyframes' spacing may hold none: no keyframe the sheet decodes shows it. Only the
//! pictures between keyframes do, and each costs a few milliseconds.
//!
//! So the file's own sizes say where to look. A picture that shows what the one before it
//! showed is coded in a few bytes ("quiet"): a still photo, or black after its first picture.
//! A quiet run that starts right at a keyframe shows that keyframe, which the sheet looks at.
//! One that starts after a picture that changed a lot (a cut) shows something no keyframe
//! does: those are decoded, from the keyframe before them, within the budget the closer look
//! shares, and the black among them is said where it is.

use super::black::MIN_BLACK_S;
use super::frames::{self, RunBudget};
use crate::files::mp4::{Stretch, StretchKind, VideoTrack};
use std::path::Path;

/// A picture this small (or a sixty-fourth of the median keyframe, if that is more) says
/// little more than "the same again".
const QUIET_BYTES: u64 = 256;

/// A run of quiet pictures after a cut, inside one group of pictures (a keyframe and those
/// coded from it): the group starts at `from` in `track.samples` (decoding order); the quiet
/// pictures show from `quiet_s` until `end_s`.
#[derive(Debug, Clone, Copy)]
struct AfterCut {
    from: usize,
    quiet_s: f64,
    end_s: f64,
}

/// The black stretches that quiet runs after cuts turn out to be, leaving out what `known`
/// already says.
pub(super) fn scan(
    path: &Path,
    track: &VideoTrack,
    duration: f64,
    known: &[Stretch],
    budget: &mut RunBudget,
) -> Vec<Stretch> {
    let mut runs = after_cuts(track, duration);
    runs.retain(|r| {
        !known
            .iter()
            .any(|s| s.kind == StretchKind::Black && s.from_s <= r.quiet_s && s.to_s >= r.end_s)
    });
    // By group, each decoded once for all its runs; the cheapest first (the fewest pictures
    // to decode before its first run shows).
    runs.sort_by(|a, b| {
        (a.quiet_s - start_of(track, a))
            .total_cmp(&(b.quiet_s - start_of(track, b)))
            .then(a.quiet_s.total_cmp(&b.quiet_s))
    });
    let mut groups: Vec<Vec<AfterCut>> = Vec::new();
    for r in runs {
        match groups.iter_mut().find(|g| g[0].from == r.from) {
            Some(g) => g.push(r),
            None => groups.push(vec![r]),
        }
    }
    let mut found: Vec<Stretch> = Vec::new();
    for group in groups {
        let Some(last) = group
            .iter()
            .copied()
            .reduce(|a, b| if b.quiet_s > a.quiet_s { b } else { a })
        else {
            continue;
        };
        // Each picture of the group, in the order they show, up to its last run's first
        // picture and through the black that goes on from there.
        let mut shown: Vec<(f64, bool)> = Vec::new();
        let lasted = frames::run(path, track, last.from, budget, |at_s, black| {
            shown.push((at_s, black));
            at_s < last.end_s && (black || at_s < last.quiet_s)
        });
        for r in &group {
            found.extend(black_in(&shown, r));
        }
        if lasted != Ok(true) {
            break; // out of budget, or a picture that does not decode
        }
    }
    found
}

/// The black that the run `r` shows, from the pictures decoded (`shown`, in the order they
/// show): its first quiet picture shows what the run shows (not decoded that far: unknown).
fn black_in(shown: &[(f64, bool)], r: &AfterCut) -> Option<Stretch> {
    let first = shown.iter().position(|&(t, _)| t >= r.quiet_s - 1e-6)?;
    if !shown[first].1 {
        return None;
    }
    let from = shown[..first]
        .iter()
        .rev()
        .take_while(|(_, black)| *black)
        .last()
        .map_or(shown[first].0, |&(t, _)| t);
    // Where it stops being black; not decoded that far: where the pictures change again.
    let to = shown[first..]
        .iter()
        .find(|(_, black)| !black)
        .map_or(r.end_s, |&(t, _)| t);
    (to - from >= MIN_BLACK_S).then(|| Stretch::new(StretchKind::Black, from, to))
}

/// When the group holding `r` starts.
fn start_of(track: &VideoTrack, r: &AfterCut) -> f64 {
    track.samples.get(r.from).map_or(0.0, |s| track.seconds(s))
}

/// The runs of `MIN_BLACK_S` or more of quiet pictures that start after a cut.
fn after_cuts(track: &VideoTrack, duration: f64) -> Vec<AfterCut> {
    let starts: Vec<usize> = (0..track.samples.len())
        .filter(|&i| track.samples[i].sync)
        .collect();
    let mut key_sizes: Vec<u64> = starts
        .iter()
        .map(|&i| u64::from(track.samples[i].size))
        .collect();
    key_sizes.sort_unstable();
    let median_key = key_sizes.get(key_sizes.len() / 2).copied().unwrap_or(0);
    let quiet = QUIET_BYTES.max(median_key / 64);
    let mut out = Vec::new();
    for (n, &from) in starts.iter().enumerate() {
        let to = starts.get(n + 1).copied().unwrap_or(track.samples.len());
        let Some(group) = track.samples.get(from..to) else {
            continue;
        };
        let Some(key) = group.first() else {
            continue;
        };
        let end_s = starts
            .get(n + 1)
            .and_then(|&i| track.samples.get(i))
            .map_or(duration, |s| track.seconds(s));
        if end_s - track.seconds(key) < MIN_BLACK_S {
            continue;
        }
        // In the order they show: (time, quiet, the keyframe).
        let mut shown: Vec<(f64, bool, bool)> = group
            .iter()
            .map(|s| (track.seconds(s), u64::from(s.size) <= quiet, s.sync))
            .collect();
        shown.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut i = 0;
        while i < shown.len() {
            let (t, q, _) = shown[i];
            if !q {
                i += 1;
                continue;
            }
            let mut j = i;
            while j + 1 < shown.len() && shown[j + 1].1 {
                j += 1;
            }
            let run_end = shown.get(j + 1).map_or(end_s, |n| n.0);
            // After a cut: the picture before it is not the keyframe (that one is seen).
            if let Some(&(_, _, false)) = i.checked_sub(1).and_then(|p| shown.get(p)) {
                if run_end - t >= MIN_BLACK_S {
                    out.push(AfterCut {
                        from,
                        quiet_s: t,
                        end_s: run_end,
                    });
                }
            }
            i = j + 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::files::mp4::{Mp4File, Stretch};
    use crate::previews::contact_sheet::make;
    use std::path::Path;

    /// x264's pictures (tests/data/mp4/README.md): 8 s of moving test pictures, 3 s of black,
    /// 9 s of still bars, one keyframe for all of it (no keyframes at cuts, as x264's
    /// ultrafast preset makes them). The black holds no keyframe: it is found from the
    /// pictures after the cut into it, and the still bars after the next cut are no black.
    #[test]
    fn black_with_no_keyframe_in_it_is_found_where_it_is() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mp4/black-between-keys.mp4");
        let sheet = make(&Mp4File::open(&path).unwrap()).unwrap();
        assert_eq!(
            sheet.frames_s.len(),
            1,
            "one keyframe: {:?}",
            sheet.frames_s
        );
        let said: Vec<String> = sheet.stretches.iter().map(Stretch::said).collect();
        assert_eq!(said, ["The picture is black from 0:08 to 0:11."]);
    }

    /// Moving pictures are never quiet, so they cost no decoding between keyframes, however
    /// far apart: of the file above, only the black and the still bars (each after its cut)
    /// are looked at.
    /// Keyframes every 3 s (none at cuts), 1.5 s of black inside one group of pictures between
    /// two moving ones: no keyframe is black, the black is found all the same.
    #[test]
    fn black_shorter_than_the_keyframes_spacing_is_found() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mp4/black-inside-a-group.mp4");
        let sheet = make(&Mp4File::open(&path).unwrap()).unwrap();
        assert_eq!(sheet.frames_s.len(), 4, "{:?}", sheet.frames_s);
        let [s] = &sheet.stretches[..] else {
            panic!("{:?}", sheet.stretches)
        };
        assert!(
            (4.0..=4.3).contains(&s.from_s) && (5.5..=5.8).contains(&s.to_s),
            "{s:?}"
        );
    }

    #[test]
    fn only_quiet_pictures_after_a_cut_are_looked_at() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mp4/black-between-keys.mp4");
        let track = Mp4File::open(&path).unwrap().video_track().unwrap();
        let runs = super::after_cuts(&track, 20.0);
        let starts: Vec<f64> = runs
            .iter()
            .map(|r| (r.quiet_s * 10.0).round() / 10.0)
            .collect();
        assert_eq!(runs.len(), 2, "{runs:?}");
        assert!(
            (8.0..=8.5).contains(&starts[0]) && (11.0..=11.5).contains(&starts[1]),
            "{starts:?}"
        );
    }
}

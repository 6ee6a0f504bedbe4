//! Checked before it is called done: a saved video held against what was asked (the length
//! its instruction names; for a platform's version, the platform's shape and longest length),
//! and with `make_video(fix: true)` one bounded fix round: one more paid instruction written
//! from the differences ("The video is 20 s long; make it 30 s long. Keep everything else."),
//! then one more export (free), checked again. The round is journaled in the plan before it
//! starts and is keyed, so a restart follows it and never sends it twice; there is never a
//! second round. Its cost is in the original quote as a maximum.

use super::platforms;
use crate::files::mp4::{requested_length, Mp4Facts};

/// How `facts` differ from what `instruction` asked and (for a platform's version named
/// `label`) from what the platform wants; each an instruction-ready sentence.
pub fn differences(instruction: &str, label: Option<&str>, facts: &Mp4Facts) -> Vec<Difference> {
    let mut out = Vec::new();
    if let Some(asked) = requested_length(instruction) {
        let off = (asked - facts.duration_s).abs() > (asked * 0.05).max(1.0);
        if off {
            // The ask first: the length to reach is the one an agent reads first.
            out.push(Difference {
                kind: Kind::Length,
                said: format!(
                    "the video is {:.0} s long, not the {asked:.0} s asked for",
                    facts.duration_s
                ),
                fix: format!(
                    "Make the video {asked:.0} seconds long (it came out at {:.0} seconds).",
                    facts.duration_s
                ),
            });
        }
    }
    if let Some(p) = label.and_then(platforms::find) {
        let (_, differs) = platforms::check(p, facts);
        for d in differs {
            // Only what an edit can change: the shape and the length, not the renderer's size.
            if d.contains(" not ") || d.contains("longer than") {
                out.push(Difference {
                    kind: if d.contains(" not ") {
                        Kind::Shape
                    } else {
                        Kind::PlatformLength
                    },
                    fix: format!("For {}: {d}; make it {}.", p.title, platforms::expand(p)),
                    said: d,
                });
            }
        }
    }
    out
}

/// One difference: what it is about, as the result says it, and as the fix round asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub kind: Kind,
    pub said: String,
    pub fix: String,
}

pub use crate::jobs::results::DifferenceKind as Kind;

/// The fix round's instruction: every difference, then "keep everything else".
pub fn instruction(differences: &[Difference]) -> String {
    let asks: Vec<&str> = differences.iter().map(|d| d.fix.as_str()).collect();
    format!("{} Keep everything else as it is.", asks.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(s: f64, w: u32, h: u32) -> Mp4Facts {
        Mp4Facts {
            duration_s: s,
            width: Some(w),
            height: Some(h),
            audio: true,
            silent: Some(false),
        }
    }

    #[test]
    fn a_short_file_or_a_wrong_shape_is_a_difference_an_edit_can_fix() {
        let d = differences(
            "a 30-second promo with music",
            None,
            &facts(20.0, 1920, 1080),
        );
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].fix,
            "Make the video 30 seconds long (it came out at 20 seconds)."
        );
        assert_eq!(d[0].kind, Kind::Length);
        assert!(differences("a 30-second promo", None, &facts(30.4, 1920, 1080)).is_empty());
        let d = differences("a promo", Some("tiktok"), &facts(10.0, 1280, 720));
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].fix.contains("make it vertical 9:16"), "{d:?}");
        let i = instruction(&d);
        assert!(i.ends_with("Keep everything else as it is."), "{i}");
        // The renderer's size alone is no difference to send an edit for.
        assert!(differences("a promo", Some("tiktok"), &facts(10.0, 360, 640)).is_empty());
    }
}

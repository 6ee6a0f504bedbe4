//! Checked before it is called done: a saved video held against what was asked. What its
//! instruction names (a length, music, text on the picture), what a platform's version must
//! be (shape, resolution, longest length), and what no one asks for (black pictures; no sound
//! where music was asked). Each difference is said for the result and written as an
//! instruction for the one fix round (`fix`).
//!
//! A picture that does not change for ten seconds is said, but is not a difference: a photo
//! held for its share of the length is what a slideshow of photos is, and nothing in a request
//! says otherwise. Likewise a stretch with no sound where no music was asked, and a black of
//! three seconds or less at the very start or end (a fade): a fix round costs credits, so only
//! what is plainly not what was asked starts one.

use super::{asked, platforms};
use crate::files::mp4::{asked_length, StretchKind};
use crate::jobs::results::FileCheck;

pub use crate::jobs::results::DifferenceKind as Kind;

/// Black at the start or the end no longer than this is a fade, said but no difference.
const FADE_S: f64 = 3.0;

/// One difference: what it is about, as the result says it, and as the fix round asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub kind: Kind,
    pub said: String,
    pub fix: String,
}

/// What a file was held against (`checked`) and how it differs (`differs`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Held {
    pub checked: Vec<String>,
    pub differs: Vec<Difference>,
}

impl Held {
    /// Something differs that an edit can change.
    pub fn fixable(&self) -> bool {
        self.differs.iter().any(|d| d.kind.fixable())
    }

    /// Say it with the file's check (`checked` and `differs` of every result with a file).
    pub fn record(&self, check: &mut FileCheck) {
        check.held = self.checked.clone();
        check.differs = self.differs.iter().map(|d| d.said.clone()).collect();
    }
}

/// Hold the checked file against what the user `asked` (absent for a bare export: what no
/// one asks for is still held; a plan's is [`VideoPlan::asked`], never the platform's words
/// sent with it) and, for a platform's version named `label`, against the platform.
///
/// [`VideoPlan::asked`]: crate::jobs::results::VideoPlan::asked
pub fn hold(asked: Option<&str>, label: Option<&str>, check: &FileCheck) -> Held {
    let mut held = Held::default();
    let Some(facts) = &check.file else {
        return held;
    };
    let platform = label.and_then(platforms::find);
    let ask = asked.unwrap_or_default();
    let mut add = |kind, said: String, fix: String| {
        held.differs.push(Difference { kind, said, fix });
    };
    let asked = asked_length(ask);
    if let Some(limit) = asked.filter(|a| a.at_most).map(|a| a.seconds) {
        // "under a minute": any shorter video keeps it.
        held.checked
            .push(format!("length (at most {limit:.0} s asked)"));
        if facts.duration_s - limit > (limit * 0.05).max(1.0) {
            add(
                Kind::Length,
                format!(
                    "the video is {:.0} s long, longer than the {limit:.0} s asked for",
                    facts.duration_s
                ),
                format!(
                    "Make the video at most {limit:.0} seconds long (it came out at {:.0} seconds).",
                    facts.duration_s
                ),
            );
        }
    }
    if let Some(want) = asked.filter(|a| !a.at_most).map(|a| a.seconds) {
        held.checked.push(format!("length ({want:.0} s asked)"));
        if (want - facts.duration_s).abs() > (want * 0.05).max(1.0) {
            // The ask first: the length to reach is the one an agent reads first.
            add(
                Kind::Length,
                format!(
                    "the video is {:.0} s long, not the {want:.0} s asked for",
                    facts.duration_s
                ),
                format!(
                    "Make the video {want:.0} seconds long (it came out at {:.0} seconds).",
                    facts.duration_s
                ),
            );
        }
    }
    if let Some(p) = platform {
        let (checked, differs) = platforms::check(p, facts);
        held.checked.extend(checked);
        for (kind, d) in differs {
            let fix = format!("For {}: {d}; make it {}.", p.title, platforms::expand(p));
            add(kind, d, fix);
        }
    }
    if !check.frames_s.is_empty() {
        held.checked.push("black pictures".into());
    }
    let music = asked::music(ask);
    if music {
        held.checked.push("music".into());
        match (facts.audio, facts.silent) {
            (false, _) => add(
                Kind::Music,
                "it has no sound track, though music was asked for".into(),
                "Add the music that was asked for: the video has no sound.".into(),
            ),
            (true, Some(true)) => add(
                Kind::Music,
                "its sound track is silent, though music was asked for".into(),
                "Add the music that was asked for: the video is silent.".into(),
            ),
            _ => {}
        }
    }
    for s in &check.stretches {
        // A short black at the very start or end is a fade in or out, made on purpose.
        let fade =
            (s.from_s <= 0.5 || s.to_s >= facts.duration_s - 0.5) && s.to_s - s.from_s <= FADE_S;
        match s.kind {
            // Black that was asked for ("fade to black", "a black screen") is said, never a
            // difference: a paid fix round would fill what the user wanted.
            StretchKind::Black if !fade && !asked::black(ask) => add(
                Kind::Black,
                s.phrase(),
                format!(
                    "The picture is black from {}: fill it with the video's own pictures.",
                    s.span()
                ),
            ),
            StretchKind::Quiet if music => add(
                Kind::Quiet,
                format!("{}, though music was asked for", s.phrase()),
                format!(
                    "There is no sound from {}: let the music play through it.",
                    s.span()
                ),
            ),
            _ => {}
        }
    }
    if asked::text(ask) {
        if let Some(has) = check.text_track {
            held.checked.push("text".into());
            if !has {
                add(
                    Kind::Text,
                    "there is no text on it, though text was asked for".into(),
                    "Add the text that was asked for: the video has none.".into(),
                );
            }
        }
    }
    held
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::mp4::{Mp4Facts, Stretch};

    fn check(s: f64, w: u32, h: u32) -> FileCheck {
        FileCheck {
            file: Some(Mp4Facts {
                duration_s: s,
                width: Some(w),
                height: Some(h),
                audio: true,
                silent: Some(false),
            }),
            frames_s: vec![0.0, 5.0],
            text_track: Some(true),
            ..Default::default()
        }
    }

    #[test]
    fn a_short_file_or_a_wrong_shape_is_a_difference_an_edit_can_fix() {
        let h = hold(
            Some("a 30-second promo with music"),
            None,
            &check(20.0, 1920, 1080),
        );
        assert_eq!(h.differs.len(), 1);
        assert_eq!(
            h.differs[0].fix,
            "Make the video 30 seconds long (it came out at 20 seconds)."
        );
        assert_eq!(h.differs[0].kind, Kind::Length);
        assert_eq!(
            h.checked,
            ["length (30 s asked)", "black pictures", "music"]
        );
        let h = hold(Some("a 30-second promo"), None, &check(30.4, 1920, 1080));
        assert!(h.differs.is_empty());
        let h = hold(Some("a promo"), Some("tiktok"), &check(10.0, 1280, 720));
        assert_eq!(h.differs.len(), 1, "{h:?}");
        assert!(h.differs[0].fix.contains("make it vertical 9:16"), "{h:?}");
        assert!(h.fixable());
        // The renderer's size alone is no difference to send an edit for.
        let h = hold(Some("a promo"), Some("tiktok"), &check(10.0, 360, 640));
        assert_eq!(h.differs[0].kind, Kind::Resolution, "{h:?}");
        assert!(!h.fixable());
    }

    /// The platform's own words in a version's instruction are not the user's ask: "at most
    /// 10 minutes" is no length asked, "keep titles … out of" no text asked.
    #[test]
    fn a_platform_s_words_are_not_held_as_the_user_s_ask() {
        let mut c = check(12.0, 1080, 1920);
        c.text_track = Some(false);
        // As a version's plan holds it (`VideoPlan::asked`): the ask, else what was sent.
        let asked = |base: &str| {
            let sent = super::super::variants::instruction_for(base, "tiktok");
            super::super::variants::asked_for(base, "tiktok").unwrap_or(sent)
        };
        let sent = super::super::variants::instruction_for("combine these into a promo", "tiktok");
        assert!(
            sent.contains("at most 10 minutes") && sent.contains("captions"),
            "{sent}"
        );
        let h = hold(
            Some(&asked("combine these into a promo")),
            Some("tiktok"),
            &c,
        );
        assert!(h.differs.is_empty(), "{h:?}");
        assert!(
            !h.checked
                .iter()
                .any(|c| c.starts_with("length") || c == "text"),
            "{h:?}"
        );
        // The user's own length still is.
        let h = hold(Some(&asked("a 30-second promo")), Some("tiktok"), &c);
        assert_eq!(h.differs[0].kind, Kind::Length, "{h:?}");
    }

    #[test]
    fn music_and_text_asked_but_missing_and_black_pictures_differ() {
        let mut c = check(12.0, 1920, 1080);
        c.file.as_mut().unwrap().silent = Some(true);
        c.text_track = Some(false);
        c.stretches = vec![
            Stretch::new(StretchKind::Black, 2.0, 8.0),
            Stretch::new(StretchKind::Still, 8.0, 12.0),
        ];
        let h = hold(Some("a promo with music and text overlays"), None, &c);
        let kinds: Vec<Kind> = h.differs.iter().map(|d| d.kind).collect();
        assert_eq!(kinds, [Kind::Music, Kind::Black, Kind::Text], "{h:?}");
        assert_eq!(h.differs[1].said, "the picture is black from 0:02 to 0:08");
        // Not asked: silence and missing text are no difference; black still is; a still
        // picture never is.
        let h = hold(Some("make it brighter"), None, &c);
        let kinds: Vec<Kind> = h.differs.iter().map(|d| d.kind).collect();
        assert_eq!(kinds, [Kind::Black], "{h:?}");
        // A short black at the end is a fade out; a long one is not.
        c.stretches = vec![Stretch::new(StretchKind::Black, 9.5, 12.0)];
        assert!(hold(Some("a promo"), None, &c).differs.is_empty());
        c.stretches = vec![Stretch::new(StretchKind::Black, 6.0, 12.0)];
        assert_eq!(hold(Some("a promo"), None, &c).differs[0].kind, Kind::Black);
        // Black that was asked for is what was asked: no fix round fills it.
        c.stretches = vec![Stretch::new(StretchKind::Black, 4.0, 6.0)];
        assert!(hold(Some("fade to black between the scenes"), None, &c)
            .differs
            .is_empty());
        assert!(hold(Some("转场用黑场过渡"), None, &c).differs.is_empty());
        assert_eq!(
            hold(Some("a black and white look"), None, &c).differs[0].kind,
            Kind::Black
        );
        // Quiet stretches differ only where music was asked.
        c.file.as_mut().unwrap().silent = Some(false);
        c.stretches = vec![Stretch::new(StretchKind::Quiet, 3.0, 9.0)];
        assert_eq!(
            hold(Some("add music"), None, &c).differs[0].kind,
            Kind::Quiet
        );
        assert!(hold(Some("a promo"), None, &c).differs.is_empty());
        // A limit: a shorter video keeps it; a longer one differs.
        let c = check(30.0, 1920, 1080);
        assert!(hold(Some("keep it under 1 minute"), None, &c)
            .differs
            .is_empty());
        let h = hold(Some("keep it under 20 seconds"), None, &c);
        assert_eq!(h.checked, ["length (at most 20 s asked)", "black pictures"]);
        assert_eq!(
            h.differs[0].said,
            "the video is 30 s long, longer than the 20 s asked for"
        );
        // Nothing read, nothing held.
        assert_eq!(
            hold(Some("a 30 s promo"), None, &FileCheck::default()),
            Held::default()
        );
    }
}

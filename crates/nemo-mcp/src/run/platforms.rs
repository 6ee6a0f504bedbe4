//! Platforms: the shapes a person making promos wants from one request (a vertical cut for
//! TikTok, Reels and Shorts, a square one for feeds, a wide one for YouTube), named as they
//! name them. NemoVideo takes only words (no aspect-ratio field; its own skill says a new ratio
//! means regenerating), so a platform is expanded into the words of its variant's instruction,
//! and each file is held against the platform's shape and length once it is saved.
//!
//! The figures, from each platform's help pages as they read in late 2025 (TikTok Creator
//! Portal "Video specs"; Instagram Help Center "Reels"; YouTube Help "Upload YouTube Shorts" and
//! "Recommended upload encoding settings"; LinkedIn Help "Video ads specifications"; X Help
//! "Media"). They change: the longest lengths and file limits are what the check says, never
//! what it refuses.

use crate::jobs::results::DifferenceKind;

/// One platform's preset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Platform {
    /// The name the file is called after, and that callers write.
    pub name: &'static str,
    /// Other names callers write for it.
    pub aliases: &'static [&'static str],
    /// How people call it in a sentence.
    pub title: &'static str,
    /// Width and height of the picture (their ratio is the shape).
    pub size: (u32, u32),
    /// The longest video the platform takes, in seconds.
    pub longest_s: u32,
    /// Where titles and captions stay clear of the app's own buttons and text: the share of
    /// the picture's height kept free at the top and at the bottom.
    pub safe_top: f64,
    pub safe_bottom: f64,
    /// The largest file it takes, in MB (the app's upload; the web's may be larger).
    pub max_file_mb: u32,
}

/// The presets.
pub const PLATFORMS: [Platform; 7] = [
    Platform {
        name: "tiktok",
        aliases: &["tik tok", "douyin", "抖音"],
        title: "TikTok",
        size: (1080, 1920),
        longest_s: 600,
        safe_top: 0.10,
        safe_bottom: 0.20,
        max_file_mb: 4096,
    },
    Platform {
        name: "reels",
        aliases: &["instagram reels", "instagram reel", "reel"],
        title: "Instagram Reels",
        size: (1080, 1920),
        longest_s: 180,
        safe_top: 0.14,
        safe_bottom: 0.20,
        max_file_mb: 4096,
    },
    Platform {
        name: "shorts",
        aliases: &["youtube shorts", "youtube short", "short"],
        title: "YouTube Shorts",
        size: (1080, 1920),
        longest_s: 180,
        safe_top: 0.10,
        safe_bottom: 0.20,
        max_file_mb: 256_000,
    },
    Platform {
        name: "youtube",
        aliases: &["youtube video", "website"],
        title: "YouTube",
        size: (1920, 1080),
        longest_s: 43_200,
        safe_top: 0.0,
        safe_bottom: 0.10,
        max_file_mb: 256_000,
    },
    Platform {
        name: "square",
        aliases: &["instagram feed", "feed", "facebook feed", "1:1"],
        title: "square feeds",
        size: (1080, 1080),
        longest_s: 3_600,
        safe_top: 0.0,
        safe_bottom: 0.10,
        max_file_mb: 4096,
    },
    Platform {
        name: "linkedin",
        aliases: &["linked in"],
        title: "LinkedIn",
        size: (1080, 1080),
        longest_s: 600,
        safe_top: 0.0,
        safe_bottom: 0.10,
        max_file_mb: 5120,
    },
    Platform {
        name: "x",
        aliases: &["twitter", "x (twitter)"],
        title: "X",
        size: (1920, 1080),
        longest_s: 140,
        safe_top: 0.0,
        safe_bottom: 0.10,
        max_file_mb: 512,
    },
];

/// The platform a variant names ("tiktok", "TikTok", "YouTube Shorts"), if it names one.
pub fn find(label: &str) -> Option<&'static Platform> {
    let l = label.trim().to_lowercase();
    PLATFORMS
        .iter()
        .find(|p| p.name == l || p.aliases.contains(&l.as_str()) || p.title.to_lowercase() == l)
}

/// The shape in words: "vertical 9:16", "square 1:1", "wide 16:9".
pub fn shape(p: &Platform) -> String {
    let (w, h) = p.size;
    let g = gcd(w, h);
    let ratio = format!("{}:{}", w / g, h / g);
    match w.cmp(&h) {
        std::cmp::Ordering::Less => format!("vertical {ratio}"),
        std::cmp::Ordering::Equal => format!("square {ratio}"),
        std::cmp::Ordering::Greater => format!("wide {ratio}"),
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

/// The words a platform's variant sends (and its quote shows).
pub fn expand(p: &Platform) -> String {
    let (w, h) = p.size;
    let mut s = format!(
        "{} ({w}×{h}) for {}, at most {}",
        shape(p),
        p.title,
        duration(p.longest_s)
    );
    if p.safe_top > 0.0 || p.safe_bottom > 0.0 {
        s.push_str(&format!(
            "; keep titles and captions out of the top {}% and the bottom {}% of the picture",
            (p.safe_top * 100.0).round(),
            (p.safe_bottom * 100.0).round()
        ));
    }
    s
}

fn duration(s: u32) -> String {
    match s {
        s if s >= 3600 && s % 3600 == 0 => format!("{} hours", s / 3600),
        s if s >= 120 && s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

/// A saved file held against its platform: what was checked, and what differs (each with
/// what it is about: its shape, its size, its length).
pub fn check(
    p: &Platform,
    facts: &crate::files::mp4::Mp4Facts,
) -> (Vec<String>, Vec<(DifferenceKind, String)>) {
    let mut checked = vec!["shape".to_string(), "longest length".to_string()];
    let mut differs = Vec::new();
    let (w, h) = p.size;
    match (facts.width, facts.height) {
        (Some(fw), Some(fh)) => {
            let want = f64::from(w) / f64::from(h);
            let got = f64::from(fw) / f64::from(fh);
            if (want - got).abs() / want > 0.03 {
                differs.push((
                    DifferenceKind::Shape,
                    format!(
                        "the picture is {fw}×{fh}, not {} as {} wants",
                        shape(p),
                        p.title
                    ),
                ));
            }
            checked.push("resolution".into());
            if fw.max(fh) < w.max(h) * 2 / 3 {
                differs.push((
                    DifferenceKind::Resolution,
                    format!(
                        "the picture is {fw}×{fh}, smaller than {}'s {w}×{h}",
                        p.title
                    ),
                ));
            }
        }
        _ => differs.push((
            DifferenceKind::Resolution,
            "the picture's size could not be read".into(),
        )),
    }
    if facts.duration_s > f64::from(p.longest_s) {
        differs.push((
            DifferenceKind::PlatformLength,
            format!(
                "it lasts {:.0} s, longer than {}'s {}",
                facts.duration_s,
                p.title,
                duration(p.longest_s)
            ),
        ));
    }
    (checked, differs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_shapes_and_words() {
        assert_eq!(find("TikTok").unwrap().name, "tiktok");
        assert_eq!(find("YouTube Shorts").unwrap().name, "shorts");
        assert_eq!(find("抖音").unwrap().name, "tiktok");
        assert!(
            find("vertical 9:16 for TikTok").is_none(),
            "free words stay free words"
        );
        assert_eq!(shape(find("reels").unwrap()), "vertical 9:16");
        assert_eq!(shape(find("square").unwrap()), "square 1:1");
        assert_eq!(shape(find("youtube").unwrap()), "wide 16:9");
        let words = expand(find("tiktok").unwrap());
        assert!(
            words.starts_with("vertical 9:16 (1080×1920) for TikTok, at most 10 minutes"),
            "{words}"
        );
        assert!(words.contains("bottom 20%"), "{words}");
    }

    #[test]
    fn a_file_is_held_against_its_platform() {
        use crate::files::mp4::Mp4Facts;
        let facts = |w, h, s| Mp4Facts {
            duration_s: s,
            width: Some(w),
            height: Some(h),
            audio: true,
            silent: Some(false),
        };
        let tiktok = find("tiktok").unwrap();
        assert!(check(tiktok, &facts(1080, 1920, 30.0)).1.is_empty());
        let (_, differs) = check(tiktok, &facts(1920, 1080, 30.0));
        assert_eq!(differs[0].0, DifferenceKind::Shape);
        assert!(differs[0].1.contains("not vertical 9:16"), "{differs:?}");
        let (_, differs) = check(find("x").unwrap(), &facts(1920, 1080, 200.0));
        assert!(
            differs
                .iter()
                .any(|(k, d)| *k == DifferenceKind::PlatformLength
                    && d.contains("longer than X's 140 seconds")),
            "{differs:?}"
        );
        let (_, differs) = check(find("square").unwrap(), &facts(320, 320, 10.0));
        assert!(
            differs
                .iter()
                .any(|(k, d)| *k == DifferenceKind::Resolution && d.contains("smaller")),
            "{differs:?}"
        );
    }
}

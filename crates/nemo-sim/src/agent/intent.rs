//! What a message asks for, read from its words (English and Chinese): combine, music, text,
//! generate, remove music, a length, a quoted title, a shape (9:16, 1:1, 16:9) and a language
//! for the text ("in Chinese").

#[derive(Debug, Default)]
pub(super) struct Intent {
    pub(super) combine: bool,
    pub(super) music: bool,
    pub(super) text: bool,
    pub(super) generate: bool,
    pub(super) remove_music: bool,
    pub(super) length_ms: Option<u64>,
    pub(super) title: Option<String>,
    /// The canvas asked for: (width, height).
    pub(super) canvas: Option<(u64, u64)>,
    /// The text asked for in Chinese.
    pub(super) chinese: bool,
    /// Close the holes in the video track (black between scenes).
    pub(super) fill_holes: bool,
}

/// The shape a message asks for, by ratio or by platform.
fn canvas(m: &str) -> Option<(u64, u64)> {
    if has(
        m,
        &[
            "9:16", "vertical", "portrait", "tiktok", "reels", "shorts", "竖屏", "竖版",
        ],
    ) {
        Some((1080, 1920))
    } else if has(m, &["1:1", "square", "方形", "正方形"]) {
        Some((1080, 1080))
    } else if has(
        m,
        &[
            "16:9",
            "landscape",
            "horizontal",
            "widescreen",
            "youtube",
            "横屏",
            "横版",
        ],
    ) {
        Some((1920, 1080))
    } else {
        None
    }
}

fn has(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| text.contains(w))
}

/// A duration in the text: "30-second", "30 seconds", "30s", "1 minute", "30秒", "1分钟".
pub fn duration_ms(text: &str) -> Option<u64> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
            i += 1;
        }
        let number: String = chars[start..i].iter().collect();
        let rest: String = chars[i..]
            .iter()
            .collect::<String>()
            .trim_start_matches([' ', '-'])
            .to_lowercase();
        let Ok(n) = number.parse::<f64>() else {
            continue;
        };
        // "at most 10 minutes" is a limit to keep within, not a length to make (as an agent
        // reads a platform's limits).
        let before: String = chars[..start].iter().collect::<String>().to_lowercase();
        let before = before.trim_end();
        if [
            "at most",
            "up to",
            "no longer than",
            "no more than",
            "under",
            "within",
            "less than",
            "shorter than",
            "最多",
            "不超过",
        ]
        .iter()
        .any(|w| before.ends_with(w))
        {
            continue;
        }
        let unit = if rest.starts_with("sec")
            || rest.starts_with("秒")
            || rest.starts_with("s ")
            || rest == "s"
            || rest.starts_with("s,")
            || rest.starts_with("s.")
        {
            1000.0
        } else if rest.starts_with("min") || rest.starts_with("分钟") {
            60_000.0
        } else {
            continue;
        };
        let ms = n * unit;
        if (1000.0..=600_000.0).contains(&ms) {
            return Some(ms as u64);
        }
    }
    None
}

/// Text in quotes ("..", “..”, '..', 「..」), the usual way people give a title.
fn quoted(text: &str) -> Option<String> {
    for (open, close) in [('"', '"'), ('“', '”'), ('「', '」'), ('\'', '\'')] {
        if let Some(a) = text.find(open) {
            let rest = &text[a + open.len_utf8()..];
            if let Some(b) = rest.find(close) {
                let q = rest[..b].trim();
                if !q.is_empty() && q.chars().count() <= 80 {
                    return Some(q.to_string());
                }
            }
        }
    }
    None
}

pub(super) fn intent(message: &str) -> Intent {
    let m = message.to_lowercase();
    let remove_music = has(
        &m,
        &[
            "remove music",
            "remove the music",
            "no music",
            "without music",
            "去掉音乐",
            "删除音乐",
        ],
    );
    Intent {
        // As a person asks an editor to close a hole in the video (any wording with these).
        fill_holes: has(
            &m,
            &[
                "fill",
                "gap",
                "black screen",
                "blank",
                "填补",
                "黑屏",
                "空白",
                "空缺",
            ],
        ),
        combine: has(
            &m,
            &[
                "combine",
                "merge",
                "promo",
                "slideshow",
                "montage",
                "video from",
                "make a video",
                "create a video",
                "into a",
                "合成",
                "拼接",
                "制作",
            ],
        ),
        music: !remove_music
            && has(
                &m,
                &[
                    "music",
                    "bgm",
                    "soundtrack",
                    "song",
                    "audio track",
                    "音乐",
                    "配乐",
                ],
            ),
        text: has(
            &m,
            &[
                "text", "title", "caption", "overlay", "subtitle", "文字", "标题", "字幕",
            ],
        ),
        generate: has(
            &m,
            &[
                "generate",
                "ai video of",
                "ai clip",
                "a clip of",
                "a video of",
                "生成",
            ],
        ),
        remove_music,
        length_ms: duration_ms(&m),
        title: quoted(message),
        canvas: canvas(&m),
        chinese: has(&m, &["in chinese", "chinese version", "mandarin", "中文"]),
    }
}

#[cfg(test)]
mod tests {
    use super::duration_ms;

    #[test]
    fn a_limit_is_not_a_length_to_make() {
        assert_eq!(duration_ms("a 30-second promo"), Some(30_000));
        assert_eq!(
            duration_ms("a promo; this version: vertical 9:16 for TikTok, at most 10 minutes"),
            None
        );
        assert_eq!(
            duration_ms("a 15s teaser, for Reels, up to 3 minutes"),
            Some(15_000)
        );
        assert_eq!(duration_ms("不超过60秒"), None);
    }
}

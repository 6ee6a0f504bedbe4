//! What an instruction asks for that a saved file can be held against, besides its length
//! (`files::mp4::requested_length`): music, text on the picture, and black (a fade or dip to
//! black, a black screen: black the file then shows is what was asked, not a gap to fill). Read in the languages the
//! seeds serve (English and Chinese), word by word in English (so "context" asks for no text),
//! and never when the request says to leave it out ("no music", "去掉字幕"). The table test
//! (`tests/data/asks.tsv`) was written from the seeds' requests, not from these lists.

/// English words that ask for music (whole words).
const MUSIC_WORDS: &[&str] = &[
    "music",
    "musical",
    "bgm",
    "soundtrack",
    "song",
    "songs",
    "jingle",
];
/// Chinese words that ask for music (anywhere in the text).
const MUSIC_ZH: &[&str] = &["音乐", "配乐", "背景音", "歌曲", "bgm"];
/// English words that ask for text on the picture (whole words).
const TEXT_WORDS: &[&str] = &[
    "text",
    "texts",
    "title",
    "titles",
    "caption",
    "captions",
    "subtitle",
    "subtitles",
    "headline",
    "tagline",
    "slogan",
    "lettering",
];
const TEXT_ZH: &[&str] = &["字幕", "文字", "标题", "文案", "标语"];
/// Words that, just before the thing, leave it out ("no music", "without the text").
const LEAVE_OUT: &[&str] = &["no", "without", "remove", "delete", "mute", "drop"];
/// Words that may stand between such a word and the thing ("remove the background music").
const BETWEEN: &[&str] = &[
    "the",
    "a",
    "any",
    "all",
    "some",
    "background",
    "of",
    "its",
    "bg",
];
/// English words that ask for black pictures (whole words; "black and white" is a look, not
/// black, and is read as one first).
const BLACK_WORDS: &[&str] = &["black", "blackout", "blackness"];
/// Chinese words that ask for black pictures (黑白, black and white, is none of them).
const BLACK_ZH: &[&str] = &["黑屏", "黑场", "黑色", "黑底", "全黑", "变黑", "渐黑"];
const LEAVE_OUT_ZH: &[&str] = &["去掉", "不要", "删除", "删掉", "无", "没有", "静音", "取消"];

/// The instruction asks for music.
pub fn music(instruction: &str) -> bool {
    asks(instruction, MUSIC_WORDS, MUSIC_ZH)
}

/// The instruction asks for text on the picture (titles, captions, overlays).
pub fn text(instruction: &str) -> bool {
    asks(instruction, TEXT_WORDS, TEXT_ZH)
}

/// The instruction asks for black pictures somewhere: a fade or dip to black, a black screen.
pub fn black(instruction: &str) -> bool {
    let look = instruction
        .to_lowercase()
        .replace("black-and-white", "monochrome")
        .replace("black and white", "monochrome")
        .replace("black & white", "monochrome");
    asks(&look, BLACK_WORDS, BLACK_ZH)
}

fn asks(instruction: &str, words: &[&str], zh: &[&str]) -> bool {
    let lower = instruction.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let mut asked = false;
    for (i, t) in tokens.iter().enumerate() {
        if !t.is_ascii() || !words.contains(t) {
            continue;
        }
        // "no music", "without background music", "remove the text": the word before it,
        // past words that only stand between ("no text, add music" asks for music).
        let left_out = tokens[..i]
            .iter()
            .rev()
            .take(4)
            .find(|b| !BETWEEN.contains(b))
            .is_some_and(|b| LEAVE_OUT.contains(b));
        if left_out {
            return false;
        }
        asked = true;
    }
    for w in zh {
        let mut from = 0;
        while let Some(at) = lower[from..].find(w) {
            let at = from + at;
            let head: String = lower[..at]
                .chars()
                .rev()
                .take(3)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if LEAVE_OUT_ZH.iter().any(|n| head.contains(n)) {
                return false;
            }
            asked = true;
            from = at + w.len();
        }
    }
    asked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn music_and_text_are_read_word_by_word() {
        assert!(music("a promo with music and text overlays"));
        assert!(text("a promo with music and text overlays"));
        assert!(!text("keep the context"), "not a word for text");
        assert!(!music("a promo without music"));
        assert!(!music("去掉背景音乐"));
        assert!(music("配上音乐"));
        assert!(text("加上字幕"));
        assert!(!text("不要字幕"));
        assert!(black("fade to black at the end"));
        assert!(!black("a black and white look"));
        assert!(!black("no black between the clips"));
    }
}

//! The language a new project is created in (`language` of the session request).
//!
//! Seed 003 sends the detected language, the others `en`. We create a project in the language
//! of the user's first instruction; before any instruction (a project started by an upload), in
//! the host's locale; `en` only when neither says anything.

/// The last fallback.
pub use crate::config::locale::FALLBACK;

/// Languages whose text is written in the Latin script: an instruction in Latin letters may be
/// in any of them, so the locale decides between them (and `en` when the locale is not one).
const LATIN_SCRIPT: &[&str] = &[
    "en", "es", "fr", "de", "it", "pt", "nl", "sv", "da", "no", "nb", "nn", "fi", "pl", "cs", "sk",
    "sl", "hr", "ro", "hu", "tr", "id", "ms", "vi", "tl", "ca", "eu", "gl", "et", "lv", "lt", "is",
    "ga", "sq", "af", "sw",
];

/// The primary subtag of a language code: `zh-CN` → `zh`.
fn primary(code: &str) -> &str {
    code.split(['-', '_']).next().unwrap_or(code)
}

/// Scripts that identify a language by themselves, checked in this order (kana before Han: a
/// Japanese sentence mixes both).
const SCRIPTS: &[(char, char, &str)] = &[
    ('\u{3040}', '\u{30ff}', "ja"),
    ('\u{ac00}', '\u{d7af}', "ko"),
    ('\u{4e00}', '\u{9fff}', "zh-CN"),
    ('\u{0400}', '\u{04ff}', "ru"),
    ('\u{0600}', '\u{06ff}', "ar"),
    ('\u{0e00}', '\u{0e7f}', "th"),
    ('\u{0590}', '\u{05ff}', "he"),
    ('\u{0370}', '\u{03ff}', "el"),
    ('\u{0900}', '\u{097f}', "hi"),
];

/// The language a script identifies on its own, if any (none for Latin letters).
fn by_script(text: &str) -> Option<&'static str> {
    SCRIPTS
        .iter()
        .find(|(lo, hi, _)| text.chars().any(|c| (*lo..=*hi).contains(&c)))
        .map(|(_, _, lang)| *lang)
}

/// The language of a new project whose first instruction is `text`, given the host's language.
/// A script that names a language decides (keeping the host's regional form: `zh-TW` stays
/// `zh-TW`). Latin letters are the host's language when that is written in Latin letters, else
/// English. Text with no letters at all says nothing: the host's language.
pub fn of_instruction(text: &str, host: &str) -> String {
    if let Some(lang) = by_script(text) {
        return if primary(lang) == primary(host) {
            host.to_string()
        } else {
            lang.to_string()
        };
    }
    if !text.chars().any(char::is_alphabetic) {
        return host.to_string();
    }
    if LATIN_SCRIPT.contains(&primary(host)) {
        host.to_string()
    } else {
        FALLBACK.to_string()
    }
}

/// A `language` argument as given by a caller: a short tag of letters and `-`/`_`.
pub fn parse_argument(value: &str) -> Option<String> {
    let v = value.trim();
    let ok = !v.is_empty()
        && v.len() <= 16
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && v.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    ok.then(|| v.replace('_', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions() {
        assert_eq!(of_instruction("把这些图片合成视频", "en"), "zh-CN");
        assert_eq!(of_instruction("把这些图片合成视频", "zh-TW"), "zh-TW");
        assert_eq!(of_instruction("この写真で動画を作って", "en"), "ja");
        assert_eq!(of_instruction("이 사진으로 영상 만들어줘", "en"), "ko");
        assert_eq!(of_instruction("сделай видео", "en"), "ru");
        assert_eq!(of_instruction("make a video", "en"), "en");
        // Latin letters: the host's language if it is written in them, else English.
        assert_eq!(of_instruction("haz un video con estas fotos", "es"), "es");
        assert_eq!(of_instruction("make a video", "zh-CN"), "en");
        assert_eq!(of_instruction("🎬 !!!", "ja"), "ja");
    }

    #[test]
    fn arguments() {
        assert_eq!(parse_argument(" zh_CN "), Some("zh-CN".into()));
        assert_eq!(parse_argument("ja"), Some("ja".into()));
        assert_eq!(parse_argument(""), None);
        assert_eq!(parse_argument("en; rm -rf"), None);
        assert_eq!(parse_argument("x".repeat(40).as_str()), None);
    }
}

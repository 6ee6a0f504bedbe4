//! GUI wording: the backend talks as if the user had its web editor open ("click the Export
//! button", "打开音乐面板"). A sentence that tells the user to operate a GUI is rewritten, whole
//! and in its own language, into what the user can ask this server for ("Ask me to export the
//! video.", "让我为你导出视频。"). Sentences about the content stay as they are, and so do GUI
//! words inside quotes (a title "Download the app today" is text, not an instruction).
//!
//! The steps: cut the reply into sentences (never inside quotes); in each, find the first clause
//! that is a GUI instruction; keep the clauses before it as their own sentence; replace the rest
//! by one sentence naming what the GUI clauses were about (export, timeline, music, ...).

/// What a GUI instruction was for, and so what the user can ask for instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    Export,
    Timeline,
    Music,
    Text,
    Style,
    Media,
    Credits,
}

impl Intent {
    fn english(self) -> &'static str {
        match self {
            Intent::Export => "export the video",
            Intent::Timeline => "show the timeline",
            Intent::Music => "add or change the music",
            Intent::Text => "add or change the text",
            Intent::Style => "add effects or transitions",
            Intent::Media => "upload your files",
            Intent::Credits => "check your credits",
        }
    }
    fn chinese(self) -> &'static str {
        match self {
            Intent::Export => "导出视频",
            Intent::Timeline => "展示时间线",
            Intent::Music => "添加或更换音乐",
            Intent::Text => "添加或修改文字",
            Intent::Style => "添加特效或转场",
            Intent::Media => "上传文件",
            Intent::Credits => "查询积分",
        }
    }
}

mod words;

use words::*;

/// Rewrite every GUI sentence of `text`; everything else is returned as it was.
pub fn rewrite(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for s in sentences(text) {
        out.push_str(&rewrite_sentence(&s));
    }
    out
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3000}'..='\u{303f}').contains(&c)
}

/// Quote pairs. ASCII `'` is left out: it is far more often an apostrophe.
fn closing_quote(c: char) -> Option<char> {
    match c {
        '"' => Some('"'),
        '“' => Some('”'),
        '‘' => Some('’'),
        '「' => Some('」'),
        '『' => Some('』'),
        '《' => Some('》'),
        _ => None,
    }
}

/// The text with everything inside quotes blanked (same number of chars), so GUI words in a
/// quoted title are never seen.
fn mask_quotes(s: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len());
    let mut closing: Option<char> = None;
    for c in s.chars() {
        match closing {
            Some(q) if c == q => {
                closing = None;
                out.push(c);
            }
            Some(_) => out.push(' '),
            None => {
                closing = closing_quote(c);
                out.push(c);
            }
        }
    }
    out
}

/// Cut `text` into sentences, each with its terminator and the whitespace after it. Never cuts
/// inside quotes; a newline always ends a sentence.
fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let masked = mask_quotes(text);
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = masked[i];
        let ends = match c {
            '\n' | '。' | '！' | '？' => true,
            '.' | '!' | '?' => chars
                .get(i + 1)
                .is_none_or(|n| n.is_whitespace() || is_cjk(*n)),
            _ => false,
        };
        i += 1;
        if ends {
            // Keep runs of terminators ("?!", "...") and closing quotes with the sentence.
            while i < chars.len() && (".!?。！？”」』\"".contains(chars[i])) {
                i += 1;
            }
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
            start = i;
        }
    }
    if start < chars.len() {
        out.push(chars[start..].iter().collect());
    }
    out
}

/// Clause boundaries of a masked sentence: after ", " "，" ";" "；" "：" (char indices where each
/// clause starts).
fn clause_starts(masked: &[char]) -> Vec<usize> {
    let mut starts = vec![0];
    for (i, c) in masked.iter().enumerate() {
        let boundary = match c {
            '，' | '；' | ';' | '：' => true,
            ',' => masked.get(i + 1).is_some_and(|n| n.is_whitespace()),
            _ => false,
        };
        if boundary && i + 1 < masked.len() {
            starts.push(i + 1);
        }
    }
    starts
}

fn english_words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether an English clause tells the user to operate a GUI.
fn english_gui(clause: &str) -> bool {
    let w = english_words(clause);
    let noun_within = |i: usize, n: usize| {
        w.iter()
            .skip(i + 1)
            .take(n)
            .any(|x| EN_GUI_NOUNS.contains(&x.as_str()))
    };
    w.iter().enumerate().any(|(i, word)| {
        let word = word.as_str();
        let before = i.checked_sub(1).map(|j| w[j].as_str());
        let after = w.get(i + 1).map(String::as_str);
        match word {
            "button" | "buttons" => true,
            "tap" => after != Some("into"),
            "press" | "hit" => {
                noun_within(i, 6)
                    || w.iter()
                        .skip(i + 1)
                        .take(2)
                        .any(|x| EN_GUI_LABELS.contains(&x.as_str()))
            }
            "drop" => {
                w[i.saturating_sub(3)..i]
                    .iter()
                    .any(|x| x.starts_with("drag"))
                    || w.iter()
                        .skip(i + 1)
                        .take(5)
                        .any(|x| ["into", "onto", "here"].contains(&x.as_str()))
            }
            _ if EN_GUI_VERBS.contains(&word) || word.starts_with("drag-") => true,
            _ if EN_GUI_IF_NOUN.contains(&word) => noun_within(i, 6),
            "export" | "download" | "preview" => {
                let addressed = i == 0 || before.is_some_and(|b| EN_ADDRESS.contains(&b));
                let about_the_video = word == "preview"
                    || w.iter()
                        .skip(i + 1)
                        .take(3)
                        .any(|x| EN_EXPORT_OBJECTS.contains(&x.as_str()));
                addressed && about_the_video
            }
            _ => false,
        }
    })
}

/// Whether a Chinese clause tells the user to operate a GUI.
fn chinese_gui(clause: &str) -> bool {
    if ZH_GUI_ALWAYS.iter().any(|w| clause.contains(w)) {
        return true;
    }
    let gui_noun = ZH_GUI_NOUNS.iter().any(|n| clause.contains(n));
    // "去" is a GUI verb only right before a GUI thing ("去账户页面"); "去掉" is an edit.
    if ZH_GUI_NOUNS
        .iter()
        .any(|n| clause.contains(&format!("去{n}")))
    {
        return true;
    }
    let verb = ZH_GUI_VERBS
        .iter()
        .chain(ZH_YOU)
        .any(|v| clause.contains(v));
    if gui_noun && verb {
        return true;
    }
    // 导出 / 下载 addressed to the user: "请导出", "然后下载视频", or opening the clause.
    ["导出", "下载"].iter().any(|verb| {
        clause.match_indices(verb).any(|(at, _)| {
            let before = clause[..at].trim_end();
            let rest = &clause[at + verb.len()..];
            let addressed = before.is_empty() || ZH_ADDRESS.iter().any(|a| before.ends_with(a));
            let done = ["的", "了", "完成", "成功", "好"]
                .iter()
                .any(|d| rest.starts_with(d));
            addressed && !done
        })
    })
}

/// The intents a GUI passage is about, in the order they are first named (at most three; none
/// when the passage names no object the user could ask for).
fn intents(text: &str, chinese: bool) -> Vec<Intent> {
    let mut found: Vec<(usize, Intent)> = Vec::new();
    if chinese {
        // A player is where things play, not a request to play them.
        let text = &text.replace("播放器", "＿＿＿");
        for (intent, _, zh) in INTENT_WORDS {
            if let Some(at) = zh.iter().filter_map(|w| text.find(w)).min() {
                found.push((at, *intent));
            }
        }
    }
    // English words count in Chinese text too ("点击 Export").
    let words = english_words(text);
    for (intent, en, _) in INTENT_WORDS {
        if let Some(at) = words.iter().position(|w| en.contains(&w.as_str())) {
            // Word positions come after any Chinese position in the ordering.
            let at = if chinese { text.len() + at } else { at };
            if !found.iter().any(|(_, i)| i == intent) {
                found.push((at, *intent));
            }
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, i)| i).take(3).collect()
}

/// The reply without its calls to action: sentences that offer what "I" (the backend's agent)
/// can do next, whether the backend wrote them ("You can ask me to show the timeline") or
/// [`rewrite`] made them from a GUI passage ("Ask me to export the video."). A host model reads
/// the reply as a third party's; what to do next is the server's `next_step`, naming its tools.
pub fn strip_offers(text: &str) -> String {
    const OFFERS: &[&str] = &[
        "ask me",
        "tell me",
        "let me know",
        "i'll do it",
        "i can also",
        "would you like me",
        "shall i",
        "feel free to",
        "让我为你",
        "告诉我",
        "你可以让我",
        "需要我",
        "我来为你",
    ];
    let mut out = String::new();
    let mut sentence = String::new();
    let flush = |sentence: &mut String, out: &mut String| {
        let lower = sentence.to_lowercase();
        if !OFFERS.iter().any(|o| lower.contains(o)) {
            out.push_str(sentence);
        }
        sentence.clear();
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        sentence.push(c);
        let ends = matches!(c, '。' | '！' | '？' | '\n')
            || (matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|n| n.is_whitespace()));
        if ends {
            // Keep the whitespace after a sentence with it.
            while let Some(&n) = chars.peek() {
                if n.is_whitespace() && n != '\n' {
                    sentence.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
            flush(&mut sentence, &mut out);
        }
    }
    flush(&mut sentence, &mut out);
    out.trim().to_string()
}

/// The sentence that replaces a GUI passage; with no intent, an invitation to describe the change.
fn offer(intents: &[Intent], chinese: bool) -> String {
    if intents.is_empty() {
        return if chinese {
            "告诉我你想怎么改，我来为你完成。".into()
        } else {
            "Tell me what you'd like to change, and I'll do it.".into()
        };
    }
    let join = |parts: Vec<&str>, comma: &str, or: &str| match parts.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{}{or}{last}", init.join(comma)),
    };
    if chinese {
        let parts = intents.iter().map(|i| i.chinese()).collect();
        format!("让我为你{}。", join(parts, "、", "或"))
    } else {
        let parts = intents.iter().map(|i| i.english()).collect();
        format!("Ask me to {}.", join(parts, ", ", " or "))
    }
}

fn rewrite_sentence(sentence: &str) -> String {
    let chars: Vec<char> = sentence.chars().collect();
    let masked = mask_quotes(sentence);
    let chinese = masked.iter().any(|c| ('\u{4e00}'..='\u{9fff}').contains(c));
    let starts = clause_starts(&masked);
    let clause = |k: usize| -> String {
        let end = starts.get(k + 1).copied().unwrap_or(masked.len());
        masked[starts[k]..end].iter().collect()
    };
    let first_gui = (0..starts.len()).find(|&k| {
        let c = clause(k);
        if chinese {
            chinese_gui(&c)
        } else {
            english_gui(&c)
        }
    });
    let Some(k) = first_gui else {
        return sentence.to_string();
    };
    let lead: String = chars.iter().take_while(|c| c.is_whitespace()).collect();
    let trail: String = {
        let t: Vec<char> = chars
            .iter()
            .rev()
            .take_while(|c| c.is_whitespace())
            .copied()
            .collect();
        t.into_iter().rev().collect()
    };
    // What the instruction is about is read with its quotes: in a GUI sentence they name
    // buttons and panels (点击“导出”, Click "Export").
    let gui_text: String = chars[starts[k]..].iter().collect();
    let mut out = lead.clone();
    // The clauses before the GUI instruction say something about the content: keep them.
    let kept: String = chars[..starts[k]].iter().collect();
    let kept = kept
        .trim()
        .trim_end_matches([',', '，', ';', '；', '：', ' '])
        .trim();
    let kept = strip_connective(kept);
    if !kept.is_empty() && !is_condition(kept) {
        out.push_str(kept);
        if chinese {
            out.push('。');
        } else {
            out.push_str(". ");
        }
    }
    out.push_str(&offer(&intents(&gui_text, chinese), chinese));
    if trail.is_empty() {
        out
    } else {
        out + &trail
    }
}

/// "If you like it", "满意的话": a condition of the GUI instruction that follows, not content.
fn is_condition(clause: &str) -> bool {
    let lower = clause.to_lowercase();
    ["if ", "when ", "once ", "after ", "before ", "to "]
        .iter()
        .any(|w| lower.starts_with(w))
        || ["如果", "若", "要是", "等", "当"]
            .iter()
            .any(|w| clause.starts_with(w))
        || ["的话", "后", "之后", "以后", "时"]
            .iter()
            .any(|w| clause.ends_with(w))
}

/// "I added music and" → "I added music".
fn strip_connective(s: &str) -> &str {
    for tail in [" and", " so", " then", "然后", "并且", "所以"] {
        if let Some(head) = s.strip_suffix(tail) {
            return head.trim_end();
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_are_stripped_and_the_rest_kept() {
        assert_eq!(
            strip_offers("I added music. You can ask me to show the timeline. Done."),
            "I added music. Done."
        );
        assert_eq!(
            strip_offers(&rewrite(
                "I added music, and you can click Export to download it."
            )),
            "I added music."
        );
        assert_eq!(
            strip_offers("已添加音乐。告诉我你想怎么改，我来为你完成。"),
            "已添加音乐。"
        );
        assert_eq!(strip_offers("Version 2.5 is out."), "Version 2.5 is out.");
    }

    #[test]
    fn sentences_keep_every_char_and_never_cut_quotes() {
        let t = "Done! I added \"Wait. Really?\" as the title.\n完成了。请点击导出！ ";
        let s = sentences(t);
        assert_eq!(s.concat(), t);
        assert_eq!(s.len(), 4, "{s:?}");
        assert_eq!(s[1], "I added \"Wait. Really?\" as the title.\n");
    }

    #[test]
    fn whole_sentences_are_rewritten_in_their_language() {
        assert_eq!(
            rewrite("Tap the Export button."),
            "Ask me to export the video."
        );
        assert_eq!(rewrite("请点击右上角的导出"), "让我为你导出视频。");
        assert_eq!(
            rewrite("I added music, and you can click Export to download it."),
            "I added music. Ask me to export the video."
        );
        assert_eq!(
            rewrite("The drop at 0:12 hits hard."),
            "The drop at 0:12 hits hard."
        );
    }
}

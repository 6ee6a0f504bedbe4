//! Routing a user's phrase (contract "Request routing"): exports, credit and status questions
//! and uploads are answered without the backend agent, because a message to the agent costs
//! credits and it cannot do those things.
//!
//! The router is deliberately conservative: a phrase is answered locally only when it is
//! *wholly* such a request: every word of it belongs to that request's vocabulary (or is a
//! filler such as "please" or "the"), and it names the request ("export", "credits", …).
//! Quoted text is never matched ("Use 'Download the app today' as the slogan" is an edit).
//! Anything else goes to the agent; when it also asks for an export in a clause of its own
//! ("add the title and export"), [`Routed::also_export`] says so, so the caller can suggest the
//! export afterwards instead of sending the export to the agent.

use serde::Serialize;

/// What a user's phrase is asking for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Export,
    Credits,
    Status,
    Upload,
    /// Everything else goes to the backend agent.
    Agent,
}

impl Intent {
    /// The name used in test corpora and results.
    pub fn name(self) -> &'static str {
        match self {
            Intent::Export => "export",
            Intent::Credits => "credits",
            Intent::Status => "status",
            Intent::Upload => "upload",
            Intent::Agent => "agent",
        }
    }
}

/// Where a phrase goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routed {
    pub intent: Intent,
    /// An agent instruction that also asks for an export in a clause of its own.
    pub also_export: bool,
}

/// Words allowed in any local request; they never decide anything.
const FILLER: &[&str] = &[
    "please", "pls", "plz", "can", "could", "would", "will", "you", "u", "i", "me", "my", "mine",
    "we", "our", "us", "the", "a", "an", "this", "that", "these", "those", "it", "its", "to",
    "for", "of", "now", "just", "want", "wanna", "like", "d", "s", "m", "ll", "re", "ve", "let",
    "lets", "go", "ahead", "and", "ok", "okay", "thanks", "thank", "hey", "hi", "so", "then",
    "right", "away", "again", "do", "is", "are", "am", "be", "video", "project", "kindly", "请",
    "帮我", "帮", "给我", "我", "一下", "吧", "吗", "呢", "啊", "了", "的", "我想", "想", "要",
    "我要", "现在", "可以", "能", "你", "把", "这个", "那个", "请你", "麻烦", "视频", "项目",
];

struct Table {
    intent: Intent,
    /// At least one of these must appear.
    core: &'static [&'static str],
    /// The other words such a request may use.
    words: &'static [&'static str],
}

const TABLES: &[Table] = &[
    Table {
        intent: Intent::Export,
        core: &[
            "export",
            "download",
            "render",
            "save",
            "send",
            "导出",
            "下载",
            "渲染",
            "保存",
            "发给我",
            "发我",
        ],
        words: &[
            "file", "mp4", "final", "finished", "result", "as", "in", "hd", "1080p", "full", "out",
            "computer", "disk", "local", "folder", "here", "over", "done", "output", "成片",
            "文件", "最终", "出来", "到", "本地", "电脑",
        ],
    },
    Table {
        intent: Intent::Credits,
        core: &["credit", "credits", "balance", "积分", "余额", "点数"],
        words: &[
            "how",
            "many",
            "much",
            "have",
            "left",
            "remaining",
            "remain",
            "what",
            "check",
            "show",
            "see",
            "view",
            "account",
            "there",
            "does",
            "got",
            "still",
            "current",
            "enough",
            "my",
            "whats",
            "还剩",
            "剩",
            "剩余",
            "剩下",
            "多少",
            "查",
            "查看",
            "看看",
            "看",
            "还有",
            "有",
            "还",
            "查询",
            "账户",
            "显示",
        ],
    },
    Table {
        intent: Intent::Status,
        core: &[
            "status",
            "state",
            "timeline",
            "tracks",
            "track",
            "状态",
            "时间线",
            "时间轴",
            "轨道",
        ],
        words: &[
            "show",
            "what",
            "whats",
            "on",
            "in",
            "current",
            "check",
            "view",
            "see",
            "list",
            "display",
            "all",
            "查看",
            "显示",
            "看看",
            "看",
            "当前",
            "目前",
            "有什么",
            "什么",
            "里",
            "上",
            "查",
        ],
    },
    Table {
        intent: Intent::Upload,
        core: &["upload", "上传"],
        words: &[
            "file", "files", "photo", "photos", "image", "images", "picture", "pictures", "pic",
            "pics", "clip", "clips", "videos", "media", "logo", "music", "song", "audio", "some",
            "few", "them", "here", "new", "more", "FILE", "文件", "图片", "照片", "素材", "这些",
            "这张", "几张", "一些", "音乐",
        ],
    },
];

/// Clause separators: a clause of its own that is an export makes an instruction mixed.
const CLAUSE_BREAKS: &[&str] = &[
    " and then ",
    " and ",
    " then ",
    " after that ",
    ",",
    ";",
    ".",
    "!",
    "?",
    "，",
    "。",
    "；",
    "！",
    "？",
    "然后",
    "再",
    "并且",
    "之后",
    "接着",
];

/// Route a phrase. See the module documentation for the rules.
///
/// ```
/// use nemo_client::routing::{route, Intent};
/// assert_eq!(route("export it").intent, Intent::Export);
/// assert_eq!(route("how many credits do I have?").intent, Intent::Credits);
/// let edit = route("add music, then export");
/// assert_eq!(edit.intent, Intent::Agent);
/// assert!(edit.also_export, "the export is done by a tool, not sent to the AI");
/// ```
pub fn route(text: &str) -> Routed {
    let plain = unquote(text);
    let intent = whole_request(&plain).unwrap_or(Intent::Agent);
    let also_export = intent == Intent::Agent && clauses(&plain).len() > 1 && {
        clauses(&plain)
            .iter()
            .any(|c| whole_request(c) == Some(Intent::Export))
    };
    Routed {
        intent,
        also_export,
    }
}

/// The local request a phrase wholly is, if any.
fn whole_request(text: &str) -> Option<Intent> {
    let tokens = tokens(text);
    if tokens.is_empty() {
        return None;
    }
    TABLES.iter().find_map(|t| {
        let covered = tokens.iter().all(|w| {
            FILLER.contains(&w.as_str())
                || t.core.contains(&w.as_str())
                || t.words.contains(&w.as_str())
        });
        let named = tokens.iter().any(|w| t.core.contains(&w.as_str()));
        (covered && named).then_some(t.intent)
    })
}

fn clauses(text: &str) -> Vec<String> {
    let mut parts = vec![format!(" {} ", text.to_lowercase())];
    for b in CLAUSE_BREAKS {
        parts = parts
            .iter()
            .flat_map(|p| p.split(b).map(|x| format!(" {} ", x.trim())))
            .collect();
    }
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Opening and closing marks of quoted text.
const QUOTES: &[(char, char)] = &[
    ('"', '"'),
    ('“', '”'),
    ('‘', '’'),
    ('「', '」'),
    ('『', '』'),
    ('«', '»'),
    ('《', '》'),
    ('`', '`'),
];

/// The text with every quoted span removed. A `'` opens a quote only at a word start and
/// closes only at a word end, so "I'd" and "what's" stay words.
fn unquote(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let close = if c == '\'' {
            let word_start = i == 0 || !chars[i - 1].is_alphanumeric();
            let end = (i + 1..chars.len()).find(|&j| {
                chars[j] == '\''
                    && j > i + 1
                    && chars.get(j + 1).is_none_or(|n| !n.is_alphanumeric())
            });
            end.filter(|_| word_start)
        } else {
            QUOTES
                .iter()
                .find(|(open, _)| *open == c)
                .and_then(|(_, close)| (i + 1..chars.len()).find(|&j| chars[j] == *close))
        };
        match close {
            Some(j) => {
                out.push(' ');
                i = j + 1;
            }
            None => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

/// Lower-case words. A path, URL or media file name becomes the word `FILE`; runs of Chinese
/// are cut into the known words (longest first), one character at a time where none fits.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split_whitespace() {
        if looks_like_file(raw) {
            out.push("FILE".to_string());
            continue;
        }
        let cleaned: String = raw
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || is_cjk(c) {
                    c
                } else {
                    ' '
                }
            })
            .collect();
        for word in cleaned.split_whitespace() {
            split_cjk(word, &mut out);
        }
    }
    out
}

fn split_cjk(word: &str, out: &mut Vec<String>) {
    if !word.chars().any(is_cjk) {
        out.push(word.to_string());
        return;
    }
    let vocab: Vec<&str> = FILLER
        .iter()
        .chain(TABLES.iter().flat_map(|t| t.core.iter().chain(t.words)))
        .copied()
        .filter(|w| w.chars().any(is_cjk))
        .collect();
    let chars: Vec<char> = word.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !is_cjk(chars[i]) {
            let start = i;
            while i < chars.len() && !is_cjk(chars[i]) {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
            continue;
        }
        let rest: String = chars[i..].iter().collect();
        let best = vocab
            .iter()
            .filter(|w| rest.starts_with(**w))
            .max_by_key(|w| w.chars().count());
        match best {
            Some(w) => {
                out.push(w.to_string());
                i += w.chars().count();
            }
            None => {
                out.push(chars[i].to_string());
                i += 1;
            }
        }
    }
}

fn looks_like_file(raw: &str) -> bool {
    let t = raw.trim_matches(|c: char| ",;!?()[]".contains(c));
    let lower = t.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    lower.starts_with("http://")
        || lower.starts_with("https://")
        || t.starts_with('/')
        || t.starts_with("~/")
        || t.contains(":\\")
        || (lower.len() > ext.len() + 1 && crate::ACCEPTED_EXTENSIONS.contains(&ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_removed_but_apostrophes_kept() {
        assert_eq!(
            unquote("Use 'Download the app' as slogan")
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["Use", "as", "slogan"]
        );
        assert_eq!(unquote("what's my balance"), "what's my balance");
        assert_eq!(unquote("标题「导出」"), "标题 ");
    }

    #[test]
    fn chinese_is_cut_into_known_words() {
        assert_eq!(tokens("请帮我导出视频"), ["请", "帮我", "导出", "视频"]);
        assert_eq!(tokens("加上标题"), ["加", "上", "标", "题"]);
    }
}

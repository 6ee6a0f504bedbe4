//! Words: rewriting the backend's GUI-flavoured replies for people who have no GUI, and routing
//! a user's phrase to what should handle it (contract "GUI translation" and "Request routing").

/// Phrases of the web editor and what we say instead (matched case-insensitively, longest first).
const GUI: &[(&str, &str)] = &[
    ("click the export button", "ask me to export the video"),
    ("click on the export button", "ask me to export the video"),
    ("click export", "ask me to export"),
    ("press export", "ask me to export"),
    ("preview it in the timeline", "ask me to show the timeline"),
    ("preview in the timeline", "ask me to show the timeline"),
    ("preview in timeline", "ask me to show the timeline"),
    ("in the media panel", "by sending me the files"),
    ("drag and drop", "send"),
    ("drag & drop", "send"),
    ("check your account", "ask me for your credit balance"),
    ("billing page", "credit balance"),
    ("点击导出按钮", "让我导出视频"),
    ("点击导出", "让我导出视频"),
    ("在时间线中预览", "让我展示时间线"),
    ("在时间轴中预览", "让我展示时间线"),
    ("拖拽", "告诉我"),
    ("打开", "查看"),
    ("点击", "让我"),
];

/// Rewrite GUI instructions ("click Export", "点击导出") into what the user can ask us instead.
pub fn translate_gui(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let lower = text.to_ascii_lowercase(); // same byte offsets as `text`
    let mut i = 0;
    'outer: while i < text.len() {
        for (from, to) in GUI {
            if lower[i..].starts_with(from) {
                out.push_str(to);
                i += from.len();
                continue 'outer;
            }
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Whether a reply is the backend's trailing "temporary issue" line, to be dropped when earlier
/// text was normal.
pub fn is_temporary_issue(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("encountered a temporary issue") || text.contains("遇到了临时问题")
}

/// What a user's phrase is really asking for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Export,
    Credits,
    Status,
    Upload,
    /// Everything else goes to the backend agent.
    Agent,
}

/// Words that make a phrase an edit, whatever else it mentions.
/// Words that make a phrase an edit, whatever else it mentions. ASCII words match at a word
/// start (the phrase is padded and its punctuation turned into spaces), so "credits" is not "edit".
const EDIT_WORDS: &[&str] = &[
    " combine",
    " merge",
    " add ",
    " adding",
    " make",
    " create",
    " generate",
    " edit",
    " change",
    " trim",
    " cut ",
    " remove",
    " replace",
    " insert",
    " put ",
    " turn ",
    " convert",
    " shorten",
    " lengthen",
    " speed",
    " slow",
    " music",
    " bgm",
    " title",
    " text",
    " caption",
    " overlay",
    " transition",
    "合成",
    "添加",
    "加上",
    "生成",
    "制作",
    "剪",
    "修改",
    "删除",
    "替换",
    "配乐",
    "字幕",
];

fn any(t: &str, words: &[&str]) -> bool {
    words.iter().any(|w| t.contains(w))
}

/// Route a phrase (contract "Request routing"); an edit wins over a mention of export or upload.
pub fn route(text: &str) -> Intent {
    let cleaned: String = text
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_punctuation() && c != '\'' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let t = format!(
        " {} ",
        cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    let edits = any(&t, EDIT_WORDS);
    if !edits
        && any(
            &t,
            &[
                " export",
                "download",
                "send me the video",
                "render it",
                "render the video",
                "save the video",
                "导出",
                "下载",
            ],
        )
    {
        return Intent::Export;
    }
    if any(
        &t,
        &[
            "credit",
            "积分",
            "balance",
            "余额",
            "how much do i have left",
        ],
    ) && !edits
    {
        return Intent::Credits;
    }
    if !edits
        && any(
            &t,
            &[
                " status",
                "状态",
                "show tracks",
                "show the tracks",
                "show the timeline",
                "show timeline",
                "what's on the timeline",
                "时间线",
            ],
        )
    {
        return Intent::Status;
    }
    let words = t.split_whitespace().count();
    if !edits && (t.trim_start().starts_with("upload") || t.contains("上传")) && words <= 12 {
        return Intent::Upload;
    }
    Intent::Agent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gui_phrases_are_rewritten_and_content_kept() {
        assert_eq!(
            translate_gui("Done! Preview in the timeline, then click the Export button."),
            "Done! ask me to show the timeline, then ask me to export the video."
        );
        assert_eq!(
            translate_gui("完成了！点击导出按钮下载视频。"),
            "完成了！让我导出视频下载视频。"
        );
        assert_eq!(
            translate_gui("Your 30-second promo is ready"),
            "Your 30-second promo is ready"
        );
        assert_eq!(translate_gui("ÄÖ click export ü"), "ÄÖ ask me to export ü");
    }

    #[test]
    fn routing_table_english_and_chinese() {
        for (phrase, intent) in [
            ("export", Intent::Export),
            ("download it", Intent::Export),
            ("send me the video", Intent::Export),
            ("导出", Intent::Export),
            ("credits", Intent::Credits),
            ("how many credits do I have?", Intent::Credits),
            ("积分", Intent::Credits),
            ("余额", Intent::Credits),
            ("status", Intent::Status),
            ("状态", Intent::Status),
            ("show tracks", Intent::Status),
            ("upload", Intent::Upload),
            ("上传", Intent::Upload),
            (
                "combine these images into a 30-second promo video with music and text overlays",
                Intent::Agent,
            ),
            ("add BGM", Intent::Agent),
            ("add music and then export", Intent::Agent),
            ("I uploaded five photos, combine them", Intent::Agent),
            ("把这些图片合成30秒的视频", Intent::Agent),
        ] {
            assert_eq!(route(phrase), intent, "{phrase}");
        }
    }

    #[test]
    fn temporary_issue_line() {
        assert!(is_temporary_issue(
            "I encountered a temporary issue. Please try again later."
        ));
        assert!(!is_temporary_issue("All done."));
    }
}

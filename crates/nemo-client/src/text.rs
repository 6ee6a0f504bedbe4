//! Words: rewriting the backend's GUI-flavoured replies for people who have no GUI (contract
//! "GUI translation").

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
    fn temporary_issue_line() {
        assert!(is_temporary_issue(
            "I encountered a temporary issue. Please try again later."
        ));
        assert!(!is_temporary_issue("All done."));
    }
}

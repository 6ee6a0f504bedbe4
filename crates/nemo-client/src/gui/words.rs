//! The words that make a clause a GUI instruction, in English and Chinese, and the words that
//! tell what it was about. Tables only; how they are used is in the parent module.

use super::Intent;

/// Words that name each intent, English (whole words) and Chinese (substrings).
pub(super) const INTENT_WORDS: &[(Intent, &[&str], &[&str])] = &[
    (
        Intent::Export,
        &[
            "export",
            "exporting",
            "download",
            "downloading",
            "save",
            "render",
        ],
        &["导出", "下载", "保存"],
    ),
    (
        Intent::Timeline,
        &[
            "preview",
            "previewing",
            "play",
            "playback",
            "watch",
            "review",
        ],
        &["预览", "播放", "回放"],
    ),
    (
        Intent::Music,
        &[
            "music",
            "audio",
            "sound",
            "soundtrack",
            "bgm",
            "song",
            "volume",
        ],
        &["音乐", "音频", "配乐", "音量", "声音", "音效"],
    ),
    (
        Intent::Text,
        &[
            "text",
            "title",
            "titles",
            "caption",
            "captions",
            "subtitle",
            "subtitles",
            "font",
        ],
        &["文字", "标题", "字幕", "文本", "字体"],
    ),
    (
        Intent::Style,
        &[
            "effect",
            "effects",
            "filter",
            "filters",
            "transition",
            "transitions",
        ],
        &["特效", "滤镜", "转场"],
    ),
    (
        Intent::Media,
        &["upload", "uploads", "import", "media", "files"],
        &["上传", "导入", "素材", "媒体库"],
    ),
    (
        Intent::Credits,
        &[
            "account",
            "billing",
            "credit",
            "credits",
            "subscription",
            "plan",
            "balance",
        ],
        &["账户", "账号", "积分", "余额", "充值", "订阅", "套餐"],
    ),
];

/// Verbs that always mean operating a GUI.
pub(super) const EN_GUI_VERBS: &[&str] = &[
    "click",
    "clicks",
    "clicking",
    "double-click",
    "right-click",
    "tap",
    "drag",
    "dragging",
    "drag-and-drop",
    "scroll",
];

/// Verbs that mean operating a GUI when a GUI thing follows them.
pub(super) const EN_GUI_IF_NOUN: &[&str] = &[
    "press", "hit", "open", "select", "choose", "pick", "use", "go", "head", "navigate", "switch",
    "find", "check", "view", "toggle", "enable", "visit", "adjust", "move", "set",
];

/// The things of a GUI.
pub(super) const EN_GUI_NOUNS: &[&str] = &[
    "button",
    "buttons",
    "panel",
    "panels",
    "tab",
    "tabs",
    "menu",
    "icon",
    "toolbar",
    "sidebar",
    "editor",
    "window",
    "dialog",
    "page",
    "screen",
    "library",
    "settings",
    "slider",
    "player",
    "canvas",
    "corner",
    "dropdown",
    "checkbox",
    "switch",
    "timeline",
    "account",
    "billing",
    "subscription",
];

/// Labels of GUI buttons and keys: "press Save", "hit Enter" (not "press release", "hit song").
pub(super) const EN_GUI_LABELS: &[&str] = &[
    "save", "export", "download", "play", "apply", "done", "ok", "upload", "share", "publish",
    "generate", "undo", "redo", "next", "continue", "confirm", "enter", "render",
];

/// Words after which an export/download/preview verb is addressed to the user.
pub(super) const EN_ADDRESS: &[&str] = &[
    "can", "could", "may", "please", "then", "just", "simply", "now",
];

/// What an imperative export or download must be about to be one (not "Download the app").
pub(super) const EN_EXPORT_OBJECTS: &[&str] = &[
    "it", "video", "videos", "file", "mp4", "result", "clip", "project", "your", "them", "final",
];

pub(super) const ZH_GUI_ALWAYS: &[&str] = &[
    "点击",
    "单击",
    "双击",
    "点按",
    "轻点",
    "轻触",
    "点一下",
    "拖动",
    "拖拽",
    "拖入",
    "拖放",
    "拖到",
    "拖曳",
    "按钮",
    "右上角",
    "左上角",
    "右下角",
    "左下角",
    "工具栏",
    "侧边栏",
    "菜单栏",
    "预览",
];
pub(super) const ZH_GUI_VERBS: &[&str] = &[
    "打开",
    "选择",
    "进入",
    "前往",
    "切换到",
    "转到",
    "回到",
    "找到",
    "查看",
];
pub(super) const ZH_GUI_NOUNS: &[&str] = &[
    "面板",
    "菜单",
    "标签",
    "选项卡",
    "页面",
    "编辑器",
    "设置",
    "时间线",
    "时间轴",
    "素材库",
    "媒体库",
    "窗口",
    "播放器",
    "账户",
    "账号",
];
/// Words that address the user; with a GUI thing in the clause, it is a GUI instruction
/// ("你可以在音频面板里调整音量").
pub(super) const ZH_YOU: &[&str] = &["你可以", "您可以", "你能", "您能", "你需要", "您需要", "请"];
/// Words before 导出/下载 that address the user ("请导出", "然后下载").
pub(super) const ZH_ADDRESS: &[&str] = &[
    "请", "然后", "再", "可以", "即可", "直接", "去", "马上", "现在",
];

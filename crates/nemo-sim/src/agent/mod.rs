//! A small rule-based stand-in for the backend's agent. It understands the instructions of the
//! seed documents (combine images/clips into an N-second video, add music, add text overlays or a
//! title, generate a clip from a description, change the length) and edits the draft in the
//! backend's short-key form, saying what it did in the GUI-flavoured voice of the real backend.

use crate::world::{Asset, Session};
use serde_json::{json, Value};

/// What a turn does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnKind {
    /// Only talks; nothing changes and nothing is charged.
    Chat,
    /// Edits the timeline (about 50 credits).
    Edit,
    /// Generates a clip with AI (about 100 credits).
    Generate,
}

#[derive(Debug, Clone)]
pub struct TurnPlan {
    pub kind: TurnKind,
    pub cost: i64,
    /// Said before the work starts.
    pub opening: String,
    /// Said when the work is done.
    pub closing: String,
    pub tool: &'static str,
    pub tool_args: Value,
    /// The draft after the turn (None: unchanged).
    pub new_draft: Option<Value>,
    pub generated: Option<Value>,
}

pub const EDIT_COST: i64 = 50;
pub const GENERATION_COST: i64 = 100;

/// How the agent tells a user with its web editor what to do next (English, Chinese), in the
/// seeds' spellings too ("Drag/drop", "拖拽"). A client must rewrite every one of them.
pub const GUI_SENTENCES: &[(&str, &str)] = &[
    (
        "You can preview it in the timeline, and click the Export button to download your video.",
        "你可以在时间线中预览，满意的话点击导出按钮下载视频。",
    ),
    (
        "Drag/drop more clips into the media library if you want to extend it.",
        "想加长的话，可以把更多片段拖拽到素材库。",
    ),
    (
        "Click Export in the upper right corner to get your MP4.",
        "点击右上角的“导出”即可获得MP4。",
    ),
    (
        "Open the Audio panel to fine-tune the background music.",
        "打开音频面板可以微调背景音乐。",
    ),
    (
        "Press the Download button once you are happy with the result.",
        "满意后按下载按钮即可。",
    ),
    (
        "Double-click any caption on the timeline to change its wording.",
        "双击时间线上的任意字幕即可修改内容。",
    ),
    (
        "Tap Preview to play it from the start.",
        "点按预览，从头播放一遍。",
    ),
    (
        "Select the Transitions tab to try a different transition.",
        "选择转场标签，试试别的转场效果。",
    ),
    (
        "Go to the Account page to check how many credits remain.",
        "去账户页面看看还剩多少积分。",
    ),
    (
        "Drag the clip edges on the timeline to trim it further.",
        "在时间线上拖动片段边缘可以继续裁剪。",
    ),
    (
        "Hit the Export button, then choose MP4 to download it.",
        "点击导出按钮，选择MP4格式即可下载。",
    ),
];

mod intent;

use intent::{intent, Intent};

fn is_chinese(session: &Session, message: &str) -> bool {
    session.language.starts_with("zh")
        || message
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

fn visual(assets: &[Asset]) -> Vec<&Asset> {
    assets.iter().filter(|a| a.file_type != "audio").collect()
}

fn track(draft: &Value, tt: u64) -> Option<usize> {
    draft["t"]
        .as_array()?
        .iter()
        .position(|t| t["tt"].as_u64() == Some(tt))
}

/// Spread the video track's segments over `d` ms and clamp the others.
fn retime(draft: &mut Value, d: u64) {
    draft["d"] = json!(d);
    let Some(tracks) = draft["t"].as_array_mut() else {
        return;
    };
    for t in tracks {
        let tt = t["tt"].as_u64();
        let Some(segments) = t["sg"].as_array_mut() else {
            continue;
        };
        let n = segments.len() as u64;
        for (i, s) in segments.iter_mut().enumerate() {
            let i = i as u64;
            match tt {
                Some(0) => {
                    s["st"] = json!(i * d / n.max(1));
                    s["et"] = json!((i + 1) * d / n.max(1));
                }
                Some(1) => {
                    s["st"] = json!(0);
                    s["et"] = json!(d);
                }
                _ => {
                    let st = s["st"].as_u64().unwrap_or(0).min(d.saturating_sub(1000));
                    let et = s["et"].as_u64().unwrap_or(d).min(d);
                    s["st"] = json!(st);
                    s["et"] = json!(et.max(st + 1000).min(d));
                }
            }
        }
    }
}

fn set_track(draft: &mut Value, tt: u64, segments: Vec<Value>) {
    if !draft["t"].is_array() {
        draft["t"] = json!([]);
    }
    let new = json!({"tt": tt, "sg": segments});
    match track(draft, tt) {
        Some(i) => draft["t"][i] = new,
        None => {
            if let Some(tracks) = draft["t"].as_array_mut() {
                tracks.push(new)
            }
        }
    }
}

/// Decide what a message does to a session. Pure: the caller applies the result.
pub fn plan(session: &Session, message: &str) -> TurnPlan {
    let it = intent(message);
    let zh = it.chinese || is_chinese(session, message);
    let mut draft = if session.draft.is_object() {
        session.draft.clone()
    } else {
        json!({})
    };
    let mut done: Vec<&str> = Vec::new();
    let (kind, generated) = video_step(session, message, &it, &mut draft, zh, &mut done);
    overlay_steps(&it, &mut draft, zh, &mut done);
    if let Some((w, h)) = it.canvas.filter(|_| track(&draft, 0).is_some()) {
        draft["m"]["width"] = json!(w);
        draft["m"]["height"] = json!(h);
        done.push(if zh {
            "调整了画面比例"
        } else {
            "set the frame shape"
        });
    }
    if done.is_empty() {
        return chat_plan(zh);
    }
    edit_plan(session, message, kind, draft, &done, generated, zh)
}

/// The video track: a generated clip, media combined into a video, or a new length. The
/// turn's kind and the generated clip, if any.
fn video_step(
    session: &Session,
    message: &str,
    it: &Intent,
    draft: &mut Value,
    zh: bool,
    done: &mut Vec<&'static str>,
) -> (TurnKind, Option<Value>) {
    let has_video = track(draft, 0).is_some_and(|i| {
        draft["t"][i]["sg"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    });
    let visuals = visual(&session.assets);
    let mut generated = None;
    let mut kind = TurnKind::Edit;
    let build_video = (it.combine && !visuals.is_empty())
        || (!has_video && !visuals.is_empty() && (it.music || it.text || it.length_ms.is_some()));
    if it.generate && (visuals.is_empty() || !it.combine) {
        kind = TurnKind::Generate;
        let d = it.length_ms.unwrap_or(5000).min(10_000);
        let label: String = message.chars().take(40).collect();
        let n = session.generated_media.len() + 1;
        generated = Some(
            json!({"id": format!("gen_{n}"), "type": "video", "prompt": message, "duration": d as f64 / 1000.0}),
        );
        let mut segments = draft["t"]
            .get(track(draft, 0).unwrap_or(usize::MAX))
            .and_then(|t| t["sg"].as_array().cloned())
            .unwrap_or_default();
        let st = segments.last().and_then(|s| s["et"].as_u64()).unwrap_or(0);
        segments.push(json!({"st": st, "et": st + d, "n": label, "k": "generated", "src": format!("gen_{n}")}));
        set_track(draft, 0, segments);
        let total = st + d;
        draft["d"] = json!(total);
        done.push(if zh {
            "生成了一段新视频"
        } else {
            "generated a new clip"
        });
    } else if build_video {
        let d = it
            .length_ms
            .unwrap_or((visuals.len() as u64 * 3000).clamp(5000, 60_000));
        let segments: Vec<Value> = visuals
            .iter()
            .map(|a| json!({"st": 0, "et": 0, "n": a.filename, "k": a.file_type, "src": a.cdn_url}))
            .collect();
        set_track(draft, 0, segments);
        retime(draft, d);
        done.push(if zh {
            "把素材合成了视频"
        } else {
            "combined your media into a video"
        });
    } else if let (Some(d), true) = (it.length_ms, has_video) {
        retime(draft, d);
        done.push(if zh {
            "调整了视频长度"
        } else {
            "changed the length"
        });
    } else if it.fill_holes && has_video {
        // The scenes spread over the length again, end to end.
        let d = draft["d"].as_u64().unwrap_or(0);
        retime(draft, d);
        done.push(if zh {
            "填补了画面的空缺"
        } else {
            "closed the gaps between scenes"
        });
    }
    (kind, generated)
}

/// Music and text, on a video that exists.
fn overlay_steps(it: &Intent, draft: &mut Value, zh: bool, done: &mut Vec<&'static str>) {
    let d = draft["d"].as_u64().unwrap_or(0);
    let has_video = track(draft, 0).is_some();
    if it.music && has_video {
        set_track(
            draft,
            1,
            vec![json!({"st": 0, "et": d, "n": "Upbeat Corporate", "k": "bgm", "vol": 0.35})],
        );
        done.push(if zh {
            "添加了背景音乐"
        } else {
            "added background music"
        });
    }
    if it.remove_music {
        if let Some(i) = track(draft, 1) {
            if let Some(tracks) = draft["t"].as_array_mut() {
                tracks.remove(i);
            }
            done.push(if zh {
                "去掉了背景音乐"
            } else {
                "removed the music"
            });
        }
    }
    if it.text && has_video {
        let title = it.title.clone().unwrap_or_else(|| {
            if zh {
                "新品上市".into()
            } else {
                "New Collection".into()
            }
        });
        let mut segments = vec![json!({"st": 0, "et": d.min(3000), "n": title, "k": "title"})];
        if d >= 8000 {
            let cta = if zh { "立即选购" } else { "Shop now" };
            segments.push(json!({"st": d - 3000, "et": d, "n": cta, "k": "caption"}));
        }
        set_track(draft, 7, segments);
        draft["m"]["title"] = json!(title);
        done.push(if zh {
            "加上了文字"
        } else {
            "added text overlays"
        });
    }
}

/// A message that asks for nothing the agent can do: it says what it can.
fn chat_plan(zh: bool) -> TurnPlan {
    let (opening, closing) = if zh {
        (
            "我可以帮你制作和编辑视频。",
            "请上传图片或视频，或者描述你想要的视频，例如“把这些图片合成30秒的宣传视频”。",
        )
    } else {
        ("I can help you make and edit videos.", "Upload images or clips in the media panel, or describe the video you want, for example \"combine these images into a 30-second promo video\".")
    };
    TurnPlan {
        kind: TurnKind::Chat,
        cost: 0,
        opening: opening.into(),
        closing: closing.into(),
        tool: "reply",
        tool_args: json!({}),
        new_draft: None,
        generated: None,
    }
}

/// The answer to an edit: what was done, in the user's language, ending with a GUI sentence.
fn edit_plan(
    session: &Session,
    message: &str,
    kind: TurnKind,
    mut draft: Value,
    done: &[&str],
    generated: Option<Value>,
    zh: bool,
) -> TurnPlan {
    let d = draft["d"].as_u64().unwrap_or(0);
    if draft["m"]["width"].is_null() {
        draft["m"]["width"] = json!(1920);
        draft["m"]["height"] = json!(1080);
        draft["m"]["fps"] = json!(30);
    }
    let secs = d / 1000;
    let what = done.join(if zh { "，" } else { ", " });
    // The real backend ends with a GUI instruction; which one varies.
    let (gui_en, gui_zh) =
        GUI_SENTENCES[(session.id as usize + session.turns as usize) % GUI_SENTENCES.len()];
    let (opening, closing) = if zh {
        (
            format!("好的，我来处理：{what}。"),
            format!("完成了！我{what}，视频现在是{secs}秒。{gui_zh}"),
        )
    } else {
        (
            format!("Sure! Working on it: {what}."),
            format!("Done! I {what}; the video is now {secs} seconds long. {gui_en}"),
        )
    };
    TurnPlan {
        kind,
        cost: if kind == TurnKind::Generate {
            GENERATION_COST
        } else {
            EDIT_COST
        },
        opening,
        closing,
        tool: if kind == TurnKind::Generate {
            "generate_video"
        } else {
            "edit_timeline"
        },
        tool_args: json!({"instruction": message, "operations": done}),
        new_draft: Some(draft),
        generated,
    }
}

#[cfg(test)]
mod tests {
    use super::intent::duration_ms;
    use super::*;

    fn session(images: usize) -> Session {
        Session {
            id: 1,
            task_id: "t".into(),
            task_name: "project".into(),
            user_id: "u".into(),
            language: "en".into(),
            assets: (0..images)
                .map(|i| Asset {
                    filename: format!("p{i}.png"),
                    file_type: "image",
                    cdn_url: format!("http://x/p{i}.png"),
                    path: None,
                    width: None,
                    height: None,
                    duration_s: None,
                    hash: String::new(),
                })
                .collect(),
            draft: json!({}),
            generated_media: vec![],
            turn_running: false,
            turns: 0,
        }
    }

    #[test]
    fn durations_are_found() {
        assert_eq!(duration_ms("a 30-second promo"), Some(30_000));
        assert_eq!(duration_ms("make it 15 seconds"), Some(15_000));
        assert_eq!(duration_ms("1 minute video"), Some(60_000));
        assert_eq!(duration_ms("做一个30秒的视频"), Some(30_000));
        assert_eq!(duration_ms("five photos and 1 logo"), None);
    }

    #[test]
    fn the_seed_promo_builds_three_tracks() {
        let p = plan(
            &session(6),
            "combine these images into a 30-second promo video with music and text overlays",
        );
        assert_eq!(p.kind, TurnKind::Edit);
        assert_eq!(p.cost, EDIT_COST);
        let d = p.new_draft.unwrap();
        assert_eq!(d["d"], 30_000);
        let kinds: Vec<u64> = d["t"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["tt"].as_u64().unwrap())
            .collect();
        assert_eq!(kinds, vec![0, 1, 7]);
        assert_eq!(d["t"][0]["sg"].as_array().unwrap().len(), 6);
        assert_eq!(d["t"][0]["sg"][5]["et"], 30_000);
        // It ends with one of its GUI sentences, as the real backend would.
        assert!(
            GUI_SENTENCES.iter().any(|(en, _)| p.closing.ends_with(en)),
            "{}",
            p.closing
        );
    }

    #[test]
    fn length_change_retimes_and_chat_changes_nothing() {
        let mut s = session(3);
        s.draft = plan(&s, "combine into a 30 second video with music")
            .new_draft
            .unwrap();
        let p = plan(&s, "make it 12 seconds");
        let d = p.new_draft.unwrap();
        assert_eq!(d["d"], 12_000);
        assert_eq!(d["t"][1]["sg"][0]["et"], 12_000);
        let chat = plan(&s, "hello there");
        assert_eq!(chat.kind, TurnKind::Chat);
        assert!(chat.new_draft.is_none());
    }

    /// Asked to fill a hole in the video track (a scene taken out, the others not moved up),
    /// the agent spreads the scenes end to end over the same length again.
    #[test]
    fn a_hole_is_filled_when_asked() {
        let mut s = session(3);
        let mut d = plan(&s, "combine into a 30 second video")
            .new_draft
            .unwrap();
        d["t"][0]["sg"].as_array_mut().unwrap().remove(1);
        s.draft = d;
        let p = plan(&s, "there is a black screen in the middle, close the gap");
        let d = p.new_draft.unwrap();
        assert_eq!(d["d"], 30_000);
        let sg = d["t"][0]["sg"].as_array().unwrap();
        assert_eq!(
            (sg[0]["et"].as_u64(), sg[1]["st"].as_u64()),
            (Some(15_000), Some(15_000))
        );
        assert_eq!(sg[1]["et"], 30_000);
    }

    #[test]
    fn generation_without_media() {
        let p = plan(&session(0), "generate a clip of a city timelapse at night");
        assert_eq!(p.kind, TurnKind::Generate);
        assert_eq!(p.cost, GENERATION_COST);
        assert!(p.generated.is_some());
        assert_eq!(p.new_draft.unwrap()["t"][0]["sg"][0]["k"], "generated");
    }

    #[test]
    fn quoted_title_is_used() {
        let p = plan(&session(2), "combine these with a title \"Summer Sale\"");
        assert_eq!(p.new_draft.unwrap()["t"][1]["sg"][0]["n"], "Summer Sale");
    }
}

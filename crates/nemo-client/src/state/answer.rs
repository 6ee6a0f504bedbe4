//! Contract §6's answer (`data.session_id`, `data.task_id`, `data.state` with `draft`,
//! `video_infos`, `generated_media`, `canvas_config`) and the upload answer's assets, read into
//! serde types at the edge. The contract lists spellings that vary (`cdn_url` / `cdnUrl` /
//! `url`); they are separate fields rather than serde aliases, because one answer may carry two
//! of them and an alias would then reject the whole answer as a duplicate. Every field is
//! lenient: one in a shape we do not know is dropped, never fatal.

use super::Timeline;
use crate::session::SessionId;
use crate::wire::{lenient, Text};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An uploaded or generated asset, as the state lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetInfo {
    pub filename: Option<String>,
    pub file_type: Option<String>,
    pub url: Option<String>,
    pub width: Option<u64>,
    pub height: Option<u64>,
    pub duration_s: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AssetWire {
    #[serde(deserialize_with = "lenient")]
    filename: Option<String>,
    #[serde(deserialize_with = "lenient")]
    file_name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    name: Option<String>,
    #[serde(deserialize_with = "lenient")]
    file_type: Option<String>,
    #[serde(rename = "fileType", deserialize_with = "lenient")]
    file_type_camel: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient")]
    kind: Option<String>,
    #[serde(deserialize_with = "lenient")]
    cdn_url: Option<String>,
    #[serde(rename = "cdnUrl", deserialize_with = "lenient")]
    cdn_url_camel: Option<String>,
    #[serde(deserialize_with = "lenient")]
    url: Option<String>,
    #[serde(deserialize_with = "lenient")]
    width: Option<u64>,
    #[serde(deserialize_with = "lenient")]
    height: Option<u64>,
    #[serde(deserialize_with = "lenient")]
    duration: Option<f64>,
}

impl From<AssetWire> for AssetInfo {
    fn from(w: AssetWire) -> AssetInfo {
        AssetInfo {
            filename: w.filename.or(w.file_name).or(w.name),
            file_type: w.file_type.or(w.file_type_camel).or(w.kind),
            url: w.cdn_url.or(w.cdn_url_camel).or(w.url),
            width: w.width,
            height: w.height,
            duration_s: w.duration,
        }
    }
}

impl AssetInfo {
    pub fn from_json(v: &Value) -> AssetInfo {
        serde_json::from_value::<AssetWire>(v.clone())
            .unwrap_or_default()
            .into()
    }
}

/// A list whose items are read one by one: an item in an unknown shape becomes an empty asset
/// (it still counts), and a list that is not a list is empty.
fn assets<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<AssetInfo>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(v.as_array()
        .map(|items| items.iter().map(AssetInfo::from_json).collect())
        .unwrap_or_default())
}

/// The upload answer: `data.files` and `data.session_state_applied`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct UploadAnswer {
    #[serde(deserialize_with = "assets")]
    pub files: Vec<AssetInfo>,
    #[serde(deserialize_with = "lenient")]
    pub session_state_applied: Option<bool>,
}

impl UploadAnswer {
    pub(crate) fn from_data(data: &Value) -> UploadAnswer {
        serde_json::from_value(data.clone()).unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Canvas {
    #[serde(deserialize_with = "lenient")]
    width: Option<u64>,
    #[serde(deserialize_with = "lenient")]
    height: Option<u64>,
}

/// `data.state`, or the same fields at the top level of `data`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct StateWire {
    /// Opaque: passed back to the render call untouched.
    draft: Value,
    #[serde(deserialize_with = "assets")]
    video_infos: Vec<AssetInfo>,
    #[serde(deserialize_with = "lenient")]
    generated_media: Option<Vec<Value>>,
    #[serde(deserialize_with = "lenient")]
    canvas_config: Option<Canvas>,
    #[serde(rename = "canvasConfig", deserialize_with = "lenient")]
    canvas_config_camel: Option<Canvas>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StateAnswer {
    #[serde(deserialize_with = "lenient")]
    task_id: Option<Text>,
    #[serde(deserialize_with = "lenient")]
    user_id: Option<Text>,
    #[serde(deserialize_with = "lenient")]
    state: Option<StateWire>,
}

/// A session's state: the opaque draft and typed views of it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionState {
    pub session_id: SessionId,
    pub task_id: Option<String>,
    pub user_id: Option<String>,
    /// The draft exactly as the backend sent it (pass it back untouched to render).
    pub draft: Value,
    pub timeline: Timeline,
    pub assets: Vec<AssetInfo>,
    pub generated_media: usize,
    pub canvas: Option<(u64, u64)>,
    /// The whole answer, to keep it (e.g. in a journal) and rebuild this view later.
    pub raw: Value,
}

impl SessionState {
    pub fn from_data(session_id: SessionId, data: &Value) -> SessionState {
        let answer: StateAnswer = serde_json::from_value(data.clone()).unwrap_or_default();
        let state = match answer.state {
            Some(s) => s,
            None => serde_json::from_value(data.clone()).unwrap_or_default(),
        };
        let canvas = state
            .canvas_config
            .or(state.canvas_config_camel)
            .and_then(|c| Some((c.width?, c.height?)));
        SessionState {
            session_id,
            task_id: answer.task_id.map(|t| t.0),
            user_id: answer.user_id.map(|t| t.0),
            timeline: Timeline::from_draft(&state.draft),
            draft: state.draft,
            assets: state.video_infos,
            generated_media: state.generated_media.map_or(0, |g| g.len()),
            canvas,
            raw: data.clone(),
        }
    }

    /// Whether anything a person would care about differs.
    pub fn changed_since(&self, before: &SessionState) -> bool {
        self.draft != before.draft
            || self.assets.len() != before.assets.len()
            || self.generated_media != before.generated_media
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spellings_that_vary_and_may_come_together() {
        // Two spellings at once would make a serde alias reject the answer; here the first wins.
        let a = AssetInfo::from_json(&json!({
            "filename": "a.png", "name": "other", "fileType": "image",
            "cdn_url": "https://cdn/a", "url": "https://x/a", "width": 640, "height": "tall"
        }));
        assert_eq!(a.filename.as_deref(), Some("a.png"));
        assert_eq!(a.file_type.as_deref(), Some("image"));
        assert_eq!(a.url.as_deref(), Some("https://cdn/a"));
        assert_eq!((a.width, a.height), (Some(640), None));
        let s = SessionState::from_data(
            SessionId::new(7),
            &json!({"task_id": 12, "state": {
                "draft": {"t": []}, "video_infos": [{"cdnUrl": "https://cdn/b"}, 5],
                "canvasConfig": {"width": 1920, "height": 1080}, "generated_media": "none"
            }}),
        );
        assert_eq!(s.task_id.as_deref(), Some("12"));
        assert_eq!(
            s.assets.len(),
            2,
            "an item in an unknown shape still counts"
        );
        assert_eq!(s.assets[0].url.as_deref(), Some("https://cdn/b"));
        assert_eq!(s.canvas, Some((1920, 1080)));
        assert_eq!(s.generated_media, 0);
        // The fields at the top level of `data` (no `state` object).
        let flat = SessionState::from_data(SessionId::new(7), &json!({"draft": {"d": 1}}));
        assert_eq!(flat.draft, json!({"d": 1}));
    }

    /// Each of the three things a person sees counts as a change on its own.
    #[test]
    fn a_change_in_any_one_part_is_a_change() {
        let state = |draft: Value, assets: usize, media: usize| {
            SessionState::from_data(
                SessionId::new(7),
                &json!({"state": {
                    "draft": draft,
                    "video_infos": vec![json!({"url": "https://cdn/a"}); assets],
                    "generated_media": vec![json!({}); media],
                }}),
            )
        };
        let before = state(json!({"t": [1]}), 1, 0);
        assert!(!state(json!({"t": [1]}), 1, 0).changed_since(&before));
        assert!(state(json!({"t": [2]}), 1, 0).changed_since(&before));
        assert!(state(json!({"t": [1]}), 2, 0).changed_since(&before));
        assert!(state(json!({"t": [1]}), 1, 1).changed_since(&before));
    }
}

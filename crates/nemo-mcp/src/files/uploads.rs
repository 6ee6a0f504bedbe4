//! Upload inputs are checked here, each on its own, before anything is sent: local paths against
//! the folder policy and the media checks, URLs against what NemoVideo can fetch.

use super::paths::InputPolicy;
use crate::errors::{Code, ToolError};
use nemo_client::{validate, MediaFile};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// At most this many paths and URLs per call.
pub const MAX_INPUTS: usize = 50;

/// What an input is checked against: the folder policy and the profile's largest upload.
#[derive(Debug, Clone)]
pub struct InputRules {
    pub policy: InputPolicy,
    pub max_bytes: u64,
}

/// An input that was not uploaded, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RejectedInput {
    pub input: String,
    pub reason: String,
}

/// Media as given to a job: checked local files (by their resolved paths, checked again
/// before they are sent again) and URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MediaInputs {
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub urls: Vec<String>,
}

impl MediaInputs {
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.urls.is_empty()
    }
}

/// The inputs that may be sent, and why the others may not.
pub struct CheckedInputs {
    /// (the input as given, the checked file)
    pub files: Vec<(String, MediaFile)>,
    pub urls: Vec<String>,
    pub rejected: Vec<RejectedInput>,
}

impl CheckedInputs {
    /// What to journal to send them again later: the files by their resolved paths.
    pub fn media(&self) -> MediaInputs {
        MediaInputs {
            paths: self
                .files
                .iter()
                .map(|(_, f)| f.path.display().to_string())
                .collect(),
            urls: self.urls.clone(),
        }
    }
}

/// An input as it may be shown back: at most 300 characters, control characters masked.
fn shown(raw: &str) -> String {
    raw.chars()
        .take(300)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Check every input off the async workers (opening a file may block: a FIFO, a slow disk, a
/// network mount); an error when nothing at all can be sent.
pub async fn check_inputs_blocking(
    rules: InputRules,
    paths: Vec<String>,
    urls: Vec<String>,
) -> Result<CheckedInputs, ToolError> {
    tokio::task::spawn_blocking(move || check_inputs(&rules, paths, urls))
        .await
        .unwrap_or_else(|e| {
            Err(ToolError::new(
                Code::Internal,
                format!("checking the files failed: {e}"),
            ))
        })
}

/// Check every input; an error when nothing at all can be sent. Blocking.
pub fn check_inputs(
    rules: &InputRules,
    paths: Vec<String>,
    urls: Vec<String>,
) -> Result<CheckedInputs, ToolError> {
    if paths.is_empty() && urls.is_empty() {
        return Err(ToolError::invalid(
            "give at least one entry in `paths` or `urls`",
        ));
    }
    if paths.len() + urls.len() > MAX_INPUTS {
        return Err(ToolError::invalid(format!(
            "at most {MAX_INPUTS} inputs per call"
        )));
    }
    let (limit, policy) = (rules.max_bytes, &rules.policy);
    let mut checked = CheckedInputs {
        files: Vec::new(),
        urls: Vec::new(),
        rejected: Vec::new(),
    };
    for raw in paths {
        let result = crate::files::paths::resolve_input(&raw, policy)
            .and_then(|p| validate::validate_media_file(&p, limit).map_err(|r| r.to_string()));
        match result {
            Ok(f) => checked.files.push((shown(&raw), f)),
            Err(reason) => checked.rejected.push(RejectedInput {
                input: shown(&raw),
                reason,
            }),
        }
    }
    for raw in urls {
        match check_url(&raw) {
            Ok(u) => checked.urls.push(u),
            Err(reason) => checked.rejected.push(RejectedInput {
                input: shown(&raw),
                reason,
            }),
        }
    }
    if checked.files.is_empty() && checked.urls.is_empty() {
        let reasons: Vec<String> = checked
            .rejected
            .iter()
            .map(|r| format!("{}: {}", r.input, r.reason))
            .collect();
        return Err(ToolError::new(Code::InvalidInput, format!("nothing was uploaded. {}", reasons.join("; ")))
            .next("fix the paths (absolute, inside the allowed folders, real media files) and call upload_media again"));
    }
    Ok(checked)
}

/// An http(s) URL with a host, no credentials in it.
pub fn check_url(raw: &str) -> Result<String, String> {
    let u = raw.trim();
    if u.len() > 2048 {
        return Err("the URL is too long".into());
    }
    let lower = u.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| {
            "only http(s) URLs can be fetched (local files go in `paths`)".to_string()
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err("the URL has no host".into());
    }
    if host.contains('@') {
        return Err("URLs with user names or passwords are not accepted".into());
    }
    if u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the URL contains spaces or control characters".into());
    }
    Ok(u.to_string())
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn urls() {
        assert!(check_url("https://example.com/a.mp4").is_ok());
        for bad in [
            "file:///etc/passwd",
            "data:image/png;base64,AAA",
            "javascript:alert(1)",
            "https://",
            "http:///x",
            "https://u:p@host/x",
            "ftp://h/x",
            "https://h/a b",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}

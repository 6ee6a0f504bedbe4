//! Completions of prompt and resource arguments (`completion/complete`).

use crate::app::App;
use rmcp::model::{ArgumentInfo, Reference};
use std::sync::Arc;

/// Completions: the `files` argument of the prompts (files and folders inside the allowed
/// folders, from what is typed after the last comma) and the `id` of `nemo://jobs/{id}`.
pub async fn complete(app: &Arc<App>, r: &Reference, arg: &ArgumentInfo) -> Vec<String> {
    match r {
        Reference::Prompt(_) if arg.name == "files" => {
            let (done, typed) = match arg.value.rsplit_once(',') {
                Some((d, t)) => (format!("{d}, "), t.trim_start().to_string()),
                None => (String::new(), arg.value.trim_start().to_string()),
            };
            let policy = app.input_policy();
            let found = tokio::task::spawn_blocking(move || paths_like(&typed, &policy))
                .await
                .unwrap_or_default();
            found.into_iter().map(|p| format!("{done}{p}")).collect()
        }
        Reference::Resource(t) if t.uri.starts_with("nemo://jobs/") && arg.name == "id" => app
            .jobs
            .list()
            .into_iter()
            .map(|j| j.id)
            .filter(|id| id.starts_with(arg.value.trim()))
            .take(100)
            .collect(),
        _ => Vec::new(),
    }
}

/// Entries of the folder `typed` points into whose names start as typed, inside the allowed
/// folders only (checked on the path as written, then each entry by the upload policy).
fn paths_like(typed: &str, policy: &crate::files::paths::InputPolicy) -> Vec<String> {
    let typed = if typed.is_empty() {
        match policy.lexical.first() {
            Some(d) => format!("{}/", d.display()),
            None => return Vec::new(),
        }
    } else {
        typed.to_string()
    };
    let (dir, stem) = match typed.rsplit_once('/') {
        Some((d, s)) => (format!("{d}/"), s.to_string()),
        None => return Vec::new(),
    };
    let dir_path = std::path::Path::new(&dir);
    if !dir_path.is_absolute() {
        return Vec::new();
    }
    // Above an allowed folder, only the allowed folders themselves are offered: listing a
    // folder outside them would tell what is there.
    if !policy.lexical.iter().any(|a| dir_path.starts_with(a)) {
        let mut roots: Vec<String> = policy
            .lexical
            .iter()
            .map(|a| format!("{}/", a.display()))
            .filter(|a| a.starts_with(&typed))
            .collect();
        roots.sort();
        roots.dedup();
        return roots;
    }
    let Ok(entries) = std::fs::read_dir(dir_path) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            if !name.starts_with(&stem) || name.starts_with('.') {
                return None;
            }
            let full = format!("{dir}{name}");
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                Some(format!("{full}/"))
            } else {
                crate::files::paths::resolve_input(&full, policy)
                    .ok()
                    .map(|_| full)
            }
        })
        .collect();
    out.sort();
    out.truncate(100);
    out
}

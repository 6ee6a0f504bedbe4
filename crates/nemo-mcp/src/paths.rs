//! Local paths in and out: what may be uploaded (inside the allowed folders, no secrets), and
//! where exports go (sanitized names that never overwrite).

use std::path::{Component, Path, PathBuf};

/// Folders that hold secrets: never a source of "media", whatever the allowed folders say.
const SECRET_DIRS: &[&str] = &[
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".kube",
    ".docker",
    ".password-store",
    ".netrc",
];

/// Resolve a user-given path to a canonical file path inside the allowed folders.
pub fn resolve_input(
    raw: &str,
    allowed: &[PathBuf],
    private: &[PathBuf],
) -> Result<PathBuf, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("empty path".into());
    }
    if raw.contains('\0') {
        return Err("the path contains a NUL character".into());
    }
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("file:")
        || lower.contains("://")
        || lower.starts_with("data:")
        || lower.starts_with("javascript:")
    {
        return Err("not a local path: give a file path, or pass web addresses in `urls`".into());
    }
    let expanded = match raw
        .strip_prefix("~/")
        .or_else(|| (raw == "~").then_some(""))
    {
        Some(rest) => dirs::home_dir()
            .ok_or("no home folder to expand ~")?
            .join(rest),
        None => PathBuf::from(raw),
    };
    if !expanded.is_absolute() {
        return Err("use an absolute path (or one starting with ~/)".into());
    }
    if expanded.components().any(|c| c == Component::ParentDir) {
        return Err("`..` is not allowed in paths".into());
    }
    let canonical = expanded.canonicalize().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        k => format!("cannot open it ({k})"),
    })?;
    if !allowed.iter().any(|dir| canonical.starts_with(dir)) {
        let dirs: Vec<String> = allowed.iter().map(|d| d.display().to_string()).collect();
        return Err(format!(
            "outside the folders uploads may come from ({}); set NEMO_ALLOWED_DIRS to allow more",
            if dirs.is_empty() {
                "none configured".to_string()
            } else {
                dirs.join(", ")
            }
        ));
    }
    let secret = canonical
        .components()
        .any(|c| SECRET_DIRS.iter().any(|s| c.as_os_str() == *s))
        || private.iter().any(|p| canonical.starts_with(p));
    if secret {
        return Err("this folder holds credentials and is never uploaded from".into());
    }
    Ok(canonical)
}

/// A safe file name from free text: letters, digits, `-` and `_`, at most 60 characters.
pub fn sanitize_stem(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            // Every other character separates words: `/`, `\\`, `:`, spaces, dots.
            out.push('-');
        }
        if out.chars().count() >= 60 {
            break;
        }
    }
    let out = out.trim_matches('-').to_string();
    let reserved = ["con", "prn", "aux", "nul", "com1", "lpt1"];
    if out.is_empty() || reserved.contains(&out.to_ascii_lowercase().as_str()) {
        "nemovideo".to_string()
    } else {
        out
    }
}

/// Reserve `dir/stem.mp4`, or `dir/stem-2.mp4`, ...: the first name whose file and `.part` are
/// both free. The `.part` is created exclusively (`create_new`), so two exports running at once
/// can never pick the same name.
pub fn reserve_output(dir: &Path, stem: &str) -> std::io::Result<PathBuf> {
    let stem = sanitize_stem(stem);
    for n in 1..10_000 {
        let name = if n == 1 {
            format!("{stem}.mp4")
        } else {
            format!("{stem}-{n}.mp4")
        };
        let p = dir.join(name);
        if p.exists() {
            continue;
        }
        let part = nemo_client::part_path(&p);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&part)
        {
            Ok(_) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free file name"))
}

/// A `file://` URI for a local path.
pub fn file_uri(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let encoded: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "/-_.~:".contains(c) {
                c.to_string()
            } else {
                let mut b = [0; 4];
                c.encode_utf8(&mut b)
                    .bytes()
                    .map(|x| format!("%{x:02X}"))
                    .collect()
            }
        })
        .collect();
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        format!("file:///{encoded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let allowed = root.join("media");
        std::fs::create_dir_all(allowed.join(".ssh")).unwrap();
        std::fs::write(allowed.join("a.png"), b"x").unwrap();
        std::fs::write(allowed.join(".ssh").join("id_rsa"), b"x").unwrap();
        std::fs::write(root.join("outside.png"), b"x").unwrap();
        let ok = |p: &Path| resolve_input(p.to_str().unwrap(), std::slice::from_ref(&allowed), &[]);
        assert_eq!(ok(&allowed.join("a.png")).unwrap(), allowed.join("a.png"));
        assert!(ok(&root.join("outside.png"))
            .unwrap_err()
            .contains("outside"));
        assert!(ok(&allowed.join("..").join("outside.png"))
            .unwrap_err()
            .contains(".."));
        assert!(ok(&allowed.join(".ssh").join("id_rsa"))
            .unwrap_err()
            .contains("credentials"));
        assert!(ok(&allowed.join("missing.png"))
            .unwrap_err()
            .contains("no such file"));
        assert!(
            resolve_input("relative.png", std::slice::from_ref(&allowed), &[])
                .unwrap_err()
                .contains("absolute")
        );
        assert!(
            resolve_input("file:///etc/passwd", std::slice::from_ref(&allowed), &[])
                .unwrap_err()
                .contains("not a local path")
        );
        assert!(resolve_input("", std::slice::from_ref(&allowed), &[]).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("outside.png"), allowed.join("link.png")).unwrap();
            assert!(
                ok(&allowed.join("link.png"))
                    .unwrap_err()
                    .contains("outside"),
                "symlinks are resolved"
            );
        }
        let private = allowed.join("state");
        std::fs::create_dir_all(&private).unwrap();
        std::fs::write(private.join("c.png"), b"x").unwrap();
        assert!(resolve_input(
            private.join("c.png").to_str().unwrap(),
            std::slice::from_ref(&allowed),
            std::slice::from_ref(&private)
        )
        .is_err());
    }

    #[test]
    fn output_names() {
        assert_eq!(sanitize_stem("Summer Sale: 50% off!"), "Summer-Sale-50-off");
        assert_eq!(sanitize_stem("../../etc/passwd"), "etc-passwd");
        assert_eq!(sanitize_stem("   "), "nemovideo");
        assert_eq!(sanitize_stem("CON"), "nemovideo");
        let dir = tempfile::tempdir().unwrap();
        let a = reserve_output(dir.path(), "promo").unwrap();
        assert_eq!(a.file_name().unwrap(), "promo.mp4");
        // Reserved (its .part exists), so the next one gets another name; so does a finished file.
        let b = reserve_output(dir.path(), "promo").unwrap();
        assert_eq!(b.file_name().unwrap(), "promo-2.mp4");
        std::fs::rename(nemo_client::part_path(&a), &a).unwrap();
        std::fs::remove_file(nemo_client::part_path(&b)).unwrap();
        assert_eq!(
            reserve_output(dir.path(), "promo")
                .unwrap()
                .file_name()
                .unwrap(),
            "promo-2.mp4"
        );
        assert_eq!(file_uri(Path::new("/a b/c.mp4")), "file:///a%20b/c.mp4");
    }
}

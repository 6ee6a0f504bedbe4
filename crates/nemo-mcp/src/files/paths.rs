//! Local paths in and out: what may be uploaded (inside the allowed folders, no secrets), and
//! where exports go (sanitized names that never overwrite).

use std::path::{Component, Path, PathBuf};

/// Folders that hold secrets: never a source of "media", whatever the allowed folders say.
/// Each entry is a run of path components, compared without regard to case (`.SSH` is `.ssh`
/// on a case-insensitive file system).
const SECRET_DIRS: &[&[&str]] = &[
    // Keys and shell credentials.
    &[".ssh"],
    &[".gnupg"],
    &[".pki"],
    &[".netrc"],
    &[".git-credentials"],
    &[".vault-token"],
    &[".password-store"],
    // Cloud and infrastructure CLIs.
    &[".aws"],
    &[".azure"],
    &["gcloud"],
    &[".kube"],
    &[".docker"],
    &[".oci"],
    &[".terraform.d"],
    &[".config", "gh"],
    &[".config", "op"],
    &[".op"],
    &[".npmrc"],
    &[".pypirc"],
    &[".cargo", "credentials.toml"],
    // Password managers and keychains.
    &["1password"],
    &["bitwarden"],
    &["keepassxc"],
    &["keychains"],
    &["keyrings"],
    &["microsoft", "credentials"],
    &["microsoft", "protect"],
    // Browser profiles (cookies, saved passwords).
    &[".mozilla"],
    &["firefox"],
    &["google-chrome"],
    &["google", "chrome"],
    &["chromium"],
    &["bravesoftware"],
    &["microsoft", "edge"],
    &["microsoft-edge"],
    &["safari"],
    &["cookies"],
];

/// Windows device names, which name a device in any folder and with any extension.
const DEVICE_NAMES: &[&str] = &[
    "con", "prn", "aux", "nul", "conin$", "conout$", "com1", "com2", "com3", "com4", "com5",
    "com6", "com7", "com8", "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8",
    "lpt9",
];

/// Unix folders of devices and kernel files: never media.
const SYSTEM_DIRS: &[&str] = &["/dev", "/proc", "/sys"];

/// Where uploads may come from. `lexical` holds the allowed folders as given and as resolved,
/// for the check made before the file system is touched; `canonical` the resolved ones.
#[derive(Debug, Clone, Default)]
pub struct InputPolicy {
    pub lexical: Vec<PathBuf>,
    pub canonical: Vec<PathBuf>,
    /// Our own state (credentials, journal): never uploaded from.
    pub private: Vec<PathBuf>,
}

/// The folders uploads may come from, as one process was set up (given and resolved forms for
/// the lexical check, resolved ones for the final one). A job records its own: whichever
/// process runs it later judges its files as the process that made it did, not by its own
/// settings (another host may allow other folders).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AllowedFolders {
    pub lexical: Vec<PathBuf>,
    pub canonical: Vec<PathBuf>,
}

impl InputPolicy {
    /// This policy with `folders` allowed instead of its own (our own state stays private).
    pub fn allowing(self, folders: &AllowedFolders) -> InputPolicy {
        InputPolicy {
            lexical: folders.lexical.clone(),
            canonical: folders.canonical.clone(),
            private: self.private,
        }
    }
}

fn lower(c: Component) -> String {
    c.as_os_str().to_string_lossy().to_lowercase()
}

/// `path` is inside `dir`, comparing components without regard to case.
fn inside_ci(path: &Path, dir: &Path) -> bool {
    let (p, d): (Vec<String>, Vec<String>) = (
        path.components().map(lower).collect(),
        dir.components().map(lower).collect(),
    );
    p.len() >= d.len() && p[..d.len()] == d[..]
}

fn in_secret_dir(path: &Path) -> bool {
    let parts: Vec<String> = path.components().map(lower).collect();
    SECRET_DIRS.iter().any(|run| {
        parts
            .windows(run.len())
            .any(|w| w.iter().zip(run.iter()).all(|(a, b)| a == b))
    })
}

/// `.` removed, separators collapsed; `..` is refused before this.
fn normalise(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| *c != Component::CurDir)
        .collect()
}

fn outside(policy: &InputPolicy) -> String {
    let dirs: Vec<String> = policy
        .canonical
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    format!(
        "outside the folders uploads may come from ({}); set NEMO_ALLOWED_DIRS to allow more",
        if dirs.is_empty() {
            "none configured".to_string()
        } else {
            dirs.join(", ")
        }
    )
}

const SECRET: &str = "this folder holds credentials and is never uploaded from";

/// The checks that need no file system: the same answer whether the path exists or not.
fn check_lexically(raw: &str, policy: &InputPolicy) -> Result<PathBuf, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("empty path".into());
    }
    if raw.contains('\0') {
        return Err("the path contains a NUL character".into());
    }
    let lower_raw = raw.to_ascii_lowercase();
    if lower_raw.starts_with("file:")
        || lower_raw.contains("://")
        || lower_raw.starts_with("data:")
        || lower_raw.starts_with("javascript:")
    {
        return Err("not a local path: give a file path, or pass web addresses in `urls`".into());
    }
    if raw.starts_with("\\\\")
        || raw.starts_with("//")
        || raw.contains("\\\\?\\")
        || raw.contains("\\\\.\\")
    {
        return Err(
            "network (UNC) and device paths are not accepted: give a local file path".into(),
        );
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
    let path = normalise(&expanded);
    let stem = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let stem = stem.split('.').next().unwrap_or_default().trim_end();
    if DEVICE_NAMES.contains(&stem) || SYSTEM_DIRS.iter().any(|d| inside_ci(&path, Path::new(d))) {
        return Err("device and system paths are not accepted: give a media file".into());
    }
    if !policy.lexical.iter().any(|dir| path.starts_with(dir)) {
        return Err(outside(policy));
    }
    if in_secret_dir(&path) || policy.private.iter().any(|p| inside_ci(&path, p)) {
        return Err(SECRET.into());
    }
    Ok(path)
}

/// Resolve a user-given path to a canonical file path inside the allowed folders. The folder
/// policy is checked on the path as written *before* the file system is touched (so an outside
/// path cannot be probed for existence), then again on the resolved path (links).
pub fn resolve_input(raw: &str, policy: &InputPolicy) -> Result<PathBuf, String> {
    let path = check_lexically(raw, policy)?;
    let canonical = path.canonicalize().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        k => format!("cannot open it ({k})"),
    })?;
    if !policy
        .canonical
        .iter()
        .any(|dir| canonical.starts_with(dir))
    {
        return Err(outside(policy));
    }
    if in_secret_dir(&canonical) || policy.private.iter().any(|p| inside_ci(&canonical, p)) {
        return Err(SECRET.into());
    }
    Ok(canonical)
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
        let policy = InputPolicy {
            lexical: vec![allowed.clone()],
            canonical: vec![allowed.clone()],
            private: vec![],
        };
        let ok = |p: &Path| resolve_input(p.to_str().unwrap(), &policy);
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
        assert!(resolve_input("relative.png", &policy)
            .unwrap_err()
            .contains("absolute"));
        assert!(resolve_input("file:///etc/passwd", &policy)
            .unwrap_err()
            .contains("not a local path"));
        assert!(resolve_input("", &policy).is_err());
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
        let with_private = InputPolicy {
            private: vec![private.clone()],
            ..policy.clone()
        };
        assert!(resolve_input(private.join("c.png").to_str().unwrap(), &with_private).is_err());
        // The same policy on an upper-cased path (a case-insensitive file system).
        let upper = private
            .join("C.PNG")
            .to_string_lossy()
            .replace("/state/", "/STATE/");
        assert_eq!(
            resolve_input(&upper, &with_private).unwrap_err(),
            SECRET,
            "{upper}"
        );
    }

    #[test]
    fn outside_paths_answer_the_same_whether_they_exist_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let allowed = dir.path().canonicalize().unwrap();
        let policy = InputPolicy {
            lexical: vec![allowed.clone()],
            canonical: vec![allowed],
            private: vec![],
        };
        let a = resolve_input("/etc/shadow", &policy).unwrap_err();
        let b = resolve_input("/etc/nonexistent-file", &policy).unwrap_err();
        assert_eq!(a, b);
        assert!(a.contains("outside"));
    }

    #[test]
    fn credentials_devices_and_unc_paths_are_refused_as_written() {
        let policy = InputPolicy {
            lexical: vec![PathBuf::from("/home/u")],
            canonical: vec![PathBuf::from("/home/u")],
            private: vec![],
        };
        for secret in [
            "/home/u/.SSH/id_rsa.png",
            "/home/u/.Ssh/x.jpg",
            "/home/u/.aws/credentials.png",
            "/home/u/.config/gcloud/a.png",
            "/home/u/.mozilla/firefox/p/cookies.png",
            "/home/u/Library/Application Support/Google/Chrome/Default/a.png",
            "/home/u/Library/Keychains/login.png",
            "/home/u/.local/share/keyrings/k.png",
            "/home/u/.password-store/x.png",
        ] {
            assert_eq!(
                resolve_input(secret, &policy).unwrap_err(),
                SECRET,
                "{secret}"
            );
        }
        for device in [
            "\\\\server\\share\\a.png",
            "\\\\?\\C:\\a.png",
            "\\\\.\\PhysicalDrive0",
            "//server/share/a.png",
            "/home/u/CON.png",
            "/home/u/nul.mp4",
            "/dev/zero",
            "/proc/self/environ",
        ] {
            let e = resolve_input(device, &policy).unwrap_err();
            assert!(
                e.contains("UNC") || e.contains("device") || e.contains("outside"),
                "{device}: {e}"
            );
        }
    }
}

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
/// can never pick the same name, in one process or several.
#[cfg(test)]
pub fn reserve_output(dir: &Path, stem: &str) -> std::io::Result<PathBuf> {
    reserve_output_named(dir, stem, |_| Ok(()))
}

/// [`reserve_output`], with `name_it` called with each name before its `.part` is created
/// (the export journals it there, so no `.part` exists that its job does not name: it is
/// resumed or swept, never left behind). A name counts as taken when anything has it, a
/// dangling link included (`exists()` follows links and would call it free).
pub fn reserve_output_named(
    dir: &Path,
    stem: &str,
    mut name_it: impl FnMut(&Path) -> std::io::Result<()>,
) -> std::io::Result<PathBuf> {
    let stem = sanitize_stem(stem);
    for n in 1..10_000 {
        let name = if n == 1 {
            format!("{stem}.mp4")
        } else {
            format!("{stem}-{n}.mp4")
        };
        let p = dir.join(name);
        if taken(&p) {
            continue;
        }
        name_it(&p)?;
        if try_reserve(&p)? {
            return Ok(p);
        }
    }
    Err(std::io::Error::other("no free file name"))
}

/// Something has this name: a file, a folder, a link (even one that points nowhere).
fn taken(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

/// Hold `p` by creating its `.part` exclusively. The file itself is looked at again after
/// that: another export may have finished (renamed its `.part` to `p`) between the caller's
/// look and this creation, and `p` must not be written over.
fn try_reserve(p: &Path) -> std::io::Result<bool> {
    let part = nemo_client::part_path(p);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&part)
    {
        Ok(_) if taken(p) => {
            let _ = std::fs::remove_file(&part);
            Ok(false)
        }
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether `p` names an `.mp4` directly inside `dir` (both as written and as resolved), so a
/// journaled path can never send a download elsewhere.
pub fn is_output_file(dir: &Path, p: &Path) -> bool {
    let (Some(parent), Some(name)) = (p.parent(), p.file_name()) else {
        return false;
    };
    let name = name.to_string_lossy();
    if p.components().any(|c| c == Component::ParentDir)
        || !name.to_ascii_lowercase().ends_with(".mp4")
        || name.starts_with('.')
    {
        return false;
    }
    let canon = |d: &Path| d.canonicalize().unwrap_or_else(|_| d.to_path_buf());
    canon(parent) == canon(dir)
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
        // A dangling link with an export's name is a taken name (`exists()` said free, and
        // every export with that title failed).
        #[cfg(unix)]
        {
            let dir = tempfile::tempdir().unwrap();
            std::os::unix::fs::symlink(dir.path().join("nowhere"), dir.path().join("sale.mp4"))
                .unwrap();
            let p = reserve_output(dir.path(), "sale").unwrap();
            assert_eq!(p.file_name().unwrap(), "sale-2.mp4");
        }
        // Each name is given to the caller before its `.part` exists.
        let dir = tempfile::tempdir().unwrap();
        let mut named = Vec::new();
        let p = reserve_output_named(dir.path(), "promo", |p| {
            assert!(!nemo_client::part_path(p).exists(), "named first");
            named.push(p.to_path_buf());
            Ok(())
        })
        .unwrap();
        assert_eq!(named, vec![p.clone()]);
        assert!(nemo_client::part_path(&p).exists());
    }

    /// Found by the randomized several-hosts test: another process's export finished (its
    /// `.part` renamed to the name) between this one's look at the name and its creation of the
    /// `.part`; the name was taken again and the first file written over (two exports, one
    /// file). The name is looked at again once the `.part` is held.
    #[test]
    fn a_name_finished_meanwhile_is_not_reserved_again() {
        let dir = tempfile::tempdir().unwrap();
        let finished = dir.path().join("promo.mp4");
        std::fs::write(&finished, b"another export's video").unwrap();
        assert!(!try_reserve(&finished).unwrap());
        assert!(!nemo_client::part_path(&finished).exists(), "no .part left");
        assert_eq!(std::fs::read(&finished).unwrap(), b"another export's video");
        let free = dir.path().join("promo-2.mp4");
        assert!(try_reserve(&free).unwrap());
        assert!(!try_reserve(&free).unwrap(), "held by its .part");
    }
}

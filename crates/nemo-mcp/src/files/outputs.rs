//! Where exports are saved: a safe file name from a title, a name reserved so that no two
//! exports (in one process or several) ever write one file, whether a journaled path names a
//! file in the output folder, and a `file://` link to it.

use std::path::{Component, Path, PathBuf};

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

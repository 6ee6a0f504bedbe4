//! Whether a state folder is the user's own, before anything in it is read or written. It
//! holds the NemoVideo token, the jobs that spend credits and the ledger the budgets count:
//! a folder or a file another user owns or can write is refused (a group member who made
//! `state.db` first could read the token, or plant `credentials.json` and have the user work
//! in their account). Files are looked at without following links. A folder on a network or
//! synced file system is told as such: SQLite's WAL and our process locks need one machine.

use std::path::Path;

/// What the look found: a refusal (the folder cannot be used as it is), or warnings.
#[derive(Debug, Default)]
pub struct Verdict {
    pub warnings: Vec<String>,
}

/// Check the state folder `dir` (which exists) and the files in it that matter.
pub fn check_folder(dir: &Path) -> Result<Verdict, String> {
    let mut verdict = Verdict::default();
    owned_and_private(dir, true)?;
    for name in [super::DB_FILE, "state.db-wal", "state.db-shm", "token.lock"] {
        owned_and_private(&dir.join(name), false)?;
    }
    match file_system(dir) {
        FileSystem::Local => {}
        FileSystem::Network(kind) => {
            return Err(format!(
                "the state folder {} is on a network file system ({kind}), where the shared database and the process locks do not work across machines: set NEMO_STATE_DIR to a folder on this computer's own disk",
                dir.display()
            ))
        }
        FileSystem::Synced(service) => verdict.warnings.push(format!(
            "the state folder {} is inside a {service} folder: keep it off every other computer that syncs it (two machines writing one database corrupt it), or set NEMO_STATE_DIR to a folder that is not synced",
            dir.display()
        )),
    }
    Ok(verdict)
}

/// A file or folder (when it exists) owned by this user and writable by no one else; a file
/// must not be a link. A file of ours readable by others is made private here.
#[cfg(unix)]
pub fn owned_and_private(path: &Path, folder: bool) -> Result<(), String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot look at {}: {e}", path.display())),
    };
    // The folder may be a link the user made (dotfiles often are): what it points at is
    // judged. A file in it may not be a link.
    let meta = if meta.file_type().is_symlink() {
        if !folder {
            return Err(format!(
                "{} is a symbolic link; the state files are never opened through one: remove it, or set NEMO_STATE_DIR to a folder of your own",
                path.display()
            ));
        }
        std::fs::metadata(path).map_err(|e| format!("cannot look at {}: {e}", path.display()))?
    } else {
        meta
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "{} belongs to another user (uid {}), so it could give your NemoVideo token away or hand you someone else's: set NEMO_STATE_DIR to a folder of your own",
            path.display(),
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(format!(
            "{} can be written by other users (mode {mode:o}): run `chmod go-w {}`, or set NEMO_STATE_DIR to a folder of your own",
            path.display(),
            path.display()
        ));
    }
    if !folder && mode & 0o077 != 0 {
        // Ours and only readable by others: made private (it holds the token).
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn owned_and_private(_path: &Path, _folder: bool) -> Result<(), String> {
    Ok(())
}

/// Where a folder lives, as far as sharing a database goes.
#[derive(Debug, PartialEq)]
enum FileSystem {
    Local,
    /// NFS, SMB/CIFS, sshfs and the like: locks and WAL do not span machines.
    Network(&'static str),
    /// A folder a sync client copies to other computers.
    Synced(&'static str),
}

fn file_system(dir: &Path) -> FileSystem {
    if let Some(kind) = network_kind(dir) {
        return FileSystem::Network(kind);
    }
    let text = dir.to_string_lossy().to_lowercase();
    for (marker, service) in [
        ("/dropbox", "Dropbox"),
        ("/onedrive", "OneDrive"),
        ("\\onedrive", "OneDrive"),
        ("\\dropbox", "Dropbox"),
        ("/library/mobile documents", "iCloud Drive"),
        ("/icloud drive", "iCloud Drive"),
        ("/library/cloudstorage", "cloud storage"),
        ("/google drive", "Google Drive"),
        ("/googledrive", "Google Drive"),
    ] {
        if text.contains(marker) {
            return FileSystem::Synced(service);
        }
    }
    FileSystem::Local
}

/// The network file system `dir` is on, from `statfs`'s magic number (Linux).
#[cfg(target_os = "linux")]
fn network_kind(dir: &Path) -> Option<&'static str> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero statfs is a valid value; statfs fills it from a NUL-terminated path.
    let mut s: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string and `s` a valid, writable statfs.
    if unsafe { libc::statfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    network_magic(s.f_type as u64)
}

#[cfg(not(target_os = "linux"))]
fn network_kind(_dir: &Path) -> Option<&'static str> {
    None
}

/// The file systems whose locks and shared memory do not span machines, by `statfs` magic.
fn network_magic(magic: u64) -> Option<&'static str> {
    match magic {
        0x6969 => Some("NFS"),
        0x517B => Some("SMB"),
        0xFF53_4D42 => Some("CIFS"),
        0xFE53_4D42 => Some("SMB2"),
        0x0102_1997 => Some("9p"),
        0x5346_414F => Some("AFS"),
        0x0BD0_0BD0 => Some("Lustre"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_and_synced_folders_are_told_apart_from_local_ones() {
        assert_eq!(network_magic(0x6969), Some("NFS"));
        assert_eq!(network_magic(0xEF53), None, "ext4 is local");
        assert_eq!(
            file_system(Path::new("/Users/ann/Dropbox/nemo")),
            FileSystem::Synced("Dropbox")
        );
        assert_eq!(
            file_system(Path::new(
                "/Users/ann/Library/Mobile Documents/com~apple~CloudDocs/x"
            )),
            FileSystem::Synced("iCloud Drive")
        );
        let here = tempfile::tempdir().unwrap();
        assert_eq!(file_system(here.path()), FileSystem::Local);
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_others_can_write_or_a_linked_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        assert!(check_folder(dir.path()).is_ok());
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let why = check_folder(dir.path()).unwrap_err();
        assert!(why.contains("chmod go-w"), "{why}");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let elsewhere = tempfile::NamedTempFile::new().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join(super::super::DB_FILE))
            .unwrap();
        let why = check_folder(dir.path()).unwrap_err();
        assert!(why.contains("symbolic link"), "{why}");
        // A file of ours that others may read is made private.
        std::fs::remove_file(dir.path().join(super::super::DB_FILE)).unwrap();
        let db = dir.path().join(super::super::DB_FILE);
        std::fs::write(&db, b"").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        check_folder(dir.path()).unwrap();
        let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

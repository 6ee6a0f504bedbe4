//! What the previews make from a local file (a shrunk image, a poster frame), kept while the file
//! is unchanged, so a preview asked for again reads and decodes nothing.

use std::collections::HashMap;
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

/// A file as it is now (path, size, time written), and how the value was made from it.
type Key<K> = (PathBuf, u64, Option<SystemTime>, K);

/// Values made from files, keyed by the file (path, size, time written) and `K` (how it was
/// made: a size, say). Emptied when it holds `cap` values: previews are cheap to make again.
pub struct ByFile<K, V> {
    cap: usize,
    map: OnceLock<Mutex<HashMap<Key<K>, V>>>,
}

impl<K: Eq + Hash, V: Clone> ByFile<K, V> {
    pub const fn new(cap: usize) -> Self {
        ByFile {
            cap,
            map: OnceLock::new(),
        }
    }

    /// The value made before from this file as it is now, or `make`'s (kept when it is `Some`).
    pub fn get_or_make(&self, path: &Path, how: K, make: impl FnOnce() -> Option<V>) -> Option<V> {
        let meta = std::fs::metadata(path).ok()?;
        let key = (path.to_path_buf(), meta.len(), meta.modified().ok(), how);
        let map = self.map.get_or_init(Default::default);
        if let Some(hit) = crate::support::sync::lock(map).get(&key) {
            return Some(hit.clone());
        }
        let made = make()?;
        let mut map = crate::support::sync::lock(map);
        if map.len() >= self.cap {
            map.clear();
        }
        map.insert(key, made.clone());
        Some(made)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_per_file_until_the_file_changes() {
        static CACHE: ByFile<u32, String> = ByFile::new(8);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        std::fs::write(&p, "one").unwrap();
        let mut made = 0;
        for _ in 0..3 {
            let v = CACHE.get_or_make(&p, 1, || {
                made += 1;
                Some(std::fs::read_to_string(&p).unwrap())
            });
            assert_eq!(v.as_deref(), Some("one"));
        }
        assert_eq!(made, 1);
        // Another size of file: made again.
        std::fs::write(&p, "three").unwrap();
        let v = CACHE.get_or_make(&p, 1, || Some(std::fs::read_to_string(&p).unwrap()));
        assert_eq!(v.as_deref(), Some("three"));
        // A missing file: nothing made, nothing kept.
        assert!(CACHE
            .get_or_make(&dir.path().join("gone"), 1, || Some(String::new()))
            .is_none());
    }
}

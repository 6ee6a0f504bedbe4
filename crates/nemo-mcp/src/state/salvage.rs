//! A database that cannot be read (cut by a full disk, edited, from a newer server) is never
//! deleted: it is renamed aside (`state.db.damaged-TIMESTAMP`, with its WAL files), and a new
//! one is started with every row that can still be read from it.

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// Rename the database (and its `-wal`/`-shm` files) aside; the new name.
pub fn keep_aside(path: &Path, why: &str) -> Result<PathBuf, String> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let with = |p: &Path, suffix: &str| {
        let mut s = p.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    let kept = with(path, &format!(".damaged-{stamp}"));
    std::fs::rename(path, &kept).map_err(|e| {
        format!(
            "the state database {} cannot be read ({why}) nor set aside ({e})",
            path.display()
        )
    })?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::rename(with(path, suffix), with(&kept, suffix));
    }
    tracing::error!(
        "the state database {} could not be read ({why}); kept as {}",
        path.display(),
        kept.display()
    );
    Ok(kept)
}

/// Copy every row that reads from the damaged database `from` into `to`; how many.
pub fn copy_readable(from: &Path, to: &Connection) -> usize {
    let Ok(old) = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return 0;
    };
    let mut copied = 0;
    for table in super::schema::TABLES {
        copied += copy_table(&old, to, table).unwrap_or(0);
    }
    copied
}

fn copy_table(old: &Connection, to: &Connection, table: &str) -> rusqlite::Result<usize> {
    let cols: Vec<String> = {
        let mut s = to.prepare(&format!("PRAGMA table_info({table})"))?;
        let names = s.query_map([], |r| r.get::<_, String>(1))?;
        names.collect::<rusqlite::Result<_>>()?
    };
    let list = cols.join(", ");
    let marks = vec!["?"; cols.len()].join(", ");
    let mut read = old.prepare(&format!("SELECT {list} FROM {table}"))?;
    let mut rows = read.query([])?;
    let mut insert = to.prepare(&format!(
        "INSERT OR IGNORE INTO {table} ({list}) VALUES ({marks})"
    ))?;
    let mut n = 0;
    // A row that fails to read ends the table: what came before it is kept.
    while let Ok(Some(row)) = rows.next() {
        let values: Vec<rusqlite::types::Value> = (0..cols.len())
            .map(|i| row.get(i))
            .collect::<rusqlite::Result<_>>()?;
        n += insert.execute(rusqlite::params_from_iter(values))?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_damaged_database_is_kept_aside_and_a_newer_one_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = crate::state::StateDb::open(dir.path()).unwrap();
            db.set_value("k", "v").unwrap();
            db.retire();
        }
        let path = dir.path().join(crate::state::DB_FILE);
        // A newer server's database: refused, and left as it is (that server may be using it).
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        let refused = crate::state::StateDb::open(dir.path()).err().unwrap();
        assert!(refused.contains("newer nemo-mcp"), "{refused}");
        assert!(path.exists());
        conn.pragma_update(None, "user_version", 1).unwrap();
        drop(conn);

        // Garbage bytes: kept aside, told once, a fresh database.
        std::fs::write(&path, vec![7u8; 8192]).unwrap();
        for s in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.path().join(format!("{}{s}", crate::state::DB_FILE)));
        }
        let db = crate::state::StateDb::open(dir.path()).unwrap();
        assert_eq!(db.get_value("k").unwrap(), None);
        let notices = db.take_notices();
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(notices[0].contains("kept as"), "{notices:?}");
        assert!(db.take_notices().is_empty(), "told once");
        let kept = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".damaged-"))
            .count();
        assert_eq!(kept, 1);
    }
}

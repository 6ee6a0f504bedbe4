//! What the server reads from disk, held by fixtures and by what fuzzing found (issue #33):
//! - every journal format (`tests/data/journal-v1/`, `tests/data/journal-v2/`, one job of each
//!   kind) reads; today's rows are written back byte for byte as they are stored, so a change to
//!   the stored `Job` fails here and asks for a new journal version and its migration;
//! - the cases in `fuzz/regressions/{journal,input_path,mp4}/` keep the fuzz targets' properties
//!   (a saved export is read from disk too: a damaged one gives reasons, never a panic).

use nemo_mcp::testing::{
    check_mp4, parse_journal_entry, resolve_input, InputPolicy, Job, JOURNAL_VERSION,
};
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).expect("a fixture")))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no files in {}", dir.display());
    v
}

fn data(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir)
}

fn fuzz_cases(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    files(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/regressions")
            .join(target),
    )
}

fn kinds(jobs: &[Job]) -> Vec<String> {
    let mut k: Vec<String> = jobs.iter().map(|j| j.id[..3].to_string()).collect();
    k.sort();
    k.dedup();
    k
}

#[test]
fn every_journal_format_reads_one_job_of_each_kind() {
    for dir in ["journal-v1", "journal-v2"] {
        let jobs: Vec<Job> = files(&data(dir))
            .into_iter()
            .map(|(p, b)| {
                parse_journal_entry(&b).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            })
            .collect();
        assert_eq!(kinds(&jobs), ["exp", "gen", "upl", "vid"], "{dir}");
    }
}

#[test]
fn todays_rows_are_written_back_as_stored() {
    assert_eq!(
        JOURNAL_VERSION, 2,
        "a new journal version needs its fixtures in tests/data"
    );
    for (path, bytes) in files(&data("journal-v2")) {
        let job = parse_journal_entry(&bytes).expect("a v2 row");
        let stored: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
        let written = serde_json::to_value(&job).expect("a job serializes");
        assert_eq!(
            stored,
            written,
            "{}: the stored Job changed shape; bump JOURNAL_VERSION and migrate",
            path.display()
        );
    }
}

#[test]
fn journal_fuzz_cases_never_panic_and_round_trip() {
    for (path, data) in fuzz_cases("journal") {
        if let Ok(job) = parse_journal_entry(&data) {
            let text = serde_json::to_vec(&job).expect("a job serializes");
            let again = parse_journal_entry(&text)
                .unwrap_or_else(|e| panic!("{}: written back, it reads as {e}", path.display()));
            assert_eq!(
                serde_json::to_value(&job).expect("JSON"),
                serde_json::to_value(&again).expect("JSON"),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn input_path_fuzz_cases_stay_inside_the_allowed_folder() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let canonical = dir.path().canonicalize().expect("a real folder");
    std::fs::write(canonical.join("a.png"), b"\x89PNG").expect("a file");
    let policy = InputPolicy {
        lexical: vec![dir.path().to_path_buf(), canonical.clone()],
        canonical: vec![canonical.clone()],
        private: Vec::new(),
    };
    let mut accepted = 0;
    for (path, data) in fuzz_cases("input_path") {
        let Ok(raw) = std::str::from_utf8(&data) else {
            continue;
        };
        // The cases name the allowed folder as `{dir}`.
        let raw = raw.replace("{dir}", &canonical.display().to_string());
        if let Ok(p) = resolve_input(&raw, &policy) {
            accepted += 1;
            assert!(
                p.starts_with(&canonical),
                "{}: {raw:?} → {}",
                path.display(),
                p.display()
            );
        }
    }
    assert!(
        accepted >= 1,
        "the plain case inside the folder is accepted"
    );
}

#[test]
fn damaged_exports_give_reasons_never_a_panic() {
    for (case, bytes) in fuzz_cases("mp4") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.mp4");
        std::fs::write(&path, &bytes).unwrap();
        let reasons = check_mp4(&path);
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        // Scrambled payloads may still decode to something, and a composition table whose
        // runs claim billions of pictures (found by the fuzzer: it took minutes to count out)
        // still places the ones there are; every other case is unreadable.
        if !["scrambled_mdat", "composition_run_of_two_billion"].contains(&name.as_str()) {
            assert!(!reasons.is_empty(), "{name}: read without a reason");
        }
    }
}

//! The journal's tests: what it trusts, keeps and forgets.

use super::*;
use crate::jobs::{Ended, Work};

#[test]
fn planted_entries_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().canonicalize().unwrap();
    std::fs::create_dir_all(dir.path().join("jobs")).unwrap();
    let export = |render: &str, path: PathBuf| {
        let mut j = Job::export();
        if let Work::Export(e) = &mut j.work {
            e.render_id = Some(serde_json::from_value(render.into()).unwrap());
            e.output_path = Some(path);
        }
        j
    };
    let good = export("render_1700000000000", out_dir.join("promo.mp4"));
    let plant = |name: &str, job: &Job| {
        std::fs::write(
            dir.path().join("jobs").join(format!("{name}.json")),
            serde_json::to_vec(job).unwrap(),
        )
        .unwrap()
    };
    let outside = export("render_1", PathBuf::from("/etc/cron.d/evil.mp4"));
    plant(&outside.id.clone(), &outside);
    let nested = export("render_2", out_dir.join("sub").join("x.mp4"));
    plant(&nested.id.clone(), &nested);
    let mut traversal = Job::export();
    traversal.id = "../../evil".into();
    plant("exp_000000000000", &traversal);
    let bad_render = export("../../x", out_dir.join("y.mp4"));
    plant(&bad_render.id.clone(), &bad_render);
    plant(&good.id.clone(), &good);
    // Another host's export, made with its own output folder: trusted, and saved there.
    let other_out = tempfile::tempdir().unwrap();
    let other_dir = other_out.path().canonicalize().unwrap();
    let mut other = export("render_1700000000001", other_dir.join("theirs.mp4"));
    if let Work::Export(e) = &mut other.work {
        e.output_dir = Some(other_dir.clone());
    }
    plant(&other.id.clone(), &other);
    // A folder recorded as a relative path is not.
    let mut relative = export("render_3", PathBuf::from("out/x.mp4"));
    if let Work::Export(e) = &mut relative.work {
        e.output_dir = Some(PathBuf::from("out"));
    }
    plant(&relative.id.clone(), &relative);
    // Moved in from the old files (a planted database row is checked the same way).
    let db = Arc::new(StateDb::open(dir.path()).unwrap());
    crate::moving_in::old_files(&db);
    let j = Journal::new(db, out_dir.clone());
    let mut loaded: Vec<String> = j.all().into_iter().map(|j| j.id).collect();
    loaded.sort();
    let mut trusted = vec![good.id.clone(), other.id.clone()];
    trusted.sort();
    assert_eq!(loaded, trusted);
    // Pruning keeps the newest finished jobs.
    for _ in 0..(KEEP_FINISHED + 5) {
        let mut f = Job::upload(Vec::new());
        f.work.end(Ended::Cancelled);
        j.save(&f);
    }
    j.prune();
    let loaded = j.all();
    assert_eq!(
        loaded.iter().filter(|j| j.status().is_finished()).count(),
        KEEP_FINISHED
    );
}

/// Entries written by the first format (no `version`, one bag of fields, untyped results)
/// load as today's typed jobs, and are written back in today's format.
/// The first format's fixtures in a journal folder, loaded: (journal folder, output
/// folder, the folders' guards, the jobs).
fn load_v1_fixtures() -> (PathBuf, PathBuf, [tempfile::TempDir; 2], Vec<Job>) {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/journal-v1");
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().canonicalize().unwrap();
    let jobs_dir = dir.path().join("jobs");
    std::fs::create_dir_all(&jobs_dir).unwrap();
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace("{OUT}", out_dir.to_str().unwrap());
        let file = jobs_dir.join(path.file_name().unwrap());
        std::fs::write(&file, text).unwrap();
        crate::testing::written_long_ago(&file);
    }
    let db = Arc::new(StateDb::open(dir.path()).unwrap());
    crate::moving_in::old_files(&db);
    let notices = db.take_notices();
    assert!(
        notices.len() == 1 && notices[0].contains("7 job(s)"),
        "{notices:?}"
    );
    assert!(!jobs_dir.exists(), "the old files are moved aside");
    let loaded = Journal::new(db, &out_dir).all();
    assert_eq!(loaded.len(), 7, "every entry of the first format loads");
    (dir.path().to_path_buf(), out_dir, [dir, out], loaded)
}

#[test]
fn the_first_journal_format_loads() {
    use crate::jobs::results::GenerateOutput;
    use crate::jobs::JobStatus;
    let (_, out_dir, _guards, loaded) = load_v1_fixtures();
    let by_id = |id: &str| loaded.iter().find(|j| j.id == id).unwrap();

    let edited = by_id("gen_0a1b2c3d4e5f");
    assert_eq!(edited.status(), JobStatus::Succeeded);
    assert_eq!(edited.credits_spent(), Some(50));
    assert_eq!(edited.request_id.as_deref(), Some("promo-1"));
    let g = edited.generation_data().unwrap();
    assert_eq!(
        g.session_id.map(|s| s.to_string()).as_deref(),
        Some("1700000000123")
    );
    assert!(matches!(g.outcome.result(), Some(GenerateOutput::Edited(r)) if r.exportable));

    let running = by_id("gen_1b2c3d4e5f60");
    assert_eq!(running.status(), JobStatus::Running);
    let before = running
        .generation_data()
        .unwrap()
        .state_before
        .as_ref()
        .unwrap();
    assert_eq!(
        before.canvas,
        Some((1920, 1080)),
        "the snapshot is read back"
    );
    assert_eq!(running.generation_data().unwrap().credits_before, Some(50));

    let routed = by_id("gen_2c3d4e5f6071");
    assert!(matches!(
        routed.generation_data().unwrap().outcome.result(),
        Some(GenerateOutput::NotSent(r)) if r.tool == "export_video"
    ));
    assert_eq!(routed.credits_spent(), Some(0));

    let rendering = by_id("exp_3d4e5f607182");
    let e = rendering.export_data().unwrap();
    assert_eq!(
        e.render_id.as_ref().unwrap().as_str(),
        "render_1763726400000"
    );
    assert_eq!(
        e.output_path.as_deref(),
        Some(out_dir.join("promo.mp4").as_path())
    );
    assert_eq!(rendering.owner.as_deref(), Some("mcp-session-7"));

    let saved = by_id("exp_4e5f60718293");
    assert_eq!(
        saved.saved_path(),
        Some(out_dir.join("launch.mp4").to_str().unwrap())
    );

    let failed = by_id("upl_5f6071829304");
    assert_eq!(failed.status(), JobStatus::Failed);
    assert_eq!(
        failed.error().unwrap().code,
        crate::errors::Code::Interrupted
    );

    let video = by_id("vid_5f60718293a4");
    let plan = video.video_plan().unwrap();
    assert_eq!(plan.export_job.as_deref(), Some("exp_3d4e5f607182"));
    assert_eq!(plan.steps().count(), 3);
}

/// Written back in today's format, and read back the same.
#[test]
fn upgraded_entries_are_written_in_todays_format() {
    let (state_dir, out_dir, _guards, loaded) = load_v1_fixtures();
    let db = Arc::new(StateDb::open(&state_dir).unwrap());
    let j = Journal::new(db.clone(), &out_dir);
    // This process takes them over (their importer is no process), then writes them.
    let claimed = j.claim_orphans();
    assert_eq!(
        claimed.len(),
        loaded.iter().filter(|j| !j.status().is_finished()).count()
    );
    for job in &claimed {
        assert!(j.save(job));
    }
    let again = j.all();
    assert_eq!(again, loaded);
    let raw: serde_json::Value = serde_json::from_str(
        &db.read("", |tx| {
            tx.query_row(
                "SELECT body FROM jobs WHERE id = 'exp_3d4e5f607182'",
                [],
                |r| r.get::<_, String>(0),
            )
        })
        .unwrap(),
    )
    .unwrap();
    assert_eq!(raw["version"], crate::jobs::job::JOURNAL_VERSION);
    assert_eq!(raw["work"]["kind"], "export");
    assert_eq!(raw["work"]["outcome"]["status"], "running");
    // A format from a newer server is skipped, not misread.
    db.write("", |tx| {
        tx.execute(
            "INSERT INTO jobs (id, kind, runner, running, created_at, body) VALUES ('gen_ffffffffffff', 'gen', 'x', 0, '2026', '{\"version\": 99}')",
            [],
        )
    })
    .unwrap();
    assert_eq!(j.all().len(), 7);
}

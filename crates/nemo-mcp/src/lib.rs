//! # nemo-mcp: the map
//!
//! An MCP server that makes and edits videos with the NemoVideo backend. The engine (jobs that
//! upload, generate, render and download; money; projects; files on disk) knows nothing of
//! MCP; the `mcp` room turns it into tools, resources, prompts and views. Each room is a folder
//! whose `mod.rs` opens with what it owns. A room uses only the rooms below it in this list
//! (checked by `tests/suite/architecture.rs`, which also prints the table in the README):
//!
//! - **`support`**: the mutex helper and logging (stderr only: stdout is the MCP channel).
//! - **`errors`**: the one error currency, `ToolError` with a `Code` that says what the
//!   caller can do. No stack traces or backend JSON ever reach the model.
//! - **`state`**: the shared SQLite database every server process of the user opens; process
//!   locks that say which runner is alive; moving old state files in.
//! - **`files`**: which local paths a caller may hand in, input checks before an upload, output
//!   names that never overwrite.
//! - **`account`**: estimates, budgets, the spend ledger, the per-turn meter, the token clock.
//! - **`config`**: `Settings`, read once from the environment and the command line.
//! - **`project`**: the current project per process, the library, the media ledger (to restore
//!   a lost project), the backend's language.
//! - **`jobs`**: the job model, the manager every caller waits on, and the journal in the
//!   shared database (one runner per job, a take-over only when the owner's lock is gone).
//! - **`moving_in`**: the state files of earlier versions imported into the shared database
//!   once, in one transaction, and moved aside.
//! - **`previews`**: storyboards, posters and thumbnails made from local media.
//! - **`app`**: `App`, the parts a process shares plus the parts of one MCP session.
//! - **`run`**: what each kind of job does (generation, export, upload, make_video, variants)
//!   and resuming journaled jobs at start.
//! - **`mcp`**: the protocol: tools, answers, confirmation, tasks, resources, the player.
//! - **`cli`**: the command line (`doctor`, `demo`, `sim`, `--http`).
//!
//! ## Invariants
//!
//! - A paid instruction leaves at most once across every process: its "sending" mark is
//!   committed to the shared database before the request goes.
//! - A job has exactly one runner: the process holding its owner lock. Others show it, never run it.
//! - No file is written twice and no existing file is overwritten.
//! - A token never appears in a log, an error, a tool result, a URL or a view.
//! - Nothing but MCP is written to stdout.
//!
//! The rooms are private; read their docs with `cargo doc -p nemo-mcp --document-private-items`.
#![allow(rustdoc::private_intra_doc_links)]

pub(crate) mod account;
pub(crate) mod app;
pub(crate) mod cli;
pub(crate) mod config;
pub(crate) mod errors;
pub(crate) mod files;
pub(crate) mod jobs;
pub(crate) mod mcp;
pub(crate) mod moving_in;
pub(crate) mod previews;
pub(crate) mod project;
pub(crate) mod run;
pub(crate) mod state;
pub(crate) mod support;

pub use app::App;
pub use cli::main;
pub use config::Settings;
pub use mcp::{serve_stdio, NemoServer, INSTRUCTIONS};

/// What the crate's own tests, benchmarks and examples reach inside the rooms. Not an API: the
/// rooms are private so that the compiler reports code nothing uses, and this list shows in one
/// place what the tests lean on.
#[doc(hidden)]
pub mod testing {
    pub use crate::account::estimate::CostKind;
    pub use crate::files::mp4::asked_length;
    pub use crate::jobs::job::JOURNAL_VERSION;
    pub use crate::jobs::results::VideoPlan;
    pub use crate::jobs::{Ended, Job, JobManager, JobStatus};
    pub use crate::mcp::schema::outside_subset;
    pub use crate::mcp::tools::GenerateArgs;
    pub use crate::previews::{ffmpeg, storyboard, LocalMedia};
    pub use crate::project::current::CurrentProject;
    pub use crate::project::library::Library;
    pub use crate::run::asked::{
        black as asks_for_black, music as asks_for_music, text as asks_for_text,
    };
    pub use crate::run::resume_all;
    pub use crate::state::StateDb;
    pub use crate::support::logging;

    /// The upload policy a process with these settings checks files against.
    pub use crate::app::input_policy;
    /// Fuzzing's entry points (`fuzz/fuzz_targets/{journal,input_path,mp4}.rs`) and their replays.
    pub use crate::files::paths::{resolve_input, InputPolicy};

    pub use crate::previews::contact_sheet::ContactSheet;

    /// The contact sheet of an MP4, made afresh (its `moov` read, not from the cache):
    /// `benches/contact_sheet.rs`.
    pub fn contact_sheet(path: &std::path::Path) -> Result<ContactSheet, String> {
        crate::previews::contact_sheet::make(&crate::files::mp4::Mp4File::open(path)?)
    }

    /// Everything an export's check reads from a saved MP4 (its facts, its sound decoded, its
    /// contact sheet, a storyboard tile), on a file of any bytes: `fuzz/fuzz_targets/mp4.rs`
    /// and its replays. What cannot be read is a reason; a panic or a crash is the bug.
    pub fn check_mp4(path: &std::path::Path) -> Vec<String> {
        let mut reasons = Vec::new();
        match crate::files::mp4::Mp4File::open(path) {
            Ok(file) => {
                reasons.extend(file.facts().err());
                reasons.extend(file.loudness().err());
                reasons.extend(crate::previews::contact_sheet::make(&file).err());
                let _tile = crate::previews::frames::at(path, 1.0, 64);
            }
            Err(why) => reasons.push(why),
        }
        reasons
    }

    /// An old state file as an older version left it when it stopped long ago: its
    /// modification time an hour back (moving in leaves a job file written in the last
    /// minutes to the older version that may still run it).
    pub fn written_long_ago(path: &std::path::Path) {
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        if let Ok(f) = std::fs::File::options().write(true).open(path) {
            let _ = f.set_modified(hour_ago);
        }
    }

    /// A journal row's body as the journal reads it (every version; a newer one refused).
    pub fn parse_journal_entry(bytes: &[u8]) -> Result<Job, String> {
        crate::jobs::journal::parse_entry(bytes)
    }
}

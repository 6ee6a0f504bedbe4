//! `nemo-mcp check <file>`: the file check an export runs, on any file, for a person or a
//! test. Findings on stdout as one JSON line; this process's peak memory on stderr.

use crate::cli::output::answer;
use std::path::Path;
use std::process::ExitCode;

/// Exit code 0 when the file could be read (whatever it showed), 1 when not.
pub fn run(path: &Path) -> ExitCode {
    let (line, readable) = crate::run::file_check::report(path);
    let printed = match line {
        Ok(line) => answer(&line),
        Err(e) => {
            eprintln!("nemo-mcp check: {e}");
            ExitCode::FAILURE
        }
    };
    if let Some(kb) = peak_kb() {
        // The kernel's high-water mark of this process's memory (after exec, this program's
        // own, unlike wait4's ru_maxrss): what the hostile-file tests hold under their bound.
        eprintln!("nemo-mcp check: peak memory {kb} kB");
    }
    if readable {
        printed
    } else {
        ExitCode::FAILURE
    }
}

/// This process's peak resident memory (`VmHWM`, Linux), in kB.
fn peak_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

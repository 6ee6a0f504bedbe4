//! What a command prints for the person at the terminal (`skill show`, `brand show`,
//! `check`, ...). Only the commands call this, and each returns before any MCP server starts:
//! in server mode stdout is the JSON-RPC channel and nothing here ever runs.

use std::io::{ErrorKind, Write};
use std::process::ExitCode;

/// Write `text` to stdout, ending with one newline. A reader that went away (`| head`) is not
/// a failure of the command; any other write error is, said on stderr. The print macros would panic
/// on the closed pipe instead.
pub fn answer(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let ending = if text.ends_with('\n') { "" } else { "\n" };
    match write!(out, "{text}{ending}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nemo-mcp: cannot write the answer: {e}");
            ExitCode::FAILURE
        }
    }
}

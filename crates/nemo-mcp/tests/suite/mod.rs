//! The suite, by room of the crate (see `src/lib.rs`). Each file names the issue it holds.

mod account;
mod architecture;
mod cli;
mod mcp;
mod project;
mod run;
mod security;
mod state_files;
mod wire;

//! nemo-mcp's integration tests, one binary (linking the whole stack once rather than once per
//! file): in process through an rmcp client against nemo-sim on loopback, plus the built binary
//! where a test needs a process of its own. `cargo test -p nemo-mcp --test all <filter>`.

mod common;
mod suite;

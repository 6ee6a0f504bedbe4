//! End-to-end tests, one binary: real MCP clients drive the built `nemo-mcp` binary against
//! nemo-sim (kill -9 and restarts, several processes on one state folder, company networks,
//! the HTTP transport, a hostile backend's memory). `cargo test -p e2e --test all <filter>`.

mod suite;

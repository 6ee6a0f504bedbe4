//! Support: small pieces every room may use and that use no room: the mutex helper and the
//! log setup (stderr only: stdout is the MCP channel).

pub mod logging;
pub mod sync;

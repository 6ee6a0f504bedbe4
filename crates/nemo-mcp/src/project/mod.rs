//! The NemoVideo project the user is working on: each process's current project ([`current`]),
//! which one `connect` opens ([`opening`]), the library of every project made on this machine
//! ([`library`]), the media uploaded into each
//! (the media ledger, [`media`], used to restore a project the backend lost) and the language the
//! backend is spoken to in ([`language`]). "Project" here is the backend's session; an MCP
//! session is the host's connection and lives in `mcp`.

pub mod brand;
pub mod current;
pub mod language;
pub mod library;
pub mod media;
pub mod opening;
pub mod restore;

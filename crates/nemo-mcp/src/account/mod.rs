//! The account and its money: what a step is likely to cost ([`estimate`]), the budgets and the
//! spend ledger shared by every process ([`spend`]), the per-turn cost meter ([`meter`]) and the
//! token's clock ([`token_clock`]). Nothing here speaks MCP: the host is asked in `mcp::confirm`.

pub mod estimate;
pub mod estimated;
pub mod gate;
pub mod identity;
pub mod meter;
pub mod reservations;
pub mod spend;
pub mod token_clock;

//! One module per API area of the contract.
pub mod account;
pub mod agent;
pub mod project;
pub mod render;
pub mod state;
pub mod upload;

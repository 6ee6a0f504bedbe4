//! The simulator through plain HTTP (reqwest), never through nemo-client: every endpoint, every
//! variant and every fault, asserting the state changes.

mod accounts;
mod common;
mod faults;
mod flow;
mod media;
mod strict;

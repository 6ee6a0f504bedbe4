//! The suite, one module per area.

mod binary;
mod brand;
mod docs_links;
mod docs_tests;
mod hostile_files;
mod hostile_memory;
mod http_clients;
mod http_transport;
mod networks;
mod one_build;
mod release_workflow;
mod shared_state;
mod state_folder;
mod unkind_world;

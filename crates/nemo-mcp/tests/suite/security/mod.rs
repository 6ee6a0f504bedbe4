//! A hostile world: backends, inputs and hosts that try to hurt.

mod hostile;
mod local_files;

//! The current project and the library (coming back tomorrow).

mod current;
mod library;

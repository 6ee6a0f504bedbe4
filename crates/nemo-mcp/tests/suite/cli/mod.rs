//! The command line: `doctor`.

mod doctor;

//! Small synchronisation helpers every room may use (a leaf: it uses nothing of the crate).

use std::sync::{Mutex, MutexGuard};

/// A lock that a panicked holder did not poison: the data is plain state, still valid.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

//! [`Pool`]: handles kept for reuse across lookups (connections to a server,
//! an engine's read transactions), so that a lookup pays for opening one only
//! when every other is in use.

use std::sync::{Mutex, PoisonError};

/// Handles kept for reuse across lookups (a thread takes one, uses it, gives it back).
pub(crate) struct Pool<C> {
    free: Mutex<Vec<C>>,
}

impl<C> Pool<C> {
    /// An empty pool: handles are opened on first use.
    pub(crate) fn new() -> Self {
        Pool { free: Mutex::new(Vec::new()) }
    }

    /// Runs `f` on a pooled handle, or on one `open` makes if none is free;
    /// the handle goes back only if `f` succeeded, so a broken one is dropped.
    pub(crate) fn with<T, E: ToString>(
        &self,
        open: impl FnOnce() -> Result<C, E>,
        f: impl FnOnce(&mut C) -> Result<T, E>,
    ) -> Result<T, String> {
        let pooled = self.free.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut handle = match pooled {
            Some(handle) => handle,
            None => open().map_err(|e| e.to_string())?,
        };
        let result = f(&mut handle).map_err(|e| e.to_string())?;
        self.free.lock().unwrap_or_else(PoisonError::into_inner).push(handle);
        Ok(result)
    }
}

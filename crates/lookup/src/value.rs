//! The value a lookup returns: borrowed from the strategy where it can be.

use std::ops::Deref;
use std::sync::Arc;

/// A value returned by [`crate::Lookup::get`]; dereferences to its bytes.
///
/// Values are bytes, not text: a data file may hold any byte except `\n`.
#[derive(Clone, Debug)]
pub enum Value<'a> {
    /// Points into memory the strategy owns or maps (hashmap, mmap, scan).
    Borrowed(&'a [u8]),
    /// Shared with a cache, so a hit costs a reference-count increment.
    Shared(Arc<[u8]>),
    /// Freshly read for this lookup (the naive line scan).
    Owned(Vec<u8>),
}

impl Deref for Value<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Value::Borrowed(b) => b,
            Value::Shared(b) => b,
            Value::Owned(b) => b,
        }
    }
}

impl PartialEq<[u8]> for Value<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        **self == *other
    }
}

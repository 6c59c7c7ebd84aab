//! Software prefetching for batched lookups ([`crate::Lookup::get_many`]).
//!
//! A lookup in a table larger than the caches waits ~100 ns per dependent
//! read. A batch asks for the memory of every key's next step first, then
//! does the steps: the reads of the whole batch are in flight together
//! instead of one after another.

/// Keys taken through each step together: enough to keep the core's ~16
/// outstanding cache misses busy, few enough that what the first step
/// fetched is still in L1 when the last step reads it.
pub(crate) const CHUNK: usize = 16;

/// Asks the CPU to bring the cache line holding `item` into L1, without
/// waiting for it. A hint only: it never faults and changes no value.
#[inline(always)]
pub(crate) fn prefetch<T>(item: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of x86_64's baseline, so the instruction exists
        // on every CPU this runs on; a prefetch reads nothing into the program
        // and cannot fault, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(item).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = item;
}

/// [`prefetch`]es the byte at `at` in `bytes`, if there is one.
#[inline(always)]
pub(crate) fn prefetch_byte(bytes: &[u8], at: usize) {
    if let Some(byte) = bytes.get(at) {
        prefetch(byte);
    }
}

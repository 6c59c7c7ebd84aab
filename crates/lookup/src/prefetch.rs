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

/// The cache line size of every x86_64 CPU.
const LINE: usize = 64;

/// [`prefetch`]es every cache line of the record starting at `at` in
/// `bytes` that confirming `key_len` bytes of key and finding the value's end
/// reads ([`crate::format::record_reads`]): a UUID key and a ~30-byte value
/// span two or three lines. Prefetching only the first left the others a miss
/// of their own in every batch.
#[inline(always)]
pub(crate) fn prefetch_record(bytes: &[u8], at: usize, key_len: usize) {
    let last = at.saturating_add(crate::format::record_reads(key_len) - 1);
    // Every LINE bytes from `at`, and the last byte, whose line the steps may skip.
    for byte in (at..last).step_by(LINE).chain([last]).filter_map(|at| bytes.get(at)) {
        prefetch(byte);
    }
}

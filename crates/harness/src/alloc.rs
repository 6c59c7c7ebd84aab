//! A global allocator that counts live heap bytes.
//!
//! A binary opts in with `#[global_allocator] static A: CountingAlloc = CountingAlloc;`;
//! without it, [`heap_bytes`] stays 0 and callers should say so.
//!
//! Counting costs two relaxed atomic writes per allocation, on one cache line
//! that every thread then shares. A binary that also does something other
//! than measure heap bytes (`kvbench serve`) calls [`stop_counting`] first:
//! its allocations then cost one read of a flag nobody writes (a cache line
//! every core keeps) on top of the system allocator's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);
static COUNTING: AtomicBool = AtomicBool::new(true);

/// The system allocator, counting live bytes.
pub struct CountingAlloc;

/// Stops counting, for the rest of the process: from then on [`heap_bytes`] is `None`.
pub fn stop_counting() {
    COUNTING.store(false, Ordering::Relaxed);
    INSTALLED.store(false, Ordering::Relaxed);
}

fn grow(bytes: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_add(bytes, Ordering::Relaxed);
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

fn shrink(bytes: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_sub(bytes, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments and
// only updates counters, so `System`'s guarantees carry over unchanged.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            shrink(layout.size());
            grow(new_size);
        }
        new
    }
}

/// Live heap bytes, or `None` if [`CountingAlloc`] is not the global allocator or counting was stopped.
pub fn heap_bytes() -> Option<u64> {
    INSTALLED.load(Ordering::Relaxed).then(|| LIVE.load(Ordering::Relaxed) as u64)
}

//! The memory probe sees a known allocation, in the heap counter and in RSS.
//!
//! The only test in its binary: the heap counter is process-wide, so a test
//! running beside it would add its own allocations.
#![allow(clippy::unwrap_used)]

use kvbench_harness::alloc::{CountingAlloc, heap_bytes};
use kvbench_harness::memory::MemorySnapshot;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn a_known_allocation_shows_in_heap_and_anonymous_rss() {
    const SIZE: usize = 64 << 20;
    let before = MemorySnapshot::now();
    let mut block = vec![0u8; SIZE];
    // Touch every page so it becomes resident.
    for i in (0..SIZE).step_by(4096) {
        block[i] = 1;
    }
    let grown = MemorySnapshot::now().since(&before);
    let heap = grown.heap.unwrap();
    assert!((SIZE as u64..SIZE as u64 + (1 << 20)).contains(&heap), "heap grew by {heap}");
    if cfg!(target_os = "linux") {
        let anon = grown.anon.unwrap();
        assert!(anon >= SIZE as u64 * 9 / 10, "anonymous RSS grew by {anon}");
    }
    drop(std::hint::black_box(block));
    assert!(heap_bytes().unwrap() < before.heap.unwrap() + (1 << 20));
}

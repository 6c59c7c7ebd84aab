//! A process that stops counting (`kvbench serve`) reports no heap figure and
//! no longer touches the counters. The only test in its binary: counting is process-wide.
#![allow(clippy::unwrap_used)]

use kvbench_harness::alloc::{CountingAlloc, heap_bytes, stop_counting};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn stopping_the_count_hides_the_heap_figure() {
    let block = std::hint::black_box(vec![0u8; 1 << 20]);
    assert!(heap_bytes().unwrap() >= 1 << 20);
    stop_counting();
    assert_eq!(heap_bytes(), None);
    drop(block);
    let again = std::hint::black_box(vec![0u8; 1 << 20]);
    assert_eq!(heap_bytes(), None, "allocations after the stop do not start it again");
    drop(again);
}

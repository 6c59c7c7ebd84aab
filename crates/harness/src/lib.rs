//! How kvbench measures a strategy, apart from how it reports.
//!
//! - [`alloc`]: a counting global allocator, for heap bytes.
//! - [`memory`]: RSS split into anonymous and file-backed, from `/proc`.
//! - [`timing`]: repeated timed rounds, summarised as median and spread.
//! - [`latency`]: per-lookup latency percentiles (HdrHistogram).
//! - [`probe`]: one strategy on one dataset: open time, lookups, memory.
//! - [`suite`]: every strategy on every dataset, each probe in a fresh process.
//! - [`progress`]: what long runs report as they go, for the binary's progress bars.

pub mod alloc;
pub mod latency;
pub mod memory;
pub mod probe;
pub mod progress;
pub mod suite;
pub mod timing;

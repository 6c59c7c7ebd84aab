//! How kvbench measures a strategy, apart from how it reports.
//!
//! - [`alloc`]: a counting global allocator, for heap bytes.
//! - [`memory`]: RSS split into anonymous and file-backed, from `/proc`.
//! - [`timing`]: repeated timed rounds, summarised as median and spread.
//! - [`latency`]: per-lookup latency percentiles (HdrHistogram).
//! - [`probe`]: one strategy on one dataset: open time, lookups, memory.
//! - [`suite`]: every strategy on every dataset, each probe in a fresh process.
//! - [`progress`]: what long runs report as they go, for the binary's progress bars.
//! - [`warm`]: when a cache is warm (the hit rate stops moving), for probes and servers alike.

pub mod alloc;
pub mod latency;
pub mod memory;
pub mod probe;
pub mod progress;
pub mod suite;
pub mod timing;
pub mod warm;

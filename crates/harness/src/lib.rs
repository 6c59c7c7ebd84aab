//! How kvbench measures a strategy, apart from how it reports.
//!
//! - [`alloc`]: a counting global allocator, for heap bytes.
//! - [`case`]: one configuration the suite measures: a strategy and how it starts.
//! - [`cgroup`]: a memory limit (page cache included) for a probe or a server: files larger than memory.
//! - [`fit`]: whether a case fits the machine's memory and disk, estimated before it runs.
//! - [`io`]: page faults and disk reads, per workload.
//! - [`memory`]: RSS split into anonymous and file-backed, from `/proc`.
//! - [`timing`]: timed rounds (CPU time) of lookups back to back (throughput)
//!   or chained (latency), and the time budget of a workload.
//! - [`latency`]: lookups timed one by one: the percentiles their count supports, clock cost subtracted.
//! - [`probe`]: one strategy on one dataset: open time, lookups, memory, cold starts.
//! - [`suite`]: every strategy on every dataset, several runs each in fresh
//!   processes in shuffled order, aggregated into medians with intervals.
//! - [`progress`]: what long runs report as they go, for the binary's progress bars.
//! - [`warm`]: when a cache is warm (the hit rate stops moving), for probes and servers alike.

pub mod alloc;
pub mod case;
pub mod cgroup;
pub mod fit;
pub mod io;
pub mod latency;
pub mod memory;
pub mod probe;
pub mod progress;
pub mod suite;
mod text;
pub mod timing;
pub mod warm;

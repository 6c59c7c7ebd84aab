//! kvbench's load generator: drives a server the way a skeptic would accept.
//!
//! - **Closed loop** (like wrk): each of C connections sends its next request
//!   when the previous one is answered. It finds the maximum rate, but a
//!   stalled server also stalls the load, so its latencies hide the stall.
//! - **Open loop** (like wrk2): requests follow a fixed schedule at a given
//!   rate; latency is measured from when each request *should* have been
//!   sent (coordinated-omission corrected), and also from when it was sent,
//!   so the two can be compared.
//!
//! Keys come from the same [`Workload`](kvbench_workload::Workload)s as the
//! micro-benchmarks, over every key of the data file, drawn as the load goes
//! (a stream per connection, never repeating), and every answer is checked
//! against a strategy opened on the same data file: a wrong value or an
//! unexpected status is an error, counted.
//!
//! | file | what it does | its public items |
//! |---|---|---|
//! | `target.rs` | the server to load: `http://ADDR` or `resp://ADDR` | [`Target`], [`Protocol`] |
//! | `client.rs` | one keep-alive connection speaking HTTP/1.1 or RESP | (internal) |
//! | [`cluster`] | Redis Cluster without a proxy: the slot map, a connection per node, `MOVED`/`ASK` followed | [`cluster::SlotMap`], [`cluster::slot`] |
//! | `run.rs` | the load itself: connections, pacing, checking, histograms | [`run()`], [`LoadSpec`], [`LoadReport`], [`Oracle`] |
//! | [`record`] | a load's measurements as records of the results schema | [`record::records`], [`record::Subject`] |
//! | `sampler.rs` | CPU and RSS of a process, sampled from `/proc` during a run | [`ProcSampler`], [`Resources`] |
//! | `cache.rs` | a server's cache counters, read from its `/metrics` | (internal) |
//! | [`sweep`] | the configurations `kvbench bench macro` measures | [`sweep::plan`] |
//! | `launch.rs` | starting those servers, each a process of its own | [`Launcher`], [`Processes`] |
//! | [`macro_run`] | `kvbench bench macro`: a plan's loads on its servers, records and table rows | [`macro_run::run`] |
//! | `soak.rs` | `kvbench bench soak`: a long open loop near the maximum, per-slice errors and RSS | [`Soak`] |
//! | `bench.rs` | what those two share: one [`measure`]d load on a server process, their errors | [`measure`], [`BenchError`] |

// Bytes from files and clients must never panic the process: no unwrap,
// expect or unchecked indexing outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

mod bench;
mod cache;
mod client;
pub mod cluster;
mod launch;
pub mod macro_run;
pub mod record;
mod run;
mod sampler;
mod soak;
pub mod sweep;
mod target;

pub use bench::{BenchError, Measured, measure};
pub use client::{Answer, ClientError};
pub use launch::{LaunchError, Launched, Launcher, Processes, Running};
pub use macro_run::{MacroOptions, MacroOutcome, MacroRow};
pub use run::{LoadReport, LoadSpec, Oracle, REQUEST_TIMEOUT, Stop, run};
pub use sampler::{ProcSampler, Resources};
pub use soak::{RSS_SLACK, Soak, SoakOptions, SoakOutcome};
pub use target::{Protocol, Target};

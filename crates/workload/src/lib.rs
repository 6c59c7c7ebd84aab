//! Deterministic inputs for kvbench: data files and the keys to look up.
//!
//! - [`generate()`]: a data file of UUID v4 keys and printable-ASCII values
//!   whose lengths follow a [`ValueLen`] distribution, byte-identical for a seed.
//! - [`dataset`]: named datasets cached in a data folder, generated on first use.
//! - [`workload`]: deterministic key streams: uniform, Zipf, latest, misses.
//! - [`keys`]: the keys of a data file, packed for lookups.

pub mod dataset;
pub mod generate;
pub mod keys;
pub mod value_len;
pub mod workload;

pub use dataset::{Count, Dataset};
pub use generate::{GenSpec, GenSummary, generate};
pub use value_len::ValueLen;
pub use workload::{Access, KeyStream, Sampler, Workload};

//! Deterministic inputs for kvbench: data files and the keys to look up.
//!
//! - [`generate()`]: a data file of UUID v4 keys and printable-ASCII values
//!   whose lengths follow a [`ValueLen`] distribution, byte-identical for a seed.
//! - [`Dataset`] (`dataset.rs`): named datasets cached in a data folder, generated on first use.
//! - [`Workload`] (described in `kvbench-results`, re-exported here) and its deterministic key
//!   streams ([`KeyStreams`], `workload.rs`): uniform, Zipf, latest, misses.
//! - [`Keys`] (`keys.rs`): the keys of a data file, copied and packed ([`KeyPool`], [`file_keys`])
//!   or as offsets into the mapped file ([`FileKeys`]).

mod dataset;
mod generate;
mod keys;
mod value_len;
mod workload;

pub use dataset::{Count, Dataset, write_atomically};
pub use generate::{GenSpec, GenSummary, generate};
pub use keys::{FileKeys, KeyPool, Keys, file_keys};
pub use value_len::ValueLen;
pub use workload::{Access, Drawn, Draws, KeyStream, KeyStreams, MAX_BATCH, ParseWorkloadError, Sampler, Workload};

//! The data source and the strategy currently serving it.
//!
//! Requests read the current [`Served`] through an [`ArcSwap`]: a reload
//! builds a complete new strategy off the request path and swaps the pointer,
//! so a request sees either the old data or the new, never a half-built state,
//! and the old strategy lives until its last request finishes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use kvbench_lookup::{Lookup, OpenError, OpenOptions, Strategy};

use crate::metrics::Metrics;

/// Where the data comes from and how to serve it; opened at start and on every reload.
#[derive(Clone, Debug)]
pub struct DataSource {
    /// The data file.
    pub path: PathBuf,
    /// The strategy serving it.
    pub strategy: Strategy,
    /// How the strategy opens the file.
    pub options: OpenOptions,
}

impl DataSource {
    /// Opens the strategy on the file as it is now (blocking: may read the whole file).
    pub fn open(&self) -> Result<Served, OpenError> {
        let start = Instant::now();
        let lookup = kvbench_lookup::open(&self.path, &self.strategy, &self.options)?;
        let info = lookup.info();
        Ok(Served {
            keys: info.keys.or(info.records).unwrap_or(0),
            name: info.name,
            lookup,
            open_time: start.elapsed(),
        })
    }
}

/// One opened strategy and what requests report about it.
pub struct Served {
    /// The strategy answering lookups.
    pub lookup: Box<dyn Lookup>,
    /// Its label, e.g. `mmap-index`.
    pub name: String,
    /// Keys it serves (`DBSIZE`, `kvbench_keys`).
    pub keys: u64,
    /// How long it took to open.
    pub open_time: Duration,
}

/// Everything the connections share.
pub(crate) struct Shared {
    pub source: DataSource,
    pub current: ArcSwap<Served>,
    pub metrics: Metrics,
}

impl Shared {
    pub fn new(source: DataSource, served: Served) -> Self {
        Shared { source, current: ArcSwap::from_pointee(served), metrics: Metrics::default() }
    }

    /// Opens the source again off the request threads and swaps it in; on
    /// failure the old data keeps being served and the error is logged.
    pub async fn reload(self: &Arc<Self>) {
        let source = self.source.clone();
        let start = Instant::now();
        let opened = tokio::task::spawn_blocking(move || source.open()).await;
        let path = self.source.path.display();
        match opened {
            Ok(Ok(served)) => {
                crate::log(format_args!(
                    "reloaded {path}: {} keys with {} in {:.1} ms",
                    served.keys,
                    served.name,
                    start.elapsed().as_secs_f64() * 1e3
                ));
                self.current.store(Arc::new(served));
                self.metrics.reloaded(true);
            }
            Ok(Err(err)) => {
                crate::log(format_args!("reload failed, still serving the previous data: {err}"));
                self.metrics.reloaded(false);
            }
            Err(join) => {
                crate::log(format_args!("reload failed, still serving the previous data: {join}"));
                self.metrics.reloaded(false);
            }
        }
    }
}
